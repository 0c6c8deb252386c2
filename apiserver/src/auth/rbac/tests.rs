//! Table tests of the RBAC authorizer: verb × subresource × resource name ×
//! scope over Roles, ClusterRoles and their bindings, ServiceAccount and
//! group subjects, aggregation, `system:masters`, the bootstrap policy and
//! Kubernetes' denial messages.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

use super::authorizer::{Decision, RbacPolicy};
use super::bootstrap::{bootstrap_cluster_role_bindings, bootstrap_cluster_roles};
use crate::request::{Attributes, UserInfo};

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        resource_names: (!names.is_empty()).then(|| strings(names)),
        non_resource_urls: None,
    }
}

fn meta(namespace: Option<&str>, name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: (!labels.is_empty()).then(|| {
            labels
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        }),
        ..ObjectMeta::default()
    }
}

fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(Some(namespace), name, &[]),
        rules: Some(rules),
    }
}

fn cluster_role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(None, name, labels),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

/// `kind:name` or `ServiceAccount:namespace:name` / `ServiceAccount::name`.
fn subject(text: &str) -> Subject {
    let mut parts = text.splitn(3, ':');
    let kind = parts.next().unwrap().to_string();
    let (namespace, name) = match (parts.next(), parts.next()) {
        (Some(namespace), Some(name)) => (Some(namespace.to_string()), name.to_string()),
        (Some(name), None) => (None, name.to_string()),
        _ => panic!("bad subject {text}"),
    };
    Subject {
        api_group: None,
        kind,
        name,
        namespace: namespace.filter(|namespace| !namespace.is_empty()),
    }
}

fn role_binding(
    namespace: &str,
    role_kind: &str,
    role_name: &str,
    subjects: &[&str],
) -> RoleBinding {
    RoleBinding {
        metadata: meta(Some(namespace), &format!("{role_name}-binding"), &[]),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: role_kind.to_string(),
            name: role_name.to_string(),
        },
        subjects: Some(subjects.iter().map(|text| subject(text)).collect()),
    }
}

fn cluster_role_binding(role_name: &str, subjects: &[&str]) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(None, &format!("{role_name}-binding"), &[]),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "ClusterRole".to_string(),
            name: role_name.to_string(),
        },
        subjects: Some(subjects.iter().map(|text| subject(text)).collect()),
    }
}

fn user(name: &str, groups: &[&str]) -> Arc<UserInfo> {
    Arc::new(UserInfo::authenticated(name, strings(groups)))
}

/// A resource request written `verb group/resource/subresource ns name`,
/// with `-` for an empty group, namespace or name (e.g.
/// `get -/pods/status default web-0`, `list apps/deployments - -`).
fn request(user: &Arc<UserInfo>, text: &str) -> Attributes {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [verb, resource_path, namespace, name] = words[..] else {
        panic!("bad request {text}");
    };
    let dash_empty = |word: &str| {
        if word == "-" {
            String::new()
        } else {
            word.to_string()
        }
    };
    let mut path_parts = resource_path.splitn(3, '/');
    let group = dash_empty(path_parts.next().unwrap());
    let resource = path_parts.next().unwrap().to_string();
    let subresource = path_parts.next().unwrap_or_default().to_string();
    Attributes {
        user: Arc::clone(user),
        verb: verb.to_string(),
        resource_request: true,
        group,
        version: "v1".to_string(),
        resource,
        subresource,
        namespace: dash_empty(namespace),
        name: dash_empty(name),
        path: String::new(),
    }
}

fn check(policy: &RbacPolicy, user: &Arc<UserInfo>, cases: &[(&str, bool)]) {
    for &(text, expected) in cases {
        let decision = policy.authorize(&request(user, text));
        assert_eq!(
            decision == Decision::Allow,
            expected,
            "{} {text}: {decision:?}",
            user.name
        );
    }
}

fn check_paths(policy: &RbacPolicy, user: &Arc<UserInfo>, cases: &[(&str, &str, bool)]) {
    for &(verb, path, expected) in cases {
        let decision = policy.authorize(&Attributes::non_resource(Arc::clone(user), verb, path));
        assert_eq!(
            decision == Decision::Allow,
            expected,
            "{} {verb} {path}: {decision:?}",
            user.name
        );
    }
}

fn check_denial(policy: &RbacPolicy, attributes: &Attributes, expected: &str) {
    assert_eq!(
        policy.authorize(attributes),
        Decision::Deny(expected.to_string())
    );
}

