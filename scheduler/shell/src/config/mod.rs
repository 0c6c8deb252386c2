//! The scheduler's configuration: every option with its default in one
//! place (`Config::default`), validated once (`Config::validate`) before the
//! service starts. The YAML file (`file`) and the flags (`crate::Args`) only
//! fill this struct.

mod file;
mod plugins;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use scheduler::Profile;
use scheduler::preemption::PreemptionConfig;
use scheduler::queue::QueueConfig;

pub(crate) use file::parse_listen;
pub use file::{load_file, load_file_over};

/// How pods are placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// Kubernetes' filters and scores (the profiles' plugins), with preemption.
    #[default]
    #[value(alias = "skiff")]
    Default,
    /// Nodes in round-robin order without any check: the baseline that
    /// measures everything but the placement decision.
    Noop,
}

/// Which API server the shell talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Skiff's apiserver over gRPC (batch binds and batch event writes).
    #[default]
    Skiff,
    /// Any Kubernetes API server over HTTPS through kube-rs (needs the
    /// `kube-backend` feature).
    Kubernetes,
}

impl BackendKind {
    /// The scheduler name (and lease name) served when none is configured:
    /// against Kubernetes it must not clash with kube-scheduler's.
    pub fn default_scheduler_name(self) -> &'static str {
        match self {
            BackendKind::Skiff => "default-scheduler",
            BackendKind::Kubernetes => "skiff-scheduler",
        }
    }
}

/// One scheduling profile and its PostFilter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    /// Filters, scores, weights and sampling for one `schedulerName`.
    pub profile: Profile,
    /// DefaultPreemption's arguments; `None` when the plugin is disabled.
    pub preemption: Option<PreemptionConfig>,
}

impl ProfileConfig {
    /// kube-scheduler's default profile under `scheduler_name`.
    pub fn named(scheduler_name: &str) -> ProfileConfig {
        ProfileConfig {
            profile: Profile {
                scheduler_name: scheduler_name.to_string(),
                ..Profile::default()
            },
            preemption: Some(PreemptionConfig::default()),
        }
    }
}

/// Leader election through a `coordination.k8s.io/v1` Lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// Whether a single-shard scheduler waits to hold the lease before
    /// scheduling (shards always hold their membership lease).
    pub leader_elect: bool,
    /// Namespace of the leases.
    pub namespace: String,
    /// Name of the leader lease; shard `i` holds `<lease_name>-shard-<i>`.
    pub lease_name: String,
    /// How long a lease holds without renewal; a standby takes over after it.
    pub lease_duration: Duration,
    /// The holder gives up scheduling when it could not renew for this long.
    pub renew_deadline: Duration,
    /// How often leases are tried, renewed and (for shards) read.
    pub retry_period: Duration,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        LeaderElectionConfig {
            leader_elect: true,
            namespace: "kube-system".to_string(),
            lease_name: "kube-scheduler".to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Which share of pending pods this process schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardConfig {
    /// Number of shard processes.
    pub count: u32,
    /// This process' shard, in `0..count`.
    pub index: u32,
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig { count: 1, index: 0 }
    }
}

/// The Skiff apiserver's gRPC address when neither `server` nor a
/// kubeconfig names one.
pub const DEFAULT_SERVER: &str = "127.0.0.1:6444";

/// Everything the scheduler service needs to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Which API server to talk to.
    pub backend: BackendKind,
    /// The apiserver's address (Skiff backend: gRPC, `host:port` for plain
    /// HTTP/2 or an `https://` URL); `None`: the kubeconfig's server, else
    /// [`DEFAULT_SERVER`].
    pub server: Option<String>,
    /// The kubeconfig file: its CA, credential and server. Skiff backend:
    /// `None` connects over plain HTTP/2 without credentials (an apiserver
    /// started with `--grpc-plain-http`). Kubernetes backend: `None` =
    /// `KUBECONFIG`, `~/.kube/config` or the in-cluster service account,
    /// as kubectl finds them.
    pub kubeconfig: Option<PathBuf>,
    /// This process' name in leases (unique per replica).
    pub identity: String,
    pub algorithm: Algorithm,
    /// One per served `schedulerName`; pods of other names are ignored.
    pub profiles: Vec<ProfileConfig>,
    /// Threads scheduling pods of a batch in parallel.
    pub parallelism: usize,
    /// Pods popped from the queue and scheduled together.
    pub batch_size: usize,
    /// Bindings per `batch_bind` request.
    pub bind_chunk_size: usize,
    /// `batch_bind` requests in flight at once.
    pub max_binds_in_flight: usize,
    /// Backoff and unschedulable-pool timers.
    pub queue: QueueConfig,
    /// At most one FailedScheduling event and condition update per pod per
    /// interval; the latest message is written when the interval ends.
    pub failed_scheduling_report_interval: Duration,
    pub leader_election: LeaderElectionConfig,
    pub shards: ShardConfig,
    /// Where `/metrics`, `/healthz` and `/debug/pprof/profile` are served;
    /// `None` = not served.
    pub metrics_listen: Option<SocketAddr>,
    /// Seed of tie-breaking and sampling start.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config::for_backend(BackendKind::Skiff)
    }
}

