//! The watch cache: one store watch per resource, shared by every watcher
//! of that resource.
//!
//! Each [`ResourceCache`] keeps a ring of the most recent events (the
//! window). A watcher is only a cursor into that ring (the last revision it
//! was sent) and its filter: it reads the events after its cursor when the
//! cache signals new ones, so a slow watcher costs no memory and receives
//! whatever piled up in one message. A watch from a resourceVersion older
//! than the window, or a watcher whose cursor the window has moved past,
//! fails with "too old" and the client relists. Bookmarks are sent by the
//! watcher itself after it has read every event up to the bookmark's
//! revision, so they never overtake events.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::{EventKind, Revision, Store, StoreError, WatchReceiver};
use tokio::sync::watch;

use crate::Config;
use crate::error::ApiError;
use crate::filter::Filter;
use crate::keys;
use crate::view::ObjectView;
use crate::wire;

/// Events per message to a watcher; more wait for the next message.
pub(crate) const EVENTS_PER_MESSAGE: usize = 1000;

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

/// What a watcher sends next.
#[derive(Debug)]
pub(crate) enum WatchMessage {
    Events(Vec<Arc<CachedEvent>>),
    Bookmark(Revision),
    /// The watch ends: the client must relist.
    TooOld(String),
}

/// A registered watch: a cursor into one resource's window.
pub(crate) struct WatchHandle {
    cache: Arc<ResourceCache>,
    filter: Filter,
    /// Every event up to this revision was sent (or filtered out).
    after: Revision,
    /// The revision the watch started from: bookmarks only once the
    /// resource moved past it.
    start: Revision,
    bookmarks: bool,
    /// The cache's bookmark tick this watcher answered last.
    bookmark_tick: u64,
    signal: watch::Receiver<u64>,
    ended: bool,
}

/// All resource caches, created on first watch of each resource.
pub(crate) struct WatchCaches {
    store: Arc<dyn Store>,
    window_events: usize,
    bookmark_interval: Duration,
    /// Plural → cache. std mutex: held only to look up or insert.
    caches: Mutex<HashMap<String, Arc<ResourceCache>>>,
}

/// The cache of one resource.
pub(crate) struct ResourceCache {
    /// std mutex: held to append a batch or to copy out a watcher's next
    /// events, never across an await.
    inner: Mutex<CacheInner>,
    /// Bumped after every change of `inner` (events, bookmark tick, stop);
    /// watchers wait on it.
    signal: watch::Sender<u64>,
}

struct CacheInner {
    /// Recent events in revision order, at most `window_events`.
    ring: VecDeque<Arc<CachedEvent>>,
    window_events: usize,
    /// History is complete for every revision above this one.
    window_start: Revision,
    /// Highest revision received from the store.
    latest: Revision,
    /// Counts bookmark intervals.
    bookmark_tick: u64,
    /// The store watch ended; the cache is replaced on next use.
    stopped: bool,
}

impl WatchCaches {
    pub(crate) fn new(store: Arc<dyn Store>, config: &Config) -> WatchCaches {
        WatchCaches {
            store,
            window_events: config.watch_window_events.max(1),
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
        let mut signal = cache.signal.subscribe();
        signal.borrow_and_update();
        let inner = cache.lock();
        if inner.stopped {
            return Err(ApiError::TooOld("the watch cache restarted".to_string()));
        }
        if after < inner.window_start {
            return Err(ApiError::TooOld(format!(
                "resourceVersion {after} is older than the watch window (oldest {})",
                inner.window_start
            )));
        }
        let bookmark_tick = inner.bookmark_tick;
        drop(inner);
        Ok(WatchHandle {
            cache,
            filter,
            after,
            start: after,
            bookmarks,
            bookmark_tick,
            signal,
            ended: false,
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
                bookmark_tick: 0,
                stopped: false,
            }),
            signal: watch::Sender::new(0),
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

    /// Wakes every watcher of this cache.
    fn wake(&self) {
        self.signal
            .send_modify(|sequence| *sequence = sequence.wrapping_add(1));
    }
}

impl WatchHandle {
    /// The next message for this watcher, waiting until there is one. After
    /// [`WatchMessage::TooOld`] the watch is over and this never returns.
    /// The revision the watch started after.
    pub(crate) fn start_revision(&self) -> Revision {
        self.start
    }

    pub(crate) async fn next(&mut self) -> WatchMessage {
        while !self.ended {
            // Mark the signal seen before reading, so a change made while
            // reading wakes the wait below.
            self.signal.borrow_and_update();
            if let Some(message) = self.poll() {
                return message;
            }
            if self.signal.changed().await.is_err() {
                // The cache is gone without stopping: treat as stopped.
                self.ended = true;
                return WatchMessage::TooOld("the watch cache restarted".to_string());
            }
        }
        std::future::pending().await
    }

    /// What can be sent now, if anything.
    fn poll(&mut self) -> Option<WatchMessage> {
        let inner = self.cache.lock();
        if self.after < inner.window_start {
            self.ended = true;
            return Some(WatchMessage::TooOld("the watcher fell behind".to_string()));
        }
        let start = inner
            .ring
            .partition_point(|event| event.revision <= self.after);
        let mut events = Vec::new();
        for event in inner.ring.range(start..) {
            if events.len() == EVENTS_PER_MESSAGE && event.revision > self.after {
                break;
            }
            self.after = event.revision;
            if self.filter.matches(&event.view) {
                events.push(event.clone());
            }
        }
        if !events.is_empty() {
            return Some(WatchMessage::Events(events));
        }
        if inner.stopped {
            self.ended = true;
            return Some(WatchMessage::TooOld(
                "the watch cache restarted".to_string(),
            ));
        }
        if self.bookmark_tick != inner.bookmark_tick {
            self.bookmark_tick = inner.bookmark_tick;
            if self.bookmarks && inner.latest > self.start {
                self.after = self.after.max(inner.latest);
                return Some(WatchMessage::Bookmark(inner.latest));
            }
        }
        None
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
                    cache.wake();
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
            _ = bookmarks.tick() => {
                cache.lock().bookmark_tick += 1;
                cache.wake();
            }
        }
    }
}

fn stop(cache: &ResourceCache, error: &StoreError) {
    tracing::info!(%error, "watch cache stopped; watchers must relist");
    cache.lock().stopped = true;
    cache.wake();
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
        for event in events {
            if self.ring.len() == self.window_events
                && let Some(evicted) = self.ring.pop_front()
            {
                self.window_start = self.window_start.max(evicted.revision);
            }
            self.ring.push_back(event);
        }
    }
}
