//! The kinds Skiff serves, and the one trait the apiserver's generic registry
//! needs from each: identity (group/version/kind/plural, namespaced or not,
//! status subresource or not), defaults and validation.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::FieldErrors;

/// Static facts about one kind, as the REST paths and the store keys use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// API group, "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Lower-case plural used in URLs, e.g. "pods".
    pub plural: &'static str,
    /// The resource's name in store keys, the kind table, watch caches and
    /// error messages: the plural for built-in kinds, `<plural>.<group>`
    /// for custom resources (as Kubernetes qualifies them), so no custom
    /// resource can take the keys of a built-in one.
    pub resource_key: &'static str,
    pub namespaced: bool,
    /// Whether the kind has a `status` subresource (status is ignored on
    /// create/update and written only through update-status).
    pub has_status: bool,
}

impl KindInfo {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A kind the apiserver can store. Implemented for every kind listed in
/// [`ALL_KINDS`].
pub trait ApiObject:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + Send
    + Sync
    + 'static
{
    const INFO: KindInfo;

    /// Fill in the defaults Kubernetes applies on create (and on update).
    fn apply_defaults(&mut self);

    /// Validate a new object (metadata included).
    fn validate_create(&self) -> Result<(), FieldErrors>;

    /// Validate an update against the stored object (immutable fields).
    fn validate_update(&self, old: &Self) -> Result<(), FieldErrors>;
}

/// Maps a `k8s-openapi` resource scope to "namespaced or not", so
/// [`KindInfo::namespaced`] is derived from the crate rather than restated.
trait ScopeInfo {
    const NAMESPACED: bool;
}

impl ScopeInfo for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl ScopeInfo for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// Invokes `$m!(RustType, Variant, "plural", has_status);` once per kind Skiff
/// serves. `RustType` is a full path usable as a type (match it with `$t:ty`),
/// `Variant` is the bare kind name as an identifier, `"plural"` is the URL
/// segment and `has_status` is a bool literal.
///
/// ```text
/// macro_rules! register {
///     ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
///         table.insert($plural, handler::<$t>());
///     };
/// }
/// api::for_each_kind!(register);
/// ```
#[macro_export]
macro_rules! for_each_kind {
    ($m:ident) => {
        $crate::__kind_list! { @each $m }
    };
}

/// Invokes `$m! { (RustType, Variant, "plural", has_status), ... }` once with
/// every kind, for callers that need all kinds in one item (an enum, a match).
#[macro_export]
macro_rules! with_all_kinds {
    ($m:ident) => {
        $crate::__kind_list! { @all $m }
    };
}

/// The single list of kinds; use [`for_each_kind!`] or [`with_all_kinds!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __kind_list {
    (@$mode:ident $m:ident) => {
        $crate::__kind_list! { @dispatch $mode $m [
            ($crate::k8s_openapi::api::core::v1::Namespace, Namespace, "namespaces", true),
            ($crate::k8s_openapi::api::core::v1::Node, Node, "nodes", true),
            ($crate::k8s_openapi::api::core::v1::Pod, Pod, "pods", true),
            ($crate::k8s_openapi::api::core::v1::Service, Service, "services", true),
            ($crate::k8s_openapi::api::core::v1::Endpoints, Endpoints, "endpoints", false),
            ($crate::k8s_openapi::api::discovery::v1::EndpointSlice, EndpointSlice, "endpointslices", false),
            ($crate::k8s_openapi::api::apps::v1::ReplicaSet, ReplicaSet, "replicasets", true),
            ($crate::k8s_openapi::api::core::v1::ReplicationController, ReplicationController, "replicationcontrollers", true),
            ($crate::k8s_openapi::api::apps::v1::Deployment, Deployment, "deployments", true),
            ($crate::k8s_openapi::api::apps::v1::DaemonSet, DaemonSet, "daemonsets", true),
            ($crate::k8s_openapi::api::apps::v1::StatefulSet, StatefulSet, "statefulsets", true),
            ($crate::k8s_openapi::api::batch::v1::Job, Job, "jobs", true),
            ($crate::k8s_openapi::api::batch::v1::CronJob, CronJob, "cronjobs", true),
            ($crate::k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler, HorizontalPodAutoscaler, "horizontalpodautoscalers", true),
            ($crate::k8s_openapi::api::policy::v1::PodDisruptionBudget, PodDisruptionBudget, "poddisruptionbudgets", true),
            ($crate::k8s_openapi::api::scheduling::v1::PriorityClass, PriorityClass, "priorityclasses", false),
            ($crate::k8s_openapi::api::coordination::v1::Lease, Lease, "leases", false),
            ($crate::k8s_openapi::api::core::v1::Event, Event, "events", false),
            ($crate::k8s_openapi::api::core::v1::Binding, Binding, "bindings", false),
            ($crate::k8s_openapi::api::networking::v1::Ingress, Ingress, "ingresses", true),
            ($crate::k8s_openapi::api::networking::v1::IngressClass, IngressClass, "ingressclasses", false),
            ($crate::k8s_openapi::api::core::v1::Secret, Secret, "secrets", false),
            ($crate::k8s_openapi::api::core::v1::ConfigMap, ConfigMap, "configmaps", false),
            ($crate::k8s_openapi::api::core::v1::ServiceAccount, ServiceAccount, "serviceaccounts", false),
            ($crate::k8s_openapi::api::rbac::v1::Role, Role, "roles", false),
            ($crate::k8s_openapi::api::rbac::v1::ClusterRole, ClusterRole, "clusterroles", false),
            ($crate::k8s_openapi::api::rbac::v1::RoleBinding, RoleBinding, "rolebindings", false),
            ($crate::k8s_openapi::api::rbac::v1::ClusterRoleBinding, ClusterRoleBinding, "clusterrolebindings", false),
            ($crate::k8s_openapi::api::core::v1::ResourceQuota, ResourceQuota, "resourcequotas", true),
            ($crate::k8s_openapi::api::core::v1::LimitRange, LimitRange, "limitranges", false),
            ($crate::k8s_openapi::api::core::v1::PersistentVolume, PersistentVolume, "persistentvolumes", true),
            ($crate::k8s_openapi::api::core::v1::PersistentVolumeClaim, PersistentVolumeClaim, "persistentvolumeclaims", true)
        ] }
    };
    (@dispatch each $m:ident [ $( ($t:ty, $variant:ident, $plural:literal, $status:literal) ),* ]) => {
        $( $m!($t, $variant, $plural, $status); )*
    };
    (@dispatch all $m:ident [ $( ($t:ty, $variant:ident, $plural:literal, $status:literal) ),* ]) => {
        $m! { $( ($t, $variant, $plural, $status) ),* }
    };
}

