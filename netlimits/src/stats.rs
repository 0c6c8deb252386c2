//! Counters of one server's connections, shared between its accept loop,
//! its open connections and whoever reads them (tests, metrics).

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters; every field only grows except `open`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    /// Connections open now (accepted and not yet dropped).
    open: AtomicU64,
    /// The most connections that were open at once.
    peak_open: AtomicU64,
    /// Connections accepted and handed to the server.
    accepted: AtomicU64,
    /// Connections closed at once because the cap was reached.
    refused_at_cap: AtomicU64,
    /// Connections closed because their first bytes did not arrive in time.
    first_bytes_timeouts: AtomicU64,
    /// Connections closed after the idle timeout.
    idle_timeouts: AtomicU64,
    /// Failed accepts (EMFILE and the like) that paused the accept loop.
    accept_pauses: AtomicU64,
}

/// A copy of [`ConnectionStats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionCounts {
    pub open: u64,
    pub peak_open: u64,
    pub accepted: u64,
    pub refused_at_cap: u64,
    pub first_bytes_timeouts: u64,
    pub idle_timeouts: u64,
    pub accept_pauses: u64,
}

impl ConnectionStats {
    /// The counters now.
    pub fn counts(&self) -> ConnectionCounts {
        ConnectionCounts {
            open: self.open.load(Ordering::Relaxed),
            peak_open: self.peak_open.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            refused_at_cap: self.refused_at_cap.load(Ordering::Relaxed),
            first_bytes_timeouts: self.first_bytes_timeouts.load(Ordering::Relaxed),
            idle_timeouts: self.idle_timeouts.load(Ordering::Relaxed),
            accept_pauses: self.accept_pauses.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn opened(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        let open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_open.fetch_max(open, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn refused_at_cap(&self) {
        self.refused_at_cap.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn first_bytes_timed_out(&self) {
        self.first_bytes_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn idle_timed_out(&self) {
        self.idle_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn accept_paused(&self) {
        self.accept_pauses.fetch_add(1, Ordering::Relaxed);
    }
}
