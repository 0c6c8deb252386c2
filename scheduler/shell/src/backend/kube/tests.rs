//! Tests of the Kubernetes backend's pure parts on plain values: watcher
//! events into the loop's batches, the binding body, event bodies, error
//! mapping and the guarded delete.

use api::k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::watcher::Event;
use serde_json::json;

use super::binding::{binding_for, scheduled_event};
use super::watch::Batcher;
use super::{api_error, delete_guarded_by_uid};
use crate::event::{BindRequest, Change, Changes};
use crate::informer::{node_change, pod_change};

fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    }))
    .unwrap()
}

fn pod(name: &str, uid: &str, phase: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": uid},
        "spec": {"schedulerName": "skiff-scheduler", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": phase},
    }))
    .unwrap()
}

/// Each batch as (restart, ["+name" for upserts, "-key" for deletes]).
fn node_batches(batches: Vec<Changes<scheduler::NodeInfo>>) -> Vec<(bool, Vec<String>)> {
    batches
        .into_iter()
        .map(|batch| {
            let changes = batch
                .changes
                .into_iter()
                .map(|change| match change {
                    Change::Upsert(info) => format!("+{}", info.name),
                    Change::Delete(key) => format!("-{key}"),
                })
                .collect();
            (batch.restart, changes)
        })
        .collect()
}

fn check_nodes(events: Vec<Event<Node>>, expected: &[(bool, &[&str])]) {
    let mut batcher = Batcher::new(node_change);
    for event in events {
        batcher.push(event);
    }
    let expected: Vec<(bool, Vec<String>)> = expected
        .iter()
        .map(|(restart, changes)| (*restart, changes.iter().map(|c| c.to_string()).collect()))
        .collect();
    assert_eq!(node_batches(batcher.take()), expected);
}

#[test]
fn a_relist_is_one_restart_batch() {
    check_nodes(
        vec![
            Event::Init,
            Event::InitApply(node("a")),
            Event::InitApply(node("b")),
            Event::InitDone,
        ],
        &[(true, &["+a", "+b"])],
    );
}

#[test]
fn an_empty_relist_still_restarts() {
    check_nodes(vec![Event::Init, Event::InitDone], &[(true, &[])]);
}

#[test]
fn live_events_ready_together_are_one_batch() {
    check_nodes(
        vec![
            Event::Apply(node("a")),
            Event::Apply(node("b")),
            Event::Delete(node("a")),
        ],
        &[(false, &["+a", "+b", "-a"])],
    );
}

#[test]
fn live_events_before_a_relist_go_first() {
    check_nodes(
        vec![
            Event::Apply(node("a")),
            Event::Init,
            Event::InitApply(node("b")),
            Event::InitDone,
            Event::Delete(node("b")),
        ],
        &[(false, &["+a"]), (true, &["+b"]), (false, &["-b"])],
    );
}

#[test]
fn a_relist_under_way_stays_buffered() {
    let mut batcher = Batcher::new(node_change);
    batcher.push(Event::Init);
    batcher.push(Event::InitApply(node("a")));
    assert!(batcher.take().is_empty());
    batcher.push(Event::InitApply(node("b")));
    batcher.push(Event::InitDone);
    assert_eq!(
        node_batches(batcher.take()),
        vec![(true, vec!["+a".to_string(), "+b".to_string()])]
    );
}

#[test]
fn pods_of_every_scheduler_count_and_finished_pods_are_deletes() {
    let mut batcher = Batcher::new(pod_change);
    let mut other = pod("other", "u2", "Running");
    if let Some(spec) = other.spec.as_mut() {
        spec.scheduler_name = Some("default-scheduler".to_string());
        spec.node_name = Some("n1".to_string());
    }
    batcher.push(Event::Apply(pod("web", "u1", "Pending")));
    batcher.push(Event::Apply(other));
    batcher.push(Event::Apply(pod("job", "u3", "Succeeded")));
    batcher.push(Event::Delete(pod("web", "u1", "Pending")));
    let batches = batcher.take();
    assert_eq!(batches.len(), 1);
    let summary: Vec<String> = batches[0]
        .changes
        .iter()
        .map(|change| match change {
            Change::Upsert(info) => format!("+{}:{}", info.uid, info.scheduler_name),
            Change::Delete(uid) => format!("-{uid}"),
        })
        .collect();
    assert_eq!(
        summary,
        ["+u1:skiff-scheduler", "+u2:default-scheduler", "-u3", "-u1"]
    );
}

fn request() -> BindRequest {
    BindRequest {
        uid: "uid-1".to_string(),
        namespace: "team".to_string(),
        name: "web-0".to_string(),
        node: "node-7".to_string(),
    }
}

#[test]
fn binding_names_the_pod_with_its_uid_and_the_node() {
    assert_eq!(
        serde_json::to_value(binding_for(&request())).unwrap(),
        json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "web-0", "namespace": "team", "uid": "uid-1"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-7"},
        })
    );
}

#[test]
fn scheduled_event_is_kube_schedulers() {
    let event =
        serde_json::to_value(scheduled_event("skiff-scheduler", &request()).unwrap()).unwrap();
    assert_eq!(event["reason"], "Scheduled");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["action"], "Binding");
    assert_eq!(
        event["message"],
        "Successfully assigned team/web-0 to node-7"
    );
    assert_eq!(event["metadata"]["namespace"], "team");
    assert!(
        event["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("web-0.")
    );
    assert_eq!(
        event["involvedObject"],
        json!({"apiVersion": "v1", "kind": "Pod", "namespace": "team", "name": "web-0", "uid": "uid-1"})
    );
    assert_eq!(event["source"]["component"], "skiff-scheduler");
    assert_eq!(event["reportingComponent"], "skiff-scheduler");
    assert_eq!(event["count"], 1);
}

#[test]
fn http_statuses_map_to_the_shells_errors() {
    let status = |code, reason: &str| {
        kube::Error::Api(
            kube::core::Status::failure("no", reason)
                .with_code(code)
                .boxed(),
        )
    };
    assert!(api_error(status(404, "NotFound")).is_not_found());
    assert!(api_error(status(409, "Conflict")).is_conflict());
    assert!(api_error(status(409, "AlreadyExists")).is_conflict());
    let forbidden = api_error(status(403, "Forbidden"));
    assert!(!forbidden.is_not_found() && !forbidden.is_conflict());
}

#[test]
fn victims_are_deleted_only_with_their_uid() {
    let params = delete_guarded_by_uid("uid-9");
    let preconditions = params.preconditions.unwrap();
    assert_eq!(preconditions.uid.as_deref(), Some("uid-9"));
    assert_eq!(preconditions.resource_version, None);
    assert_eq!(params.grace_period_seconds, None);
}
