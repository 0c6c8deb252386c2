//! Integration tests of the hollow kubelet against an in-process apiserver
//! on a memory store (127.0.0.1:0): one test binary of modules.

// Reason: test helpers outside #[test] functions may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod nodes;
mod pods;
mod usage;
