//! Integration tests of the scheduler service: an in-process apiserver on a
//! memory store (127.0.0.1:0) and one or more in-process schedulers.

// Reason: test helpers outside #[test] functions may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod failures;
mod leader;
mod metrics;
mod placement;
mod preemption;
