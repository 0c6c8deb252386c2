//! The controller manager: one process running the enabled controllers
//! over shared informers (one list + watch per kind), each controller with
//! its own work queue and workers ([`runtime::controller::run`]).

mod claims;
pub mod cron_job;
pub mod daemon_set;
pub mod deployment;
pub mod endpoints;
pub mod garbage_collector;
pub mod job;
pub mod node_lifecycle;
pub mod pod_gc;
mod pod_writes;
pub mod replica_set;
pub mod service_account;
pub mod stateful_set;
pub mod taint_eviction;
pub mod ttl_after_finished;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api::ApiObject;
use api::k8s_openapi::api::apps::v1::ReplicaSet;
use api::k8s_openapi::api::core::v1::{Pod, ReplicationController};
use client::Client;
use futures::future::BoxFuture;
use runtime::leader_election::{Elector, LeaseLock};
use runtime::{Action, Change, Informers, RateLimits, Store, WorkQueue};
use tokio::task::JoinSet;

use crate::expectations::Expectations;
use cron_job::CronJobs;
use daemon_set::DaemonSets;
use deployment::Deployments;
use endpoints::{EndpointSlices, EndpointsController};
use garbage_collector::GarbageCollector;
use job::Jobs;
use node_lifecycle::NodeLifecycle;
use pod_gc::PodGc;
use replica_set::ReplicaSets;
use service_account::ServiceAccounts;
use stateful_set::StatefulSets;
use taint_eviction::TaintEviction;
use ttl_after_finished::TtlAfterFinished;

/// Workers of the taint eviction controller (Kubernetes runs 8).
const TAINT_EVICTION_WORKERS: usize = 8;

/// The controllers this manager knows, by the names Kubernetes'
/// `--controllers` flag uses.
pub const CONTROLLERS: &[&str] = &[
    "cronjob",
    "daemonset",
    "deployment",
    "endpoint",
    "endpointslice",
    "garbagecollector",
    "job",
    "nodelifecycle",
    "podgc",
    "replicaset",
    "replicationcontroller",
    "serviceaccount",
    "statefulset",
    "taint-eviction-controller",
    "ttl-after-finished",
];

