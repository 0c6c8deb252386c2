//! Skiff's sans-IO scheduling core.
//!
//! The shell feeds cluster events to a `ClusterState` (the single writer),
//! which publishes immutable `Snapshot`s. Scheduling reads a snapshot and a
//! `PodInfo` and returns a `Decision`; nothing here awaits, reads the clock
//! (`now` is passed in) or logs per node.
//!
//! **Invariant:** no tokio, no I/O, no store; depends on `api` only.

pub mod batch;
pub mod class_run;
pub mod cluster;
pub mod convert;
pub mod equivalence;
pub mod error;
pub mod matching;
pub mod model;
pub mod naive;
pub mod naive_preemption;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod quantity;
pub mod queue;
pub mod rng;
pub mod schedule;
pub mod status;
pub mod table;
pub mod workload;

pub use batch::{BatchOutcome, schedule_batch};
pub use cluster::{ClusterEvent, ClusterState, SnapshotReader};
pub use error::ConvertError;
pub use model::{NodeIdx, NodeInfo, PodInfo};
pub use profile::{Profile, Profiles};
pub use schedule::{Decision, Placement, SchedulingContext, schedule_one};
pub use status::FitError;
pub use table::snapshot::Snapshot;
