//! The redb backend: the shared in-memory core serves reads and watches;
//! redb makes writes durable.
//!
//! Tables: `kv` (latest value and metadata per key), `log` (the events of
//! every revision since the compaction point, so reads at old revisions and
//! watches from old revisions work after a restart), `leases` (id → TTL) and
//! `meta` (revision, compacted revision, next lease id). Opening recovers the
//! core from them; lease deadlines restart at open, as in etcd.
//!
//! Group commit: writers queue requests for one commit thread, which takes
//! everything queued (up to `max_commit_batch`), plans it in order against
//! the core (each request sees the ones before it), writes the whole batch
//! in one redb transaction with one fsync, and only then applies it to the
//! core, publishes watch events and answers the writers. If the commit fails,
//! every writer of the batch gets [`StoreError::Io`] and nothing of the batch
//! becomes visible.

use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use crate::codec;
use crate::engine::{BackgroundRuntime, Committer, Engine, Shared};
use crate::mvcc::{Change, Core, LogEntry, Planner, Recovered, Reply, Request};
use crate::{EventKind, FaultInjection, Store, StoreConfig, StoreError, StoreFuture};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const LOG: TableDefinition<i64, &[u8]> = TableDefinition::new("log");
/// Lease id → TTL in microseconds.
const LEASES: TableDefinition<i64, u64> = TableDefinition::new("leases");
const META: TableDefinition<&str, i64> = TableDefinition::new("meta");

const META_REVISION: &str = "revision";
const META_COMPACTED: &str = "compacted";
const META_NEXT_LEASE_ID: &str = "next_lease_id";

const DB_FILE: &str = "store.redb";

fn io(context: &str) -> impl Fn(&dyn Display) -> StoreError + '_ {
    move |e| StoreError::Io(format!("{context}: {e}"))
}

macro_rules! io_err {
    ($context:expr) => {
        |e| io($context)(&e)
    };
}

pub(crate) fn open(
    data_dir: &Path,
    config: StoreConfig,
    runtime: BackgroundRuntime,
) -> Result<Arc<dyn Store>, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(io_err!("creating data directory"))?;
    let db = Database::builder()
        .create(data_dir.join(DB_FILE))
        .map_err(io_err!("opening database"))?;
    let recovered = recover(&db)?;
    let core = Core::recover(recovered, Instant::now());
    let shared = Shared::new(core, config, runtime.handle());
    let committer = RedbCommitter::start(db, shared.clone())?;
    Ok(Engine::start(shared, committer, runtime))
}

/// Create missing tables and read everything back.
fn recover(db: &Database) -> Result<Recovered, StoreError> {
    let txn = db.begin_write().map_err(io_err!("begin write"))?;
    txn.open_table(KV).map_err(io_err!("creating table"))?;
    txn.open_table(LOG).map_err(io_err!("creating table"))?;
    txn.open_table(LEASES).map_err(io_err!("creating table"))?;
    txn.open_table(META).map_err(io_err!("creating table"))?;
    txn.commit().map_err(io_err!("commit"))?;

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
    let kv = txn.open_table(KV).map_err(io_err!("open kv"))?;
    for item in kv.iter().map_err(io_err!("read kv"))? {
        let (key, value) = item.map_err(io_err!("read kv"))?;
        state
            .latest
            .push(codec::decode_kv(key.value(), value.value())?);
    }
    let log = txn.open_table(LOG).map_err(io_err!("open log"))?;
    for item in log.iter().map_err(io_err!("read log"))? {
        let (revision, events) = item.map_err(io_err!("read log"))?;
        let events = codec::decode_events(events.value())?;
        state.log.push(LogEntry {
            revision: revision.value(),
            events: events.into(),
        });
    }
    let leases = txn.open_table(LEASES).map_err(io_err!("open leases"))?;
    for item in leases.iter().map_err(io_err!("read leases"))? {
        let (id, ttl_micros) = item.map_err(io_err!("read leases"))?;
        state
            .leases
            .push((id.value(), Duration::from_micros(ttl_micros.value())));
    }
    Ok(state)
}

