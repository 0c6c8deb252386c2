//! The default ClusterRoles and ClusterRoleBindings Kubernetes ships
//! (its `bootstrappolicy`), with their real rules, for the apiserver to
//! create on start: `cluster-admin`, the aggregated user-facing roles
//! `admin`, `edit`, `view` (whose rules live in the
//! `system:aggregate-to-*` roles), discovery and basic-user roles, the
//! roles of the scheduler, controller manager, nodes and proxy, and
//! metrics-server's `system:aggregated-metrics-reader` (read access to
//! `metrics.k8s.io`, aggregated into `view`, `edit` and `admin`). Skiff
//! adds what its own components need beyond those: `skiff:scheduler`
//! (the shard leases), `skiff:usage-reporter` (kubelets' usage reports,
//! bound to `system:nodes`), the hollow kubelet's binding to
//! `system:node`, and bindings of the controllers' roles to the controller
//! manager's user (it runs every controller with its own credential, as
//! kube-controller-manager without `--use-service-account-credentials`).
//!
//! The controllers' roles are Kubernetes' `system:controller:<name>`
//! (its `controller_policy`), each bound as there to the ServiceAccount
//! `kube-system/<name>`.
//!
//! Every object carries the label `kubernetes.io/bootstrapping:
//! rbac-defaults` and the annotation
//! `rbac.authorization.kubernetes.io/autoupdate: "true"`, as Kubernetes'.
//! Verbs and resources are listed sorted, as Kubernetes stores them.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::auth::identities::{
    CONTROLLER_MANAGER_USER, HOLLOW_KUBELET_USER, NODES_GROUP, SCHEDULER_USER,
};

pub(crate) const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
pub(crate) const BOOTSTRAPPING_LABEL_VALUE: &str = "rbac-defaults";
pub(crate) const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
pub(crate) const AGGREGATE_TO_ADMIN_LABEL: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
pub(crate) const AGGREGATE_TO_EDIT_LABEL: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
pub(crate) const AGGREGATE_TO_VIEW_LABEL: &str = "rbac.authorization.k8s.io/aggregate-to-view";
pub(crate) const RBAC_API_GROUP: &str = "rbac.authorization.k8s.io";
/// Skiff's own ClusterRoles.
pub(crate) const SKIFF_SCHEDULER_ROLE: &str = "skiff:scheduler";
pub(crate) const SKIFF_USAGE_REPORTER_ROLE: &str = "skiff:usage-reporter";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE: &[&str] = &["create"];
const EVENT_WRITE: &[&str] = &["create", "patch", "update"];

const CORE: &str = "";
const APPS: &str = "apps";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";
const AUTOSCALING: &str = "autoscaling";
const BATCH: &str = "batch";
const CERTIFICATES: &str = "certificates.k8s.io";
const COORDINATION: &str = "coordination.k8s.io";
const DISCOVERY: &str = "discovery.k8s.io";
const EVENTS: &str = "events.k8s.io";
const EXTENSIONS: &str = "extensions";
const METRICS: &str = "metrics.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const NODE: &str = "node.k8s.io";
const POLICY: &str = "policy";
const STORAGE: &str = "storage.k8s.io";

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        resource_names: None,
        non_resource_urls: None,
    }
}

fn named_rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    PolicyRule {
        resource_names: Some(strings(names)),
        ..rule(verbs, groups, resources)
    }
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        non_resource_urls: Some(strings(urls)),
        ..PolicyRule::default()
    }
}

fn bootstrap_metadata(name: &str, extra_labels: &[&str]) -> ObjectMeta {
    let mut labels = BTreeMap::from([(
        BOOTSTRAPPING_LABEL.to_string(),
        BOOTSTRAPPING_LABEL_VALUE.to_string(),
    )]);
    for label in extra_labels {
        labels.insert(label.to_string(), "true".to_string());
    }
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([(
            AUTOUPDATE_ANNOTATION.to_string(),
            "true".to_string(),
        )])),
        ..ObjectMeta::default()
    }
}

