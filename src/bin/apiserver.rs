//! The `apiserver` binary: flags → [`apiserver::Config`] → [`apiserver::run`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StoreKind {
    /// In memory; everything is lost on exit.
    Memory,
    /// Embedded and durable, in `--data-dir`.
    Redb,
}

/// Skiff's API server: Kubernetes objects over gRPC.
#[derive(Debug, Parser)]
#[command(name = "apiserver", version)]
struct Args {
    /// Storage backend.
    #[arg(long, value_enum, default_value = "redb")]
    store: StoreKind,
    /// Directory of the redb store.
    #[arg(long, default_value = "./skiff-data")]
    data_dir: PathBuf,
    /// Address to serve gRPC on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// IPv4 range service cluster IPs are allocated from.
    #[arg(long, default_value = "127.96.0.0/12")]
    service_cluster_ip_range: apiserver::Ipv4Net,
    /// How long events are kept after their last update, in seconds.
    #[arg(long, default_value_t = 3600)]
    event_ttl: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let backend = match args.store {
        StoreKind::Memory => store::Backend::Memory,
        StoreKind::Redb => store::Backend::Redb {
            data_dir: args.data_dir.clone(),
        },
    };
    let store = store::open(&backend, store::StoreConfig::default())
        .with_context(|| format!("opening the {:?} store", args.store))?;
    let mut config = apiserver::Config::new(store);
    config.service_cluster_ip_range = args.service_cluster_ip_range;
    config.event_ttl = Duration::from_secs(args.event_ttl);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    apiserver::run(listener, config, shutdown_signal())
        .await
        .context("serving")?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
