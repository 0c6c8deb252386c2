//! The pod manager: takes the events of the pod reader (`pod_watch`, every
//! bound pod of this process's nodes); the pods go through the kubelet's
//! life cycle, one owner task, no locks:
//!
//! - seen bound and Pending → admitted against the node's allocatable
//!   (rejected as Failed `OutOfcpu`/`OutOfmemory`/`OutOfpods` if it does not
//!   fit), given an IP from the node's pod CIDR, started after the start
//!   delay: status Running, Ready, containers running;
//! - with `restartPolicy` Never or OnFailure and the annotation
//!   [`RUN_SECONDS_ANNOTATION`], finished that long after starting: phase
//!   Succeeded (or Failed with [`EXIT_CODE_ANNOTATION`] non-zero and
//!   `restartPolicy: Never`);
//! - deletionTimestamp set → containers stopped (terminated status), then
//!   deleted with grace 0 and a uid precondition;
//! - found Running after a restart → adopted with its IP.
//!
//! Writes go to the worker pool; each pod has at most one write queued or in
//! flight, and the next action waits for it, so a pod's writes stay in order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::admission::{NodeUsed, Rejection};
use crate::hollow::nodes::NodeSet;
use crate::hollow::pod_watch::{NewPod, Phase, PodBatch, PodEvent, PodHeader};
use crate::hollow::workers::{Job, JobResult, Outcome, StatusWrite};
use crate::hollow::{HollowConfig, Stats, wait_stopped};
use crate::ipam::PodIpAllocator;
use crate::mix;
use crate::pod_status::{PodAddresses, PodShape};
use crate::usage::{ContainerUsage, PodUsage, UsageTable};

/// Seconds a run-to-completion pod runs before it finishes.
pub const RUN_SECONDS_ANNOTATION: &str = "skiff.dev/hollow-run-seconds";
/// Exit code of a finished pod's containers (default 0).
pub const EXIT_CODE_ANNOTATION: &str = "skiff.dev/hollow-exit-code";

/// Pause before a failed write is tried again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Synthetic usage of a container without a request.
const DEFAULT_MILLI_CPU: f64 = 10.0;
const DEFAULT_MEMORY_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// Where a pod is in its life on this kubelet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Admitted with an IP; a start timer is armed.
    Starting,
    /// Admitted; the node's pod CIDR is full.
    WaitingForIp,
    Running,
    /// Succeeded, Failed or rejected; holds no resources.
    Finished,
    /// Being stopped and deleted.
    Stopping,
}

/// Something to do for a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Start,
    Finish,
    Stop,
    /// Write the current stage's status again (a write failed).
    Resend,
}

struct PodRecord {
    uid: Arc<str>,
    node: usize,
    /// The newest resourceVersion seen.
    resource_version: u64,
    /// Shared with the status writes queued for it.
    shape: Arc<PodShape>,
    stage: Stage,
    /// The pod's IP, kept for its status after it is released.
    ip: Option<Ipv4Addr>,
    /// Whether `ip` is still taken from the node's pool.
    holds_ip: bool,
    /// Whether the pod counts against the node's allocatable.
    admitted: bool,
    started: Option<SystemTime>,
    finished: Option<SystemTime>,
    /// Run-to-completion: finish this long after starting.
    run_for: Option<Duration>,
    exit_code: i32,
    rejection: Option<Rejection>,
    /// A write for this pod is queued or in flight.
    busy: bool,
    /// What to do once it completes.
    next: Option<Action>,
}

impl PodRecord {
    /// A record in stage Finished holding nothing; the caller moves it on.
    fn new(header: &PodHeader, shape: Arc<PodShape>) -> PodRecord {
        PodRecord {
            uid: header.uid.clone(),
            node: header.node,
            resource_version: header.resource_version,
            shape,
            stage: Stage::Finished,
            ip: None,
            holds_ip: false,
            admitted: false,
            started: None,
            finished: None,
            run_for: None,
            exit_code: 0,
            rejection: None,
            busy: false,
            next: None,
        }
    }
}

