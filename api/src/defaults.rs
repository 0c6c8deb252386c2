//! Defaults as the Kubernetes apiserver applies them on create and update
//! (`pkg/apis/*/v1/defaults.go`), one hook per kind; kinds without defaults
//! use the empty hook. Also owns the pod QoS class, which follows from the
//! defaulted resources.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetUpdateStrategy, Deployment, DeploymentStrategy, ReplicaSet,
    RollingUpdateDaemonSet, RollingUpdateDeployment, RollingUpdateStatefulSetStrategy, StatefulSet,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Binding, ConfigMap, Container, Endpoints, Event, LimitRange, Namespace, Node, PersistentVolume,
    PersistentVolumeClaim, Pod, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ReplicationController, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::quantity::Quantity;

/// The scheduler a pod gets when it names none.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Seconds a pod gets to stop after SIGTERM when it sets nothing.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;

/// The per-kind defaulting hook behind [`crate::ApiObject::apply_defaults`].
pub(crate) trait KindDefaults {
    fn apply_kind_defaults(&mut self) {}
}

fn set<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

fn set_str(field: &mut Option<String>, value: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(value.to_string());
    }
}

/// The pull policy Kubernetes picks: `Always` for `:latest` or no tag,
/// `IfNotPresent` otherwise (including digests).
pub fn default_image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last_component = image.rsplit('/').next().unwrap_or(image);
    match last_component.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_probe(probe: &mut Option<Probe>) {
    let Some(probe) = probe else { return };
    set(&mut probe.period_seconds, 10);
    set(&mut probe.timeout_seconds, 1);
    set(&mut probe.success_threshold, 1);
    set(&mut probe.failure_threshold, 3);
    if let Some(http) = &mut probe.http_get {
        set_str(&mut http.path, "/");
        set_str(&mut http.scheme, "HTTP");
    }
}

fn default_container(container: &mut Container) {
    set_str(
        &mut container.termination_message_path,
        "/dev/termination-log",
    );
    set_str(&mut container.termination_message_policy, "File");
    if container
        .image_pull_policy
        .as_deref()
        .is_none_or(str::is_empty)
    {
        let policy = default_image_pull_policy(container.image.as_deref().unwrap_or(""));
        container.image_pull_policy = Some(policy.to_string());
    }
    for port in container.ports.iter_mut().flatten() {
        set_str(&mut port.protocol, "TCP");
    }
    if let Some(resources) = &mut container.resources
        && let Some(limits) = &resources.limits
    {
        let requests = resources.requests.get_or_insert_with(Default::default);
        for (name, limit) in limits {
            requests
                .entry(name.clone())
                .or_insert_with(|| limit.clone());
        }
    }
    default_probe(&mut container.liveness_probe);
    default_probe(&mut container.readiness_probe);
    default_probe(&mut container.startup_probe);
}

/// Applies the pod spec defaults (also used for every pod template).
pub fn default_pod_spec(spec: &mut PodSpec) {
    set_str(&mut spec.restart_policy, "Always");
    set_str(&mut spec.dns_policy, "ClusterFirst");
    set_str(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);
    set(
        &mut spec.termination_grace_period_seconds,
        DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    );
    set(&mut spec.security_context, PodSecurityContext::default());
    set(&mut spec.enable_service_links, true);
    for container in &mut spec.containers {
        default_container(container);
    }
    for container in spec.init_containers.iter_mut().flatten() {
        default_container(container);
    }
}

fn default_template(template: &mut PodTemplateSpec) {
    if let Some(spec) = &mut template.spec {
        default_pod_spec(spec);
    }
}

