//! The scheduler service: the async shell around the sans-IO core in
//! `scheduler`.
//!
//! Every read and write goes through one seam, `backend::ClusterApi`, with
//! two backends: Skiff's gRPC apiserver (`backend::skiff`) and any
//! Kubernetes API server (`backend::kube`, feature `kube-backend`).
//!
//! Data flow: the backend's watcher tasks list+watch nodes, pods, PDBs and
//! namespaces and send converted changes to the scheduling loop thread
//! (`scheduling_loop`), which owns the `ClusterState` and the queue, and
//! schedules batches on the published snapshot. Placements are assumed and
//! sent to the binder task (`binder`, pipelined `batch_bind` requests);
//! unschedulable pods go to the reporter (`reporter`: FailedScheduling
//! events and the PodScheduled condition), preemptions to the preemptor
//! (`preemptor`). A membership task (`membership`) holds the leader or shard
//! lease and tells the loop when it may schedule and which shards are live.
//! `diagnostics` serves `/metrics`, `/healthz` and `/debug/pprof/profile`.
//!
//! **Invariant:** the hot path has no per-pod task or RPC: events arrive in
//! the apiserver's batches, pods are scheduled in batches, bindings leave in
//! chunks.

mod args;
mod backend;
mod binder;
pub mod config;
mod event;
mod informer;
mod membership;
mod metrics;
mod preemptor;
mod rendezvous;
mod reporter;
mod scheduling_loop;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use client::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use args::Args;
#[cfg(feature = "kube-backend")]
pub use backend::kube::KubeBackendError;
pub use config::{Algorithm, BackendKind, Config, ConfigError};
pub use scheduling_loop::LoopStartError;

use crate::backend::ClusterApi;
use crate::backend::skiff::SkiffBackend;
use crate::event::{LoopEvent, Membership};
use crate::membership::MembershipSettings;
use crate::metrics::Metrics;
use crate::scheduling_loop::{LoopSettings, Outputs};

/// How long `stop` waits for the binder to finish the bindings in flight.
const BINDER_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Failure to start or run the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("connecting to the apiserver {server:?}: {source}")]
    Connect {
        server: String,
        #[source]
        source: client::Error,
    },
    #[error("binding the metrics listener {address}: {source}")]
    MetricsListen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[cfg(feature = "kube-backend")]
    #[error("connecting to the Kubernetes API server: {0}")]
    Kube(#[from] backend::kube::KubeBackendError),
    #[error(transparent)]
    Loop(#[from] LoopStartError),
    #[error("the scheduling loop panicked")]
    LoopPanicked,
}

/// Runs the scheduler until `shutdown` resolves, then stops it gracefully
/// (the loop stops, bindings in flight finish, the lease is released).
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
    let scheduler = Scheduler::start(config).await?;
    shutdown.await;
    scheduler.stop().await
}

/// A running scheduler.
pub struct Scheduler {
    metrics_address: Option<SocketAddr>,
    /// Turns true on stop: ends the watchers, writers, HTTP server and the
    /// membership task (which releases the lease).
    stop: watch::Sender<bool>,
    /// To send `LoopEvent::Stop`.
    loop_tx: Sender<LoopEvent>,
    /// The loop thread; joined on stop.
    loop_thread: Option<std::thread::JoinHandle<()>>,
    /// Ends after the loop (its input closes): awaited before the lease goes.
    binder: JoinHandle<()>,
    /// Everything else: ended by `stop`.
    tasks: Vec<JoinHandle<()>>,
}

impl Scheduler {
    /// Validates `config`, binds the metrics listener and starts every task.
    /// The apiserver need not be up yet: the connection is made lazily and
    /// watches retry.
    pub async fn start(config: Config) -> Result<Scheduler, Error> {
        config.validate()?;
        match config.backend {
            BackendKind::Skiff => {
                let backend = SkiffBackend::new(lazy_client(&config).await?);
                Scheduler::start_with(backend, config).await
            }
            #[cfg(feature = "kube-backend")]
            BackendKind::Kubernetes => {
                let backend = backend::kube::KubeBackend::connect(&config).await?;
                Scheduler::start_with(backend, config).await
            }
            // `validate` rejects it when the feature is off.
            #[cfg(not(feature = "kube-backend"))]
            BackendKind::Kubernetes => Err(Error::Config(config::invalid(
                "--backend",
                "kubernetes needs a scheduler built with the kube-backend feature",
            ))),
        }
    }

