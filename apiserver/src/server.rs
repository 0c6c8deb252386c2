//! [`run`]: serve the gRPC API on a bound listener until `shutdown` resolves.

use std::future::Future;
use std::sync::Arc;

use client::proto::api_server::ApiServer;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Config;
use crate::admission::SYSTEM_NAMESPACES;
use crate::error::ApiError;
use crate::grpc::ApiService;
use crate::grpc::auth::GrpcAuth;
use crate::request::{Attributes, UserInfo, Verb};
use crate::rest::{AnonymousOnly, RestServer, RestState};
use crate::security::{RequestAuthenticator, Security};
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
    #[error("plain HTTP is served on loopback addresses only, not on {0}")]
    PlainHttpNotLoopback(std::net::SocketAddr),
    #[error("reading the REST listener's address: {0}")]
    ListenerAddress(#[source] std::io::Error),
    #[error("serving REST over TLS needs a security directory (Config::security_dir)")]
    NoSecurityDir,
    #[error("loading the security material: {0}")]
    Security(String),
}

/// The REST face's listener and how it is secured.
pub struct RestListener {
    pub listener: TcpListener,
    /// TLS with the PKI in `Config::security_dir` (HTTP/2 and HTTP/1.1 by
    /// ALPN); without it plain HTTP, which is allowed on loopback only.
    pub tls: bool,
}

/// Where the apiserver serves: gRPC always, REST when given.
pub struct Listeners {
    pub grpc: TcpListener,
    pub rest: Option<RestListener>,
}

/// Serves the gRPC face on `listener` until `shutdown` resolves (see [`serve`]).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let listeners = Listeners {
        grpc: listener,
        rest: None,
    };
    serve(listeners, config, shutdown).await
}

/// Serves both faces over one state until `shutdown` resolves, then stops
/// accepting, ends open watches, lets requests in progress finish and
/// returns.
pub async fn serve(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let FaceSecurity {
        security,
        rest_tls,
        grpc_tls,
        rest_authenticator,
    } = face_security(&listeners, &config)?;
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight_requests.max(1)));
    let mut face_limits = crate::limits::face_limits(&config, listeners.rest.is_some());
    if grpc_tls.is_some() {
        // A TLS client speaks first with its hello; the handshake timeout
        // bounds the rest.
        face_limits.grpc.first_bytes = 1;
    }
    let grpc_connections = config.grpc_connections.clone();
    let keep_alive_interval = config.keep_alive_interval;
    let handshake_timeout = config.handshake_timeout;
    let rest_limits = RestServer {
        tls: None,
        connection_limits: face_limits.rest,
        connections: config.rest_connections.clone(),
        max_in_flight: config.max_in_flight_requests,
        handshake_timeout: config.handshake_timeout,
        header_read_timeout: config.header_read_timeout,
        keep_alive_interval: config.keep_alive_interval,
        authenticator: rest_authenticator,
    };
    let state = Arc::new(ApiState::new(config));
    bootstrap(&state).await.map_err(RunError::Bootstrap)?;
    let policy_task = tokio::spawn(crate::security::keep_policy_current(state.clone()));
    let index_task = tokio::spawn(crate::admission::namespace_index::keep_current(
        state.clone(),
    ));
    // The custom resources stored before this start are served at once.
    crate::kinds::custom::load(&state)
        .await
        .map_err(RunError::Bootstrap)?;
    let definitions_task = tokio::spawn(crate::kinds::custom::keep_current(state.clone()));
    let address = listeners.grpc.local_addr().ok();
    tracing::info!(?address, tls = grpc_tls.is_some(), "apiserver serving gRPC");
    let grpc_auth = match (&grpc_tls, &security) {
        (Some(_), Some(security)) => GrpcAuth::Authenticate(security.authenticator.clone()),
        _ => GrpcAuth::TrustedLoopback,
    };
    let (stop_watches, shutting_down) = tokio::sync::watch::channel(false);
    let rest_task = listeners.rest.map(|rest| {
        tracing::info!(address = ?rest.listener.local_addr().ok(), tls = rest.tls, "apiserver serving REST");
        let rest_state = Arc::new(RestState {
            state: state.clone(),
            authenticator: security.as_ref().map(|security| security.authenticator.clone()),
            shutting_down: shutting_down.clone(),
        });
        let limits = RestServer {
            tls: rest_tls,
            ..rest_limits
        };
        tokio::spawn(crate::rest::serve(rest.listener, rest_state, limits))
    });
    let service = ApiService {
        state,
        auth: grpc_auth.clone(),
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
    // The accept loop caps connections, closes silent and idle ones and
    // pauses on EMFILE (tonic's own `TcpIncoming` retries at once, spinning).
    // It sets TCP_NODELAY: without it, Nagle's algorithm holds each
    // response's last segment until the client's delayed ACK (about 40 ms a
    // request). Pings drop peers that stopped answering.
    let incoming = netlimits::LimitedIncoming::new(listeners.grpc, face_limits.grpc)
        .with_stats(grpc_connections);
    let router = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(keep_alive_interval))
        .http2_keepalive_timeout(Some(keep_alive_interval))
        .add_service(api);
    match (grpc_tls, grpc_auth) {
        (Some(tls), GrpcAuth::Authenticate(authenticator)) => {
            let incoming =
                crate::grpc::auth::tls_incoming(incoming, tls, authenticator, handshake_timeout);
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await?;
        }
        _ => {
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await?
        }
    }
    if let Some(task) = rest_task {
        let _ = task.await;
    }
    policy_task.abort();
    let _ = policy_task.await;
    index_task.abort();
    let _ = index_task.await;
    definitions_task.abort();
    let _ = definitions_task.await;
    tracing::info!("apiserver stopped");
    Ok(())
}

