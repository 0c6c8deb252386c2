//! Update, update of the `status` subresource, and patch, all through one
//! replacement ([`replace`]) guarded by a compare-and-swap on the stored
//! object's mod revision.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prost::bytes::Bytes;
use serde_json::Value;
use store::{CompareTarget, KeyValue, Op, Revision, Txn};

use crate::admission::resource_quota::{QuotaCharge, lock_for};
use crate::arbiter::CountChange;
use crate::error::ApiError;
use crate::keys;
use crate::kinds::{PartUpdate, Strategy};
use crate::object;
use crate::request::Attributes;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{
    WriteOptions, decode_body, decode_stored, decode_value, encode_for_store, invalid,
    resolve_namespace, to_wire,
};
use crate::wire;

/// Turns the stored object (JSON, with its resourceVersion) into the
/// patched one; the face decides the patch type.
pub(crate) type Patcher = dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync;

/// What of the stored object a write replaces.
enum Part<K> {
    /// The object, keeping its status.
    Whole,
    /// Only its status (`status` subresource).
    Status,
    /// Another part a subresource writes (`pods/ephemeralcontainers`).
    Other(PartUpdate<K>),
}

impl<K: Strategy> Part<K> {
    fn of(attributes: &Attributes) -> Result<Part<K>, ApiError> {
        match attributes.subresource.as_str() {
            // A scale write is a patch of `spec.replicas` alone.
            "" | "scale" => Ok(Part::Whole),
            "status" => Ok(Part::Status),
            subresource => K::part_update(subresource).map(Part::Other).ok_or_else(|| {
                ApiError::not_found(
                    K::INFO.plural,
                    &format!("{}/{subresource}", attributes.name),
                )
            }),
        }
    }
}

/// Replaces one object of kind `K` (or its status) with the request body;
/// returns it as sent to clients.
pub(crate) async fn update<K: Strategy>(
    state: &ApiState,
    attributes: &Attributes,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = &K::INFO;
    state.check_size(body.len())?;
    let typed: K = decode_body(body)?;
    let name = typed.metadata().name.clone().unwrap_or_default();
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
        typed.metadata().namespace.as_deref().unwrap_or(""),
    )?
    .unwrap_or_default();
    let key = keys::object_key(info, &namespace, &name);
    let Some(current) = state.get_kv(&key).await? else {
        return Err(ApiError::not_found(info.plural, &name));
    };
    let expected =
        object::parse_revision(typed.metadata().resource_version.as_deref().unwrap_or(""))?;
    if expected.is_some_and(|rv| rv != current.mod_revision) {
        return Err(ApiError::modified(info.plural, &name));
    }
    let old: K = decode_stored(&current)?;
    replace(
        state,
        attributes,
        &current,
        old,
        typed,
        Part::of(attributes)?,
        options,
    )
    .await
}

/// Patches one object of kind `K`: reads it, applies `patcher` to its JSON
/// and replaces it with the result. A lost race re-reads and patches again
/// (a patch that pins a resourceVersion then fails as a conflict).
pub(crate) async fn patch<K: Strategy>(
    state: &ApiState,
    attributes: &Attributes,
    patcher: &Patcher,
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = &K::INFO;
    let name = attributes.name.as_str();
    let key = keys::object_key(info, &attributes.namespace, name);
    for _ in 0..CAS_RETRIES {
        let Some(current) = state.get_kv(&key).await? else {
            return Err(ApiError::not_found(info.plural, name));
        };
        let stored = object::from_store(&current)?;
        let patched = patcher(&stored)?;
        let expected = object::resource_version(&patched)?;
        if expected.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info.plural, name));
        }
        let typed: K = decode_value(patched)?;
        let old: K = decode_stored(&current)?;
        match replace(
            state,
            attributes,
            &current,
            old,
            typed,
            Part::of(attributes)?,
            options,
        )
        .await
        {
            Err(ApiError::Conflict { .. }) => continue,
            result => return result,
        }
    }
    Err(ApiError::modified(info.plural, name))
}

