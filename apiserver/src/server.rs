//! [`run`]: serve the gRPC API on a bound listener until `shutdown` resolves.

use std::future::Future;
use std::sync::Arc;

use client::proto::api_server::ApiServer;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tonic::transport::server::TcpIncoming;

use crate::Config;
use crate::admission::SYSTEM_NAMESPACES;
use crate::error::ApiError;
use crate::grpc::ApiService;
use crate::request::{Attributes, MASTERS_GROUP, UserInfo, Verb};
use crate::state::ApiState;
use crate::verbs::WriteOptions;

/// Largest gRPC message accepted: batches of many objects. Single objects
/// and patches are held to `Config::max_request_bytes` by the handlers, so
/// oversized bodies fail with `ResourceExhausted`.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Failure to start or serve.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("bootstrap objects: {0}")]
    Bootstrap(#[source] ApiError),
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves the API on `listener` until `shutdown` resolves, then stops
/// accepting, lets requests in progress finish and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight_requests.max(1)));
    let state = Arc::new(ApiState::new(config));
    bootstrap(&state).await.map_err(RunError::Bootstrap)?;
    let address = listener.local_addr().ok();
    tracing::info!(?address, "apiserver serving");
    let (stop_watches, shutting_down) = tokio::sync::watch::channel(false);
    let service = ApiService {
        state,
        in_flight,
        shutting_down,
    };
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: ending watches, finishing requests");
        let _ = stop_watches.send(true);
    };
    let api = ApiServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(usize::MAX);
    // `Server::tcp_nodelay` only applies to sockets tonic binds itself; on
    // accepted sockets without it, Nagle's algorithm holds each response's
    // last segment until the client's delayed ACK (about 40 ms a request).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(api)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    tracing::info!("apiserver stopped");
    Ok(())
}

/// Creates the system namespaces and built-in priority classes if absent.
pub(crate) async fn bootstrap(state: &ApiState) -> Result<(), ApiError> {
    let mut objects = Vec::new();
    for namespace in SYSTEM_NAMESPACES {
        objects.push((
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        ));
    }
    for (name, value) in [
        ("system-node-critical", 2_000_001_000),
        ("system-cluster-critical", 2_000_000_000),
    ] {
        objects.push((
            "priorityclasses",
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                   "value": value, "description": "Built-in priority class for critical pods."}),
        ));
    }
    let user = std::sync::Arc::new(UserInfo::authenticated(
        "system:apiserver",
        vec![MASTERS_GROUP.to_string()],
    ));
    for (plural, object) in objects {
        let body = serde_json::to_vec(&object).map_err(ApiError::internal)?;
        let kind = state.kinds.get(plural)?;
        let attributes = Attributes::resource(user.clone(), Verb::Create, kind.info(), "", "", "");
        match kind
            .create(state, &attributes, &body, &WriteOptions::default())
            .await
        {
            Ok(_) | Err(ApiError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
