//! Durability tests for the redb backend: restart, `kill -9`, and injected
//! commit failures (an fsync of the write-ahead log that fails after the
//! batch's bytes were written: the writers get the error and the batch never
//! reappears, not even after a restart).
//!
//! The kill test re-runs this test binary as a child with
//! `SKIFF_STORE_KILL_CHILD_DIR` set, selecting `kill_child_writer`, which
//! writes keys from several tasks and prints each acknowledged key. The
//! parent SIGKILLs it mid-stream and checks every acknowledged key survived.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use store::{Backend, FaultInjection, StoreConfig, StoreError, StoreExt};

use crate::suite::{DEADLINE, put, recv_events, val, wait_until};
use crate::{Factory, test_config};

const CHILD_DIR_ENV: &str = "SKIFF_STORE_KILL_CHILD_DIR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_keys_revisions_leases_and_history() {
    let f = Factory::redb();
    let lease;
    let revision;
    {
        let store = f.open(test_config());
        lease = store.lease_grant(Duration::from_secs(600)).await.unwrap();
        for i in 0..20 {
            put(&*store, &format!("/r/{i:02}"), &format!("v{i}")).await;
        }
        store
            .create("/r/leased", val("x"), lease)
            .await
            .unwrap()
            .unwrap();
        put(&*store, "/r/00", "updated").await;
        store.delete("/r/01", None).await.unwrap().unwrap();
        store.compact(5).await.unwrap();
        revision = store.current_revision();
    }
    let store = f.open(test_config());
    assert_eq!(store.current_revision(), revision);
    assert_eq!(store.compacted_revision(), 5);
    let kv = store.get("/r/00").await.unwrap().unwrap();
    assert_eq!(
        (kv.value, kv.create_revision, kv.version),
        (val("updated"), 1, 2)
    );
    assert!(store.get("/r/01").await.unwrap().is_none());
    assert_eq!(store.get("/r/leased").await.unwrap().unwrap().lease, lease);
    // Reads at old revisions survive the restart.
    let old = store
        .range(store::RangeRequest {
            prefix: "/r/01".into(),
            exact: true,
            revision: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(old.kvs[0].value, val("v1"));
    // Watching from an old revision replays the logged history.
    let mut rx = store.watch("/r/", 18).unwrap();
    let replayed = recv_events(&mut rx, (revision - 18 + 1) as usize).await;
    let last = replayed.last().unwrap().last().unwrap();
    assert_eq!(last.kv.key, "/r/01");
    assert_eq!(last.prev.as_ref().unwrap().value, val("v1"));
    // The lease survived and still owns its key.
    store.lease_revoke(lease).await.unwrap();
    assert!(store.get("/r/leased").await.unwrap().is_none());
    let next_lease = store.lease_grant(Duration::from_secs(1)).await.unwrap();
    assert!(next_lease > lease, "lease ids are not reused");
    // Latest values whose writes were compacted out of the history survive,
    // and so do their later updates, across further compactions.
    assert_eq!(store.get("/r/02").await.unwrap().unwrap().value, val("v2"));
    assert_eq!(store.get("/r/03").await.unwrap().unwrap().value, val("v3"));
    put(&*store, "/r/02", "v2b").await;
    store.compact(store.current_revision()).await.unwrap();
    drop(store);
    let store = f.open(test_config());
    assert_eq!(store.get("/r/02").await.unwrap().unwrap().value, val("v2b"));
    assert_eq!(store.get("/r/03").await.unwrap().unwrap().value, val("v3"));
    assert_eq!(store.get("/r/19").await.unwrap().unwrap().value, val("v19"));
}

/// Child side of the kill test; does nothing unless started by the parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let store = store::open(
        &Backend::Redb {
            data_dir: dir.into(),
        },
        test_config(),
    )
    .unwrap();
    let (acks, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for writer in 0..8 {
        let store = store.clone();
        let acks = acks.clone();
        tokio::spawn(async move {
            for i in 0.. {
                let key = format!("/kill/{writer}/{i}");
                store
                    .create(&key, val("payload"), 0)
                    .await
                    .unwrap()
                    .unwrap();
                if acks.send(key).is_err() {
                    return;
                }
            }
        });
    }
    let mut stdout = std::io::stdout().lock();
    while let Some(key) = ack_rx.recv().await {
        writeln!(stdout, "ACK {key}").unwrap();
        stdout.flush().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::kill_child_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR_ENV, &data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(key) = line.strip_prefix("ACK ") {
                acked.push(key.to_string());
                if acked.len() == 2000 {
                    break;
                }
            }
        }
        acked
    });
    let acked = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        acked.len(),
        2000,
        "child acknowledged fewer writes than expected"
    );
    let store = store::open(&Backend::Redb { data_dir }, test_config()).unwrap();
    for key in &acked {
        assert!(
            store.get(key).await.unwrap().is_some(),
            "acknowledged {key} lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_failure_is_returned_and_not_applied() {
    let f = Factory::redb();
    let fault = FaultInjection::default();
    let store = f.open(StoreConfig {
        fault_injection: Some(fault.clone()),
        ..test_config()
    });
    put(&*store, "/io/ok", "1").await;
    let mut rx = store.watch("/io/", 0).unwrap();
    fault.set_fail_commits(true);
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.create(&format!("/io/{i}"), val("x"), 0).await })
        })
        .collect();
    for writer in writers {
        assert!(matches!(writer.await.unwrap(), Err(StoreError::Io(_))));
    }
    assert!(matches!(
        store.lease_grant(Duration::from_secs(5)).await,
        Err(StoreError::Io(_))
    ));
    assert_eq!(store.current_revision(), 1);
    assert_eq!(
        store
            .range(store::RangeRequest {
                prefix: "/io/".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .count,
        1
    );
    assert!(rx.try_recv().is_err(), "no watch event for a failed commit");
    fault.set_fail_commits(false);
    put(&*store, "/io/after", "1").await;
    assert_eq!(store.current_revision(), 2);
    let batch = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(batch[0].kv.key, "/io/after");
    drop(store);
    // Nothing of the failed batch reached the disk either.
    let store = f.open(test_config());
    assert_eq!(store.current_revision(), 2);
    assert!(store.get("/io/0").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_txns_see_earlier_txns_of_the_batch() {
    // Many concurrent create-if-absent on one key: exactly one wins, even
    // when they land in one commit batch.
    let f = Factory::redb();
    let store = f.open(test_config());
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create("/race", val(&i.to_string()), 0)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(store.current_revision(), 1);
    wait_until("revision visible", || {
        let store = store.clone();
        async move { store.get("/race").await.unwrap().is_some() }
    })
    .await;
}

#[test]
fn backend_names_parse() {
    assert!(matches!(
        Backend::parse("memory", "/tmp/x"),
        Ok(Backend::Memory)
    ));
    assert!(matches!(
        Backend::parse("redb", "/tmp/x"),
        Ok(Backend::Redb { .. })
    ));
    assert!(Backend::parse("sqlite", "/tmp/x").is_err());
}

#[test]
fn open_outside_a_runtime_works() {
    let store = store::open(&Backend::Memory, test_config()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        put(&*store, "k", "v").await;
        assert_eq!(store.current_revision(), 1);
    });
}
