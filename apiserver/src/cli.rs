//! The `apiserver` command line: flags → [`Config`] → [`crate::run`].
//!
//! Lives in the library so that every binary that starts an apiserver (the
//! `apiserver` binary, `loadgen`'s embedded cluster) parses the same flags
//! and builds the same configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use api::duration::parse_duration;
use clap::{Parser, ValueEnum};

use crate::{Config, Ipv4Net, RunError};

/// Where objects are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// In memory; everything is lost on exit.
    Memory,
    /// Embedded and durable, in `--data-dir`.
    Redb,
}

/// Skiff's API server: Kubernetes objects over gRPC and the Kubernetes REST API.
#[derive(Clone, Debug, Parser)]
#[command(name = "apiserver", version)]
pub struct Args {
    /// Storage backend.
    #[arg(long, value_enum, default_value = "redb")]
    pub store: StoreKind,
    /// Directory of the redb store.
    #[arg(long, default_value = "./skiff-data")]
    pub data_dir: PathBuf,
    /// Address to serve gRPC on (Skiff's own components), over TLS with
    /// the same PKI; each request is authenticated (client certificate or
    /// bearer token) and authorized by RBAC. The components' kubeconfigs
    /// (`scheduler.kubeconfig`, `kubelet.kubeconfig`,
    /// `controller-manager.kubeconfig`) are written to `<data-dir>/pki`.
    #[arg(long, default_value = "127.0.0.1:6444")]
    pub listen: SocketAddr,
    /// Serve gRPC over plain HTTP/2 without authentication, every request
    /// trusted as the apiserver itself (loopback addresses only).
    #[arg(long)]
    pub grpc_plain_http: bool,
    /// Address to serve the Kubernetes REST API on (kubectl, client
    /// libraries), over HTTPS with the CA and serving certificate kept in
    /// `<data-dir>/pki`; the admin kubeconfig is written there too.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub rest_listen: SocketAddr,
    /// Serve REST over plain HTTP instead of HTTPS (loopback addresses only).
    #[arg(long)]
    pub rest_plain_http: bool,
    /// Do not serve the REST API.
    #[arg(long, conflicts_with_all = ["rest_plain_http"])]
    pub no_rest: bool,
    /// More host names or IPs the serving certificate names (repeatable).
    #[arg(long = "tls-san")]
    pub tls_sans: Vec<String>,
    /// Static bearer tokens: CSV lines `token,user,uid,"group1,group2"`.
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,
    /// IPv4 range service cluster IPs are allocated from.
    #[arg(long, default_value = "127.96.0.0/12")]
    pub service_cluster_ip_range: Ipv4Net,
    /// How long events are kept after their last update, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub event_ttl: u64,
    /// How long a node's reported usage (metrics.k8s.io) is served after it
    /// arrives.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub metrics_sample_ttl: Duration,
    /// Reject binds and creates with spec.nodeName that would exceed the
    /// node's allocatable, reuse a host port or break required hostname
    /// anti-affinity (`--bind-arbiter false` accepts them, as Kubernetes does).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub bind_arbiter: bool,
    /// Address of `/healthz` and `/debug/pprof/profile?seconds=N` (a CPU
    /// flamegraph) over plain HTTP; not served when absent.
    #[arg(long)]
    pub debug_listen: Option<SocketAddr>,
    /// Revisions of history the store keeps; older ones are compacted away
    /// (a list or watch from before them fails with "too old" and the
    /// client relists). History is held in memory, so this bounds the
    /// apiserver's memory under a steady write load; keep it well above
    /// the watch window.
    #[arg(long, default_value_t = DEFAULT_RETAINED_REVISIONS)]
    pub retained_revisions: i64,
    /// How often the store's history is compacted, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub compaction_interval: Duration,
    /// gRPC connections kept open at once; more are closed on accept. The
    /// cap is also held under the descriptor budget (the soft
    /// RLIMIT_NOFILE minus 256 kept for the store).
    #[arg(long, default_value_t = 4096)]
    pub grpc_max_connections: usize,
    /// A new connection that has not sent its first bytes (the HTTP/2
    /// preface on gRPC) within this is closed, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub first_byte_timeout: Duration,
    /// A gRPC connection on which no byte moved either way for this long is
    /// closed, e.g. `5m`; `0s` never closes one.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub grpc_idle_timeout: Duration,
}