fn cluster_role(name: &str, extra_labels: &[&str], rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: bootstrap_metadata(name, extra_labels),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

/// A role whose rules are those of the roles labelled `aggregate_from`.
fn aggregated_cluster_role(name: &str, extra_labels: &[&str], aggregate_from: &str) -> ClusterRole {
    ClusterRole {
        metadata: bootstrap_metadata(name, extra_labels),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    aggregate_from.to_string(),
                    "true".to_string(),
                )])),
                match_expressions: None,
            }]),
        }),
    }
}

/// The default ClusterRoles, sorted by name.
/// The controllers whose roles are bootstrapped: the ServiceAccount
/// name of each (its role is `system:controller:<name>`).
const CONTROLLERS: &[&str] = &[
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "generic-garbage-collector",
    "job-controller",
    "node-controller",
    "pod-garbage-collector",
    "replicaset-controller",
    "replication-controller",
    "service-account-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
];

/// The rules of `system:controller:<controller>`.
fn controller_rules(controller: &str) -> Vec<PolicyRule> {
    let events = rule(EVENT_WRITE, &[CORE, EVENTS], &["events"]);
    match controller {
        "cronjob-controller" => vec![
            rule(&["get", "list", "update", "watch"], &[BATCH], &["cronjobs"]),
            rule(&["update"], &[BATCH], &["cronjobs/status"]),
            rule(&["update"], &[BATCH], &["cronjobs/finalizers"]),
            rule(
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                &[BATCH],
                &["jobs"],
            ),
            rule(&["delete", "list"], &[CORE], &["pods"]),
            events,
        ],
        "daemon-set-controller" => vec![
            rule(READ, &[APPS, EXTENSIONS], &["daemonsets"]),
            rule(&["update"], &[APPS, EXTENSIONS], &["daemonsets/status"]),
            rule(&["update"], &[APPS, EXTENSIONS], &["daemonsets/finalizers"]),
            rule(&["list", "watch"], &[CORE], &["nodes"]),
            rule(
                &["create", "delete", "list", "patch", "watch"],
                &[CORE],
                &["pods"],
            ),
            rule(CREATE, &[CORE], &["pods/binding"]),
            rule(
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                &[APPS],
                &["controllerrevisions"],
            ),
            events,
        ],
        "deployment-controller" => vec![
            rule(
                &["get", "list", "update", "watch"],
                &[APPS, EXTENSIONS],
                &["deployments"],
            ),
            rule(&["update"], &[APPS, EXTENSIONS], &["deployments/status"]),
            rule(
                &["update"],
                &[APPS, EXTENSIONS],
                &["deployments/finalizers"],
            ),
            rule(
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                &[APPS, EXTENSIONS],
                &["replicasets"],
            ),
            rule(&["get", "list", "update", "watch"], &[CORE], &["pods"]),
            events,
        ],
        "endpoint-controller" => vec![
            rule(READ, &[CORE], &["services", "pods"]),
            rule(
                &["create", "delete", "get", "list", "update", "watch"],
                &[CORE],
                &["endpoints"],
            ),
            rule(CREATE, &[CORE], &["endpoints/restricted"]),
            events,
        ],
        "endpointslice-controller" => vec![
            rule(READ, &[CORE], &["services", "pods", "nodes"]),
            rule(
                &["create", "delete", "get", "list", "update", "watch"],
                &[DISCOVERY],
                &["endpointslices"],
            ),
            events,
        ],
        "generic-garbage-collector" => vec![rule(
            &["delete", "get", "list", "patch", "update", "watch"],
            &["*"],
            &["*"],
        )],
        "job-controller" => vec![
            rule(
                &["get", "list", "patch", "update", "watch"],
                &[BATCH],
                &["jobs"],
            ),
            rule(&["patch", "update"], &[BATCH], &["jobs/status"]),
            rule(&["patch", "update"], &[BATCH], &["jobs/finalizers"]),
            rule(
                &["create", "delete", "list", "patch", "watch"],
                &[CORE],
                &["pods"],
            ),
            events,
        ],
        // Node lifecycle and taint eviction: node health, taints, pods'
        // readiness and NoExecute deletions.
        "node-controller" => vec![
            rule(
                &["delete", "get", "list", "patch", "update", "watch"],
                &[CORE],
                &["nodes"],
            ),
            rule(&["patch", "update"], &[CORE], &["nodes/status"]),
            rule(&["patch", "update"], &[CORE], &["pods/status"]),
            rule(&["delete", "list", "watch"], &[CORE], &["pods"]),
            rule(READ, &[COORDINATION], &["leases"]),
            events,
        ],
        "pod-garbage-collector" => vec![
            rule(&["delete", "list", "watch"], &[CORE], &["pods"]),
            rule(&["patch"], &[CORE], &["pods/status"]),
            rule(READ, &[CORE], &["nodes"]),
        ],
        "replicaset-controller" => vec![
            rule(
                &["get", "list", "update", "watch"],
                &[APPS, EXTENSIONS],
                &["replicasets"],
            ),
            rule(&["update"], &[APPS, EXTENSIONS], &["replicasets/status"]),
            rule(
                &["update"],
                &[APPS, EXTENSIONS],
                &["replicasets/finalizers"],
            ),
            rule(
                &["create", "delete", "list", "patch", "watch"],
                &[CORE],
                &["pods"],
            ),
            events,
        ],
        "service-account-controller" => vec![
            rule(&["create"], &[CORE], &["serviceaccounts"]),
            rule(READ, &[CORE], &["namespaces", "serviceaccounts"]),
            events,
        ],
        "replication-controller" => vec![
            rule(
                &["get", "list", "update", "watch"],
                &[CORE],
                &["replicationcontrollers"],
            ),
            rule(&["update"], &[CORE], &["replicationcontrollers/status"]),
            rule(&["update"], &[CORE], &["replicationcontrollers/finalizers"]),
            rule(
                &["create", "delete", "list", "patch", "watch"],
                &[CORE],
                &["pods"],
            ),
            events,
        ],
        "statefulset-controller" => vec![
            rule(&["list", "watch"], &[CORE], &["pods"]),
            rule(READ, &[APPS], &["statefulsets"]),
            rule(&["update"], &[APPS], &["statefulsets/status"]),
            rule(&["update"], &[APPS], &["statefulsets/finalizers"]),
            rule(
                &["create", "delete", "get", "patch", "update"],
                &[CORE],
                &["pods"],
            ),
            rule(
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                &[APPS],
                &["controllerrevisions"],
            ),
            rule(
                &["create", "delete", "get", "patch", "update"],
                &[CORE],
                &["persistentvolumeclaims"],
            ),
            events,
        ],
        "ttl-after-finished-controller" => vec![
            rule(&["delete", "get", "list", "watch"], &[BATCH], &["jobs"]),
            events,
        ],
        _ => vec![events],
    }
}

