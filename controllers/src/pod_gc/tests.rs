use super::*;
use serde_json::json;

fn pod(name: &str, node: Option<&str>, phase: &str, created: i64) -> Pod {
    serde_json::from_value(json!({
        "metadata": {
            "name": name, "namespace": "default",
            "creationTimestamp": format!("2026-01-01T00:00:{created:02}Z")
        },
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": phase}
    }))
    .expect("a pod")
}

fn deleting(mut pod: Pod) -> Pod {
    pod.metadata.deletion_timestamp = Some(Time(Timestamp::UNIX_EPOCH));
    pod
}

fn node(name: &str, ready: &str, out_of_service: bool) -> Node {
    let taints = if out_of_service {
        json!([{"key": OUT_OF_SERVICE, "value": "nodeshutdown", "effect": "NoExecute"}])
    } else {
        json!([])
    };
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"taints": taints},
        "status": {"conditions": [{"type": "Ready", "status": ready}]}
    }))
    .expect("a node")
}

fn names(pods: &[&Pod]) -> Vec<String> {
    pods.iter()
        .map(|pod| pod.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn a_pass_finds_what_no_kubelet_will_finish() {
    let up = node("up", "True", false);
    let down = node("down", "False", true);
    let nodes: HashMap<&str, &Node> = [("up", &up), ("down", &down)].into_iter().collect();
    let pods = [
        pod("running", Some("up"), "Running", 1),
        pod("orphan", Some("gone"), "Running", 2),
        deleting(pod("never-bound", None, "Pending", 3)),
        pod("pending", None, "Pending", 4),
        deleting(pod("stuck", Some("down"), "Running", 5)),
        deleting(pod("leaving", Some("up"), "Running", 6)),
        pod("old-done", Some("up"), "Succeeded", 7),
        pod("new-done", Some("up"), "Failed", 8),
        pod("newest-done", Some("up"), "Succeeded", 9),
    ];
    let plan = plan(&pods, &nodes, 1);
    assert_eq!(names(&plan.orphaned), ["orphan"]);
    assert_eq!(names(&plan.unscheduled_terminating), ["never-bound"]);
    assert_eq!(names(&plan.out_of_service), ["stuck"]);
    // Three finished, one kept: the two oldest go.
    assert_eq!(names(&plan.terminated), ["old-done", "new-done"]);
    // A threshold of zero keeps them all.
    assert!(super::plan(&pods, &nodes, 0).terminated.is_empty());
}

#[test]
fn a_collected_pod_is_failed_and_says_why() {
    let status = disrupted_status(
        &pod("orphan", Some("gone"), "Running", 1),
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let condition = &status.conditions.unwrap_or_default()[0];
    assert_eq!(condition.reason.as_deref(), Some("DeletionByPodGC"));
    let done = disrupted_status(
        &pod("done", Some("gone"), "Succeeded", 1),
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(done.phase.as_deref(), Some("Succeeded"));
}
