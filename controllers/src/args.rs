//! The `controllers` binary's flags, named as kube-controller-manager's.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use api::duration::parse_duration;
use clap::Parser;
use runtime::RateLimits;
use runtime::leader_election::LeaseLock;

use crate::manager::{Config, Error, parse_controllers};

/// Runs Skiff's workload controllers against an apiserver.
#[derive(Clone, Debug, Parser)]
#[command(name = "controllers", version)]
pub struct Args {
    /// The apiserver's gRPC address (replaces the kubeconfig's server)
    /// [default: the kubeconfig's, else 127.0.0.1:6444].
    #[arg(long)]
    pub server: Option<String>,
    /// Kubeconfig with the server, CA and client certificate (the
    /// apiserver writes `<data-dir>/pki/controller-manager.kubeconfig`);
    /// without one the manager connects over plain HTTP/2 (an apiserver
    /// started with `--grpc-plain-http`).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The controllers to run: `*` is all, `name` enables one, `-name`
    /// disables one (e.g. `*,-deployment`); known: cronjob, daemonset, deployment, endpoint, endpointslice, garbagecollector, job, nodelifecycle, podgc, replicaset, replicationcontroller, serviceaccount, statefulset, taint-eviction-controller, ttl-after-finished.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,
    /// Workers of the ReplicaSet controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: usize,
    /// Workers of the Deployment controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: usize,
    /// Workers of the DaemonSet controller.
    #[arg(long, default_value_t = 2)]
    pub concurrent_daemonset_syncs: usize,
    /// Workers of the StatefulSet controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_statefulset_syncs: usize,
    /// Workers of the garbage collector.
    #[arg(long, default_value_t = 20)]
    pub concurrent_gc_syncs: usize,
    /// Workers of the Endpoints controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_endpoint_syncs: usize,
    /// Workers of the EndpointSlice controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_service_endpoint_syncs: usize,
    /// The most endpoints one EndpointSlice holds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub max_endpoints_per_slice: u16,
    /// Workers of the Job controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_job_syncs: usize,
    /// Workers of the CronJob controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_cron_job_syncs: usize,
    /// Workers of the TTL-after-finished controller.
    #[arg(long, default_value_t = 5)]
    pub concurrent_ttl_after_finished_syncs: usize,
    /// How long the Job controller waits before replacing a failed pod; it
    /// doubles per failure since the last success.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub job_pod_failure_backoff: Duration,
    /// The longest such wait.
    #[arg(long, value_parser = parse_duration, default_value = "6m")]
    pub job_pod_failure_max_backoff: Duration,
    /// Finished pods kept before the pod garbage collector deletes the
    /// oldest (0: keep all).
    #[arg(long, default_value_t = 12_500)]
    pub terminated_pod_gc_threshold: usize,
    /// How often the pod garbage collector looks.
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    pub pod_gc_period: Duration,
    /// How long a node must be missing before its pods are collected.
    #[arg(long, value_parser = parse_duration, default_value = "40s")]
    pub pod_gc_quarantine: Duration,
    /// How often the node lifecycle controller checks every node's health.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub node_monitor_period: Duration,
    /// How long a node may go without renewing its Lease or posting status
    /// before its conditions are Unknown (and it gets the `unreachable`
    /// taints).
    #[arg(long, value_parser = parse_duration, default_value = "50s")]
    pub node_monitor_grace_period: Duration,
    /// The same for a node that never posted a Ready condition.
    #[arg(long, value_parser = parse_duration, default_value = "1m")]
    pub node_startup_grace_period: Duration,
    /// Nodes a second that get a NoExecute taint, per healthy zone.
    #[arg(long, default_value_t = 0.1)]
    pub node_eviction_rate: f64,
    /// Nodes a second that get a NoExecute taint in a partly disrupted
    /// zone larger than --large-cluster-size-threshold (smaller ones: none).
    #[arg(long, default_value_t = 0.01)]
    pub secondary_node_eviction_rate: f64,
    /// The share of not-ready nodes (more than two) that makes a zone
    /// partly disrupted.
    #[arg(long, default_value_t = 0.55)]
    pub unhealthy_zone_threshold: f64,
    #[arg(long, default_value_t = 50)]
    pub large_cluster_size_threshold: usize,
    /// How long a controller waits to observe its own creates and deletes
    /// before acting again anyway (e.g. `5m`).
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub expectations_timeout: Duration,
    /// The first retry delay of a failed sync; it doubles per failure.
    #[arg(long, value_parser = parse_duration, default_value = "5ms")]
    pub retry_base_delay: Duration,
    /// The longest retry delay of a failed sync.
    #[arg(long, value_parser = parse_duration, default_value = "1000s")]
    pub retry_max_delay: Duration,
    /// Retries per second across all keys of a controller.
    #[arg(long, default_value_t = 10.0)]
    pub retry_qps: f64,
    /// Retries a controller may make at once above `--retry-qps`.
    #[arg(long, default_value_t = 100)]
    pub retry_burst: u32,
    /// Run the controllers only while holding the leader lease, so
    /// replicas of this process can stand by.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,
    #[arg(long, default_value = "kube-controller-manager")]
    pub leader_elect_resource_name: String,
    /// This process's name in the lease [default: `<hostname>_<random>`].
    #[arg(long)]
    pub leader_elect_identity: Option<String>,
    /// How long a standby waits after it last saw the lease renewed.
    #[arg(long, value_parser = parse_duration, default_value = "15s")]
    pub leader_elect_lease_duration: Duration,
    /// How long the leader keeps acting without a successful renewal.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub leader_elect_renew_deadline: Duration,
    /// How often to try to acquire or renew the lease.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub leader_elect_retry_period: Duration,
}

