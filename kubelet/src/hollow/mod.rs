//! Hollow mode: one process simulates many nodes. It makes the API calls a
//! real kubelet makes — registers Node objects, renews their Leases, posts
//! node status, moves pods bound to its nodes to Running with IPs and
//! conditions, finishes graceful deletions — but runs nothing.
//!
//! Tasks, each owning its state (no shared maps on the hot path):
//! - `heartbeat::leases`: renews every node's lease, spread evenly over the
//!   renew interval;
//! - `heartbeat::node_status`: re-posts node status every report period or
//!   when the stored status drifts (a node controller marked it not ready);
//! - `pod_watch`: one list+watch over bound pods, read as small headers;
//!   passes the events of these nodes on to
//! - `pods::Manager`: decides each pod's next status and hands the writes to
//! - `workers`: a fixed pool draining the queue of status writes and deletes;
//! - `usage_report`: sends every node's usage to the apiserver in one call
//!   per interval (served as metrics.k8s.io).
//!
//! On shutdown the tasks stop; nodes and pods are left as they are, as a
//! real kubelet leaves its Node behind.

mod heartbeat;
mod nodes;
mod pod_watch;
mod pods;
mod register;
mod usage_report;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Node;
use client::Client;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::Error;
use crate::ipam::Ipv4Cidr;
use crate::template::NodeTemplate;
use crate::usage::UsageTable;

pub use self::nodes::node_name;
pub use self::pods::{EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};

/// Pod event batches the reader may run ahead of the manager. Events are
/// small (a new pod is cut down to its shape); a reader blocked on a full
/// channel stops draining its watch, which the apiserver closes when it
/// falls behind.
const POD_BATCHES_BUFFERED: usize = 1024;

/// How a hollow kubelet runs. [`HollowConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct HollowConfig {
    /// How many nodes to simulate.
    pub nodes: u32,
    /// Nodes are named `<node_prefix>-<index>`.
    pub node_prefix: String,
    pub template: NodeTemplate,
    /// `topology.kubernetes.io/zone` is `zone-<index % zones>`; 0 = no zone label.
    pub zones: u32,
    /// Pod CIDRs are carved from this range, one per node.
    pub cluster_cidr: Ipv4Cidr,
    /// Prefix length of each node's pod CIDR.
    pub node_cidr_mask_size: u8,
    /// Node InternalIP addresses come from this range.
    pub node_ip_range: Ipv4Cidr,
    /// How often each node lease is renewed.
    pub lease_renew_interval: Duration,
    /// `leaseDurationSeconds` of the node leases.
    pub lease_duration_seconds: i32,
    /// How often node status is posted when nothing changed.
    pub node_status_report_frequency: Duration,
    /// How long after a pod is seen bound its containers start.
    pub pod_start_delay: Duration,
    /// Up to this much more start delay, spread over pods by uid.
    pub pod_start_jitter: Duration,
    /// Concurrent pod status writes.
    pub status_workers: usize,
    /// Nodes per batch-create call at registration.
    pub register_batch_size: usize,
    /// Mean share of its requests a container uses (synthetic usage).
    pub usage_fraction: f64,
    /// Serve `/metrics/resource` here if set (port 0 picks one).
    pub metrics_listen: Option<SocketAddr>,
    /// How often every node's usage is reported to the apiserver
    /// (metrics.k8s.io, `kubectl top`).
    pub usage_report_interval: Duration,
}

