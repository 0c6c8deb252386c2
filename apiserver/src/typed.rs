//! Create and update decoded straight into the kind's `k8s-openapi` type:
//! the request body and the stored object are each decoded once, the new
//! object is encoded once for the store, and the response is the stored
//! bytes with the resourceVersion spliced in (`wire`).
//!
//! This is the same sequence of steps as the generic JSON path in
//! `create.rs` and `update.rs` (which stays the reference and serves the
//! kinds with JSON-level logic: events, services, namespaces and priority
//! classes). A body that does not decode as the kind goes to the generic
//! path too, so every error is the one that path reports.

use std::any::Any;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use prost::bytes::Bytes;
use store::Revision;

use crate::admission::add_default_tolerations_typed;
use crate::arbiter::{CountChange, pod_usage};
use crate::create::{generate_name, resolve_namespace};
use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::registry::{StatusPart, set_initial_status};
use crate::state::ApiState;
use crate::update::{UpdateMode, namespace_of};
use crate::wire;

/// Kinds whose create or update needs the generic JSON path.
fn generic_only(plural: &str) -> bool {
    matches!(
        plural,
        "events" | "services" | "namespaces" | "priorityclasses"
    )
}

impl ApiState {
    /// Creates one object of `plural` in `namespace` from its JSON; returns
    /// it as sent to clients.
    pub(crate) async fn create_wire(
        &self,
        plural: &str,
        namespace: &str,
        body: &[u8],
    ) -> Result<Bytes, ApiError> {
        let kind = self.kinds.get(plural)?.clone();
        kind.create(self, namespace, body).await
    }

    /// Updates one object of `plural` (or its status) from its JSON;
    /// returns it as sent to clients.
    pub(crate) async fn update_wire(
        &self,
        plural: &str,
        namespace: &str,
        body: &[u8],
        mode: UpdateMode,
    ) -> Result<Bytes, ApiError> {
        let kind = self.kinds.get(plural)?.clone();
        kind.update(self, namespace, body, mode).await
    }

    /// Creates one object of kind `K` from the request body; returns it as
    /// sent to clients.
    pub(crate) async fn create_typed<K: ApiObject + StatusPart>(
        &self,
        namespace: &str,
        body: &[u8],
    ) -> Result<Bytes, ApiError> {
        let info = &K::INFO;
        self.check_size(body.len())?;
        let decoded = if generic_only(info.plural) {
            None
        } else {
            serde_json::from_slice::<K>(body)
                .ok()
                // A pod without a spec fails decoding after admission on
                // the generic path; let it report that.
                .filter(|typed| {
                    (typed as &dyn Any)
                        .downcast_ref::<Pod>()
                        .is_none_or(|pod| pod.spec.is_some())
                })
        };
        let Some(mut typed) = decoded else {
            let value = self.create(info.plural, namespace, body).await?;
            return object::to_wire(&value);
        };
        let meta = typed.metadata_mut();
        meta.namespace =
            resolve_namespace(info, namespace, meta.namespace.as_deref().unwrap_or(""))?;
        if meta.name.as_deref().unwrap_or("").is_empty() {
            meta.name = Some(generate_name(
                info,
                meta.generate_name.as_deref().unwrap_or(""),
            )?);
        }
        // Server-owned metadata, as `create::init_metadata`.
        meta.uid = Some(uuid::Uuid::new_v4().to_string());
        meta.creation_timestamp = object::now_time();
        meta.generation = Some(1);
        meta.resource_version = None;
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.self_link = None;
        // Status, as `create::init_status` (namespaces take the generic path).
        if K::HAS_STATUS && info.plural != "nodes" {
            typed.clear_status();
        }
        let namespace = typed.metadata().namespace.clone().unwrap_or_default();
        let name = typed.metadata().name.clone().unwrap_or_default();
        if info.namespaced {
            self.check_namespace_open(&namespace).await?;
        }
        if let Some(pod) = (&mut typed as &mut dyn Any).downcast_mut::<Pod>() {
            self.admit_pod(pod).await?;
        }
        typed.apply_defaults();
        set_initial_status(&mut typed);
        typed
            .validate_create()
            .map_err(|errors| invalid(info, &name, errors))?;
        let bytes = encode(&mut typed)?;
        let key = keys::object_key(info, &namespace, &name);
        let bound_to = (&typed as &dyn Any).downcast_ref::<Pod>().and_then(|pod| {
            let node = pod.spec.as_ref()?.node_name.as_deref()?;
            (!node.is_empty()).then(|| (node.to_string(), pod_usage(pod)))
        });
        let revision = match bound_to {
            Some((node, usage)) => {
                self.put_new_bound_pod(info, &key, &name, bytes.clone(), &usage, &node)
                    .await?
            }
            None => self.put_new(info, &key, &name, bytes.clone()).await?,
        };
        to_wire(&bytes, revision, &mut typed)
    }

