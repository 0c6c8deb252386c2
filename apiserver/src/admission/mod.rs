//! Admission plugins, each a small module, run before anything is stored.
//!
//! Order, as Kubernetes runs them: NamespaceLifecycle (every namespaced
//! create, called by the create verb), then the kind's own plugins from its
//! strategy (`kinds/`): for pods Priority, then DefaultTolerationSeconds;
//! for PriorityClasses the single-global-default check of Priority.

pub(crate) mod default_toleration_seconds;
pub(crate) mod namespace_lifecycle;
pub(crate) mod priority;

/// Namespaces created at startup if absent.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Decodes the parts `T` names of a stored object.
fn decode_stored_part<T: serde::de::DeserializeOwned>(
    kv: &store::KeyValue,
) -> Result<T, crate::error::ApiError> {
    serde_json::from_slice(&kv.value).map_err(|error| {
        crate::error::ApiError::Internal(format!("corrupt object at {}: {error}", kv.key))
    })
}