/// Default of `--retained-revisions`: four times the watch window, so a
/// new watch cache always starts inside the history; at about 1.5 KiB of
/// memory per revision, some 300 MiB.
pub const DEFAULT_RETAINED_REVISIONS: i64 = 200_000;

/// Why the apiserver could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("opening the {store:?} store: {source}")]
    OpenStore {
        store: StoreKind,
        #[source]
        source: store::StoreError,
    },
    #[error("binding {address}: {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(#[from] RunError),
}

impl Args {
    /// Opens the store the flags name and builds the server configuration.
    pub fn config(&self) -> Result<Config, CliError> {
        let backend = match self.store {
            StoreKind::Memory => store::Backend::Memory,
            StoreKind::Redb => store::Backend::Redb {
                data_dir: self.data_dir.clone(),
            },
        };
        let store_config = store::StoreConfig {
            auto_compact_retain_revisions: self.retained_revisions.max(1),
            auto_compact_interval: self.compaction_interval,
            ..Default::default()
        };
        let store = store::open(&backend, store_config).map_err(|source| CliError::OpenStore {
            store: self.store,
            source,
        })?;
        let mut config = Config::new(store);
        config.service_cluster_ip_range = self.service_cluster_ip_range;
        config.event_ttl = Duration::from_secs(self.event_ttl);
        config.metrics_sample_ttl = self.metrics_sample_ttl;
        config.bind_arbiter = self.bind_arbiter;
        config.security_dir = Some(self.data_dir.join("pki"));
        config.grpc_plain_http = self.grpc_plain_http;
        config.serving_hosts.clone_from(&self.tls_sans);
        config.token_auth_file.clone_from(&self.token_auth_file);
        config.grpc_max_connections = self.grpc_max_connections;
        config.first_byte_timeout = self.first_byte_timeout;
        config.grpc_idle_timeout = Some(self.grpc_idle_timeout).filter(|idle| !idle.is_zero());
        Ok(config)
    }
}

/// Opens the store, binds `--listen` (and `--debug-listen`) and serves until
/// `shutdown` resolves.
pub async fn run(args: &Args, shutdown: impl Future<Output = ()> + Send) -> Result<(), CliError> {
    let config = args.config()?;
    let listener = bind(args.listen).await?;
    let rest = if args.no_rest {
        None
    } else {
        Some(crate::RestListener {
            listener: bind(args.rest_listen).await?,
            tls: !args.rest_plain_http,
        })
    };
    let (stop_debug, debug_stopped) = tokio::sync::watch::channel(false);
    if let Some(address) = args.debug_listen {
        let debug = bind(address).await?;
        tokio::spawn(diagnostics::serve(debug, None, debug_stopped));
    }
    let listeners = crate::Listeners {
        grpc: listener,
        rest,
    };
    let served = crate::serve(listeners, config, shutdown).await;
    let _ = stop_debug.send(true);
    served?;
    Ok(())
}

async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| CliError::Bind { address, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_flags_reach_the_store_config() {
        let args = Args::parse_from([
            "apiserver",
            "--retained-revisions",
            "5000",
            "--compaction-interval",
            "500ms",
        ]);
        assert_eq!(args.retained_revisions, 5000);
        assert_eq!(args.compaction_interval, Duration::from_millis(500));
        let defaults = Args::parse_from(["apiserver"]);
        assert_eq!(defaults.retained_revisions, DEFAULT_RETAINED_REVISIONS);
        assert_eq!(defaults.compaction_interval, Duration::from_secs(10));
        assert!(Args::try_parse_from(["apiserver", "--compaction-interval", "soon"]).is_err());
    }

    #[test]
    fn connection_flags_reach_the_config() {
        let args = Args::parse_from([
            "apiserver",
            "--store",
            "memory",
            "--grpc-max-connections",
            "50",
            "--first-byte-timeout",
            "300ms",
            "--grpc-idle-timeout",
            "0s",
        ]);
        let config = args.config().unwrap();
        assert_eq!(config.grpc_max_connections, 50);
        assert_eq!(config.first_byte_timeout, Duration::from_millis(300));
        assert_eq!(config.grpc_idle_timeout, None);
        let defaults = Args::parse_from(["apiserver", "--store", "memory"])
            .config()
            .unwrap();
        assert_eq!(defaults.grpc_idle_timeout, Some(Duration::from_secs(300)));
        assert_eq!(defaults.first_byte_timeout, Duration::from_secs(10));
    }
}
