//! The redb backend: the shared in-memory core serves reads and watches; a
//! write-ahead log makes writes durable, and redb holds the checkpointed
//! state so the log stays short.
//!
//! Layout of the data directory: `store.redb` (tables described in
//! `checkpoint.rs`) and `wal/` (segments described in `wal.rs`).
//!
//! Group commit: writers queue requests for one commit thread, which takes
//! everything queued (up to `max_commit_batch`), plans it in order against
//! the core (each request sees the ones before it), appends the whole batch
//! to the log as one record with one fsync, and only then applies it to the
//! core, publishes watch events and answers the writers. If the append fails,
//! every writer of the batch gets [`StoreError::Io`], nothing of the batch
//! becomes visible, and the log is cut back so it cannot reappear. The batch
//! then goes to the checkpointer thread, which applies batches to redb in the
//! background and deletes the log segments they came from.
//!
//! Opening recovers: read redb, replay the log records past redb's applied
//! sequence number (dropping a torn tail), checkpoint them, and start a new
//! log segment. Lease deadlines restart at open, as in etcd.

use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

use crossbeam::channel;
use redb::Database;
use tokio::sync::oneshot;

use crate::checkpoint::{self, Batch, LogFiles};
use crate::engine::{BackgroundRuntime, Committer, Engine, Shared};
use crate::mvcc::{Core, Planner, Reply, Request};
use crate::wal::{self, Wal};
use crate::{Store, StoreConfig, StoreError, StoreFuture};

const DB_FILE: &str = "store.redb";
const WAL_DIR: &str = "wal";

/// Batches the commit thread may hand to the checkpointer before it waits
/// for it (back-pressure when redb falls behind the log).
const CHECKPOINT_QUEUE_BATCHES: usize = 4096;

/// How many times the commit thread yields to late writers when the queue
/// is empty before it closes a batch.
const BATCH_FILL_YIELDS: usize = 2;

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
        .set_cache_size(config.redb_cache_bytes)
        .create(data_dir.join(DB_FILE))
        .map_err(io_err!("opening database"))?;
    let wal_dir = data_dir.join(WAL_DIR);
    let next_seq = replay_wal(&db, &wal_dir)?;
    let core = Core::recover(checkpoint::read_state(&db)?, config.lease_clock.now());
    let log_files = LogFiles {
        dir: wal_dir,
        segment_bytes: config.wal_segment_bytes,
        spare_wanted: Arc::new(AtomicBool::new(false)),
    };
    let wal = Wal::create(
        &log_files.dir,
        next_seq,
        log_files.segment_bytes,
        log_files.spare_wanted.clone(),
    )?;
    // Every older segment is now covered by redb.
    checkpoint::remove_covered(&log_files.dir, next_seq - 1)?;
    let shared = Shared::new(core, config, runtime.handle());
    let committer = RedbCommitter::start(db, wal, log_files, shared.clone())?;
    Ok(Engine::start(shared, committer, runtime))
}

/// Apply log records that redb has not seen yet to redb, durably. Returns
/// the sequence number the next record gets.
fn replay_wal(db: &Database, wal_dir: &Path) -> Result<u64, StoreError> {
    let applied = checkpoint::init(db)?;
    let records = wal::read_all(wal_dir)?;
    let last_seq = records.last().map_or(applied, |r| r.seq.max(applied));
    let batches: Vec<Batch> = records
        .into_iter()
        .filter(|r| r.seq > applied)
        .map(|r| Batch {
            seq: r.seq,
            changes: r.changes,
        })
        .collect();
    if let Some(first) = batches.first()
        && first.seq != applied + 1
    {
        return Err(StoreError::Io(format!(
            "write-ahead log starts at record {} but redb has applied only up to {applied}",
            first.seq
        )));
    }
    if !batches.is_empty() {
        tracing::info!(records = batches.len(), "replaying write-ahead log");
        checkpoint::apply(db, &batches)?;
    }
    Ok(last_seq + 1)
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
    /// The commit thread, joined on drop. It owns the log and the sending
    /// side of the checkpointer's queue, so its exit lets the checkpointer
    /// apply what is pending and exit too.
    commit_thread: Option<JoinHandle<()>>,
    /// The checkpointer thread, joined on drop after the commit thread so
    /// the database file is closed when the store is gone.
    checkpoint_thread: Option<JoinHandle<()>>,
}

impl RedbCommitter {
    fn start(
        db: Database,
        wal: Wal,
        log_files: LogFiles,
        shared: Arc<Shared>,
    ) -> Result<RedbCommitter, StoreError> {
        let (queue, receiver) = channel::unbounded();
        let (to_checkpoint, checkpoint_receiver) = channel::bounded(CHECKPOINT_QUEUE_BATCHES);
        let interval = shared.config.checkpoint_interval;
        let checkpoint_thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || checkpoint::run(&db, &log_files, &checkpoint_receiver, interval))
            .map_err(io_err!("starting checkpoint thread"))?;
        let commit_thread = std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || commit_loop(wal, &shared, &receiver, &to_checkpoint))
            .map_err(io_err!("starting commit thread"))?;
        Ok(RedbCommitter {
            queue: Some(queue),
            commit_thread: Some(commit_thread),
            checkpoint_thread: Some(checkpoint_thread),
        })
    }
}

impl Drop for RedbCommitter {
    fn drop(&mut self) {
        self.queue.take();
        for thread in [self.commit_thread.take(), self.checkpoint_thread.take()]
            .into_iter()
            .flatten()
        {
            if thread.join().is_err() {
                tracing::error!("store thread panicked");
            }
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

fn commit_loop(
    mut wal: Wal,
    shared: &Shared,
    receiver: &channel::Receiver<Submission>,
    to_checkpoint: &channel::Sender<Batch>,
) {
    let max_batch = shared.config.max_commit_batch.max(1);
    let fault = shared.config.fault_injection.as_ref();
    let mut batch = Vec::with_capacity(max_batch.min(4096));
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        // Writers answered by the previous commit are still resubmitting:
        // when the queue runs dry, let them run briefly before closing the
        // batch, so one fsync covers more of them.
        let mut idle_yields = 0;
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(next) => {
                    batch.push(next);
                    idle_yields = 0;
                }
                Err(_) if idle_yields < BATCH_FILL_YIELDS => {
                    idle_yields += 1;
                    std::thread::yield_now();
                }
                Err(_) => break,
            }
        }
        let now = shared.config.lease_clock.now();
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
        if changes.is_empty() {
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
            continue;
        }
        let seq = match wal.append(&changes, fault) {
            Ok(seq) => seq,
            Err(error) => {
                tracing::error!(%error, "store commit failed");
                for (reply, result) in answers {
                    let _ = reply.send(result.and(Err(error.clone())));
                }
                continue;
            }
        };
        {
            let mut core = shared.write_core();
            shared.apply(&mut core, &changes, now);
        }
        for (reply, result) in answers {
            // The writer may have stopped waiting; its write stands.
            let _ = reply.send(result);
        }
        if to_checkpoint.send(Batch { seq, changes }).is_err() {
            tracing::error!("checkpointer stopped; the write-ahead log will grow until restart");
        }
    }
}
