//! The redb side of the redb backend: its tables, reading them back at
//! open, and the checkpointer that brings them up to date from the batches
//! already made durable by the write-ahead log (`wal.rs`).
//!
//! Tables: `log` (the events of every revision since the compaction point,
//! so reads at old revisions and watches from old revisions work after a
//! restart), `kv` (every key's value as of the compaction point: compaction
//! folds the log entries it drops into it), `leases` (id → TTL) and `meta`
//! (revision, compacted revision, next lease id, and the sequence number of
//! the last log record applied).
//!
//! A write costs one `log` insert per revision. Events are stored without
//! their previous values: reading back replays the log over `kv`, which
//! gives each event its previous value and each key its latest.
//!
//! The checkpointer runs on its own thread, off the ack path. It collects
//! batches for up to `checkpoint_interval` (or until enough are pending),
//! writes them all in one durable redb transaction that also records the
//! last applied sequence number, and then deletes the log segments that
//! transaction covers. A failed checkpoint keeps its batches and is retried:
//! the log still holds them, so nothing is lost meanwhile.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam::channel::{self, RecvTimeoutError};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::codec;
use crate::mvcc::{Change, LogEntry, Recovered};
use crate::wal;
use crate::{EventKind, KeyValue, StoreError};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// Key → metadata of values in `LOG`: kept by earlier versions, dropped at
/// open (replaying the log finds the same values).
const KV_REF: TableDefinition<&str, &[u8]> = TableDefinition::new("kv_ref");
const LOG: TableDefinition<i64, &[u8]> = TableDefinition::new("log");
/// Lease id → TTL in microseconds.
const LEASES: TableDefinition<i64, u64> = TableDefinition::new("leases");
const META: TableDefinition<&str, i64> = TableDefinition::new("meta");

const META_REVISION: &str = "revision";
const META_COMPACTED: &str = "compacted";
const META_NEXT_LEASE_ID: &str = "next_lease_id";
/// Sequence number of the last write-ahead log record applied to redb.
const META_APPLIED_SEQ: &str = "wal_applied_seq";

/// Checkpoint early once this many changes are pending, to bound memory and
/// the size of one redb transaction.
const MAX_PENDING_CHANGES: usize = 200_000;

fn io(context: &str) -> impl Fn(&dyn Display) -> StoreError + '_ {
    move |e| StoreError::Io(format!("{context}: {e}"))
}

macro_rules! io_err {
    ($context:expr) => {
        |e| io($context)(&e)
    };
}

/// One batch made durable by the log, to be applied to redb.
pub(crate) struct Batch {
    pub(crate) seq: u64,
    pub(crate) changes: Vec<Change>,
}

/// Create missing tables; return the last applied log sequence number.
pub(crate) fn init(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_write().map_err(io_err!("begin write"))?;
    txn.open_table(KV).map_err(io_err!("creating table"))?;
    txn.delete_table(KV_REF)
        .map_err(io_err!("dropping old table"))?;
    txn.open_table(LOG).map_err(io_err!("creating table"))?;
    txn.open_table(LEASES).map_err(io_err!("creating table"))?;
    let applied = {
        let meta = txn.open_table(META).map_err(io_err!("creating table"))?;
        meta.get(META_APPLIED_SEQ)
            .map_err(io_err!("read meta"))?
            .map_or(0, |v| v.value())
    };
    txn.commit().map_err(io_err!("commit"))?;
    Ok(u64::try_from(applied).unwrap_or(0))
}

/// Read the whole durable state back.
pub(crate) fn read_state(db: &Database) -> Result<Recovered, StoreError> {
    let txn = db.begin_read().map_err(io_err!("begin read"))?;
    let meta = txn.open_table(META).map_err(io_err!("open meta"))?;
    let meta_value = |name: &str| -> Result<i64, StoreError> {
        Ok(meta
            .get(name)
            .map_err(io_err!("read meta"))?
            .map_or(0, |v| v.value()))
    };
    let mut state = Recovered {
        revision: meta_value(META_REVISION)?,
        compacted: meta_value(META_COMPACTED)?,
        next_lease_id: meta_value(META_NEXT_LEASE_ID)?,
        ..Recovered::default()
    };
    // Each key's value as of the compaction point, then the log replayed
    // over it in order: each event gets its previous value, and the map
    // ends with each key's latest.
    let mut latest: HashMap<String, KeyValue> = HashMap::new();
    let kv = txn.open_table(KV).map_err(io_err!("open kv"))?;
    for item in kv.iter().map_err(io_err!("read kv"))? {
        let (key, value) = item.map_err(io_err!("read kv"))?;
        let kv = codec::decode_kv(key.value(), value.value())?;
        latest.insert(kv.key.clone(), kv);
    }
    let log = txn.open_table(LOG).map_err(io_err!("open log"))?;
    for item in log.iter().map_err(io_err!("read log"))? {
        let (revision, events) = item.map_err(io_err!("read log"))?;
        let mut events = codec::decode_events(events.value())?;
        for event in &mut events {
            event.prev = match event.kind {
                EventKind::Put => latest.insert(event.kv.key.clone(), event.kv.clone()),
                EventKind::Delete => latest.remove(&event.kv.key),
            };
        }
        state.log.push(LogEntry {
            revision: revision.value(),
            events: events.into(),
        });
    }
    state.latest = latest.into_values().collect();
    let leases = txn.open_table(LEASES).map_err(io_err!("open leases"))?;
    for item in leases.iter().map_err(io_err!("read leases"))? {
        let (id, ttl_micros) = item.map_err(io_err!("read leases"))?;
        state
            .leases
            .push((id.value(), Duration::from_micros(ttl_micros.value())));
    }
    Ok(state)
}

