use super::*;
use api::ApiObject;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn daemon_set(template_spec: serde_json::Value, strategy: serde_json::Value) -> DaemonSet {
    let mut ds: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "kube-system", "uid": "ds-uid", "generation": 3},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "updateStrategy": strategy,
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": template_spec}
        }
    }))
    .unwrap_or_default();
    ds.apply_defaults();
    ds
}

fn plain() -> DaemonSet {
    daemon_set(
        json!({"containers": [{"name": "c", "image": "agent:1"}]}),
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
    )
}

fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": taints}
    }))
    .unwrap_or_default()
}

/// A running, ready daemon pod of `ds` on `node` made from the template
/// with `hash`.
fn running(ds: &DaemonSet, node: &str, name: &str, hash: &str, created: i64) -> Pod {
    let mut pod = daemon_pod(ds, node, hash);
    pod.metadata.name = Some(name.into());
    pod.metadata.uid = Some(format!("uid-{name}"));
    pod.metadata.creation_timestamp = Some(Time(at(created)));
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name = Some(node.into());
    }
    pod.status = serde_json::from_value(json!({
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2023-01-01T00:00:00Z"}]
    }))
    .ok();
    pod
}

fn created_nodes(plan: &Plan<'_>) -> Vec<String> {
    let mut nodes: Vec<String> = plan.create.iter().filter_map(target_node).collect();
    nodes.sort();
    nodes
}

fn deleted(plan: &Plan<'_>) -> Vec<String> {
    let mut names: Vec<String> = plan
        .delete
        .iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect();
    names.sort();
    names
}

#[test]
fn one_pod_per_eligible_node() {
    let ds = daemon_set(
        json!({"nodeSelector": {"role": "worker"}, "containers": [{"name": "c", "image": "agent:1"}]}),
        json!({"type": "RollingUpdate"}),
    );
    let workers = node("w1", json!({"role": "worker"}), json!([]));
    let other = node("w2", json!({"role": "worker"}), json!([]));
    let control = node("cp", json!({"role": "control-plane"}), json!([]));
    let tainted = node(
        "gpu",
        json!({"role": "worker"}),
        json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
    );
    // Kubernetes' own taints are tolerated by every daemon pod.
    let cordoned = node(
        "cordoned",
        json!({"role": "worker"}),
        json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
    );
    let evicting = node(
        "evicting",
        json!({"role": "worker"}),
        json!([{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]),
    );
    let nodes = [&workers, &other, &control, &tainted, &cordoned, &evicting];
    let hash = template_hash(&ds);
    let existing = running(&ds, "w2", "agent-w2", &hash, 0);
    let misplaced = running(&ds, "cp", "agent-cp", &hash, 0);
    // Tainted NoSchedule after it started: it stays; NoExecute: it goes.
    let stays = running(&ds, "gpu", "agent-gpu", &hash, 0);
    let evicted = running(&ds, "evicting", "agent-evicting", &hash, 0);
    let pods = [existing, misplaced, stays, evicted];
    let plan = plan(&ds, &nodes, &pods, at(100)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created_nodes(&plan), ["cordoned", "w1"]);
    assert_eq!(deleted(&plan), ["agent-cp", "agent-evicting"]);
    assert_eq!(plan.status.desired_number_scheduled, 3);
    assert_eq!(plan.status.current_number_scheduled, 1);
    assert_eq!(plan.status.number_misscheduled, 3);
    assert_eq!(plan.status.observed_generation, Some(3));
    // The new pod is pinned to its node and tolerates what daemons do.
    let pod = plan
        .create
        .iter()
        .find(|p| target_node(p).as_deref() == Some("w1"));
    let spec = pod.and_then(|p| p.spec.clone()).unwrap_or_default();
    assert!(spec.node_name.is_none());
    let tolerations = spec.tolerations.unwrap_or_default();
    assert!(
        tolerations
            .iter()
            .any(|t| t.key.as_deref() == Some("node.kubernetes.io/unreachable"))
    );
    let labels = pod
        .and_then(|p| p.metadata.labels.clone())
        .unwrap_or_default();
    assert_eq!(labels.get(REVISION_HASH_LABEL), Some(&hash));
}

#[test]
fn surplus_and_failed_pods_are_replaced() {
    let ds = plain();
    let n1 = node("n1", json!({}), json!([]));
    let n2 = node("n2", json!({}), json!([]));
    let hash = template_hash(&ds);
    let oldest = running(&ds, "n1", "agent-a", &hash, 0);
    let newer = running(&ds, "n1", "agent-b", &hash, 5);
    let mut failed = running(&ds, "n2", "agent-c", &hash, 0);
    if let Some(status) = failed.status.as_mut() {
        status.phase = Some("Failed".into());
    }
    let pods = [newer, oldest, failed];
    let plan = plan(&ds, &[&n1, &n2], &pods, at(100)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deleted(&plan), ["agent-b", "agent-c"]);
    assert_eq!(created_nodes(&plan), ["n2"]);
}

#[test]
fn a_rolling_update_stays_within_max_unavailable() {
    let v1 = plain();
    let old_hash = template_hash(&v1);
    let v2 = daemon_set(
        json!({"containers": [{"name": "c", "image": "agent:2"}]}),
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
    );
    let nodes: Vec<Node> = (1..=3)
        .map(|i| node(&format!("n{i}"), json!({}), json!([])))
        .collect();
    let nodes: Vec<&Node> = nodes.iter().collect();
    let pods: Vec<Pod> = (1..=3)
        .map(|i| running(&v1, &format!("n{i}"), &format!("agent-{i}"), &old_hash, i))
        .collect();
    let step = plan(&v2, &nodes, &pods, at(100)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deleted(&step).len(), 1, "{:?}", deleted(&step));
    assert!(step.create.is_empty());
    assert_eq!(step.status.updated_number_scheduled, Some(0));

    // One node is without its pod (being replaced): nothing more goes.
    let waiting = plan(&v2, &nodes, &pods[1..], at(101)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created_nodes(&waiting), ["n1"]);
    assert!(waiting.delete.is_empty(), "{:?}", deleted(&waiting));

    // OnDelete: the old pods stay.
    let on_delete = daemon_set(
        json!({"containers": [{"name": "c", "image": "agent:2"}]}),
        json!({"type": "OnDelete"}),
    );
    let kept = plan(&on_delete, &nodes, &pods, at(100)).unwrap_or_else(|e| panic!("{e}"));
    assert!(kept.delete.is_empty());
}