impl Config {
    /// The defaults for `backend`: against Kubernetes the profile and the
    /// leader lease are named `skiff-scheduler`, so the cluster's own
    /// kube-scheduler keeps its pods and its lease.
    pub fn for_backend(backend: BackendKind) -> Config {
        let scheduler_name = backend.default_scheduler_name();
        let mut leader_election = LeaderElectionConfig::default();
        if backend == BackendKind::Kubernetes {
            leader_election.lease_name = scheduler_name.to_string();
        }
        Config {
            backend,
            server: None,
            kubeconfig: None,
            identity: default_identity(),
            algorithm: Algorithm::Default,
            profiles: vec![ProfileConfig::named(scheduler_name)],
            parallelism: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            batch_size: 2048,
            bind_chunk_size: 512,
            max_binds_in_flight: 4,
            queue: QueueConfig::default(),
            failed_scheduling_report_interval: Duration::from_secs(10),
            leader_election,
            shards: ShardConfig::default(),
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 10259))),
            seed: 0x5eed,
        }
    }
}

/// A bad option: the field (as written in the file or flag) and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Config {
    /// Checks the options that other checks (types, the file schema) cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.backend == BackendKind::Skiff && self.server.as_deref() == Some("") {
            return Err(invalid("server", "must not be empty"));
        }
        if self.backend == BackendKind::Kubernetes && !cfg!(feature = "kube-backend") {
            return Err(invalid(
                "--backend",
                "kubernetes needs a scheduler built with the kube-backend feature",
            ));
        }
        if self.profiles.is_empty() {
            return Err(invalid("profiles", "at least one profile is required"));
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, profile) in self.profiles.iter().enumerate() {
            let name = &profile.profile.scheduler_name;
            if name.is_empty() {
                return Err(invalid(
                    format!("profiles[{index}].schedulerName"),
                    "must not be empty",
                ));
            }
            if !names.insert(name.clone()) {
                return Err(invalid(
                    format!("profiles[{index}].schedulerName"),
                    format!("duplicate scheduler name {name:?}"),
                ));
            }
            if let Some(percentage) = profile.profile.percentage_of_nodes_to_score
                && percentage > 100
            {
                return Err(invalid(
                    format!("profiles[{index}].percentageOfNodesToScore"),
                    format!("must be in 0..=100, got {percentage}"),
                ));
            }
        }
        for (field, value) in [
            ("parallelism", self.parallelism),
            ("batchSize", self.batch_size),
            ("bindChunkSize", self.bind_chunk_size),
            ("maxBindsInFlight", self.max_binds_in_flight),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if self.queue.initial_backoff.is_zero() {
            return Err(invalid("podInitialBackoff", "must be positive"));
        }
        if self.queue.max_backoff < self.queue.initial_backoff {
            return Err(invalid(
                "podMaxBackoff",
                "must not be less than podInitialBackoff",
            ));
        }
        if self.shards.count == 0 {
            return Err(invalid("shards.count", "must be at least 1"));
        }
        if self.shards.index >= self.shards.count {
            return Err(invalid(
                "shards.index",
                format!(
                    "must be less than shards.count ({}), got {}",
                    self.shards.count, self.shards.index
                ),
            ));
        }
        let election = &self.leader_election;
        if election.namespace.is_empty() || election.lease_name.is_empty() {
            return Err(invalid(
                "leaderElection.resourceName",
                "lease namespace and name must not be empty",
            ));
        }
        if election.retry_period.is_zero() {
            return Err(invalid("leaderElection.retryPeriod", "must be positive"));
        }
        if election.renew_deadline >= election.lease_duration {
            return Err(invalid(
                "leaderElection.renewDeadline",
                "must be less than leaderElection.leaseDuration",
            ));
        }
        if election.retry_period >= election.renew_deadline {
            return Err(invalid(
                "leaderElection.retryPeriod",
                "must be less than leaderElection.renewDeadline",
            ));
        }
        if self.identity.is_empty() {
            return Err(invalid("identity", "must not be empty"));
        }
        Ok(())
    }

    /// Whether this process must hold a lease before it schedules.
    pub fn uses_leases(&self) -> bool {
        self.shards.count > 1 || self.leader_election.leader_elect
    }

    /// The lease this process holds while it schedules.
    pub fn own_lease_name(&self) -> String {
        if self.shards.count > 1 {
            shard_lease_name(&self.leader_election.lease_name, self.shards.index)
        } else {
            self.leader_election.lease_name.clone()
        }
    }
}

/// The membership lease of shard `index`.
pub fn shard_lease_name(base: &str, index: u32) -> String {
    format!("{base}-shard-{index}")
}

/// `<hostname>_<pid>_<nanos>`: unique per replica without configuration.
fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_string())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "scheduler".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    format!("{host}_{}_{nanos:08x}", std::process::id())
}

#[cfg(test)]
mod tests;
