//! Watching the cluster from the start of a run: per-pod timings (created,
//! bound, running) for the report, counters for the progress bars, and the
//! recording `--verify` replays.
//!
//! Times are when this process saw each event, all through the same watch,
//! so created→bound and created→running share one clock and one delay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{Client, ListParams, WatchEvent};
use futures::StreamExt;
use runtime::WatcherEvent;

use crate::scenario::PHASE_LABEL;
use crate::verify::{EventType, Recording};

/// What is known of one pod of the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct PodTimes {
    pub(crate) uid: String,
    pub(crate) phase: String,
    pub(crate) created: Option<Duration>,
    pub(crate) bound: Option<Duration>,
    pub(crate) running: Option<Duration>,
    pub(crate) deleted: bool,
    /// Latest PodScheduled=False message, if any.
    pub(crate) unschedulable_message: Option<String>,
}

/// The observed state, shared between the watch tasks and the driver.
#[derive(Debug)]
pub(crate) struct Observed {
    pub(crate) start: Instant,
    namespace: String,
    pub(crate) pods: HashMap<String, PodTimes>,
    /// Pod names in the order they were seen bound (churn deletes from the front).
    pub(crate) bound_order: Vec<String>,
    pub(crate) churn_cursor: usize,
    pub(crate) nodes_ready: usize,
    pub(crate) nodes: HashMap<String, bool>,
    pub(crate) created: usize,
    pub(crate) bound: usize,
    pub(crate) running: usize,
    pub(crate) deleted: usize,
    /// Pods that ever reported PodScheduled=False.
    pub(crate) ever_unschedulable: usize,
    pub(crate) recording: Option<Recording>,
    /// Times a watch fell behind and relisted: changes during the gap are
    /// seen late, at the relist.
    pub(crate) relists: u32,
    /// Watch errors other than relists, for the report.
    pub(crate) watch_errors: Vec<String>,
}

/// A cheap handle on the observed state. The lock is a std mutex: nothing
/// awaits while holding it.
#[derive(Clone, Debug)]
pub(crate) struct Observer {
    inner: Arc<Mutex<Observed>>,
}

