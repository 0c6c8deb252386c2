//! The scheduling queue, sans-IO: every method takes `now` (a monotonic
//! time since the shell started) instead of reading a clock.
//!
//! - **activeQ**: pods ready to schedule, highest priority first, then
//!   earliest enqueue time.
//! - **backoffQ**: failed pods waiting out `initial × 2^(attempts−1)`, capped.
//! - **unschedulable pool**: pods no node fits, woken by cluster events that
//!   can resolve what rejected them (or after `max_unschedulable_duration`);
//!   a *gated* pod waits there for `ungate` alone (a preemptor while its
//!   preemption's API calls are in flight, as kube-scheduler's asynchronous
//!   preemption holds it).
//!
//! Heaps use lazy deletion: each entry carries the pod's generation, and
//! stale entries are skipped when popped.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::model::PodInfo;
use crate::status::{FitError, RejectReason, Rejection};

/// Queue timing; defaults are kube-scheduler's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_unschedulable_duration: Duration,
    /// How often the unschedulable pool is scanned for pods past
    /// `max_unschedulable_duration`.
    pub unschedulable_flush_interval: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            max_unschedulable_duration: Duration::from_secs(300),
            unschedulable_flush_interval: Duration::from_secs(30),
        }
    }
}

/// Filter plugins as bits, to record what rejected a pod.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PluginMask(pub u16);

impl PluginMask {
    pub const NODE_UNSCHEDULABLE: PluginMask = PluginMask(1);
    pub const NODE_NAME: PluginMask = PluginMask(1 << 1);
    pub const TAINT_TOLERATION: PluginMask = PluginMask(1 << 2);
    pub const NODE_AFFINITY: PluginMask = PluginMask(1 << 3);
    pub const NODE_PORTS: PluginMask = PluginMask(1 << 4);
    pub const NODE_RESOURCES_FIT: PluginMask = PluginMask(1 << 5);
    pub const POD_TOPOLOGY_SPREAD: PluginMask = PluginMask(1 << 6);
    pub const INTER_POD_AFFINITY: PluginMask = PluginMask(1 << 7);
    pub const ALL: PluginMask = PluginMask(0xff);

    pub fn union(self, other: PluginMask) -> PluginMask {
        PluginMask(self.0 | other.0)
    }

    pub fn intersects(self, other: PluginMask) -> bool {
        self.0 & other.0 != 0
    }

    /// The plugins that rejected nodes in a fit error.
    pub fn from_fit_error(error: &FitError) -> PluginMask {
        let mut mask = PluginMask::default();
        for (_, rejection) in &error.node_rejections {
            mask = mask.union(match rejection {
                Rejection::Resources(_) => PluginMask::NODE_RESOURCES_FIT,
                Rejection::Plugin(reason) => match reason {
                    RejectReason::NodeNameMismatch => PluginMask::NODE_NAME,
                    RejectReason::NodeUnschedulable => PluginMask::NODE_UNSCHEDULABLE,
                    RejectReason::UntoleratedTaint(_) => PluginMask::TAINT_TOLERATION,
                    RejectReason::NodeAffinityMismatch => PluginMask::NODE_AFFINITY,
                    RejectReason::NodePortsConflict => PluginMask::NODE_PORTS,
                    RejectReason::PodAffinityMismatch
                    | RejectReason::PodAntiAffinityMismatch
                    | RejectReason::ExistingPodsAntiAffinityMismatch => {
                        PluginMask::INTER_POD_AFFINITY
                    }
                    RejectReason::SpreadConstraintMismatch | RejectReason::SpreadMissingLabel => {
                        PluginMask::POD_TOPOLOGY_SPREAD
                    }
                },
            });
        }
        mask
    }
}

/// Cluster changes that may make unschedulable pods schedulable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueEvent {
    NodeAdded,
    NodeUpdated,
    /// A bound pod was deleted (frees resources and ports, lifts anti-affinity).
    AssignedPodDeleted,
    /// A pod was bound (may satisfy affinity or change spread).
    AssignedPodAdded,
    /// A bound pod's labels changed.
    AssignedPodUpdated,
    NamespaceChanged,
}

