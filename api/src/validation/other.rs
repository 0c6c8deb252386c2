//! Validation of the kinds that need little beyond their metadata.

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

use super::{NameRule, ValidateKind};

impl ValidateKind for Namespace {
    const NAME_RULE: NameRule = NameRule::Dns1123Label;
}
impl ValidateKind for Service {
    const NAME_RULE: NameRule = NameRule::Dns1035Label;
}
impl ValidateKind for Node {}
impl ValidateKind for Pod {}
impl ValidateKind for Endpoints {}
impl ValidateKind for EndpointSlice {}
impl ValidateKind for ReplicaSet {}
impl ValidateKind for ReplicationController {}
impl ValidateKind for Deployment {}
impl ValidateKind for DaemonSet {}
impl ValidateKind for StatefulSet {}
impl ValidateKind for Job {}
impl ValidateKind for CronJob {}
impl ValidateKind for HorizontalPodAutoscaler {
    const NAME_RULE: NameRule = NameRule::PathSegment;
}
impl ValidateKind for PodDisruptionBudget {}
impl ValidateKind for PriorityClass {}
impl ValidateKind for Lease {}
impl ValidateKind for Event {}
impl ValidateKind for Binding {}
impl ValidateKind for Ingress {}
impl ValidateKind for IngressClass {}
impl ValidateKind for Secret {}
impl ValidateKind for ConfigMap {}
impl ValidateKind for ServiceAccount {}
impl ValidateKind for Role {
    const NAME_RULE: NameRule = NameRule::PathSegment;
}
impl ValidateKind for ClusterRole {
    const NAME_RULE: NameRule = NameRule::PathSegment;
}
impl ValidateKind for RoleBinding {
    const NAME_RULE: NameRule = NameRule::PathSegment;
}
impl ValidateKind for ClusterRoleBinding {
    const NAME_RULE: NameRule = NameRule::PathSegment;
}
impl ValidateKind for ResourceQuota {}
impl ValidateKind for LimitRange {}
impl ValidateKind for PersistentVolume {}
impl ValidateKind for PersistentVolumeClaim {}
