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

/// Typed operations on one kind, behind a trait object.
pub(crate) trait KindOps: Send + Sync {
    fn info(&self) -> &'static KindInfo;

    /// Applies defaults, kind-specific create preparation (pod status) and
    /// create validation.
    fn prepare_create(&self, value: Value) -> Result<Value, ApiError>;

    /// Applies defaults and validates an update against the stored object.
    fn prepare_update(&self, value: Value, old: &Value) -> Result<Value, ApiError>;
}

struct Typed<K>(PhantomData<fn() -> K>);

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

impl<K: ApiObject> KindOps for Typed<K> {
    fn info(&self) -> &'static KindInfo {
        &K::INFO
    }

    fn prepare_create(&self, value: Value) -> Result<Value, ApiError> {
        let mut typed: K = decode(value)?;
        typed.apply_defaults();
        if let Some(pod) = (&mut typed as &mut dyn Any).downcast_mut::<Pod>() {
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
