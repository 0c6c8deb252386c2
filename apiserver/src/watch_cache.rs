//! The watch cache: one store watch per resource, fanned out to every
//! watcher of that resource.
//!
//! Each [`ResourceCache`] keeps a ring of the most recent events (the
//! window), so a watch from any resourceVersion inside it starts without
//! touching the store; an older one fails with "too old" and the client
//! relists. Each watcher has a bounded channel of batches: a watcher that
//! falls behind is closed with the same "too old" error rather than
//! buffered without bound. Bookmarks go through the same channel, so they
//! never overtake events.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::{EventKind, Revision, Store, StoreError, WatchReceiver};
use tokio::sync::mpsc;

use crate::Config;
use crate::error::ApiError;
use crate::filter::Filter;
use crate::keys;
use crate::view::ObjectView;
use crate::wire;

/// Type of a watch event, as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One decoded event, shared by every watcher that receives it.
#[derive(Debug)]
pub(crate) struct CachedEvent {
    pub(crate) revision: Revision,
    pub(crate) event_type: EventType,
    /// Only the fields filters read, to keep the window small; the full
    /// object is in `wire`.
    pub(crate) view: ObjectView,
    /// The object's JSON as sent to clients (the stored bytes with the
    /// resourceVersion spliced in, encoded once for every watcher).
    pub(crate) wire: prost::bytes::Bytes,
}

/// What a watcher's channel carries.
#[derive(Debug)]
pub(crate) enum WatchMessage {
    Events(Vec<Arc<CachedEvent>>),
    Bookmark(Revision),
}

/// A registered watch: what was already in the window, then the channel.
pub(crate) struct WatchHandle {
    pub(crate) backlog: Vec<Arc<CachedEvent>>,
    pub(crate) receiver: mpsc::Receiver<WatchMessage>,
    /// Set when the watcher was dropped for falling behind (or the cache
    /// stopped): the stream must end with a "too old" error.
    pub(crate) overflowed: Arc<AtomicBool>,
}

/// All resource caches, created on first watch of each resource.
pub(crate) struct WatchCaches {
    store: Arc<dyn Store>,
    window_events: usize,
    buffer_batches: usize,
    bookmark_interval: Duration,
    /// Plural → cache. std mutex: held only to look up or insert.
    caches: Mutex<HashMap<String, Arc<ResourceCache>>>,
}

/// The cache of one resource.
pub(crate) struct ResourceCache {
    /// std mutex: fan-out uses `try_send`, nothing awaits under it.
    inner: Mutex<CacheInner>,
    next_watcher_id: AtomicU64,
}

struct CacheInner {
    /// Recent events in revision order, at most `window_events`.
    ring: VecDeque<Arc<CachedEvent>>,
    window_events: usize,
    /// History is complete for every revision above this one.
    window_start: Revision,
    /// Highest revision received from the store.
    latest: Revision,
    watchers: Vec<Watcher>,
    /// The store watch ended; the cache is replaced on next use.
    stopped: bool,
}

struct Watcher {
    id: u64,
    filter: Filter,
    /// Only events above this revision.
    after: Revision,
    bookmarks: bool,
    sender: mpsc::Sender<WatchMessage>,
    overflowed: Arc<AtomicBool>,
}

