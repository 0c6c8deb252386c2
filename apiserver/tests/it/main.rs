//! Integration tests of the apiserver through its gRPC client: in-process
//! servers on 127.0.0.1:0, one test binary of modules.

// Reason: test helpers outside #[test] functions may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod arbiter;
mod bodies;
mod common;
mod conflicts;
mod crd;
mod crud;
mod ephemeral_containers;
mod fuzz_corpus;
mod grpc_security;
mod jobs;
mod lifecycle;
mod limits;
mod metrics;
mod rejects;
mod rest;
mod rest_client;
mod restart;
mod scale;
mod services;
mod watch;
