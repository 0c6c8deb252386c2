//! The scheduling loop: one OS thread that owns the `ClusterState` (the
//! single writer) and the `SchedulingQueue`, reacts to `LoopEvent`s, and
//! schedules batches of pods on the published snapshot (rayon inside the
//! batch). Its outputs — bindings, FailedScheduling reports, preemptions —
//! go to async writers over channels, so scheduling never waits on the
//! network.
//!
//! One round: take every event that is waiting (blocking only when the
//! last batch drained the queue), wake unschedulable pods with the
//! coalesced queue events, then pop and schedule one batch.

mod cycle;
mod pods;
mod preemptions;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use scheduler::model::NodeInfo;
use scheduler::preemption::PreemptionConfig;
use scheduler::queue::{QueueConfig, QueueEvent, SchedulingQueue};
use scheduler::{ClusterEvent, ClusterState, PodInfo, Profiles, SchedulingContext, Snapshot};
use scheduler::{SnapshotReader, model::PodDisruptionBudgetInfo};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::{Algorithm, ProfileConfig};
use crate::event::{
    BindRequest, Change, Changes, LoopEvent, Membership, NamespaceInfo, Preemption, Report,
};
use crate::metrics::Metrics;
use preemptions::Preemptions;

/// Events handled before the loop looks at the queue again.
const MAX_EVENTS_PER_ROUND: usize = 4096;
/// How often the pending-pods gauges are refreshed.
const GAUGE_PERIOD: Duration = Duration::from_millis(250);

/// What the loop needs to know, fixed at start.
pub(crate) struct LoopSettings {
    pub(crate) algorithm: Algorithm,
    pub(crate) profiles: Vec<ProfileConfig>,
    pub(crate) batch_size: usize,
    pub(crate) parallelism: usize,
    pub(crate) queue: QueueConfig,
    pub(crate) shard_count: u32,
    pub(crate) shard_index: u32,
    pub(crate) seed: u64,
}

/// Where the loop's decisions go.
pub(crate) struct Outputs {
    pub(crate) binder: UnboundedSender<Vec<BindRequest>>,
    pub(crate) reporter: UnboundedSender<Report>,
    pub(crate) preemptor: UnboundedSender<Preemption>,
}

/// Failure to start the loop.
#[derive(Debug, thiserror::Error)]
pub enum LoopStartError {
    #[error("building the scheduling thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    #[error("spawning the scheduling thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Starts the loop thread; it returns on `LoopEvent::Stop` or when every
/// sender is gone.
pub(crate) fn spawn(
    settings: LoopSettings,
    events: Receiver<LoopEvent>,
    outputs: Outputs,
    metrics: Arc<Metrics>,
) -> Result<std::thread::JoinHandle<()>, LoopStartError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.parallelism)
        .thread_name(|index| format!("schedule-{index}"))
        .build()?;
    let state = SchedulingLoop::new(settings, pool, outputs, metrics);
    Ok(std::thread::Builder::new()
        .name("scheduling-loop".to_string())
        .spawn(move || state.run(events))?)
}

/// A pod placed on a node whose binding has not come back yet.
struct Binding {
    /// The bound form counted in the cluster state.
    assumed: Arc<PodInfo>,
    /// A watch event (bound elsewhere, or deleted) replaced the assumption:
    /// a failed bind must not undo anything.
    settled: bool,
    /// When its scheduling attempt started.
    started: Instant,
    attempts: u32,
}

/// Which kinds have been listed once; scheduling waits for all.
#[derive(Default)]
struct Synced {
    nodes: bool,
    pods: bool,
    pdbs: bool,
    namespaces: bool,
}

impl Synced {
    fn all(&self) -> bool {
        self.nodes && self.pods && self.pdbs && self.namespaces
    }
}

/// The loop's state. Owned by its thread; nothing here is shared.
struct SchedulingLoop {
    settings: LoopSettings,
    profiles: Profiles,
    /// DefaultPreemption arguments of the profiles that run it.
    preemption: HashMap<String, PreemptionConfig>,
    cluster: ClusterState,
    reader: SnapshotReader,
    queue: SchedulingQueue,
    context: SchedulingContext,
    pool: rayon::ThreadPool,
    /// Zero of the queue's clock.
    started: Instant,
    /// Known nodes, to skip updates that change nothing the scheduler reads.
    nodes: HashMap<String, NodeInfo>,
    /// Latest view of every known pod, by uid.
    pods: HashMap<String, Arc<PodInfo>>,
    /// Pods with a bind in flight, by uid.
    binding: HashMap<String, Binding>,
    /// Pods with a FailedScheduling report, to cancel when they are bound.
    reported: HashSet<String>,
    /// Preemptions decided and not yet seen through.
    preemptions: Preemptions,
    pdbs: HashSet<String>,
    namespaces: HashMap<String, BTreeMap<String, String>>,
    synced: Synced,
    membership: Membership,
    /// Queue events seen this round, applied once each.
    queue_events: Vec<QueueEvent>,
    /// The working snapshot differs from the published one.
    dirty: bool,
    /// Next node of the noop algorithm.
    next_round_robin: usize,
    outputs: Outputs,
    metrics: Arc<Metrics>,
    last_gauges: Instant,
}

