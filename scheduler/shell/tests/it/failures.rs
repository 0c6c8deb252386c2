//! FailedScheduling: kube-scheduler's message as an Event and as the
//! PodScheduled condition; the pod is retried when a helpful event arrives.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;

use crate::common::*;

const MESSAGE: &str = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pod_is_reported_then_bound_when_a_node_arrives() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    let tainted: Node = serde_json::from_value(json!({
        "metadata": {"name": "gpu"},
        "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "8", "memory": "8Gi", "pods": "110"}}
    }))
    .unwrap();
    create_nodes(client, &[node("small", "1", "4Gi", 110), tainted]).await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    create_pods(client, &[pod("big", "2", "1Gi")]).await;

    wait_until(Duration::from_secs(20), || async {
        failed_scheduling_messages(client, "big")
            .await
            .iter()
            .any(|message| message == MESSAGE)
    })
    .await;
    wait_until(Duration::from_secs(10), || async {
        let pod: Pod = client.get("default", "big").await.unwrap();
        pod.status
            .and_then(|status| status.conditions)
            .unwrap_or_default()
            .iter()
            .any(|condition| {
                condition.type_ == "PodScheduled"
                    && condition.status == "False"
                    && condition.reason.as_deref() == Some("Unschedulable")
                    && condition.message.as_deref() == Some(MESSAGE)
            })
    })
    .await;

    create_nodes(client, &[node("large", "4", "8Gi", 110)]).await;
    assert_eq!(
        wait_bound(client, "big", Duration::from_secs(20)).await,
        "large"
    );
    scheduler.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_nodes_message_and_retry_after_a_deleted_pod_frees_room() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    let scheduler = start_scheduler(config(&apiserver)).await;
    create_pods(client, &[pod("first", "1", "1Gi")]).await;
    wait_until(Duration::from_secs(20), || async {
        failed_scheduling_messages(client, "first")
            .await
            .iter()
            .any(|message| message.starts_with("no nodes available to schedule pods"))
    })
    .await;
    create_nodes(client, &[node("only", "1", "4Gi", 110)]).await;
    wait_bound(client, "first", Duration::from_secs(20)).await;
    create_pods(client, &[pod("second", "1", "1Gi")]).await;
    wait_until(Duration::from_secs(20), || async {
        failed_scheduling_messages(client, "second")
            .await
            .iter()
            .any(|message| message.starts_with("0/1 nodes are available: 1 Insufficient cpu."))
    })
    .await;
    client
        .delete::<Pod>("default", "first", &client::DeleteParams::immediate())
        .await
        .unwrap();
    assert_eq!(
        wait_bound(client, "second", Duration::from_secs(20)).await,
        "only"
    );
    scheduler.stop().await.unwrap();
}