fn bootstrap_policy(
    roles: Vec<Role>,
    mut cluster_roles: Vec<ClusterRole>,
    role_bindings: Vec<RoleBinding>,
    mut cluster_role_bindings: Vec<ClusterRoleBinding>,
) -> RbacPolicy {
    cluster_roles.extend(bootstrap_cluster_roles());
    cluster_role_bindings.extend(bootstrap_cluster_role_bindings());
    RbacPolicy::new(roles, cluster_roles, role_bindings, cluster_role_bindings)
}

#[test]
fn namespaced_role_applies_in_its_namespace_only() {
    let policy = RbacPolicy::new(
        vec![role(
            "default",
            "pod-reader",
            vec![
                rule(&["get", "list", "watch"], &[""], &["pods", "pods/log"], &[]),
                rule(&["update"], &[""], &["configmaps"], &["settings"]),
            ],
        )],
        vec![],
        vec![role_binding(
            "default",
            "Role",
            "pod-reader",
            &["User:alice"],
        )],
        vec![],
    );
    let alice = user("alice", &[]);
    check(
        &policy,
        &alice,
        &[
            ("get -/pods default web-0", true),
            ("list -/pods default -", true),
            ("watch -/pods default -", true),
            ("get -/pods/log default web-0", true),
            ("get -/pods/status default web-0", false),
            ("create -/pods default -", false),
            ("delete -/pods default web-0", false),
            ("get -/pods other web-0", false),
            ("list -/pods - -", false),
            ("get apps/pods default web-0", false),
            ("update -/configmaps default settings", true),
            ("update -/configmaps default other", false),
            ("list -/configmaps default -", false),
        ],
    );
    check(
        &policy,
        &user("bob", &[]),
        &[("get -/pods default web-0", false)],
    );
}

#[test]
fn role_binding_to_cluster_role_is_limited_to_its_namespace() {
    let policy = RbacPolicy::new(
        vec![],
        vec![cluster_role(
            "deployer",
            &[],
            vec![
                rule(
                    &["*"],
                    &["apps"],
                    &["deployments", "deployments/scale"],
                    &[],
                ),
                rule(&["get", "list"], &[""], &["nodes"], &[]),
            ],
        )],
        vec![role_binding(
            "team-a",
            "ClusterRole",
            "deployer",
            &["Group:team-a-devs"],
        )],
        vec![cluster_role_binding("deployer", &["User:ops"])],
    );
    let dev = user("dana", &["team-a-devs"]);
    check(
        &policy,
        &dev,
        &[
            ("create apps/deployments team-a -", true),
            ("update apps/deployments/scale team-a web", true),
            ("deletecollection apps/deployments team-a -", true),
            ("update apps/deployments/status team-a web", false),
            ("create apps/deployments team-b -", false),
            ("list apps/deployments - -", false),
            // Cluster-scoped resources are out of reach of a RoleBinding.
            ("list -/nodes - -", false),
        ],
    );
    let ops = user("ops", &[]);
    check(
        &policy,
        &ops,
        &[
            ("create apps/deployments team-b -", true),
            ("list apps/deployments - -", true),
            ("list -/nodes - -", true),
            ("get -/nodes - n1", true),
            ("delete -/nodes - n1", false),
        ],
    );
}

#[test]
fn service_account_subjects() {
    let policy = RbacPolicy::new(
        vec![role(
            "ci",
            "runner",
            vec![rule(&["create"], &[""], &["pods"], &[])],
        )],
        vec![cluster_role(
            "lister",
            &[],
            vec![rule(&["list"], &[""], &["pods"], &[])],
        )],
        vec![
            // No namespace on the subject: the binding's namespace.
            role_binding("ci", "Role", "runner", &["ServiceAccount:builder"]),
        ],
        vec![
            cluster_role_binding("lister", &["ServiceAccount:monitoring:scraper"]),
            // A ServiceAccount without namespace in a ClusterRoleBinding
            // matches nobody.
            cluster_role_binding("lister", &["ServiceAccount:nobody"]),
        ],
    );
    let builder = user(
        "system:serviceaccount:ci:builder",
        &["system:serviceaccounts", "system:serviceaccounts:ci"],
    );
    check(
        &policy,
        &builder,
        &[("create -/pods ci -", true), ("list -/pods ci -", false)],
    );
    let other_namespace_builder = user("system:serviceaccount:dev:builder", &[]);
    check(
        &policy,
        &other_namespace_builder,
        &[("create -/pods ci -", false)],
    );
    let scraper = user("system:serviceaccount:monitoring:scraper", &[]);
    check(
        &policy,
        &scraper,
        &[
            ("list -/pods - -", true),
            ("list -/pods ci -", true),
            ("create -/pods ci -", false),
        ],
    );
    check(
        &policy,
        &user("system:serviceaccount::nobody", &[]),
        &[("list -/pods - -", false)],
    );
}