/// Apply batches, in order, in one durable transaction that also records
/// the last batch's sequence number as applied.
pub(crate) fn apply(db: &Database, batches: &[Batch]) -> Result<(), StoreError> {
    let Some(last) = batches.last() else {
        return Ok(());
    };
    let mut txn = db.begin_write().map_err(io_err!("begin write"))?;
    txn.set_durability(Durability::Immediate)
        .map_err(io_err!("set durability"))?;
    {
        let mut kv = txn.open_table(KV).map_err(io_err!("open kv"))?;
        let mut log = txn.open_table(LOG).map_err(io_err!("open log"))?;
        let mut leases = txn.open_table(LEASES).map_err(io_err!("open leases"))?;
        let mut meta = txn.open_table(META).map_err(io_err!("open meta"))?;
        for change in batches.iter().flat_map(|b| &b.changes) {
            match change {
                Change::Write(entry) => {
                    log.insert(
                        entry.revision,
                        codec::encode_events(&entry.events).as_slice(),
                    )
                    .map_err(io_err!("write log"))?;
                    meta.insert(META_REVISION, entry.revision)
                        .map_err(io_err!("write meta"))?;
                }
                Change::LeaseGrant { id, ttl } => {
                    leases
                        .insert(*id, codec::ttl_micros(*ttl))
                        .map_err(io_err!("write lease"))?;
                    meta.insert(META_NEXT_LEASE_ID, id + 1)
                        .map_err(io_err!("write meta"))?;
                }
                Change::LeaseRemove { id } => {
                    leases.remove(*id).map_err(io_err!("delete lease"))?;
                }
                Change::Compact { revision } => {
                    meta.insert(META_COMPACTED, *revision)
                        .map_err(io_err!("write meta"))?;
                    fold_into_kv(&log, &mut kv, *revision)?;
                    log.retain_in(..*revision, |_, _| false)
                        .map_err(io_err!("compact log"))?;
                }
            }
        }
        let applied = i64::try_from(last.seq)
            .map_err(|_| StoreError::Io("log sequence number overflow".to_string()))?;
        meta.insert(META_APPLIED_SEQ, applied)
            .map_err(io_err!("write meta"))?;
    }
    txn.commit().map_err(io_err!("commit"))
}

/// Before log entries below `revision` go, apply their events in order to
/// `kv`, so it holds every key's value as of `revision`.
fn fold_into_kv(
    log: &redb::Table<'_, i64, &[u8]>,
    kv: &mut redb::Table<'_, &str, &[u8]>,
    revision: i64,
) -> Result<(), StoreError> {
    for item in log.range(..revision).map_err(io_err!("read log"))? {
        let (_, events) = item.map_err(io_err!("read log"))?;
        for event in codec::decode_events(events.value())? {
            let key = event.kv.key.as_str();
            match event.kind {
                EventKind::Put => {
                    kv.insert(key, codec::encode_kv(&event.kv).as_slice())
                        .map_err(io_err!("write kv"))?;
                }
                EventKind::Delete => {
                    kv.remove(key).map_err(io_err!("delete kv"))?;
                }
            }
        }
    }
    Ok(())
}

/// What the checkpointer works on besides redb.
pub(crate) struct LogFiles {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) segment_bytes: u64,
    /// Set by the commit thread when it will soon want a spare segment.
    pub(crate) spare_wanted: Arc<AtomicBool>,
}

/// The checkpointer thread: apply batches from `receiver` to `db` every
/// `interval`, then delete covered segments of the log (recycling one as the
/// next spare when wanted). On disconnect (store shutdown) it applies what
/// is pending and returns.
pub(crate) fn run(
    db: &Database,
    log_files: &LogFiles,
    receiver: &channel::Receiver<Batch>,
    interval: Duration,
) {
    let mut pending: Vec<Batch> = Vec::new();
    let mut pending_changes = 0;
    let mut deadline: Option<Instant> = None;
    loop {
        let received = match deadline {
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => receiver.recv_deadline(deadline),
        };
        let shutting_down = match received {
            Ok(batch) => {
                pending_changes += batch.changes.len();
                pending.push(batch);
                let first_pending = *deadline.get_or_insert_with(|| Instant::now() + interval);
                if pending_changes < MAX_PENDING_CHANGES && Instant::now() < first_pending {
                    continue;
                }
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        match checkpoint(db, log_files, &pending, shutting_down) {
            Ok(()) => {
                pending.clear();
                pending_changes = 0;
                deadline = None;
            }
            Err(error) => {
                tracing::error!(%error, "checkpoint failed; the write-ahead log keeps the data, retrying");
                deadline = Some(Instant::now() + interval);
            }
        }
        if shutting_down {
            return;
        }
    }
}

fn checkpoint(
    db: &Database,
    log_files: &LogFiles,
    pending: &[Batch],
    shutting_down: bool,
) -> Result<(), StoreError> {
    let Some(last) = pending.last() else {
        return Ok(());
    };
    apply(db, pending)?;
    let dir = &log_files.dir;
    let want_spare = !shutting_down && !wal::spare_exists(dir);
    let recyclable =
        wal::remove_covered(dir, last.seq, want_spare.then_some(log_files.segment_bytes))?;
    if want_spare && (recyclable.is_some() || log_files.spare_wanted.load(Ordering::Acquire)) {
        wal::prepare_spare(dir, recyclable.as_deref(), log_files.segment_bytes)?;
        log_files.spare_wanted.store(false, Ordering::Release);
    }
    Ok(())
}

/// Keep `dir`'s write-ahead log free of segments `applied_seq` covers.
pub(crate) fn remove_covered(dir: &Path, applied_seq: u64) -> Result<(), StoreError> {
    wal::remove_covered(dir, applied_seq, None).map(|_| ())
}
