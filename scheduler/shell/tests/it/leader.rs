//! Leader election: one of two replicas schedules; the standby takes over
//! when the leader stops.

use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::Lease;
use client::Client;
use scheduler_shell::Config;

use crate::common::*;

const LEASE_DURATION: Duration = Duration::from_secs(10);

fn replica(apiserver: &TestApiserver, identity: &str) -> Config {
    let mut config = config(apiserver);
    config.identity = identity.to_string();
    let election = &mut config.leader_election;
    election.leader_elect = true;
    election.lease_name = "test-scheduler".to_string();
    election.lease_duration = LEASE_DURATION;
    election.renew_deadline = Duration::from_secs(8);
    election.retry_period = Duration::from_millis(100);
    config
}

async fn holder(client: &Client) -> Option<String> {
    client
        .get::<Lease>("kube-system", "test-scheduler")
        .await
        .ok()
        .and_then(|lease| lease.spec)
        .and_then(|spec| spec.holder_identity)
}

fn scheduled(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|line| {
            line.starts_with(
                "scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"}",
            )
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_takes_over_when_the_leader_stops() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    create_nodes(client, &[node("n1", "8", "16Gi", 110)]).await;
    let first = start_scheduler(replica(&apiserver, "first")).await;
    wait_until(Duration::from_secs(10), || async {
        holder(client).await.as_deref() == Some("first")
    })
    .await;
    let second = start_scheduler(replica(&apiserver, "second")).await;
    create_pods(client, &[pod("before", "100m", "64Mi")]).await;
    wait_bound(client, "before", Duration::from_secs(20)).await;
    let standby_metrics = second.metrics_address().unwrap();
    let (_, body) = http_get(standby_metrics, "/metrics").await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(scheduled(&text), 0, "the standby does not schedule");
    assert!(text.contains("skiff_scheduler_is_leader 0"));

    // Stopping releases the lease (empty holder), so the standby takes it
    // at its next retry instead of waiting for it to lapse.
    first.stop().await.unwrap();
    let after_stop = holder(client).await;
    assert!(
        after_stop
            .as_deref()
            .is_none_or(|h| h.is_empty() || h == "second"),
        "the stopped leader released the lease: holder {after_stop:?}"
    );
    create_pods(client, &[pod("after", "100m", "64Mi")]).await;
    wait_bound(client, "after", Duration::from_secs(20)).await;
    assert_eq!(holder(client).await.as_deref(), Some("second"));
    let (_, body) = http_get(standby_metrics, "/metrics").await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(scheduled(&text), 1);
    assert!(text.contains("skiff_scheduler_is_leader 1"));
    second.stop().await.unwrap();
}