impl Observer {
    pub(crate) fn new(namespace: &str, record: bool) -> Observer {
        Observer {
            inner: Arc::new(Mutex::new(Observed {
                start: Instant::now(),
                namespace: namespace.to_string(),
                pods: HashMap::new(),
                bound_order: Vec::new(),
                churn_cursor: 0,
                nodes_ready: 0,
                nodes: HashMap::new(),
                created: 0,
                bound: 0,
                running: 0,
                deleted: 0,
                ever_unschedulable: 0,
                relists: 0,
                recording: record.then(Recording::default),
                watch_errors: Vec::new(),
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Observed> {
        // A panic while holding the lock leaves counters usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts the pod and node watches; they run until the returned handles
    /// are aborted. Resolves once both have listed, so nothing after this
    /// call is missed.
    pub(crate) async fn start(&self, client: &Client) -> Vec<tokio::task::JoinHandle<()>> {
        let (pods_listed, pods_ready) = tokio::sync::oneshot::channel();
        let (nodes_listed, nodes_ready) = tokio::sync::oneshot::channel();
        let pods = tokio::spawn(watch_pods(client.clone(), self.clone(), pods_listed));
        let nodes = tokio::spawn(watch_nodes(client.clone(), self.clone(), nodes_listed));
        let _ = pods_ready.await;
        let _ = nodes_ready.await;
        vec![pods, nodes]
    }
}

async fn watch_pods(client: Client, observer: Observer, listed: tokio::sync::oneshot::Sender<()>) {
    let mut listed = Some(listed);
    let mut stream = std::pin::pin!(runtime::watcher::<Pod>(client, "", ListParams::default()));
    while let Some(item) = stream.next().await {
        let mut observed = observer.lock();
        let at = observed.start.elapsed();
        match item {
            Ok(WatcherEvent::Restarted { objects, .. }) => {
                if listed.is_none() {
                    observed.relists += 1;
                    if let Some(recording) = observed.recording.as_mut() {
                        recording.relists += 1;
                    }
                }
                for pod in &objects {
                    observed.pod_event(EventType::Added, at, pod);
                }
                if let Some(sender) = listed.take() {
                    let _ = sender.send(());
                }
            }
            Ok(WatcherEvent::Applied(events)) => {
                for event in &events {
                    match event {
                        WatchEvent::Added(pod) => observed.pod_event(EventType::Added, at, pod),
                        WatchEvent::Modified(pod) => {
                            observed.pod_event(EventType::Modified, at, pod)
                        }
                        WatchEvent::Deleted(pod) => observed.pod_event(EventType::Deleted, at, pod),
                        WatchEvent::Bookmark { .. } => {}
                    }
                }
            }
            Err(error) => observed.watch_errors.push(format!("pods: {error}")),
        }
    }
}

async fn watch_nodes(client: Client, observer: Observer, listed: tokio::sync::oneshot::Sender<()>) {
    let mut listed = Some(listed);
    let mut stream = std::pin::pin!(runtime::watcher::<Node>(client, "", ListParams::default()));
    while let Some(item) = stream.next().await {
        let mut observed = observer.lock();
        let at = observed.start.elapsed();
        match item {
            Ok(WatcherEvent::Restarted { objects, .. }) => {
                if listed.is_none() {
                    observed.relists += 1;
                    if let Some(recording) = observed.recording.as_mut() {
                        recording.relists += 1;
                    }
                }
                for node in &objects {
                    observed.node_event(EventType::Added, at, node);
                }
                if let Some(sender) = listed.take() {
                    let _ = sender.send(());
                }
            }
            Ok(WatcherEvent::Applied(events)) => {
                for event in &events {
                    match event {
                        WatchEvent::Added(node) => observed.node_event(EventType::Added, at, node),
                        WatchEvent::Modified(node) => {
                            observed.node_event(EventType::Modified, at, node)
                        }
                        WatchEvent::Deleted(node) => {
                            observed.node_event(EventType::Deleted, at, node)
                        }
                        WatchEvent::Bookmark { .. } => {}
                    }
                }
            }
            Err(error) => observed.watch_errors.push(format!("nodes: {error}")),
        }
    }
}

fn millis(at: Duration) -> u64 {
    u64::try_from(at.as_millis()).unwrap_or(u64::MAX)
}

impl Observed {
    fn pod_event(&mut self, event: EventType, at: Duration, pod: &Pod) {
        if let Some(recording) = self.recording.as_mut() {
            recording.record_pod(event, millis(at), pod);
        }
        if pod.metadata.namespace.as_deref() != Some(self.namespace.as_str()) {
            return;
        }
        let Some(name) = pod.metadata.name.clone() else {
            return;
        };
        let times = self.pods.entry(name.clone()).or_default();
        if times.created.is_none() {
            times.created = Some(at);
            times.uid = pod.metadata.uid.clone().unwrap_or_default();
            times.phase = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(PHASE_LABEL))
                .cloned()
                .unwrap_or_default();
            self.created += 1;
        }
        let node_name = pod.spec.as_ref().and_then(|spec| spec.node_name.as_deref());
        if times.bound.is_none() && node_name.is_some_and(|node| !node.is_empty()) {
            times.bound = Some(at);
            self.bound += 1;
            self.bound_order.push(name.clone());
        }
        let status = pod.status.as_ref();
        if times.running.is_none() && status.and_then(|s| s.phase.as_deref()) == Some("Running") {
            times.running = Some(at);
            self.running += 1;
        }
        let unschedulable = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .and_then(|c| c.message.clone());
        if let Some(message) = unschedulable {
            if times.unschedulable_message.is_none() {
                self.ever_unschedulable += 1;
            }
            times.unschedulable_message = Some(message);
        }
        if event == EventType::Deleted && !times.deleted {
            times.deleted = true;
            self.deleted += 1;
        }
    }

    fn node_event(&mut self, event: EventType, at: Duration, node: &Node) {
        if let Some(recording) = self.recording.as_mut() {
            recording.record_node(event, millis(at), node);
        }
        let Some(name) = node.metadata.name.clone() else {
            return;
        };
        let ready = event != EventType::Deleted
            && node
                .status
                .as_ref()
                .and_then(|status| status.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
        let before = self.nodes.insert(name.clone(), ready).unwrap_or(false);
        if event == EventType::Deleted {
            self.nodes.remove(&name);
        }
        match (before, ready) {
            (false, true) => self.nodes_ready += 1,
            (true, false) => self.nodes_ready = self.nodes_ready.saturating_sub(1),
            _ => {}
        }
    }

    /// Live pods of the run that are not yet bound (or running, with
    /// `until_running`).
    pub(crate) fn not_done(&self, until_running: bool) -> usize {
        self.pods
            .values()
            .filter(|times| !times.deleted)
            .filter(|times| {
                if until_running {
                    times.running.is_none()
                } else {
                    times.bound.is_none()
                }
            })
            .count()
    }

    /// Live pods not yet bound.
    pub(crate) fn unbound(&self) -> usize {
        self.not_done(false)
    }

    /// The next `count` bound, live pods (oldest binding first) for churn.
    pub(crate) fn take_bound(&mut self, count: usize) -> Vec<(String, String)> {
        let mut taken = Vec::new();
        while taken.len() < count && self.churn_cursor < self.bound_order.len() {
            let name = self.bound_order[self.churn_cursor].clone();
            self.churn_cursor += 1;
            if let Some(times) = self.pods.get(&name)
                && !times.deleted
            {
                taken.push((name, times.uid.clone()));
            }
        }
        taken
    }
}
