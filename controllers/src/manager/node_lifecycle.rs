//! The node lifecycle controller's I/O. One periodic pass (every
//! `--node-monitor-period`) over the node cache, as Kubernetes'
//! `monitorNodeHealth`: it records heartbeats (Lease renewals, status
//! posts), marks nodes silent for the grace period Unknown and their pods
//! not ready, recomputes the zones' health and eviction rates, and adds or
//! removes the NoExecute taints (adding through each zone's token bucket).
//! A node change is also synced on its own for the NoSchedule taints its
//! conditions call for, at once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Node, Pod, Taint};
use api::taints::{NO_EXECUTE, NO_SCHEDULE};
use client::Client;
use runtime::{Action, Change, ObjectKey, Store, TokenBucket};

use super::{Error, index_by_node, pods_on_node};
use crate::node_lifecycle::{
    MANAGED_NO_EXECUTE, Probe, Settings, ZoneState, all_disrupted, eviction_rate, grace_period,
    has_no_execute, managed_no_schedule, no_execute_taint, no_schedule_taints, not_ready_status,
    observe, readiness, unknown_status, with_taints, zone_of, zone_states,
};

/// Where node leases live.
const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// What the controller's queue holds: the periodic pass, or one node's
/// NoSchedule taints.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    Monitor,
    Node(String),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Monitor => f.write_str("monitor"),
            Item::Node(name) => write!(f, "node/{name}"),
        }
    }
}

/// One zone's health and the bucket its NoExecute taints come from.
struct Zone {
    state: ZoneState,
    bucket: TokenBucket,
}

#[derive(Default)]
struct State {
    probes: HashMap<String, Probe>,
    zones: BTreeMap<String, Zone>,
    /// Every zone fully disrupted at the last pass.
    disrupted: bool,
}

pub struct NodeLifecycle {
    client: Client,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    settings: Settings,
    state: Mutex<State>,
    /// Whether the periodic pass was queued.
    monitoring: AtomicBool,
}