#[test]
fn aggregation_collects_rules_of_matching_cluster_roles() {
    let policy = RbacPolicy::new(
        vec![],
        vec![
            ClusterRole {
                metadata: meta(None, "monitoring", &[]),
                rules: Some(vec![rule(&["delete"], &[""], &["secrets"], &[])]),
                aggregation_rule: Some(AggregationRule {
                    cluster_role_selectors: Some(vec![
                        LabelSelector {
                            match_labels: Some(BTreeMap::from([(
                                "aggregate-to-monitoring".to_string(),
                                "true".to_string(),
                            )])),
                            match_expressions: None,
                        },
                        LabelSelector {
                            match_labels: None,
                            match_expressions: Some(vec![LabelSelectorRequirement {
                                key: "tier".to_string(),
                                operator: "In".to_string(),
                                values: Some(strings(&["metrics", "logs"])),
                            }]),
                        },
                    ]),
                }),
            },
            cluster_role(
                "pods-view",
                &[("aggregate-to-monitoring", "true")],
                vec![rule(&["get"], &[""], &["pods"], &[])],
            ),
            cluster_role(
                "metrics-view",
                &[("tier", "metrics")],
                vec![rule(&["get"], &["metrics.k8s.io"], &["nodes"], &[])],
            ),
            cluster_role(
                "unrelated",
                &[("tier", "web")],
                vec![rule(&["get"], &[""], &["services"], &[])],
            ),
        ],
        vec![],
        vec![cluster_role_binding("monitoring", &["Group:sre"])],
    );
    check(
        &policy,
        &user("sam", &["sre"]),
        &[
            ("get -/pods default p", true),
            ("get metrics.k8s.io/nodes - n1", true),
            ("get -/services default s", false),
            // An aggregated role's own rules are replaced.
            ("delete -/secrets default s", false),
        ],
    );
}

#[test]
fn system_masters_may_do_anything() {
    let policy = RbacPolicy::new(vec![], vec![], vec![], vec![]);
    let admin = user("admin", &["system:masters"]);
    check(
        &policy,
        &admin,
        &[
            ("delete -/nodes - n1", true),
            ("escalate rbac.authorization.k8s.io/clusterroles - x", true),
        ],
    );
    check_paths(&policy, &admin, &[("post", "/anything", true)]);
}

#[test]
fn anonymous_gets_only_public_info() {
    let policy = bootstrap_policy(vec![], vec![], vec![], vec![]);
    let anonymous = Arc::new(UserInfo::anonymous());
    check_paths(
        &policy,
        &anonymous,
        &[
            ("get", "/healthz", true),
            ("get", "/livez", true),
            ("get", "/readyz", true),
            ("get", "/version", true),
            ("get", "/version/", true),
            ("get", "/healthz/etcd", false),
            ("post", "/healthz", false),
            ("get", "/api", false),
            ("get", "/apis", false),
            ("get", "/api/v1", false),
            ("get", "/openapi/v2", false),
            ("get", "/metrics", false),
        ],
    );
    check(&policy, &anonymous, &[("list -/pods default -", false)]);
}

#[test]
fn authenticated_users_get_discovery_and_self_reviews() {
    let policy = bootstrap_policy(vec![], vec![], vec![], vec![]);
    let alice = user("alice", &[]);
    check_paths(
        &policy,
        &alice,
        &[
            ("get", "/healthz", true),
            ("get", "/api", true),
            ("get", "/api/v1", true),
            ("get", "/apis", true),
            ("get", "/apis/apps/v1", true),
            ("get", "/openapi/v2", true),
            ("get", "/openapi/v3/apis/apps/v1", true),
            ("post", "/api", false),
            ("get", "/metrics", false),
            ("get", "/logs", false),
        ],
    );
    check(
        &policy,
        &alice,
        &[
            (
                "create authorization.k8s.io/selfsubjectaccessreviews - -",
                true,
            ),
            (
                "create authorization.k8s.io/selfsubjectrulesreviews - -",
                true,
            ),
            ("create authentication.k8s.io/selfsubjectreviews - -", true),
            (
                "create authorization.k8s.io/subjectaccessreviews - -",
                false,
            ),
            ("list -/pods default -", false),
        ],
    );
}

