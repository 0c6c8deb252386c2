//! Tests of the resource table: coverage of `ALL_KINDS`, Kubernetes' short
//! names, verbs and subresources, group order and name resolution.

use std::collections::BTreeMap;

use super::*;

fn row(group: &str, version: &str, plural: &str) -> &'static ResourceRow {
    find_resource(&[], group, version, plural)
        .unwrap_or_else(|| panic!("no row for {group}/{version}/{plural}"))
}

fn check_facts(
    group: &str,
    plural: &str,
    short_names: &[&str],
    categories: &[&str],
    verbs: &[&str],
) {
    let version = groups(&[])
        .into_iter()
        .find(|entry| entry.group == group)
        .and_then(|entry| entry.preferred_version().map(str::to_string))
        .expect("group is served");
    let found = row(group, &version, plural);
    assert_eq!(found.short_names, short_names, "short names of {plural}");
    assert_eq!(found.categories, categories, "categories of {plural}");
    assert_eq!(found.verbs, verbs, "verbs of {plural}");
}

fn check_subresource(plural: &str, subresource: &str, kind: (&str, &str, &str), verbs: &[&str]) {
    let parent = all_resources(&[])
        .find(|row| row.plural == plural && row.subresource(subresource).is_some())
        .unwrap_or_else(|| panic!("no {plural}/{subresource}"));
    let found = parent.subresource(subresource).expect("subresource");
    let (group, version, kind) = kind;
    assert_eq!(
        found.response_kind,
        ResponseKind::other_group(group, version, kind),
        "kind of {plural}/{subresource}"
    );
    assert_eq!(found.verbs, verbs, "verbs of {plural}/{subresource}");
}

fn check_resolve(name: &str, expected: Option<(&str, &str)>) {
    let actual = resolve_name(&[], name).map(|row| (row.group.as_str(), row.plural.as_str()));
    assert_eq!(actual, expected, "resolving {name}");
}

#[test]
fn every_kind_has_a_row() {
    for info in api::ALL_KINDS {
        let found = row(info.group, info.version, info.plural);
        assert_eq!(found.kind, info.kind);
        assert_eq!(found.namespaced, info.namespaced);
        assert_eq!(found.singular, info.kind.to_ascii_lowercase());
        assert_eq!(
            found.subresource("status").is_some(),
            info.has_status,
            "status of {}",
            info.plural
        );
    }
}

#[test]
fn short_names_name_one_resource() {
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for row in static_resources() {
        for short in &row.short_names {
            let owner = owners.entry(short).or_insert(&row.plural);
            assert_eq!(*owner, row.plural, "short name {short} is used twice");
        }
    }
    assert!(owners.len() >= 23, "{owners:?}");
}

#[test]
fn stored_resources_have_kubernetes_facts() {
    let stored = STORED_VERBS;
    check_facts("", "pods", &["po"], &["all"], stored);
    check_facts("", "nodes", &["no"], &[], stored);
    check_facts("", "namespaces", &["ns"], &[], NAMESPACE_VERBS);
    check_facts("", "services", &["svc"], &["all"], stored);
    check_facts("", "endpoints", &["ep"], &[], stored);
    check_facts("", "replicationcontrollers", &["rc"], &["all"], stored);
    check_facts("", "events", &["ev"], &[], stored);
    check_facts("", "bindings", &[], &[], &["create"]);
    check_facts("", "configmaps", &["cm"], &[], stored);
    check_facts("", "secrets", &[], &[], stored);
    check_facts("", "serviceaccounts", &["sa"], &[], stored);
    check_facts("", "resourcequotas", &["quota"], &[], stored);
    check_facts("", "limitranges", &["limits"], &[], stored);
    check_facts("", "persistentvolumes", &["pv"], &[], stored);
    check_facts("", "persistentvolumeclaims", &["pvc"], &[], stored);
    check_facts("apps", "deployments", &["deploy"], &["all"], stored);
    check_facts("apps", "replicasets", &["rs"], &["all"], stored);
    check_facts("apps", "statefulsets", &["sts"], &["all"], stored);
    check_facts("apps", "daemonsets", &["ds"], &["all"], stored);
    check_facts("batch", "jobs", &[], &["all"], stored);
    check_facts("batch", "cronjobs", &["cj"], &["all"], stored);
    check_facts(
        "autoscaling",
        "horizontalpodautoscalers",
        &["hpa"],
        &["all"],
        stored,
    );
    check_facts("policy", "poddisruptionbudgets", &["pdb"], &[], stored);
    check_facts("scheduling.k8s.io", "priorityclasses", &["pc"], &[], stored);
    check_facts("networking.k8s.io", "ingresses", &["ing"], &[], stored);
    check_facts("coordination.k8s.io", "leases", &[], &[], stored);
    check_facts("events.k8s.io", "events", &["ev"], &[], stored);
    check_facts(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
        &["api-extensions"],
        stored,
    );
}

#[test]
fn virtual_resources_have_their_verbs() {
    for plural in [
        "selfsubjectaccessreviews",
        "subjectaccessreviews",
        "localsubjectaccessreviews",
        "selfsubjectrulesreviews",
    ] {
        check_facts("authorization.k8s.io", plural, &[], &[], &["create"]);
    }
    check_facts(
        "authentication.k8s.io",
        "tokenreviews",
        &[],
        &[],
        &["create"],
    );
    check_facts(
        "authentication.k8s.io",
        "selfsubjectreviews",
        &[],
        &[],
        &["create"],
    );
    assert!(row("authorization.k8s.io", "v1", "localsubjectaccessreviews").namespaced);
    assert!(!row("authorization.k8s.io", "v1", "subjectaccessreviews").namespaced);
    let node_metrics = row("metrics.k8s.io", "v1beta1", "nodes");
    assert_eq!(
        (node_metrics.kind.as_str(), node_metrics.namespaced),
        ("NodeMetrics", false)
    );
    assert_eq!(node_metrics.verbs, ["get", "list"]);
    let pod_metrics = row("metrics.k8s.io", "v1beta1", "pods");
    assert_eq!(
        (pod_metrics.kind.as_str(), pod_metrics.namespaced),
        ("PodMetrics", true)
    );
}

