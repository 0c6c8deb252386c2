//! The kind table: resource plural → the typed operations the generic
//! handlers need (defaults and validation), built from `api::for_each_kind!`.
//!
//! Everything else the handlers do is kind-independent and works on the JSON
//! form of objects (see `object.rs`); only defaulting and validation decode
//! into the `k8s-openapi` type.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use api::k8s_openapi::api::core::v1::{Pod, PodStatus};
use api::{ApiObject, KindInfo};
use serde_json::Value;

use crate::error::ApiError;
use crate::object;
use crate::state::ApiState;
use crate::update::UpdateMode;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Bytes = prost::bytes::Bytes;

/// Typed operations on one kind, behind a trait object.
pub(crate) trait KindOps: Send + Sync {
    fn info(&self) -> &'static KindInfo;

    /// Applies defaults, kind-specific create preparation (pod status) and
    /// create validation.
    fn prepare_create(&self, value: Value) -> Result<Value, ApiError>;

    /// Applies defaults and validates an update against the stored object.
    fn prepare_update(&self, value: Value, old: &Value) -> Result<Value, ApiError>;

    /// Creates an object from a request body (see `typed.rs`); returns it
    /// as sent to clients.
    fn create<'a>(
        &'a self,
        state: &'a ApiState,
        namespace: &'a str,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Bytes, ApiError>>;

    /// Updates an object (or its status) from a request body (see
    /// `typed.rs`); returns it as sent to clients.
    fn update<'a>(
        &'a self,
        state: &'a ApiState,
        namespace: &'a str,
        body: &'a [u8],
        mode: UpdateMode,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>>;
}

struct Typed<K>(PhantomData<fn() -> K>);

/// The status a new object starts with, whatever the request said: a pod
/// is Pending with the QoS class of its (defaulted) spec; other kinds keep
/// what they were given.
pub(crate) fn set_initial_status<K: 'static>(object: &mut K) {
    if let Some(pod) = (object as &mut dyn Any).downcast_mut::<Pod>() {
        let qos_class = pod
            .spec
            .as_ref()
            .map_or("BestEffort", api::defaults::qos_class);
        pod.status = Some(PodStatus {
            phase: Some("Pending".to_string()),
            qos_class: Some(qos_class.to_string()),
            ..Default::default()
        });
    }
}

fn decode<K: ApiObject>(value: Value) -> Result<K, ApiError> {
    serde_json::from_value(value)
        .map_err(|error| ApiError::BadRequest(format!("cannot decode {}: {error}", K::INFO.kind)))
}

fn encode<K: ApiObject>(object: &K) -> Result<Value, ApiError> {
    serde_json::to_value(object).map_err(|error| ApiError::Internal(error.to_string()))
}

fn invalid<K: ApiObject>(object: &K, errors: api::FieldErrors) -> ApiError {
    let name = object.metadata().name.clone().unwrap_or_default();
    ApiError::Invalid {
        kind: K::INFO.kind,
        name,
        errors,
    }
}

impl<K: ApiObject + StatusPart> KindOps for Typed<K> {
    fn info(&self) -> &'static KindInfo {
        &K::INFO
    }

    fn prepare_create(&self, value: Value) -> Result<Value, ApiError> {
        let mut typed: K = decode(value)?;
        typed.apply_defaults();
        set_initial_status(&mut typed);
        typed
            .validate_create()
            .map_err(|errors| invalid(&typed, errors))?;
        encode(&typed)
    }

    fn prepare_update(&self, value: Value, old: &Value) -> Result<Value, ApiError> {
        let mut typed: K = decode(value)?;
        typed.apply_defaults();
        let old: K = decode(old.clone())?;
        typed
            .validate_update(&old)
            .map_err(|errors| invalid(&typed, errors))?;
        encode(&typed)
    }

    fn create<'a>(
        &'a self,
        state: &'a ApiState,
        namespace: &'a str,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(state.create_typed::<K>(namespace, body))
    }

    fn update<'a>(
        &'a self,
        state: &'a ApiState,
        namespace: &'a str,
        body: &'a [u8],
        mode: UpdateMode,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(state.update_typed::<K>(namespace, body, mode))
    }
}

