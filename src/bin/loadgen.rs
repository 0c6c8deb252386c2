//! The `loadgen` binary: `loadgen --pods 100000` starts an embedded cluster
//! (each component a child process running this same binary's hidden
//! `component` subcommand), runs a scenario, and prints the report;
//! `loadgen verify FILE` checks a recording written by `--record`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Skiff's stress driver: scenarios modelled on Kubernetes' scheduler_perf
/// against an embedded or running cluster, with a report, verification and
/// flamegraphs.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: loadgen::cli::RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a recording written by `--record`; exit non-zero on any
    /// violation.
    Verify {
        /// The recording (JSON).
        file: PathBuf,
    },
    /// Run one component of the embedded cluster (used by loadgen itself).
    #[command(hide = true)]
    Component {
        #[command(subcommand)]
        component: Component,
    },
}

#[derive(Debug, Subcommand)]
enum Component {
    Apiserver(Box<apiserver::cli::Args>),
    Scheduler(Box<scheduler_shell::Args>),
    Kubelet(Box<kubelet::Args>),
    Controllers(Box<controllers::args::Args>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Component { component }) => {
            run_component(component).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Verify { file }) => verify(&file),
        None => run_load(&cli.run),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("loadgen: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(default: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run_component(component: Component) -> anyhow::Result<()> {
    init_tracing("warn");
    // Each component raises its own limit, as its own binary does.
    skiff::raise_nofile_limit();
    loadgen::cluster::exit_with_parent();
    runtime()?.block_on(async {
        match component {
            Component::Apiserver(args) => apiserver::cli::run(&args, skiff::shutdown_signal())
                .await
                .context("apiserver"),
            Component::Scheduler(args) => {
                let config = (*args).into_config().context("scheduler flags")?;
                scheduler_shell::run(config, skiff::shutdown_signal())
                    .await
                    .context("scheduler")
            }
            Component::Kubelet(args) => kubelet::run(*args, skiff::shutdown_signal())
                .await
                .context("kubelet"),
            Component::Controllers(args) => controllers::args::run(*args, skiff::shutdown_signal())
                .await
                .context("controllers"),
        }
    })
}

fn verify(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let summary = loadgen::run::verify_file(file)?;
    if summary.clean {
        println!(
            "verify: OK ({} events replayed, {} binds, {} preemption victims)",
            summary.events_replayed, summary.binds, summary.preemption_victims
        );
    } else {
        println!("verify: {} VIOLATION(S)", summary.violation_count);
        for violation in &summary.violations {
            println!("  {violation}");
        }
    }
    for note in &summary.unchecked {
        println!("  not checked: {note}");
    }
    Ok(if summary.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_load(args: &loadgen::cli::RunArgs) -> anyhow::Result<ExitCode> {
    init_tracing("warn");
    let exe = std::env::current_exe().context("locating the loadgen binary")?;
    let outcome = runtime()?.block_on(async {
        tokio::select! {
            outcome = loadgen::run(args, exe) => outcome.map(Some),
            // Dropping the run kills the embedded cluster.
            () = skiff::shutdown_signal() => Ok(None),
        }
    })?;
    let Some(outcome) = outcome else {
        eprintln!("loadgen: interrupted");
        return Ok(ExitCode::from(130));
    };
    print!("{}", outcome.report);
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&outcome.report).context("encoding the report")?;
        std::fs::write(path, json).with_context(|| format!("writing --json {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        std::fs::write(path, loadgen::plot::render(&outcome.report))
            .with_context(|| format!("writing --plot {}", path.display()))?;
    }
    if let (Some(path), Some(recording)) = (&args.record, &outcome.recording) {
        loadgen::run::write_recording(path, recording)?;
    }
    Ok(if outcome.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
