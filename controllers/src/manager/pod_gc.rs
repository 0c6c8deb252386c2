//! The pod garbage collector's I/O: one pass every `--pod-gc-period`
//! over the pod and node caches, deleting what [`crate::pod_gc::plan`]
//! finds with grace period 0. A pod whose node is missing from the cache
//! waits out a quarantine (the cache may lag a new node) and a live lookup
//! of the node before it goes, as Kubernetes' PodGC does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{Client, DeleteParams};
use runtime::{Action, Change, Store};

use super::Error;
use crate::pod_gc::{disrupted_status, plan};

/// The collector's timers and threshold.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often a pass runs (Kubernetes: 20 s).
    pub period: Duration,
    /// How long a node must be missing from the cache before its pods go
    /// (Kubernetes: 40 s).
    pub quarantine: Duration,
    /// `--terminated-pod-gc-threshold` (0: keep every finished pod).
    pub terminated_threshold: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            period: Duration::from_secs(20),
            quarantine: Duration::from_secs(40),
            terminated_threshold: 12_500,
        }
    }
}

/// The single item of the collector's queue: the next pass.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pass;

impl std::fmt::Display for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pass")
    }
}

pub struct PodGc {
    client: Client,
    pods: Store<Pod>,
    nodes: Store<Node>,
    settings: Settings,
    /// Node names missing from the cache, and since when.
    missing: Mutex<HashMap<String, Instant>>,
    started: AtomicBool,
}

impl PodGc {
    pub fn new(client: Client, pods: Store<Pod>, nodes: Store<Node>, settings: Settings) -> PodGc {
        PodGc {
            client,
            pods,
            nodes,
            settings,
            missing: Mutex::new(HashMap::new()),
            started: AtomicBool::new(false),
        }
    }

    fn missing(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        // One insert or remove at a time: always consistent.
        self.missing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The first pod change starts the passes, which then queue themselves.
    pub fn pod_changed(&self, _change: &Change<Pod>) -> Vec<Pass> {
        match self.started.swap(true, Ordering::Relaxed) {
            false => vec![Pass],
            true => Vec::new(),
        }
    }

    async fn force_delete(&self, pod: &Pod, mark: bool) -> Result<(), client::Error> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let name = pod.metadata.name.as_deref().unwrap_or("");
        if mark {
            let mut marked = pod.clone();
            marked.status = Some(disrupted_status(pod, runtime::clock::now()));
            match self.client.update_status(&marked).await {
                Ok(_) => {}
                Err(error) if error.is_not_found() => return Ok(()),
                // The delete below is what matters.
                Err(error) => tracing::debug!(%error, "marking the pod failed"),
            }
        }
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            precondition_uid: pod.metadata.uid.clone(),
            ..DeleteParams::default()
        };
        match self.client.delete::<Pod>(namespace, name, &params).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() || error.is_conflict() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Whether `node` is gone: missing from the cache for the quarantine,
    /// and not found when asked.
    async fn node_gone(&self, node: &str, now: Instant) -> Result<bool, client::Error> {
        let since = *self.missing().entry(node.to_string()).or_insert(now);
        if now.saturating_duration_since(since) < self.settings.quarantine {
            return Ok(false);
        }
        match self.client.get::<Node>("", node).await {
            Ok(_) => Ok(false),
            Err(error) if error.is_not_found() => Ok(true),
            Err(error) => Err(error),
        }
    }

    async fn pass(&self) -> Result<Action, Error> {
        let now = Instant::now();
        let pods = self.pods.list();
        let nodes = self.nodes.list();
        let by_name: HashMap<&str, &Node> = nodes
            .iter()
            .map(|node| (node.metadata.name.as_deref().unwrap_or(""), node.as_ref()))
            .collect();
        let plan = plan(
            pods.iter().map(Arc::as_ref),
            &by_name,
            self.settings.terminated_threshold,
        );
        self.missing()
            .retain(|node, _| !by_name.contains_key(node.as_str()));
        let mut failures = 0;
        for pod in plan.terminated {
            failures += usize::from(self.force_delete(pod, false).await.is_err());
        }
        for pod in plan
            .unscheduled_terminating
            .into_iter()
            .chain(plan.out_of_service)
        {
            failures += usize::from(self.force_delete(pod, true).await.is_err());
        }
        let mut gone: HashMap<String, bool> = HashMap::new();
        for pod in plan.orphaned {
            let node = pod
                .spec
                .as_ref()
                .and_then(|spec| spec.node_name.clone())
                .unwrap_or_default();
            let is_gone = match gone.get(&node) {
                Some(is_gone) => *is_gone,
                None => {
                    let is_gone = self.node_gone(&node, now).await.unwrap_or(false);
                    gone.insert(node.clone(), is_gone);
                    is_gone
                }
            };
            if is_gone {
                tracing::info!(pod = ?pod.metadata.name, node, "deleting a pod of a node that no longer exists");
                failures += usize::from(self.force_delete(pod, true).await.is_err());
            }
        }
        if failures > 0 {
            tracing::warn!(
                failures,
                "pod garbage collection: deletes failed; retrying next pass"
            );
        }
        // Come back soon for pods in quarantine, else after the period.
        let next = match self.missing().values().min() {
            Some(since) => (*since + self.settings.quarantine)
                .saturating_duration_since(now)
                .clamp(Duration::from_millis(10), self.settings.period),
            None => self.settings.period,
        };
        Ok(Action::requeue_after(next))
    }
}

impl super::Reconciler for PodGc {
    type Key = Pass;

    async fn reconcile(&self, _pass: Pass) -> Result<Action, Error> {
        self.pass().await
    }
}
