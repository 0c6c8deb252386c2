//! Skiff's workload controllers.
//!
//! Each controller is a module whose decisions are plain functions over
//! the objects a cache holds and the time passed in: what to create, what
//! to delete, which orphans to adopt, what status to write. The process
//! that runs them (informers, work queues, leader election, the writes)
//! calls these functions and carries their decisions out, so every rule
//! here is tested without I/O. That process is [`manager`] (its I/O side:
//! informers, queues, writes), started from the flags of [`args`].

pub mod args;
pub mod cron_job;
pub mod daemon_set;
pub mod deployment;
pub mod endpoint_slice;
pub mod endpoints;
pub mod expectations;
pub mod garbage_collector;
pub mod job;
pub mod manager;
pub mod node_lifecycle;
pub mod owner;
pub mod pod_gc;
pub mod pods;
pub mod replica_set;
pub mod service_account;
pub mod stateful_set;
pub mod taint_eviction;
pub mod ttl_after_finished;
