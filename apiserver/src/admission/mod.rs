//! Admission plugins, each a small module, run before anything is stored.
//!
//! Order, as Kubernetes runs them (mutating plugins in this order, then the
//! validating ones in the same order):
//!
//! 1. NamespaceLifecycle (every namespaced create, called by the create
//!    verb; it also reads the namespace's PodSecurity labels).
//! 2. LimitRanger (pods: default requests and limits, then min, max and
//!    ratio checks).
//! 3. ServiceAccount (pods: the `default` account, which must exist).
//! 4. NodeRestriction (nodes, pods and leases written by a kubelet).
//! 5. PodSecurity (pods: the namespace's enforced level).
//! 6. Priority (pods' priority from their class; one global default
//!    PriorityClass).
//! 7. DefaultTolerationSeconds (pods).
//! 8. ResourceQuota, last: checked and charged in the transaction that
//!    writes the object (called from the kinds' writes and the verbs'
//!    deletes), so concurrent writes cannot overshoot.
//!
//! The kinds' strategies (`kinds/`) call the plugins that concern them in
//! this order. [`namespace_index`] tells the hot path, with one cache
//! lookup, whether a namespace has any LimitRange or ResourceQuota at all.

pub(crate) mod default_toleration_seconds;
pub(crate) mod limit_ranger;
pub(crate) mod namespace_index;
pub(crate) mod namespace_lifecycle;
pub(crate) mod node_restriction;
pub(crate) mod pod_security;
pub(crate) mod priority;
pub(crate) mod resource_quota;
pub(crate) mod service_account;

/// Namespaces created at startup if absent.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// What admission knows about the namespace of a create from reading it
/// once (NamespaceLifecycle); empty for cluster-scoped kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NamespaceFacts {
    /// The `pod-security.kubernetes.io/enforce` label, if set.
    pub(crate) pod_security_enforce: Option<String>,
    /// The `pod-security.kubernetes.io/warn` label, if set.
    pub(crate) pod_security_warn: Option<String>,
}

/// The annotation that marks a mirror pod (a kubelet's static pod).
pub(crate) const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Whether a pod is a mirror pod.
pub(crate) fn is_mirror_pod(pod: &api::k8s_openapi::api::core::v1::Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|annotations| annotations.contains_key(MIRROR_POD_ANNOTATION))
}

/// Kubernetes' admission denial: `<resource> "<name>" is forbidden: <why>`.
pub(crate) fn forbidden(
    resource: &str,
    name: &str,
    why: impl std::fmt::Display,
) -> crate::error::ApiError {
    crate::error::ApiError::Forbidden(format!("{resource} {name:?} is forbidden: {why}"))
}

/// Decodes the parts `T` names of a stored object.
fn decode_stored_part<T: serde::de::DeserializeOwned>(
    kv: &store::KeyValue,
) -> Result<T, crate::error::ApiError> {
    serde_json::from_slice(&kv.value).map_err(|error| {
        crate::error::ApiError::Internal(format!("corrupt object at {}: {error}", kv.key))
    })
}

#[cfg(test)]
mod tests;