macro_rules! impl_api_object {
    ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
        impl ApiObject for $t {
            const INFO: KindInfo = KindInfo {
                group: <$t as k8s_openapi::Resource>::GROUP,
                version: <$t as k8s_openapi::Resource>::VERSION,
                kind: <$t as k8s_openapi::Resource>::KIND,
                plural: $plural,
                resource_key: $plural,
                namespaced: <<$t as k8s_openapi::Resource>::Scope as ScopeInfo>::NAMESPACED,
                has_status: $status,
            };

            fn apply_defaults(&mut self) {
                crate::defaults::KindDefaults::apply_kind_defaults(self);
            }

            fn validate_create(&self) -> Result<(), FieldErrors> {
                crate::validation::validate_create(self)
            }

            fn validate_update(&self, old: &Self) -> Result<(), FieldErrors> {
                crate::validation::validate_update(self, old)
            }
        }
    };
}

for_each_kind!(impl_api_object);

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// CustomResourceDefinitions are stored and validated as any kind, but are
/// not in [`for_each_kind!`]: the apiserver serves them through its custom
/// resource registry, which also serves the resources they define.
impl ApiObject for CustomResourceDefinition {
    const INFO: KindInfo = KindInfo {
        group: <Self as k8s_openapi::Resource>::GROUP,
        version: <Self as k8s_openapi::Resource>::VERSION,
        kind: <Self as k8s_openapi::Resource>::KIND,
        plural: <Self as k8s_openapi::Resource>::URL_PATH_SEGMENT,
        resource_key: <Self as k8s_openapi::Resource>::URL_PATH_SEGMENT,
        namespaced: false,
        has_status: true,
    };

