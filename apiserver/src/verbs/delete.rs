//! Delete: preconditions, finalizers (deletionTimestamp until the last one
//! is removed), the kind's grace period (pods wait for their kubelet, which
//! finishes with grace 0), propagation policy recorded as a finalizer for
//! the garbage collector, and what the kind releases (allocations, the
//! node's usage, its namespace's quota usage) in the same transaction.

use prost::bytes::Bytes;
use store::{Compare, CompareTarget, Op, Txn};

use crate::admission::resource_quota::{self, QuotaCharge};
use crate::error::ApiError;
use crate::keys;
use crate::kinds::Strategy;
use crate::object;
use crate::request::Attributes;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{decode_stored, encode_for_store, to_wire};

/// What a delete request asks for.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeleteOptions {
    pub(crate) grace_period_seconds: Option<i64>,
    pub(crate) precondition_uid: String,
    pub(crate) precondition_resource_version: String,
    /// "Orphan", "Foreground", "Background" or "" (= Background).
    pub(crate) propagation_policy: String,
    /// `dryRun=All`: check everything, change nothing.
    pub(crate) dry_run: bool,
}

/// The object after a delete, and whether it is gone.
pub(crate) struct Deleted {
    /// The object as deleted, or as it now stands while deletion is pending.
    pub(crate) object: Bytes,
    pub(crate) gone: bool,
}

/// Deletes the object the request names, or marks it deleting while
/// finalizers or a grace period hold it.
pub(crate) async fn delete<K: Strategy>(
    state: &ApiState,
    attributes: &Attributes,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let info = &K::INFO;
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
    if options.grace_period_seconds.is_some_and(|grace| grace < 0) {
        return Err(ApiError::BadRequest(
            "gracePeriodSeconds must not be negative".to_string(),
        ));
    }
    let key = keys::object_key(info, &attributes.namespace, name);
    let _quota_lock = if info.namespaced {
        resource_quota::lock_namespace(state, &attributes.namespace).await
    } else {
        None
    };
    for _ in 0..CAS_RETRIES {
        let Some(current) = state.get_kv(&key).await? else {
            return Err(ApiError::not_found(info.plural, name));
        };
        let mut typed: K = decode_stored(&current)?;
        check_preconditions(info.plural, name, typed.metadata(), options)?;
        K::admit_delete(state, attributes, &typed).await?;
        let deleting = typed.metadata().deletion_timestamp.is_some();
        let meta = typed.metadata_mut();
        let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
        if let Some(finalizer) = finalizer
            && !deleting
            && !finalizers.iter().any(|f| f == finalizer)
        {
            finalizers.push(finalizer.to_string());
        }
        let has_finalizers = !finalizers.is_empty();
        if !has_finalizers {
            meta.finalizers = None;
        }
        let grace = typed.delete_grace_seconds(options.grace_period_seconds);
        let pending = has_finalizers || grace > 0;
        if options.dry_run {
            return Ok(Deleted {
                object: object::typed_to_wire(&typed)?,
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
            // A shorter grace period shortens a pending deletion, down to
            // 0 (a kubelet done with a pod that finalizers still hold): the
            // last finalizer's removal then deletes it.
            let shortened = typed
                .metadata()
                .deletion_grace_period_seconds
                .is_some_and(|current| current > grace);
            if !deleting || grace > 0 || shortened {
                let meta = typed.metadata_mut();
                meta.deletion_timestamp = object::time_in(grace);
                meta.deletion_grace_period_seconds = Some(grace);
            }
            let bytes = encode_for_store(&mut typed)?;
            txn.success.push(Op::Put {
                key: key.clone(),
                value: bytes.clone(),
                lease: current.lease,
            });
            stored = Some(bytes);
        } else {
            txn.success.push(Op::Delete { key: key.clone() });
            txn.success.extend(typed.release_ops());
            // What it counted in its namespace's quotas is released.
            if let Some(charge) = QuotaCharge::delete(state, &typed) {
                charge.stage(state, &mut txn).await?;
            }
        }
        // An object deleted for good releases what it counted on a node.
        let count_change = if pending {
            None
        } else {
            K::count_change(&typed, None)
        };
        let staged = match &count_change {
            Some(change) => Some(state.stage_count_change(change, &mut txn).await?),
            None => None,
        };
        let response = state.txn(txn).await?;
        if let Some(staged) = staged {
            staged.finish(&response);
        }
        if response.succeeded {
            let object = match stored {
                Some(bytes) => to_wire(&bytes, response.revision, &mut typed)?,
                None => object::typed_to_wire(&typed)?,
            };
            return Ok(Deleted {
                object,
                gone: !pending,
            });
        }
    }
    Err(ApiError::modified(info.plural, name))
}

pub(crate) fn check_preconditions(
    plural: &str,
    name: &str,
    meta: &api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    options: &DeleteOptions,
) -> Result<(), ApiError> {
    let uid = meta.uid.as_deref().unwrap_or("");
    if !options.precondition_uid.is_empty() && options.precondition_uid != uid {
        return Err(ApiError::conflict(
            plural,
            name,
            format!(
                "Precondition failed: UID in precondition: {}, UID in object meta: {uid}",
                options.precondition_uid
            ),
        ));
    }
    let rv = meta.resource_version.as_deref().unwrap_or("");
    if !options.precondition_resource_version.is_empty()
        && options.precondition_resource_version != rv
    {
        return Err(ApiError::conflict(
            plural,
            name,
            format!(
                "Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object meta: {rv}",
                options.precondition_resource_version
            ),
        ));
    }
    Ok(())
}