impl QueueEvent {
    /// The plugins whose rejections this event may resolve.
    pub fn resolves(self) -> PluginMask {
        match self {
            QueueEvent::NodeAdded | QueueEvent::NodeUpdated => PluginMask::ALL,
            QueueEvent::AssignedPodDeleted => PluginMask::NODE_RESOURCES_FIT
                .union(PluginMask::NODE_PORTS)
                .union(PluginMask::INTER_POD_AFFINITY)
                .union(PluginMask::POD_TOPOLOGY_SPREAD),
            QueueEvent::AssignedPodAdded | QueueEvent::AssignedPodUpdated => {
                PluginMask::INTER_POD_AFFINITY.union(PluginMask::POD_TOPOLOGY_SPREAD)
            }
            QueueEvent::NamespaceChanged => PluginMask::INTER_POD_AFFINITY,
        }
    }
}

/// A pod as the queue tracks it.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    pub pod: Arc<PodInfo>,
    /// When the pod was last (re-)added; orders equal priorities.
    pub timestamp: Duration,
    /// Scheduling attempts so far (incremented on pop).
    pub attempts: u32,
    /// When the pod first entered the queue.
    pub initial_timestamp: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Location {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

struct Tracked {
    queued: QueuedPod,
    location: Location,
    generation: u64,
    /// Plugins that rejected the pod last time (for event wake-ups).
    rejected_by: PluginMask,
    /// Events seen while the pod was in flight.
    events_in_flight: PluginMask,
    /// `activate` was called while the pod was in flight: if it comes
    /// back, it goes straight to activeQ.
    activate_on_requeue: bool,
    /// Not scheduled until `ungate`.
    gated: bool,
}

impl Tracked {
    /// Into the unschedulable pool; the new generation invalidates any heap
    /// entry the pod had.
    fn park(&mut self) {
        self.location = Location::Unschedulable;
        self.generation += 1;
    }
}

#[derive(PartialEq, Eq)]
struct ActiveEntry {
    priority: i32,
    timestamp: Duration,
    sequence: u64,
    uid: Arc<str>,
    generation: u64,
}

impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.timestamp.cmp(&self.timestamp))
            .then_with(|| other.sequence.cmp(&self.sequence))
    }
}

impl PartialOrd for ActiveEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(PartialEq, Eq)]
struct BackoffEntry {
    expiry: Duration,
    sequence: u64,
    uid: Arc<str>,
    generation: u64,
}

impl Ord for BackoffEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .expiry
            .cmp(&self.expiry)
            .then_with(|| other.sequence.cmp(&self.sequence))
    }
}

impl PartialOrd for BackoffEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Queue sizes, for the `pending_pods` gauge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueLengths {
    pub active: usize,
    pub backoff: usize,
    pub unschedulable: usize,
    pub in_flight: usize,
}

/// The scheduling queue.
pub struct SchedulingQueue {
    config: QueueConfig,
    pods: HashMap<Arc<str>, Tracked>,
    active: BinaryHeap<ActiveEntry>,
    backoff: BinaryHeap<BackoffEntry>,
    sequence: u64,
    /// When the unschedulable pool was last scanned.
    last_unschedulable_flush: Duration,
}

impl SchedulingQueue {
    pub fn new(config: QueueConfig) -> Self {
        SchedulingQueue {
            config,
            pods: HashMap::new(),
            active: BinaryHeap::new(),
            backoff: BinaryHeap::new(),
            sequence: 0,
            last_unschedulable_flush: Duration::ZERO,
        }
    }

