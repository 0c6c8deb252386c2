//! Update, update-status and JSON merge patch, all through one
//! compare-and-swap on the stored object's mod revision.

use serde_json::Value;
use store::{Bytes, CompareTarget, KeyValue, Op, Revision, Txn};

use crate::allocator;
use crate::arbiter::CountChange;
use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::registry::copy_status;
use crate::state::{ApiState, CAS_RETRIES};

/// Which part of the object an update may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpdateMode {
    /// Everything but status (for kinds with a status subresource).
    Main,
    /// Only status.
    Status,
}

/// Metadata fields only the server writes; an update keeps the stored ones.
pub(crate) const SERVER_OWNED_META: [&str; 6] = [
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "namespace",
];

impl ApiState {
    pub(crate) async fn update(
        &self,
        plural: &str,
        namespace: &str,
        body: &[u8],
        mode: UpdateMode,
    ) -> Result<Value, ApiError> {
        self.check_size(body.len())?;
        let info = self.kinds.get(plural)?.info();
        let mut value = object::parse_object(body)?;
        object::check_type(&mut value, info)?;
        let name = object::name(&value).to_string();
        if name.is_empty() {
            return Err(ApiError::BadRequest(
                "metadata.name is required for an update".to_string(),
            ));
        }
        let namespace = if info.namespaced {
            namespace_of(namespace, object::namespace(&value))?
        } else {
            String::new()
        };
        let key = keys::object_key(info, &namespace, &name);
        let Some(current) = self.get_kv(&key).await? else {
            return Err(ApiError::not_found(plural, &name));
        };
        let expected = object::resource_version(&value)?;
        if expected.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(plural, &name));
        }
        self.replace(plural, &current, value, mode).await
    }

    /// Applies a JSON merge patch to the stored object. Without a
    /// resourceVersion in the patch, a lost race re-reads and re-applies.
    pub(crate) async fn patch(
        &self,
        plural: &str,
        namespace: &str,
        name: &str,
        patch: &[u8],
    ) -> Result<Value, ApiError> {
        self.check_size(patch.len())?;
        let info = self.kinds.get(plural)?.info();
        let patch: Value = serde_json::from_slice(patch)
            .map_err(|error| ApiError::BadRequest(format!("invalid merge patch: {error}")))?;
        let pinned = patch
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .is_some();
        let key = keys::object_key(info, if info.namespaced { namespace } else { "" }, name);
        for _ in 0..CAS_RETRIES {
            let Some(current) = self.get_kv(&key).await? else {
                return Err(ApiError::not_found(plural, name));
            };
            let mut value = object::from_store(&current)?;
            json_patch::merge(&mut value, &patch);
            let expected = object::resource_version(&value)?;
            if expected.is_some_and(|rv| rv != current.mod_revision) {
                return Err(ApiError::modified(plural, name));
            }
            match self
                .replace(plural, &current, value, UpdateMode::Main)
                .await
            {
                Err(ApiError::Conflict { .. }) if !pinned => continue,
                result => return result,
            }
        }
        Err(ApiError::modified(plural, name))
    }

    /// Replaces the stored object `current` with `value` (already checked
    /// for kind, name and resourceVersion).
    async fn replace(
        &self,
        plural: &str,
        current: &KeyValue,
        mut value: Value,
        mode: UpdateMode,
    ) -> Result<Value, ApiError> {
        let kind = self.kinds.get(plural)?.clone();
        let info = kind.info();
        let old = object::from_store(current)?;
        if mode == UpdateMode::Status {
            // Only status changes: start from the stored object.
            let mut merged = old.clone();
            copy_status(&mut merged, &value);
            value = merged;
        } else {
            if info.has_status {
                copy_status(&mut value, &old);
            }
            let old_meta = old
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let meta = object::meta_mut(&mut value);
            for field in SERVER_OWNED_META {
                match old_meta.get(field) {
                    Some(stored) => meta.insert(field.to_string(), stored.clone()),
                    None => meta.remove(field),
                };
            }
        }
        if plural == "services" && mode == UpdateMode::Main {
            keep_service_allocations(&mut value, &old)?;
        }
        self.admit_update(info, &value).await?;
        let mut value = kind.prepare_update(value, &old)?;
        if mode == UpdateMode::Main && value.get("spec") != old.get("spec") {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            object::set_meta(&mut value, "generation", Value::from(generation + 1));
        }
        let name = object::name(&value).to_string();
        let finished = object::is_deleting(&old)
            && object::finalizers(&value).is_empty()
            && !pod_in_grace(&old);
        // A pod that finishes, is deleted or is relabelled changes its
        // node's record in the same transaction.
        let count_change = if plural == "pods" {
            CountChange::between(&old, (!finished).then_some(&value))?
        } else {
            None
        };
        let stored = if finished {
            None
        } else {
            Some(object::to_store(&mut value)?)
        };
        let release = if finished && plural == "services" {
            allocator::release_ops(&old)
        } else {
            Vec::new()
        };
        let revision = self
            .commit_replace(
                plural,
                current,
                stored,
                release,
                count_change.as_ref(),
                &name,
            )
            .await?;
        object::set_resource_version(&mut value, revision);
        Ok(value)
    }

    /// Writes the replacement of `current`: `stored`, or a delete (plus
    /// `release`) when `None`; with the node record change of
    /// `count_change` in the same transaction. Returns the revision.
    pub(crate) async fn commit_replace(
        &self,
        plural: &str,
        current: &KeyValue,
        stored: Option<Bytes>,
        release: Vec<Op>,
        count_change: Option<&CountChange>,
        name: &str,
    ) -> Result<Revision, ApiError> {
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
            let staged = match count_change {
                Some(change) => Some(self.stage_count_change(change, &mut txn).await?),
                None => None,
            };
            let response = self.txn(txn).await?;
            if let Some(staged) = staged {
                staged.finish(&response);
            }
            if response.succeeded {
                return Ok(response.revision);
            }
            // Only a lost race on the node's record is retried here; a
            // changed object is the caller's conflict.
            let unchanged = count_change.is_some()
                && self
                    .get_kv(&current.key)
                    .await?
                    .is_some_and(|kv| kv.mod_revision == current.mod_revision);
            if !unchanged {
                break;
            }
        }
        Err(ApiError::modified(plural, name))
    }
}

