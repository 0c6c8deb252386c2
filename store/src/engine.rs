//! The [`Store`] implementation shared by every backend: reads, watches and
//! keep-alives go straight to the in-memory core; writes go to the backend's
//! [`Committer`], which plans them, makes them durable if it is durable, and
//! applies them with [`Shared::apply`]. Background timers (lease expiry and
//! automatic compaction) also live here.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use crate::mvcc::{Change, Core, Reply, Request};
use crate::watch::{CoreSource, Watchers};
use crate::{
    LeaseId, RangeRequest, RangeResponse, Revision, Store, StoreConfig, StoreError, StoreFuture,
    Txn, TxnResponse, WatchReceiver,
};

/// State shared by the store handle, its committer and background tasks.
pub(crate) struct Shared {
    /// The MVCC core. `std::sync::RwLock`: nothing awaits under it. Writers
    /// hold it while applying and publishing to watchers.
    core: RwLock<Core>,
    pub(crate) watchers: Watchers,
    pub(crate) config: StoreConfig,
    /// Handle used to answer watch registration with catch-up tasks.
    self_ref: Weak<Shared>,
}

impl CoreSource for Shared {
    fn core(&self) -> RwLockReadGuard<'_, Core> {
        self.read_core()
    }

    fn watchers(&self) -> &Watchers {
        &self.watchers
    }
}

impl Shared {
    pub(crate) fn new(
        core: Core,
        config: StoreConfig,
        runtime: tokio::runtime::Handle,
    ) -> Arc<Shared> {
        Arc::new_cyclic(|self_ref| Shared {
            core: RwLock::new(core),
            watchers: Watchers::new(runtime),
            config,
            self_ref: self_ref.clone(),
        })
    }

    pub(crate) fn read_core(&self) -> RwLockReadGuard<'_, Core> {
        // Core mutations are infallible once planned, so a poisoned lock
        // still guards a consistent core.
        self.core
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn write_core(&self) -> RwLockWriteGuard<'_, Core> {
        self.core
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Apply planned (and, for durable backends, persisted) changes under
    /// the held write lock and publish them to watchers.
    pub(crate) fn apply(&self, core: &mut Core, changes: &[Change], now: Instant) {
        for change in changes {
            core.apply(change, now);
            if let Change::Write(entry) = change {
                self.watchers.publish(&self.self_ref, entry);
            }
        }
    }
}

/// How a backend executes write requests.
pub(crate) trait Committer: Send + Sync + 'static {
    fn submit(&self, request: Request) -> StoreFuture<'_, Reply>;
}

/// The runtime background tasks run on: the caller's, or one owned by the
/// store (shut down without blocking when the store is dropped).
pub(crate) struct BackgroundRuntime {
    handle: tokio::runtime::Handle,
    owned: Option<tokio::runtime::Runtime>,
}

impl BackgroundRuntime {
    pub(crate) fn current_or_new() -> Result<BackgroundRuntime, StoreError> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Ok(BackgroundRuntime {
                handle,
                owned: None,
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("store-background")
            .enable_time()
            .build()
            .map_err(|e| StoreError::Io(format!("starting background runtime: {e}")))?;
        Ok(BackgroundRuntime {
            handle: runtime.handle().clone(),
            owned: Some(runtime),
        })
    }

    pub(crate) fn handle(&self) -> tokio::runtime::Handle {
        self.handle.clone()
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.owned.take() {
            runtime.shutdown_background();
        }
    }
}

/// A store: the shared core plus a backend's committer.
pub(crate) struct Engine<C: Committer> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) committer: C,
    /// Keeps an owned background runtime alive as long as the store.
    _runtime: BackgroundRuntime,
}

impl<C: Committer> Engine<C> {
    /// Wrap a committer and start the background timers. Timers hold only a
    /// weak reference and stop when the store is dropped.
    pub(crate) fn start(
        shared: Arc<Shared>,
        committer: C,
        runtime: BackgroundRuntime,
    ) -> Arc<Self> {
        let handle = runtime.handle();
        let engine = Arc::new(Engine {
            shared,
            committer,
            _runtime: runtime,
        });
        handle.spawn(lease_timer(Arc::downgrade(&engine)));
        if engine.shared.config.auto_compact_retain_revisions > 0 {
            handle.spawn(compaction_timer(Arc::downgrade(&engine)));
        }
        engine
    }
}

async fn lease_timer<C: Committer>(engine: Weak<Engine<C>>) {
    let Some(interval) = engine
        .upgrade()
        .map(|e| e.shared.config.lease_check_interval)
    else {
        return;
    };
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let expired = engine
            .shared
            .read_core()
            .expired_leases(engine.shared.config.lease_clock.now());
        if !expired.is_empty()
            && let Err(error) = engine
                .committer
                .submit(Request::ExpireLeases(expired))
                .await
        {
            tracing::warn!(%error, "lease expiry failed; retrying next tick");
        }
    }
}

async fn compaction_timer<C: Committer>(engine: Weak<Engine<C>>) {
    let Some(interval) = engine
        .upgrade()
        .map(|e| e.shared.config.auto_compact_interval)
    else {
        return;
    };
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let retain = engine.shared.config.auto_compact_retain_revisions;
        let (revision, compacted) = {
            let core = engine.shared.read_core();
            (core.revision(), core.compacted())
        };
        let target = revision - retain;
        if target > compacted
            && let Err(error) = engine.committer.submit(Request::Compact(target)).await
        {
            tracing::warn!(%error, "automatic compaction failed");
        }
    }
}

fn unexpected_reply() -> StoreError {
    StoreError::Io("internal error: unexpected reply kind".to_string())
}

impl<C: Committer> Store for Engine<C> {
    fn current_revision(&self) -> Revision {
        self.shared.read_core().revision()
    }

    fn compacted_revision(&self) -> Revision {
        self.shared.read_core().compacted()
    }

    fn range(&self, req: RangeRequest) -> StoreFuture<'_, RangeResponse> {
        let result = self.shared.read_core().range(&req);
        Box::pin(std::future::ready(result))
    }

    fn txn(&self, txn: Txn) -> StoreFuture<'_, TxnResponse> {
        Box::pin(async move {
            match self.committer.submit(Request::Txn(txn)).await? {
                Reply::Txn(resp) => Ok(resp),
                _ => Err(unexpected_reply()),
            }
        })
    }

    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchReceiver, StoreError> {
        let core = self.shared.read_core();
        self.shared.watchers.register(
            Arc::downgrade(&self.shared),
            &core,
            prefix,
            from,
            self.shared.config.watch_channel_batches,
        )
    }

    fn compact(&self, revision: Revision) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.committer
                .submit(Request::Compact(revision))
                .await
                .map(|_| ())
        })
    }

    fn lease_grant(&self, ttl: Duration) -> StoreFuture<'_, LeaseId> {
        Box::pin(async move {
            match self.committer.submit(Request::LeaseGrant(ttl)).await? {
                Reply::Lease(id) => Ok(id),
                _ => Err(unexpected_reply()),
            }
        })
    }

    fn lease_keep_alive(&self, id: LeaseId) -> StoreFuture<'_, Duration> {
        let result = self
            .shared
            .write_core()
            .keep_alive(id, self.shared.config.lease_clock.now());
        Box::pin(std::future::ready(result))
    }

    fn lease_revoke(&self, id: LeaseId) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.committer
                .submit(Request::LeaseRevoke(id))
                .await
                .map(|_| ())
        })
    }
}
