//! Tests of the discovery documents: round trips through the k8s-openapi
//! types and the facts kubectl relies on.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroupList, APIResourceList, APIVersions,
};
use serde_json::{Value, json};

use super::*;

fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    document: &T,
) -> Value {
    let text = serde_json::to_string(document).expect("serializes");
    let back: T = serde_json::from_str(&text).expect("deserializes");
    assert_eq!(&back, document);
    serde_json::from_str(&text).expect("is JSON")
}

fn resource_list(group: &str, version: &str) -> APIResourceList {
    api_resource_list(&[], group, version).expect("group version is served")
}

fn entry<'a>(list: &'a APIResourceList, name: &str) -> &'a APIResource {
    list.resources
        .iter()
        .find(|resource| resource.name == name)
        .unwrap_or_else(|| panic!("no {name} in {}", list.group_version))
}

fn check_entry(list: &APIResourceList, name: &str, expected: Value) {
    let actual = serde_json::to_value(entry(list, name)).expect("serializes");
    assert_eq!(actual, expected, "{name}");
}

fn aggregated_group(document: &APIGroupDiscoveryList, group: &str) -> Value {
    let value = serde_json::to_value(document).expect("serializes");
    value["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|item| item["metadata"]["name"].as_str().unwrap_or_default() == group)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no group {group:?}"))
}

fn aggregated_resource(group: &Value, resource: &str) -> Value {
    group["versions"][0]["resources"]
        .as_array()
        .and_then(|resources| resources.iter().find(|entry| entry["resource"] == resource))
        .cloned()
        .unwrap_or_else(|| panic!("no resource {resource}"))
}

#[test]
fn api_names_the_core_version_and_address() {
    let document = api_versions("10.0.0.1:6443");
    let value = round_trip::<APIVersions>(&document);
    assert_eq!(value["kind"], "APIVersions");
    assert_eq!(value["versions"], json!(["v1"]));
    assert_eq!(
        value["serverAddressByClientCIDRs"],
        json!([{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}])
    );
}

#[test]
fn apis_lists_groups_with_preferred_versions() {
    let document = api_group_list(&[]);
    let value = round_trip::<APIGroupList>(&document);
    assert_eq!(value["kind"], "APIGroupList");
    let groups = value["groups"].as_array().expect("groups");
    assert_eq!(groups[0]["name"], "apps");
    assert_eq!(
        groups[0]["preferredVersion"],
        json!({"groupVersion": "apps/v1", "version": "v1"})
    );
    let autoscaling = groups
        .iter()
        .find(|group| group["name"] == "autoscaling")
        .expect("autoscaling");
    assert_eq!(
        autoscaling["versions"],
        json!([{"groupVersion": "autoscaling/v2", "version": "v2"}])
    );
    assert!(groups.iter().all(|group| group["name"] != ""));
    assert_eq!(
        groups.last().map(|group| group["name"].clone()),
        Some(json!("metrics.k8s.io"))
    );
    assert!(api_group(&[], "apps").is_some());
    assert!(api_group(&[], "").is_none());
    assert!(api_group(&[], "nope.example.com").is_none());
}

