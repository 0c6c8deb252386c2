//! The `apiserver` binary: flags ([`apiserver::cli::Args`]) → config → run.

use anyhow::Context;
use clap::Parser;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    skiff::raise_nofile_limit();
    let args = apiserver::cli::Args::parse();
    apiserver::cli::run(&args, skiff::shutdown_signal())
        .await
        .context("apiserver")?;
    Ok(())
}
