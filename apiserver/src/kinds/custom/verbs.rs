//! Create, update (and `status`), patch and delete of custom objects: the
//! steps of the generic verbs (`crate::verbs`) on JSON values, with the
//! structural schema in place of the typed decode: prune unknown fields,
//! apply `default:`s, validate (ObjectMeta as for every kind, the rest by
//! the schema), then write through the same store helpers (create if
//! absent, compare-and-swap on the mod revision). Nothing is stored on any
//! error.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use api::validation::{NameRule, validate_object_meta, validate_object_meta_update};
use api::{FieldErrors, FieldPath};
use prost::bytes::Bytes;
use serde_json::Value;
use store::{Compare, CompareTarget, KeyValue, Op, Txn};

use super::CustomKind;
use crate::admission;
use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::request::Attributes;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{
    DeleteOptions, Deleted, Patcher, WriteOptions, check_preconditions, commit_replace,
    keep_server_owned_meta, prepare_create_meta, put_new, resolve_namespace,
};
use crate::wire;

/// Creates a custom object from a request body.
pub(super) async fn create(
    kind: &CustomKind,
    state: &ApiState,
    attributes: &Attributes,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = kind.info;
    state.check_size(body.len())?;
    let mut value = decode(kind, body)?;
    let mut meta = metadata_of(&value)?;
    let (namespace, name) = prepare_create_meta(info, attributes, &mut meta)?;
    if info.namespaced {
        admission::namespace_lifecycle::check_open(state, &namespace).await?;
    }
    if info.has_status
        && let Value::Object(map) = &mut value
    {
        // With a status subresource, status is written only through it.
        map.remove("status");
    }
    kind.schema.apply_defaults(&mut value);
    let mut errors = FieldErrors::default();
    validate_meta(kind, &meta, &mut errors);
    validate_body(kind, &value, &name, errors)?;
    set_metadata(&mut value, &meta)?;
    if options.dry_run {
        return object::to_wire(&value);
    }
    let key = keys::object_key(info, &namespace, &name);
    let bytes = stored_bytes(kind, &value)?;
    let revision = put_new(state, info.resource_key, &key, &name, bytes.clone(), None).await?;
    kind.in_version(wire_of(&bytes, revision, value)?)
}

/// Replaces a custom object (or its status) with a request body.
pub(super) async fn update(
    kind: &CustomKind,
    state: &ApiState,
    attributes: &Attributes,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = kind.info;
    state.check_size(body.len())?;
    let value = decode(kind, body)?;
    let meta = metadata_of(&value)?;
    let name = meta.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "metadata.name is required for an update".to_string(),
        ));
    }
    if !attributes.name.is_empty() && attributes.name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            attributes.name
        )));
    }
    let namespace = resolve_namespace(
        info,
        &attributes.namespace,
        meta.namespace.as_deref().unwrap_or(""),
    )?
    .unwrap_or_default();
    let key = keys::object_key(info, &namespace, &name);
    let Some(current) = state.get_kv(&key).await? else {
        return Err(ApiError::not_found(info.resource_key, &name));
    };
    let expected = object::parse_revision(meta.resource_version.as_deref().unwrap_or(""))?;
    if expected.is_some_and(|rv| rv != current.mod_revision) {
        return Err(ApiError::modified(info.resource_key, &name));
    }
    replace(kind, state, attributes, &current, value, options).await
}

/// Patches a custom object with `patcher`.
pub(super) async fn patch(
    kind: &CustomKind,
    state: &ApiState,
    attributes: &Attributes,
    patcher: &Patcher,
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = kind.info;
    let name = attributes.name.as_str();
    let key = keys::object_key(info, &attributes.namespace, name);
    for _ in 0..CAS_RETRIES {
        let Some(current) = state.get_kv(&key).await? else {
            return Err(ApiError::not_found(info.resource_key, name));
        };
        let mut stored = object::from_store(&current)?;
        object::as_map(&mut stored).insert(
            "apiVersion".to_string(),
            Value::String(kind.api_version.clone()),
        );
        let mut patched = patcher(&stored)?;
        let expected = object::resource_version(&patched)?;
        if expected.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info.resource_key, name));
        }
        object::check_type(&mut patched, info)?;
        kind.schema.prune(&mut patched);
        match replace(kind, state, attributes, &current, patched, options).await {
            Err(ApiError::Conflict { .. }) => continue,
            result => return result,
        }
    }
    Err(ApiError::modified(info.resource_key, name))
}