impl WatchCaches {
    pub(crate) fn new(store: Arc<dyn Store>, config: &Config) -> WatchCaches {
        WatchCaches {
            store,
            window_events: config.watch_window_events.max(1),
            buffer_batches: config.watch_buffer_batches.max(1),
            bookmark_interval: config.bookmark_interval,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// Starts watching `plural` for events after `after` that pass `filter`.
    pub(crate) fn watch(
        &self,
        plural: &str,
        filter: Filter,
        after: Revision,
        bookmarks: bool,
    ) -> Result<WatchHandle, ApiError> {
        let cache = self.cache(plural)?;
        let (sender, receiver) = mpsc::channel(self.buffer_batches);
        let overflowed = Arc::new(AtomicBool::new(false));
        let id = cache.next_watcher_id.fetch_add(1, Ordering::Relaxed);
        let mut inner = cache.lock();
        if inner.stopped {
            return Err(ApiError::TooOld("the watch cache restarted".to_string()));
        }
        if after < inner.window_start {
            return Err(ApiError::TooOld(format!(
                "resourceVersion {after} is older than the watch window (oldest {})",
                inner.window_start
            )));
        }
        let start = inner.ring.partition_point(|event| event.revision <= after);
        let backlog: Vec<Arc<CachedEvent>> = inner
            .ring
            .range(start..)
            .filter(|event| filter.matches(&event.view))
            .cloned()
            .collect();
        inner.watchers.push(Watcher {
            id,
            filter,
            after,
            bookmarks,
            sender,
            overflowed: overflowed.clone(),
        });
        Ok(WatchHandle {
            backlog,
            receiver,
            overflowed,
        })
    }

    fn cache(&self, plural: &str) -> Result<Arc<ResourceCache>, ApiError> {
        // Lock order: the map, then (inside `watch`) one cache; the cache
        // task never takes the map lock.
        let mut caches = self
            .caches
            .lock()
            .map_err(|_| ApiError::Internal("watch cache lock poisoned".into()))?;
        if let Some(cache) = caches.get(plural)
            && !cache.lock().stopped
        {
            return Ok(cache.clone());
        }
        let current = self.store.current_revision();
        let window = i64::try_from(self.window_events).unwrap_or(i64::MAX);
        let from = self
            .store
            .compacted_revision()
            .max(current.saturating_sub(window) + 1)
            .max(1);
        let receiver = self.store.watch(&keys::resource_prefix(plural), from)?;
        let cache = Arc::new(ResourceCache {
            inner: Mutex::new(CacheInner {
                ring: VecDeque::new(),
                window_events: self.window_events,
                window_start: from - 1,
                latest: from - 1,
                watchers: Vec::new(),
                stopped: false,
            }),
            next_watcher_id: AtomicU64::new(0),
        });
        tokio::spawn(run_cache(cache.clone(), receiver, self.bookmark_interval));
        caches.insert(plural.to_string(), cache.clone());
        Ok(cache)
    }
}

impl ResourceCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A panic under this lock leaves consistent data (each step is a
        // push or a retain), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Feeds one resource cache from its store watch until the store watch ends.
async fn run_cache(
    cache: Arc<ResourceCache>,
    mut receiver: WatchReceiver,
    bookmark_interval: Duration,
) {
    let mut bookmarks = tokio::time::interval(bookmark_interval.max(Duration::from_millis(10)));
    bookmarks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            batch = receiver.recv() => match batch {
                Some(Ok(events)) => {
                    let decoded: Vec<Arc<CachedEvent>> = events.iter().filter_map(decode_event).map(Arc::new).collect();
                    cache.lock().apply(decoded);
                }
                Some(Err(error)) => {
                    stop(&cache, &error);
                    return;
                }
                None => {
                    stop(&cache, &StoreError::Closed);
                    return;
                }
            },
            _ = bookmarks.tick() => cache.lock().send_bookmarks(),
        }
    }
}

fn stop(cache: &ResourceCache, error: &StoreError) {
    tracing::info!(%error, "watch cache stopped; watchers must relist");
    let mut inner = cache.lock();
    inner.stopped = true;
    for watcher in inner.watchers.drain(..) {
        watcher.overflowed.store(true, Ordering::Release);
    }
}

fn decode_event(event: &store::Event) -> Option<CachedEvent> {
    let event_type = match (&event.kind, &event.prev) {
        (EventKind::Delete, _) => EventType::Deleted,
        (EventKind::Put, None) => EventType::Added,
        (EventKind::Put, Some(_)) => EventType::Modified,
    };
    let Some(view) = ObjectView::from_json(&event.kv.value) else {
        tracing::warn!(key = %event.kv.key, "skipping undecodable watch event");
        return None;
    };
    let wire = match wire::stored_to_wire(&event.kv) {
        Ok(wire) => wire,
        Err(error) => {
            tracing::warn!(%error, key = %event.kv.key, "skipping undecodable watch event");
            return None;
        }
    };
    Some(CachedEvent {
        revision: event.kv.mod_revision,
        event_type,
        view,
        wire,
    })
}

impl CacheInner {
    fn apply(&mut self, events: Vec<Arc<CachedEvent>>) {
        let Some(last) = events.last() else { return };
        self.latest = self.latest.max(last.revision);
        self.watchers.retain(|watcher| {
            let matching: Vec<Arc<CachedEvent>> = events
                .iter()
                .filter(|event| {
                    event.revision > watcher.after && watcher.filter.matches(&event.view)
                })
                .cloned()
                .collect();
            matching.is_empty() || deliver(watcher, WatchMessage::Events(matching))
        });
        for event in events {
            if self.ring.len() == self.window_events
                && let Some(evicted) = self.ring.pop_front()
            {
                self.window_start = self.window_start.max(evicted.revision);
            }
            self.ring.push_back(event);
        }
    }

    fn send_bookmarks(&mut self) {
        let latest = self.latest;
        self.watchers.retain(|watcher| {
            !watcher.bookmarks
                || latest <= watcher.after
                || deliver(watcher, WatchMessage::Bookmark(latest))
        });
    }
}

/// Sends without waiting; false (drop the watcher) if it is full or gone.
fn deliver(watcher: &Watcher, message: WatchMessage) -> bool {
    match watcher.sender.try_send(message) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::debug!(watcher = watcher.id, "watcher fell behind; closing it");
            watcher.overflowed.store(true, Ordering::Release);
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}
