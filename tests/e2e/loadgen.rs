//! `loadgen` end to end: every scenario on a small embedded cluster with
//! `--verify`, and `loadgen verify FILE` catching an overcommit and a double
//! bind planted in a real recording.

use std::path::Path;
use std::process::{Command, Output};

use ::loadgen::verify::{Change, EventType, RecordedEvent, Recording};

/// Pods and nodes per scenario: small enough for debug builds on 2 cores.
const PODS: &str = "600";
const NODES: &str = "60";

fn loadgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs one scenario with `--verify`, checks the report and returns it.
fn check_scenario(scenario: &str) -> serde_json::Value {
    check_scenario_with(scenario, &[])
}

fn check_scenario_with(scenario: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let json_arg = json.to_str().unwrap();
    let mut args = vec![
        "--scenario",
        scenario,
        "--pods",
        PODS,
        "--nodes",
        NODES,
        "--verify",
        "--quiet",
        "--timeout",
        "120",
        "--json",
        json_arg,
    ];
    args.extend_from_slice(extra);
    let output = loadgen(&args);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("verify: OK"), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["scenario"], scenario);
    assert_eq!(report["timed_out"], false);
    assert_eq!(report["verify"]["clean"], true);
    assert!(
        report["throughput"]["average"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    let components: Vec<&str> = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        components.contains(&"apiserver") && components.contains(&"loadgen"),
        "{components:?}"
    );
    assert!(!schedulers(&report).is_empty(), "{components:?}");
    report
}

/// Names of the scheduler processes in a report.
fn schedulers(report: &serde_json::Value) -> Vec<String> {
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .filter(|name| name.starts_with("scheduler"))
        .map(str::to_string)
        .collect()
}

#[test]
fn e2e_loadgen_basic() {
    let report = check_scenario("basic");
    // The controller manager is started only on request.
    assert!(!components(&report).contains(&"controllers".to_string()));
}

/// With `--controllers` the embedded cluster runs the controller manager
/// too, with its own kubeconfig through RBAC, and it stays up (a crashed
/// component fails the run).
#[test]
fn e2e_loadgen_with_controllers() {
    let report = check_scenario_with("mixed-churn", &["--controllers"]);
    assert!(
        components(&report).contains(&"controllers".to_string()),
        "{report}"
    );
}

fn components(report: &serde_json::Value) -> Vec<String> {
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .map(str::to_string)
        .collect()
}

/// Creates (one POST per pod), deletes and watches through the REST face
/// over HTTPS with the embedded cluster's admin kubeconfig; the recording
/// verify replays comes from `?watch=1` streams.
#[test]
fn e2e_loadgen_mixed_churn_over_rest() {
    let report = check_scenario_with("mixed-churn", &["--api", "rest"]);
    assert_eq!(report["api"], "rest");
    assert_eq!(report["create_failures"], 0, "{report}");
}

#[test]
fn e2e_loadgen_node_affinity() {
    check_scenario("node-affinity");
}

#[test]
fn e2e_loadgen_pod_anti_affinity() {
    check_scenario("pod-anti-affinity");
}

#[test]
fn e2e_loadgen_pod_affinity() {
    check_scenario("pod-affinity");
}

#[test]
fn e2e_loadgen_topology_spread() {
    check_scenario("topology-spread");
}

#[test]
fn e2e_loadgen_taints() {
    check_scenario("taints");
}

#[test]
fn e2e_loadgen_preemption() {
    let report = check_scenario("preemption");
    // 120 high-priority pods on nodes full of low-priority ones: each must
    // have evicted one (verify checked every victim's priority).
    let victims = report["verify"]["preemption_victims"].as_u64().unwrap();
    assert!(victims >= 120, "{report}");
}

#[test]
fn e2e_loadgen_mixed_churn() {
    check_scenario("mixed-churn");
}

#[test]
fn e2e_loadgen_multi_scheduler() {
    check_scenario("multi-scheduler");
}

#[test]
fn e2e_loadgen_sharded() {
    let report = check_scenario("sharded");
    assert!(schedulers(&report).len() >= 2, "{report}");
}

