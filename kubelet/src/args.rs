//! The kubelet's flags, shared by the `kubelet` binary and by programs that
//! start a kubelet in-process (`Args::parse_from(["kubelet", "--hollow",
//! ...])`), and [`run`]: flags → config → the running kubelet.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use api::duration::parse_duration;
use client::Client;

use crate::error::Error;
use crate::hollow::{self, HollowConfig};
use crate::ipam::Ipv4Cidr;
use crate::template::NodeTemplate;

/// Skiff's node agent. `--hollow` simulates many nodes in one process.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "kubelet", version)]
pub struct Args {
    /// Simulate nodes: register them, heartbeat, and move bound pods to
    /// Running without running anything (the only mode so far).
    #[arg(long)]
    pub hollow: bool,
    /// The apiserver's gRPC address (replaces the kubeconfig's server)
    /// [default: the kubeconfig's, else 127.0.0.1:6444].
    #[arg(long)]
    pub server: Option<String>,
    /// Kubeconfig with the server, CA and client certificate (the
    /// apiserver writes `<data-dir>/pki/kubelet.kubeconfig`); without one
    /// the kubelet connects over plain HTTP/2 (an apiserver started with
    /// `--grpc-plain-http`).
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// How many nodes to simulate.
    #[arg(long, default_value_t = 100)]
    pub nodes: u32,
    /// Nodes are named `<prefix>-<index>`.
    #[arg(long, default_value = "hollow-node")]
    pub node_prefix: String,
    /// Node manifest (YAML or JSON) every node is built from; default: the
    /// built-in `kubelet/templates/hollow-node.yaml`.
    #[arg(long)]
    pub node_template: Option<PathBuf>,
    /// Spread nodes over this many `topology.kubernetes.io/zone` values (0 = none).
    #[arg(long, default_value_t = 3)]
    pub zones: u32,
    /// Pod CIDRs of the nodes are carved from this range.
    #[arg(long, default_value = "10.0.0.0/8")]
    pub cluster_cidr: Ipv4Cidr,
    /// Prefix length of each node's pod CIDR.
    #[arg(long, default_value_t = 24)]
    pub node_cidr_mask_size: u8,
    /// Node InternalIP addresses come from this range.
    #[arg(long, default_value = "172.16.0.0/12")]
    pub node_ip_range: Ipv4Cidr,
    /// How often each node lease is renewed (renewals are spread over it).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub lease_renew_interval: Duration,
    /// `leaseDurationSeconds` of node leases.
    #[arg(long, default_value_t = 40)]
    pub lease_duration: i32,
    /// How often node status is posted when nothing changed.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub node_status_report_frequency: Duration,
    /// Delay from seeing a pod bound to its containers running.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub pod_start_delay: Duration,
    /// Up to this much extra start delay, spread over pods.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub pod_start_jitter: Duration,
    /// Pod status writes in flight at once.
    #[arg(long, default_value_t = 64)]
    pub status_workers: usize,
    /// gRPC connections to the apiserver for pod status writes.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Nodes per batch create at registration.
    #[arg(long, default_value_t = 500)]
    pub register_batch_size: usize,
    /// Mean share of its requests a simulated container uses.
    #[arg(long, default_value_t = 0.5)]
    pub usage_fraction: f64,
    /// Serve `/metrics/resource` (Prometheus text) on this address.
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// How often every node's usage is reported to the apiserver, which
    /// serves it as metrics.k8s.io (`kubectl top`).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub usage_report_interval: Duration,
}

