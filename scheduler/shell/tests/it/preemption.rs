//! Preemption: a high-priority pod evicts a lower-priority one, is
//! nominated to the freed node, and is bound there.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::api::scheduling::v1::PriorityClass;
use serde_json::json;

use crate::common::*;

async fn priority_class(client: &client::Client, name: &str, value: i32) {
    let class: PriorityClass =
        serde_json::from_value(json!({"metadata": {"name": name}, "value": value})).unwrap();
    client.create("", &class).await.unwrap();
}

fn pod_with_priority(name: &str, cpu: &str, class: &str) -> Pod {
    let mut pod = pod(name, cpu, "64Mi");
    pod.spec.as_mut().unwrap().priority_class_name = Some(class.to_string());
    pod
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemption_evicts_a_lower_priority_pod_and_nominates_the_node() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    priority_class(client, "low", 10).await;
    priority_class(client, "high", 1000).await;
    create_nodes(
        client,
        &[node("n1", "2", "4Gi", 110), node("n2", "1", "4Gi", 110)],
    )
    .await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    create_pods(
        client,
        &[
            pod_with_priority("low-a", "1500m", "low"),
            pod_with_priority("low-b", "1", "low"),
        ],
    )
    .await;
    let node_a = wait_bound(client, "low-a", Duration::from_secs(20)).await;
    let node_b = wait_bound(client, "low-b", Duration::from_secs(20)).await;
    assert_eq!((node_a.as_str(), node_b.as_str()), ("n1", "n2"));

    // Needs 2 CPUs: only n1 can hold it, once low-a is gone.
    create_pods(client, &[pod_with_priority("high", "2", "high")]).await;
    wait_until(Duration::from_secs(20), || async {
        client.get::<Pod>("default", "low-a").await.is_err()
    })
    .await;
    assert_eq!(
        wait_bound(client, "high", Duration::from_secs(20)).await,
        "n1"
    );
    let high: Pod = client.get("default", "high").await.unwrap();
    assert_eq!(
        high.status
            .and_then(|status| status.nominated_node_name)
            .as_deref(),
        Some("n1")
    );
    let survivor: Pod = client.get("default", "low-b").await.unwrap();
    assert_eq!(
        node_of(&survivor),
        Some("n2"),
        "only the needed victim goes"
    );
    scheduler.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemption_policy_never_waits_instead() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    priority_class(client, "low", 10).await;
    let never: PriorityClass = serde_json::from_value(
        json!({"metadata": {"name": "polite"}, "value": 1000, "preemptionPolicy": "Never"}),
    )
    .unwrap();
    client.create("", &never).await.unwrap();
    create_nodes(client, &[node("n1", "1", "4Gi", 110)]).await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    create_pods(client, &[pod_with_priority("low", "1", "low")]).await;
    wait_bound(client, "low", Duration::from_secs(20)).await;
    create_pods(client, &[pod_with_priority("polite", "1", "polite")]).await;
    wait_until(Duration::from_secs(20), || async {
        failed_scheduling_messages(client, "polite")
            .await
            .iter()
            .any(|message| message == "0/1 nodes are available: 1 Insufficient cpu.")
    })
    .await;
    let low: Pod = client.get("default", "low").await.unwrap();
    assert_eq!(node_of(&low), Some("n1"));
    scheduler.stop().await.unwrap();
}

/// The value of an unlabelled metric line `name value`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemptors_scheduled_together_pick_different_victims() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    priority_class(client, "low", 10).await;
    priority_class(client, "high", 1000).await;
    let nodes: Vec<_> = (0..16)
        .map(|i| node(&format!("n{i}"), "1", "4Gi", 110))
        .collect();
    create_nodes(client, &nodes).await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    let low: Vec<Pod> = (0..16)
        .map(|i| pod_with_priority(&format!("low-{i}"), "1", "low"))
        .collect();
    create_pods(client, &low).await;
    wait_until(Duration::from_secs(20), || async {
        bound_count(client).await == 16
    })
    .await;

    // They arrive in one batch; each needs a whole node, so each needs a
    // victim of its own.
    let high: Vec<Pod> = (0..8)
        .map(|i| pod_with_priority(&format!("high-{i}"), "1", "high"))
        .collect();
    create_pods(client, &high).await;
    for pod in &high {
        wait_bound(client, name_of(pod), Duration::from_secs(20)).await;
    }
    let (_, body) = http_get(scheduler.metrics_address().unwrap(), "/metrics").await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(
        metric(&text, "scheduler_preemption_victims_sum"),
        8.0,
        "one victim each, none chosen twice"
    );
    let survivors = pods(client)
        .await
        .iter()
        .filter(|pod| name_of(pod).starts_with("low-"))
        .count();
    assert_eq!(survivors, 8);
    scheduler.stop().await.unwrap();
}