#[test]
fn bootstrap_scheduler_role() {
    let policy = bootstrap_policy(vec![], vec![], vec![], vec![]);
    let scheduler = user("system:kube-scheduler", &[]);
    check(
        &policy,
        &scheduler,
        &[
            ("create -/pods/binding default web-0", true),
            ("create -/bindings default -", true),
            ("list -/pods - -", true),
            ("watch -/nodes - -", true),
            ("delete -/pods default web-0", true),
            ("update -/pods default web-0", false),
            ("patch -/pods/status default web-0", true),
            ("create coordination.k8s.io/leases kube-system -", true),
            (
                "get coordination.k8s.io/leases kube-system kube-scheduler",
                true,
            ),
            (
                "update coordination.k8s.io/leases kube-system kube-scheduler",
                true,
            ),
            // Skiff's `skiff:scheduler` adds every lease (shards hold
            // `<name>-shard-<i>`), but not pods.
            ("update coordination.k8s.io/leases kube-system other", true),
            ("list coordination.k8s.io/leases kube-system -", true),
            ("create events.k8s.io/events default -", true),
            ("patch -/events default e", true),
            ("list storage.k8s.io/csinodes - -", true),
            ("list storage.k8s.io/csistoragecapacities - -", true),
            ("list -/persistentvolumes - -", true),
            // The volume scheduler binding adds PV/PVC updates.
            ("update -/persistentvolumes - pv1", true),
            ("list storage.k8s.io/storageclasses - -", true),
            ("list -/secrets - -", false),
        ],
    );
    let controller_manager = user("system:kube-controller-manager", &[]);
    check(
        &policy,
        &controller_manager,
        &[
            ("list apps/deployments - -", true),
            ("watch anything.example.com/widgets - -", true),
            ("update -/serviceaccounts default s", true),
            ("create -/serviceaccounts/token default s", true),
            // The controllers' roles, bound to the manager's user too.
            ("create -/pods default -", true),
            ("delete -/pods default p", true),
            ("update -/pods default p", true),
            ("update apps/replicasets/status default web", true),
            ("update apps/deployments/status default web", true),
            // The garbage collector's role: every kind, but no create.
            ("delete apps/deployments default web", true),
            ("patch -/configmaps default c", true),
            ("create -/configmaps default -", false),
            ("create -/nodes - -", false),
            ("list -/secrets - -", true),
            ("get -/secrets default s", true),
            ("update apps/deployments default web", true),
        ],
    );
    let replica_set_controller = user(
        "system:serviceaccount:kube-system:replicaset-controller",
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
        ],
    );
    check(
        &policy,
        &replica_set_controller,
        &[
            ("watch apps/replicasets - -", true),
            ("update apps/replicasets default web", true),
            ("update apps/replicasets/status default web", true),
            ("patch -/pods default p", true),
            ("create events.k8s.io/events default -", true),
            ("get -/pods default p", false),
            ("list -/secrets - -", false),
        ],
    );
    let deployment_controller = user(
        "system:serviceaccount:kube-system:deployment-controller",
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
        ],
    );
    check(
        &policy,
        &deployment_controller,
        &[
            ("update apps/deployments default web", true),
            ("update apps/deployments/status default web", true),
            ("patch apps/deployments default web", false),
            ("create apps/replicasets default -", true),
            ("delete apps/replicasets default web-1", true),
            ("update -/pods default p", true),
            ("create -/pods default -", false),
        ],
    );
    let proxy = user("system:kube-proxy", &[]);
    check(
        &policy,
        &proxy,
        &[
            ("watch discovery.k8s.io/endpointslices - -", true),
            ("list -/services - -", true),
            ("get -/services default s", false),
        ],
    );
    check_paths(
        &policy,
        &user("prometheus", &["system:monitoring"]),
        &[("get", "/metrics", true), ("get", "/readyz/etcd", true)],
    );
}