    /// Admission of a typed pod, as `admission::admit_create` does for the
    /// generic form: priority from its PriorityClass and the default
    /// tolerations.
    async fn admit_pod(&self, pod: &mut Pod) -> Result<(), ApiError> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(spec) = pod.spec.as_mut() else {
            return Ok(());
        };
        let class_name = spec.priority_class_name.clone().unwrap_or_default();
        let given = spec.priority.map(i64::from);
        let resolved = self.pod_priority(&name, &class_name, given).await?;
        spec.priority = Some(i32::try_from(resolved.priority).map_err(|_| {
            ApiError::BadRequest(format!(
                "cannot decode Pod: priority {} out of range",
                resolved.priority
            ))
        })?);
        if let Some((class, policy)) = resolved.class {
            spec.priority_class_name = Some(class);
            spec.preemption_policy = Some(policy);
        }
        add_default_tolerations_typed(spec);
        Ok(())
    }

    /// Updates one object of kind `K` (`mode` says which part); returns it
    /// as sent to clients.
    pub(crate) async fn update_typed<K: ApiObject + StatusPart>(
        &self,
        namespace: &str,
        body: &[u8],
        mode: UpdateMode,
    ) -> Result<Bytes, ApiError> {
        let info = &K::INFO;
        self.check_size(body.len())?;
        let decoded = if generic_only(info.plural) {
            None
        } else {
            serde_json::from_slice::<K>(body).ok()
        };
        let Some(mut typed) = decoded else {
            return self
                .update_generic(info.plural, namespace, body, mode)
                .await;
        };
        let name = typed.metadata().name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(ApiError::BadRequest(
                "metadata.name is required for an update".to_string(),
            ));
        }
        let namespace = if info.namespaced {
            namespace_of(
                namespace,
                typed.metadata().namespace.as_deref().unwrap_or(""),
            )?
        } else {
            String::new()
        };
        let key = keys::object_key(info, &namespace, &name);
        let Some(current) = self.get_kv(&key).await? else {
            return Err(ApiError::not_found(info.plural, &name));
        };
        let expected =
            object::parse_revision(typed.metadata().resource_version.as_deref().unwrap_or(""))?;
        if expected.is_some_and(|rv| rv != current.mod_revision) {
            return Err(ApiError::modified(info.plural, &name));
        }
        let Ok(mut old) = serde_json::from_slice::<K>(&current.value) else {
            return self
                .update_generic(info.plural, &namespace, body, mode)
                .await;
        };
        old.metadata_mut().resource_version = Some(current.mod_revision.to_string());
        if mode == UpdateMode::Status {
            // Only status changes: start from the stored object.
            let mut merged = old.clone();
            merged.take_status_from(&mut typed);
            typed = merged;
        } else {
            if K::HAS_STATUS {
                typed.copy_status_from(&old);
            }
            keep_server_owned_meta(typed.metadata_mut(), old.metadata());
        }
        typed.apply_defaults();
        typed
            .validate_update(&old)
            .map_err(|errors| invalid(info, &name, errors))?;
        let mut bytes = encode(&mut typed)?;
        if mode == UpdateMode::Main && spec_changed(&bytes, &current.value)? {
            let generation = old.metadata().generation.unwrap_or(1);
            typed.metadata_mut().generation = Some(generation + 1);
            bytes = encode(&mut typed)?;
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
        // A pod that finishes, is deleted or is relabelled changes its
        // node's record in the same transaction.
        let count_change = match (
            (&old as &dyn Any).downcast_ref::<Pod>(),
            (&typed as &dyn Any).downcast_ref::<Pod>(),
        ) {
            (Some(old), Some(new)) => CountChange::between_pods(old, (!finished).then_some(new)),
            _ => None,
        };
        let stored = (!finished).then(|| bytes.clone());
        let revision = self
            .commit_replace(
                info.plural,
                &current,
                stored,
                Vec::new(),
                count_change.as_ref(),
                &name,
            )
            .await?;
        if finished {
            typed.metadata_mut().resource_version = Some(revision.to_string());
            return object::typed_to_wire(&typed);
        }
        to_wire(&bytes, revision, &mut typed)
    }

    /// The generic update path, answering with the object as sent to clients.
    async fn update_generic(
        &self,
        plural: &str,
        namespace: &str,
        body: &[u8],
        mode: UpdateMode,
    ) -> Result<Bytes, ApiError> {
        let value = self.update(plural, namespace, body, mode).await?;
        object::to_wire(&value)
    }
}

/// An update keeps the stored values of the metadata only the server
/// writes (`update::SERVER_OWNED_META`).
fn keep_server_owned_meta(
    meta: &mut api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    old: &api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
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
    let parse = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).ok();
    Ok(parse(new_spec) != parse(old_spec))
}

/// Encodes a typed object for the store: its resourceVersion is left out
/// (it is the key's mod revision).
fn encode<K: ApiObject>(typed: &mut K) -> Result<store::Bytes, ApiError> {
    let resource_version = typed.metadata_mut().resource_version.take();
    let encoded = serde_json::to_vec(typed).map_err(|error| ApiError::Internal(error.to_string()));
    typed.metadata_mut().resource_version = resource_version;
    Ok(store::Bytes::from(encoded?))
}

/// The object as sent to clients: the stored bytes with the revision.
fn to_wire<K: ApiObject>(
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

fn invalid(info: &api::KindInfo, name: &str, errors: api::FieldErrors) -> ApiError {
    ApiError::Invalid {
        kind: info.kind,
        name: name.to_string(),
        errors,
    }
}

#[cfg(test)]
#[path = "typed_tests.rs"]
mod tests;
