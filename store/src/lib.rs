//! MVCC key-value store with etcd v3 semantics, behind one trait.
//!
//! Every write bumps a single global [`Revision`]. Each key carries its create
//! revision, mod revision and version (number of writes since creation), so
//! callers can do optimistic concurrency exactly as against etcd: a
//! [`Txn`] holds [`Compare`]s and two op lists, and runs the success list only
//! if every compare holds, all or nothing, at one new revision.
//!
//! Watches deliver every change under a prefix in revision order, exactly
//! once, starting at any revision not yet compacted. Leases expire keys.
//!
//! Backends live in their own modules and are chosen by [`Backend`]: the
//! in-memory one for tests and load runs, and redb as the embedded durable
//! default (group commit: concurrent writers share one append and fsync of
//! a write-ahead log; redb is updated from it in the background). The etcd
//! backend joins later and must pass the same conformance suite
//! (`store/tests/conformance.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod checkpoint;
mod codec;
mod crc;
mod engine;
mod memory;
mod mvcc;
mod redb_backend;
mod wal;
mod watch;

pub use bytes_alias::Bytes;

mod bytes_alias {
    //! Values are shared, immutable byte buffers: cheap to clone into many
    //! watch events and responses.
    pub type Bytes = std::sync::Arc<[u8]>;
}

/// Global store revision. Revision 0 means "nothing written yet"; the first
/// write is revision 1, as in etcd.
pub type Revision = i64;

/// Lease identifier; never 0 (0 means "no lease" in [`KeyValue::lease`]).
pub type LeaseId = i64;

/// Boxed future returned by [`Store`] methods, so the trait stays object-safe
/// and the apiserver can hold an `Arc<dyn Store>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// One key with its value and MVCC metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created the key (since its last delete).
    pub create_revision: Revision,
    /// Revision of the last write to the key.
    pub mod_revision: Revision,
    /// Writes since creation: 1 after create, +1 per update.
    pub version: i64,
    /// Lease the key is attached to, 0 for none.
    pub lease: LeaseId,
}

/// A range read: one key, or every key starting with `prefix`.
#[derive(Clone, Debug, Default)]
pub struct RangeRequest {
    /// Keys starting with this string (exact key if `exact` is set).
    pub prefix: String,
    pub exact: bool,
    /// Start after this key (exclusive): the continue token of a paged list.
    pub start_after: Option<String>,
    /// At most this many keys; 0 = unlimited.
    pub limit: usize,
    /// Read as of this revision; `None` = latest. Below the compaction point
    /// this fails with [`StoreError::Compacted`].
    pub revision: Option<Revision>,
    /// Only count, do not return values.
    pub count_only: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RangeResponse {
    /// Keys in ascending byte order.
    pub kvs: Vec<KeyValue>,
    /// More keys matched than `limit` allowed.
    pub more: bool,
    /// Total keys matching the prefix (ignoring limit and start_after).
    pub count: usize,
    /// The revision this read observed (the store revision when read at latest).
    pub revision: Revision,
}

/// What a [`Compare`] inspects on the key's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareTarget {
    /// The key's mod revision equals this value (0 = the key does not exist).
    ModRevision(Revision),
    /// The key's create revision equals this value (0 = the key does not exist).
    CreateRevision(Revision),
    /// The key's version equals this value (0 = the key does not exist).
    Version(i64),
    /// The key's value equals these bytes (false if the key is absent).
    Value(Bytes),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compare {
    pub key: String,
    pub target: CompareTarget,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Write `value`; `lease` 0 detaches the key from any lease.
    Put {
        key: String,
        value: Bytes,
        lease: LeaseId,
    },
    /// Delete one key (no-op if absent).
    Delete { key: String },
    /// Delete every key with this prefix.
    DeletePrefix { prefix: String },
    /// Read one key as of the transaction.
    Get { key: String },
}

/// A transaction: if every compare holds, run `success`, else run `failure`.
/// Writes in either branch happen at one new revision; a transaction that
/// writes nothing does not bump the revision.
#[derive(Clone, Debug, Default)]
pub struct Txn {
    pub compares: Vec<Compare>,
    pub success: Vec<Op>,
    pub failure: Vec<Op>,
}

/// Result of one [`Op`], in the order of the branch that ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// The key as written, and its previous value if any.
    Put {
        kv: KeyValue,
        prev: Option<KeyValue>,
    },
    /// The keys deleted, with their last values.
    Delete {
        deleted: Vec<KeyValue>,
    },
    Get {
        kv: Option<KeyValue>,
    },
}