/// One queued write and where to send its answer.
struct Submission {
    request: Request,
    reply: oneshot::Sender<Result<Reply, StoreError>>,
}

/// Queues writes for the commit thread.
pub(crate) struct RedbCommitter {
    /// Queue to the commit thread; dropped first on shutdown so the thread
    /// drains what is queued and exits.
    queue: Option<channel::Sender<Submission>>,
    /// The commit thread, joined on drop so the database file is closed
    /// when the store is gone.
    thread: Option<JoinHandle<()>>,
}

impl RedbCommitter {
    fn start(db: Database, shared: Arc<Shared>) -> Result<RedbCommitter, StoreError> {
        let (queue, receiver) = channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || commit_loop(&db, &shared, &receiver))
            .map_err(io_err!("starting commit thread"))?;
        Ok(RedbCommitter {
            queue: Some(queue),
            thread: Some(thread),
        })
    }
}

impl Drop for RedbCommitter {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("store commit thread panicked");
        }
    }
}

impl Committer for RedbCommitter {
    fn submit(&self, request: Request) -> StoreFuture<'_, Reply> {
        let (reply, answer) = oneshot::channel();
        let queued = self
            .queue
            .as_ref()
            .is_some_and(|q| q.send(Submission { request, reply }).is_ok());
        Box::pin(async move {
            if !queued {
                return Err(StoreError::Closed);
            }
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }
}

fn commit_loop(db: &Database, shared: &Shared, receiver: &channel::Receiver<Submission>) {
    let max_batch = shared.config.max_commit_batch.max(1);
    let fault = shared.config.fault_injection.as_ref();
    let mut batch = Vec::with_capacity(max_batch.min(4096));
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let now = Instant::now();
        let mut changes = Vec::new();
        let mut answers = Vec::with_capacity(batch.len());
        {
            let core = shared.read_core();
            let mut planner = Planner::new(&core, &shared.config, now);
            for submission in batch.drain(..) {
                let result = planner.plan(submission.request, &mut changes);
                answers.push((submission.reply, result));
            }
        }
        if !changes.is_empty()
            && let Err(error) = persist(db, &changes, fault)
        {
            tracing::error!(%error, "store commit failed");
            for (reply, result) in answers {
                let _ = reply.send(result.and(Err(error.clone())));
            }
            continue;
        }
        {
            let mut core = shared.write_core();
            shared.apply(&mut core, &changes, now);
        }
        for (reply, result) in answers {
            // The writer may have stopped waiting; its write stands.
            let _ = reply.send(result);
        }
    }
}

/// Write a batch of changes in one durable transaction.
fn persist(
    db: &Database,
    changes: &[Change],
    fault: Option<&FaultInjection>,
) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(io_err!("begin write"))?;
    txn.set_durability(Durability::Immediate)
        .map_err(io_err!("set durability"))?;
    {
        let mut kv = txn.open_table(KV).map_err(io_err!("open kv"))?;
        let mut log = txn.open_table(LOG).map_err(io_err!("open log"))?;
        let mut leases = txn.open_table(LEASES).map_err(io_err!("open leases"))?;
        let mut meta = txn.open_table(META).map_err(io_err!("open meta"))?;
        for change in changes {
            match change {
                Change::Write(entry) => {
                    for event in entry.events.iter() {
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
                    log.insert(
                        entry.revision,
                        codec::encode_events(&entry.events).as_slice(),
                    )
                    .map_err(io_err!("write log"))?;
                    meta.insert(META_REVISION, entry.revision)
                        .map_err(io_err!("write meta"))?;
                }
                Change::LeaseGrant { id, ttl } => {
                    let ttl_micros = u64::try_from(ttl.as_micros()).unwrap_or(u64::MAX);
                    leases
                        .insert(*id, ttl_micros)
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
                    log.retain_in(..*revision, |_, _| false)
                        .map_err(io_err!("compact log"))?;
                }
            }
        }
    }
    if fault.is_some_and(FaultInjection::fail_commits) {
        txn.abort().map_err(io_err!("abort"))?;
        return Err(StoreError::Io("injected commit failure".to_string()));
    }
    txn.commit().map_err(io_err!("commit"))
}