fn controller_role_name(controller: &str) -> String {
    format!("system:controller:{controller}")
}

pub(crate) fn bootstrap_cluster_roles() -> Vec<ClusterRole> {
    let controllers = CONTROLLERS.iter().map(|controller| {
        cluster_role(
            &controller_role_name(controller),
            &[],
            controller_rules(controller),
        )
    });
    let mut roles = base_cluster_roles();
    roles.extend(controllers);
    // Listed by name, as Kubernetes lists them.
    roles.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    roles
}

fn base_cluster_roles() -> Vec<ClusterRole> {
    vec![
        aggregated_cluster_role("admin", &[], AGGREGATE_TO_ADMIN_LABEL),
        cluster_role(
            "cluster-admin",
            &[],
            vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
        ),
        aggregated_cluster_role("edit", &[AGGREGATE_TO_ADMIN_LABEL], AGGREGATE_TO_EDIT_LABEL),
        // Skiff's own: the leases of a sharded scheduler (any name, and
        // list to see the other shards), and the usage reports of kubelets
        // (metrics.k8s.io is served from them, not scraped).
        cluster_role(
            SKIFF_SCHEDULER_ROLE,
            &[],
            vec![rule(
                &["get", "list", "update", "watch"],
                &[COORDINATION],
                &["leases"],
            )],
        ),
        cluster_role(
            SKIFF_USAGE_REPORTER_ROLE,
            &[],
            vec![rule(CREATE, &[METRICS], &["nodes", "pods"])],
        ),
        cluster_role(
            "system:aggregate-to-admin",
            &[AGGREGATE_TO_ADMIN_LABEL],
            vec![
                rule(CREATE, &[AUTHORIZATION], &["localsubjectaccessreviews"]),
                rule(READ_WRITE, &[RBAC_API_GROUP], &["rolebindings", "roles"]),
            ],
        ),
        cluster_role(
            "system:aggregate-to-edit",
            &[AGGREGATE_TO_EDIT_LABEL],
            aggregate_to_edit_rules(),
        ),
        cluster_role(
            "system:aggregate-to-view",
            &[AGGREGATE_TO_VIEW_LABEL],
            aggregate_to_view_rules(),
        ),
        cluster_role(
            "system:aggregated-metrics-reader",
            &[
                AGGREGATE_TO_ADMIN_LABEL,
                AGGREGATE_TO_EDIT_LABEL,
                AGGREGATE_TO_VIEW_LABEL,
            ],
            vec![rule(READ, &[METRICS], &["nodes", "pods"])],
        ),
        cluster_role(
            "system:auth-delegator",
            &[],
            vec![
                rule(CREATE, &[AUTHENTICATION], &["tokenreviews"]),
                rule(CREATE, &[AUTHORIZATION], &["subjectaccessreviews"]),
            ],
        ),
        cluster_role(
            "system:basic-user",
            &[],
            vec![
                rule(
                    CREATE,
                    &[AUTHORIZATION],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(CREATE, &[AUTHENTICATION], &["selfsubjectreviews"]),
            ],
        ),
        cluster_role(
            "system:discovery",
            &[],
            vec![url_rule(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        cluster_role(
            "system:kube-controller-manager",
            &[],
            kube_controller_manager_rules(),
        ),
        cluster_role("system:kube-scheduler", &[], kube_scheduler_rules()),
        cluster_role(
            "system:monitoring",
            &[],
            vec![url_rule(
                &["get"],
                &[
                    "/healthz",
                    "/healthz/*",
                    "/livez",
                    "/livez/*",
                    "/metrics",
                    "/metrics/slis",
                    "/readyz",
                    "/readyz/*",
                ],
            )],
        ),
        cluster_role("system:node", &[], node_rules()),
        cluster_role(
            "system:node-proxier",
            &[],
            vec![
                rule(&["list", "watch"], &[CORE], &["endpoints", "services"]),
                rule(READ, &[CORE], &["nodes"]),
                rule(EVENT_WRITE, &[CORE, EVENTS], &["events"]),
                rule(&["list", "watch"], &[DISCOVERY], &["endpointslices"]),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            &[],
            vec![url_rule(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
        cluster_role(
            "system:volume-scheduler",
            &[],
            vec![
                rule(
                    &["get", "list", "patch", "update", "watch"],
                    &[CORE],
                    &["persistentvolumes"],
                ),
                rule(READ, &[STORAGE], &["storageclasses"]),
                rule(
                    &["get", "list", "patch", "update", "watch"],
                    &[CORE],
                    &["persistentvolumeclaims"],
                ),
            ],
        ),
        aggregated_cluster_role("view", &[AGGREGATE_TO_EDIT_LABEL], AGGREGATE_TO_VIEW_LABEL),
    ]
}

fn aggregate_to_edit_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[CORE],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], &[CORE], &["serviceaccounts"]),
        rule(
            WRITE,
            &[CORE],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
            ],
        ),
        rule(CREATE, &[CORE], &["pods/eviction"]),
        rule(
            WRITE,
            &[CORE],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
        ),
        rule(CREATE, &[CORE], &["serviceaccounts/token"]),
        rule(
            WRITE,
            &[APPS],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
        ),
        rule(WRITE, &[AUTOSCALING], &["horizontalpodautoscalers"]),
        rule(WRITE, &[BATCH], &["cronjobs", "jobs"]),
        rule(
            WRITE,
            &[EXTENSIONS],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "ingresses",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
            ],
        ),
        rule(WRITE, &[POLICY], &["poddisruptionbudgets"]),
        rule(WRITE, &[NETWORKING], &["ingresses", "networkpolicies"]),
        rule(READ_WRITE, &[COORDINATION], &["leases"]),
    ]
}

fn aggregate_to_view_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[CORE],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
        ),
        rule(
            READ,
            &[CORE],
            &[
                "bindings",
                "events",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
        ),
        rule(READ, &[CORE], &["namespaces"]),
        rule(READ, &[DISCOVERY], &["endpointslices"]),
        rule(
            READ,
            &[APPS],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
        ),
        rule(
            READ,
            &[AUTOSCALING],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            &[BATCH],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        ),
        rule(
            READ,
            &[EXTENSIONS],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
            ],
        ),
        rule(
            READ,
            &[POLICY],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            READ,
            &[NETWORKING],
            &["ingresses", "ingresses/status", "networkpolicies"],
        ),
    ]
}

