//! Objects as JSON values: the kind-independent view the generic registry
//! works on (metadata, status, resourceVersion).
//!
//! The store holds each object's JSON without `metadata.resourceVersion`;
//! the resourceVersion is the key's mod revision and is filled in on read.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value};
use store::{KeyValue, Revision};

use crate::error::ApiError;

/// Parses a request body into a JSON object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::BadRequest(format!("invalid JSON object: {error}")))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "request body must be a JSON object".to_string(),
        ));
    }
    Ok(value)
}

/// Decodes a stored object and fills in its resourceVersion.
pub(crate) fn from_store(kv: &KeyValue) -> Result<Value, ApiError> {
    let mut value: Value = serde_json::from_slice(&kv.value)
        .map_err(|error| ApiError::Internal(format!("corrupt object at {}: {error}", kv.key)))?;
    set_resource_version(&mut value, kv.mod_revision);
    Ok(value)
}

/// Encodes an object for a response.
pub(crate) fn to_wire(value: &Value) -> Result<prost::bytes::Bytes, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok(prost::bytes::Bytes::from(bytes))
}

/// Encodes a typed object for a response.
pub(crate) fn typed_to_wire<T: serde::Serialize>(
    object: &T,
) -> Result<prost::bytes::Bytes, ApiError> {
    let bytes =
        serde_json::to_vec(object).map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok(prost::bytes::Bytes::from(bytes))
}

/// `metadata`, created empty if missing.
pub(crate) fn meta_mut(value: &mut Value) -> &mut Map<String, Value> {
    let object = as_map(value);
    as_map(object.entry("metadata").or_insert(Value::Null))
}

/// The value as a JSON object, replacing any non-object (objects are checked
/// on entry, so this only ever fills in a missing `metadata` or `status`).
pub(crate) fn as_map(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("replaced by an object above"),
    }
}

/// A string field of `metadata`, "" if absent.
pub(crate) fn meta_str<'a>(value: &'a Value, field: &str) -> &'a str {
    value
        .get("metadata")
        .and_then(|meta| meta.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn set_meta(value: &mut Value, field: &str, new: Value) {
    meta_mut(value).insert(field.to_string(), new);
}

pub(crate) fn set_resource_version(value: &mut Value, revision: Revision) {
    set_meta(
        value,
        "resourceVersion",
        Value::String(revision.to_string()),
    );
}

/// The resourceVersion an update or delete names, if any.
pub(crate) fn resource_version(value: &Value) -> Result<Option<Revision>, ApiError> {
    parse_revision(meta_str(value, "resourceVersion"))
}

/// Parses a resourceVersion string; "" means none.
pub(crate) fn parse_revision(text: &str) -> Result<Option<Revision>, ApiError> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<Revision>() {
        Ok(revision) if revision >= 0 => Ok(Some(revision)),
        _ => Err(ApiError::BadRequest(format!(
            "invalid resourceVersion {text:?}: must be a non-negative integer"
        ))),
    }
}

/// The current time, typed, at second precision as [`now`].
pub(crate) fn now_time() -> Option<Time> {
    Timestamp::from_second(unix_seconds()).ok().map(Time)
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The current time as a timestamp (second precision).
pub(crate) fn now_timestamp() -> Timestamp {
    Timestamp::from_second(unix_seconds()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The time `seconds` from now, typed, at second precision.
pub(crate) fn time_in(seconds: i64) -> Option<Time> {
    Timestamp::from_second(unix_seconds().saturating_add(seconds))
        .ok()
        .map(Time)
}

/// A JSON pointer into the object as a string ("" if absent or not a scalar).
pub(crate) fn field_string(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

/// Checks `apiVersion` and `kind` against the served kind (absent = fine) and fills them in.
pub(crate) fn check_type(value: &mut Value, info: &api::KindInfo) -> Result<(), ApiError> {
    let api_version = info.api_version();
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::BadRequest(
            "request body must be a JSON object".to_string(),
        ));
    };
    if let Some(given) = object.get("kind").and_then(Value::as_str)
        && !given.is_empty()
        && given != info.kind
    {
        return Err(ApiError::BadRequest(format!(
            "kind {given:?} does not match the resource {:?} (kind {:?})",
            info.plural, info.kind
        )));
    }
    if let Some(given) = object.get("apiVersion").and_then(Value::as_str)
        && !given.is_empty()
        && given != api_version
    {
        return Err(ApiError::BadRequest(format!(
            "apiVersion {given:?} does not match the resource {:?} (apiVersion {api_version:?})",
            info.plural
        )));
    }
    object.insert("kind".to_string(), Value::String(info.kind.to_string()));
    object.insert("apiVersion".to_string(), Value::String(api_version));
    Ok(())
}