#[test]
fn core_resource_list_has_what_kubectl_needs() {
    let list = resource_list("", "v1");
    round_trip::<APIResourceList>(&list);
    assert_eq!(list.group_version, "v1");
    check_entry(
        &list,
        "pods",
        json!({
            "name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            "shortNames": ["po"], "categories": ["all"],
        }),
    );
    check_entry(
        &list,
        "pods/status",
        json!({"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "patch", "update"]}),
    );
    check_entry(
        &list,
        "pods/eviction",
        json!({
            "name": "pods/eviction", "singularName": "", "namespaced": true,
            "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"],
        }),
    );
    check_entry(
        &list,
        "serviceaccounts/token",
        json!({
            "name": "serviceaccounts/token", "singularName": "", "namespaced": true,
            "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest", "verbs": ["create"],
        }),
    );
    let names: Vec<&str> = list
        .resources
        .iter()
        .map(|resource| resource.name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(names.contains(&"bindings") && names.contains(&"namespaces/finalize"));
}

#[test]
fn apps_scale_is_an_autoscaling_scale() {
    let list = resource_list("apps", "v1");
    let scale = entry(&list, "deployments/scale");
    assert_eq!(
        (
            scale.group.as_deref(),
            scale.version.as_deref(),
            scale.kind.as_str()
        ),
        (Some("autoscaling"), Some("v1"), "Scale")
    );
    assert_eq!(
        entry(&list, "deployments").short_names,
        Some(vec!["deploy".to_string()])
    );
    assert!(api_resource_list(&[], "apps", "v1beta1").is_none());
    assert!(api_resource_list(&[], "metrics.k8s.io", "v1beta1").is_some());
}

#[test]
fn aggregated_core_holds_only_the_core_group() {
    let document = aggregated_core(&[]);
    let value = round_trip(&document);
    assert_eq!(value["kind"], "APIGroupDiscoveryList");
    assert_eq!(value["apiVersion"], "apidiscovery.k8s.io/v2");
    assert_eq!(value["items"].as_array().map(Vec::len), Some(1));
    let core = aggregated_group(&document, "");
    assert_eq!(core["metadata"], json!({}));
    assert_eq!(core["versions"][0]["version"], "v1");
    assert_eq!(core["versions"][0]["freshness"], "Current");
    let pods = aggregated_resource(&core, "pods");
    assert_eq!(
        pods["responseKind"],
        json!({"group": "", "version": "", "kind": "Pod"})
    );
    assert_eq!(pods["scope"], "Namespaced");
    assert_eq!(pods["singularResource"], "pod");
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    let status = pods["subresources"]
        .as_array()
        .and_then(|subresources| {
            subresources
                .iter()
                .find(|entry| entry["subresource"] == "status")
        })
        .cloned();
    assert_eq!(
        status,
        Some(
            json!({"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Pod"}, "verbs": ["get", "patch", "update"]})
        )
    );
    let nodes = aggregated_resource(&core, "nodes");
    assert_eq!(nodes["scope"], "Cluster");
}

#[test]
fn aggregated_groups_hold_every_named_group() {
    let document = aggregated_groups(&[]);
    round_trip(&document);
    let names: Vec<String> = document
        .items
        .iter()
        .map(|item| item.metadata.name.clone())
        .collect();
    let expected: Vec<String> = resources::groups(&[])
        .into_iter()
        .filter(|entry| !entry.group.is_empty())
        .map(|entry| entry.group)
        .collect();
    assert_eq!(names, expected);
    let apps = aggregated_group(&document, "apps");
    let deployments = aggregated_resource(&apps, "deployments");
    let scale = deployments["subresources"]
        .as_array()
        .and_then(|subresources| {
            subresources
                .iter()
                .find(|entry| entry["subresource"] == "scale")
        })
        .cloned();
    assert_eq!(
        scale.map(|entry| entry["responseKind"].clone()),
        Some(json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}))
    );
}

#[test]
fn extra_resources_join_discovery() {
    let mut crontabs = ResourceRow::stored("stable.example.com", "v1", "crontabs", "CronTab", true);
    crontabs.short_names = vec!["ct".to_string()];
    let extras = [crontabs];
    let list = api_resource_list(&extras, "stable.example.com", "v1").expect("served");
    assert_eq!(
        entry(&list, "crontabs").short_names,
        Some(vec!["ct".to_string()])
    );
    let groups = api_group_list(&extras);
    assert!(
        groups
            .groups
            .iter()
            .any(|group| group.name == "stable.example.com")
    );
    let aggregated = aggregated_groups(&extras);
    let group = aggregated_group(&aggregated, "stable.example.com");
    assert_eq!(
        aggregated_resource(&group, "crontabs")["singularResource"],
        "crontab"
    );
    assert_eq!(aggregated_core(&extras).items.len(), 1);
}

#[test]
fn version_reports_kubernetes_1_34() {
    let value = round_trip(&version_info());
    assert_eq!(value["major"], "1");
    assert_eq!(value["minor"], "34");
    assert_eq!(value["gitVersion"], "v1.34.0-skiff");
    assert!(
        value["platform"]
            .as_str()
            .is_some_and(|platform| platform.starts_with("linux/"))
    );
}
