//! Watch fan-out: live watchers get each revision's events as it is applied;
//! watchers that start in the past, or whose channel filled up, are served by
//! a catch-up task that replays the core's log and then turns them live.
//!
//! A writer never waits for a watcher: sending is `try_send`, and a full
//! channel moves the watcher to catch-up (memory stays bounded by the channel
//! capacity plus the shared log). If the history a lagging watcher needs is
//! compacted away, it gets `Err(Compacted)` and its stream ends.
//!
//! Ordering and exactly-once delivery come from the lock order: events are
//! applied to the core and published while the core's write lock is held, and
//! a watcher turns live while a read lock is held, after replaying everything
//! up to the core's revision.

use std::sync::{Mutex, Weak};

use tokio::sync::mpsc;

use crate::mvcc::{Core, LogEntry};
use crate::{Event, Revision, StoreError};

/// Events per catch-up batch (whole revisions only, so it may exceed this).
const CATCH_UP_BATCH_EVENTS: usize = 1024;
/// Revisions scanned per catch-up step before the read lock is released.
const CATCH_UP_SCAN_REVISIONS: usize = 4096;

type WatchSender = mpsc::Sender<Result<Vec<Event>, StoreError>>;

/// A watcher that receives events directly from the writer.
struct LiveWatcher {
    prefix: String,
    tx: WatchSender,
    /// Events below this revision are not for this watcher.
    min_revision: Revision,
}

/// Where the registry's catch-up tasks get the core from.
pub(crate) trait CoreSource: Send + Sync + 'static {
    fn core(&self) -> std::sync::RwLockReadGuard<'_, Core>;
    fn watchers(&self) -> &Watchers;
}

/// The set of live watchers.
pub(crate) struct Watchers {
    /// Live watchers. `std::sync::Mutex`: nothing awaits under it; it is
    /// taken after the core lock, never before.
    live: Mutex<Vec<LiveWatcher>>,
    /// Runs catch-up tasks.
    runtime: tokio::runtime::Handle,
}

impl Watchers {
    pub(crate) fn new(runtime: tokio::runtime::Handle) -> Watchers {
        Watchers {
            live: Mutex::new(Vec::new()),
            runtime,
        }
    }

    /// Register a watcher. The caller holds the core lock (read or write),
    /// which is passed as `core`.
    pub(crate) fn register<S: CoreSource>(
        &self,
        source: Weak<S>,
        core: &Core,
        prefix: &str,
        from: Revision,
        capacity: usize,
    ) -> Result<mpsc::Receiver<Result<Vec<Event>, StoreError>>, StoreError> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let current = core.revision();
        if from == 0 || from > current {
            let min_revision = if from == 0 { current + 1 } else { from };
            self.lock_live().push(LiveWatcher {
                prefix: prefix.to_string(),
                tx,
                min_revision,
            });
            return Ok(rx);
        }
        if from < core.compacted() {
            return Err(StoreError::Compacted {
                requested: from,
                compacted: core.compacted(),
            });
        }
        self.spawn_catch_up(source, prefix.to_string(), tx, from);
        Ok(rx)
    }

    /// Send one applied revision to the live watchers. The caller holds the
    /// core write lock and has just applied `entry`.
    pub(crate) fn publish<S: CoreSource>(&self, source: &Weak<S>, entry: &LogEntry) {
        let mut live = self.lock_live();
        live.retain(|watcher| {
            if entry.revision < watcher.min_revision {
                return true;
            }
            let events: Vec<Event> = entry
                .events
                .iter()
                .filter(|e| e.kv.key.starts_with(&watcher.prefix))
                .cloned()
                .collect();
            if events.is_empty() {
                return true;
            }
            match watcher.tx.try_send(Ok(events)) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.spawn_catch_up(
                        source.clone(),
                        watcher.prefix.clone(),
                        watcher.tx.clone(),
                        entry.revision,
                    );
                    false
                }
            }
        });
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, Vec<LiveWatcher>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn spawn_catch_up<S: CoreSource>(
        &self,
        source: Weak<S>,
        prefix: String,
        tx: WatchSender,
        from: Revision,
    ) {
        self.runtime.spawn(catch_up(source, prefix, tx, from));
    }
}

/// Replay the log to `tx` from `next`, one channel slot at a time, then turn
/// the watcher live.
async fn catch_up<S: CoreSource>(
    source: Weak<S>,
    prefix: String,
    tx: WatchSender,
    mut next: Revision,
) {
    loop {
        let Ok(permit) = tx.reserve().await else {
            return;
        };
        let Some(source) = source.upgrade() else {
            return;
        };
        let core = source.core();
        if next < core.compacted() {
            permit.send(Err(StoreError::Compacted {
                requested: next,
                compacted: core.compacted(),
            }));
            return;
        }
        let mut batch = Vec::new();
        let mut scanned_to = next - 1;
        for entry in core.log_from(next).take(CATCH_UP_SCAN_REVISIONS) {
            if batch.len() >= CATCH_UP_BATCH_EVENTS {
                break;
            }
            batch.extend(
                entry
                    .events
                    .iter()
                    .filter(|e| e.kv.key.starts_with(&prefix))
                    .cloned(),
            );
            scanned_to = entry.revision;
        }
        if scanned_to < next {
            // Nothing logged at or after `next`: everything up to the core's
            // revision has been delivered.
            scanned_to = core.revision();
        }
        next = scanned_to + 1;
        if batch.is_empty() {
            drop(permit);
        } else {
            permit.send(Ok(batch));
        }
        if next > core.revision() {
            let watchers = source.watchers();
            watchers.lock_live().push(LiveWatcher {
                prefix,
                tx,
                min_revision: next,
            });
            return;
        }
    }
}
