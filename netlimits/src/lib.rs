//! Accepting TCP connections with limits, for every Skiff server (the
//! apiserver's gRPC and REST faces, the diagnostics side door, the
//! kubelet's metrics endpoint).
//!
//! A server that accepts whatever arrives can be starved by idle
//! connections: each holds a file descriptor, and once the table is full
//! the accept loop fails with EMFILE on every try, the store cannot open
//! its files and nobody is served. This crate keeps each server inside a
//! budget:
//!
//! - [`raise_nofile_limit`] lifts the soft `RLIMIT_NOFILE` to the hard
//!   limit at start, and [`connection_budget`] says how many connections
//!   fit under it once descriptors are reserved for the store
//!   ([`split_budget`] shares it between the servers of one process);
//! - [`LimitedIncoming`] accepts with `TCP_NODELAY`, holds one permit per
//!   open connection and closes new ones at once at the cap, and pauses
//!   after resource errors such as EMFILE instead of spinning;
//! - [`LimitedStream`], what it yields, closes a connection whose first
//!   bytes do not arrive in time and one on which no byte moved either way
//!   for the idle timeout;
//! - [`ConnectionStats`] counts all of it, for tests and metrics.

mod budget;
mod incoming;
mod stats;
mod stream;

pub use budget::{
    MIN_CONNECTION_BUDGET, RESERVED_FOR_STORE, budget_for_soft_limit, connection_budget,
    nofile_limit, raise_nofile_limit, split_budget,
};
pub use incoming::{AcceptErrorAction, LimitedIncoming, Limits, accept_error_action};
pub use stats::{ConnectionCounts, ConnectionStats};
pub use stream::LimitedStream;

/// Length of the HTTP/2 client connection preface (`PRI * HTTP/2.0…`): a
/// gRPC client must send this much before anything else.
pub const HTTP2_PREFACE_LEN: usize = 24;