fn read_recording(path: &Path) -> Recording {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_recording(path: &Path, recording: &Recording) {
    std::fs::write(path, serde_json::to_vec(recording).unwrap()).unwrap();
}

/// A real recording verifies clean; with a node's allocatable shrunk (an
/// overcommit) or a second binding of a pod (a double bind) planted in it,
/// `loadgen verify` exits non-zero and names the objects.
#[test]
fn e2e_loadgen_verify_catches_planted_overcommit_and_double_bind() {
    let dir = tempfile::tempdir().unwrap();
    let recording_path = dir.path().join("recording.json");
    let output = loadgen(&[
        "--pods",
        "200",
        "--nodes",
        "10",
        "--quiet",
        "--until",
        "bound",
        "--store",
        "memory",
        "--record",
        recording_path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let clean = loadgen(&["verify", recording_path.to_str().unwrap()]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(
        String::from_utf8_lossy(&clean.stdout).contains("verify: OK"),
        "{}",
        text(&clean)
    );
    let recording = read_recording(&recording_path);

    // Overcommit: the first node that received a pod can hold only 50m cpu.
    let mut overcommitted = recording.clone();
    let first_bound_node = overcommitted
        .events
        .iter()
        .find_map(|event| match &event.change {
            Change::Pod { state, .. } => state.node_name.clone(),
            Change::Node { .. } => None,
        })
        .unwrap();
    for event in &mut overcommitted.events {
        if let Change::Node { node, .. } = &mut event.change
            && node.name == first_bound_node
        {
            node.allocatable_nanos.insert("cpu".to_string(), 50_000_000);
        }
    }
    let planted = dir.path().join("overcommit.json");
    write_recording(&planted, &overcommitted);
    let caught = loadgen(&["verify", planted.to_str().unwrap()]);
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught));
    let expected =
        format!("overcommit: node {first_bound_node} cpu requested 100m > allocatable 50m");
    assert!(
        String::from_utf8_lossy(&caught.stdout).contains(&expected),
        "{}",
        text(&caught)
    );

    // Double bind: a bound pod shows up bound to another node later.
    let mut double = recording;
    let last_revision = double.events.iter().map(|e| e.revision).max().unwrap();
    let (state, at_ms) = double
        .events
        .iter()
        .find_map(|event| match &event.change {
            Change::Pod { state, .. } if state.node_name.is_some() => {
                Some((state.clone(), event.at_ms))
            }
            _ => None,
        })
        .unwrap();
    let first_node = state.node_name.clone().unwrap();
    let other_node = double
        .events
        .iter()
        .find_map(|event| match &event.change {
            Change::Node { node, .. } if node.name != first_node => Some(node.name.clone()),
            _ => None,
        })
        .unwrap();
    let mut rebound = state.clone();
    rebound.node_name = Some(other_node.clone());
    double.events.push(RecordedEvent {
        revision: last_revision + 1,
        at_ms,
        change: Change::Pod {
            event: EventType::Modified,
            state: rebound,
        },
    });
    double.final_pods = None;
    let planted = dir.path().join("double-bind.json");
    write_recording(&planted, &double);
    let caught = loadgen(&["verify", planted.to_str().unwrap()]);
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught));
    let pod = &double.pods[&state.uid];
    let expected = format!(
        "double bind: pod {}/{} bound to {first_node}, then to {other_node}",
        pod.namespace, pod.name
    );
    assert!(
        String::from_utf8_lossy(&caught.stdout).contains(&expected),
        "{}",
        text(&caught)
    );
}

#[test]
fn e2e_loadgen_profile_writes_scheduler_and_apiserver_flamegraphs() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("run.svg");
    let output = loadgen(&[
        "--pods",
        "300",
        "--nodes",
        "30",
        "--quiet",
        "--profile",
        svg.to_str().unwrap(),
        "--profile-seconds",
        "1",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("--profile:"),
        "{}",
        text(&output)
    );
    for path in [svg.clone(), dir.path().join("run-apiserver.svg")] {
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(body.contains("<svg"), "{}: {body:.200}", path.display());
    }
}
