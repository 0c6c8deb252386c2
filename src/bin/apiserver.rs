//! The `apiserver` binary: flags ([`apiserver::cli::Args`]) → config → run.

use anyhow::Context;
use clap::Parser;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skiff::init_tracing();
    skiff::raise_nofile_limit();
    let args = apiserver::cli::Args::parse();
    apiserver::cli::run(&args, skiff::shutdown_signal())
        .await
        .context("apiserver")?;
    Ok(())
}