#[derive(Clone, Debug)]
pub struct TxnResponse {
    /// Every compare held and the success branch ran.
    pub succeeded: bool,
    /// Store revision after the transaction (the new revision if it wrote).
    pub revision: Revision,
    pub results: Vec<OpResult>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

/// One change seen by a watch. For a delete, `kv` holds the key with
/// `mod_revision` = the delete's revision and the value it had before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub kv: KeyValue,
    /// The key's previous state, if it existed before this event.
    pub prev: Option<KeyValue>,
}

/// A stream of event batches, in revision order. Events of one revision are
/// never split across batches. The stream ends with `Err` if the watcher fell
/// so far behind that its start was compacted, or when the store shuts down.
pub type WatchReceiver = tokio::sync::mpsc::Receiver<Result<Vec<Event>, StoreError>>;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error("revision {requested} has been compacted (compacted up to {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    #[error("revision {requested} is in the future (current {current})")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    #[error("lease {0} not found")]
    LeaseNotFound(LeaseId),
    #[error("invalid ttl {ttl_seconds}: must be positive")]
    InvalidTtl { ttl_seconds: i64 },
    #[error("key too large: {size} bytes (limit {limit})")]
    KeyTooLarge { size: usize, limit: usize },
    #[error("value too large: {size} bytes (limit {limit})")]
    ValueTooLarge { size: usize, limit: usize },
    #[error("duplicate key {0} in one transaction")]
    DuplicateKey(String),
    /// An I/O or fsync failure; the write it belonged to was not applied.
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("store is closed")]
    Closed,
}

/// Which backend to open, and where.
#[derive(Clone, Debug)]
pub enum Backend {
    Memory,
    /// Embedded durable store in this directory.
    Redb {
        data_dir: std::path::PathBuf,
    },
}

/// A backend name that [`Backend::parse`] does not know.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("unknown store backend {0:?}: expected \"memory\" or \"redb\"")]
pub struct UnknownBackend(pub String);

impl Backend {
    /// Parse a backend name as given on a command line: `"memory"`, or
    /// `"redb"` (stored in `data_dir`).
    pub fn parse(
        name: &str,
        data_dir: impl Into<std::path::PathBuf>,
    ) -> Result<Backend, UnknownBackend> {
        match name {
            "memory" => Ok(Backend::Memory),
            "redb" => Ok(Backend::Redb {
                data_dir: data_dir.into(),
            }),
            other => Err(UnknownBackend(other.to_string())),
        }
    }
}

/// Test hook for durable backends: while failing is switched on, every
/// commit's fsync fails (after its bytes were written) and its writers get
/// [`StoreError::Io`].
#[derive(Clone, Debug, Default)]
pub struct FaultInjection {
    /// Shared with the commit thread, which reads it before each commit.
    fail_commits: Arc<AtomicBool>,
}

impl FaultInjection {
    pub fn set_fail_commits(&self, fail: bool) {
        self.fail_commits.store(fail, Ordering::SeqCst);
    }

    pub(crate) fn fail_commits(&self) -> bool {
        self.fail_commits.load(Ordering::SeqCst)
    }
}