/// A pod whose deletion waits for its kubelet (grace period) is not deleted
/// just because it has no finalizers.
fn pod_in_grace(old: &Value) -> bool {
    old.pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|grace| grace > 0)
}

/// The namespace of an update: the request's, which the object must match.
pub(crate) fn namespace_of(request: &str, given: &str) -> Result<String, ApiError> {
    match (request.is_empty(), given.is_empty()) {
        (false, false) if request != given => Err(ApiError::BadRequest(format!(
            "the namespace of the provided object ({given:?}) does not match the namespace sent on the request ({request:?})"
        ))),
        (false, _) => Ok(request.to_string()),
        (true, false) => Ok(given.to_string()),
        (true, true) => Ok("default".to_string()),
    }
}

/// A service update keeps its allocated cluster IP and nodePorts when the
/// client leaves them empty, and may not change the cluster IP.
fn keep_service_allocations(value: &mut Value, old: &Value) -> Result<(), ApiError> {
    let old_ip = object::field_string(old, "/spec/clusterIP");
    let new_ip = object::field_string(value, "/spec/clusterIP");
    let spec = object::as_map(object::as_map(value).entry("spec").or_insert(Value::Null));
    if new_ip.is_empty() {
        if let Some(ip) = old.pointer("/spec/clusterIP") {
            spec.insert("clusterIP".to_string(), ip.clone());
        }
        if let Some(ips) = old.pointer("/spec/clusterIPs") {
            spec.insert("clusterIPs".to_string(), ips.clone());
        }
    } else if new_ip != old_ip {
        let mut errors = api::FieldErrors::default();
        errors.push(api::FieldError::invalid(
            api::FieldPath::root("spec").child("clusterIPs").index(0),
            &new_ip,
            "may not change once set",
        ));
        return Err(ApiError::Invalid {
            kind: "Service",
            name: object::name(old).to_string(),
            errors,
        });
    }
    let old_ports = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for port in ports.iter_mut() {
            if port.get("nodePort").and_then(Value::as_u64).unwrap_or(0) != 0 {
                continue;
            }
            let same = old_ports.iter().find(|old_port| {
                old_port.get("port") == port.get("port") && old_port.get("name") == port.get("name")
            });
            if let Some(node_port) = same.and_then(|old_port| old_port.get("nodePort")) {
                object::as_map(port).insert("nodePort".to_string(), node_port.clone());
            }
        }
    }
    Ok(())
}
