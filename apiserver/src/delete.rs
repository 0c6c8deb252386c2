//! Delete: preconditions, finalizers (deletionTimestamp until the last one
//! is removed), pod grace periods (the kubelet finishes with grace 0),
//! propagation policy recorded as a finalizer for the garbage collector,
//! and service allocations released in the same transaction.

use serde_json::Value;
use store::{Compare, CompareTarget, Op, Txn};

use crate::allocator;
use crate::arbiter::CountChange;
use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::state::{ApiState, CAS_RETRIES};

/// Pods' default `terminationGracePeriodSeconds`.
const DEFAULT_POD_GRACE_SECONDS: i64 = 30;

/// What a delete request asks for.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeleteOptions {
    pub(crate) grace_period_seconds: Option<i64>,
    pub(crate) precondition_uid: String,
    pub(crate) precondition_resource_version: String,
    /// "Orphan", "Foreground", "Background" or "" (= Background).
    pub(crate) propagation_policy: String,
}

/// The object after a delete, and whether it is gone.
pub(crate) struct Deleted {
    pub(crate) object: Value,
    pub(crate) gone: bool,
}

impl ApiState {
    pub(crate) async fn delete(
        &self,
        plural: &str,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let info = self.kinds.get(plural)?.info();
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
        let key = keys::object_key(info, if info.namespaced { namespace } else { "" }, name);
        for _ in 0..CAS_RETRIES {
            let Some(current) = self.get_kv(&key).await? else {
                return Err(ApiError::not_found(plural, name));
            };
            let mut value = object::from_store(&current)?;
            check_preconditions(plural, name, &value, options)?;
            let compare = Compare {
                key: key.clone(),
                target: CompareTarget::ModRevision(current.mod_revision),
            };
            let mut finalizers = object::finalizers(&value);
            if let Some(finalizer) = finalizer
                && !object::is_deleting(&value)
                && !finalizers.iter().any(|f| f == finalizer)
            {
                finalizers.push(finalizer.to_string());
                object::set_meta(&mut value, "finalizers", Value::from(finalizers.clone()));
            }
            let grace = if plural == "pods" {
                pod_grace(&value, options)
            } else {
                0
            };
            let pending = !finalizers.is_empty() || grace > 0;
            let mut txn = Txn {
                compares: vec![compare],
                ..Default::default()
            };
            if pending {
                if !object::is_deleting(&value) || grace > 0 {
                    object::set_meta(&mut value, "deletionTimestamp", deletion_timestamp(grace));
                    object::set_meta(&mut value, "deletionGracePeriodSeconds", Value::from(grace));
                }
                txn.success.push(Op::Put {
                    key: key.clone(),
                    value: object::to_store(&mut value)?,
                    lease: current.lease,
                });
            } else {
                txn.success.push(Op::Delete { key: key.clone() });
                if plural == "services" {
                    txn.success.extend(allocator::release_ops(&value));
                }
            }
            // A pod deleted for good releases its node's resources.
            let staged = match (pending, plural) {
                (false, "pods") => match CountChange::between(&value, None)? {
                    Some(change) => Some(self.stage_count_change(&change, &mut txn).await?),
                    None => None,
                },
                _ => None,
            };
            let response = self.txn(txn).await?;
            if let Some(staged) = staged {
                staged.finish(&response);
            }
            if response.succeeded {
                if pending {
                    object::set_resource_version(&mut value, response.revision);
                }
                return Ok(Deleted {
                    object: value,
                    gone: !pending,
                });
            }
        }
        Err(ApiError::modified(plural, name))
    }
}

fn check_preconditions(
    plural: &str,
    name: &str,
    value: &Value,
    options: &DeleteOptions,
) -> Result<(), ApiError> {
    let uid = object::meta_str(value, "uid");
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
    let rv = object::meta_str(value, "resourceVersion");
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

/// Grace period of a pod delete: only a pod bound to a node waits for its
/// kubelet; an unbound (or already finished) pod goes at once.
fn pod_grace(pod: &Value, options: &DeleteOptions) -> i64 {
    if object::field_string(pod, "/spec/nodeName").is_empty() {
        return 0;
    }
    let phase = object::field_string(pod, "/status/phase");
    if phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    let requested = options.grace_period_seconds.or_else(|| {
        pod.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
    });
    let requested = requested.unwrap_or(DEFAULT_POD_GRACE_SECONDS);
    // A pending grace period may be shortened, never extended.
    match pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
    {
        Some(current) if object::is_deleting(pod) => requested.min(current),
        _ => requested,
    }
}

fn deletion_timestamp(grace_seconds: i64) -> Value {
    object::timestamp_in(grace_seconds)
}