    /// Adds a new pending pod (or replaces a known one) into activeQ.
    pub fn add(&mut self, pod: Arc<PodInfo>, now: Duration) {
        let uid: Arc<str> = Arc::from(pod.uid.as_str());
        if let Some(tracked) = self.pods.get_mut(&uid) {
            tracked.queued.pod = pod;
            if tracked.location == Location::Unschedulable && !tracked.gated {
                // An update may make the pod schedulable: retry it.
                self.move_to_active_or_backoff(&uid, now);
            } else if tracked.location == Location::Active {
                self.push_active(&uid);
            }
            return;
        }
        self.pods.insert(
            uid.clone(),
            Tracked {
                queued: QueuedPod {
                    pod,
                    timestamp: now,
                    attempts: 0,
                    initial_timestamp: now,
                },
                location: Location::Active,
                generation: 0,
                rejected_by: PluginMask::default(),
                events_in_flight: PluginMask::default(),
                activate_on_requeue: false,
                gated: false,
            },
        );
        self.push_active(&uid);
    }

    /// Forgets a pod (deleted, or bound by someone else).
    pub fn delete(&mut self, uid: &str) {
        self.pods.remove(uid);
    }

    /// Whether the queue tracks the pod (active, backing off, unschedulable
    /// or in flight).
    pub fn contains(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    /// Moves expired backoff pods and long-unschedulable pods to activeQ.
    pub fn flush(&mut self, now: Duration) {
        while let Some(entry) = self.backoff.peek() {
            if entry.expiry > now {
                break;
            }
            let Some(entry) = self.backoff.pop() else {
                break;
            };
            let current = self.pods.get(&entry.uid).is_some_and(|t| {
                t.generation == entry.generation && t.location == Location::Backoff
            });
            if current {
                self.set_active(&entry.uid);
            }
        }
        if now < self.last_unschedulable_flush + self.config.unschedulable_flush_interval {
            return;
        }
        self.last_unschedulable_flush = now;
        let stale: Vec<Arc<str>> = self
            .pods
            .iter()
            .filter(|(_, tracked)| {
                tracked.location == Location::Unschedulable
                    && !tracked.gated
                    && now.saturating_sub(tracked.queued.timestamp)
                        >= self.config.max_unschedulable_duration
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in stale {
            self.move_to_active_or_backoff(&uid, now);
        }
    }

    /// Pops the most important ready pod (after flushing backoff).
    pub fn pop(&mut self, now: Duration) -> Option<QueuedPod> {
        self.flush(now);
        while let Some(entry) = self.active.pop() {
            let Some(tracked) = self.pods.get_mut(&entry.uid) else {
                continue;
            };
            if tracked.generation != entry.generation || tracked.location != Location::Active {
                continue;
            }
            tracked.location = Location::InFlight;
            tracked.queued.attempts += 1;
            tracked.events_in_flight = PluginMask::default();
            tracked.activate_on_requeue = false;
            return Some(tracked.queued.clone());
        }
        None
    }

    /// Pops up to `max` ready pods in queue order.
    pub fn pop_batch(&mut self, now: Duration, max: usize) -> Vec<QueuedPod> {
        self.flush(now);
        let mut batch = Vec::new();
        while batch.len() < max {
            match self.pop(now) {
                Some(pod) => batch.push(pod),
                None => break,
            }
        }
        batch
    }

    /// The pod was scheduled (bound or assumed): stop tracking it.
    pub fn done(&mut self, uid: &str) {
        self.pods.remove(uid);
    }

    /// The pod fits no node. It waits in the unschedulable pool until an
    /// event that may resolve `rejected_by` arrives — or goes straight to
    /// backoff if such an event arrived while it was being scheduled.
    pub fn requeue_unschedulable(&mut self, uid: &str, rejected_by: PluginMask, now: Duration) {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return;
        };
        tracked.queued.timestamp = now;
        tracked.rejected_by = rejected_by;
        let woken = rejected_by == PluginMask::default()
            || tracked.events_in_flight.intersects(rejected_by);
        let uid: Arc<str> = Arc::from(uid);
        if self.requeue_overridden(&uid) {
            return;
        }
        if woken {
            self.set_backoff(&uid);
        } else if let Some(tracked) = self.pods.get_mut(&uid) {
            tracked.park();
        }
    }

    /// Scheduling failed with an error (or the bind conflicted): back off.
    pub fn requeue_error(&mut self, uid: &str, now: Duration) {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return;
        };
        tracked.queued.timestamp = now;
        let uid: Arc<str> = Arc::from(uid);
        if !self.requeue_overridden(&uid) {
            self.set_backoff(&uid);
        }
    }

    /// A pod back from an attempt goes to the unschedulable pool if gated,
    /// or to activeQ if activated meanwhile, whatever the attempt's outcome;
    /// returns whether either applied.
    fn requeue_overridden(&mut self, uid: &Arc<str>) -> bool {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return true;
        };
        let activate = std::mem::take(&mut tracked.activate_on_requeue);
        if tracked.gated {
            tracked.park();
            true
        } else if activate {
            self.set_active(uid);
            true
        } else {
            false
        }
    }