struct NodeState {
    ips: PodIpAllocator,
    used: NodeUsed,
    /// Admitted pods waiting for a free IP, in arrival order.
    waiting_for_ip: VecDeque<Arc<str>>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Instant,
    /// Keeps timers of the same instant in arming order.
    seq: u64,
    key: Arc<str>,
    uid: Arc<str>,
    action: TimerAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerAction {
    Start,
    Finish,
    Resend,
}

/// Owns the state of every pod on this process's nodes.
pub(super) struct Manager {
    config: Arc<HollowConfig>,
    nodes: Arc<NodeSet>,
    usage: Arc<UsageTable>,
    stats: Arc<Stats>,
    jobs: mpsc::UnboundedSender<Job>,
    node_states: Vec<NodeState>,
    /// By `namespace/name`.
    pods: HashMap<Arc<str>, PodRecord>,
    /// Keys listed since the first page of the list under way.
    listed: HashSet<Arc<str>>,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
}

impl Manager {
    pub(super) fn new(
        config: Arc<HollowConfig>,
        nodes: Arc<NodeSet>,
        usage: Arc<UsageTable>,
        stats: Arc<Stats>,
        jobs: mpsc::UnboundedSender<Job>,
    ) -> Manager {
        let node_states = nodes
            .identities
            .iter()
            .map(|identity| NodeState {
                ips: PodIpAllocator::new(identity.pod_cidr),
                used: NodeUsed::default(),
                waiting_for_ip: VecDeque::new(),
            })
            .collect();
        Manager {
            config,
            nodes,
            usage,
            stats,
            jobs,
            node_states,
            pods: HashMap::new(),
            listed: HashSet::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
        }
    }

