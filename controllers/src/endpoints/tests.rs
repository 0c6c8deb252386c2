use super::*;
use serde_json::{Value, json};

fn service(spec: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid", "labels": {"team": "a"}},
        "spec": spec
    }))
    .expect("a service")
}

/// A pod of app=web at `ip` (none when empty), ready or not.
fn pod(name: &str, ip: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]
        }
    }))
    .expect("a pod")
}

fn web() -> Service {
    service(json!({
        "selector": {"app": "web"},
        "ports": [
            {"name": "http", "port": 80, "targetPort": "http"},
            {"name": "metrics", "port": 9090}
        ]
    }))
}

fn ips(addresses: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
    addresses
        .iter()
        .flatten()
        .map(|address| address.ip.as_str())
        .collect()
}

#[test]
fn ready_and_not_ready_pods_with_their_named_ports() {
    let pods = [
        pod("b", "10.0.0.2", true),
        pod("a", "10.0.0.1", true),
        pod("c", "10.0.0.3", false),
        pod("no-ip", "", true),
    ];
    let (subsets, truncated) = subsets(&web(), &pods);
    assert!(!truncated);
    assert_eq!(subsets.len(), 1);
    let subset = &subsets[0];
    assert_eq!(ips(&subset.addresses), ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(ips(&subset.not_ready_addresses), ["10.0.0.3"]);
    let ports: Vec<(Option<&str>, i32)> = subset
        .ports
        .iter()
        .flatten()
        .map(|port| (port.name.as_deref(), port.port))
        .collect();
    // `http` resolved to the container's 8080; `metrics` targets 9090.
    assert_eq!(ports, [(Some("http"), 8080), (Some("metrics"), 9090)]);
    let address = &subset.addresses.as_ref().unwrap()[0];
    assert_eq!(address.node_name.as_deref(), Some("n1"));
    assert_eq!(
        address.target_ref.as_ref().and_then(|r| r.name.as_deref()),
        Some("a")
    );
}

#[test]
fn pods_serving_different_ports_are_in_different_subsets() {
    let mut other = pod("x", "10.0.0.9", true);
    if let Some(spec) = other.spec.as_mut() {
        spec.containers[0].ports = None;
    }
    let (subsets, _) = subsets(&web(), &[pod("a", "10.0.0.1", true), other]);
    assert_eq!(subsets.len(), 2, "{subsets:?}");
}

#[test]
fn finished_terminating_and_unselected_pods_are_left_out() {
    let mut done = pod("done", "10.0.0.4", false);
    done.status.as_mut().unwrap().phase = Some("Succeeded".into());
    let mut going = pod("going", "10.0.0.5", true);
    going.metadata.deletion_timestamp =
        Some(api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            api::k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
    let mut stranger = pod("stranger", "10.0.0.6", true);
    stranger.metadata.labels = None;
    let (none, _) = subsets(&web(), &[done, going.clone(), stranger]);
    assert!(none.is_empty(), "{none:?}");
    // publishNotReadyAddresses keeps terminating and not-ready pods, ready.
    let mut publishing = web();
    publishing
        .spec
        .as_mut()
        .unwrap()
        .publish_not_ready_addresses = Some(true);
    let (subsets, _) = subsets(&publishing, &[going, pod("c", "10.0.0.3", false)]);
    assert_eq!(ips(&subsets[0].addresses), ["10.0.0.3", "10.0.0.5"]);
    assert!(subsets[0].not_ready_addresses.is_none());
}

#[test]
fn headless_services_name_their_pods() {
    let headless = service(json!({"selector": {"app": "web"}, "clusterIP": "None"}));
    let mut named = pod("web-0", "10.0.0.1", true);
    if let Some(spec) = named.spec.as_mut() {
        spec.hostname = Some("web-0".into());
        spec.subdomain = Some("web".into());
    }
    let (subsets, _) = subsets(&headless, &[named]);
    let address = &subsets[0].addresses.as_ref().unwrap()[0];
    assert_eq!(address.hostname.as_deref(), Some("web-0"));
    assert!(subsets[0].ports.is_none());
    // A Service with a cluster IP and no ports has no endpoints.
    let portless = service(json!({"selector": {"app": "web"}}));
    assert!(subsets_of(&portless).is_empty());
}

fn subsets_of(service: &Service) -> Vec<EndpointSubset> {
    subsets(service, &[pod("a", "10.0.0.1", true)]).0
}

#[test]
fn endpoints_are_written_only_when_they_change_and_capped() {
    let pods = [pod("a", "10.0.0.1", true)];
    let first = desired(&web(), None, &pods).expect("new endpoints");
    assert_eq!(first.metadata.name.as_deref(), Some("web"));
    let labels = first.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get(SKIP_MIRROR_LABEL).map(String::as_str),
        Some("true")
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("a"));
    assert_eq!(desired(&web(), Some(&first), &pods), None);
    // A Service without a selector selects nothing here.
    assert!(service_selector(&service(json!({"ports": [{"port": 80}]}))).is_none());

    let many: Vec<Pod> = (0..MAX_ADDRESSES + 5)
        .map(|i| {
            pod(
                &format!("p{i}"),
                &format!("10.1.{}.{}", i / 250, i % 250),
                true,
            )
        })
        .collect();
    let capped = desired(&web(), None, &many).expect("endpoints");
    let count: usize = capped
        .subsets
        .iter()
        .flatten()
        .map(|subset| ips(&subset.addresses).len())
        .sum();
    assert_eq!(count, MAX_ADDRESSES);
    assert_eq!(
        capped
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(OVER_CAPACITY_ANNOTATION))
            .map(String::as_str),
        Some("truncated")
    );
}
