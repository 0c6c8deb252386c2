//! The verbs, each written once for every kind and both faces: create,
//! update (and update of `status`), patch and delete generic over the
//! kind's [`Strategy`]; get, list and watch at the byte level (`read`,
//! `watch`); and binding pods to nodes (`bind`).
//!
//! A write decodes the request body straight into the kind's `k8s-openapi`
//! type, runs admission, defaults and validation on it, encodes it once for
//! the store, and answers with the stored bytes with the resourceVersion
//! spliced in (`wire`). Nothing is stored when any step fails.

mod bind;
mod create;
mod delete;
mod read;
mod update;
mod watch;

pub(crate) use bind::BindTarget;
pub(crate) use create::{
    add_if_absent, create, prepare_create_meta, put_if_absent, put_new, store_new_plain,
};
pub(crate) use delete::{DeleteOptions, Deleted, check_preconditions, delete};
pub(crate) use read::{ListItem, ListOptions, ListPage, parse_continue};
pub(crate) use update::{Charges, Patcher, commit_replace, keep_server_owned_meta, patch, update};
pub(crate) use watch::WatchOptions;

use api::ApiObject;
use prost::bytes::Bytes;
use serde_json::Value;
use store::Revision;

use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::object;
use crate::wire;

/// Options every write takes.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteOptions {
    /// `dryRun=All`: run every step but the store write.
    pub(crate) dry_run: bool,
}

/// Decodes a request body as kind `K`. A body that does not decode is
/// diagnosed on its generic JSON form, so the error names what is wrong
/// (not JSON, not an object, another kind) before serde's own message.
pub(crate) fn decode_body<K: Strategy>(body: &[u8]) -> Result<K, ApiError> {
    let decode_error = match serde_json::from_slice::<K>(body) {
        Ok(typed) => return Ok(typed),
        Err(error) => error,
    };
    let mut value = object::parse_object(body)?;
    object::check_type(&mut value, &K::INFO)?;
    Err(ApiError::BadRequest(format!(
        "cannot decode {}: {decode_error}",
        K::INFO.kind
    )))
}

/// The fields of a request body that kind `K` does not have, as
/// Kubernetes' strict decoding names them (`spec.containers[0].bogus`).
pub(crate) fn unknown_fields<K: Strategy>(body: &[u8]) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let decoded: Result<K, _> = serde_ignored::deserialize(&mut deserializer, |path| {
        unknown.push(field_path(&path));
    });
    // A body that does not decode fails later with its own error.
    drop(decoded);
    unknown
}

/// `spec.containers[0].bogus` for a serde_ignored path.
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => {
            let parent = field_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Decodes a JSON value (a patched object) as kind `K`, diagnosed as
/// [`decode_body`] does.
pub(crate) fn decode_value<K: Strategy>(mut value: Value) -> Result<K, ApiError> {
    object::check_type(&mut value, &K::INFO)?;
    serde_json::from_value::<K>(value)
        .map_err(|error| ApiError::BadRequest(format!("cannot decode {}: {error}", K::INFO.kind)))
}

/// Decodes a stored object of kind `K`, with its resourceVersion.
pub(crate) fn decode_stored<K: ApiObject>(kv: &store::KeyValue) -> Result<K, ApiError> {
    let mut typed: K = serde_json::from_slice(&kv.value)
        .map_err(|error| ApiError::Internal(format!("corrupt object at {}: {error}", kv.key)))?;
    typed.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
    Ok(typed)
}

/// Encodes a typed object for the store: its resourceVersion is left out
/// (it is the key's mod revision).
pub(crate) fn encode_for_store<K: ApiObject>(typed: &mut K) -> Result<store::Bytes, ApiError> {
    let resource_version = typed.metadata_mut().resource_version.take();
    let encoded = serde_json::to_vec(typed).map_err(ApiError::internal);
    typed.metadata_mut().resource_version = resource_version;
    Ok(store::Bytes::from(encoded?))
}

/// The object as sent to clients: the stored bytes with the revision.
pub(crate) fn to_wire<K: ApiObject>(
    stored: &[u8],
    revision: Revision,
    typed: &mut K,
) -> Result<Bytes, ApiError> {
    match wire::with_resource_version(stored, revision) {
        Some(bytes) => Ok(bytes),
        None => {
            typed.metadata_mut().resource_version = Some(revision.to_string());
            object::typed_to_wire(typed)
        }
    }
}

/// The validation error of an object of kind `K` named `name`.
pub(crate) fn invalid<K: ApiObject>(name: &str, errors: api::FieldErrors) -> ApiError {
    ApiError::Invalid {
        kind: K::INFO.kind,
        name: name.to_string(),
        errors,
    }
}

/// The namespace of a request on an object that names its own: the
/// request's, which the object's must match; `None` for cluster-scoped kinds.
pub(crate) fn resolve_namespace(
    info: &api::KindInfo,
    namespace: &str,
    given: &str,
) -> Result<Option<String>, ApiError> {
    if !info.namespaced {
        return Ok(None);
    }
    Ok(Some(match (namespace.is_empty(), given.is_empty()) {
        (false, false) if namespace != given => {
            return Err(ApiError::BadRequest(format!(
                "the namespace of the provided object ({given:?}) does not match the namespace sent on the request ({namespace:?})"
            )));
        }
        (false, _) => namespace.to_string(),
        (true, false) => given.to_string(),
        (true, true) => "default".to_string(),
    }))
}

#[cfg(test)]
mod tests;
