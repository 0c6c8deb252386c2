//! A node lost and found on a whole cluster of processes (apiserver,
//! controllers, scheduler, two hollow kubelets): when one kubelet stops,
//! its node goes Unknown and gets the `unreachable` taints, its pods stop
//! being ready, the Deployment's pods are evicted once their
//! `tolerationSeconds` pass and come back on the other nodes, a pod that
//! tolerates the taint forever stays (not ready, and so in its Service's
//! not-ready addresses); when the kubelet returns, so does the node; when
//! the node is deleted, the pod garbage collector takes its pods.

use std::time::Duration;

use serde_json::Value;
use testkit::block_until;

use crate::deployments::{controllers, hollow_kubelet, json, rollout_done, scheduler};
use crate::kubectl::{Cluster, start};
use crate::process::Process;

const DEADLINE: Duration = Duration::from_secs(60);
/// The Deployment's pods tolerate an unreachable node this long.
const TOLERATION_SECONDS: i64 = 3;

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 6
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
      containers:
      - {name: web, image: nginx:1.0}
---
apiVersion: v1
kind: Pod
metadata:
  name: keeper
  namespace: apps
  labels: {app: keeper}
spec:
  nodeName: doomed-0
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
  containers:
  - {name: keeper, image: keeper:1.0}
---
apiVersion: v1
kind: Service
metadata: {name: keeper, namespace: apps}
spec:
  selector: {app: keeper}
  ports: [{port: 80}]
";

/// A hollow kubelet that renews its leases and posts status often, so a
/// grace period of two seconds tells a live node from a lost one.
fn kubelet(cluster: &Cluster, nodes: u32, prefix: &str) -> Process {
    hollow_kubelet(
        cluster,
        nodes,
        prefix,
        &[
            "--lease-renew-interval",
            "200ms",
            "--node-status-report-frequency",
            "500ms",
        ],
    )
}

fn node(cluster: &Cluster, name: &str) -> Value {
    json(cluster, &["get", "node", name])
}

