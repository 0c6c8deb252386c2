//! The `scheduler` binary as two shard processes on one apiserver: every pod
//! is bound at most once, pods that fit are bound, and when one shard is
//! killed (-9) the survivor takes its share within the lease period.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{Client, WatchEvent, WatchParams};
use futures::StreamExt;

use crate::fixtures::{create_all, node, placements, pod};
use crate::process::{ApiserverProcess, Process, wait_for};

/// Lease timing of the shards: short so failover is quick.
const LEASE_DURATION: Duration = Duration::from_secs(2);
const RENEW_DEADLINE: &str = "1500ms";
const RETRY_PERIOD: &str = "200ms";

fn start_shard(apiserver: SocketAddr, index: u32) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_scheduler"))
            .args([
                "--server",
                &apiserver.to_string(),
                "--shards",
                "2",
                "--shard-index",
                &index.to_string(),
                "--identity",
                &format!("shard-{index}"),
                "--leader-elect-lease-duration",
                &format!("{}ms", LEASE_DURATION.as_millis()),
                "--leader-elect-renew-deadline",
                RENEW_DEADLINE,
                "--leader-elect-retry-period",
                RETRY_PERIOD,
                "--pod-initial-backoff",
                "50ms",
                "--pod-max-backoff",
                "200ms",
                "--metrics-listen",
                "off",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

async fn create_nodes(client: &Client, names: impl Iterator<Item = String>) {
    let nodes: Vec<Node> = names.map(|name| node(&name)).collect();
    create_all(client, "", &nodes).await;
}

async fn create_pods(client: &Client, names: impl Iterator<Item = String>) {
    let pods: Vec<Pod> = names.map(|name| pod(&name, None, "250m")).collect();
    create_all(client, "default", &pods).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_two_scheduler_shards_bind_once_and_survive_a_kill() {
    let apiserver = ApiserverProcess::start(&["--store", "memory"]).await;
    let (client, address) = (apiserver.client.clone(), apiserver.address);
    create_nodes(&client, (0..10).map(|i| format!("node-{i}"))).await;
    // Every bind the apiserver accepted, seen from one watch from the start.
    let mut stream = client
        .watch::<Pod>("default", &WatchParams::default())
        .await
        .unwrap();
    let watched = tokio::spawn(async move {
        let mut nodes_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        while let Some(Ok(events)) = stream.next().await {
            for event in events {
                if let WatchEvent::Added(pod) | WatchEvent::Modified(pod) = event
                    && let (Some(name), Some(node)) =
                        (pod.metadata.name, pod.spec.and_then(|spec| spec.node_name))
                {
                    nodes_of.entry(name).or_default().insert(node);
                }
            }
        }
        nodes_of
    });

    let shard_0 = start_shard(address, 0);
    let shard_1 = start_shard(address, 1);
    // 10 nodes × 4 pods fit; 60 pods ask.
    create_pods(&client, (0..60).map(|i| format!("pod-{i}"))).await;
    wait_for(
        "every pod that fits is bound",
        Duration::from_secs(30),
        || async { placements(&client).await.len() >= 40 },
    )
    .await;
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for node in placements(&client).await.values() {
        *per_node.entry(node.clone()).or_default() += 1;
    }
    // The apiserver's bind arbiter keeps two shard processes from both
    // filling the last room of a node: exactly 4 pods on every node.
    assert_eq!(per_node.len(), 10, "every node is used: {per_node:?}");
    assert!(
        per_node.values().all(|&pods| pods == 4),
        "no node over its 4 pods: {per_node:?}"
    );

    // The pods that did not fit leave, so the new room is for new pods.
    let bound = placements(&client).await;
    for index in 0..60 {
        let name = format!("pod-{index}");
        if !bound.contains_key(&name) {
            client
                .delete::<Pod>("default", &name, &client::DeleteParams::immediate())
                .await
                .unwrap();
        }
    }
    // Kill one shard hard; new room and new pods: the survivor binds them
    // all, including the dead shard's share once its lease lapses.
    shard_1.kill();
    create_nodes(&client, (10..15).map(|i| format!("node-{i}"))).await;
    let bound_before = placements(&client).await.len();
    create_pods(&client, (0..8).map(|i| format!("late-{i}"))).await;
    // The dead shard's lease lapses after LEASE_DURATION; the deadline adds
    // room for a loaded machine, not for a second lease period.
    let took = wait_for(
        "the survivor binds the new pods",
        LEASE_DURATION * 2 + Duration::from_secs(3),
        || async {
            let bound = placements(&client).await;
            (0..8).all(|i| bound.contains_key(&format!("late-{i}")))
        },
    )
    .await;
    assert!(placements(&client).await.len() >= bound_before + 8);
    eprintln!("survivor bound the new pods {took:?} after they were created");

    shard_0.kill();
    apiserver.kill();
    let nodes_of = watched.await.unwrap();
    for (pod, nodes) in &nodes_of {
        assert_eq!(nodes.len(), 1, "{pod} was bound to {nodes:?}");
    }
}