    fn apply_defaults(&mut self) {
        crate::defaults::KindDefaults::apply_kind_defaults(self);
    }

    fn validate_create(&self) -> Result<(), FieldErrors> {
        crate::validation::validate_create(self)
    }

    fn validate_update(&self, old: &Self) -> Result<(), FieldErrors> {
        crate::validation::validate_update(self, old)
    }
}

macro_rules! kind_infos {
    ($( ($t:ty, $variant:ident, $plural:literal, $status:literal) ),*) => {
        /// Every kind Skiff serves, in a stable order.
        pub const ALL_KINDS: &[KindInfo] = &[ $( <$t as ApiObject>::INFO ),* ];
    };
}

with_all_kinds!(kind_infos);

/// The kind served under a URL plural such as `pods` or `ingresses`.
pub fn kind_by_plural(plural: &str) -> Option<&'static KindInfo> {
    ALL_KINDS.iter().find(|info| info.plural == plural)
}

/// The kind named by an object's `apiVersion` (`v1`, `apps/v1`) and `kind`.
pub fn kind_by_api_version_kind(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    ALL_KINDS
        .iter()
        .find(|info| info.kind == kind && info.group == group && info.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(plural: &str, expected: Option<(&str, &str, bool, bool)>) {
        let actual = kind_by_plural(plural).map(|info| {
            (
                info.api_version(),
                info.kind,
                info.namespaced,
                info.has_status,
            )
        });
        let expected = expected.map(|(av, kind, ns, st)| (av.to_string(), kind, ns, st));
        assert_eq!(actual, expected, "plural {plural}");
    }

    #[test]
    fn plurals_resolve() {
        check("pods", Some(("v1", "Pod", true, true)));
        check("nodes", Some(("v1", "Node", false, true)));
        check("endpoints", Some(("v1", "Endpoints", true, false)));
        check(
            "endpointslices",
            Some(("discovery.k8s.io/v1", "EndpointSlice", true, false)),
        );
        check(
            "ingresses",
            Some(("networking.k8s.io/v1", "Ingress", true, true)),
        );
        check(
            "ingressclasses",
            Some(("networking.k8s.io/v1", "IngressClass", false, false)),
        );
        check(
            "horizontalpodautoscalers",
            Some(("autoscaling/v2", "HorizontalPodAutoscaler", true, true)),
        );
        check(
            "poddisruptionbudgets",
            Some(("policy/v1", "PodDisruptionBudget", true, true)),
        );
        check(
            "priorityclasses",
            Some(("scheduling.k8s.io/v1", "PriorityClass", false, false)),
        );
        check(
            "leases",
            Some(("coordination.k8s.io/v1", "Lease", true, false)),
        );
        check("events", Some(("v1", "Event", true, false)));
        check("bindings", Some(("v1", "Binding", true, false)));
        check(
            "clusterroles",
            Some(("rbac.authorization.k8s.io/v1", "ClusterRole", false, false)),
        );
        check(
            "persistentvolumes",
            Some(("v1", "PersistentVolume", false, true)),
        );
        check("pod", None);
    }

    #[test]
    fn plurals_match_url_segments() {
        macro_rules! check_segment {
            ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
                assert_eq!(<$t as k8s_openapi::Resource>::URL_PATH_SEGMENT, $plural);
                assert_eq!(<$t as k8s_openapi::Resource>::KIND, stringify!($variant));
                assert_eq!(
                    <$t as k8s_openapi::Resource>::API_VERSION,
                    <$t as ApiObject>::INFO.api_version()
                );
            };
        }
        for_each_kind!(check_segment);
        assert_eq!(ALL_KINDS.len(), 32);
    }

    #[test]
    fn api_version_and_kind_resolve() {
        let info = kind_by_api_version_kind("apps/v1", "Deployment").map(|info| info.plural);
        assert_eq!(info, Some("deployments"));
        let info = kind_by_api_version_kind("v1", "Pod").map(|info| info.plural);
        assert_eq!(info, Some("pods"));
        assert_eq!(kind_by_api_version_kind("apps/v1beta1", "Deployment"), None);
        assert_eq!(kind_by_api_version_kind("v1", "Deployment"), None);
    }
}