impl HollowConfig {
    /// `nodes` nodes from `template` with every other option at its default.
    pub fn new(nodes: u32, template: NodeTemplate) -> HollowConfig {
        HollowConfig {
            nodes,
            node_prefix: "hollow-node".to_string(),
            template,
            zones: 3,
            cluster_cidr: Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 8),
            node_cidr_mask_size: 24,
            node_ip_range: Ipv4Cidr::new(std::net::Ipv4Addr::new(172, 16, 0, 0), 12),
            lease_renew_interval: Duration::from_secs(10),
            lease_duration_seconds: 40,
            node_status_report_frequency: Duration::from_secs(300),
            pod_start_delay: Duration::from_secs(1),
            pod_start_jitter: Duration::from_secs(1),
            status_workers: 64,
            register_batch_size: 500,
            usage_fraction: 0.5,
            metrics_listen: None,
            usage_report_interval: Duration::from_secs(15),
        }
    }

    /// Checks every option; the error names the flag.
    pub fn validate(&self) -> Result<(), Error> {
        let config = |flag: &'static str, message: String| Err(Error::Config { flag, message });
        if self.nodes == 0 {
            return config("--nodes", "must be at least 1".to_string());
        }
        let mut probe = Node::default();
        probe.metadata.name = Some(node_name(&self.node_prefix, self.nodes - 1));
        if let Err(errors) = probe.validate_create() {
            return config(
                "--node-prefix",
                format!(
                    "{:?} does not make valid node names: {errors}",
                    self.node_prefix
                ),
            );
        }
        let subnets = self.cluster_cidr.subnet_count(self.node_cidr_mask_size);
        if self.node_cidr_mask_size > 30 || subnets < u64::from(self.nodes) {
            return config(
                "--cluster-cidr",
                format!(
                    "{} holds {subnets} pod CIDRs of /{} (--node-cidr-mask-size), fewer than --nodes {}",
                    self.cluster_cidr, self.node_cidr_mask_size, self.nodes
                ),
            );
        }
        if self.node_ip_range.size() < u64::from(self.nodes) + 2 {
            return config(
                "--node-ip-range",
                format!(
                    "{} holds fewer addresses than --nodes {}",
                    self.node_ip_range, self.nodes
                ),
            );
        }
        if self.lease_renew_interval.is_zero() {
            return config("--lease-renew-interval", "must be positive".to_string());
        }
        let duration = Duration::from_secs(u64::try_from(self.lease_duration_seconds).unwrap_or(0));
        if duration <= self.lease_renew_interval {
            return config(
                "--lease-duration",
                format!(
                    "{}s must exceed --lease-renew-interval {:?}",
                    self.lease_duration_seconds, self.lease_renew_interval
                ),
            );
        }
        if self.node_status_report_frequency.is_zero() {
            return config(
                "--node-status-report-frequency",
                "must be positive".to_string(),
            );
        }
        if self.usage_report_interval.is_zero() {
            return config("--usage-report-interval", "must be positive".to_string());
        }
        if self.status_workers == 0 {
            return config("--status-workers", "must be at least 1".to_string());
        }
        if self.register_batch_size == 0 {
            return config("--register-batch-size", "must be at least 1".to_string());
        }
        if !(0.0..=10.0).contains(&self.usage_fraction) {
            return config(
                "--usage-fraction",
                format!("{} is not in 0..=10", self.usage_fraction),
            );
        }
        Ok(())
    }
}

/// Counters of what the kubelet did, for tests, logs and load reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub pods_started: AtomicU64,
    pub pods_finished: AtomicU64,
    pub pods_rejected: AtomicU64,
    pub pods_deleted: AtomicU64,
    pub status_writes: AtomicU64,
    pub status_write_errors: AtomicU64,
    pub lease_renewals: AtomicU64,
    pub lease_renew_errors: AtomicU64,
    pub node_status_posts: AtomicU64,
    pub usage_reports: AtomicU64,
    pub usage_report_errors: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }
}

