//! Write-ahead log tests for the redb backend: a crash before any checkpoint
//! loses nothing, a torn log tail is dropped on recovery while earlier
//! records survive, and checkpointed log segments are deleted.
//!
//! Crash tests re-run this test binary as a child with `SKIFF_STORE_WAL_CHILD`
//! set to `<data dir>;<segment bytes>`, selecting `wal_child_writer`: it
//! opens the store with checkpoints effectively paused (one per hour), so
//! every write lives only in the log, grants a lease, writes and compacts a
//! little history, then writes keys from several tasks and prints each
//! acknowledged key with its revision. The parent SIGKILLs it mid-stream.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use store::{Backend, EventKind, StoreConfig, StoreExt};

use crate::suite::{put, recv_events, val, wait_until};
use crate::test_config;

const CHILD_ENV: &str = "SKIFF_STORE_WAL_CHILD";
const CHILD_WRITERS: usize = 8;
const PAUSED: Duration = Duration::from_secs(3600);

fn paused_checkpoints(segment_bytes: u64) -> StoreConfig {
    StoreConfig {
        checkpoint_interval: PAUSED,
        wal_segment_bytes: segment_bytes,
        ..test_config()
    }
}

fn wal_segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(data_dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    segments.sort();
    segments
}

/// Child side of the crash tests; does nothing unless started by the parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (dir, segment_bytes) = spec.split_once(';').unwrap();
    let store = store::open(
        &Backend::Redb {
            data_dir: dir.into(),
        },
        paused_checkpoints(segment_bytes.parse().unwrap()),
    )
    .unwrap();
    let mut stdout = std::io::stdout().lock();
    let lease = store.lease_grant(Duration::from_secs(600)).await.unwrap();
    store
        .create("/hist/leased", val("l"), lease)
        .await
        .unwrap()
        .unwrap();
    for i in 0..5 {
        put(&*store, "/hist/a", &format!("a{i}")).await;
    }
    store.compact(3).await.unwrap();
    writeln!(stdout, "LEASE {lease}").unwrap();
    let (acks, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<(String, i64)>();
    for writer in 0..CHILD_WRITERS {
        let store = store.clone();
        let acks = acks.clone();
        tokio::spawn(async move {
            for i in 0.. {
                let key = format!("/wal/{writer}/{i}");
                let kv = store
                    .create(&key, val("payload"), 0)
                    .await
                    .unwrap()
                    .unwrap();
                if acks.send((key, kv.mod_revision)).is_err() {
                    return;
                }
            }
        });
    }
    while let Some((key, revision)) = ack_rx.recv().await {
        writeln!(stdout, "ACK {key} {revision}").unwrap();
        stdout.flush().unwrap();
    }
}

/// What the child acknowledged before it was killed.
struct ChildRun {
    lease: i64,
    /// Acknowledged key → its mod revision.
    acked: BTreeMap<String, i64>,
}

