//! The controller manager: one process running the enabled controllers
//! over shared informers (one list + watch per kind), each controller with
//! its own work queue and workers ([`runtime::controller::run`]).

mod claims;
pub mod daemon_set;
pub mod deployment;
pub mod garbage_collector;
mod pod_writes;
pub mod replica_set;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use api::k8s_openapi::api::core::v1::{Node, Pod, ReplicationController};
use client::{Client, ListParams};
use runtime::leader_election::{Elector, LeaseLock};
use runtime::{Change, Informer, RateLimits, WorkQueue};
use tokio::task::JoinSet;

use crate::expectations::Expectations;

/// The controllers this manager knows, by the names Kubernetes'
/// `--controllers` flag uses.
pub const CONTROLLERS: &[&str] = &[
    "daemonset",
    "deployment",
    "garbagecollector",
    "replicaset",
    "replicationcontroller",
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
            "daemonset-controller" => "daemonset",
            "deployment-controller" => "deployment",
            "replicaset-controller" => "replicaset",
            "garbage-collector-controller" => "garbagecollector",
            "replicationcontroller-controller" => "replicationcontroller",
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
            expectations_timeout: crate::expectations::EXPECTATIONS_TIMEOUT,
            rate_limits: RateLimits::default(),
            leader_election: None,
        }
    }
}

/// What a controller's queue holds.
trait Key: std::hash::Hash + Eq + Clone + std::fmt::Display + Send + Sync + 'static {}
impl<T: std::hash::Hash + Eq + Clone + std::fmt::Display + Send + Sync + 'static> Key for T {}

/// Calls `keys` with each change the informer sees and queues the keys.
fn enqueue<K: api::ApiObject, T: Key>(
    informer: &mut Informer<K>,
    queue: &WorkQueue<T>,
    keys: impl Fn(&Change<K>) -> Vec<T> + Send + Sync + 'static,
) {
    let queue = queue.clone();
    informer.on_change(move |change| keys(change).into_iter().for_each(|key| queue.add(key)));
}