/// The pod's QoS class by Kubernetes' rules over CPU and memory of all
/// containers and init containers: `Guaranteed` when every container has
/// CPU and memory limits and the summed requests equal the summed limits,
/// `BestEffort` when nothing is requested or limited, else `Burstable`.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    // Sums in nano-units, indexed cpu = 0, memory = 1; `None` when no
    // container set a positive value.
    let mut requests: [Option<i128>; 2] = [None, None];
    let mut limits: [Option<i128>; 2] = [None, None];
    let mut guaranteed = true;
    let positive = |list: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
                    name: &str| {
        list.and_then(|l| l.get(name))
            .and_then(|q| Quantity::parse(&q.0).ok())
            .map(|q| q.nanos())
            .filter(|n| *n > 0)
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for container in containers {
        let resources = container.resources.as_ref();
        let container_requests = resources.and_then(|r| r.requests.as_ref());
        let container_limits = resources.and_then(|r| r.limits.as_ref());
        for (index, name) in ["cpu", "memory"].into_iter().enumerate() {
            if let Some(value) = positive(container_requests, name) {
                requests[index] = Some(requests[index].unwrap_or(0) + value);
            }
            match positive(container_limits, name) {
                Some(value) => limits[index] = Some(limits[index].unwrap_or(0) + value),
                None => guaranteed = false,
            }
        }
    }
    if requests.iter().all(Option::is_none) && limits.iter().all(Option::is_none) {
        return "BestEffort";
    }
    let requests_match_limits = requests
        .iter()
        .zip(limits.iter())
        .all(|(request, limit)| request.is_none() || request == limit);
    let same_resources = requests.iter().filter(|r| r.is_some()).count()
        == limits.iter().filter(|l| l.is_some()).count();
    if guaranteed && requests_match_limits && same_resources {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

impl KindDefaults for Pod {
    fn apply_kind_defaults(&mut self) {
        if let Some(spec) = &mut self.spec {
            default_pod_spec(spec);
        }
    }
}

impl KindDefaults for Service {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set_str(&mut spec.type_, "ClusterIP");
        set_str(&mut spec.session_affinity, "None");
        let service_type = spec.type_.as_deref().unwrap_or("ClusterIP");
        if service_type != "ExternalName" {
            set_str(&mut spec.internal_traffic_policy, "Cluster");
        }
        if matches!(service_type, "NodePort" | "LoadBalancer") {
            set_str(&mut spec.external_traffic_policy, "Cluster");
        }
        for port in spec.ports.iter_mut().flatten() {
            set_str(&mut port.protocol, "TCP");
            let unset = match &port.target_port {
                None => true,
                Some(IntOrString::Int(n)) => *n == 0,
                Some(IntOrString::String(s)) => s.is_empty(),
            };
            if unset {
                port.target_port = Some(IntOrString::Int(port.port));
            }
        }
    }
}

impl KindDefaults for Deployment {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set(&mut spec.replicas, 1);
        let strategy = spec
            .strategy
            .get_or_insert_with(DeploymentStrategy::default);
        set_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateDeployment::default);
            set(
                &mut rolling.max_unavailable,
                IntOrString::String("25%".into()),
            );
            set(&mut rolling.max_surge, IntOrString::String("25%".into()));
        }
        set(&mut spec.revision_history_limit, 10);
        set(&mut spec.progress_deadline_seconds, 600);
        default_template(&mut spec.template);
    }
}

impl KindDefaults for ReplicaSet {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set(&mut spec.replicas, 1);
        if let Some(template) = &mut spec.template {
            default_template(template);
        }
    }
}

impl KindDefaults for ReplicationController {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set(&mut spec.replicas, 1);
        if let Some(template) = &mut spec.template {
            let labels = template.metadata.as_ref().and_then(|m| m.labels.clone());
            if spec.selector.as_ref().is_none_or(|s| s.is_empty()) {
                spec.selector.clone_from(&labels);
            }
            if self.metadata.labels.as_ref().is_none_or(|l| l.is_empty()) {
                self.metadata.labels = labels;
            }
            default_template(template);
        }
    }
}

impl KindDefaults for DaemonSet {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        let strategy = spec
            .update_strategy
            .get_or_insert_with(DaemonSetUpdateStrategy::default);
        set_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateDaemonSet::default);
            set(&mut rolling.max_unavailable, IntOrString::Int(1));
            set(&mut rolling.max_surge, IntOrString::Int(0));
        }
        set(&mut spec.revision_history_limit, 10);
        default_template(&mut spec.template);
    }
}

impl KindDefaults for StatefulSet {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set(&mut spec.replicas, 1);
        set_str(&mut spec.pod_management_policy, "OrderedReady");
        let strategy = spec
            .update_strategy
            .get_or_insert_with(StatefulSetUpdateStrategy::default);
        set_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateStatefulSetStrategy::default);
            set(&mut rolling.partition, 0);
        }
        set(&mut spec.revision_history_limit, 10);
        default_template(&mut spec.template);
    }
}

fn default_job_spec(spec: &mut k8s_openapi::api::batch::v1::JobSpec) {
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
    }
    set(&mut spec.parallelism, 1);
    set(&mut spec.backoff_limit, 6);
    set_str(&mut spec.completion_mode, "NonIndexed");
    set(&mut spec.suspend, false);
    default_template(&mut spec.template);
}