/// Typed access to a kind's `status` (a no-op for kinds without one), so
/// the typed paths treat status as the generic path treats the `status`
/// member.
pub(crate) trait StatusPart {
    /// Whether the kind has a status (must match `KindInfo::has_status`).
    const HAS_STATUS: bool;
    /// Moves `from`'s status into `self` (none if `from` has none).
    fn take_status_from(&mut self, from: &mut Self);
    /// Copies `from`'s status into `self`.
    fn copy_status_from(&mut self, from: &Self);
    fn clear_status(&mut self);
}

macro_rules! with_status {
    ($($t:ty),* $(,)?) => {$(
        impl StatusPart for $t {
            const HAS_STATUS: bool = true;
            fn take_status_from(&mut self, from: &mut Self) {
                self.status = from.status.take();
            }
            fn copy_status_from(&mut self, from: &Self) {
                self.status.clone_from(&from.status);
            }
            fn clear_status(&mut self) {
                self.status = None;
            }
        }
    )*};
}

macro_rules! without_status {
    ($($t:ty),* $(,)?) => {$(
        impl StatusPart for $t {
            const HAS_STATUS: bool = false;
            fn take_status_from(&mut self, _from: &mut Self) {}
            fn copy_status_from(&mut self, _from: &Self) {}
            fn clear_status(&mut self) {}
        }
    )*};
}

mod status_parts {
    use super::StatusPart;
    use api::k8s_openapi::api::{
        apps, autoscaling, batch, coordination, core, discovery, networking, policy, rbac,
        scheduling,
    };

    with_status!(
        core::v1::Namespace,
        core::v1::Node,
        core::v1::Pod,
        core::v1::Service,
        apps::v1::ReplicaSet,
        core::v1::ReplicationController,
        apps::v1::Deployment,
        apps::v1::DaemonSet,
        apps::v1::StatefulSet,
        batch::v1::Job,
        batch::v1::CronJob,
        autoscaling::v2::HorizontalPodAutoscaler,
        policy::v1::PodDisruptionBudget,
        networking::v1::Ingress,
        core::v1::ResourceQuota,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
    );
    without_status!(
        core::v1::Endpoints,
        discovery::v1::EndpointSlice,
        scheduling::v1::PriorityClass,
        coordination::v1::Lease,
        core::v1::Event,
        core::v1::Binding,
        networking::v1::IngressClass,
        core::v1::Secret,
        core::v1::ConfigMap,
        core::v1::ServiceAccount,
        rbac::v1::Role,
        rbac::v1::ClusterRole,
        rbac::v1::RoleBinding,
        rbac::v1::ClusterRoleBinding,
        core::v1::LimitRange,
    );
}

/// Every served kind by plural. `bindings` is served by the bind path only.
pub(crate) struct KindTable {
    by_plural: HashMap<&'static str, Arc<dyn KindOps>>,
}

impl KindTable {
    pub(crate) fn new() -> KindTable {
        let mut by_plural: HashMap<&'static str, Arc<dyn KindOps>> = HashMap::new();
        macro_rules! register {
            ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
                if $plural != "bindings" {
                    by_plural.insert($plural, Arc::new(Typed::<$t>(PhantomData)));
                }
            };
        }
        api::for_each_kind!(register);
        KindTable { by_plural }
    }

    pub(crate) fn get(&self, plural: &str) -> Result<&Arc<dyn KindOps>, ApiError> {
        self.by_plural
            .get(plural)
            .ok_or_else(|| ApiError::UnknownResource(plural.to_string()))
    }
}

/// Copies `status` from `from` into `into` (removing it if `from` has none).
pub(crate) fn copy_status(into: &mut Value, from: &Value) {
    let map = object::as_map(into);
    match from.get("status") {
        Some(status) => map.insert("status".to_string(), status.clone()),
        None => map.remove("status"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parts_match_the_kind_table() {
        macro_rules! check {
            ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
                assert_eq!(<$t as StatusPart>::HAS_STATUS, $status, $plural);
            };
        }
        api::for_each_kind!(check);
    }
}