/// Runs `workers` workers of the controller `name` once `synced`
/// resolves: a sync before the caches hold a first list would act on a
/// partial picture (and, say, create pods that exist).
fn start<T: Key, F, Fut>(
    tasks: &mut JoinSet<()>,
    name: &'static str,
    queue: WorkQueue<T>,
    workers: usize,
    synced: impl Future<Output = ()> + Send + 'static,
    sync: F,
) where
    F: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<runtime::Action, Error>> + Send,
{
    tasks.spawn(async move {
        synced.await;
        runtime::controller::run(name, queue, workers, sync).await;
    });
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

/// Starts the enabled controllers over shared informers.
fn start_controllers(client: &Client, config: &Config) -> Running {
    let mut pods = Informer::<Pod>::new(client.clone(), ListParams::default());
    let mut replica_sets = Informer::<ReplicaSet>::new(client.clone(), ListParams::default());
    let mut deployments = Informer::<Deployment>::new(client.clone(), ListParams::default());
    let mut tasks = JoinSet::new();
    // How to stop each controller's queue.
    let mut stops: Vec<Box<dyn Fn() + Send>> = Vec::new();
    let mut replication_controllers =
        Informer::<ReplicationController>::new(client.clone(), ListParams::default());
    let mut daemon_sets = Informer::<DaemonSet>::new(client.clone(), ListParams::default());
    let mut nodes = Informer::<Node>::new(client.clone(), ListParams::default());
    let (ds_store, node_store) = (daemon_sets.store(), nodes.store());
    let (pod_store, rs_store, deployment_store, rc_store) = (
        pods.store(),
        replica_sets.store(),
        deployments.store(),
        replication_controllers.store(),
    );

    if config.controllers.contains("replicaset") {
        let controller = Arc::new(replica_set::ReplicaSets::new(
            client.clone(),
            rs_store.clone(),
            pod_store.clone(),
            Expectations::with_timeout(config.expectations_timeout),
        ));
        let queue = WorkQueue::new(config.rate_limits.clone());
        let c = Arc::clone(&controller);
        enqueue(&mut replica_sets, &queue, move |change| {
            c.replica_set_changed(change)
        });
        let c = Arc::clone(&controller);
        enqueue(&mut pods, &queue, move |change| c.pod_changed(change));
        let (pod_store, rs_store) = (pod_store.clone(), rs_store.clone());
        let synced = async move {
            pod_store.synced().await;
            rs_store.synced().await;
        };
        start(
            &mut tasks,
            "replicaset",
            queue.clone(),
            config.replica_set_workers,
            synced,
            move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.sync(key).await }
            },
        );
        stops.push(Box::new(move || queue.shut_down()));
    }
    if config.controllers.contains("replicationcontroller") {
        let controller = Arc::new(replica_set::ReplicaSets::new(
            client.clone(),
            rc_store.clone(),
            pod_store.clone(),
            Expectations::with_timeout(config.expectations_timeout),
        ));
        let queue = WorkQueue::new(config.rate_limits.clone());
        let c = Arc::clone(&controller);
        enqueue(&mut replication_controllers, &queue, move |change| {
            c.replica_set_changed(change)
        });
        let c = Arc::clone(&controller);
        enqueue(&mut pods, &queue, move |change| c.pod_changed(change));
        let (pod_store, rc_store) = (pod_store.clone(), rc_store.clone());
        let synced = async move {
            pod_store.synced().await;
            rc_store.synced().await;
        };
        start(
            &mut tasks,
            "replicationcontroller",
            queue.clone(),
            config.replica_set_workers,
            synced,
            move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.sync(key).await }
            },
        );
        stops.push(Box::new(move || queue.shut_down()));
    }
    if config.controllers.contains("daemonset") {
        let controller = Arc::new(daemon_set::DaemonSets::new(
            client.clone(),
            ds_store.clone(),
            node_store.clone(),
            pod_store.clone(),
            Expectations::with_timeout(config.expectations_timeout),
        ));
        let queue = WorkQueue::new(config.rate_limits.clone());
        let c = Arc::clone(&controller);
        enqueue(&mut daemon_sets, &queue, move |change| {
            c.daemon_set_changed(change)
        });
        let c = Arc::clone(&controller);
        enqueue(&mut nodes, &queue, move |change| c.node_changed(change));
        let c = Arc::clone(&controller);
        enqueue(&mut pods, &queue, move |change| c.pod_changed(change));
        let (pod_store, ds_store, node_store) =
            (pod_store.clone(), ds_store.clone(), node_store.clone());
        let synced = async move {
            pod_store.synced().await;
            ds_store.synced().await;
            node_store.synced().await;
        };
        start(
            &mut tasks,
            "daemonset",
            queue.clone(),
            config.daemon_set_workers,
            synced,
            move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.sync(key).await }
            },
        );
        stops.push(Box::new(move || queue.shut_down()));
    }
    if config.controllers.contains("deployment") {
        let controller = Arc::new(deployment::Deployments::new(
            client.clone(),
            deployment_store.clone(),
            rs_store.clone(),
            pod_store.clone(),
        ));
        let queue = WorkQueue::new(config.rate_limits.clone());
        let c = Arc::clone(&controller);
        enqueue(&mut deployments, &queue, move |change| {
            c.deployment_changed(change)
        });
        let c = Arc::clone(&controller);
        enqueue(&mut replica_sets, &queue, move |change| {
            c.replica_set_changed(change)
        });
        let c = Arc::clone(&controller);
        enqueue(&mut pods, &queue, move |change| c.pod_changed(change));
        let (pod_store, rs_store, deployment_store) = (
            pod_store.clone(),
            rs_store.clone(),
            deployment_store.clone(),
        );
        let synced = async move {
            pod_store.synced().await;
            rs_store.synced().await;
            deployment_store.synced().await;
        };
        start(
            &mut tasks,
            "deployment",
            queue.clone(),
            config.deployment_workers,
            synced,
            move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.sync(key).await }
            },
        );
        stops.push(Box::new(move || queue.shut_down()));
    }
    if config.controllers.contains("garbagecollector") {
        use garbage_collector::{GarbageCollector, Kind};
        let collector = Arc::new(GarbageCollector::new(
            client.clone(),
            pod_store.clone(),
            rs_store.clone(),
            deployment_store.clone(),
            rc_store.clone(),
            ds_store.clone(),
        ));
        let queue = WorkQueue::new(config.rate_limits.clone());
        let c = Arc::clone(&collector);
        enqueue(&mut daemon_sets, &queue, move |change| {
            c.changed(Kind::DaemonSet, change)
        });
        let c = Arc::clone(&collector);
        enqueue(&mut replication_controllers, &queue, move |change| {
            c.changed(Kind::ReplicationController, change)
        });
        let c = Arc::clone(&collector);
        enqueue(&mut pods, &queue, move |change| {
            c.changed(Kind::Pod, change)
        });
        let c = Arc::clone(&collector);
        enqueue(&mut replica_sets, &queue, move |change| {
            c.changed(Kind::ReplicaSet, change)
        });
        let c = Arc::clone(&collector);
        enqueue(&mut deployments, &queue, move |change| {
            c.changed(Kind::Deployment, change)
        });
        let (pod_store, rs_store, deployment_store) = (
            pod_store.clone(),
            rs_store.clone(),
            deployment_store.clone(),
        );
        let synced = async move {
            pod_store.synced().await;
            rs_store.synced().await;
            deployment_store.synced().await;
        };
        start(
            &mut tasks,
            "garbagecollector",
            queue.clone(),
            config.garbage_collector_workers,
            synced,
            move |item| {
                let collector = Arc::clone(&collector);
                async move { collector.sync(item).await }
            },
        );
        stops.push(Box::new(move || queue.shut_down()));
    }
    tasks.spawn(pods.run());
    tasks.spawn(replica_sets.run());
    let collecting = config.controllers.contains("garbagecollector");
    if config.controllers.contains("deployment") || collecting {
        tasks.spawn(deployments.run());
    }
    if config.controllers.contains("replicationcontroller") || collecting {
        tasks.spawn(replication_controllers.run());
    }
    if config.controllers.contains("daemonset") || collecting {
        tasks.spawn(daemon_sets.run());
    }
    if config.controllers.contains("daemonset") {
        tasks.spawn(nodes.run());
    }
    Running { tasks, stops }
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
            "daemonset-controller",
            "deployment-controller",
            "garbage-collector-controller",
            "replicaset-controller",
            "replicationcontroller-controller",
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