impl Args {
    /// The hollow-mode config these flags describe, validated.
    pub fn hollow_config(&self) -> Result<HollowConfig, Error> {
        let template = match &self.node_template {
            Some(path) => NodeTemplate::from_file(path)?,
            None => NodeTemplate::built_in()?,
        };
        let config = HollowConfig {
            nodes: self.nodes,
            node_prefix: self.node_prefix.clone(),
            template,
            zones: self.zones,
            cluster_cidr: self.cluster_cidr,
            node_cidr_mask_size: self.node_cidr_mask_size,
            node_ip_range: self.node_ip_range,
            lease_renew_interval: self.lease_renew_interval,
            lease_duration_seconds: self.lease_duration,
            node_status_report_frequency: self.node_status_report_frequency,
            pod_start_delay: self.pod_start_delay,
            pod_start_jitter: self.pod_start_jitter,
            status_workers: self.status_workers,
            register_batch_size: self.register_batch_size,
            usage_fraction: self.usage_fraction,
            metrics_listen: self.metrics_listen,
            usage_report_interval: self.usage_report_interval,
        };
        config.validate()?;
        if self.connections == 0 {
            return Err(Error::Config {
                flag: "--connections",
                message: "must be at least 1".to_string(),
            });
        }
        Ok(config)
    }
}

/// Connects to the apiserver and runs the kubelet the flags describe until
/// `shutdown` resolves.
pub async fn run(args: Args, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
    if !args.hollow {
        return Err(Error::NotHollow);
    }
    let config = args.hollow_config()?;
    let connection = client::kubeconfig::Connection::resolve(
        args.kubeconfig.as_deref(),
        args.server.as_deref(),
        DEFAULT_SERVER,
    )
    .map_err(|source| Error::Connect {
        server: args.server.clone().unwrap_or_default(),
        source: source.into(),
    })?;
    let mut clients = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        clients.push(connect(&connection).await?);
    }
    hollow::run_hollow_pooled(clients, config, shutdown).await
}

/// The apiserver's gRPC address when neither `--server` nor a kubeconfig
/// names one.
const DEFAULT_SERVER: &str = "127.0.0.1:6444";

/// How long to keep trying to reach an apiserver that is starting.
const CONNECT_ATTEMPTS: u32 = 50;
const CONNECT_PAUSE: Duration = Duration::from_millis(200);

/// Connects, retrying for a while: the kubelet may start before the apiserver.
async fn connect(connection: &client::kubeconfig::Connection) -> Result<Client, Error> {
    let mut attempt = 1;
    loop {
        match Client::grpc(connection).await {
            Ok(client) => return Ok(client),
            Err(client::Error::Transport(_)) if attempt < CONNECT_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(CONNECT_PAUSE).await;
            }
            Err(source) => {
                return Err(Error::Connect {
                    server: connection.server.clone(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn flag_defaults_are_the_config_defaults() {
        let from_flags = Args::parse_from(["kubelet", "--hollow"])
            .hollow_config()
            .unwrap();
        let defaults = HollowConfig::new(100, NodeTemplate::built_in().unwrap());
        assert_eq!(format!("{from_flags:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn flags_become_a_config_and_bad_ones_name_the_flag() {
        let args = Args::parse_from(["kubelet", "--hollow", "--nodes", "5000", "--zones", "4"]);
        let config = args.hollow_config().unwrap();
        assert_eq!(config.nodes, 5000);
        assert_eq!(config.lease_renew_interval, Duration::from_secs(10));
        assert_eq!(
            config.node_status_report_frequency,
            Duration::from_secs(300)
        );
        let args = Args::parse_from([
            "kubelet",
            "--hollow",
            "--nodes",
            "300",
            "--cluster-cidr",
            "10.0.0.0/16",
        ]);
        let error = args.hollow_config().unwrap_err().to_string();
        assert!(
            error.starts_with("--cluster-cidr: 10.0.0.0/16 holds 256 pod CIDRs"),
            "{error}"
        );
        let args = Args::parse_from(["kubelet", "--hollow", "--node-prefix", "Bad_Name"]);
        let error = args.hollow_config().unwrap_err().to_string();
        assert!(error.starts_with("--node-prefix:"), "{error}");
        let args = Args::parse_from(["kubelet", "--hollow", "--lease-renew-interval", "1m"]);
        let error = args.hollow_config().unwrap_err().to_string();
        assert!(error.starts_with("--lease-duration:"), "{error}");
        let args = Args::parse_from([
            "kubelet",
            "--hollow",
            "--node-template",
            "/nonexistent/node.yaml",
        ]);
        let error = args.hollow_config().unwrap_err().to_string();
        assert!(
            error.contains("/nonexistent/node.yaml: cannot read"),
            "{error}"
        );
    }
}
