//! A DaemonSet on a whole cluster, driven with real `kubectl`: one pod on
//! every node, placed by the scheduler through node affinity, `rollout
//! status`, a new image rolled out node by node, and a node tainted
//! NoExecute losing its pod.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::deployments::{json, rollout_done, start_components};
use crate::kubectl::{Cluster, start};

const AGENT: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: infra
spec:
  selector:
    matchLabels: {app: agent}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: agent:1.0
";

fn rolled_out(cluster: &Cluster) {
    rollout_done(cluster, "daemonset/agent", "infra");
}

/// Running agent pods (not being deleted): node → image.
fn agents(cluster: &Cluster) -> Vec<(String, String)> {
    let pods = json(cluster, &["get", "pods", "-n", "infra", "-l", "app=agent"]);
    let mut agents: Vec<(String, String)> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null())
        .map(|pod: &Value| {
            (
                pod["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                pod["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    agents.sort();
    agents
}

fn on_every_node(image: &str) -> Vec<(String, String)> {
    (0..3)
        .map(|index| (format!("deploy-node-{index}"), image.to_string()))
        .collect()
}

#[test]
fn e2e_daemon_sets_run_one_pod_per_node_and_roll_out_with_kubectl() {
    let cluster = start();
    let _components = start_components(&cluster);
    cluster.kubectl(&["create", "namespace", "infra"]);
    cluster.kubectl_stdin(&["apply", "-f", "-"], AGENT);
    rolled_out(&cluster);
    assert_eq!(agents(&cluster), on_every_node("agent:1.0"));
    let ds = json(&cluster, &["get", "daemonset", "agent", "-n", "infra"]);
    assert_eq!(ds["status"]["desiredNumberScheduled"], 3, "{ds}");
    assert_eq!(ds["status"]["numberAvailable"], 3, "{ds}");

    cluster.kubectl(&[
        "set",
        "image",
        "daemonset/agent",
        "-n",
        "infra",
        "agent=agent:2.0",
    ]);
    rolled_out(&cluster);
    assert_eq!(agents(&cluster), on_every_node("agent:2.0"));

    // NoExecute: the daemon pod does not tolerate it and leaves the node.
    cluster.kubectl(&["taint", "nodes", "deploy-node-1", "dedicated=db:NoExecute"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while agents(&cluster)
        .iter()
        .any(|(node, _)| node == "deploy-node-1")
    {
        assert!(
            Instant::now() < deadline,
            "the agent stayed on the tainted node"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    loop {
        let ds = json(&cluster, &["get", "daemonset", "agent", "-n", "infra"]);
        if ds["status"]["desiredNumberScheduled"] == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tainted node still counts: {ds}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
