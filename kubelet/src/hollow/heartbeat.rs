//! Heartbeats of every simulated node: lease renewals spread evenly over
//! the renew interval (5,000 nodes every 10 s is 500 small writes a second,
//! never one burst of 5,000), and node status posted once per report period
//! — also spread — or at once when the stored status drifts from what the
//! kubelet reports (a node controller marked the node not ready).

use std::pin::pin;
use std::sync::Arc;
use std::time::SystemTime;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Node, NodeCondition, NodeStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use client::{Client, ListParams, WatchEvent};
use futures::StreamExt;
use runtime::WatcherEvent;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::hollow::nodes::{NodeSet, Spread};
use crate::hollow::{HollowConfig, Stats, wait_stopped};
use crate::lease;
use crate::node_status;

/// Lease renewals in flight at once.
const RENEWALS_IN_FLIGHT: usize = 32;
/// Node status posts in flight at once.
const POSTS_IN_FLIGHT: usize = 8;

/// What the lease task keeps of a registered node: its name and uid (the
/// lease's holder and owner), not the whole object.
pub(super) fn lease_owner(node: &Node) -> Node {
    Node {
        metadata: ObjectMeta {
            name: node.metadata.name.clone(),
            uid: node.metadata.uid.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// What the status task keeps of a posted node status: the type, status
/// and transition time of each condition, all that the next post reads
/// ([`node_status::desired_status`]).
pub(super) fn conditions_only(status: Option<NodeStatus>) -> Option<NodeStatus> {
    let conditions = status?
        .conditions?
        .into_iter()
        .map(|condition| NodeCondition {
            type_: condition.type_,
            status: condition.status,
            last_transition_time: condition.last_transition_time,
            ..Default::default()
        })
        .collect();
    Some(NodeStatus {
        conditions: Some(conditions),
        ..Default::default()
    })
}

/// Renews the lease of every node until stopped. `nodes` (see
/// [`lease_owner`]) and `leases` are by node index.
pub(super) async fn leases(
    client: Client,
    config: Arc<HollowConfig>,
    nodes: Vec<Node>,
    mut leases: Vec<Lease>,
    stats: Arc<Stats>,
    stopped: watch::Receiver<bool>,
) {
    let duration = config.lease_duration_seconds;
    let mut spread = Spread::new(Instant::now(), config.lease_renew_interval, nodes.len());
    let mut stop = pin!(wait_stopped(stopped));
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep_until(spread.next_due()) => {}
        }
        let due = spread.take_due(Instant::now());
        let renewals = futures::stream::iter(due)
            .map(|i| {
                let (client, current, node) = (&client, leases[i].clone(), &nodes[i]);
                async move { (i, lease::renew(client, &current, node, duration).await) }
            })
            .buffer_unordered(RENEWALS_IN_FLIGHT)
            .collect::<Vec<_>>();
        let results = tokio::select! {
            () = &mut stop => return,
            results = renewals => results,
        };
        let (mut renewed, mut failed) = (0, 0);
        for (i, result) in results {
            match result {
                Ok(lease) => {
                    leases[i] = lease;
                    renewed += 1;
                }
                Err(error) => {
                    failed += 1;
                    tracing::debug!(%error, node = ?nodes[i].metadata.name, "lease renewal failed");
                }
            }
        }
        if failed > 0 {
            tracing::warn!(failed, "lease renewals failed; retrying next interval");
        }
        Stats::add(&stats.lease_renewals, renewed);
        Stats::add(&stats.lease_renew_errors, failed);
    }
}

/// Posts node status every report period, or at once on drift, until
/// stopped. `posted` is each node's last posted status, by index (see
/// [`conditions_only`]).
pub(super) async fn node_status(
    client: Client,
    config: Arc<HollowConfig>,
    node_set: Arc<NodeSet>,
    mut posted: Vec<Option<NodeStatus>>,
    stats: Arc<Stats>,
    stopped: watch::Receiver<bool>,
) {
    let mut spread = Spread::new(
        Instant::now() + config.node_status_report_frequency / 2,
        config.node_status_report_frequency,
        posted.len(),
    );
    let mut watch = pin!(runtime::watcher::<Node>(
        client.clone(),
        "",
        ListParams::default()
    ));
    let mut stop = pin!(wait_stopped(stopped));
    loop {
        let due = tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep_until(spread.next_due()) => spread.take_due(Instant::now()),
            event = watch.next() => match event {
                Some(Ok(event)) => drifted(&config, &node_set, &posted, event),
                Some(Err(error)) => {
                    tracing::debug!(%error, "node watch failed; it resumes");
                    Vec::new()
                }
                None => Vec::new(),
            },
        };
        if due.is_empty() {
            continue;
        }
        let now = SystemTime::now();
        let posts = futures::stream::iter(due)
            .map(|i| {
                let identity = &node_set.identities[i];
                let status = node_status::desired_status(
                    &config.template,
                    identity,
                    posted[i].as_ref(),
                    now,
                );
                let client = &client;
                async move { (i, post_status(client, &identity.name, status).await) }
            })
            .buffer_unordered(POSTS_IN_FLIGHT)
            .collect::<Vec<_>>();
        let results = tokio::select! {
            () = &mut stop => return,
            results = posts => results,
        };
        for (i, result) in results {
            match result {
                Ok(node) => {
                    posted[i] = conditions_only(node.status);
                    Stats::add(&stats.node_status_posts, 1);
                }
                Err(error) => tracing::warn!(
                    %error,
                    node = %node_set.identities[i].name,
                    "posting node status failed; retrying next period"
                ),
            }
        }
    }
}