fn ready(node: &Value) -> String {
    node["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|condition| condition["type"] == "Ready")
        .and_then(|condition| condition["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn taint<'a>(node: &'a Value, key: &str, effect: &str) -> Option<&'a Value> {
    node["spec"]["taints"]
        .as_array()?
        .iter()
        .find(|taint| taint["key"] == key && taint["effect"] == effect)
}

fn pods(cluster: &Cluster) -> Vec<Value> {
    json(cluster, &["get", "pods", "-n", "apps"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn name(pod: &Value) -> &str {
    pod["metadata"]["name"].as_str().unwrap_or_default()
}

fn on(pod: &Value) -> &str {
    pod["spec"]["nodeName"].as_str().unwrap_or_default()
}

fn deleting(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

fn seconds(time: &Value) -> i64 {
    let text = time.as_str().unwrap_or_default();
    text.parse::<api::k8s_openapi::jiff::Timestamp>()
        .map(|time| time.as_second())
        .unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

#[test]
fn e2e_node_lifecycle_evicts_from_a_lost_node_after_toleration_seconds() {
    let cluster = start();
    let _controllers = controllers(
        &cluster,
        &[
            "--node-monitor-period",
            "100ms",
            "--node-monitor-grace-period",
            "2s",
            "--node-startup-grace-period",
            "2s",
            "--node-eviction-rate",
            "100",
            "--pod-gc-period",
            "200ms",
            "--pod-gc-quarantine",
            "1s",
        ],
    );
    let _scheduler = scheduler(&cluster);
    let _stable = kubelet(&cluster, 2, "stable");
    let doomed = kubelet(&cluster, 1, "doomed");
    for name in ["stable-0", "stable-1", "doomed-0"] {
        block_until(&format!("{name} ready"), DEADLINE, || {
            cluster.try_kubectl(&["get", "node", name]).0 && ready(&node(&cluster, name)) == "True"
        });
    }
    cluster.kubectl(&["create", "namespace", "apps"]);
    cluster.kubectl_stdin(&["apply", "-f", "-"], WEB);
    rollout_done(&cluster, "deployment/web", "apps");
    let doomed_pods: Vec<String> = pods(&cluster)
        .iter()
        .filter(|pod| on(pod) == "doomed-0" && name(pod) != "keeper")
        .map(|pod| name(pod).to_string())
        .collect();
    assert!(
        !doomed_pods.is_empty(),
        "the scheduler spreads six pods over three nodes"
    );

    // The kubelet stops: the node goes Unknown and is tainted.
    doomed.kill();
    block_until("doomed-0 unreachable", DEADLINE, || {
        let node = node(&cluster, "doomed-0");
        ready(&node) == "Unknown"
            && taint(&node, "node.kubernetes.io/unreachable", "NoExecute").is_some()
    });
    let lost = node(&cluster, "doomed-0");
    assert!(
        taint(&lost, "node.kubernetes.io/unreachable", "NoSchedule").is_some(),
        "{lost}"
    );
    let tainted_at =
        seconds(&taint(&lost, "node.kubernetes.io/unreachable", "NoExecute").unwrap()["timeAdded"]);

    // Its pods are evicted once they have tolerated the taint for their
    // tolerationSeconds; the one tolerating it forever stays.
    block_until("the doomed node's pods evicted", DEADLINE, || {
        let pods = pods(&cluster);
        doomed_pods.iter().all(|doomed| {
            pods.iter()
                .find(|pod| name(pod) == doomed)
                .is_none_or(deleting)
        })
    });
    for pod in pods(&cluster)
        .iter()
        .filter(|pod| doomed_pods.iter().any(|d| d == name(pod)))
    {
        let grace = pod["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(0);
        let evicted_at = seconds(&pod["metadata"]["deletionTimestamp"]) - grace;
        // Timestamps are whole seconds.
        assert!(
            evicted_at - tainted_at >= TOLERATION_SECONDS - 1,
            "{} evicted {}s after the taint",
            name(pod),
            evicted_at - tainted_at
        );
        let conditions = pod["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            conditions.iter().any(|c| c["type"] == "DisruptionTarget"
                && c["reason"] == "DeletionByTaintManager"),
            "{pod}"
        );
    }
    let keeper = json(&cluster, &["get", "pod", "keeper", "-n", "apps"]);
    assert!(!deleting(&keeper), "{keeper}");
    let keeper_ready = keeper["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .map(|c| c["status"].clone());
    assert_eq!(keeper_ready, Some(Value::from("False")), "{keeper}");
    // Its Service lists it as not ready.
    block_until("the keeper's endpoint not ready", DEADLINE, || {
        let endpoints = json(&cluster, &["get", "endpoints", "keeper", "-n", "apps"]);
        endpoints["subsets"][0]["notReadyAddresses"][0]["ip"] == keeper["status"]["podIP"]
            && endpoints["subsets"][0]["addresses"].is_null()
    });

    // The ReplicaSet replaces them on the nodes that are left.
    block_until("six web pods available elsewhere", DEADLINE, || {
        let deployment = json(&cluster, &["get", "deployment", "web", "-n", "apps"]);
        let live: Vec<Value> = pods(&cluster)
            .into_iter()
            .filter(|pod| name(pod) != "keeper" && !deleting(pod))
            .collect();
        deployment["status"]["availableReplicas"] == 6
            && live.len() == 6
            && live.iter().all(|pod| on(pod).starts_with("stable-"))
    });

    // The kubelet comes back: the node is Ready and untainted again.
    let back = kubelet(&cluster, 1, "doomed");
    block_until("doomed-0 back", DEADLINE, || {
        let node = node(&cluster, "doomed-0");
        ready(&node) == "True"
            && taint(&node, "node.kubernetes.io/unreachable", "NoExecute").is_none()
            && taint(&node, "node.kubernetes.io/unreachable", "NoSchedule").is_none()
    });

    // The node is removed for good: the pod bound to it is collected, and
    // so is the node's Lease, which the node owns.
    back.kill();
    cluster.kubectl(&["delete", "node", "doomed-0"]);
    block_until("the keeper and the lease collected", DEADLINE, || {
        !cluster
            .try_kubectl(&["get", "pod", "keeper", "-n", "apps"])
            .0
            && !cluster
                .try_kubectl(&["get", "lease", "doomed-0", "-n", "kube-node-lease"])
                .0
    });
}