/// What the faces serve with: the loaded security material, each face's
/// TLS configuration (`None`: plain HTTP) and the REST authenticator.
struct FaceSecurity {
    security: Option<Security>,
    rest_tls: Option<Arc<rustls::ServerConfig>>,
    grpc_tls: Option<Arc<rustls::ServerConfig>>,
    rest_authenticator: Arc<dyn crate::rest::Authenticate>,
}

/// Checks that plain HTTP is asked for on loopback only, loads or creates
/// the security material, and writes the kubeconfigs: the admin's naming
/// the REST face, the components' naming the gRPC face.
fn face_security(listeners: &Listeners, config: &Config) -> Result<FaceSecurity, RunError> {
    let security_error = |error: crate::auth::AuthError| RunError::Security(error.to_string());
    let grpc_address = listeners
        .grpc
        .local_addr()
        .map_err(RunError::ListenerAddress)?;
    let grpc_secured = config.security_dir.is_some() && !config.grpc_plain_http;
    if !grpc_secured && !grpc_address.ip().is_loopback() {
        return Err(RunError::PlainHttpNotLoopback(grpc_address));
    }
    let mut rest_address = None;
    if let Some(rest) = &listeners.rest {
        let address = rest
            .listener
            .local_addr()
            .map_err(RunError::ListenerAddress)?;
        if !rest.tls && !address.ip().is_loopback() {
            return Err(RunError::PlainHttpNotLoopback(address));
        }
        if rest.tls && config.security_dir.is_none() {
            return Err(RunError::NoSecurityDir);
        }
        rest_address = Some((address, rest.tls));
    }
    // Nothing is created where no face needs it.
    let needs_security = grpc_secured || rest_address.is_some();
    let security = match &config.security_dir {
        Some(dir) if needs_security => Some(
            Security::load(
                dir,
                &config.serving_hosts,
                config.token_auth_file.as_deref(),
            )
            .map_err(security_error)?,
        ),
        _ => None,
    };
    let Some(security) = security else {
        return Ok(FaceSecurity {
            security: None,
            rest_tls: None,
            grpc_tls: None,
            rest_authenticator: Arc::new(AnonymousOnly),
        });
    };
    let rest_tls = match rest_address {
        Some((_, true)) => Some(security.pki.rustls_server_config()),
        _ => None,
    };
    if let Some((address, tls)) = rest_address {
        let scheme = if tls { "https" } else { "http" };
        let path = security
            .write_admin_kubeconfig(&format!("{scheme}://{address}"))
            .map_err(security_error)?;
        tracing::info!(path = %path.display(), "admin kubeconfig written");
    }
    let grpc_tls = if grpc_secured {
        // gRPC is HTTP/2 only.
        let mut tls = (*security.pki.rustls_server_config()).clone();
        tls.alpn_protocols = vec![b"h2".to_vec()];
        security
            .write_component_kubeconfigs(&format!("https://{grpc_address}"))
            .map_err(security_error)?;
        tracing::info!(dir = %security.dir.display(), "component kubeconfigs written");
        Some(Arc::new(tls))
    } else {
        None
    };
    Ok(FaceSecurity {
        rest_authenticator: Arc::new(RequestAuthenticator {
            authenticator: security.authenticator.clone(),
        }),
        security: Some(security),
        rest_tls,
        grpc_tls,
    })
}

/// Creates the system namespaces (each with its `default` ServiceAccount)
/// and built-in priority classes if absent, after loading the admission
/// index.
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
    // Namespaces created before they came with one get their `default`
    // ServiceAccount.
    for namespace in SYSTEM_NAMESPACES {
        objects.push((
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": namespace}}),
        ));
    }
    crate::admission::namespace_index::load_all(state).await?;
    for (plural, object) in objects {
        let body = serde_json::to_vec(&object).map_err(ApiError::internal)?;
        create_if_absent(state, plural, &body).await?;
    }
    crate::security::bootstrap_policy(state).await?;
    Ok(())
}

/// Creates an object of `plural` from `body` as the apiserver itself,
/// unless it exists.
pub(crate) async fn create_if_absent(
    state: &ApiState,
    plural: &str,
    body: &[u8],
) -> Result<(), ApiError> {
    let user = Arc::new(UserInfo::loopback());
    let kind = state.kinds.get(plural)?;
    let attributes = Attributes::resource(user, Verb::Create, kind.info(), "", "", "");
    match kind
        .create(state, &attributes, body, &WriteOptions::default())
        .await
    {
        Ok(_) | Err(ApiError::AlreadyExists { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}