/// Why the manager cannot run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--controllers: unknown controller {0:?} (known: {known})", known = CONTROLLERS.join(", "))]
    UnknownController(String),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error(transparent)]
    Client(#[from] client::Error),
    #[error(transparent)]
    ReplicaSet(#[from] crate::replica_set::Error),
    #[error(transparent)]
    Deployment(#[from] crate::deployment::Error),
    #[error(transparent)]
    DaemonSet(#[from] crate::daemon_set::Error),
    #[error(transparent)]
    StatefulSet(#[from] crate::stateful_set::Error),
    #[error(transparent)]
    Job(#[from] crate::job::Error),
    #[error("{0}")]
    Sync(String),
    #[error("leader election lost: the lease {0} was not renewed within the renew deadline")]
    LeadershipLost(String),
}

/// The enabled controllers, from Kubernetes' `--controllers` syntax: `*`
/// is every controller, `name` enables one, `-name` disables one.
pub fn parse_controllers(spec: &[String]) -> Result<BTreeSet<&'static str>, Error> {
    let mut enabled = BTreeSet::new();
    for item in spec.iter().map(|item| item.trim()) {
        let (disable, name) = match item.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, item),
        };
        if name == "*" {
            enabled.extend(CONTROLLERS.iter().copied());
            continue;
        }
        // Kubernetes 1.27 renamed its controllers and kept the old names
        // as aliases; both are accepted.
        let canonical = match name {
            "cronjob-controller" => "cronjob",
            "daemonset-controller" => "daemonset",
            "deployment-controller" => "deployment",
            "endpoints-controller" => "endpoint",
            "endpointslice-controller" => "endpointslice",
            "replicaset-controller" => "replicaset",
            "garbage-collector-controller" => "garbagecollector",
            "job-controller" => "job",
            "ttl-after-finished-controller" => "ttl-after-finished",
            "node-lifecycle-controller" => "nodelifecycle",
            "pod-garbage-collector-controller" => "podgc",
            "replicationcontroller-controller" => "replicationcontroller",
            "serviceaccount-controller" => "serviceaccount",
            "statefulset-controller" => "statefulset",
            other => other,
        };
        let known = CONTROLLERS
            .iter()
            .copied()
            .find(|known| *known == canonical)
            .ok_or_else(|| Error::UnknownController(name.to_string()))?;
        if disable {
            enabled.remove(known);
        } else {
            enabled.insert(known);
        }
    }
    Ok(enabled)
}

/// What the manager runs, and its timers.
#[derive(Clone, Debug)]
pub struct Config {
    pub controllers: BTreeSet<&'static str>,
    /// Workers of the ReplicaSet controller (Kubernetes'
    /// `--concurrent-replicaset-syncs`).
    pub replica_set_workers: usize,
    /// Workers of the Deployment controller (`--concurrent-deployment-syncs`).
    pub deployment_workers: usize,
    /// Workers of the garbage collector (`--concurrent-gc-syncs`).
    pub garbage_collector_workers: usize,
    /// Workers of the DaemonSet controller (`--concurrent-daemonset-syncs`).
    pub daemon_set_workers: usize,
    /// Workers of the StatefulSet controller
    /// (`--concurrent-statefulset-syncs`).
    pub stateful_set_workers: usize,
    /// Workers of the Endpoints controller (`--concurrent-endpoint-syncs`).
    pub endpoint_workers: usize,
    /// Workers of the EndpointSlice controller
    /// (`--concurrent-service-endpoint-syncs`).
    pub endpoint_slice_workers: usize,
    /// `--max-endpoints-per-slice`.
    pub max_endpoints_per_slice: usize,
    /// Workers of the Job controller (`--concurrent-job-syncs`).
    pub job_workers: usize,
    /// Workers of the CronJob controller (`--concurrent-cron-job-syncs`).
    pub cron_job_workers: usize,
    /// The Job controller's failure backoff.
    pub job: crate::job::Settings,
    /// Workers of the TTL-after-finished controller
    /// (`--concurrent-ttl-after-finished-syncs`).
    pub ttl_after_finished_workers: usize,
    /// The pod garbage collector's timers and threshold.
    pub pod_gc: pod_gc::Settings,
    /// The node lifecycle controller's timers and eviction rates.
    pub node_lifecycle: crate::node_lifecycle::Settings,
    /// How long a controller waits for its own writes to be observed.
    pub expectations_timeout: Duration,
    /// Retry backoff of every controller's queue.
    pub rate_limits: RateLimits,
    /// The lease to hold while running (`None`: no leader election).
    pub leader_election: Option<LeaseLock>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            controllers: CONTROLLERS.iter().copied().collect(),
            replica_set_workers: 5,
            deployment_workers: 5,
            garbage_collector_workers: 20,
            daemon_set_workers: 2,
            stateful_set_workers: 5,
            endpoint_workers: 5,
            endpoint_slice_workers: 5,
            max_endpoints_per_slice: crate::endpoint_slice::MAX_ENDPOINTS_PER_SLICE,
            job_workers: 5,
            cron_job_workers: 5,
            job: crate::job::Settings::default(),
            ttl_after_finished_workers: 5,
            pod_gc: pod_gc::Settings::default(),
            node_lifecycle: crate::node_lifecycle::Settings::default(),
            expectations_timeout: crate::expectations::EXPECTATIONS_TIMEOUT,
            rate_limits: RateLimits::default(),
            leader_election: None,
        }
    }
}

/// The pod cache's index by `spec.nodeName`.
const NODE_INDEX: &str = "node";

fn pod_node(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.clone())
        .into_iter()
        .collect()
}

/// Keeps the pod cache indexed by node, for [`pods_on_node`].
fn index_by_node(pods: &Store<Pod>) {
    pods.add_index(NODE_INDEX, pod_node);
}

/// The cached pods bound to `node` (see [`index_by_node`]).
fn pods_on_node(pods: &Store<Pod>, node: &str) -> Vec<Arc<Pod>> {
    pods.indexed(NODE_INDEX, node)
}