    /// Moves a pod to activeQ now, skipping the rest of its backoff or its
    /// wait for an event: the caller knows the cluster changed for it (the
    /// victims of its preemption are gone). A pod in flight goes to activeQ
    /// when it is requeued; one already active or not queued is left as is.
    pub fn activate(&mut self, uid: &str) {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return;
        };
        if tracked.gated {
            // `ungate` activates it.
            return;
        }
        match tracked.location {
            Location::Unschedulable | Location::Backoff => {
                let uid: Arc<str> = Arc::from(uid);
                self.set_active(&uid);
            }
            Location::InFlight => tracked.activate_on_requeue = true,
            Location::Active => {}
        }
    }

    /// Holds a pod back from scheduling until `ungate`: it waits in the
    /// unschedulable pool, deaf to cluster events.
    pub fn gate(&mut self, uid: &str) {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return;
        };
        tracked.gated = true;
        if matches!(tracked.location, Location::Active | Location::Backoff) {
            tracked.park();
        }
    }

    /// Lets a gated pod be scheduled again, at once.
    pub fn ungate(&mut self, uid: &str) {
        let Some(tracked) = self.pods.get_mut(uid) else {
            return;
        };
        if std::mem::take(&mut tracked.gated) {
            self.activate(uid);
        }
    }

    /// A cluster event: wakes unschedulable pods it may help.
    pub fn on_event(&mut self, event: QueueEvent, now: Duration) {
        let resolves = event.resolves();
        let mut woken = Vec::new();
        for (uid, tracked) in self.pods.iter_mut() {
            if tracked.gated {
                continue;
            }
            match tracked.location {
                Location::InFlight => {
                    tracked.events_in_flight = tracked.events_in_flight.union(resolves);
                }
                Location::Unschedulable => {
                    if tracked.rejected_by == PluginMask::default()
                        || tracked.rejected_by.intersects(resolves)
                    {
                        woken.push(uid.clone());
                    }
                }
                Location::Active | Location::Backoff => {}
            }
        }
        for uid in woken {
            self.move_to_active_or_backoff(&uid, now);
        }
    }

    /// The backoff of a pod after `attempts` attempts.
    pub fn backoff_duration(&self, attempts: u32) -> Duration {
        let mut duration = self.config.initial_backoff;
        for _ in 1..attempts {
            duration = duration.saturating_mul(2);
            if duration > self.config.max_backoff {
                return self.config.max_backoff;
            }
        }
        duration.min(self.config.max_backoff)
    }

    /// Sizes of each sub-queue.
    pub fn lengths(&self) -> QueueLengths {
        let mut lengths = QueueLengths::default();
        for tracked in self.pods.values() {
            match tracked.location {
                Location::Active => lengths.active += 1,
                Location::Backoff => lengths.backoff += 1,
                Location::Unschedulable => lengths.unschedulable += 1,
                Location::InFlight => lengths.in_flight += 1,
            }
        }
        lengths
    }

    fn move_to_active_or_backoff(&mut self, uid: &Arc<str>, now: Duration) {
        let Some(tracked) = self.pods.get(uid) else {
            return;
        };
        let expiry = tracked.queued.timestamp + self.backoff_duration(tracked.queued.attempts);
        if tracked.queued.attempts > 0 && expiry > now {
            self.set_backoff(uid);
        } else {
            self.set_active(uid);
        }
    }

    fn set_active(&mut self, uid: &Arc<str>) {
        if let Some(tracked) = self.pods.get_mut(uid) {
            tracked.location = Location::Active;
            self.push_active(uid);
        }
    }

    fn push_active(&mut self, uid: &Arc<str>) {
        self.sequence += 1;
        let sequence = self.sequence;
        if let Some(tracked) = self.pods.get_mut(uid) {
            tracked.generation += 1;
            self.active.push(ActiveEntry {
                priority: tracked.queued.pod.priority,
                timestamp: tracked.queued.timestamp,
                sequence,
                uid: uid.clone(),
                generation: tracked.generation,
            });
        }
    }

    fn set_backoff(&mut self, uid: &Arc<str>) {
        self.sequence += 1;
        let sequence = self.sequence;
        let attempts = self.pods.get(uid).map(|t| t.queued.attempts).unwrap_or(0);
        let backoff = self.backoff_duration(attempts);
        if let Some(tracked) = self.pods.get_mut(uid) {
            tracked.location = Location::Backoff;
            tracked.generation += 1;
            self.backoff.push(BackoffEntry {
                expiry: tracked.queued.timestamp + backoff,
                sequence,
                uid: uid.clone(),
                generation: tracked.generation,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, priority: i32) -> Arc<PodInfo> {
        Arc::new(PodInfo {
            uid: uid.into(),
            priority,
            ..PodInfo::default()
        })
    }

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    fn uids(batch: &[QueuedPod]) -> Vec<&str> {
        batch.iter().map(|queued| queued.pod.uid.as_str()).collect()
    }

    #[test]
    fn active_queue_orders_by_priority_then_time() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("low", 0), secs(0));
        queue.add(pod("high", 100), secs(1));
        queue.add(pod("low-later", 0), secs(2));
        queue.add(pod("high-later", 100), secs(3));
        let batch = queue.pop_batch(secs(4), 10);
        assert_eq!(uids(&batch), ["high", "high-later", "low", "low-later"]);
    }

    #[test]
    fn backoff_doubles_from_one_second_to_ten() {
        let queue = SchedulingQueue::new(QueueConfig::default());
        let backoffs: Vec<u64> = (1..=6)
            .map(|a| queue.backoff_duration(a).as_secs())
            .collect();
        assert_eq!(backoffs, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn error_requeue_waits_out_backoff() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        assert!(queue.pop(secs(0)).is_some());
        queue.requeue_error("a", secs(10));
        assert!(queue.pop(Duration::from_millis(10_999)).is_none());
        let popped = queue.pop(secs(11)).expect("backoff expired");
        assert_eq!(popped.attempts, 2);
        queue.requeue_error("a", secs(20));
        assert!(queue.pop(Duration::from_millis(21_999)).is_none());
        assert!(queue.pop(secs(22)).is_some());
    }

    #[test]
    fn unschedulable_pod_waits_for_a_relevant_event() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.requeue_unschedulable("a", PluginMask::NODE_RESOURCES_FIT, secs(0));
        assert_eq!(queue.lengths().unschedulable, 1);
        // A bound pod being added cannot free resources.
        queue.on_event(QueueEvent::AssignedPodAdded, secs(5));
        assert!(queue.pop(secs(5)).is_none());
        // A deleted pod can; its backoff (1 s) has passed, so it is active now.
        queue.on_event(QueueEvent::AssignedPodDeleted, secs(5));
        assert_eq!(queue.lengths().active, 1);
        assert!(queue.pop(secs(5)).is_some());
    }

    #[test]
    fn activate_skips_backoff_and_the_wait_for_an_event() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        for uid in ["waiting", "backing-off"] {
            queue.add(pod(uid, 0), secs(0));
        }
        queue.pop_batch(secs(0), 2);
        queue.requeue_unschedulable("waiting", PluginMask::NODE_RESOURCES_FIT, secs(0));
        // One failed attempt: a one-second backoff.
        queue.requeue_error("backing-off", secs(0));
        let half_second = Duration::from_millis(500);
        assert!(queue.pop(half_second).is_none());
        assert_eq!(queue.lengths().unschedulable, 1);
        assert_eq!(queue.lengths().backoff, 1);
        queue.activate("waiting");
        queue.activate("backing-off");
        queue.activate("unknown");
        assert_eq!(queue.lengths().active, 2);
        assert_eq!(queue.pop_batch(half_second, 3).len(), 2);
    }

    #[test]
    fn activate_in_flight_applies_when_the_pod_comes_back() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.activate("a");
        queue.requeue_unschedulable("a", PluginMask::NODE_RESOURCES_FIT, secs(0));
        assert!(queue.pop(secs(0)).is_some(), "activated while in flight");
        // Only once: the next failure waits as usual.
        queue.requeue_unschedulable("a", PluginMask::NODE_RESOURCES_FIT, secs(0));
        assert!(queue.pop(secs(0)).is_none());
        assert_eq!(queue.lengths().unschedulable, 1);
    }

    #[test]
    fn a_gated_pod_waits_for_ungate_alone() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.gate("a");
        queue.requeue_unschedulable("a", PluginMask::NODE_RESOURCES_FIT, secs(0));
        queue.on_event(QueueEvent::AssignedPodDeleted, secs(100));
        queue.activate("a");
        queue.add(pod("a", 0), secs(100));
        queue.flush(secs(1000));
        assert!(queue.pop(secs(1000)).is_none());
        assert_eq!(queue.lengths().unschedulable, 1);
        queue.ungate("a");
        assert!(queue.pop(secs(1000)).is_some());
        // Gating an active pod takes it out of activeQ too.
        queue.requeue_error("a", secs(1000));
        queue.flush(secs(2000));
        queue.gate("a");
        assert!(queue.pop(secs(2000)).is_none());
        queue.ungate("a");
        assert!(queue.pop(secs(2000)).is_some());
    }

    #[test]
    fn event_during_backoff_sends_to_backoff_queue() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.requeue_unschedulable("a", PluginMask::TAINT_TOLERATION, secs(100));
        queue.on_event(QueueEvent::NodeUpdated, Duration::from_millis(100_500));
        assert_eq!(queue.lengths().backoff, 1);
        assert!(queue.pop(Duration::from_millis(100_900)).is_none());
        assert!(queue.pop(secs(101)).is_some());
    }

    #[test]
    fn event_while_in_flight_skips_the_unschedulable_pool() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.on_event(QueueEvent::NodeAdded, secs(0));
        queue.requeue_unschedulable("a", PluginMask::NODE_AFFINITY, secs(0));
        assert_eq!(queue.lengths().backoff, 1);
    }

    #[test]
    fn unschedulable_pods_are_flushed_after_five_minutes() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.requeue_unschedulable("a", PluginMask::NODE_AFFINITY, secs(0));
        // The pool is scanned every 30 s; the scan at 299 s is too early and
        // the next one (329 s) moves the pod.
        assert!(queue.pop(secs(299)).is_none());
        assert!(queue.pop(secs(300)).is_none());
        assert!(queue.pop(secs(329)).is_some());
    }

    #[test]
    fn durations_are_configurable() {
        let mut queue = SchedulingQueue::new(QueueConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
            max_unschedulable_duration: secs(1),
            unschedulable_flush_interval: secs(1),
        });
        assert_eq!(queue.backoff_duration(3), Duration::from_millis(250));
        queue.add(pod("a", 0), secs(0));
        queue.pop(secs(0));
        queue.requeue_unschedulable("a", PluginMask::NODE_AFFINITY, secs(0));
        assert!(queue.pop(secs(1)).is_some());
    }

    #[test]
    fn deleted_pods_are_not_popped() {
        let mut queue = SchedulingQueue::new(QueueConfig::default());
        queue.add(pod("a", 0), secs(0));
        assert!(queue.contains("a"));
        queue.delete("a");
        assert!(!queue.contains("a"));
        assert!(queue.pop(secs(0)).is_none());
    }
}