/// Replaces the stored object `current` with `new` (already pruned and
/// checked for name and resourceVersion); for the `status` subresource
/// only the status changes, otherwise everything but the status.
async fn replace(
    kind: &CustomKind,
    state: &ApiState,
    attributes: &Attributes,
    current: &KeyValue,
    mut new: Value,
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = kind.info;
    let old = object::from_store(current)?;
    let old_meta = metadata_of(&old)?;
    let name = old_meta.name.clone().unwrap_or_default();
    let status_only = attributes.subresource == "status";
    let mut meta;
    if status_only {
        let mut merged = old.clone();
        let merged_map = object::as_map(&mut merged);
        match new.get_mut("status").map(Value::take) {
            Some(status) => merged_map.insert("status".to_string(), status),
            None => merged_map.remove("status"),
        };
        new = merged;
        meta = old_meta.clone();
    } else {
        if info.has_status {
            let new_map = object::as_map(&mut new);
            match old.get("status") {
                Some(status) => new_map.insert("status".to_string(), status.clone()),
                None => new_map.remove("status"),
            };
        }
        meta = metadata_of(&new)?;
        keep_server_owned_meta(&mut meta, &old_meta);
    }
    kind.schema.apply_defaults(&mut new);
    let mut errors = FieldErrors::default();
    validate_meta(kind, &meta, &mut errors);
    validate_object_meta_update(&meta, &old_meta, &FieldPath::root("metadata"), &mut errors);
    validate_body(kind, &new, &name, errors)?;
    if !status_only && spec_changed(&new, &old, info.has_status) {
        meta.generation = Some(old_meta.generation.unwrap_or(1) + 1);
    }
    let finished =
        old_meta.deletion_timestamp.is_some() && meta.finalizers.as_ref().is_none_or(Vec::is_empty);
    meta.resource_version = None;
    set_metadata(&mut new, &meta)?;
    if options.dry_run {
        return object::to_wire(&new);
    }
    let bytes = stored_bytes(kind, &new)?;
    let stored = (!finished).then(|| bytes.clone());
    let revision = commit_replace(
        state,
        info.resource_key,
        current,
        stored,
        Vec::new(),
        crate::verbs::Charges {
            count: None,
            quota: None,
        },
        &name,
    )
    .await?;
    kind.in_version(wire_of(&bytes, revision, new)?)
}

/// Deletes a custom object, or marks it deleting while finalizers hold it.
pub(super) async fn delete(
    kind: &CustomKind,
    state: &ApiState,
    attributes: &Attributes,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let info = kind.info;
    let name = attributes.name.as_str();
    let finalizer = match options.propagation_policy.as_str() {
        "" | "Background" => None,
        "Orphan" => Some("orphan"),
        "Foreground" => Some("foregroundDeletion"),
        other => {
            return Err(ApiError::BadRequest(format!(
                "invalid propagationPolicy {other:?}: must be Orphan, Foreground or Background"
            )));
        }
    };
    let key = keys::object_key(info, &attributes.namespace, name);
    for _ in 0..CAS_RETRIES {
        let Some(current) = state.get_kv(&key).await? else {
            return Err(ApiError::not_found(info.resource_key, name));
        };
        let mut value = object::from_store(&current)?;
        let mut meta = metadata_of(&value)?;
        check_preconditions(info.resource_key, name, &meta, options)?;
        let deleting = meta.deletion_timestamp.is_some();
        let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
        if let Some(finalizer) = finalizer
            && !deleting
            && !finalizers.iter().any(|f| f == finalizer)
        {
            finalizers.push(finalizer.to_string());
        }
        let pending = !finalizers.is_empty();
        if !pending {
            meta.finalizers = None;
        }
        if pending && !deleting {
            meta.deletion_timestamp = object::time_in(0);
            meta.deletion_grace_period_seconds = Some(0);
        }
        set_metadata(&mut value, &meta)?;
        if options.dry_run {
            return Ok(Deleted {
                object: object::to_wire(&value)?,
                gone: !pending,
            });
        }
        let mut txn = Txn {
            compares: vec![Compare {
                key: key.clone(),
                target: CompareTarget::ModRevision(current.mod_revision),
            }],
            ..Default::default()
        };
        let mut stored = None;
        if pending {
            object::meta_mut(&mut value).remove("resourceVersion");
            let bytes = store::Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
            txn.success.push(Op::Put {
                key: key.clone(),
                value: bytes.clone(),
                lease: current.lease,
            });
            stored = Some(bytes);
        } else {
            txn.success.push(Op::Delete { key: key.clone() });
        }
        let response = state.txn(txn).await?;
        if response.succeeded {
            let object = match stored {
                Some(bytes) => wire_of(&bytes, response.revision, value)?,
                None => object::to_wire(&value)?,
            };
            let object = kind.in_version(object)?;
            return Ok(Deleted {
                object,
                gone: !pending,
            });
        }
    }
    Err(ApiError::modified(info.resource_key, name))
}

