//! `loadgen`: the stress driver users meet first. It starts an embedded
//! cluster (apiserver on the durable store, scheduler, hollow kubelets, each
//! a child process) or drives a running one, creates the pods of a
//! scenario modelled on Kubernetes' scheduler_perf, watches everything from
//! the start, and reports throughput, latency, unschedulable reasons and
//! per-component CPU and memory; `--verify` replays the watch recording
//! through an independent checker.
//!
//! **Invariant:** talks to the cluster only through `client`; the `verify`
//! module depends on `api` alone, never on scheduler code.

pub mod cli;
pub mod cluster;
mod driver;
mod error;
mod observe;
pub mod plot;
pub mod procstat;
pub mod profile;
mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod templates;
pub mod verify;

pub use error::Error;
pub use run::{RunOutcome, run};
