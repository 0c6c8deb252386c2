//! The pod manager: one watch over every bound pod (`spec.nodeName!=`),
//! resumed and relisted by `client::watcher`; pods on nodes this process
//! runs go through the kubelet's life cycle, one owner task, no locks:
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

use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, ListParams, WatchEvent, WatcherEvent};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::admission::{NodeUsed, Rejection};
use crate::clock;
use crate::hollow::nodes::NodeSet;
use crate::hollow::workers::{Job, JobResult, Outcome, version_of};
use crate::hollow::{HollowConfig, Stats, wait_stopped};
use crate::ipam::PodIpAllocator;
use crate::mix;
use crate::pod_status::{self, PodAddresses, PodShape};
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
    shape: PodShape,
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
            timers: BinaryHeap::new(),
            timer_seq: 0,
        }
    }

    /// Watches bound pods and drives them until stopped.
    pub(super) async fn run(
        mut self,
        client: Client,
        mut results: mpsc::UnboundedReceiver<JobResult>,
        stopped: watch::Receiver<bool>,
    ) {
        let params = ListParams::default().fields("spec.nodeName!=");
        let mut pods = pin!(client::watcher::<Pod>(client, "", params));
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
                event = pods.next() => match event {
                    Some(Ok(event)) => self.apply(event),
                    Some(Err(error)) => tracing::debug!(%error, "pod watch failed; it resumes"),
                    None => return,
                },
                () = timer => self.fire_timers(Instant::now()),
            }
        }
    }

    fn apply(&mut self, event: WatcherEvent<Pod>) {
        match event {
            WatcherEvent::Restarted { objects, .. } => {
                let listed: HashSet<Arc<str>> = objects.iter().map(key_of).collect();
                let gone: Vec<Arc<str>> = self
                    .pods
                    .keys()
                    .filter(|key| !listed.contains(*key))
                    .cloned()
                    .collect();
                for key in gone {
                    self.forget(&key);
                }
                for pod in objects {
                    self.observe(pod);
                }
            }
            WatcherEvent::Applied(events) => {
                for event in events {
                    match event {
                        WatchEvent::Added(pod) | WatchEvent::Modified(pod) => self.observe(pod),
                        WatchEvent::Deleted(pod) => {
                            let key = key_of(&pod);
                            let same = self.pods.get(&key).is_some_and(|record| {
                                Some(&*record.uid) == pod.metadata.uid.as_deref()
                            });
                            if same {
                                self.forget(&key);
                            }
                        }
                        WatchEvent::Bookmark { .. } => {}
                    }
                }
            }
        }
    }

    /// A pod bound somewhere was added or changed.
    fn observe(&mut self, pod: Pod) {
        let Some(node) = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref())
            .and_then(|name| self.nodes.index_of(name))
        else {
            return;
        };
        let key = key_of(&pod);
        let uid: Arc<str> = Arc::from(pod.metadata.uid.as_deref().unwrap_or(""));
        let resource_version = version_of(&pod).unwrap_or(0);
        let deleting = pod.metadata.deletion_timestamp.is_some();
        if let Some(record) = self.pods.get_mut(&key) {
            if record.uid == uid {
                record.resource_version = record.resource_version.max(resource_version);
                if deleting && record.stage != Stage::Stopping {
                    self.request(&key, Action::Stop);
                }
                return;
            }
            self.forget(&key);
        }
        let record = self.new_record(&pod, node, uid, resource_version, deleting);
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

    /// The record of a pod first seen on node `node`: admitted and given an
    /// IP if Pending, adopted if already Running.
    fn new_record(
        &mut self,
        pod: &Pod,
        node: usize,
        uid: Arc<str>,
        resource_version: u64,
        deleting: bool,
    ) -> PodRecord {
        let shape = PodShape::of(pod);
        let (run_for, exit_code) = run_to_completion(pod, &shape);
        let status = pod.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
        let mut record = PodRecord {
            uid,
            node,
            resource_version,
            shape,
            stage: Stage::Finished,
            ip: None,
            holds_ip: false,
            admitted: false,
            started: None,
            finished: None,
            run_for,
            exit_code,
            rejection: None,
            busy: false,
            next: None,
        };
        let host_ip = self.nodes.identities[node].internal_ip;
        let state = &mut self.node_states[node];
        match phase {
            "Running" => {
                // Adopted after a restart: it keeps its IP and start time.
                state.used.force_admit(record.shape.requests);
                record.admitted = true;
                record.ip = status
                    .and_then(|s| s.pod_ip.as_deref())
                    .and_then(|ip| ip.parse().ok());
                if let Some(ip) = record.ip
                    && !record.shape.host_network
                {
                    record.holds_ip = state.ips.claim(ip);
                }
                record.started = Some(
                    status
                        .and_then(|s| s.start_time.as_ref())
                        .map_or_else(SystemTime::now, clock::system_time),
                );
                record.stage = Stage::Running;
                self.usage.start_pod(
                    node,
                    key_of(pod),
                    synthetic_usage(&record, pod, self.config.usage_fraction),
                );
            }
            "Succeeded" | "Failed" => record.stage = Stage::Finished,
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
                    tracing::debug!(pod = %key_of(pod), reason = %rejection.reason(), "pod rejected at admission");
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
                Some(pod_status::running_status(&record.shape, addresses, now))
            }
            (Action::Finish, Stage::Running) => {
                record.stage = Stage::Finished;
                record.finished = Some(now);
                Stats::add(&self.stats.pods_finished, 1);
                Some(pod_status::finished_status(
                    &record.shape,
                    addresses,
                    record.started,
                    now,
                    record.exit_code,
                ))
            }
            (Action::Stop, stage) if stage != Stage::Stopping => {
                record.stage = Stage::Stopping;
                delete = true;
                (stage == Stage::Running).then(|| {
                    pod_status::finished_status(&record.shape, addresses, record.started, now, 0)
                })
            }
            (Action::Resend, Stage::Running) => addresses.map(|a| {
                pod_status::running_status(&record.shape, a, record.started.unwrap_or(now))
            }),
            (Action::Resend, Stage::Finished) => Some(match &record.rejection {
                Some(rejection) => pod_status::rejected_status(
                    &record.shape,
                    &rejection.reason(),
                    &rejection.message(),
                ),
                None => pod_status::finished_status(
                    &record.shape,
                    addresses,
                    record.started,
                    record.finished.unwrap_or(now),
                    record.exit_code,
                ),
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
        let (namespace, name) = split_key(key);
        let job = Job {
            key: key.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid,
            resource_version: (resource_version > 0).then(|| resource_version.to_string()),
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

/// `namespace/name` of a pod.
fn key_of(pod: &Pod) -> Arc<str> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    Arc::from(format!("{namespace}/{name}"))
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// How long a run-to-completion pod runs and the exit code it finishes with.
fn run_to_completion(pod: &Pod, shape: &PodShape) -> (Option<Duration>, i32) {
    if shape.restart_policy == "Always" {
        return (None, 0);
    }
    let annotation = |name: &str| {
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(name))
            .map(String::as_str)
    };
    let run_for = annotation(RUN_SECONDS_ANNOTATION).and_then(|text| {
        let seconds = text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
        if seconds.is_none() {
            tracing::warn!(pod = %key_of(pod), value = text, "ignoring invalid {RUN_SECONDS_ANNOTATION}");
        }
        seconds.map(Duration::from_secs_f64)
    });
    // A failed container of an OnFailure pod would be restarted; only
    // Never pods end Failed.
    let exit_code = annotation(EXIT_CODE_ANNOTATION)
        .and_then(|text| text.trim().parse::<i32>().ok())
        .filter(|_| shape.restart_policy == "Never")
        .unwrap_or(0);
    (run_for, exit_code)
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

fn synthetic_usage(record: &PodRecord, pod: &Pod, fraction: f64) -> PodUsage {
    synthetic_usage_of(record, &key_of(pod), fraction)
}