/// A request body as this kind's object: JSON, the right `apiVersion` and
/// `kind` (filled in when absent), unknown fields pruned.
fn decode(kind: &CustomKind, body: &[u8]) -> Result<Value, ApiError> {
    let mut value = object::parse_object(body)?;
    object::check_type(&mut value, kind.info)?;
    kind.schema.prune(&mut value);
    Ok(value)
}

/// The object's `metadata` as ObjectMeta (unknown metadata fields drop).
fn metadata_of(value: &Value) -> Result<ObjectMeta, ApiError> {
    match value.get("metadata") {
        None | Some(Value::Null) => Ok(ObjectMeta::default()),
        Some(meta) => serde_json::from_value(meta.clone())
            .map_err(|error| ApiError::BadRequest(format!("cannot decode metadata: {error}"))),
    }
}

fn set_metadata(value: &mut Value, meta: &ObjectMeta) -> Result<(), ApiError> {
    let meta = serde_json::to_value(meta).map_err(ApiError::internal)?;
    object::as_map(value).insert("metadata".to_string(), meta);
    Ok(())
}

fn validate_meta(kind: &CustomKind, meta: &ObjectMeta, errors: &mut FieldErrors) {
    validate_object_meta(
        meta,
        kind.info.namespaced,
        NameRule::Subdomain,
        &FieldPath::root("metadata"),
        errors,
    );
}

/// Adds the schema's findings to `errors` and fails if there are any.
fn validate_body(
    kind: &CustomKind,
    value: &Value,
    name: &str,
    mut errors: FieldErrors,
) -> Result<(), ApiError> {
    if let Err(found) = kind.schema.validate(value) {
        errors.extend(found);
    }
    errors.into_result().map_err(|errors| ApiError::Invalid {
        kind: kind.info.kind,
        name: name.to_string(),
        errors,
    })
}

/// Whether anything but metadata (and, with a status subresource, status)
/// changed: what bumps a custom object's generation.
fn spec_changed(new: &Value, old: &Value, has_status: bool) -> bool {
    let significant = |value: &Value| -> serde_json::Map<String, Value> {
        value
            .as_object()
            .map(|map| {
                map.iter()
                    .filter(|(key, _)| {
                        key.as_str() != "metadata" && !(has_status && key.as_str() == "status")
                    })
                    .map(|(key, field)| (key.clone(), field.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    significant(new) != significant(old)
}

/// The object's bytes for the store: in the storage version.
fn stored_bytes(kind: &CustomKind, value: &Value) -> Result<store::Bytes, ApiError> {
    let mut stored = value.clone();
    kind.to_storage(&mut stored);
    Ok(store::Bytes::from(
        serde_json::to_vec(&stored).map_err(ApiError::internal)?,
    ))
}

/// The stored bytes with the resourceVersion, as sent to clients.
fn wire_of(bytes: &[u8], revision: store::Revision, mut value: Value) -> Result<Bytes, ApiError> {
    match wire::with_resource_version(bytes, revision) {
        Some(wire) => Ok(wire),
        None => {
            object::set_resource_version(&mut value, revision);
            object::to_wire(&value)
        }
    }
}
