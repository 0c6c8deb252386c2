//! [`LimitedIncoming`]: a listener's accept loop with a connection cap and
//! a pause after resource errors, as a stream of [`LimitedStream`]s (tonic's
//! `serve_with_incoming_shutdown` takes it as is) or through
//! [`LimitedIncoming::accept`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;

use crate::stats::ConnectionStats;
use crate::stream::LimitedStream;

/// Connections accepted (or refused at the cap) in one poll before the
/// accept loop yields to other tasks, so a flood of connects cannot keep
/// one worker thread busy.
const ACCEPTS_PER_POLL: usize = 64;

/// The limits of one listener.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once; a connection accepted over this is closed
    /// at once. Keep it under the process's [`crate::connection_budget`].
    pub max_connections: usize,
    /// Bytes a new connection must send within `first_bytes_timeout`: 1 for
    /// HTTP/1.1 or TLS, [`crate::HTTP2_PREFACE_LEN`] for HTTP/2 with prior
    /// knowledge (gRPC).
    pub first_bytes: usize,
    pub first_bytes_timeout: Duration,
    /// A connection on which no byte was read or written for this long is
    /// closed; `None` keeps quiet connections open (the protocol's own
    /// timeouts, such as hyper's header read timeout, then bound them).
    pub idle_timeout: Option<Duration>,
    /// How long the accept loop pauses after an error such as EMFILE.
    pub accept_error_pause: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            first_bytes: 1,
            first_bytes_timeout: Duration::from_secs(10),
            idle_timeout: None,
            accept_error_pause: Duration::from_millis(100),
        }
    }
}

/// What the accept loop does after a failed accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptErrorAction {
    /// The error belongs to one connection (aborted or reset before it was
    /// accepted, or an interrupted call): accept the next one at once.
    Retry,
    /// The process or the system is short of something (EMFILE, ENFILE,
    /// ENOBUFS, ENOMEM) or the error is unknown: accepting again at once
    /// would fail again, so pause first.
    Pause,
}

/// How the accept loop treats `error`.
pub fn accept_error_action(error: &io::Error) -> AcceptErrorAction {
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted
        | io::ErrorKind::WouldBlock => AcceptErrorAction::Retry,
        _ => AcceptErrorAction::Pause,
    }
}

/// A listener under [`Limits`] (see the module doc).
pub struct LimitedIncoming {
    listener: TcpListener,
    limits: Limits,
    /// One permit per open connection; each `LimitedStream` holds its own.
    slots: Arc<Semaphore>,
    stats: Arc<ConnectionStats>,
    /// Set after a resource error; accepting resumes when it fires.
    pause: Option<Pin<Box<Sleep>>>,
}

impl LimitedIncoming {
    pub fn new(listener: TcpListener, limits: Limits) -> LimitedIncoming {
        LimitedIncoming {
            listener,
            slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            limits,
            stats: Arc::new(ConnectionStats::default()),
            pause: None,
        }
    }

    /// Counts into `stats` instead of counters of its own, so whoever
    /// built the server can read them.
    pub fn with_stats(mut self, stats: Arc<ConnectionStats>) -> LimitedIncoming {
        self.stats = stats;
        self
    }

    /// The counters of this listener's connections.
    pub fn stats(&self) -> Arc<ConnectionStats> {
        self.stats.clone()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The next connection under the cap; never fails (errors pause or are
    /// retried, see [`accept_error_action`]).
    pub async fn accept(&mut self) -> LimitedStream {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection under the cap.
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<LimitedStream> {
        for _ in 0..ACCEPTS_PER_POLL {
            if let Some(pause) = self.pause.as_mut() {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.pause = None;
            }
            let tcp = match self.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((tcp, _peer))) => tcp,
                Poll::Ready(Err(error)) => {
                    match accept_error_action(&error) {
                        AcceptErrorAction::Retry => {
                            tracing::debug!(%error, "accept failed; accepting the next connection");
                        }
                        AcceptErrorAction::Pause => {
                            tracing::warn!(
                                %error,
                                pause = ?self.limits.accept_error_pause,
                                "accept failed; pausing before accepting again"
                            );
                            self.stats.accept_paused();
                            self.pause =
                                Some(Box::pin(tokio::time::sleep(self.limits.accept_error_pause)));
                        }
                    }
                    continue;
                }
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                tracing::debug!(
                    max_connections = self.limits.max_connections,
                    "connection limit reached: closing a new connection"
                );
                self.stats.refused_at_cap();
                drop(tcp);
                continue;
            };
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
            }
            return Poll::Ready(LimitedStream::new(
                tcp,
                permit,
                &self.limits,
                self.stats.clone(),
            ));
        }
        // Used up this poll's share: ask to be polled again after others.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Stream for LimitedIncoming {
    type Item = io::Result<LimitedStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_accept(cx)
            .map(|stream| Some(Ok(stream)))
    }
}

#[cfg(test)]
mod tests;
