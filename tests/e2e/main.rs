//! End-to-end tests that start the real `apiserver` binary: one test binary
//! of modules. Test names start with `e2e_` so nextest runs them serially.

// Reason: test helpers outside #[test] functions may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apiserver;
mod controllers;
mod daemon_sets;
mod deployments;
mod endpoints;
mod fixtures;
mod garbage_collection;
mod jobs;
mod kube_backend;
mod kubectl;
mod limits;
mod loadgen;
mod node_lifecycle;
mod process;
mod python_client;
mod scheduler;
mod stateful_sets;
mod top;