    /// Drives the pods the reader reports until stopped.
    pub(super) async fn run(
        mut self,
        mut batches: mpsc::Receiver<PodBatch>,
        mut results: mpsc::UnboundedReceiver<JobResult>,
        stopped: watch::Receiver<bool>,
    ) {
        let mut stop = pin!(wait_stopped(stopped));
        loop {
            let next_timer = self.timers.peek().map(|Reverse(timer)| timer.at);
            let timer = async {
                match next_timer {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut stop => return,
                Some(result) = results.recv() => {
                    self.job_done(result);
                    while let Ok(result) = results.try_recv() {
                        self.job_done(result);
                    }
                }
                batch = batches.recv() => match batch {
                    Some(batch) => self.apply(batch),
                    None => return,
                },
                () = timer => self.fire_timers(Instant::now()),
            }
        }
    }

    fn apply(&mut self, batch: PodBatch) {
        match batch {
            PodBatch::Listed {
                events,
                first,
                last,
            } => {
                if first {
                    self.listed.clear();
                }
                self.listed
                    .extend(events.iter().map(|event| event.header.key.clone()));
                for event in events {
                    self.observe(event);
                }
                if last {
                    let listed = std::mem::take(&mut self.listed);
                    tracing::info!(pods = listed.len(), "listed the pods of these nodes");
                    let gone: Vec<Arc<str>> = self
                        .pods
                        .keys()
                        .filter(|key| !listed.contains(*key))
                        .cloned()
                        .collect();
                    for key in gone {
                        self.forget(&key);
                    }
                }
            }
            PodBatch::Changed(events) => {
                for event in events {
                    if event.deleted {
                        let key = &event.header.key;
                        if self
                            .pods
                            .get(key)
                            .is_some_and(|record| record.uid == event.header.uid)
                        {
                            self.forget(key);
                        }
                    } else {
                        self.observe(event);
                    }
                }
            }
        }
    }

    /// A pod on one of these nodes was added or changed.
    fn observe(&mut self, event: PodEvent) {
        let PodEvent { header, pod, .. } = event;
        let key = header.key.clone();
        if let Some(record) = self.pods.get_mut(&key) {
            if record.uid == header.uid {
                record.resource_version = record.resource_version.max(header.resource_version);
                if header.deleting && record.stage != Stage::Stopping {
                    self.request(&key, Action::Stop);
                }
                return;
            }
            self.forget(&key);
        }
        let deleting = header.deleting;
        let node = header.node;
        let record = match pod {
            Some(pod) => self.new_record(&header, *pod),
            // The reader passes every new pod in full; a header alone of a
            // pod being deleted still leaves the delete to do.
            None if deleting => PodRecord::new(&header, Arc::default()),
            None => {
                tracing::debug!(pod = %key, "ignoring a pod event without the pod");
                return;
            }
        };
        let rejected = record.rejection.is_some();
        let waiting = record.stage == Stage::WaitingForIp;
        let start = record.stage == Stage::Starting && !deleting;
        let finish_at = record
            .run_for
            .zip(record.started)
            .map(|(run_for, started)| {
                let remaining = (started + run_for)
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                Instant::now() + remaining
            });
        let uid = record.uid.clone();
        let running = record.stage == Stage::Running;
        tracing::trace!(pod = %key, stage = ?record.stage, deleting, "pod observed");
        self.pods.insert(key.clone(), record);
        if deleting {
            self.request(&key, Action::Stop);
        } else if rejected {
            Stats::add(&self.stats.pods_rejected, 1);
            self.request(&key, Action::Resend);
        } else if waiting {
            self.node_states[node].waiting_for_ip.push_back(key);
        } else if start {
            let delay = self.start_delay(&uid);
            self.arm(Instant::now() + delay, key, uid, TimerAction::Start);
        } else if running && let Some(at) = finish_at {
            self.arm(at, key, uid, TimerAction::Finish);
        }
    }

    /// The record of a pod first seen: admitted and given an IP if
    /// Pending, adopted if already Running.
    fn new_record(&mut self, header: &PodHeader, pod: NewPod) -> PodRecord {
        let node = header.node;
        let deleting = header.deleting;
        let mut record = PodRecord::new(header, Arc::new(pod.shape));
        (record.run_for, record.exit_code) = (pod.run_for, pod.exit_code);
        let host_ip = self.nodes.identities[node].internal_ip;
        let state = &mut self.node_states[node];
        match header.phase {
            Phase::Running => {
                // Adopted after a restart: it keeps its IP and start time.
                state.used.force_admit(record.shape.requests);
                record.admitted = true;
                record.ip = pod.pod_ip;
                if let Some(ip) = record.ip
                    && !record.shape.host_network
                {
                    record.holds_ip = state.ips.claim(ip);
                }
                record.started = Some(pod.start_time.unwrap_or_else(SystemTime::now));
                record.stage = Stage::Running;
                let usage = synthetic_usage_of(&record, &header.key, self.config.usage_fraction);
                self.usage.start_pod(node, header.key.clone(), usage);
            }
            Phase::Succeeded | Phase::Failed => record.stage = Stage::Finished,
            _ if deleting => record.stage = Stage::Starting,
            _ => match state
                .used
                .admit(self.config.template.allocatable(), record.shape.requests)
            {
                Ok(()) => {
                    record.admitted = true;
                    if record.shape.host_network {
                        record.ip = Some(host_ip);
                        record.stage = Stage::Starting;
                    } else if let Some(ip) = state.ips.allocate() {
                        record.ip = Some(ip);
                        record.holds_ip = true;
                        record.stage = Stage::Starting;
                    } else {
                        record.stage = Stage::WaitingForIp;
                    }
                }
                Err(rejection) => {
                    tracing::debug!(pod = %header.key, reason = %rejection.reason(), "pod rejected at admission");
                    record.rejection = Some(rejection);
                    record.finished = Some(SystemTime::now());
                    record.stage = Stage::Finished;
                }
            },
        }
        record
    }

    fn start_delay(&self, uid: &str) -> Duration {
        let jitter = self
            .config
            .pod_start_jitter
            .mul_f64(mix::unit_interval(uid, 0x6a69_7474));
        self.config.pod_start_delay + jitter
    }

    fn arm(&mut self, at: Instant, key: Arc<str>, uid: Arc<str>, action: TimerAction) {
        self.timer_seq += 1;
        self.timers.push(Reverse(Timer {
            at,
            seq: self.timer_seq,
            key,
            uid,
            action,
        }));
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(Reverse(timer)) = self.timers.peek() {
            if timer.at > now {
                return;
            }
            let Some(Reverse(timer)) = self.timers.pop() else {
                return;
            };
            let Some(record) = self.pods.get(&timer.key) else {
                continue;
            };
            if record.uid != timer.uid {
                continue;
            }
            let action = match (timer.action, record.stage) {
                (TimerAction::Start, Stage::Starting) => Action::Start,
                (TimerAction::Finish, Stage::Running) => Action::Finish,
                (TimerAction::Resend, _) => Action::Resend,
                _ => continue,
            };
            self.request(&timer.key, action);
        }
    }

    /// Does `action` now, or after the pod's write in flight completes.
    fn request(&mut self, key: &Arc<str>, action: Action) {
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        if record.busy {
            if record.next != Some(Action::Stop) {
                record.next = Some(action);
            }
            return;
        }
        self.dispatch(key, action);
    }

    /// Moves the pod to its next stage and queues the write.
    fn dispatch(&mut self, key: &Arc<str>, action: Action) {
        let now = SystemTime::now();
        let host_ip = match self.pods.get(key) {
            Some(record) => self.nodes.identities[record.node].internal_ip,
            None => return,
        };
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let addresses = record.ip.map(|pod_ip| PodAddresses { host_ip, pod_ip });
        let mut delete = false;
        let status = match (action, record.stage) {
            (Action::Start, Stage::Starting) => {
                // Every starting pod has an address (its own or the node's).
                let Some(addresses) = addresses else { return };
                record.stage = Stage::Running;
                record.started = Some(now);
                Stats::add(&self.stats.pods_started, 1);
                Some(StatusWrite::Running {
                    shape: record.shape.clone(),
                    addresses,
                    started: now,
                })
            }
            (Action::Finish, Stage::Running) => {
                record.stage = Stage::Finished;
                record.finished = Some(now);
                Stats::add(&self.stats.pods_finished, 1);
                Some(StatusWrite::Finished {
                    shape: record.shape.clone(),
                    addresses,
                    started: record.started,
                    finished: now,
                    exit_code: record.exit_code,
                })
            }
            (Action::Stop, stage) if stage != Stage::Stopping => {
                record.stage = Stage::Stopping;
                delete = true;
                (stage == Stage::Running).then(|| StatusWrite::Finished {
                    shape: record.shape.clone(),
                    addresses,
                    started: record.started,
                    finished: now,
                    exit_code: 0,
                })
            }
            (Action::Resend, Stage::Running) => addresses.map(|addresses| StatusWrite::Running {
                shape: record.shape.clone(),
                addresses,
                started: record.started.unwrap_or(now),
            }),
            (Action::Resend, Stage::Finished) => Some(match &record.rejection {
                Some(rejection) => StatusWrite::Rejected {
                    shape: record.shape.clone(),
                    rejection: rejection.clone(),
                },
                None => StatusWrite::Finished {
                    shape: record.shape.clone(),
                    addresses,
                    started: record.started,
                    finished: record.finished.unwrap_or(now),
                    exit_code: record.exit_code,
                },
            }),
            (Action::Resend, Stage::Stopping) => {
                delete = true;
                None
            }
            _ => return,
        };
        let stage = record.stage;
        let (node, uid) = (record.node, record.uid.clone());
        let resource_version = record.resource_version;
        let started_now = action == Action::Start;
        let finish_after = record.run_for.filter(|_| started_now);
        if status.is_none() && !delete {
            return;
        }
        record.busy = true;
        let usage =
            started_now.then(|| synthetic_usage_of(record, key, self.config.usage_fraction));
        if let Some(usage) = usage {
            self.usage.start_pod(node, key.clone(), usage);
        }
        if let Some(run_for) = finish_after {
            self.arm(
                Instant::now() + run_for,
                key.clone(),
                uid.clone(),
                TimerAction::Finish,
            );
        }
        if matches!(stage, Stage::Finished | Stage::Stopping) {
            self.release(key, now);
        }
        tracing::trace!(pod = %key, ?action, ?stage, delete, "pod write queued");
        let job = Job {
            key: key.clone(),
            uid,
            resource_version,
            status,
            delete,
        };
        if self.jobs.send(job).is_err() {
            tracing::debug!("status workers stopped");
        }
    }

    fn job_done(&mut self, result: JobResult) {
        let Some(record) = self.pods.get_mut(&result.key) else {
            return;
        };
        if record.uid != result.uid {
            return;
        }
        record.busy = false;
        tracing::trace!(pod = %result.key, outcome = ?result.outcome, "pod write done");
        match result.outcome {
            Outcome::Done { resource_version } => {
                if let Some(version) = resource_version {
                    record.resource_version = record.resource_version.max(version);
                }
            }
            // The watch reports the deletion; the record goes then.
            Outcome::Gone => {}
            Outcome::Failed => {
                if record.next.is_none() {
                    let (key, uid) = (result.key.clone(), record.uid.clone());
                    self.arm(Instant::now() + RETRY_PAUSE, key, uid, TimerAction::Resend);
                }
            }
        }
        let next = self.pods.get_mut(&result.key).and_then(|r| r.next.take());
        if let Some(action) = next {
            self.dispatch(&result.key, action);
        }
    }

    /// Gives back what the pod holds on its node (admission share, IP,
    /// usage), once.
    fn release(&mut self, key: &Arc<str>, now: SystemTime) {
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let node = record.node;
        let state = &mut self.node_states[node];
        if record.admitted {
            state.used.release(record.shape.requests);
            record.admitted = false;
        }
        let freed_ip = record.holds_ip;
        if record.holds_ip
            && let Some(ip) = record.ip
        {
            state.ips.release(ip);
            record.holds_ip = false;
        }
        self.usage.stop_pod(node, key, now);
        if freed_ip {
            self.wake_waiting(node);
        }
    }

    /// Starts the first pod waiting for an IP on `node`, if one is free.
    fn wake_waiting(&mut self, node: usize) {
        while let Some(key) = self.node_states[node].waiting_for_ip.pop_front() {
            let Some(record) = self.pods.get_mut(&key) else {
                continue;
            };
            if record.stage != Stage::WaitingForIp || record.node != node {
                continue;
            }
            let Some(ip) = self.node_states[node].ips.allocate() else {
                self.node_states[node].waiting_for_ip.push_front(key);
                return;
            };
            record.ip = Some(ip);
            record.holds_ip = true;
            record.stage = Stage::Starting;
            let uid = record.uid.clone();
            let delay = self.start_delay(&uid);
            self.arm(Instant::now() + delay, key, uid, TimerAction::Start);
            return;
        }
    }

    /// Drops a pod that is gone from the API.
    fn forget(&mut self, key: &Arc<str>) {
        self.release(key, SystemTime::now());
        self.pods.remove(key);
    }
}

/// `namespace` and `name` of a `namespace/name` key.
pub(super) fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// Synthetic usage of a pod's running containers: a share of each
/// container's requests around `fraction`, varied per container.
fn synthetic_usage_of(record: &PodRecord, key: &str, fraction: f64) -> PodUsage {
    let (namespace, name) = split_key(key);
    let containers = record
        .shape
        .containers
        .iter()
        .chain(record.shape.init_containers.iter().filter(|c| c.sidecar))
        .map(|container| {
            let seed = format!("{}/{}", record.uid, container.name);
            let noise = 0.5 + mix::unit_interval(&seed, 0x0063_7075);
            let memory_noise = 0.75 + 0.5 * mix::unit_interval(&seed, 0x006d_656d);
            let milli_cpu = match container.request_milli_cpu {
                0 => DEFAULT_MILLI_CPU,
                request => request as f64 * fraction,
            };
            let memory = match container.request_memory_bytes {
                0 => DEFAULT_MEMORY_BYTES,
                request => request as f64 * fraction,
            };
            ContainerUsage {
                name: container.name.clone(),
                milli_cpu: milli_cpu * noise,
                memory_bytes: (memory * memory_noise) as u64,
            }
        })
        .collect();
    PodUsage {
        namespace: namespace.to_string(),
        name: name.to_string(),
        started: record.started.unwrap_or_else(SystemTime::now),
        containers,
    }
}

#[cfg(test)]
mod tests {
    use api::k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    use super::*;
    use crate::NodeTemplate;
    use crate::hollow::pod_watch::Phase;

