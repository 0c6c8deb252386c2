//! Who a gRPC request is from.
//!
//! Secured (the default when the apiserver has a security directory), the
//! face speaks only TLS: [`tls_incoming`] runs each connection's handshake
//! in its own task under a timeout and reads the verified client
//! certificate's user once per connection; a request's `authorization:
//! Bearer …` metadata (a static or ServiceAccount token), when present,
//! takes precedence, as on the REST face. Everyone else is
//! `system:anonymous`, whom RBAC denies nearly everything (then an
//! `Unauthenticated` status).
//!
//! Trusted (`--grpc-plain-http`, loopback addresses only), the face speaks
//! plain HTTP/2 and every request runs as the apiserver's own loopback
//! user (`system:apiserver` in `system:masters`), as kube-apiserver's
//! former insecure port did.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use netlimits::{LimitedIncoming, LimitedStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use crate::auth::authenticator::Authenticator;
use crate::error::ApiError;
use crate::request::UserInfo;

/// TLS handshakes in progress at once; more connections wait in the
/// listen backlog (each handshake is bounded by the handshake timeout).
const CONCURRENT_HANDSHAKES: usize = 256;

/// The loopback user of a trusted face.
static LOOPBACK_USER: LazyLock<Arc<UserInfo>> = LazyLock::new(|| Arc::new(UserInfo::loopback()));
static ANONYMOUS: LazyLock<Arc<UserInfo>> = LazyLock::new(|| Arc::new(UserInfo::anonymous()));

/// How the gRPC face identifies requests.
#[derive(Clone)]
pub(crate) enum GrpcAuth {
    /// Plain HTTP/2 on loopback: every request is the apiserver's own.
    TrustedLoopback,
    /// TLS, client certificates and bearer tokens.
    Authenticate(Arc<Authenticator>),
}

/// The identity a TLS connection's client certificate established.
#[derive(Clone, Debug)]
pub(crate) enum ConnectionIdentity {
    /// No client certificate was presented.
    Anonymous,
    User(Arc<UserInfo>),
    /// A certificate signed by the CA that names no usable user (no
    /// common name): every request on the connection is refused.
    Rejected,
}

impl GrpcAuth {
    /// The user of `request`.
    pub(crate) fn user<T>(&self, request: &tonic::Request<T>) -> Result<Arc<UserInfo>, ApiError> {
        let authenticator = match self {
            GrpcAuth::TrustedLoopback => return Ok(LOOPBACK_USER.clone()),
            GrpcAuth::Authenticate(authenticator) => authenticator,
        };
        if let Some(value) = request.metadata().get("authorization") {
            let token = value
                .to_str()
                .ok()
                .and_then(|text| text.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|token| !token.is_empty())
                .ok_or(ApiError::Unauthorized)?;
            let now = crate::object::now_timestamp().as_second();
            return match authenticator.authenticate(Some(token), None, now) {
                Ok(authenticated) => Ok(Arc::new(authenticated.user)),
                Err(error) => {
                    tracing::debug!(%error, "gRPC token authentication failed");
                    Err(ApiError::Unauthorized)
                }
            };
        }
        match request.extensions().get::<ConnectionIdentity>() {
            Some(ConnectionIdentity::User(user)) => Ok(user.clone()),
            Some(ConnectionIdentity::Rejected) => Err(ApiError::Unauthorized),
            Some(ConnectionIdentity::Anonymous) | None => Ok(ANONYMOUS.clone()),
        }
    }
}

/// One TLS connection of the gRPC face and the identity of its client
/// certificate (tonic puts it in every request's extensions).
pub(crate) struct TlsConnection {
    stream: TlsStream<LimitedStream>,
    identity: ConnectionIdentity,
}

impl Connected for TlsConnection {
    type ConnectInfo = ConnectionIdentity;

    fn connect_info(&self) -> ConnectionIdentity {
        self.identity.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The TLS connections accepted on `incoming`, as tonic's server takes
/// them. Handshakes run concurrently (a slow client holds up only itself)
/// and fail after `handshake_timeout`; the stream ends when the server
/// drops it.
pub(crate) fn tls_incoming(
    mut incoming: LimitedIncoming,
    tls: Arc<rustls::ServerConfig>,
    authenticator: Arc<Authenticator>,
    handshake_timeout: Duration,
) -> impl Stream<Item = Result<TlsConnection, io::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(CONCURRENT_HANDSHAKES);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let handshakes = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let tcp = tokio::select! {
                tcp = incoming.accept() => tcp,
                () = sender.closed() => return,
            };
            let Ok(permit) = handshakes.clone().acquire_owned().await else {
                return;
            };
            let (acceptor, authenticator, sender) =
                (acceptor.clone(), authenticator.clone(), sender.clone());
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await;
                drop(permit);
                let stream = match handshake {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "gRPC TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!("gRPC TLS handshake timed out");
                        return;
                    }
                };
                let identity = identity(&stream, &authenticator);
                let _ = sender.send(Ok(TlsConnection { stream, identity })).await;
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

/// The user of the connection's client certificate (TLS verified it
/// against the cluster CA).
fn identity(
    stream: &TlsStream<LimitedStream>,
    authenticator: &Authenticator,
) -> ConnectionIdentity {
    let Some(certificate) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
    else {
        return ConnectionIdentity::Anonymous;
    };
    let now = crate::object::now_timestamp().as_second();
    match authenticator.authenticate(None, Some(certificate.as_ref()), now) {
        Ok(authenticated) => ConnectionIdentity::User(Arc::new(authenticated.user)),
        Err(error) => {
            tracing::debug!(%error, "gRPC client certificate refused");
            ConnectionIdentity::Rejected
        }
    }
}