/// What a controller's queue holds.
pub trait Key: std::hash::Hash + Eq + Clone + std::fmt::Display + Send + Sync + 'static {}
impl<T: std::hash::Hash + Eq + Clone + std::fmt::Display + Send + Sync + 'static> Key for T {}

/// A controller as the manager runs it: keys come from its queue, one
/// reconcile at a time per key.
pub trait Reconciler: Send + Sync + 'static {
    type Key: Key;
    fn reconcile(&self, key: Self::Key) -> impl Future<Output = Result<Action, Error>> + Send;
}

/// One controller being wired to the process's informers: the stores it
/// reads, whose first lists its workers wait for.
struct Wiring<'a> {
    informers: &'a mut Informers,
    synced: Vec<BoxFuture<'static, ()>>,
}

impl<'a> Wiring<'a> {
    fn new(informers: &'a mut Informers) -> Wiring<'a> {
        Wiring {
            informers,
            synced: Vec::new(),
        }
    }

    /// The shared cache of kind `K`, which the controller's workers wait
    /// to be synced: a sync before the caches hold a first list would act
    /// on a partial picture (and, say, create pods that exist).
    fn store<K: ApiObject>(&mut self) -> Store<K> {
        let store = self.informers.informer::<K>().store();
        let synced = store.clone();
        self.synced
            .push(Box::pin(async move { synced.synced().await }));
        store
    }

    fn controller<C: Reconciler>(self, controller: C, rate_limits: RateLimits) -> Wired<'a, C> {
        Wired {
            wiring: self,
            controller: Arc::new(controller),
            queue: WorkQueue::new(rate_limits),
        }
    }
}

/// A controller with its queue, being told which changes enqueue what.
struct Wired<'a, C: Reconciler> {
    wiring: Wiring<'a>,
    controller: Arc<C>,
    queue: WorkQueue<C::Key>,
}

impl<C: Reconciler> Wired<'_, C> {
    /// Queues the keys `keys` names for each change of kind `K`.
    fn on<K: ApiObject>(
        mut self,
        keys: impl Fn(&C, &Change<K>) -> Vec<C::Key> + Send + Sync + 'static,
    ) -> Self {
        self.wiring.store::<K>();
        let (controller, queue) = (Arc::clone(&self.controller), self.queue.clone());
        self.wiring
            .informers
            .informer::<K>()
            .on_change(move |change| {
                for key in keys(&controller, change) {
                    queue.add(key);
                }
            });
        self
    }

    /// Runs `workers` workers of the controller `name` once its caches are
    /// synced.
    fn start(self, running: &mut Running, name: &'static str, workers: usize) {
        let Wired {
            wiring,
            controller,
            queue,
        } = self;
        let synced = futures::future::join_all(wiring.synced);
        let workers_queue = queue.clone();
        running.tasks.spawn(async move {
            synced.await;
            runtime::controller::run(name, workers_queue, workers, move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.reconcile(key).await }
            })
            .await;
        });
        running.stops.push(Box::new(move || queue.shut_down()));
    }
}

/// The enabled controllers at work: their tasks (informers, workers) and
/// how to stop each one's queue.
struct Running {
    tasks: JoinSet<()>,
    stops: Vec<Box<dyn Fn() + Send>>,
}

