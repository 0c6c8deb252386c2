use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{ContainerStatus, PodCondition, PodSpec, PodStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use api::k8s_openapi::jiff::Timestamp;

use super::*;

const NOW: i64 = 1_800_000_000;

fn at(seconds_ago: i64) -> Timestamp {
    Timestamp::from_second(NOW - seconds_ago).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A pod: `node` ("" unscheduled), `phase`, ready since `ready` seconds
/// ago (None: not ready), created `age` seconds ago.
fn pod(name: &str, node: &str, phase: &str, ready: Option<i64>, age: i64) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            creation_timestamp: Some(Time(at(age))),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: (!node.is_empty()).then(|| node.to_string()),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.into()),
            conditions: ready.map(|since| {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(at(since))),
                    ..PodCondition::default()
                }]
            }),
            ..PodStatus::default()
        }),
    }
}

fn order(pods: &[Pod], related: &[Pod], count: usize) -> Vec<String> {
    let pods: Vec<&Pod> = pods.iter().collect();
    let related: Vec<&Pod> = related.iter().collect();
    pods_to_delete(&pods, &related, count, at(0))
        .iter()
        .map(|pod| pod.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn finished_and_deleting_pods_are_not_active() {
    assert!(is_active(&pod("a", "n1", "Running", Some(10), 10)));
    assert!(is_active(&pod("a", "", "Pending", None, 10)));
    assert!(!is_active(&pod("a", "n1", "Succeeded", None, 10)));
    assert!(!is_active(&pod("a", "n1", "Failed", None, 10)));
    let mut deleting = pod("a", "n1", "Running", Some(10), 10);
    deleting.metadata.deletion_timestamp = Some(Time(at(0)));
    assert!(!is_active(&deleting));
}

#[test]
fn available_after_min_ready_seconds() {
    let ready_for_ten = pod("a", "n1", "Running", Some(10), 20);
    assert!(is_available(&ready_for_ten, 0, at(0)));
    assert!(is_available(&ready_for_ten, 9, at(0)));
    // Strictly after: ready 10 s ago with minReadySeconds 10 is not yet.
    assert!(!is_available(&ready_for_ten, 10, at(0)));
    assert!(!is_available(
        &pod("b", "n1", "Running", None, 20),
        0,
        at(0)
    ));
}

#[test]
fn unscheduled_then_pending_then_not_ready_go_first() {
    let pods = [
        pod("running-ready", "n1", "Running", Some(100), 100),
        pod("running-not-ready", "n2", "Running", None, 100),
        pod("pending", "n3", "Pending", None, 100),
        pod("unscheduled", "", "Pending", None, 100),
        pod("unknown", "n4", "Unknown", None, 100),
    ];
    assert_eq!(
        order(&pods, &pods, 4),
        ["unscheduled", "pending", "unknown", "running-not-ready"]
    );
}

#[test]
fn deletion_cost_then_doubled_up_nodes() {
    let mut cheap = pod("cheap", "n1", "Running", Some(100), 100);
    cheap.metadata.annotations = Some(BTreeMap::from([(
        DELETION_COST_ANNOTATION.to_string(),
        "-5".to_string(),
    )]));
    let pods = [
        pod("alone", "n1", "Running", Some(100), 100),
        pod("crowded", "n2", "Running", Some(100), 100),
        cheap,
    ];
    // Two more related pods on n2 make `crowded` the one to delete after
    // the cheap one.
    let mut related = pods.to_vec();
    related.push(pod("neighbour-1", "n2", "Running", Some(100), 100));
    related.push(pod("neighbour-2", "n2", "Running", Some(100), 100));
    assert_eq!(order(&pods, &related, 2), ["cheap", "crowded"]);
}

#[test]
fn recently_ready_restarted_and_newer_go_first() {
    // Ready 10 s against 1,000 s ago: different logarithmic buckets.
    let pods = [
        pod("old-ready", "n1", "Running", Some(1_000), 2_000),
        pod("new-ready", "n2", "Running", Some(10), 2_000),
    ];
    assert_eq!(order(&pods, &pods, 1), ["new-ready"]);

    let mut restarted = pod("restarted", "n1", "Running", Some(1_000), 2_000);
    if let Some(status) = restarted.status.as_mut() {
        status.container_statuses = Some(vec![ContainerStatus {
            restart_count: 3,
            ..ContainerStatus::default()
        }]);
    }
    let pods = [
        pod("steady", "n2", "Running", Some(1_000), 2_000),
        restarted,
    ];
    assert_eq!(order(&pods, &pods, 1), ["restarted"]);

    let pods = [
        pod("older", "n1", "Pending", None, 5_000),
        pod("newer", "n2", "Pending", None, 5),
    ];
    assert_eq!(order(&pods, &pods, 1), ["newer"]);
}

#[test]
fn ages_in_one_logarithmic_bucket_tie_and_break_by_uid() {
    // 1,000 s and 1,050 s are both in [2^39, 2^40) ns: a tie, broken by
    // UID instead of always deleting the newest.
    let pods = [
        pod("b", "n1", "Pending", None, 1_000),
        pod("a", "n2", "Pending", None, 1_050),
    ];
    assert_eq!(order(&pods, &pods, 1), ["a"]);
}

#[test]
fn asking_for_all_returns_all() {
    let pods = [
        pod("a", "n1", "Running", None, 1),
        pod("b", "", "Pending", None, 1),
    ];
    assert_eq!(order(&pods, &pods, 5).len(), 2);
}
