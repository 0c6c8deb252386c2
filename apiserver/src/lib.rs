//! The apiserver: Kubernetes object semantics over the store, one request
//! core served by two faces.
//!
//! A request becomes face-neutral [`request::Attributes`] (who, which verb
//! on which resource), then runs through authorization, admission
//! (`admission/`), the kind's strategy (`kinds/`) and one implementation of
//! each verb (`verbs/`) to the store. The gRPC face (`grpc/`) is the one
//! Skiff's own components use (batch RPCs, byte-level watch frames).
//! Watches are served from per-resource watch caches (`watch_cache`).
//!
//! **Invariant:** only this crate touches the store; nothing is stored when a
//! request fails. **Boundary:** an [`ApiError`] carries a face-neutral
//! [`Reason`]; each face turns it into its wire form in one place.

mod admission;
mod arbiter;
mod auth;
pub mod cli;
mod config;
mod error;
mod filter;
pub mod fuzzing;
mod grpc;
mod keys;
mod kinds;
mod limits;
mod metrics_store;
mod object;
mod patch;
pub mod request;
mod rest;
pub mod security;
mod server;
mod state;
mod verbs;
mod view;
mod warnings;
mod watch_cache;
mod wire;
mod yaml;

pub use auth::identities;
pub use config::{CidrParseError, Config, DEFAULT_MAX_REQUEST_BYTES, Ipv4Net};
pub use error::{ApiError, Reason};
pub use server::{Listeners, RestListener, RunError, run, serve};
