//! Endpoints and EndpointSlices of a Service on a whole cluster of
//! processes, driven with real `kubectl`: they list the ready pods the
//! Service selects with their named ports resolved, follow scaling, a pod
//! that finishes and a pod deleted, and a Service deleted takes them along.

use std::time::Duration;

use serde_json::Value;
use testkit::block_until;

use crate::deployments::{json, start_components};
use crate::kubectl::{Cluster, start};

const DEADLINE: Duration = Duration::from_secs(60);

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.0
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
";

/// A pod the Service selects that runs one second and finishes.
const SHORT: &str = "apiVersion: v1
kind: Pod
metadata:
  name: short
  namespace: shop
  labels: {app: web}
  annotations: {skiff.dev/hollow-run-seconds: '1'}
spec:
  restartPolicy: Never
  containers:
  - name: web
    image: nginx:1.0
    ports: [{name: http, containerPort: 8080}]
";

/// The IPs of the running `app=web` pods that are not being deleted.
fn pod_ips(cluster: &Cluster) -> Vec<String> {
    let pods = json(cluster, &["get", "pods", "-n", "shop", "-l", "app=web"]);
    let mut ips: Vec<String> = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|pod| {
            pod["metadata"]["deletionTimestamp"].is_null() && pod["status"]["phase"] == "Running"
        })
        .filter_map(|pod| pod["status"]["podIP"].as_str().map(str::to_string))
        .collect();
    ips.sort();
    ips
}

/// The Endpoints' ready addresses and their ports.
fn endpoints(cluster: &Cluster) -> (Vec<String>, Vec<(String, i64)>) {
    let (ok, stdout, _) =
        cluster.try_kubectl(&["get", "endpoints", "web", "-n", "shop", "-o", "json"]);
    if !ok {
        return (Vec::new(), Vec::new());
    }
    let endpoints: Value = serde_json::from_str(&stdout).unwrap_or_default();
    let mut ips = Vec::new();
    let mut ports = Vec::new();
    for subset in endpoints["subsets"].as_array().into_iter().flatten() {
        for address in subset["addresses"].as_array().into_iter().flatten() {
            ips.extend(address["ip"].as_str().map(str::to_string));
        }
        for port in subset["ports"].as_array().into_iter().flatten() {
            ports.push((
                port["name"].as_str().unwrap_or_default().to_string(),
                port["port"].as_i64().unwrap_or(0),
            ));
        }
    }
    ips.sort();
    ports.dedup();
    (ips, ports)
}

/// The ready endpoints' addresses over the Service's slices.
fn slice_ips(cluster: &Cluster) -> Vec<String> {
    let slices = json(
        cluster,
        &[
            "get",
            "endpointslices",
            "-n",
            "shop",
            "-l",
            "kubernetes.io/service-name=web",
        ],
    );
    let mut ips: Vec<String> = slices["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|slice| slice["endpoints"].as_array().cloned().unwrap_or_default())
        .filter(|endpoint| endpoint["conditions"]["ready"] == true)
        .filter_map(|endpoint| endpoint["addresses"][0].as_str().map(str::to_string))
        .collect();
    ips.sort();
    ips
}

/// Waits until the Endpoints and the slices both list exactly the
/// running pods, `count` of them.
fn follow(cluster: &Cluster, count: usize) {
    block_until(&format!("endpoints of {count} pods"), DEADLINE, || {
        let ips = pod_ips(cluster);
        ips.len() == count && endpoints(cluster).0 == ips && slice_ips(cluster) == ips
    });
}

#[test]
fn e2e_endpoints_follow_the_pods_a_service_selects() {
    let cluster = start();
    let _components = start_components(&cluster);
    cluster.kubectl(&["create", "namespace", "shop"]);
    cluster.kubectl_stdin(&["apply", "-f", "-"], WEB);
    follow(&cluster, 3);
    // The named target port is the container's.
    assert_eq!(endpoints(&cluster).1, [("http".to_string(), 8080)]);
    let slices = json(&cluster, &["get", "endpointslices", "-n", "shop"]);
    let slice = &slices["items"][0];
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io",
        "{slice}"
    );
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["ports"][0]["port"], 8080);
    assert!(slice["endpoints"][0]["nodeName"].is_string(), "{slice}");

    cluster.kubectl(&["scale", "deployment", "web", "-n", "shop", "--replicas=5"]);
    follow(&cluster, 5);
    cluster.kubectl(&["scale", "deployment", "web", "-n", "shop", "--replicas=2"]);
    follow(&cluster, 2);

    // A pod that finishes leaves the endpoints.
    cluster.kubectl_stdin(&["apply", "-f", "-"], SHORT);
    block_until("the short pod finished", DEADLINE, || {
        cluster.kubectl(&[
            "get",
            "pod",
            "short",
            "-n",
            "shop",
            "-o",
            "jsonpath={.status.phase}",
        ]) == "Succeeded"
    });
    follow(&cluster, 2);

    // The Service goes, and its Endpoints and slices with it.
    cluster.kubectl(&["delete", "service", "web", "-n", "shop"]);
    block_until("endpoints and slices gone", DEADLINE, || {
        let slices = json(&cluster, &["get", "endpointslices", "-n", "shop"]);
        !cluster
            .try_kubectl(&["get", "endpoints", "web", "-n", "shop"])
            .0
            && slices["items"].as_array().is_some_and(Vec::is_empty)
    });
}