/// `<hostname>_<random>`, as kube-controller-manager names itself.
fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "controllers".to_string());
    format!("{host}_{}", uuid::Uuid::new_v4())
}

impl Args {
    /// The manager's configuration; an unknown controller name is an error.
    pub fn config(&self) -> Result<Config, Error> {
        Ok(Config {
            controllers: parse_controllers(&self.controllers)?,
            replica_set_workers: self.concurrent_replicaset_syncs,
            deployment_workers: self.concurrent_deployment_syncs,
            garbage_collector_workers: self.concurrent_gc_syncs,
            daemon_set_workers: self.concurrent_daemonset_syncs,
            stateful_set_workers: self.concurrent_statefulset_syncs,
            endpoint_workers: self.concurrent_endpoint_syncs,
            endpoint_slice_workers: self.concurrent_service_endpoint_syncs,
            max_endpoints_per_slice: usize::from(self.max_endpoints_per_slice),
            job_workers: self.concurrent_job_syncs,
            cron_job_workers: self.concurrent_cron_job_syncs,
            job: crate::job::Settings {
                backoff_base: self.job_pod_failure_backoff,
                backoff_max: self.job_pod_failure_max_backoff,
            },
            ttl_after_finished_workers: self.concurrent_ttl_after_finished_syncs,
            pod_gc: crate::manager::pod_gc::Settings {
                period: self.pod_gc_period,
                quarantine: self.pod_gc_quarantine,
                terminated_threshold: self.terminated_pod_gc_threshold,
            },
            node_lifecycle: crate::node_lifecycle::Settings {
                monitor_period: self.node_monitor_period,
                grace_period: self.node_monitor_grace_period,
                startup_grace_period: self.node_startup_grace_period,
                eviction_rate: self.node_eviction_rate,
                secondary_eviction_rate: self.secondary_node_eviction_rate,
                unhealthy_zone_threshold: self.unhealthy_zone_threshold,
                large_cluster_size_threshold: self.large_cluster_size_threshold,
            },
            expectations_timeout: self.expectations_timeout,
            rate_limits: RateLimits {
                base_delay: self.retry_base_delay,
                max_delay: self.retry_max_delay,
                qps: self.retry_qps,
                burst: self.retry_burst,
            },
            leader_election: self.leader_elect.then(|| LeaseLock {
                namespace: self.leader_elect_resource_namespace.clone(),
                name: self.leader_elect_resource_name.clone(),
                identity: self
                    .leader_elect_identity
                    .clone()
                    .unwrap_or_else(default_identity),
                lease_duration: self.leader_elect_lease_duration,
                renew_deadline: self.leader_elect_renew_deadline,
                retry_period: self.leader_elect_retry_period,
            }),
        })
    }
}

/// The apiserver's gRPC address when neither `--server` nor a kubeconfig
/// names one.
const DEFAULT_SERVER: &str = "127.0.0.1:6444";

/// Connects to the apiserver and runs the controllers the flags enable
/// until `shutdown` resolves. The connection is made on first use and the
/// informers retry, so the manager may start before the apiserver.
pub async fn run(args: Args, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let config = args.config()?;
    let connection = client::kubeconfig::Connection::resolve(
        args.kubeconfig.as_deref(),
        args.server.as_deref(),
        DEFAULT_SERVER,
    )
    .map_err(|error| Error::Kubeconfig(error.to_string()))?;
    let client = client::Client::grpc_lazy(&connection).await?;
    crate::manager::run(client, config, shutdown).await
}
