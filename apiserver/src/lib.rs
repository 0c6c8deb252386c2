//! The apiserver: Kubernetes object semantics over the store, served as
//! one generic gRPC service (see `client/proto/skiff.proto`).
//!
//! A request names a resource plural; the kind table (`registry`) maps it to
//! the typed defaults and validation of that kind, and everything else —
//! metadata, optimistic concurrency, finalizers, grace periods, admission,
//! service allocations, event dedup — works on the JSON form of objects.
//! Watches are served from per-resource watch caches (`watch_cache`).
//!
//! **Invariant:** only this crate touches the store; nothing is stored when a
//! request fails. **Boundary:** errors become gRPC statuses in one place
//! (`error.rs`).

mod admission;
mod allocator;
mod arbiter;
mod bind;
pub mod cli;
mod config;
mod create;
mod delete;
mod error;
mod events;
mod filter;
mod keys;
mod list;
mod object;
#[allow(dead_code, reason = "wired in by the REST server")]
mod patch;
mod registry;
pub mod request;
#[allow(dead_code, reason = "wired in by the REST server")]
mod rest;
mod server;
mod service;
mod state;
mod typed;
mod update;
mod view;
mod watch_cache;
mod wire;

pub use config::{CidrParseError, Config, DEFAULT_MAX_REQUEST_BYTES, Ipv4Net};
pub use error::ApiError;
pub use server::{RunError, run};
