//! The `kubelet` binary: flags → [`kubelet::run`].
//!
//! `kubelet --hollow --nodes 5000 --server 127.0.0.1:6444` simulates 5,000
//! nodes against a running apiserver.

use anyhow::Context;
use clap::Parser;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skiff::init_tracing();
    skiff::raise_nofile_limit();
    let args = kubelet::Args::parse();
    kubelet::run(args, skiff::shutdown_signal())
        .await
        .context("kubelet")?;
    Ok(())
}