/// Run the child on `data_dir` until it acknowledged `n_acks` writes, then
/// SIGKILL it.
async fn run_child_and_kill(data_dir: &Path, segment_bytes: u64, n_acks: usize) -> ChildRun {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "wal::wal_child_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, format!("{};{segment_bytes}", data_dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut run = ChildRun {
            lease: 0,
            acked: BTreeMap::new(),
        };
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness's "test ... " header may share the first line.
            if let Some((_, lease)) = line.split_once("LEASE ") {
                run.lease = lease.parse().unwrap();
            } else if let Some(ack) = line.strip_prefix("ACK ") {
                let (key, revision) = ack.split_once(' ').unwrap();
                run.acked.insert(key.to_string(), revision.parse().unwrap());
                if run.acked.len() == n_acks {
                    break;
                }
            }
        }
        run
    });
    let run = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(run.acked.len(), n_acks, "child acknowledged too few writes");
    assert_ne!(run.lease, 0, "child granted no lease");
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_before_checkpoint_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let run = run_child_and_kill(&data_dir, 16 * 1024, 1500).await;
    assert!(
        wal_segments(&data_dir).len() > 1,
        "writes should span several log segments"
    );
    let store = store::open(
        &Backend::Redb {
            data_dir: data_dir.clone(),
        },
        test_config(),
    )
    .unwrap();
    let max_acked = run.acked.values().copied().max().unwrap();
    assert!(store.current_revision() >= max_acked);
    assert_eq!(store.compacted_revision(), 3);
    for (key, revision) in &run.acked {
        let kv = store.get(key).await.unwrap();
        assert_eq!(
            kv.map(|kv| kv.mod_revision),
            Some(*revision),
            "acknowledged {key} lost or changed"
        );
    }
    // The replayed log was checkpointed at open: one fresh segment remains.
    assert_eq!(wal_segments(&data_dir).len(), 1);
    // History since the compaction point replays to a watcher.
    let mut rx = store.watch("/hist/", 3).unwrap();
    let events: Vec<_> = recv_events(&mut rx, 4).await.concat();
    let values: Vec<_> = events.iter().map(|e| e.kv.value.clone()).collect();
    assert_eq!(values, [val("a1"), val("a2"), val("a3"), val("a4")]);
    // The lease survived and still owns its key.
    store.lease_revoke(run.lease).await.unwrap();
    assert!(store.get("/hist/leased").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_wal_tail_is_dropped_and_earlier_records_survive() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let run = run_child_and_kill(&data_dir, 1 << 30, 500).await;
    let segments = wal_segments(&data_dir);
    assert_eq!(segments.len(), 1);
    // Cut the last record short, as a crash in the middle of its append would.
    let len = std::fs::metadata(&segments[0]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segments[0])
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let backend = Backend::Redb { data_dir };
    let store = store::open(&backend, test_config()).unwrap();
    let recovered = store.current_revision();
    let max_acked = run.acked.values().copied().max().unwrap();
    // One record holds one commit batch: at most one write per writer.
    assert!(
        recovered >= max_acked - CHILD_WRITERS as i64,
        "recovered revision {recovered}, acknowledged up to {max_acked}"
    );
    for (key, revision) in run.acked.iter().filter(|(_, rev)| **rev <= recovered) {
        let kv = store.get(key).await.unwrap();
        assert_eq!(kv.map(|kv| kv.mod_revision), Some(*revision), "{key}");
    }
    // The store keeps working past the dropped tail, across restarts.
    let next = put(&*store, "/after/torn", "x").await;
    assert_eq!(next, recovered + 1);
    drop(store);
    let store = store::open(&backend, test_config()).unwrap();
    assert_eq!(store.current_revision(), next);
    let kv = store.get("/after/torn").await.unwrap().unwrap();
    assert_eq!(kv.mod_revision, next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_segments_are_removed_after_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let backend = Backend::Redb {
        data_dir: data_dir.clone(),
    };
    let config = StoreConfig {
        checkpoint_interval: Duration::from_millis(5),
        wal_segment_bytes: 4096,
        ..test_config()
    };
    let store = store::open(&backend, config.clone()).unwrap();
    let value = "v".repeat(200);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = Arc::clone(&store);
            let value = value.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    put(&*store, &format!("/seg/{w}/{i}"), &value).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    // 400 writes of > 200 bytes filled about 20 segments of 4 KiB.
    wait_until("checkpointed segments deleted", || {
        let data_dir = data_dir.clone();
        async move { wal_segments(&data_dir).len() <= 1 }
    })
    .await;
    drop(store);
    let store = store::open(&backend, config).unwrap();
    assert_eq!(store.current_revision(), 400);
    let kv = store.get("/seg/3/99").await.unwrap().unwrap();
    assert_eq!(kv.value, val(&value));
    let mut events = store.watch("/seg/0/", 1).unwrap();
    let batches = recv_events(&mut events, 100).await;
    assert!(batches.concat().iter().all(|e| e.kind == EventKind::Put));
}