impl NodeLifecycle {
    pub fn new(
        client: Client,
        nodes: Store<Node>,
        leases: Store<Lease>,
        pods: Store<Pod>,
        settings: Settings,
    ) -> NodeLifecycle {
        index_by_node(&pods);
        NodeLifecycle {
            client,
            nodes,
            leases,
            pods,
            settings,
            state: Mutex::new(State::default()),
            monitoring: AtomicBool::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Each use leaves the maps consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A node change syncs its NoSchedule taints; the first change of all
    /// also starts the periodic pass, which then queues itself again.
    pub fn node_changed(&self, change: &Change<Node>) -> Vec<Item> {
        let mut items = Vec::new();
        if !self.monitoring.swap(true, Ordering::Relaxed) {
            items.push(Item::Monitor);
        }
        let name = change.object().metadata.name.clone().unwrap_or_default();
        if matches!(change, Change::Deleted(_)) {
            self.state().probes.remove(&name);
        } else {
            items.push(Item::Node(name));
        }
        items
    }

    async fn sync_no_schedule(&self, name: &str) -> Result<Action, Error> {
        let Some(node) = self.nodes.get(&ObjectKey::new("", name)) else {
            return Ok(Action::Done);
        };
        let wanted = no_schedule_taints(&node);
        let managed = managed_no_schedule();
        if let Some(taints) =
            with_taints(&node, NO_SCHEDULE, &managed, &wanted, runtime::clock::now())
        {
            self.write_taints(&node, taints).await?;
        }
        Ok(Action::Done)
    }

    async fn write_taints(&self, node: &Node, taints: Vec<Taint>) -> Result<(), Error> {
        let mut updated = node.clone();
        updated.spec.get_or_insert_with(Default::default).taints = Some(taints);
        // Guarded by the cached resourceVersion: a conflict retries on
        // the next change or pass, from a fresher cache.
        self.client.update(&updated).await?;
        Ok(())
    }

    /// The periodic pass; returns when to run it again.
    async fn monitor(&self) -> Result<Action, Error> {
        let tick = tokio::time::Instant::now();
        let now = tick.into_std();
        let nodes = self.nodes.list();
        let mut failures = Vec::new();

        // Heartbeats, and nodes gone silent.
        let mut silent = Vec::new();
        {
            let mut state = self.state();
            for node in &nodes {
                let name = node.metadata.name.clone().unwrap_or_default();
                let lease = self
                    .leases
                    .get(&ObjectKey::new(NODE_LEASE_NAMESPACE, &name));
                let probe = observe(state.probes.get(&name), node, lease.as_deref(), now);
                if now.saturating_duration_since(probe.seen_at)
                    >= grace_period(node, &self.settings)
                {
                    silent.push(node.clone());
                }
                state.probes.insert(name, probe);
            }
        }
        let mut nodes: HashMap<String, Arc<Node>> = nodes
            .into_iter()
            .map(|node| (node.metadata.name.clone().unwrap_or_default(), node))
            .collect();
        for node in silent {
            let name = node.metadata.name.clone().unwrap_or_default();
            if let Some(status) = unknown_status(&node, runtime::clock::now()) {
                tracing::info!(node = %name, "node stopped posting status; its conditions are Unknown");
                let mut updated = (*node).clone();
                updated.status = Some(status);
                match self.client.update_status(&updated).await {
                    // Taint from what was written, not the stale cache.
                    Ok(written) => {
                        nodes.insert(name.clone(), Arc::new(written));
                    }
                    Err(error) => failures.push(format!("node {name}: {error}")),
                }
            }
            failures.extend(self.mark_pods_not_ready(&name).await);
        }

        // Zones, and NoExecute taints.
        let zones = zone_states(nodes.values().map(AsRef::as_ref), &self.settings);
        let disrupted = all_disrupted(&zones);
        {
            let mut state = self.state();
            if disrupted != state.disrupted {
                if disrupted {
                    tracing::warn!(
                        "every zone is fully disrupted: no NoExecute taints until a node is ready again"
                    );
                } else {
                    tracing::info!("a zone has ready nodes again: NoExecute taints resume");
                }
                state.disrupted = disrupted;
            }
            state.zones.retain(|zone, _| zones.contains_key(zone));
            for (zone, (zone_state, size)) in &zones {
                let rate = eviction_rate(*zone_state, *size, &self.settings);
                let entry = state.zones.entry(zone.clone()).or_insert_with(|| Zone {
                    state: *zone_state,
                    bucket: TokenBucket::new(rate, 1),
                });
                if entry.state != *zone_state {
                    tracing::info!(zone = %zone.replace('\u{0}', ""), from = ?entry.state, to = ?zone_state, "zone health changed");
                    entry.state = *zone_state;
                }
                if entry.bucket.qps() != rate {
                    entry.bucket.set_qps(rate, tick);
                }
            }
        }
        let mut next = self.settings.monitor_period;
        let mut pending: Vec<&Arc<Node>> = nodes.values().collect();
        pending.sort_by_key(|node| node.metadata.name.clone());
        for node in pending {
            let wanted: Vec<&str> = if disrupted {
                Vec::new()
            } else {
                no_execute_taint(readiness(node)).into_iter().collect()
            };
            let Some(taints) = with_taints(
                node,
                NO_EXECUTE,
                &MANAGED_NO_EXECUTE,
                &wanted,
                runtime::clock::now(),
            ) else {
                continue;
            };
            let adds = wanted.iter().any(|key| !has_no_execute(node, key));
            if adds {
                let taken = {
                    let mut state = self.state();
                    match state.zones.get_mut(&zone_of(node)) {
                        Some(zone) => zone.bucket.try_take(tick),
                        None => Err(None),
                    }
                };
                match taken {
                    Ok(()) => {}
                    Err(wait) => {
                        if let Some(wait) = wait {
                            next = next.min(wait.max(Duration::from_millis(10)));
                        }
                        continue;
                    }
                }
            }
            let name = node.metadata.name.as_deref().unwrap_or("");
            tracing::info!(node = name, taints = ?wanted, "NoExecute taints of the node changed");
            if let Err(error) = self.write_taints(node, taints).await {
                failures.push(format!("node {name}: {error}"));
            }
        }
        for failure in &failures {
            tracing::warn!("node lifecycle: {failure}");
        }
        Ok(Action::requeue_after(next))
    }

    /// Sets the pods of an Unknown node not ready; returns what failed.
    async fn mark_pods_not_ready(&self, node: &str) -> Vec<String> {
        let mut failures = Vec::new();
        for pod in pods_on_node(&self.pods, node) {
            let Some(status) = not_ready_status(&pod, runtime::clock::now()) else {
                continue;
            };
            let mut updated = (*pod).clone();
            updated.status = Some(status);
            if let Err(error) = self.client.update_status(&updated).await
                && !error.is_not_found()
            {
                let name = pod.metadata.name.as_deref().unwrap_or("");
                failures.push(format!("pod {name} on node {node}: {error}"));
            }
        }
        failures
    }
}

impl super::Reconciler for NodeLifecycle {
    type Key = Item;

    async fn reconcile(&self, item: Item) -> Result<Action, Error> {
        match item {
            Item::Monitor => self.monitor().await,
            Item::Node(name) => self.sync_no_schedule(&name).await,
        }
    }
}
