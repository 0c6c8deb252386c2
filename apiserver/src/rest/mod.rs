//! The REST face: Kubernetes' HTTP API over the same request core as the
//! gRPC face, so `kubectl` and client libraries work unchanged.
//!
//! `server` accepts connections (TLS with HTTP/2 and HTTP/1.1 by ALPN, or
//! plain HTTP on loopback) with bounded connections and timeouts; `path`
//! reads what a URL names; `handler` maps method and path to a verb and
//! calls the core; `query` reads options; `protobuf` turns Kubernetes
//! protobuf request bodies into JSON; `body` writes responses (lists
//! spliced from stored bytes); `watch` streams `?watch=1`; `metrics`
//! serves `metrics.k8s.io` from the usage kubelets report; `status` is the
//! one place an error becomes a Kubernetes `Status`; `fuzzing` runs every
//! decoder of untrusted request bytes in one call, for the fuzz target.

pub(crate) mod accept;
mod body;
pub(crate) mod discovery;
mod eviction;
pub(crate) mod fuzzing;
mod handler;
pub(crate) mod metadata;
mod metrics;
pub(crate) mod openapi;
mod path;
mod protobuf;
mod query;
pub(crate) mod resources;
mod reviews;
mod scale;
mod server;
mod status;
pub(crate) mod table;
mod watch;

use std::sync::Arc;

pub(crate) use server::{AnonymousOnly, Authenticate, RestServer, serve};

use crate::state::ApiState;

/// What every REST request shares.
pub(crate) struct RestState {
    pub(crate) state: Arc<ApiState>,
    /// Verifies tokens for TokenReview; `None` when no security material
    /// is configured.
    pub(crate) authenticator: Option<Arc<crate::auth::authenticator::Authenticator>>,
    /// Turns true when the server shuts down; open watches then end.
    pub(crate) shutting_down: tokio::sync::watch::Receiver<bool>,
}

/// Resolves once the server is shutting down (or its sender is gone).
pub(crate) async fn stopped(shutting_down: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutting_down.wait_for(|down| *down).await;
}