impl KindDefaults for Job {
    fn apply_kind_defaults(&mut self) {
        if let Some(spec) = &mut self.spec {
            default_job_spec(spec);
        }
        crate::job::default_labels(self);
    }
}

impl KindDefaults for CronJob {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = &mut self.spec else { return };
        set_str(&mut spec.concurrency_policy, "Allow");
        set(&mut spec.suspend, false);
        set(&mut spec.successful_jobs_history_limit, 3);
        set(&mut spec.failed_jobs_history_limit, 1);
        if let Some(job) = &mut spec.job_template.spec {
            default_template(&mut job.template);
        }
    }
}

impl KindDefaults for Node {
    fn apply_kind_defaults(&mut self) {
        if let Some(status) = &mut self.status
            && status.allocatable.is_none()
        {
            status.allocatable.clone_from(&status.capacity);
        }
    }
}

impl KindDefaults for HorizontalPodAutoscaler {
    fn apply_kind_defaults(&mut self) {
        if let Some(spec) = &mut self.spec {
            set(&mut spec.min_replicas, 1);
        }
    }
}

impl KindDefaults for PriorityClass {
    fn apply_kind_defaults(&mut self) {
        set_str(&mut self.preemption_policy, "PreemptLowerPriority");
    }
}

impl KindDefaults for Secret {
    fn apply_kind_defaults(&mut self) {
        set_str(&mut self.type_, "Opaque");
    }
}

impl KindDefaults for PersistentVolume {
    fn apply_kind_defaults(&mut self) {
        if let Some(spec) = &mut self.spec {
            set_str(&mut spec.persistent_volume_reclaim_policy, "Retain");
            set_str(&mut spec.volume_mode, "Filesystem");
        }
    }
}

impl KindDefaults for PersistentVolumeClaim {
    fn apply_kind_defaults(&mut self) {
        if let Some(spec) = &mut self.spec {
            set_str(&mut spec.volume_mode, "Filesystem");
        }
    }
}

impl KindDefaults for Endpoints {
    fn apply_kind_defaults(&mut self) {
        for subset in self.subsets.iter_mut().flatten() {
            for port in subset.ports.iter_mut().flatten() {
                set_str(&mut port.protocol, "TCP");
            }
        }
    }
}

impl KindDefaults for EndpointSlice {
    fn apply_kind_defaults(&mut self) {
        for port in self.ports.iter_mut().flatten() {
            set_str(&mut port.protocol, "TCP");
        }
    }
}

/// `SetDefaults_CustomResourceDefinitionSpec`: singular and list kind from
/// the kind, conversion `None`.
impl KindDefaults
    for k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition
{
    fn apply_kind_defaults(&mut self) {
        let names = &mut self.spec.names;
        set_str(&mut names.singular, &names.kind.to_ascii_lowercase());
        set_str(&mut names.list_kind, &format!("{}List", names.kind));
        let conversion = self.spec.conversion.get_or_insert_with(Default::default);
        if conversion.strategy.is_empty() {
            conversion.strategy = "None".to_string();
        }
    }
}

impl KindDefaults for Namespace {}
impl KindDefaults for PodDisruptionBudget {}
impl KindDefaults for Lease {}
impl KindDefaults for Event {}
impl KindDefaults for Binding {}
impl KindDefaults for Ingress {}
impl KindDefaults for IngressClass {}
impl KindDefaults for ConfigMap {}
impl KindDefaults for ServiceAccount {}
impl KindDefaults for Role {}
impl KindDefaults for ClusterRole {}
impl KindDefaults for RoleBinding {}
impl KindDefaults for ClusterRoleBinding {}
impl KindDefaults for ResourceQuota {}
/// Kubernetes' `SetDefaults_LimitRangeItem`: for Container items the
/// default limit falls back to `max`, and the default request to the
/// default limit, then to `min`.
impl KindDefaults for LimitRange {
    fn apply_kind_defaults(&mut self) {
        let Some(spec) = self.spec.as_mut() else {
            return;
        };
        for item in spec
            .limits
            .iter_mut()
            .filter(|item| item.type_ == "Container")
        {
            let default = item.default.get_or_insert_with(Default::default);
            for (name, value) in item.max.iter().flatten() {
                default.entry(name.clone()).or_insert_with(|| value.clone());
            }
            let default_request = item.default_request.get_or_insert_with(Default::default);
            for (name, value) in default.iter().chain(item.min.iter().flatten()) {
                default_request
                    .entry(name.clone())
                    .or_insert_with(|| value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