fn kube_controller_manager_rules() -> Vec<PolicyRule> {
    vec![
        rule(EVENT_WRITE, &[CORE, EVENTS], &["events"]),
        rule(CREATE, &[COORDINATION], &["leases"]),
        named_rule(
            &["get", "update"],
            &[COORDINATION],
            &["leases"],
            &["kube-controller-manager"],
        ),
        rule(CREATE, &[CORE], &["secrets", "serviceaccounts"]),
        rule(&["delete"], &[CORE], &["secrets"]),
        rule(
            &["get"],
            &[CORE],
            &["configmaps", "namespaces", "secrets", "serviceaccounts"],
        ),
        rule(&["update"], &[CORE], &["secrets", "serviceaccounts"]),
        rule(CREATE, &[AUTHENTICATION], &["tokenreviews"]),
        rule(CREATE, &[AUTHORIZATION], &["subjectaccessreviews"]),
        rule(&["list", "watch"], &["*"], &["*"]),
        rule(CREATE, &[CORE], &["serviceaccounts/token"]),
    ]
}

/// The rules of `system:kube-scheduler`; a second scheduler deployed with
/// its own identity copies them.
pub(crate) fn kube_scheduler_rules() -> Vec<PolicyRule> {
    vec![
        rule(EVENT_WRITE, &[CORE, EVENTS], &["events"]),
        rule(CREATE, &[COORDINATION], &["leases"]),
        named_rule(
            &["get", "update"],
            &[COORDINATION],
            &["leases"],
            &["kube-scheduler"],
        ),
        rule(READ, &[CORE], &["nodes"]),
        rule(&["delete", "get", "list", "watch"], &[CORE], &["pods"]),
        rule(CREATE, &[CORE], &["bindings", "pods/binding"]),
        rule(&["patch", "update"], &[CORE], &["pods/status"]),
        rule(READ, &[CORE], &["replicationcontrollers", "services"]),
        rule(READ, &[APPS, EXTENSIONS], &["replicasets"]),
        rule(READ, &[APPS], &["statefulsets"]),
        rule(READ, &[POLICY], &["poddisruptionbudgets"]),
        rule(
            READ,
            &[CORE],
            &["persistentvolumeclaims", "persistentvolumes"],
        ),
        rule(CREATE, &[AUTHENTICATION], &["tokenreviews"]),
        rule(CREATE, &[AUTHORIZATION], &["subjectaccessreviews"]),
        rule(READ, &[STORAGE], &["csinodes"]),
        rule(READ, &[CORE], &["namespaces"]),
        rule(READ, &[STORAGE], &["csidrivers"]),
        rule(READ, &[STORAGE], &["csistoragecapacities"]),
    ]
}