/// The clock lease deadlines are measured on: the monotonic clock, plus
/// however far tests have moved it forward. Tests expire leases with
/// [`LeaseClock::advance`] instead of waiting for a short TTL, which a slow
/// machine may outlive before the test has attached its keys.
#[derive(Clone, Debug, Default)]
pub struct LeaseClock {
    /// Nanoseconds added to `Instant::now()`; shared by every clone.
    offset_nanos: Arc<AtomicU64>,
}

impl LeaseClock {
    /// Moves the clock forward by `by`: leases whose deadline is now past
    /// expire at the next lease check.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                Some(offset.saturating_add(nanos))
            });
    }

    pub(crate) fn now(&self) -> Instant {
        let now = Instant::now();
        let offset = Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst));
        now.checked_add(offset).unwrap_or(now)
    }
}

/// Timers and limits; tests shorten the timers.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// How often expired leases are swept.
    pub lease_check_interval: Duration,
    /// Keep at least this many revisions of history before automatic compaction;
    /// 0 disables automatic compaction.
    pub auto_compact_retain_revisions: i64,
    /// How often automatic compaction runs.
    pub auto_compact_interval: Duration,
    /// Largest value accepted, in bytes.
    pub max_value_bytes: usize,
    /// Capacity (in batches) of each watcher's channel before it is caught
    /// up from history instead of being sent to directly.
    pub watch_channel_batches: usize,
    /// Largest key accepted, in bytes.
    pub max_key_bytes: usize,
    /// Durable backends: most write requests applied in one commit (one
    /// fsync). 1 means one fsync per write.
    pub max_commit_batch: usize,
    /// Durable backends: test hook to make commits fail.
    pub fault_injection: Option<FaultInjection>,
    /// Lease deadlines' clock; tests move it forward.
    pub lease_clock: LeaseClock,
    /// redb backend: how long write-ahead log batches may wait before they
    /// are applied to redb (one durable redb transaction per checkpoint).
    /// Longer means less redb work per write and a longer log to replay
    /// after a crash.
    pub checkpoint_interval: Duration,
    /// redb backend: start a new write-ahead log segment once the current
    /// one holds this many bytes. Segments are deleted once checkpointed.
    pub wal_segment_bytes: u64,
    /// redb backend: memory redb may use to cache its pages. Reads are
    /// served from the in-memory index, so redb only needs pages for the
    /// checkpoints' writes; a large cache mostly holds history nobody reads.
    pub redb_cache_bytes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            lease_check_interval: Duration::from_millis(500),
            auto_compact_retain_revisions: 1_000_000,
            auto_compact_interval: Duration::from_secs(60),
            max_value_bytes: 4 * 1024 * 1024,
            watch_channel_batches: 1024,
            max_key_bytes: 64 * 1024,
            max_commit_batch: 1024,
            fault_injection: None,
            lease_clock: LeaseClock::default(),
            checkpoint_interval: Duration::from_millis(200),
            wal_segment_bytes: 64 * 1024 * 1024,
            redb_cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The store. All methods are safe to call concurrently. Writes return once
/// durable (for durable backends): an acknowledged write survives `kill -9`,
/// and an I/O error is returned, never acknowledged.
pub trait Store: Send + Sync + 'static {
    /// Current revision (of the last applied write).
    fn current_revision(&self) -> Revision;

    /// Lowest revision still readable/watchable; reads below it fail.
    fn compacted_revision(&self) -> Revision;

    fn range(&self, req: RangeRequest) -> StoreFuture<'_, RangeResponse>;

    fn txn(&self, txn: Txn) -> StoreFuture<'_, TxnResponse>;

    /// Watch every key starting with `prefix`, delivering all events with
    /// revision >= `from` (0 or `current+1` = only future events).
    fn watch(&self, prefix: &str, from: Revision) -> Result<WatchReceiver, StoreError>;

    /// Discard history below `revision`.
    fn compact(&self, revision: Revision) -> StoreFuture<'_, ()>;

    fn lease_grant(&self, ttl: Duration) -> StoreFuture<'_, LeaseId>;

    /// Renew the lease; returns the TTL it was granted with.
    fn lease_keep_alive(&self, id: LeaseId) -> StoreFuture<'_, Duration>;

    /// Revoke the lease, deleting its keys (watchers see the deletes).
    fn lease_revoke(&self, id: LeaseId) -> StoreFuture<'_, ()>;
}