    /// Starts every task over `backend`.
    async fn start_with<B: ClusterApi>(backend: B, config: Config) -> Result<Scheduler, Error> {
        let metrics = Arc::new(Metrics::new(
            config
                .profiles
                .iter()
                .map(|profile| profile.profile.scheduler_name.clone()),
        ));
        let listener = match config.metrics_listen {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| Error::MetricsListen { address, source })?,
            ),
            None => None,
        };
        let metrics_address = listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok());
        let (loop_tx, loop_rx) = std::sync::mpsc::channel();
        let (binder_tx, binder_rx) = tokio::sync::mpsc::unbounded_channel();
        let (reporter_tx, reporter_rx) = tokio::sync::mpsc::unbounded_channel();
        let (preemptor_tx, preemptor_rx) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let loop_thread = scheduling_loop::spawn(
            LoopSettings {
                algorithm: config.algorithm,
                profiles: config.profiles.clone(),
                batch_size: config.batch_size,
                parallelism: config.parallelism,
                queue: config.queue.clone(),
                shard_count: config.shards.count,
                shard_index: config.shards.index,
                seed: config.seed,
            },
            loop_rx,
            Outputs {
                binder: binder_tx,
                reporter: reporter_tx,
                preemptor: preemptor_tx,
            },
            metrics.clone(),
        )?;
        let binder = tokio::spawn(binder::run(
            backend.clone(),
            binder_rx,
            loop_tx.clone(),
            metrics.clone(),
            config.bind_chunk_size,
            config.max_binds_in_flight,
        ));
        let mut tasks = vec![
            tokio::spawn(reporter::run(
                backend.clone(),
                reporter_rx,
                config.failed_scheduling_report_interval,
                stop_rx.clone(),
            )),
            tokio::spawn(preemptor::run(
                backend.clone(),
                preemptor_rx,
                loop_tx.clone(),
            )),
        ];
        tasks.extend(backend.spawn_informers(&loop_tx, &stop_rx));
        if config.uses_leases() {
            let election = &config.leader_election;
            tasks.push(tokio::spawn(membership::run(
                backend.clone(),
                MembershipSettings {
                    namespace: election.namespace.clone(),
                    lease_base: election.lease_name.clone(),
                    own_lease: config.own_lease_name(),
                    identity: config.identity.clone(),
                    shard_count: config.shards.count,
                    shard_index: config.shards.index,
                    lease_duration: election.lease_duration,
                    renew_deadline: election.renew_deadline,
                    retry_period: election.retry_period,
                },
                loop_tx.clone(),
                stop_rx.clone(),
            )));
        } else {
            let _ = loop_tx.send(LoopEvent::Membership(Membership {
                active: true,
                live_shards: vec![config.shards.index],
            }));
        }
        if let Some(listener) = listener {
            let render = metrics.clone();
            let render: diagnostics::RenderMetrics = Arc::new(move || render.render());
            tasks.push(tokio::spawn(diagnostics::serve(
                listener,
                Some(render),
                stop_rx.clone(),
            )));
        }
        tracing::info!(
            backend = ?config.backend,
            server = config.server.as_deref().unwrap_or("(kubeconfig)"),
            shard = config.shards.index,
            shards = config.shards.count,
            identity = %config.identity,
            ?metrics_address,
            "scheduler started"
        );
        Ok(Scheduler {
            metrics_address,
            stop,
            loop_tx,
            loop_thread: Some(loop_thread),
            binder,
            tasks,
        })
    }

    /// Where `/metrics` is served (the bound port when configured with 0).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// Stops scheduling, lets bindings in flight finish, releases the lease
    /// and ends every task.
    pub async fn stop(mut self) -> Result<(), Error> {
        let _ = self.loop_tx.send(LoopEvent::Stop);
        let mut panicked = false;
        if let Some(thread) = self.loop_thread.take() {
            panicked = tokio::task::spawn_blocking(move || thread.join().is_err())
                .await
                .unwrap_or(true);
        }
        if tokio::time::timeout(BINDER_DRAIN_TIMEOUT, &mut self.binder)
            .await
            .is_err()
        {
            self.binder.abort();
        }
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        tracing::info!("scheduler stopped");
        if panicked {
            return Err(Error::LoopPanicked);
        }
        Ok(())
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        // Dropped without `stop`: end everything without waiting.
        let _ = self.loop_tx.send(LoopEvent::Stop);
        let _ = self.stop.send(true);
    }
}

/// A client of the Skiff apiserver whose connection is made on first use.
async fn lazy_client(config: &Config) -> Result<Client, Error> {
    let connection = client::kubeconfig::Connection::resolve(
        config.kubeconfig.as_deref(),
        config.server.as_deref(),
        config::DEFAULT_SERVER,
    )
    .map_err(|source| Error::Connect {
        server: config.server.clone().unwrap_or_default(),
        source: source.into(),
    })?;
    Client::grpc_lazy(&connection)
        .await
        .map_err(|source| Error::Connect {
            server: connection.server.clone(),
            source,
        })
}
