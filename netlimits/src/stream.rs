//! [`LimitedStream`]: an accepted TCP connection that holds its slot under
//! the server's cap while open and fails its reads and writes with
//! `TimedOut` once the peer is too slow to start or has gone idle, so the
//! server that owns it closes it.
//!
//! The watchdog runs inside the stream's own `poll_read`/`poll_write`: a
//! server always polls a connection's read side while waiting for a request
//! (hyper does, for both HTTP/1.1 and HTTP/2), so a pending read is where a
//! deadline can fire, with no task or timer per connection besides the one
//! `Sleep`. Activity moves the deadline lazily: the timer is only reset when
//! it fires before the current deadline, not on every read.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::stats::ConnectionStats;

/// An accepted connection under a server's limits (see the module doc).
pub struct LimitedStream {
    tcp: TcpStream,
    local_addr: Option<SocketAddr>,
    remote_addr: Option<SocketAddr>,
    watchdog: Watchdog,
    /// The connection's slot under the cap; dropping the stream frees it.
    _slot: Slot,
}

/// Deadlines of one connection.
struct Watchdog {
    /// Bytes the peer must send before `first_bytes_deadline`.
    first_bytes: usize,
    /// Bytes received so far, counted up to `first_bytes`.
    received: usize,
    first_bytes_deadline: Instant,
    first_bytes_timeout: Duration,
    /// No byte read or written for this long closes the connection.
    idle_timeout: Option<Duration>,
    last_activity: Instant,
    /// Fires at or before the current deadline.
    timer: Pin<Box<Sleep>>,
    /// Set once a deadline passed; every later read and write fails too.
    expired: Option<Expiry>,
    stats: Arc<ConnectionStats>,
}

#[derive(Clone, Copy)]
enum Expiry {
    FirstBytes,
    Idle,
}

/// A permit under the cap plus the `open` count, both given back on drop.
struct Slot {
    _permit: OwnedSemaphorePermit,
    stats: Arc<ConnectionStats>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.stats.closed();
    }
}

impl LimitedStream {
    pub(crate) fn new(
        tcp: TcpStream,
        permit: OwnedSemaphorePermit,
        limits: &crate::Limits,
        stats: Arc<ConnectionStats>,
    ) -> LimitedStream {
        let now = Instant::now();
        let first_bytes_deadline = now + limits.first_bytes_timeout;
        stats.opened();
        LimitedStream {
            local_addr: tcp.local_addr().ok(),
            remote_addr: tcp.peer_addr().ok(),
            tcp,
            watchdog: Watchdog {
                first_bytes: limits.first_bytes,
                received: 0,
                first_bytes_deadline,
                first_bytes_timeout: limits.first_bytes_timeout,
                idle_timeout: limits.idle_timeout,
                last_activity: now,
                timer: Box::pin(tokio::time::sleep_until(first_bytes_deadline)),
                expired: None,
                stats: stats.clone(),
            },
            _slot: Slot {
                _permit: permit,
                stats,
            },
        }
    }

    /// The peer's address, when the socket still knows it.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// The underlying socket.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl Watchdog {
    /// When the connection times out, if it can.
    fn deadline(&self) -> Option<Instant> {
        if self.received < self.first_bytes {
            return Some(self.first_bytes_deadline);
        }
        self.idle_timeout
            .map(|idle_timeout| self.last_activity + idle_timeout)
    }

    fn read(&mut self, bytes: usize) {
        if bytes > 0 {
            self.received = self.received.saturating_add(bytes).min(self.first_bytes);
            self.last_activity = Instant::now();
        }
    }

    fn wrote(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last_activity = Instant::now();
        }
    }

    /// Ready with an error once the deadline has passed; registers the
    /// task's waker with the timer otherwise. Called when the socket itself
    /// is not ready.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if let Some(expiry) = self.expired {
            return Poll::Ready(self.error(expiry));
        }
        loop {
            let Some(deadline) = self.deadline() else {
                return Poll::Pending;
            };
            if self.timer.deadline() > deadline {
                self.timer.as_mut().reset(deadline);
            }
            ready!(self.timer.as_mut().poll(cx));
            if Instant::now() >= deadline {
                let expiry = if self.received < self.first_bytes {
                    self.stats.first_bytes_timed_out();
                    Expiry::FirstBytes
                } else {
                    self.stats.idle_timed_out();
                    Expiry::Idle
                };
                self.expired = Some(expiry);
                return Poll::Ready(self.error(expiry));
            }
            // Activity moved the deadline after the timer was set.
            self.timer.as_mut().reset(deadline);
        }
    }

    fn error(&self, expiry: Expiry) -> io::Error {
        let message = match expiry {
            Expiry::FirstBytes => format!(
                "the peer sent fewer than {} bytes within {:?}",
                self.first_bytes, self.first_bytes_timeout
            ),
            Expiry::Idle => format!(
                "no byte moved either way for {:?}",
                self.idle_timeout.unwrap_or_default()
            ),
        };
        io::Error::new(io::ErrorKind::TimedOut, message)
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(expiry) = this.watchdog.expired {
            return Poll::Ready(Err(this.watchdog.error(expiry)));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.watchdog.read(buf.filled().len() - before);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.watchdog.poll_expired(cx).map(Err),
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(expiry) = this.watchdog.expired {
            return Poll::Ready(Err(this.watchdog.error(expiry)));
        }
        match Pin::new(&mut this.tcp).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                this.watchdog.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.watchdog.poll_expired(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(expiry) = this.watchdog.expired {
            return Poll::Ready(Err(this.watchdog.error(expiry)));
        }
        match Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(written)) => {
                this.watchdog.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => this.watchdog.poll_expired(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

impl Connected for LimitedStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        TcpConnectInfo {
            local_addr: self.local_addr,
            remote_addr: self.remote_addr,
        }
    }
}