/// Replaces the stored object `current` (decoded: `old`) with `typed`
/// (already checked for name and resourceVersion), or only the `part` of
/// it that a subresource writes.
async fn replace<K: Strategy>(
    state: &ApiState,
    attributes: &Attributes,
    current: &KeyValue,
    old: K,
    mut typed: K,
    part: Part<K>,
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = &K::INFO;
    let name = old.metadata().name.clone().unwrap_or_default();
    match &part {
        Part::Whole => {
            if K::HAS_STATUS {
                typed.copy_status_from(&old);
            }
            keep_server_owned_meta(typed.metadata_mut(), old.metadata());
            typed.prepare_for_update(&old)?;
        }
        Part::Status => {
            // Only status changes: start from the stored object.
            let mut merged = old.clone();
            merged.take_status_from(&mut typed);
            typed = merged;
        }
        Part::Other(update) => {
            let mut merged = old.clone();
            (update.take)(&mut merged, &mut typed);
            typed = merged;
        }
    }
    K::admit_update(state, attributes, &old, &mut typed).await?;
    typed.apply_defaults();
    match &part {
        Part::Other(update) => (update.validate)(&typed, &old),
        Part::Whole | Part::Status => typed.validate_update(&old),
    }
    .map_err(|errors| invalid::<K>(&name, errors))?;
    let mut bytes = encode_for_store(&mut typed)?;
    if !matches!(part, Part::Status) && spec_changed(&bytes, &current.value)? {
        let generation = old.metadata().generation.unwrap_or(1);
        typed.metadata_mut().generation = Some(generation + 1);
        bytes = encode_for_store(&mut typed)?;
    }
    let old_meta = old.metadata();
    let finished = old_meta.deletion_timestamp.is_some()
        && typed
            .metadata()
            .finalizers
            .as_ref()
            .is_none_or(Vec::is_empty)
        && old_meta
            .deletion_grace_period_seconds
            .is_none_or(|grace| grace <= 0);
    if options.dry_run {
        return object::typed_to_wire(&typed);
    }
    // A pod that finishes, is deleted or is relabelled changes its node's
    // record in the same transaction.
    let count_change = K::count_change(&old, (!finished).then_some(&typed));
    let release = if finished {
        old.release_ops()
    } else {
        Vec::new()
    };
    // What it changes in its namespace's quotas, too.
    let charge = if finished {
        QuotaCharge::delete(state, &old)
    } else {
        QuotaCharge::update(state, &old, &typed)
    };
    let stored = (!finished).then(|| bytes.clone());
    let revision = commit_replace(
        state,
        info.plural,
        current,
        stored,
        release,
        Charges {
            count: count_change.as_ref(),
            quota: charge.as_ref(),
        },
        &name,
    )
    .await?;
    if finished {
        typed.metadata_mut().resource_version = Some(revision.to_string());
        return object::typed_to_wire(&typed);
    }
    to_wire(&bytes, revision, &mut typed)
}

/// What a replacement changes besides the object, in the same transaction.
pub(crate) struct Charges<'a> {
    /// The node's usage record.
    pub(crate) count: Option<&'a CountChange>,
    /// The namespace's quotas.
    pub(crate) quota: Option<&'a QuotaCharge>,
}

/// Writes the replacement of `current`: `stored`, or a delete (plus
/// `release`) when `None`; with the node record and quota changes of
/// `charges` in the same transaction. Returns the revision.
pub(crate) async fn commit_replace(
    state: &ApiState,
    plural: &str,
    current: &KeyValue,
    stored: Option<store::Bytes>,
    release: Vec<Op>,
    charges: Charges<'_>,
    name: &str,
) -> Result<Revision, ApiError> {
    let count_change = charges.count;
    let _quota_lock = lock_for(state, charges.quota).await;
    for _ in 0..CAS_RETRIES {
        let mut txn = Txn {
            compares: vec![store::Compare {
                key: current.key.clone(),
                target: CompareTarget::ModRevision(current.mod_revision),
            }],
            ..Default::default()
        };
        match &stored {
            None => {
                // The last finalizer of a deleting object is gone: delete it.
                txn.success.push(Op::Delete {
                    key: current.key.clone(),
                });
                txn.success.extend(release.iter().cloned());
            }
            Some(stored) => txn.success.push(Op::Put {
                key: current.key.clone(),
                value: stored.clone(),
                lease: current.lease,
            }),
        }
        if let Some(charge) = charges.quota {
            charge.stage(state, &mut txn).await?;
        }
        let staged = match count_change {
            Some(change) => Some(state.stage_count_change(change, &mut txn).await?),
            None => None,
        };
        let response = state.txn(txn).await?;
        if let Some(staged) = staged {
            staged.finish(&response);
        }
        if response.succeeded {
            return Ok(response.revision);
        }
        // Only a lost race on the node's record or a quota is retried
        // here; a changed object is the caller's conflict.
        let unchanged = (count_change.is_some() || charges.quota.is_some())
            && state
                .get_kv(&current.key)
                .await?
                .is_some_and(|kv| kv.mod_revision == current.mod_revision);
        if !unchanged {
            break;
        }
    }
    Err(ApiError::modified(plural, name))
}

/// An update keeps the stored values of the metadata only the server writes.
pub(crate) fn keep_server_owned_meta(meta: &mut ObjectMeta, old: &ObjectMeta) {
    meta.uid.clone_from(&old.uid);
    meta.creation_timestamp.clone_from(&old.creation_timestamp);
    meta.generation = old.generation;
    meta.deletion_timestamp.clone_from(&old.deletion_timestamp);
    meta.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    meta.namespace.clone_from(&old.namespace);
}

/// Whether the top-level `spec` of two encoded objects differs (compared
/// as JSON values when the bytes differ, so key order does not count).
fn spec_changed(new: &[u8], old: &[u8]) -> Result<bool, ApiError> {
    let corrupt = || ApiError::Internal("cannot read spec of an encoded object".to_string());
    let new_spec = wire::top_level_member(new, "spec").ok_or_else(corrupt)?;
    let old_spec = wire::top_level_member(old, "spec").ok_or_else(corrupt)?;
    let (new_spec, old_spec) = match (new_spec, old_spec) {
        (None, None) => return Ok(false),
        (Some(new_spec), Some(old_spec)) => (&new[new_spec], &old[old_spec]),
        _ => return Ok(true),
    };
    if new_spec == old_spec {
        return Ok(false);
    }
    let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    Ok(parse(new_spec) != parse(old_spec))
}
