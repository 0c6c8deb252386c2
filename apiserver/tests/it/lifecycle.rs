//! Deletion lifecycle (finalizers, grace periods, propagation policy),
//! priority admission, namespace termination and event dedup/expiry.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Pod};
use api::k8s_openapi::api::scheduling::v1::PriorityClass;
use apiserver::Config;
use client::{DeleteOutcome, DeleteParams, Error, ListParams, PropagationPolicy};
use serde_json::json;

use crate::common::{count_keys, node, pod, start, start_with, wait_until};

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let server = start().await;
    let client = &server.client;
    let cm: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "f", "finalizers": ["example.com/hold"]}}),
    )
    .unwrap();
    client.create("default", &cm).await.unwrap();
    let pending = client
        .delete::<ConfigMap>("default", "f", &DeleteParams::default())
        .await
        .unwrap();
    let DeleteOutcome::Pending(held) = pending else {
        panic!("finalizer must hold the object")
    };
    assert!(held.metadata.deletion_timestamp.is_some());
    let mut released = client.get::<ConfigMap>("default", "f").await.unwrap();
    assert!(released.metadata.deletion_timestamp.is_some());
    released.metadata.finalizers = None;
    client.update(&released).await.unwrap();
    assert!(
        client
            .get::<ConfigMap>("default", "f")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Propagation policies are recorded as finalizers for the collector.
    let plain: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "o"}})).unwrap();
    client.create("default", &plain).await.unwrap();
    let orphan = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..Default::default()
    };
    let held = client
        .delete::<ConfigMap>("default", "o", &orphan)
        .await
        .unwrap()
        .into_object();
    assert_eq!(held.metadata.finalizers, Some(vec!["orphan".to_string()]));
}

#[tokio::test]
async fn bound_pods_wait_out_their_grace_period() {
    let server = start().await;
    let client = &server.client;
    client.create("", &node("n1")).await.unwrap();
    client.create("default", &pod("bound")).await.unwrap();
    client.create("default", &pod("unbound")).await.unwrap();
    client.bind("default", "bound", "n1").await.unwrap();

    let unbound = client
        .delete::<Pod>("default", "unbound", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        matches!(unbound, DeleteOutcome::Deleted(_)),
        "unbound pods go at once"
    );

    let graceful = DeleteParams {
        grace_period_seconds: Some(30),
        ..Default::default()
    };
    let DeleteOutcome::Pending(held) = client
        .delete::<Pod>("default", "bound", &graceful)
        .await
        .unwrap()
    else {
        panic!("a bound pod waits for its kubelet");
    };
    assert_eq!(held.metadata.deletion_grace_period_seconds, Some(30));
    assert!(held.metadata.deletion_timestamp.is_some());
    // The kubelet finishes with grace 0.
    let done = client
        .delete::<Pod>("default", "bound", &DeleteParams::immediate())
        .await
        .unwrap();
    assert!(matches!(done, DeleteOutcome::Deleted(_)));
    assert!(
        client
            .get::<Pod>("default", "bound")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn priority_classes_set_pod_priority() {
    let server = start().await;
    let client = &server.client;
    let high: PriorityClass =
        serde_json::from_value(json!({"metadata": {"name": "high"}, "value": 1000,
        "preemptionPolicy": "Never"}))
        .unwrap();
    client.create("", &high).await.unwrap();
    let mut p = pod("hi");
    p.spec.as_mut().unwrap().priority_class_name = Some("high".into());
    let created = client.create("default", &p).await.unwrap();
    let spec = created.spec.unwrap();
    assert_eq!(spec.priority, Some(1000));
    assert_eq!(spec.preemption_policy.as_deref(), Some("Never"));

    let default: PriorityClass =
        serde_json::from_value(json!({"metadata": {"name": "dflt"}, "value": 7,
        "globalDefault": true}))
        .unwrap();
    client.create("", &default).await.unwrap();
    let second: PriorityClass =
        serde_json::from_value(json!({"metadata": {"name": "dflt2"}, "value": 8,
        "globalDefault": true}))
        .unwrap();
    assert!(matches!(
        client.create("", &second).await.unwrap_err(),
        Error::Forbidden(_)
    ));
    let plain = client.create("default", &pod("plain")).await.unwrap();
    assert_eq!(plain.spec.unwrap().priority, Some(7));
    let critical = {
        let mut p = pod("crit");
        p.spec.as_mut().unwrap().priority_class_name = Some("system-node-critical".into());
        client.create("default", &p).await.unwrap()
    };
    assert_eq!(critical.spec.unwrap().priority, Some(2_000_001_000));
}

#[tokio::test]
async fn terminating_namespace_rejects_new_objects() {
    let server = start().await;
    let client = &server.client;
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "team", "finalizers": ["hold"]}}))
            .unwrap();
    let created = client.create("", &ns).await.unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    client.create("team", &pod("before")).await.unwrap();
    client
        .delete::<Namespace>("", "team", &DeleteParams::default())
        .await
        .unwrap();
    match client.create("team", &pod("after")).await.unwrap_err() {
        Error::Forbidden(message) => assert!(message.contains("being terminated"), "{message}"),
        other => panic!("expected forbidden, got {other:?}"),
    }
}

fn event(name: &str, message: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
        "reason": "FailedScheduling", "message": message, "type": "Warning",
        "source": {"component": "default-scheduler"}
    }))
    .unwrap()
}

#[tokio::test]
async fn events_are_deduplicated_and_expire() {
    // A TTL no delay of a loaded machine reaches between the duplicates;
    // the test moves the store's lease clock past it.
    let ttl = Duration::from_secs(3600);
    let clock = store::LeaseClock::default();
    let store = store::open(
        &store::Backend::Memory,
        store::StoreConfig {
            lease_check_interval: Duration::from_millis(10),
            lease_clock: clock.clone(),
            ..store::StoreConfig::default()
        },
    )
    .unwrap();
    let mut config = Config::new(store);
    config.event_ttl = ttl;
    let server = start_with(config).await;
    let client = &server.client;
    let first = client
        .create("default", &event("e1", "0/3 nodes are available"))
        .await
        .unwrap();
    assert_eq!(first.count, Some(1));
    let again = client
        .create("default", &event("e2", "0/3 nodes are available"))
        .await
        .unwrap();
    assert_eq!(again.metadata.name.as_deref(), Some("e1"));
    assert_eq!(again.count, Some(2));
    let other = client
        .create("default", &event("e3", "different"))
        .await
        .unwrap();
    assert_eq!(other.count, Some(1));
    let events = client
        .list::<Event>("default", &ListParams::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 2);
    // Attached to a lease: gone after the TTL.
    clock.advance(ttl);
    wait_until(Duration::from_secs(15), || {
        let store = server.store.clone();
        async move { count_keys(&store, "/registry/events/").await == 0 }
    })
    .await;
}