#[test]
fn bootstrap_user_facing_roles_aggregate() {
    let policy = bootstrap_policy(
        vec![],
        vec![],
        vec![
            role_binding("dev", "ClusterRole", "view", &["User:viewer"]),
            role_binding("dev", "ClusterRole", "edit", &["User:editor"]),
            role_binding("dev", "ClusterRole", "admin", &["User:owner"]),
        ],
        vec![],
    );
    let cases: &[(&str, [bool; 3])] = &[
        // request, [view, edit, admin]
        ("get -/pods dev p", [true, true, true]),
        ("get -/pods/log dev p", [true, true, true]),
        ("create -/pods dev -", [false, true, true]),
        ("create -/pods/exec dev p", [false, true, true]),
        ("get -/secrets dev s", [false, true, true]),
        ("update apps/deployments/scale dev d", [false, true, true]),
        ("list batch/jobs dev -", [true, true, true]),
        (
            "create rbac.authorization.k8s.io/rolebindings dev -",
            [false, false, true],
        ),
        (
            "create authorization.k8s.io/localsubjectaccessreviews dev -",
            [false, false, true],
        ),
        ("get -/pods other p", [false, false, false]),
    ];
    for (index, name) in ["viewer", "editor", "owner"].into_iter().enumerate() {
        let table: Vec<(&str, bool)> = cases
            .iter()
            .map(|(request, expected)| (*request, expected[index]))
            .collect();
        check(&policy, &user(name, &[]), &table);
    }
}

#[test]
fn bootstrap_objects_are_marked_as_kubernetes_marks_them() {
    for role in bootstrap_cluster_roles() {
        let labels = role.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/bootstrapping"], "rbac-defaults");
        let annotations = role.metadata.annotations.unwrap();
        assert_eq!(
            annotations["rbac.authorization.kubernetes.io/autoupdate"],
            "true"
        );
    }
    let names: Vec<String> = bootstrap_cluster_roles()
        .into_iter()
        .map(|role| role.metadata.name.unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for binding in bootstrap_cluster_role_bindings() {
        assert!(
            names.contains(&binding.role_ref.name),
            "{}",
            binding.role_ref.name
        );
        assert_eq!(
            binding.metadata.labels.unwrap()["kubernetes.io/bootstrapping"],
            "rbac-defaults"
        );
    }
}

#[test]
fn denial_messages_match_kubernetes() {
    let policy = bootstrap_policy(vec![], vec![], vec![], vec![]);
    let alice = user("alice", &[]);
    check_denial(
        &policy,
        &request(&alice, "list -/pods default -"),
        r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default""#,
    );
    check_denial(
        &policy,
        &request(&alice, "get -/pods default web-0"),
        r#"pods "web-0" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "default""#,
    );
    check_denial(
        &policy,
        &request(&alice, "list -/nodes - -"),
        r#"nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope"#,
    );
    check_denial(
        &policy,
        &request(&user("bob", &[]), "create -/pods/binding ns p"),
        r#"pods "p" is forbidden: User "bob" cannot create resource "pods/binding" in API group "" in the namespace "ns""#,
    );
    check_denial(
        &policy,
        &request(&alice, "list apps/deployments default -"),
        r#"deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "default""#,
    );
    check_denial(
        &policy,
        &Attributes::non_resource(Arc::new(UserInfo::anonymous()), "get", "/api/v1/namespaces"),
        r#"forbidden: User "system:anonymous" cannot get path "/api/v1/namespaces""#,
    );
}

#[test]
fn missing_roles_are_named_in_the_reason() {
    let policy = RbacPolicy::new(
        vec![],
        vec![],
        vec![role_binding("default", "Role", "gone", &["User:alice"])],
        vec![cluster_role_binding("vanished", &["User:alice"])],
    );
    let alice = user("alice", &[]);
    check_denial(
        &policy,
        &request(&alice, "list -/nodes - -"),
        r#"nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "vanished" not found"#,
    );
    check_denial(
        &policy,
        &request(&alice, "list -/pods default -"),
        r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default": RBAC: [clusterrole.rbac.authorization.k8s.io "vanished" not found, role.rbac.authorization.k8s.io "gone" not found]"#,
    );
}

#[test]
fn rules_for_lists_what_applies() {
    let policy = bootstrap_policy(
        vec![role(
            "dev",
            "reader",
            vec![rule(&["get"], &[""], &["pods"], &[])],
        )],
        vec![],
        vec![role_binding("dev", "Role", "reader", &["User:alice"])],
        vec![],
    );
    let alice = UserInfo::authenticated("alice", vec![]);
    let in_dev = policy.rules_for(&alice, "dev");
    let cluster_wide = policy.rules_for(&alice, "");
    assert_eq!(
        in_dev.resource_rules.len(),
        cluster_wide.resource_rules.len() + 1
    );
    assert!(
        in_dev
            .resource_rules
            .iter()
            .any(|rule| rule.resources == Some(strings(&["pods"])))
    );
    assert!(cluster_wide.non_resource_rules.iter().any(|rule| {
        rule.non_resource_urls
            .as_ref()
            .unwrap()
            .contains(&"/api".to_string())
    }));
    assert!(in_dev.evaluation_errors.is_empty());
}