    fn manager() -> (Manager, mpsc::UnboundedReceiver<Job>) {
        let mut config = HollowConfig::new(2, NodeTemplate::built_in().unwrap());
        config.pod_start_delay = Duration::ZERO;
        config.pod_start_jitter = Duration::ZERO;
        let nodes = Arc::new(NodeSet::new(&config));
        let usage = Arc::new(UsageTable::new(
            nodes.identities.iter().map(|i| i.name.clone()),
            SystemTime::now(),
        ));
        let (jobs, queue) = mpsc::unbounded_channel();
        let manager = Manager::new(
            Arc::new(config),
            nodes,
            usage,
            Arc::new(Stats::default()),
            jobs,
        );
        (manager, queue)
    }

    /// An event of pod `name` on node 0, decoded in full when `new`.
    fn event(name: &str, phase: Phase, new: bool) -> PodEvent {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
            "spec": {"containers": [{"name": "c", "image": "x",
                     "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}
        }))
        .unwrap();
        PodEvent {
            deleted: false,
            header: PodHeader {
                key: Arc::from(format!("ns/{name}")),
                uid: Arc::from(format!("uid-{name}")),
                resource_version: 5,
                node: 0,
                phase,
                deleting: false,
            },
            pod: new.then(|| Box::new(NewPod::of(&pod))),
        }
    }

