//! The flags of a load run, validated once into what [`crate::run`] needs.

use std::path::PathBuf;
use std::time::Duration;

use crate::Error;
use crate::cluster::{SchedulerKind, StoreKind};
use crate::scenario::Scenario;

/// When a pod counts as done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Until {
    /// Bound to a node.
    Bound,
    /// Reported Running by its (hollow) kubelet.
    Running,
}

/// Which of the apiserver's faces the driver and its watches use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiFace {
    /// Skiff's gRPC API: batch creates, watch frames of many events.
    Grpc,
    /// The Kubernetes REST API over HTTPS, as kubectl and client-go use
    /// it: one POST per pod, `?watch=1` streams.
    Rest,
}

/// Flags of a load run.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Pods to create (split over the scenario's phases).
    #[arg(long, default_value_t = 10_000)]
    pub pods: usize,
    /// Hollow nodes to register (embedded cluster only).
    #[arg(long, default_value_t = 5_000)]
    pub nodes: usize,
    /// Offered pods per second, open loop; unlimited when absent.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Concurrent clients creating pods, each with its own connection.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Pods per batch_create call.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Workload, modelled on scheduler_perf.
    #[arg(long, value_enum, default_value = "basic")]
    pub scenario: Scenario,
    /// Store of the embedded apiserver.
    #[arg(long, value_enum, default_value = "redb")]
    pub store: StoreKind,
    /// Data directory of the embedded redb store; a temporary directory
    /// (removed afterwards) when absent.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Scheduler of the embedded cluster.
    #[arg(long, value_enum, default_value = "skiff")]
    pub scheduler: SchedulerKind,
    /// Scheduler shard processes in the `sharded` scenario.
    #[arg(long, default_value_t = 2)]
    pub shards: usize,
    /// Zones the hollow nodes are spread over.
    #[arg(long, default_value_t = 3)]
    pub zones: usize,
    /// Seed of every random choice of the driver.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Give up after this many seconds (default: 60 + pods / 200), listing
    /// the pods not done and why.
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Wait until every pod is bound, or running.
    #[arg(long, value_enum, default_value = "running")]
    pub until: Until,
    /// Drive a running cluster at this address instead of starting one:
    /// its gRPC address (`host:port` for plain HTTP/2, or an `https://`
    /// URL with `--kubeconfig`), with `--api rest` its REST URL; the
    /// kubeconfig's server when absent.
    #[arg(long)]
    pub server: Option<String>,
    /// The API the driver creates pods through and the observer watches
    /// (the cluster's own components always use gRPC).
    #[arg(long, value_enum, default_value = "grpc")]
    pub api: ApiFace,
    /// Credentials for a running cluster (its CA, server and user); the
    /// embedded cluster gives the driver its own (`skiff-loadgen`, bound
    /// to cluster-admin).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Serve the embedded apiserver's gRPC face over plain HTTP/2 without
    /// authentication or authorization (every request trusted), to
    /// measure what security costs.
    #[arg(long)]
    pub grpc_plain_http: bool,
    /// Start the controller manager in the embedded cluster too. The
    /// scheduler scenarios create bare pods, which it has nothing to do
    /// for, and on 2 cores its list+watch of every pod costs them about a
    /// seventh of their throughput (benches/RESULTS.md), so it is off
    /// unless asked for.
    #[arg(long)]
    pub controllers: bool,
    /// Node template (Kubernetes YAML); default `loadgen/templates/node.yaml`.
    #[arg(long)]
    pub node_template: Option<PathBuf>,
    /// Pod template (Kubernetes YAML); default `loadgen/templates/pod.yaml`.
    #[arg(long)]
    pub pod_template: Option<PathBuf>,
    /// Replay the watch recording and check every invariant; exit non-zero
    /// on any violation.
    #[arg(long)]
    pub verify: bool,
    /// Write the watch recording (for `loadgen verify FILE`).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Draw throughput over time and the latency distribution as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write a flamegraph of the scheduler (shard 0) sampled from the start
    /// of the measured phase, and one of the apiserver over the same window
    /// beside it (`run.svg` → `run-apiserver.svg`).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Length of the `--profile` sample.
    #[arg(long, default_value_t = 10)]
    pub profile_seconds: u64,
    /// Hollow pods' delay from bound to running, e.g. `0s`, `500ms`.
    #[arg(long, default_value = "0s")]
    pub pod_start_delay: String,
    /// Hide the progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the component logs (`<component>.log`) in this directory.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// `RUST_LOG` filter of the component processes.
    #[arg(long, default_value = "warn")]
    pub component_log: String,
}

impl RunArgs {
    /// Checks flag values, naming the bad one.
    pub fn validate(&self) -> Result<(), Error> {
        let flag = |flag: &'static str, message: &str| Error::Flag {
            flag,
            message: message.to_string(),
        };
        if self.pods == 0 {
            return Err(flag("--pods", "must be at least 1"));
        }
        if self.nodes == 0 && self.server.is_none() {
            return Err(flag("--nodes", "must be at least 1"));
        }
        if self.clients == 0 {
            return Err(flag("--clients", "must be at least 1"));
        }
        if !(1..=5000).contains(&self.batch_size) {
            return Err(flag("--batch-size", "must be between 1 and 5000"));
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(flag(
                "--rate",
                "must be a positive number of pods per second",
            ));
        }
        if self.zones == 0 {
            return Err(flag("--zones", "must be at least 1"));
        }
        if self.scenario == Scenario::Sharded && self.shards < 2 {
            return Err(flag("--shards", "the sharded scenario needs at least 2"));
        }
        if self.timeout == Some(0) {
            return Err(flag("--timeout", "must be at least 1 second"));
        }
        if self.kubeconfig.is_some() && self.server.is_none() {
            return Err(flag(
                "--kubeconfig",
                "is for --server (the embedded cluster makes its own)",
            ));
        }
        if self.grpc_plain_http && self.server.is_some() {
            return Err(flag(
                "--grpc-plain-http",
                "needs the embedded cluster (not --server)",
            ));
        }
        if self.api == ApiFace::Rest && self.server.is_some() && self.kubeconfig.is_none() {
            return Err(flag(
                "--kubeconfig",
                "--api rest against --server needs the cluster's kubeconfig",
            ));
        }
        if self.server.is_some() && self.profile.is_some() {
            return Err(flag(
                "--profile",
                "needs the embedded cluster (not --server)",
            ));
        }
        Ok(())
    }

    /// `--timeout`, or 60 s plus 5 ms per pod.
    pub fn timeout(&self) -> Duration {
        let pods = u64::try_from(self.pods).unwrap_or(u64::MAX);
        Duration::from_secs(self.timeout.unwrap_or(60 + pods / 200))
    }
}
