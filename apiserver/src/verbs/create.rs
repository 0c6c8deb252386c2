//! Create: decode, fill in server-owned metadata, admission, defaults,
//! the kind's create preparation, validation, then the kind's write
//! (create-if-absent, with allocations or the node's usage record in the
//! same transaction). Nothing is stored on any error.

use prost::bytes::Bytes;
use store::{Compare, CompareTarget, Op, Revision, Txn};

use crate::admission;
use crate::admission::resource_quota::{QuotaCharge, lock_for};
use crate::error::ApiError;
use crate::keys;
use crate::kinds::Strategy;
use crate::object;
use crate::request::Attributes;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{
    WriteOptions, decode_body, encode_for_store, invalid, resolve_namespace, to_wire,
};

/// Characters Kubernetes uses for generateName suffixes (no vowels, no
/// look-alikes).
const NAME_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Creates one object of kind `K` from the request body in the request's
/// namespace; returns it as sent to clients.
pub(crate) async fn create<K: Strategy>(
    state: &ApiState,
    attributes: &Attributes,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = &K::INFO;
    state.check_size(body.len())?;
    let mut typed: K = decode_body(body)?;
    let (namespace, name) = prepare_create_meta(info, attributes, typed.metadata_mut())?;
    let facts = if info.namespaced {
        admission::namespace_lifecycle::check_open(state, &namespace).await?
    } else {
        admission::NamespaceFacts::default()
    };
    K::admit_create(state, attributes, &facts, &mut typed).await?;
    typed.apply_defaults();
    typed.prepare_for_create();
    typed
        .validate_create()
        .map_err(|errors| invalid::<K>(&name, errors))?;
    if options.dry_run {
        return object::typed_to_wire(&typed);
    }
    let key = keys::object_key(info, &namespace, &name);
    K::store_new(state, &key, &mut typed).await
}

/// Fills in a new object's server-owned metadata, for built-in and custom
/// kinds alike: its namespace (from the request), a generated name when
/// only `generateName` is given, uid, creation time and generation; what a
/// client may not set on create is cleared. Returns (namespace, name).
pub(crate) fn prepare_create_meta(
    info: &api::KindInfo,
    attributes: &Attributes,
    meta: &mut api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Result<(String, String), ApiError> {
    meta.namespace = resolve_namespace(
        info,
        &attributes.namespace,
        meta.namespace.as_deref().unwrap_or(""),
    )?;
    if meta.name.as_deref().unwrap_or("").is_empty() {
        meta.name = Some(generate_name(
            info,
            meta.generate_name.as_deref().unwrap_or(""),
        )?);
    }
    meta.uid = Some(uuid::Uuid::new_v4().to_string());
    meta.creation_timestamp = object::now_time();
    meta.generation = Some(1);
    meta.resource_version = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.self_link = None;
    Ok((
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    ))
}

/// The default [`Strategy::store_new`]: the encoded object at `key` if the
/// key is free, charged to the namespace's quotas in the same transaction.
pub(crate) async fn store_new_plain<K: Strategy>(
    state: &ApiState,
    key: &str,
    typed: &mut K,
) -> Result<Bytes, ApiError> {
    let bytes = encode_for_store(typed)?;
    let name = typed.metadata().name.clone().unwrap_or_default();
    let charge = QuotaCharge::create(state, typed);
    let revision = put_new(
        state,
        K::INFO.plural,
        key,
        &name,
        bytes.clone(),
        charge.as_ref(),
    )
    .await?;
    to_wire(&bytes, revision, typed)
}

/// Writes `bytes` at `key` if the key is free, with `charge` staged in the
/// same transaction; returns the revision.
pub(crate) async fn put_new(
    state: &ApiState,
    plural: &str,
    key: &str,
    name: &str,
    bytes: store::Bytes,
    charge: Option<&QuotaCharge>,
) -> Result<Revision, ApiError> {
    let _quota_lock = lock_for(state, charge).await;
    for _ in 0..CAS_RETRIES {
        let mut txn = put_if_absent(key, bytes.clone());
        if let Some(charge) = charge {
            charge.stage(state, &mut txn).await?;
        }
        let response = state.txn(txn).await?;
        if response.succeeded {
            return Ok(response.revision);
        }
        if state.get_kv(key).await?.is_some() {
            return Err(ApiError::already_exists(plural, name));
        }
        // The key was deleted again in between, or a quota changed: try
        // again.
    }
    Err(ApiError::modified(plural, name))
}

/// A transaction that puts `value` at `key` only if the key is absent.
pub(crate) fn put_if_absent(key: &str, value: store::Bytes) -> Txn {
    let mut txn = Txn::default();
    add_if_absent(&mut txn, key, value);
    txn
}

/// Adds "put `value` at `key` if absent" to `txn`.
pub(crate) fn add_if_absent(txn: &mut Txn, key: &str, value: store::Bytes) {
    txn.compares.push(Compare {
        key: key.to_string(),
        target: CompareTarget::ModRevision(0),
    });
    txn.success.push(Op::Put {
        key: key.to_string(),
        value,
        lease: 0,
    });
}

/// A name from `generateName` (`prefix` plus a random suffix), or the
/// error for an object with neither name nor generateName.
fn generate_name(info: &api::KindInfo, prefix: &str) -> Result<String, ApiError> {
    if prefix.is_empty() {
        let mut errors = api::FieldErrors::default();
        errors.push(api::FieldError::required(
            api::FieldPath::root("metadata").child("name"),
            "name or generateName is required",
        ));
        return Err(ApiError::Invalid {
            kind: info.kind,
            name: String::new(),
            errors,
        });
    }
    let random = uuid::Uuid::new_v4();
    let suffix: String = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|byte| {
            char::from(NAME_SUFFIX_ALPHABET[usize::from(*byte) % NAME_SUFFIX_ALPHABET.len()])
        })
        .collect();
    Ok(format!("{prefix}{suffix}"))
}
