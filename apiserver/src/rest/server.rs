//! The REST face's listener: TLS (HTTP/2 or HTTP/1.1 as ALPN and the
//! client's preface choose) or plain HTTP, with the limits that keep one
//! client from starving the others: at most `max_connections` open (more
//! are closed at once), a first byte, a TLS handshake and request headers
//! within a timeout each (slowloris), at most `max_in_flight` requests
//! being served (more get 429), and a short pause in the accept loop when
//! the process is out of file descriptors instead of spinning on the error
//! (the accept loop and first-byte timeout are `netlimits::LimitedIncoming`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::request::UserInfo;
use crate::rest::body::{self, Body};
use crate::rest::{RestState, handler};

/// Limits and TLS of one REST listener.
#[derive(Clone)]
pub(crate) struct RestServer {
    /// `None` serves plain HTTP (loopback only, checked by the caller).
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    /// The connection cap, first-byte timeout and accept pause.
    pub(crate) connection_limits: netlimits::Limits,
    /// Counters of this listener's connections.
    pub(crate) connections: Arc<netlimits::ConnectionStats>,
    pub(crate) max_in_flight: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    /// HTTP/2 connections are pinged this often and closed if a ping goes
    /// unanswered for as long.
    pub(crate) keep_alive_interval: Duration,
    pub(crate) authenticator: Arc<dyn Authenticate>,
}

/// Who a request is from: its bearer token or client certificate (already
/// verified by TLS against the cluster CA), else anonymous.
pub(crate) trait Authenticate: Send + Sync {
    fn authenticate(
        &self,
        headers: &HeaderMap,
        client_certificate: Option<&[u8]>,
    ) -> Result<UserInfo, ApiError>;
}

/// Authentication when no credentials are configured: every request
/// without credentials is anonymous; one with a bearer token is refused,
/// since no token can be verified.
pub(crate) struct AnonymousOnly;

impl Authenticate for AnonymousOnly {
    fn authenticate(
        &self,
        headers: &HeaderMap,
        _client_certificate: Option<&[u8]>,
    ) -> Result<UserInfo, ApiError> {
        if headers.contains_key(http::header::AUTHORIZATION) {
            return Err(ApiError::Unauthorized);
        }
        Ok(UserInfo::anonymous())
    }
}

/// Serves the REST face on `listener` until the state's shutdown signal.
pub(crate) async fn serve(listener: TcpListener, rest: Arc<RestState>, server: RestServer) {
    let mut incoming = netlimits::LimitedIncoming::new(listener, server.connection_limits.clone())
        .with_stats(server.connections.clone());
    let in_flight = Arc::new(Semaphore::new(server.max_in_flight.max(1)));
    let mut shutting_down = rest.shutting_down.clone();
    loop {
        // The stream holds its slot under the cap until it is dropped, and
        // fails its reads once the first byte is late: hyper's header read
        // timeout starts only after the HTTP version has been read, so a
        // client that sends nothing would otherwise be kept forever.
        let tcp = tokio::select! {
            tcp = incoming.accept() => tcp,
            () = crate::rest::stopped(&mut shutting_down) => break,
        };
        let (rest, server, in_flight) = (rest.clone(), server.clone(), in_flight.clone());
        tokio::spawn(async move {
            match server.tls.clone() {
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                    let handshake =
                        tokio::time::timeout(server.handshake_timeout, acceptor.accept(tcp)).await;
                    let Ok(Ok(stream)) = handshake else {
                        return;
                    };
                    // A client certificate names the user of every request
                    // on the connection (it wins over a bearer token, as
                    // in Kubernetes' union of authenticators): read it once.
                    let certificate_user = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|certificate| {
                            server
                                .authenticator
                                .authenticate(&HeaderMap::new(), Some(certificate.as_ref()))
                                .map(Arc::new)
                        });
                    serve_connection(
                        TokioIo::new(stream),
                        rest,
                        server,
                        in_flight,
                        certificate_user,
                    )
                    .await;
                }
                None => serve_connection(TokioIo::new(tcp), rest, server, in_flight, None).await,
            }
        });
    }
}

async fn serve_connection<I>(
    io: I,
    rest: Arc<RestState>,
    server: RestServer,
    in_flight: Arc<Semaphore>,
    certificate_user: Option<Result<Arc<UserInfo>, ApiError>>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut shutting_down = rest.shutting_down.clone();
    let authenticator = server.authenticator.clone();
    let certificate_user = Arc::new(certificate_user);
    let service = service_fn(move |request: http::Request<Incoming>| {
        let (rest, in_flight, authenticator, certificate_user) = (
            rest.clone(),
            in_flight.clone(),
            authenticator.clone(),
            certificate_user.clone(),
        );
        async move {
            Ok::<_, Infallible>(
                serve_request(
                    &rest,
                    &in_flight,
                    authenticator.as_ref(),
                    &certificate_user,
                    request,
                )
                .await,
            )
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(server.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(server.keep_alive_interval)
        .keep_alive_timeout(server.keep_alive_interval)
        .max_concurrent_streams(250);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "REST connection ended with an error");
            }
        }
        () = crate::rest::stopped(&mut shutting_down) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn serve_request(
    rest: &RestState,
    in_flight: &Semaphore,
    authenticator: &dyn Authenticate,
    certificate_user: &Option<Result<Arc<UserInfo>, ApiError>>,
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    let Ok(_permit) = in_flight.try_acquire() else {
        return body::error(&ApiError::TooManyRequests(
            "too many requests, please try again later".to_string(),
        ));
    };
    let user = match certificate_user {
        Some(Ok(user)) => user.clone(),
        Some(Err(error)) => return body::error(error),
        None => match authenticator.authenticate(request.headers(), None) {
            Ok(user) => Arc::new(user),
            Err(error) => return body::error(&error),
        },
    };
    handler::handle(rest, request, user).await
}