/// A running hollow kubelet. Dropping it without [`HollowKubelet::stop`]
/// also stops its tasks.
pub struct HollowKubelet {
    nodes: Arc<nodes::NodeSet>,
    usage: Arc<UsageTable>,
    stats: Arc<Stats>,
    metrics_address: Option<SocketAddr>,
    /// Set to true to stop every task.
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl HollowKubelet {
    /// Registers the nodes and their leases (returns once every node is
    /// registered), then starts heartbeats and the pod loop.
    pub async fn start(client: Client, config: HollowConfig) -> Result<HollowKubelet, Error> {
        HollowKubelet::start_pooled(vec![client], config).await
    }

    /// As [`HollowKubelet::start`], spreading pod status writes over several
    /// connections (`clients`, at least one).
    pub async fn start_pooled(
        clients: Vec<Client>,
        config: HollowConfig,
    ) -> Result<HollowKubelet, Error> {
        config.validate()?;
        let Some(client) = clients.first().cloned() else {
            return Err(Error::Config {
                flag: "--connections",
                message: "at least one connection is needed".to_string(),
            });
        };
        let config = Arc::new(config);
        let mut node_set = nodes::NodeSet::new(&config);
        let started = std::time::Instant::now();
        let registered = register::register_nodes(&client, &config, &mut node_set).await?;
        let leases = register::register_leases(&client, &config, &registered).await?;
        tracing::info!(
            nodes = registered.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "hollow nodes registered"
        );
        let node_set = Arc::new(node_set);
        let usage = Arc::new(UsageTable::new(
            node_set.identities.iter().map(|i| i.name.clone()),
            SystemTime::now(),
        ));
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let metrics_address = match config.metrics_listen {
            Some(address) => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| Error::Metrics { address, source })?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| Error::Metrics { address, source })?;
                tasks.push(tokio::spawn(crate::metrics::serve(
                    listener,
                    usage.clone(),
                    wait_stopped(stopped.clone()),
                )));
                Some(bound)
            }
            None => None,
        };
        tasks.push(tokio::spawn(heartbeat::leases(
            client.clone(),
            config.clone(),
            registered.iter().map(heartbeat::lease_owner).collect(),
            leases,
            stats.clone(),
            stopped.clone(),
        )));
        tasks.push(tokio::spawn(heartbeat::node_status(
            client.clone(),
            config.clone(),
            node_set.clone(),
            registered
                .into_iter()
                .map(|node| heartbeat::conditions_only(node.status))
                .collect(),
            stats.clone(),
            stopped.clone(),
        )));
        tasks.push(tokio::spawn(usage_report::run(
            client.clone(),
            usage.clone(),
            config.usage_report_interval,
            stats.clone(),
            stopped.clone(),
        )));
        let (jobs, results) = workers::spawn(
            clients,
            config.status_workers,
            stats.clone(),
            stopped.clone(),
            &mut tasks,
        );
        let (batches, batches_receiver) = mpsc::channel(POD_BATCHES_BUFFERED);
        tasks.push(tokio::spawn(pod_watch::run(
            client,
            node_set.clone(),
            batches,
            stopped.clone(),
        )));
        let manager = pods::Manager::new(
            config.clone(),
            node_set.clone(),
            usage.clone(),
            stats.clone(),
            jobs,
        );
        tasks.push(tokio::spawn(manager.run(
            batches_receiver,
            results,
            stopped,
        )));
        Ok(HollowKubelet {
            nodes: node_set,
            usage,
            stats,
            metrics_address,
            stop,
            tasks,
        })
    }

    /// The names of the simulated nodes, by index.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.identities.iter().map(|i| i.name.as_str())
    }

    /// Resource usage of the simulated nodes and pods.
    pub fn usage(&self) -> &Arc<UsageTable> {
        &self.usage
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Where `/metrics/resource` is served, if it is.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// Stops every task and waits for them; nodes stay registered.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%error, "hollow kubelet task panicked");
            }
        }
    }
}

impl Drop for HollowKubelet {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Runs a hollow kubelet until `shutdown` resolves.
pub async fn run_hollow(
    client: Client,
    config: HollowConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    run_hollow_pooled(vec![client], config, shutdown).await
}

/// [`run_hollow`] over several connections.
pub async fn run_hollow_pooled(
    clients: Vec<Client>,
    config: HollowConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let kubelet = HollowKubelet::start_pooled(clients, config).await?;
    shutdown.await;
    tracing::info!("stopping hollow kubelet; nodes stay registered");
    kubelet.stop().await;
    Ok(())
}

/// Resolves once `stopped` turns true (or its sender is gone).
pub(crate) async fn wait_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