impl Running {
    async fn stop(mut self) {
        for stop in &self.stops {
            stop();
        }
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Runs the enabled controllers until `shutdown` resolves; with leader
/// election, only while this process holds the lease: it waits to acquire
/// it, and returns [`Error::LeadershipLost`] when a renewal did not succeed
/// within the renew deadline (as kube-controller-manager exits then).
pub async fn run(
    client: Client,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    tokio::pin!(shutdown);
    let mut elector = config.leader_election.clone().map(Elector::new);
    if let Some(elector) = elector.as_mut() {
        let retry = elector.lock().retry_period;
        while !elector.try_acquire_or_renew(&client).await {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(retry) => {}
            }
        }
        tracing::info!(lease = %elector.lock().name, identity = %elector.lock().identity, "leading");
    }
    let running = start_controllers(&client, &config);
    let outcome = match elector.as_mut() {
        None => {
            shutdown.await;
            Ok(())
        }
        Some(elector) => {
            let retry = elector.lock().retry_period;
            loop {
                tokio::select! {
                    () = &mut shutdown => break Ok(()),
                    () = tokio::time::sleep(retry) => {
                        // A renewal that hangs must not keep this process
                        // leading past the deadline.
                        let deadline = elector.lock().renew_deadline;
                        let attempt = elector.try_acquire_or_renew(&client);
                        let leading = match tokio::time::timeout(deadline, attempt).await {
                            Ok(leading) => leading,
                            Err(_) => elector.leading(tokio::time::Instant::now()),
                        };
                        if !leading {
                            break Err(Error::LeadershipLost(elector.lock().name.clone()));
                        }
                    }
                }
            }
        }
    };
    running.stop().await;
    if let (Some(elector), Ok(())) = (elector.as_mut(), &outcome) {
        elector.release(&client).await;
    }
    outcome
}

/// Starts the enabled controllers over shared informers: one list +
/// watch per kind that some enabled controller reads.
fn start_controllers(client: &Client, config: &Config) -> Running {
    let mut informers = Informers::new(client.clone());
    let mut running = Running {
        tasks: JoinSet::new(),
        stops: Vec::new(),
    };
    let expectations = || Expectations::with_timeout(config.expectations_timeout);
    let limits = || config.rate_limits.clone();
    for &name in &config.controllers {
        let mut w = Wiring::new(&mut informers);
        match name {
            "replicaset" => {
                let c = ReplicaSets::<ReplicaSet>::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    expectations(),
                );
                w.controller(c, limits())
                    .on(ReplicaSets::replica_set_changed)
                    .on(ReplicaSets::pod_changed)
                    .start(&mut running, name, config.replica_set_workers);
            }
            "replicationcontroller" => {
                let c = ReplicaSets::<ReplicationController>::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    expectations(),
                );
                w.controller(c, limits())
                    .on(ReplicaSets::replica_set_changed)
                    .on(ReplicaSets::pod_changed)
                    .start(&mut running, name, config.replica_set_workers);
            }
            "daemonset" => {
                let c = DaemonSets::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    w.store(),
                    expectations(),
                );
                w.controller(c, limits())
                    .on(DaemonSets::daemon_set_changed)
                    .on(DaemonSets::node_changed)
                    .on(DaemonSets::pod_changed)
                    .start(&mut running, name, config.daemon_set_workers);
            }
            "statefulset" => {
                let c = StatefulSets::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    w.store(),
                    expectations(),
                );
                w.controller(c, limits())
                    .on(StatefulSets::stateful_set_changed)
                    .on(StatefulSets::pod_changed)
                    .on(StatefulSets::claim_changed)
                    .start(&mut running, name, config.stateful_set_workers);
            }
            "deployment" => {
                let c = Deployments::new(client.clone(), w.store(), w.store(), w.store());
                w.controller(c, limits())
                    .on(Deployments::deployment_changed)
                    .on(Deployments::replica_set_changed)
                    .on(Deployments::pod_changed)
                    .start(&mut running, name, config.deployment_workers);
            }
            "garbagecollector" => {
                use garbage_collector::{Kind, Stores, collected_kinds};
                macro_rules! wire {
                    ($( ($variant:ident, $t:ty, $field:ident) ),* $(,)?) => {{
                        let stores = Stores { $( $field: w.store::<$t>(), )* };
                        let wired = w.controller(GarbageCollector::new(client.clone(), stores), limits());
                        $(
                            let wired = wired.on(|c: &GarbageCollector, change: &Change<$t>| {
                                c.changed(Kind::$variant, change)
                            });
                        )*
                        wired.start(&mut running, name, config.garbage_collector_workers);
                    }};
                }
                collected_kinds!(wire);
            }
            "endpoint" => {
                let c = EndpointsController::new(client.clone(), w.store(), w.store(), w.store());
                w.controller(c, limits())
                    .on(EndpointsController::service_changed)
                    .on(EndpointsController::pod_changed)
                    .start(&mut running, name, config.endpoint_workers);
            }
            "endpointslice" => {
                let c = EndpointSlices::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    w.store(),
                    w.store(),
                    config.max_endpoints_per_slice,
                );
                w.controller(c, limits())
                    .on(EndpointSlices::service_changed)
                    .on(EndpointSlices::pod_changed)
                    .on(EndpointSlices::slice_changed)
                    .start(&mut running, name, config.endpoint_slice_workers);
            }
            "cronjob" => {
                let c = CronJobs::new(client.clone(), w.store(), w.store());
                w.controller(c, limits())
                    .on(CronJobs::cron_job_changed)
                    .on(CronJobs::job_changed)
                    .start(&mut running, name, config.cron_job_workers);
            }
            "job" => {
                let c = Jobs::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    expectations(),
                    config.job.clone(),
                );
                w.controller(c, limits())
                    .on(Jobs::job_changed)
                    .on(Jobs::pod_changed)
                    .start(&mut running, name, config.job_workers);
            }
            "ttl-after-finished" => {
                let c = TtlAfterFinished::new(client.clone(), w.store());
                w.controller(c, limits())
                    .on(TtlAfterFinished::job_changed)
                    .start(&mut running, name, config.ttl_after_finished_workers);
            }
            "nodelifecycle" => {
                let c = NodeLifecycle::new(
                    client.clone(),
                    w.store(),
                    w.store(),
                    w.store(),
                    config.node_lifecycle.clone(),
                );
                // One worker: the periodic pass owns the zones' buckets.
                w.controller(c, limits())
                    .on(NodeLifecycle::node_changed)
                    .start(&mut running, name, 1);
            }
            "podgc" => {
                let c = PodGc::new(client.clone(), w.store(), w.store(), config.pod_gc.clone());
                w.controller(c, limits())
                    .on(PodGc::pod_changed)
                    .start(&mut running, name, 1);
            }
            "serviceaccount" => {
                let c = ServiceAccounts::new(client.clone(), w.store(), w.store());
                w.controller(c, limits())
                    .on(ServiceAccounts::namespace_changed)
                    .on(ServiceAccounts::account_changed)
                    .start(&mut running, name, 1);
            }
            "taint-eviction-controller" => {
                let c = TaintEviction::new(client.clone(), w.store(), w.store());
                w.controller(c, limits())
                    .on(TaintEviction::node_changed)
                    .on(TaintEviction::pod_changed)
                    .start(&mut running, name, TAINT_EVICTION_WORKERS);
            }
            other => tracing::error!(controller = other, "unknown controller, not started"),
        }
    }
    for informer in informers.run() {
        running.tasks.spawn(informer);
    }
    running
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn controllers_are_enabled_as_kubernetes_spells_it() {
        let all: BTreeSet<&str> = CONTROLLERS.iter().copied().collect();
        let all_but = |name: &str| -> BTreeSet<&str> {
            all.iter().copied().filter(|known| *known != name).collect()
        };
        assert_eq!(parse_controllers(&spec(&["*"])).ok(), Some(all.clone()));
        assert_eq!(
            parse_controllers(&spec(&["*", "-replicaset"])).ok(),
            Some(all_but("replicaset"))
        );
        assert_eq!(
            parse_controllers(&spec(&["replicaset"])).ok(),
            Some(BTreeSet::from(["replicaset"]))
        );
        // The newer names are aliases of the older ones.
        let newer = [
            "cronjob-controller",
            "daemonset-controller",
            "deployment-controller",
            "endpoints-controller",
            "endpointslice-controller",
            "garbage-collector-controller",
            "job-controller",
            "node-lifecycle-controller",
            "pod-garbage-collector-controller",
            "replicaset-controller",
            "replicationcontroller-controller",
            "serviceaccount-controller",
            "statefulset-controller",
            "taint-eviction-controller",
            "ttl-after-finished-controller",
        ];
        assert_eq!(parse_controllers(&spec(&newer)).ok(), Some(all.clone()));
        assert_eq!(
            parse_controllers(&spec(&["*", "-garbage-collector-controller"])).ok(),
            Some(all_but("garbagecollector"))
        );
        let error = parse_controllers(&spec(&["*", "-cronjobz"]));
        assert!(
            matches!(&error, Err(Error::UnknownController(name)) if name == "cronjobz"),
            "{error:?}"
        );
    }
}
