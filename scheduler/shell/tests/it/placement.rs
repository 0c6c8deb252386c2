//! Pods are bound where they fit; the noop algorithm ignores fit; profiles
//! decide which pods are served.

use std::collections::BTreeMap;
use std::time::Duration;

use scheduler_shell::config::ProfileConfig;
use scheduler_shell::{Algorithm, Config};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_are_bound_respecting_resources() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    create_nodes(
        client,
        &[
            node("n1", "2", "4Gi", 110),
            node("n2", "2", "4Gi", 110),
            node("n3", "1", "4Gi", 3),
        ],
    )
    .await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    // 5 CPUs in all; 12 pods of 500m fit only 10 (n3 holds 2 by cpu).
    let pending: Vec<_> = (0..12)
        .map(|i| pod(&format!("p{i}"), "500m", "64Mi"))
        .collect();
    create_pods(client, &pending).await;
    wait_until(Duration::from_secs(20), || async {
        bound_count(client).await == 10
    })
    .await;
    let mut per_node: BTreeMap<String, u32> = BTreeMap::new();
    for pod in pods(client).await {
        if let Some(node) = node_of(&pod) {
            *per_node.entry(node.to_string()).or_default() += 1;
        }
    }
    assert_eq!(
        per_node,
        BTreeMap::from([("n1".into(), 4), ("n2".into(), 4), ("n3".into(), 2)])
    );
    // The two that do not fit say why.
    let unbound: Vec<String> = pods(client)
        .await
        .iter()
        .filter(|pod| node_of(pod).is_none())
        .map(|pod| name_of(pod).to_string())
        .collect();
    assert_eq!(unbound.len(), 2);
    for name in &unbound {
        wait_until(Duration::from_secs(10), || async {
            failed_scheduling_messages(client, name)
                .await
                .iter()
                .any(|message| message.starts_with("0/3 nodes are available: 3 Insufficient cpu."))
        })
        .await;
    }
    // More room wakes them: a bigger node arrives.
    create_nodes(client, &[node("n4", "4", "8Gi", 110)]).await;
    for name in &unbound {
        assert_eq!(
            wait_bound(client, name, Duration::from_secs(20)).await,
            "n4"
        );
    }
    scheduler.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noop_binds_round_robin_without_checks() {
    // The apiserver's bind arbiter would refuse these overcommitting binds.
    let apiserver = start_apiserver_with(false).await;
    let client = &apiserver.client;
    create_nodes(
        client,
        &[node("a", "1", "1Gi", 110), node("b", "1", "1Gi", 110)],
    )
    .await;
    let scheduler = start_scheduler(Config {
        algorithm: Algorithm::Noop,
        ..config(&apiserver)
    })
    .await;
    // Each pod asks for more than a node has: only noop binds them.
    let pending: Vec<_> = (0..6).map(|i| pod(&format!("p{i}"), "2", "64Mi")).collect();
    create_pods(client, &pending).await;
    wait_until(Duration::from_secs(20), || async {
        bound_count(client).await == 6
    })
    .await;
    let on_a = pods(client)
        .await
        .iter()
        .filter(|pod| node_of(pod) == Some("a"))
        .count();
    assert_eq!(on_a, 3, "round robin alternates nodes");
    scheduler.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_decide_which_pods_are_served() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    create_nodes(client, &[node("n1", "4", "8Gi", 110)]).await;
    let scheduler = start_scheduler(Config {
        profiles: vec![
            ProfileConfig::named("default-scheduler"),
            ProfileConfig::named("second"),
        ],
        ..config(&apiserver)
    })
    .await;
    let mut pending = Vec::new();
    for (name, scheduler_name) in [
        ("mine", "second"),
        ("default", "default-scheduler"),
        ("theirs", "other"),
    ] {
        let mut pod = pod(name, "100m", "64Mi");
        pod.spec.as_mut().unwrap().scheduler_name = Some(scheduler_name.to_string());
        pending.push(pod);
    }
    create_pods(client, &pending).await;
    wait_bound(client, "mine", Duration::from_secs(20)).await;
    wait_bound(client, "default", Duration::from_secs(20)).await;
    // A pod created after the others is bound, so "theirs" was seen and skipped.
    create_pods(client, &[pod("later", "100m", "64Mi")]).await;
    wait_bound(client, "later", Duration::from_secs(20)).await;
    let theirs: api::k8s_openapi::api::core::v1::Pod =
        client.get("default", "theirs").await.unwrap();
    assert_eq!(node_of(&theirs), None);
    assert!(
        failed_scheduling_messages(client, "theirs")
            .await
            .is_empty()
    );
    scheduler.stop().await.unwrap();
}