fn node_rules() -> Vec<PolicyRule> {
    let get = &["get"][..];
    let create_delete_get_patch_update = &["create", "delete", "get", "patch", "update"][..];
    vec![
        rule(CREATE, &[AUTHENTICATION], &["tokenreviews"]),
        rule(
            CREATE,
            &[AUTHORIZATION],
            &["localsubjectaccessreviews", "subjectaccessreviews"],
        ),
        rule(READ, &[CORE], &["services"]),
        rule(&["create", "get", "list", "watch"], &[CORE], &["nodes"]),
        rule(&["patch", "update"], &[CORE], &["nodes/status"]),
        rule(&["patch", "update"], &[CORE], &["nodes"]),
        rule(EVENT_WRITE, &[CORE], &["events"]),
        rule(READ, &[CORE], &["pods"]),
        rule(&["create", "delete"], &[CORE], &["pods"]),
        rule(&["patch", "update"], &[CORE], &["pods/status"]),
        rule(CREATE, &[CORE], &["pods/eviction"]),
        rule(READ, &[CORE], &["configmaps", "secrets"]),
        rule(
            get,
            &[CORE],
            &["persistentvolumeclaims", "persistentvolumes"],
        ),
        rule(get, &[CORE], &["endpoints"]),
        rule(
            &["create", "get", "list", "watch"],
            &[CERTIFICATES],
            &["certificatesigningrequests"],
        ),
        rule(create_delete_get_patch_update, &[COORDINATION], &["leases"]),
        rule(get, &[STORAGE], &["volumeattachments"]),
        rule(CREATE, &[CORE], &["serviceaccounts/token"]),
        rule(
            &["get", "patch", "update"],
            &[CORE],
            &["persistentvolumeclaims/status"],
        ),
        rule(READ, &[STORAGE], &["csidrivers"]),
        rule(create_delete_get_patch_update, &[STORAGE], &["csinodes"]),
        rule(READ, &[NODE], &["runtimeclasses"]),
        // Not in Kubernetes' role: Skiff's kubelets push their usage
        // (`ReportUsage`, authorized as a create of metrics.k8s.io nodes)
        // where Kubernetes' metrics-server scrapes it.
        rule(CREATE, &[METRICS], &["nodes"]),
    ]
}

fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_API_GROUP.to_string()),
        kind: "Group".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_API_GROUP.to_string()),
        kind: "User".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn service_account(namespace: &str, name: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_string(),
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
    }
}

fn cluster_role_binding(name: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    binding_of(name, name, subjects)
}

fn binding_of(name: &str, role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: bootstrap_metadata(name, &[]),
        role_ref: RoleRef {
            api_group: RBAC_API_GROUP.to_string(),
            kind: "ClusterRole".to_string(),
            name: role.to_string(),
        },
        subjects: Some(subjects),
    }
}

/// The default ClusterRoleBindings, each named after the role it binds
/// (Skiff's hollow kubelet's after its user).
pub(crate) fn bootstrap_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    let mut bindings = base_cluster_role_bindings();
    for controller in CONTROLLERS {
        let role = controller_role_name(controller);
        bindings.push(cluster_role_binding(
            &role,
            vec![service_account("kube-system", controller)],
        ));
        bindings.push(binding_of(
            &format!("skiff:controller-manager:{controller}"),
            &role,
            vec![user(CONTROLLER_MANAGER_USER)],
        ));
    }
    bindings
}

fn base_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        // Skiff's components (see `crate::auth::identities`).
        cluster_role_binding(SKIFF_SCHEDULER_ROLE, vec![user(SCHEDULER_USER)]),
        cluster_role_binding(SKIFF_USAGE_REPORTER_ROLE, vec![group(NODES_GROUP)]),
        // One process simulates many nodes, so it cannot be one node's
        // `system:node:<name>` (NodeRestriction would hold it to that
        // node): it gets the nodes' role under its own name.
        binding_of(
            HOLLOW_KUBELET_USER,
            "system:node",
            vec![user(HOLLOW_KUBELET_USER)],
        ),
        cluster_role_binding("cluster-admin", vec![group("system:masters")]),
        cluster_role_binding("system:basic-user", vec![group("system:authenticated")]),
        cluster_role_binding("system:discovery", vec![group("system:authenticated")]),
        cluster_role_binding(
            "system:kube-controller-manager",
            vec![user("system:kube-controller-manager")],
        ),
        cluster_role_binding("system:kube-scheduler", vec![user("system:kube-scheduler")]),
        cluster_role_binding("system:monitoring", vec![group("system:monitoring")]),
        cluster_role_binding("system:node-proxier", vec![user("system:kube-proxy")]),
        cluster_role_binding(
            "system:public-info-viewer",
            vec![
                group("system:authenticated"),
                group("system:unauthenticated"),
            ],
        ),
        cluster_role_binding(
            "system:volume-scheduler",
            vec![user("system:kube-scheduler")],
        ),
    ]
}
