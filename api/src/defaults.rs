//! Defaults as the Kubernetes apiserver applies them on create and update,
//! one function per kind; kinds without defaults use the empty default.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Binding, ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, PersistentVolume,
    PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service,
    ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;

/// The per-kind defaulting hook behind [`crate::ApiObject::apply_defaults`].
pub(crate) trait KindDefaults {
    fn apply_kind_defaults(&mut self) {}
}

impl KindDefaults for Namespace {}
impl KindDefaults for Node {}
impl KindDefaults for Pod {}
impl KindDefaults for Service {}
impl KindDefaults for Endpoints {}
impl KindDefaults for EndpointSlice {}
impl KindDefaults for ReplicaSet {}
impl KindDefaults for ReplicationController {}
impl KindDefaults for Deployment {}
impl KindDefaults for DaemonSet {}
impl KindDefaults for StatefulSet {}
impl KindDefaults for Job {}
impl KindDefaults for CronJob {}
impl KindDefaults for HorizontalPodAutoscaler {}
impl KindDefaults for PodDisruptionBudget {}
impl KindDefaults for PriorityClass {}
impl KindDefaults for Lease {}
impl KindDefaults for Event {}
impl KindDefaults for Binding {}
impl KindDefaults for Ingress {}
impl KindDefaults for IngressClass {}
impl KindDefaults for Secret {}
impl KindDefaults for ConfigMap {}
impl KindDefaults for ServiceAccount {}
impl KindDefaults for Role {}
impl KindDefaults for ClusterRole {}
impl KindDefaults for RoleBinding {}
impl KindDefaults for ClusterRoleBinding {}
impl KindDefaults for ResourceQuota {}
impl KindDefaults for LimitRange {}
impl KindDefaults for PersistentVolume {}
impl KindDefaults for PersistentVolumeClaim {}
