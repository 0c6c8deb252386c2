//! The `scheduler` binary: flags (and `--config`) → [`scheduler_shell::Config`]
//! → [`scheduler_shell::run`].

use anyhow::Context;
use clap::Parser;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    skiff::init_tracing();
    skiff::raise_nofile_limit();
    let config = scheduler_shell::Args::parse()
        .into_config()
        .context("reading the configuration")?;
    scheduler_shell::run(config, skiff::shutdown_signal())
        .await
        .context("running the scheduler")?;
    Ok(())
}
