//! The controller manager: one process running the enabled controllers
//! over shared informers (one list + watch per kind), each controller with
//! its own work queue and workers ([`runtime::controller::run`]).

pub mod replica_set;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::apps::v1::ReplicaSet;
use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, ListParams};
use runtime::{Informer, ObjectKey, RateLimits, WorkQueue};

use crate::expectations::Expectations;

/// The controllers this manager knows, by the names Kubernetes'
/// `--controllers` flag uses.
pub const CONTROLLERS: &[&str] = &["replicaset"];

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
    #[error("{0}")]
    Sync(String),
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
        let known = CONTROLLERS
            .iter()
            .copied()
            .find(|known| *known == name)
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
    /// How long a controller waits for its own writes to be observed.
    pub expectations_timeout: Duration,
    /// Retry backoff of every controller's queue.
    pub rate_limits: RateLimits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            controllers: CONTROLLERS.iter().copied().collect(),
            replica_set_workers: 5,
            expectations_timeout: crate::expectations::EXPECTATIONS_TIMEOUT,
            rate_limits: RateLimits::default(),
        }
    }
}

/// Runs the enabled controllers until `shutdown` resolves.
pub async fn run(client: Client, config: Config, shutdown: impl Future<Output = ()>) {
    let mut pods = Informer::<Pod>::new(client.clone(), ListParams::default());
    let mut replica_sets = Informer::<ReplicaSet>::new(client.clone(), ListParams::default());
    let mut tasks = tokio::task::JoinSet::new();
    let mut queues = Vec::new();

    if config.controllers.contains("replicaset") {
        let controller = Arc::new(replica_set::ReplicaSets::new(
            client.clone(),
            replica_sets.store(),
            pods.store(),
            Expectations::with_timeout(config.expectations_timeout),
        ));
        let queue = WorkQueue::<ObjectKey>::new(config.rate_limits.clone());
        replica_sets.on_change({
            let (controller, queue) = (Arc::clone(&controller), queue.clone());
            move |change| {
                controller
                    .replica_set_changed(change)
                    .into_iter()
                    .for_each(|key| queue.add(key))
            }
        });
        pods.on_change({
            let (controller, queue) = (Arc::clone(&controller), queue.clone());
            move |change| {
                controller
                    .pod_changed(change)
                    .into_iter()
                    .for_each(|key| queue.add(key))
            }
        });
        let (pod_store, replica_set_store) = (pods.store(), replica_sets.store());
        let workers = config.replica_set_workers;
        queues.push(queue.clone());
        tasks.spawn(async move {
            // Act only on a full picture: a sync before the first lists
            // would create pods that already exist.
            pod_store.synced().await;
            replica_set_store.synced().await;
            runtime::controller::run("replicaset", queue, workers, move |key| {
                let controller = Arc::clone(&controller);
                async move { controller.sync(key).await }
            })
            .await;
        });
    }
    tasks.spawn(pods.run());
    tasks.spawn(replica_sets.run());
    shutdown.await;
    for queue in &queues {
        queue.shut_down();
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
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
        assert_eq!(parse_controllers(&spec(&["*"])).ok(), Some(all.clone()));
        assert_eq!(
            parse_controllers(&spec(&["*", "-replicaset"])).ok(),
            Some(BTreeSet::new())
        );
        assert_eq!(parse_controllers(&spec(&["replicaset"])).ok(), Some(all));
        let error = parse_controllers(&spec(&["*", "-cronjobz"]));
        assert!(
            matches!(&error, Err(Error::UnknownController(name)) if name == "cronjobz"),
            "{error:?}"
        );
    }
}