impl SchedulingLoop {
    fn new(
        settings: LoopSettings,
        pool: rayon::ThreadPool,
        outputs: Outputs,
        metrics: Arc<Metrics>,
    ) -> SchedulingLoop {
        let cluster = ClusterState::new();
        let reader = cluster.reader();
        let mut context = SchedulingContext::new(settings.seed);
        context.node_parallelism = false;
        SchedulingLoop {
            profiles: Profiles::new(settings.profiles.iter().map(|p| p.profile.clone())),
            preemption: settings
                .profiles
                .iter()
                .filter_map(|p| {
                    p.preemption
                        .clone()
                        .map(|config| (p.profile.scheduler_name.clone(), config))
                })
                .collect(),
            queue: SchedulingQueue::new(settings.queue.clone()),
            settings,
            cluster,
            reader,
            context,
            pool,
            started: Instant::now(),
            nodes: HashMap::new(),
            pods: HashMap::new(),
            binding: HashMap::new(),
            reported: HashSet::new(),
            preemptions: Preemptions::default(),
            pdbs: HashSet::new(),
            namespaces: HashMap::new(),
            synced: Synced::default(),
            membership: Membership {
                active: false,
                live_shards: Vec::new(),
            },
            queue_events: Vec::new(),
            dirty: false,
            next_round_robin: 0,
            outputs,
            metrics,
            last_gauges: Instant::now(),
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// How long to wait for an event when there is nothing to schedule:
    /// short enough that backoffs expire on time.
    fn idle_wait(&self) -> Duration {
        (self.settings.queue.initial_backoff / 4)
            .clamp(Duration::from_millis(2), Duration::from_millis(100))
    }

    fn run(mut self, events: Receiver<LoopEvent>) {
        let mut busy = false;
        loop {
            let first = if busy {
                match events.try_recv() {
                    Ok(event) => Some(event),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match events.recv_timeout(self.idle_wait()) {
                    Ok(event) => Some(event),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            if let Some(event) = first {
                if !self.handle(event) {
                    return;
                }
                for _ in 0..MAX_EVENTS_PER_ROUND {
                    match events.try_recv() {
                        Ok(event) => {
                            if !self.handle(event) {
                                return;
                            }
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                }
            }
            self.flush_queue_events();
            busy = self.schedule_batch();
            if self.last_gauges.elapsed() >= GAUGE_PERIOD {
                self.last_gauges = Instant::now();
                let lengths = self.queue.lengths();
                self.metrics.record(|recorder| recorder.pending(lengths));
            }
        }
    }

    /// Applies one event; `false` means stop.
    fn handle(&mut self, event: LoopEvent) -> bool {
        match event {
            LoopEvent::Nodes(changes) => self.apply_nodes(changes),
            LoopEvent::Pods(changes) => self.apply_pods(changes),
            LoopEvent::Pdbs(changes) => self.apply_pdbs(changes),
            LoopEvent::Namespaces(changes) => self.apply_namespaces(changes),
            LoopEvent::Bound(outcomes) => self.bound(outcomes),
            LoopEvent::Membership(membership) => self.set_membership(membership),
            LoopEvent::Preempted {
                preemptor,
                not_deleted,
            } => {
                self.preemptions.not_going(&not_deleted);
                self.queue.ungate(&preemptor);
            }
            LoopEvent::Stop => return false,
        }
        true
    }

    fn note(&mut self, event: QueueEvent) {
        if !self.queue_events.contains(&event) {
            self.queue_events.push(event);
        }
    }

    fn flush_queue_events(&mut self) {
        if self.queue_events.is_empty() {
            return;
        }
        let now = self.now();
        for event in std::mem::take(&mut self.queue_events) {
            self.queue.on_event(event, now);
        }
    }

    /// The snapshot to schedule on: the working state, published if it
    /// changed since the last batch.
    fn snapshot(&mut self) -> Arc<Snapshot> {
        if self.dirty {
            self.dirty = false;
            self.cluster.publish()
        } else {
            self.reader.load()
        }
    }

    fn apply(&mut self, event: ClusterEvent) {
        self.cluster.apply(event);
        self.dirty = true;
    }

    fn apply_nodes(&mut self, changes: Changes<NodeInfo>) {
        if changes.restart {
            let present: HashSet<&str> = changes
                .changes
                .iter()
                .filter_map(|change| match change {
                    Change::Upsert(node) => Some(node.name.as_str()),
                    Change::Delete(_) => None,
                })
                .collect();
            let gone: Vec<String> = self
                .nodes
                .keys()
                .filter(|name| !present.contains(name.as_str()))
                .cloned()
                .collect();
            for name in gone {
                self.delete_node(name);
            }
            self.synced.nodes = true;
        }
        for change in changes.changes {
            match change {
                Change::Upsert(node) => self.upsert_node(node),
                Change::Delete(name) => self.delete_node(name),
            }
        }
    }

    fn upsert_node(&mut self, node: NodeInfo) {
        match self.nodes.get(&node.name) {
            Some(known) if *known == node => return,
            Some(_) => self.note(QueueEvent::NodeUpdated),
            None => self.note(QueueEvent::NodeAdded),
        }
        self.nodes.insert(node.name.clone(), node.clone());
        self.apply(ClusterEvent::NodeUpserted(node));
    }

    fn delete_node(&mut self, name: String) {
        if self.nodes.remove(&name).is_some() {
            self.apply(ClusterEvent::NodeDeleted { name });
        }
    }

    fn apply_pdbs(&mut self, changes: Changes<PodDisruptionBudgetInfo>) {
        if changes.restart {
            let present: HashSet<String> = changes
                .changes
                .iter()
                .filter_map(|change| match change {
                    Change::Upsert(pdb) => Some(format!("{}/{}", pdb.namespace, pdb.name)),
                    Change::Delete(_) => None,
                })
                .collect();
            let gone: Vec<String> = self.pdbs.difference(&present).cloned().collect();
            for key in gone {
                self.delete_pdb(key);
            }
            self.synced.pdbs = true;
        }
        for change in changes.changes {
            match change {
                Change::Upsert(pdb) => {
                    self.pdbs.insert(format!("{}/{}", pdb.namespace, pdb.name));
                    self.apply(ClusterEvent::PdbUpserted(pdb));
                }
                Change::Delete(key) => self.delete_pdb(key),
            }
        }
    }

    fn delete_pdb(&mut self, key: String) {
        if self.pdbs.remove(&key)
            && let Some((namespace, name)) = key.split_once('/')
        {
            self.apply(ClusterEvent::PdbDeleted {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
    }

    fn apply_namespaces(&mut self, changes: Changes<NamespaceInfo>) {
        if changes.restart {
            let present: HashSet<&str> = changes
                .changes
                .iter()
                .filter_map(|change| match change {
                    Change::Upsert(namespace) => Some(namespace.name.as_str()),
                    Change::Delete(_) => None,
                })
                .collect();
            let gone: Vec<String> = self
                .namespaces
                .keys()
                .filter(|name| !present.contains(name.as_str()))
                .cloned()
                .collect();
            for name in gone {
                self.delete_namespace(name);
            }
            self.synced.namespaces = true;
        }
        for change in changes.changes {
            match change {
                Change::Upsert(namespace) => {
                    if self.namespaces.get(&namespace.name) == Some(&namespace.labels) {
                        continue;
                    }
                    self.namespaces
                        .insert(namespace.name.clone(), namespace.labels.clone());
                    self.note(QueueEvent::NamespaceChanged);
                    self.apply(ClusterEvent::NamespaceUpserted {
                        name: namespace.name,
                        labels: namespace.labels,
                    });
                }
                Change::Delete(name) => self.delete_namespace(name),
            }
        }
    }

    fn delete_namespace(&mut self, name: String) {
        if self.namespaces.remove(&name).is_some() {
            self.apply(ClusterEvent::NamespaceDeleted { name });
        }
    }

    fn set_membership(&mut self, membership: Membership) {
        let shards_changed = membership.live_shards != self.membership.live_shards;
        if membership.active != self.membership.active {
            tracing::info!(
                active = membership.active,
                live_shards = ?membership.live_shards,
                "scheduling {}",
                if membership.active { "started" } else { "paused" }
            );
        }
        let active = membership.active;
        self.membership = membership;
        self.metrics.record(|recorder| recorder.leader(active));
        if shards_changed {
            tracing::info!(live_shards = ?self.membership.live_shards, "shard membership changed");
            self.reconcile_ownership();
        }
    }
}