/// Convenience operations every backend gets for free.
pub trait StoreExt: Store {
    fn get(&self, key: &str) -> StoreFuture<'_, Option<KeyValue>> {
        let req = RangeRequest {
            prefix: key.to_string(),
            exact: true,
            ..Default::default()
        };
        Box::pin(async move { Ok(self.range(req).await?.kvs.into_iter().next()) })
    }

    /// Create `key` only if absent. Returns `Ok(None)` if it already existed.
    fn create(&self, key: &str, value: Bytes, lease: LeaseId) -> StoreFuture<'_, Option<KeyValue>> {
        let txn = Txn {
            compares: vec![Compare {
                key: key.to_string(),
                target: CompareTarget::ModRevision(0),
            }],
            success: vec![Op::Put {
                key: key.to_string(),
                value,
                lease,
            }],
            failure: vec![],
        };
        Box::pin(async move { Ok(put_result(self.txn(txn).await?)) })
    }

    /// Update `key` only if its mod revision is `expected`. `Ok(None)` on mismatch.
    fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        lease: LeaseId,
    ) -> StoreFuture<'_, Option<KeyValue>> {
        let txn = Txn {
            compares: vec![Compare {
                key: key.to_string(),
                target: CompareTarget::ModRevision(expected),
            }],
            success: vec![Op::Put {
                key: key.to_string(),
                value,
                lease,
            }],
            failure: vec![],
        };
        Box::pin(async move { Ok(put_result(self.txn(txn).await?)) })
    }

    /// Delete `key` only if its mod revision is `expected` (any, if `None`).
    /// Returns the deleted key, or `Ok(None)` on mismatch or absence.
    fn delete(&self, key: &str, expected: Option<Revision>) -> StoreFuture<'_, Option<KeyValue>> {
        let compares = match expected {
            Some(rev) => vec![Compare {
                key: key.to_string(),
                target: CompareTarget::ModRevision(rev),
            }],
            None => vec![],
        };
        let txn = Txn {
            compares,
            success: vec![Op::Delete {
                key: key.to_string(),
            }],
            failure: vec![],
        };
        Box::pin(async move {
            let resp = self.txn(txn).await?;
            if !resp.succeeded {
                return Ok(None);
            }
            Ok(resp.results.into_iter().find_map(|r| match r {
                OpResult::Delete { mut deleted } => deleted.pop(),
                _ => None,
            }))
        })
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

fn put_result(resp: TxnResponse) -> Option<KeyValue> {
    if !resp.succeeded {
        return None;
    }
    resp.results.into_iter().find_map(|r| match r {
        OpResult::Put { kv, .. } => Some(kv),
        _ => None,
    })
}

/// Open a store. For `Backend::Redb` the directory is created if missing and
/// existing data (revision, keys, leases, recent history) is recovered.
///
/// Background work (lease expiry, compaction, watch catch-up) runs on the
/// calling tokio runtime if there is one, else on a small runtime owned by
/// the store.
pub fn open(backend: &Backend, config: StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    let runtime = engine::BackgroundRuntime::current_or_new()?;
    match backend {
        Backend::Memory => {
            let shared = engine::Shared::new(mvcc::Core::new(), config, runtime.handle());
            let committer = memory::MemoryCommitter {
                shared: shared.clone(),
            };
            Ok(engine::Engine::start(shared, committer, runtime))
        }
        Backend::Redb { data_dir } => redb_backend::open(data_dir, config, runtime),
    }
}
