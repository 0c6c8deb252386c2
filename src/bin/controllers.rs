//! The `controllers` binary: flags → [`controllers::args::run`].

use anyhow::Context;
use clap::Parser;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skiff::init_tracing();
    let args = controllers::args::Args::parse();
    controllers::args::run(args, skiff::shutdown_signal())
        .await
        .context("running the controllers")?;
    Ok(())
}