    #[test]
    fn a_list_in_pages_forgets_only_pods_it_did_not_list() {
        let (mut manager, mut jobs) = manager();
        let listed = |events, first, last| PodBatch::Listed {
            events,
            first,
            last,
        };
        manager.apply(listed(vec![event("a", Phase::Pending, true)], true, false));
        manager.apply(listed(vec![event("b", Phase::Pending, true)], false, true));
        assert_eq!(manager.pods.len(), 2, "a page does not end the list");
        assert_eq!(manager.node_states[0].used.milli_cpu, 2000);
        manager.fire_timers(Instant::now() + Duration::from_secs(1));
        let started: Vec<_> = std::iter::from_fn(|| jobs.try_recv().ok()).collect();
        assert_eq!(started.len(), 2);
        assert!(
            started
                .iter()
                .all(|job| matches!(job.status, Some(StatusWrite::Running { .. })) && !job.delete)
        );
        for job in started {
            manager.job_done(JobResult {
                key: job.key,
                uid: job.uid,
                outcome: Outcome::Done {
                    resource_version: Some(9),
                },
            });
        }
        assert!(manager.usage.pod("ns", "b").is_some());

        // A relist (two pages, the second empty) without b: b is gone and
        // gives back what it held; a keeps running, untouched.
        manager.apply(listed(vec![event("a", Phase::Running, false)], true, false));
        assert_eq!(manager.pods.len(), 2);
        manager.apply(listed(Vec::new(), false, true));
        assert_eq!(manager.pods.len(), 1);
        assert!(manager.pods.contains_key("ns/a"));
        assert_eq!(manager.pods["ns/a"].resource_version, 9);
        assert_eq!(manager.node_states[0].used.milli_cpu, 1000);
        assert!(manager.usage.pod("ns", "b").is_none());
        assert!(jobs.try_recv().is_err(), "nothing to write for a");
    }
}