/// Writes `status` as node `name`'s status (no resourceVersion: a status
/// write replaces only status, so it cannot clobber anything else).
async fn post_status(client: &Client, name: &str, status: NodeStatus) -> client::Result<Node> {
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        spec: None,
        status: Some(status),
    };
    client.update_status(&node).await
}

/// The nodes of `event` whose stored status differs from what this kubelet
/// reports, and so must be posted now.
fn drifted(
    config: &HollowConfig,
    node_set: &NodeSet,
    posted: &[Option<NodeStatus>],
    event: WatcherEvent<Node>,
) -> Vec<usize> {
    let now = SystemTime::now();
    let nodes: Vec<Node> = match event {
        WatcherEvent::Restarted { objects, .. } => objects,
        WatcherEvent::Applied(events) => events
            .into_iter()
            .filter_map(|event| match event {
                WatchEvent::Added(node) | WatchEvent::Modified(node) => Some(node),
                WatchEvent::Deleted(node) => {
                    if let Some(name) = node.metadata.name.as_deref()
                        && node_set.index_of(name).is_some()
                    {
                        tracing::warn!(node = name, "node deleted while its kubelet runs");
                    }
                    None
                }
                WatchEvent::Bookmark { .. } => None,
            })
            .collect(),
    };
    let mut due: Vec<usize> = nodes
        .iter()
        .filter_map(|node| {
            let i = node_set.index_of(node.metadata.name.as_deref()?)?;
            let desired = node_status::desired_status(
                &config.template,
                &node_set.identities[i],
                posted[i].as_ref(),
                now,
            );
            node_status::status_differs(node.status.as_ref(), &desired).then_some(i)
        })
        .collect();
    due.sort_unstable();
    due.dedup();
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeTemplate;
    use crate::hollow::nodes::NodeSet;

    #[test]
    fn slim_state_keeps_what_heartbeats_read() {
        let config = HollowConfig::new(1, NodeTemplate::built_in().unwrap());
        let identity = &NodeSet::new(&config).identities[0];
        let registered =
            node_status::registration_node(&config.template, identity, SystemTime::now());
        let owner = lease_owner(&registered);
        assert_eq!(owner.metadata.name, registered.metadata.name);
        assert_eq!(owner.metadata.uid, registered.metadata.uid);
        assert!(owner.status.is_none() && owner.metadata.labels.is_none());

        let full = registered.status.clone();
        assert!(full.as_ref().unwrap().conditions.as_ref().unwrap().len() >= 4);
        let slim = conditions_only(full.clone());
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        // The next post is the same whether it starts from the whole
        // status or from the slim one.
        assert_eq!(
            node_status::desired_status(&config.template, identity, slim.as_ref(), later),
            node_status::desired_status(&config.template, identity, full.as_ref(), later),
        );
        assert!(slim.unwrap().capacity.is_none());
    }
}
