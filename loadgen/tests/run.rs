//! A whole load run against an in-process apiserver (`--server`), with a
//! test binder standing in for the scheduler: the report counts what
//! happened, and `--verify` catches a binder that overfills a node.

// Reason: test setup may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use clap::Parser;
use client::{Binding, Client, ListParams};
use serde_json::json;
use testkit::TestApiserver;

#[derive(Parser)]
struct TestCli {
    #[command(flatten)]
    run: loadgen::cli::RunArgs,
}

/// With `bind_arbiter` off the apiserver accepts binds past a node's
/// allocatable, so an overfilled node can be recorded and verified.
async fn start_apiserver_with(bind_arbiter: bool) -> TestApiserver {
    TestApiserver::start_with(|config| config.bind_arbiter = bind_arbiter).await
}

async fn create_nodes(client: &Client, count: usize) {
    for index in 0..count {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": format!("node-{index}"), "labels": {
                "kubernetes.io/hostname": format!("node-{index}"),
                "topology.kubernetes.io/zone": format!("zone-{}", index % 2)}},
            "status": {
                "allocatable": {"cpu": "1", "memory": "64Gi", "pods": "110"},
                "capacity": {"cpu": "1", "memory": "64Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        client.create("", &node).await.unwrap();
    }
}

/// Binds every unbound pod: round-robin over `nodes`, or all to node-0
/// when `overfill`.
async fn binder(client: Client, nodes: usize, overfill: bool) {
    let mut next = 0;
    loop {
        let pods = client
            .list::<Pod>("", &ListParams::default().fields("spec.nodeName="))
            .await
            .unwrap();
        let bindings: Vec<Binding> = pods
            .items
            .iter()
            .map(|pod| {
                next += 1;
                Binding {
                    namespace: pod.metadata.namespace.clone().unwrap(),
                    pod: pod.metadata.name.clone().unwrap(),
                    node: format!("node-{}", if overfill { 0 } else { next % nodes }),
                }
            })
            .collect();
        if !bindings.is_empty() {
            client.batch_bind(&bindings).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run_with_binder(overfill: bool, extra: &[&str]) -> loadgen::RunOutcome {
    let apiserver = start_apiserver_with(!overfill).await;
    let (address, client) = (apiserver.address, apiserver.client.clone());
    create_nodes(&client, 4).await;
    let binder = tokio::spawn(binder(client, 4, overfill));
    let server = address.to_string();
    let mut argv = vec![
        "loadgen",
        "--server",
        &server,
        "--pods",
        "30",
        "--until",
        "bound",
        "--quiet",
        "--verify",
        "--timeout",
        "30",
    ];
    argv.extend_from_slice(extra);
    let cli = TestCli::parse_from(argv);
    let outcome = loadgen::run(&cli.run, std::path::PathBuf::from("unused"))
        .await
        .unwrap();
    binder.abort();
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_reports_binds_and_verifies_clean() {
    let outcome = run_with_binder(false, &["--rate", "300"]).await;
    let report = &outcome.report;
    assert!(outcome.succeeded(), "{report}");
    assert_eq!((report.created, report.bound), (30, 30), "{report}");
    assert_eq!(report.created_to_bound.count, 30);
    assert!(report.throughput.average > 0.0, "{report}");
    let verify = report.verify.as_ref().unwrap();
    assert!(verify.clean && verify.binds == 30, "{report}");
    // A recording round-trips through `verify FILE`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recording.json");
    loadgen::run::write_recording(&path, outcome.recording.as_ref().unwrap()).unwrap();
    assert!(loadgen::run::verify_file(&path).unwrap().clean);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_an_overfilled_node() {
    let outcome = run_with_binder(true, &[]).await;
    let report = &outcome.report;
    assert!(!outcome.succeeded(), "{report}");
    let verify = report.verify.as_ref().unwrap();
    // 1 cpu holds ten 100m pods; the other twenty are overcommits.
    assert_eq!(verify.violation_count, 20, "{report}");
    assert!(
        verify.violations[0]
            .contains("overcommit: node node-0 cpu requested 1100m > allocatable 1000m"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_lists_the_pending_pods() {
    let apiserver = TestApiserver::start().await;
    let (address, client) = (apiserver.address, apiserver.client.clone());
    create_nodes(&client, 1).await;
    let server = address.to_string();
    let cli = TestCli::parse_from([
        "loadgen",
        "--server",
        &server,
        "--pods",
        "3",
        "--until",
        "bound",
        "--quiet",
        "--timeout",
        "1",
    ]);
    let outcome = loadgen::run(&cli.run, std::path::PathBuf::from("unused"))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(report.timed_out && !outcome.succeeded());
    let names: Vec<&str> = report.pending.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["measured-0000000", "measured-0000001", "measured-0000002"]
    );
    assert!(
        report
            .to_string()
            .contains("TIMED OUT with 3 pod(s) not done"),
        "{report}"
    );
}

#[test]
fn bad_flags_name_the_flag() {
    for (argv, expected) in [
        (
            vec!["loadgen", "--pods", "0"],
            "invalid flag --pods: must be at least 1",
        ),
        (
            vec!["loadgen", "--rate", "0"],
            "invalid flag --rate: must be a positive number of pods per second",
        ),
        (
            vec!["loadgen", "--scenario", "sharded", "--shards", "1"],
            "invalid flag --shards: the sharded scenario needs at least 2",
        ),
    ] {
        let cli = TestCli::parse_from(argv);
        assert_eq!(cli.run.validate().unwrap_err().to_string(), expected);
    }
}
