//! Command-line flags. Every flag is optional and overrides the config file
//! (`--config`), which overrides the defaults in `Config::default`. Other
//! binaries start a scheduler in-process with `Args::parse_from`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{
    Algorithm, BackendKind, Config, ConfigError, ProfileConfig, invalid, load_file_over,
};
use api::duration::parse_duration;

/// Skiff's scheduler: binds pending pods to nodes with kube-scheduler's semantics.
#[derive(Clone, Debug, Parser)]
#[command(name = "scheduler", version)]
pub struct Args {
    /// Which API server to talk to: Skiff's over gRPC, or any Kubernetes API
    /// server over HTTPS [default: skiff].
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Kubeconfig file: the server, CA and credential (Skiff backend: the
    /// apiserver writes `<data-dir>/pki/scheduler.kubeconfig`; without one
    /// it connects over plain HTTP/2). Kubernetes backend [default:
    /// KUBECONFIG, ~/.kube/config, or the in-cluster service account].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The apiserver's gRPC address (Skiff backend; replaces the
    /// kubeconfig's server) [default: the kubeconfig's, else 127.0.0.1:6444].
    #[arg(long, alias = "apiserver")]
    pub server: Option<String>,
    /// YAML config file (KubeSchedulerConfiguration shape plus Skiff options).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Placement algorithm [default: default].
    #[arg(long, value_enum)]
    pub algorithm: Option<Algorithm>,
    /// Scheduler names to serve, each with the config's single profile
    /// (repeatable) [default: default-scheduler; skiff-scheduler with
    /// `--backend kubernetes`].
    #[arg(long)]
    pub scheduler_name: Vec<String>,
    /// Percentage of nodes to find feasible before scoring, for every
    /// profile (0 = adaptive, 100 = exact).
    #[arg(long)]
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Threads scheduling the pods of a batch [default: cores].
    #[arg(long)]
    pub parallelism: Option<usize>,
    /// Pods scheduled per batch [default: 2048].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Bindings per batch_bind request [default: 512].
    #[arg(long)]
    pub bind_chunk_size: Option<usize>,
    /// batch_bind requests in flight [default: 4].
    #[arg(long)]
    pub max_binds_in_flight: Option<usize>,
    /// First retry delay of a failed pod, e.g. 1s [default: 1s].
    #[arg(long, value_parser = parse_duration)]
    pub pod_initial_backoff: Option<Duration>,
    /// Longest retry delay [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    pub pod_max_backoff: Option<Duration>,
    /// Longest time an unschedulable pod waits for a helpful event [default: 5m].
    #[arg(long, value_parser = parse_duration)]
    pub pod_max_in_unschedulable_pods_duration: Option<Duration>,
    /// Shortest time between two FailedScheduling reports of a pod [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    pub failed_scheduling_report_interval: Option<Duration>,
    /// Number of shard processes [default: 1].
    #[arg(long)]
    pub shards: Option<u32>,
    /// This process' shard in 0..shards [default: 0].
    #[arg(long)]
    pub shard_index: Option<u32>,
    /// Hold the leader lease before scheduling (single shard) [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: Option<bool>,
    /// Name of the leader lease; shards use `<name>-shard-<i>` [default:
    /// kube-scheduler; skiff-scheduler with `--backend kubernetes`].
    #[arg(long)]
    pub leader_elect_lease_name: Option<String>,
    /// Namespace of the leases [default: kube-system].
    #[arg(long)]
    pub leader_elect_namespace: Option<String>,
    /// Lease duration [default: 15s].
    #[arg(long, value_parser = parse_duration)]
    pub leader_elect_lease_duration: Option<Duration>,
    /// Renew deadline [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Option<Duration>,
    /// Retry period [default: 2s].
    #[arg(long, value_parser = parse_duration)]
    pub leader_elect_retry_period: Option<Duration>,
    /// This replica's name in leases [default: hostname_pid_nanos].
    #[arg(long)]
    pub identity: Option<String>,
    /// Address of /metrics, /healthz and /debug/pprof/profile, or `off`
    /// [default: 127.0.0.1:10259].
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// Seed of tie-breaking.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl Args {
    /// The config: defaults, then the file, then these flags; validated.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let base = Config::for_backend(self.backend.unwrap_or_default());
        let mut config = match &self.config {
            Some(path) => load_file_over(path, base)?,
            None => base,
        };
        self.apply(&mut config)?;
        config.validate()?;
        Ok(config)
    }

    fn apply(self, config: &mut Config) -> Result<(), ConfigError> {
        if let Some(kubeconfig) = self.kubeconfig {
            config.kubeconfig = Some(kubeconfig);
        }
        if let Some(server) = self.server {
            config.server = Some(server);
        }
        if let Some(algorithm) = self.algorithm {
            config.algorithm = algorithm;
        }
        if !self.scheduler_name.is_empty() {
            if config.profiles.len() != 1 {
                return Err(invalid(
                    "--scheduler-name",
                    "only applies when the config has exactly one profile",
                ));
            }
            let template = config.profiles.remove(0);
            config.profiles = self
                .scheduler_name
                .into_iter()
                .map(|name| {
                    let mut profile = template.clone();
                    profile.profile.scheduler_name = name;
                    profile
                })
                .collect();
        }
        if let Some(percentage) = self.percentage_of_nodes_to_score {
            if percentage > 100 {
                return Err(invalid(
                    "--percentage-of-nodes-to-score",
                    format!("must be in 0..=100, got {percentage}"),
                ));
            }
            for ProfileConfig { profile, .. } in &mut config.profiles {
                profile.percentage_of_nodes_to_score = Some(percentage);
            }
        }
        if let Some(value) = self.parallelism {
            config.parallelism = value;
        }
        if let Some(value) = self.batch_size {
            config.batch_size = value;
        }
        if let Some(value) = self.bind_chunk_size {
            config.bind_chunk_size = value;
        }
        if let Some(value) = self.max_binds_in_flight {
            config.max_binds_in_flight = value;
        }
        if let Some(value) = self.pod_initial_backoff {
            config.queue.initial_backoff = value;
        }
        if let Some(value) = self.pod_max_backoff {
            config.queue.max_backoff = value;
        }
        if let Some(value) = self.pod_max_in_unschedulable_pods_duration {
            config.queue.max_unschedulable_duration = value;
        }
        if let Some(value) = self.failed_scheduling_report_interval {
            config.failed_scheduling_report_interval = value;
        }
        if let Some(value) = self.shards {
            config.shards.count = value;
        }
        if let Some(value) = self.shard_index {
            config.shards.index = value;
        }
        let election = &mut config.leader_election;
        if let Some(value) = self.leader_elect {
            election.leader_elect = value;
        }
        if let Some(value) = self.leader_elect_lease_name {
            election.lease_name = value;
        }
        if let Some(value) = self.leader_elect_namespace {
            election.namespace = value;
        }
        if let Some(value) = self.leader_elect_lease_duration {
            election.lease_duration = value;
        }
        if let Some(value) = self.leader_elect_renew_deadline {
            election.renew_deadline = value;
        }
        if let Some(value) = self.leader_elect_retry_period {
            election.retry_period = value;
        }
        if let Some(value) = self.identity {
            config.identity = value;
        }
        if let Some(value) = self.metrics_listen {
            config.metrics_listen = crate::config::parse_listen(&value)
                .map_err(|message| invalid("--metrics-listen", message))?;
        }
        if let Some(value) = self.seed {
            config.seed = value;
        }
        Ok(())
    }
}
