//! The one client every Skiff component uses to talk to the apiserver.
//!
//! [`Client`] is a typed client over the generic gRPC service in
//! `proto/skiff.proto` or over the Kubernetes REST API (`rest`, with a
//! [`kubeconfig`]): each call is generic over an [`api::ApiObject`] kind,
//! which names the resource, and objects travel as Kubernetes JSON.
//! Errors come back as [`Error`], one variant per condition a caller acts on
//! (conflict → re-read and retry, too old → relist, ...).
//!
//! The raw generated messages and stubs live in [`proto`]; the apiserver
//! implements [`proto::api_server::Api`].

mod client;
pub mod codec;
mod error;
mod grpc;
pub mod kubeconfig;
mod params;
pub mod proto;
mod rest;
mod tls;
mod watch;

pub use client::{Client, DeleteOutcome, ObjectList, RawClient};
pub use error::{Error, Result};
pub use grpc::BearerToken;
pub use params::{Binding, DeleteParams, ListParams, PropagationPolicy, WatchParams};
pub use tls::crypto_provider;
pub use watch::{WatchEvent, WatchStream};