#[test]
fn subresources_carry_their_kinds_and_verbs() {
    let rw = &["get", "patch", "update"][..];
    check_subresource("pods", "status", ("", "", "Pod"), rw);
    check_subresource("pods", "binding", ("", "", "Binding"), &["create"]);
    check_subresource(
        "pods",
        "eviction",
        ("policy", "v1", "Eviction"),
        &["create"],
    );
    check_subresource("pods", "log", ("", "", "Pod"), &["get"]);
    check_subresource(
        "pods",
        "exec",
        ("", "", "PodExecOptions"),
        &["create", "get"],
    );
    check_subresource(
        "pods",
        "attach",
        ("", "", "PodAttachOptions"),
        &["create", "get"],
    );
    check_subresource(
        "pods",
        "portforward",
        ("", "", "PodPortForwardOptions"),
        &["create", "get"],
    );
    check_subresource("pods", "ephemeralcontainers", ("", "", "Pod"), rw);
    for plural in [
        "deployments",
        "replicasets",
        "statefulsets",
        "replicationcontrollers",
    ] {
        check_subresource(plural, "scale", ("autoscaling", "v1", "Scale"), rw);
    }
    let proxy = &["create", "delete", "get", "patch", "update"][..];
    check_subresource("nodes", "proxy", ("", "", "NodeProxyOptions"), proxy);
    check_subresource("services", "proxy", ("", "", "ServiceProxyOptions"), proxy);
    check_subresource("namespaces", "finalize", ("", "", "Namespace"), &["update"]);
    check_subresource(
        "serviceaccounts",
        "token",
        ("authentication.k8s.io", "v1", "TokenRequest"),
        &["create"],
    );
    check_subresource(
        "customresourcedefinitions",
        "status",
        ("", "", "CustomResourceDefinition"),
        rw,
    );
}

#[test]
fn groups_come_in_discovery_order() {
    let order: Vec<(String, Vec<String>)> = groups(&[])
        .into_iter()
        .map(|entry| (entry.group, entry.versions))
        .collect();
    let expected = [
        ("", "v1"),
        ("apps", "v1"),
        ("events.k8s.io", "v1"),
        ("authentication.k8s.io", "v1"),
        ("authorization.k8s.io", "v1"),
        ("autoscaling", "v2"),
        ("batch", "v1"),
        ("networking.k8s.io", "v1"),
        ("policy", "v1"),
        ("rbac.authorization.k8s.io", "v1"),
        ("apiextensions.k8s.io", "v1"),
        ("scheduling.k8s.io", "v1"),
        ("coordination.k8s.io", "v1"),
        ("discovery.k8s.io", "v1"),
        ("metrics.k8s.io", "v1beta1"),
    ];
    let expected: Vec<(String, Vec<String>)> = expected
        .iter()
        .map(|(group, version)| (group.to_string(), vec![version.to_string()]))
        .collect();
    assert_eq!(order, expected);
}

#[test]
fn extra_groups_sort_before_metrics_with_versions_by_priority() {
    let extras = [
        ResourceRow::stored("stable.example.com", "v1beta1", "crontabs", "CronTab", true),
        ResourceRow::stored("stable.example.com", "v1", "crontabs", "CronTab", true),
        ResourceRow::stored(
            "stable.example.com",
            "v2alpha1",
            "crontabs",
            "CronTab",
            true,
        ),
        ResourceRow::stored("a.example.com", "v1", "widgets", "Widget", false),
    ];
    let order = groups(&extras);
    let names: Vec<&str> = order.iter().map(|entry| entry.group.as_str()).collect();
    let tail = &names[names.len() - 3..];
    assert_eq!(
        tail,
        ["a.example.com", "stable.example.com", "metrics.k8s.io"]
    );
    let crontabs = order
        .iter()
        .find(|entry| entry.group == "stable.example.com")
        .expect("group");
    assert_eq!(crontabs.versions, ["v1", "v1beta1", "v2alpha1"]);
    assert!(find_resource(&extras, "stable.example.com", "v1", "crontabs").is_some());
    assert_eq!(
        resources_in_group_version(&extras, "stable.example.com", "v1beta1").len(),
        1
    );
}

#[test]
fn names_resolve_like_kubectl() {
    check_resolve("po", Some(("", "pods")));
    check_resolve("pod", Some(("", "pods")));
    check_resolve("Pod", Some(("", "pods")));
    check_resolve("pods", Some(("", "pods")));
    check_resolve("deploy", Some(("apps", "deployments")));
    check_resolve("Deployment", Some(("apps", "deployments")));
    check_resolve("ev", Some(("", "events")));
    check_resolve("events", Some(("", "events")));
    check_resolve(
        "crd",
        Some(("apiextensions.k8s.io", "customresourcedefinitions")),
    );
    check_resolve("nodemetrics", Some(("metrics.k8s.io", "nodes")));
    check_resolve("no", Some(("", "nodes")));
    check_resolve("quota", Some(("", "resourcequotas")));
    check_resolve("nosuchthing", None);
}
