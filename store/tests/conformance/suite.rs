//! The backend-independent conformance suite. Each function takes a
//! [`Factory`] and checks one area of etcd v3 semantics.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{
    Bytes, Compare, CompareTarget, Event, EventKind, Op, OpResult, RangeRequest, Store,
    StoreConfig, StoreError, StoreExt, Txn, WatchReceiver,
};

use crate::{Factory, test_config};

pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn val(s: &str) -> Bytes {
    Bytes::from(s.as_bytes())
}

pub(crate) async fn put(store: &dyn Store, key: &str, value: &str) -> i64 {
    let txn = Txn {
        success: vec![Op::Put {
            key: key.to_string(),
            value: val(value),
            lease: 0,
        }],
        ..Txn::default()
    };
    store.txn(txn).await.unwrap().revision
}

fn prefix(p: &str) -> RangeRequest {
    RangeRequest {
        prefix: p.to_string(),
        ..RangeRequest::default()
    }
}

/// Poll `cond` until it holds or the deadline passes.
pub(crate) async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Receive batches until `n` events arrived; returns the batches.
pub(crate) async fn recv_events(rx: &mut WatchReceiver, n: usize) -> Vec<Vec<Event>> {
    let mut batches = Vec::new();
    let mut seen = 0;
    while seen < n {
        let batch = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out after {seen} of {n} events"))
            .expect("watch closed")
            .expect("watch error");
        seen += batch.len();
        batches.push(batch);
    }
    assert_eq!(seen, n, "more events than expected");
    batches
}

pub(crate) async fn revisions_and_versions(f: &Factory) {
    let store = f.open(test_config());
    assert_eq!(store.current_revision(), 0);
    let a1 = store.create("a", val("1"), 0).await.unwrap().unwrap();
    assert_eq!((a1.create_revision, a1.mod_revision, a1.version), (1, 1, 1));
    assert!(
        store.create("a", val("x"), 0).await.unwrap().is_none(),
        "create of existing key"
    );
    assert_eq!(
        store.current_revision(),
        1,
        "failed create must not bump the revision"
    );
    let a2 = store.update("a", 1, val("2"), 0).await.unwrap().unwrap();
    assert_eq!((a2.create_revision, a2.mod_revision, a2.version), (1, 2, 2));
    assert_eq!(put(&*store, "b", "1").await, 3);
    let deleted = store.delete("a", None).await.unwrap().unwrap();
    assert_eq!(deleted.value, val("2"));
    assert_eq!(store.current_revision(), 4);
    assert!(store.delete("a", None).await.unwrap().is_none());
    assert_eq!(
        store.current_revision(),
        4,
        "deleting an absent key writes nothing"
    );
    let a3 = store.create("a", val("3"), 0).await.unwrap().unwrap();
    assert_eq!((a3.create_revision, a3.mod_revision, a3.version), (5, 5, 1));
    let got = store.get("a").await.unwrap().unwrap();
    assert_eq!(got, a3);
    let resp = store
        .txn(Txn {
            success: vec![Op::Get { key: "b".into() }],
            ..Txn::default()
        })
        .await
        .unwrap();
    assert_eq!(
        resp.revision, 5,
        "a read-only txn does not bump the revision"
    );
    assert_eq!(store.range(prefix("")).await.unwrap().revision, 5);
}

pub(crate) async fn range_paging(f: &Factory) {
    let store = f.open(test_config());
    for i in 0..25 {
        put(&*store, &format!("/pods/{i:02}"), "v").await;
    }
    put(&*store, "/pod", "x").await;
    put(&*store, "/podz", "x").await;
    put(&*store, "/pods0", "x").await;
    let mut seen = Vec::new();
    let mut start_after = None;
    loop {
        let req = RangeRequest {
            prefix: "/pods/".into(),
            limit: 10,
            start_after: start_after.clone(),
            ..Default::default()
        };
        let resp = store.range(req).await.unwrap();
        assert_eq!(resp.count, 25);
        assert!(resp.kvs.len() <= 10);
        seen.extend(resp.kvs.iter().map(|kv| kv.key.clone()));
        if !resp.more {
            break;
        }
        start_after = resp.kvs.last().map(|kv| kv.key.clone());
    }
    let expected: Vec<String> = (0..25).map(|i| format!("/pods/{i:02}")).collect();
    assert_eq!(seen, expected);
    let counted = store
        .range(RangeRequest {
            count_only: true,
            ..prefix("/pods/")
        })
        .await
        .unwrap();
    assert_eq!((counted.count, counted.kvs.len()), (25, 0));
    let exact = store
        .range(RangeRequest {
            exact: true,
            ..prefix("/pod")
        })
        .await
        .unwrap();
    assert_eq!(exact.kvs.len(), 1);
    let exactly_ten = store
        .range(RangeRequest {
            limit: 5,
            start_after: Some("/pods/19".into()),
            ..prefix("/pods/")
        })
        .await
        .unwrap();
    assert!(!exactly_ten.more, "the last page is not followed by more");
    assert_eq!(exactly_ten.kvs.len(), 5);
}

pub(crate) async fn get_at_old_revision(f: &Factory) {
    let store = f.open(test_config());
    let r1 = put(&*store, "k", "v1").await;
    let r2 = put(&*store, "k", "v2").await;
    store.delete("k", None).await.unwrap();
    let r3 = store.current_revision();
    let r4 = put(&*store, "k", "v3").await;
    let at = |rev| RangeRequest {
        revision: Some(rev),
        ..prefix("k")
    };
    assert_eq!(store.range(at(r1)).await.unwrap().kvs[0].value, val("v1"));
    assert_eq!(store.range(at(r2)).await.unwrap().kvs[0].value, val("v2"));
    assert!(store.range(at(r3)).await.unwrap().kvs.is_empty());
    let latest = store.range(at(r4)).await.unwrap();
    assert_eq!(
        (latest.kvs[0].value.clone(), latest.kvs[0].create_revision),
        (val("v3"), r4)
    );
    match store.range(at(r4 + 1)).await {
        Err(StoreError::FutureRevision { requested, current }) => {
            assert_eq!((requested, current), (r4 + 1, r4))
        }
        other => panic!("expected FutureRevision, got {other:?}"),
    }
}

pub(crate) async fn explicit_compaction(f: &Factory) {
    let store = f.open(test_config());
    for i in 0..10 {
        put(&*store, "k", &i.to_string()).await;
    }
    store.compact(6).await.unwrap();
    assert_eq!(store.compacted_revision(), 6);
    let at = |rev| RangeRequest {
        revision: Some(rev),
        ..prefix("k")
    };
    assert_eq!(
        store.range(at(5)).await.unwrap_err(),
        StoreError::Compacted {
            requested: 5,
            compacted: 6
        }
    );
    assert_eq!(store.range(at(6)).await.unwrap().kvs[0].value, val("5"));
    assert!(matches!(
        store.watch("k", 5),
        Err(StoreError::Compacted {
            requested: 5,
            compacted: 6
        })
    ));
    let mut rx = store.watch("k", 6).unwrap();
    let batches = recv_events(&mut rx, 5).await;
    let revs: Vec<i64> = batches
        .iter()
        .flatten()
        .map(|e| e.kv.mod_revision)
        .collect();
    assert_eq!(revs, vec![6, 7, 8, 9, 10]);
    assert!(matches!(
        store.compact(3).await,
        Err(StoreError::Compacted { .. })
    ));
    assert!(matches!(
        store.compact(11).await,
        Err(StoreError::FutureRevision { .. })
    ));
    store.compact(6).await.unwrap();
    // A key deleted before the compaction point is gone from every revision.
    store.delete("k", None).await.unwrap();
    put(&*store, "other", "x").await;
    store.compact(12).await.unwrap();
    assert!(store.range(at(12)).await.unwrap().kvs.is_empty());
}

pub(crate) async fn automatic_compaction(f: &Factory) {
    let config = StoreConfig {
        auto_compact_retain_revisions: 5,
        ..test_config()
    };
    let store = f.open(config);
    for i in 0..20 {
        put(&*store, "k", &i.to_string()).await;
    }
    wait_until("automatic compaction", || {
        let store = store.clone();
        async move { store.compacted_revision() == 15 }
    })
    .await;
    assert_eq!(store.get("k").await.unwrap().unwrap().value, val("19"));
}

pub(crate) async fn txn_all_or_nothing(f: &Factory) {
    let store = f.open(StoreConfig {
        max_value_bytes: 64,
        ..test_config()
    });
    put(&*store, "x", "0").await;
    // A put with an unknown lease fails the whole txn.
    let bad = Txn {
        success: vec![
            Op::Put {
                key: "a".into(),
                value: val("1"),
                lease: 0,
            },
            Op::Put {
                key: "b".into(),
                value: val("1"),
                lease: 424242,
            },
        ],
        ..Txn::default()
    };
    assert_eq!(
        store.txn(bad).await.unwrap_err(),
        StoreError::LeaseNotFound(424242)
    );
    assert!(store.get("a").await.unwrap().is_none());
    assert_eq!(store.current_revision(), 1);
    let dup = Txn {
        success: vec![
            Op::Put {
                key: "a".into(),
                value: val("1"),
                lease: 0,
            },
            Op::Delete { key: "a".into() },
        ],
        ..Txn::default()
    };
    assert_eq!(
        store.txn(dup).await.unwrap_err(),
        StoreError::DuplicateKey("a".into())
    );
    let big = Txn {
        success: vec![Op::Put {
            key: "a".into(),
            value: Bytes::from(vec![0u8; 100]),
            lease: 0,
        }],
        ..Txn::default()
    };
    assert_eq!(
        store.txn(big).await.unwrap_err(),
        StoreError::ValueTooLarge {
            size: 100,
            limit: 64
        }
    );
    assert_eq!(store.current_revision(), 1);
    // Multi-key success branch: one revision for every write.
    let multi = Txn {
        compares: vec![Compare {
            key: "x".into(),
            target: CompareTarget::Value(val("0")),
        }],
        success: vec![
            Op::Put {
                key: "a".into(),
                value: val("1"),
                lease: 0,
            },
            Op::Put {
                key: "b".into(),
                value: val("1"),
                lease: 0,
            },
            Op::Delete { key: "x".into() },
            Op::Get { key: "a".into() },
        ],
        failure: vec![Op::Put {
            key: "failed".into(),
            value: val("1"),
            lease: 0,
        }],
    };
    let resp = store.txn(multi.clone()).await.unwrap();
    assert!(resp.succeeded);
    assert_eq!(resp.revision, 2);
    assert_eq!(resp.results.len(), 4);
    match &resp.results[3] {
        OpResult::Get { kv: Some(kv) } => assert_eq!(kv.mod_revision, 2),
        other => panic!("unexpected {other:?}"),
    }
    for key in ["a", "b"] {
        assert_eq!(store.get(key).await.unwrap().unwrap().mod_revision, 2);
    }
    // Same txn again: the compare fails and the failure branch runs.
    let resp = store.txn(multi).await.unwrap();
    assert!(!resp.succeeded);
    assert_eq!(resp.revision, 3);
    assert!(store.get("failed").await.unwrap().is_some());
    let resp = store
        .txn(Txn {
            success: vec![Op::DeletePrefix { prefix: "".into() }],
            ..Txn::default()
        })
        .await
        .unwrap();
    match &resp.results[0] {
        OpResult::Delete { deleted } => assert_eq!(deleted.len(), 3),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(resp.revision, 4);
    assert_eq!(store.range(prefix("")).await.unwrap().count, 0);
}

pub(crate) async fn compare_kinds(f: &Factory) {
    let store = f.open(test_config());
    put(&*store, "k", "v").await;
    put(&*store, "k", "w").await;
    let check = |target: CompareTarget| {
        let store = store.clone();
        async move {
            let txn = Txn {
                compares: vec![Compare {
                    key: "k".into(),
                    target,
                }],
                ..Txn::default()
            };
            store.txn(txn).await.unwrap().succeeded
        }
    };
    assert!(check(CompareTarget::ModRevision(2)).await);
    assert!(!check(CompareTarget::ModRevision(1)).await);
    assert!(check(CompareTarget::CreateRevision(1)).await);
    assert!(!check(CompareTarget::CreateRevision(2)).await);
    assert!(check(CompareTarget::Version(2)).await);
    assert!(!check(CompareTarget::Version(1)).await);
    assert!(check(CompareTarget::Value(val("w"))).await);
    assert!(!check(CompareTarget::Value(val("v"))).await);
    let absent = |target: CompareTarget| {
        let store = store.clone();
        async move {
            let txn = Txn {
                compares: vec![Compare {
                    key: "absent".into(),
                    target,
                }],
                ..Txn::default()
            };
            store.txn(txn).await.unwrap().succeeded
        }
    };
    assert!(absent(CompareTarget::ModRevision(0)).await);
    assert!(absent(CompareTarget::CreateRevision(0)).await);
    assert!(absent(CompareTarget::Version(0)).await);
    assert!(!absent(CompareTarget::Value(val(""))).await);
    assert!(
        store
            .update("k", 1, val("stale"), 0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete("k", Some(1)).await.unwrap().is_none());
    assert!(store.delete("k", Some(2)).await.unwrap().is_some());
}

pub(crate) async fn watch_ordering_under_concurrent_writers(f: &Factory) {
    let store = f.open(test_config());
    put(&*store, "/w/before", "x").await;
    let mut rx = store.watch("/w/", 0).unwrap();
    let writers = 4;
    let per_writer = 150;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                put(&*store, &format!("/w/{w}/{i}"), "v").await;
                put(&*store, &format!("/other/{w}/{i}"), "v").await;
            }
        }));
    }
    // Two keys in one revision must arrive in one batch.
    let pair = Txn {
        success: vec![
            Op::Put {
                key: "/w/pair/a".into(),
                value: val("1"),
                lease: 0,
            },
            Op::Put {
                key: "/w/pair/b".into(),
                value: val("1"),
                lease: 0,
            },
        ],
        ..Txn::default()
    };
    store.txn(pair).await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let total = writers * per_writer + 2;
    let batches = recv_events(&mut rx, total).await;
    let mut last = 1;
    let mut keys = BTreeSet::new();
    for batch in &batches {
        let rev = batch[0].kv.mod_revision;
        assert!(
            batch.iter().all(|e| e.kv.mod_revision == rev),
            "one revision per live batch"
        );
        assert!(
            rev > last,
            "revisions strictly increase: {rev} after {last}"
        );
        last = rev;
        for event in batch {
            assert!(event.kv.key.starts_with("/w/"));
            assert!(
                keys.insert(event.kv.key.clone()),
                "duplicate {}",
                event.kv.key
            );
        }
    }
    assert!(
        batches.iter().any(|b| b.len() == 2),
        "the pair arrived in one batch"
    );
    // No gaps: every /w/ write after the watch started was delivered.
    let all = store.range(prefix("/w/")).await.unwrap();
    let expected: BTreeSet<String> = all
        .kvs
        .iter()
        .map(|kv| kv.key.clone())
        .filter(|k| k != "/w/before")
        .collect();
    assert_eq!(keys, expected);
}

pub(crate) async fn watch_replays_history(f: &Factory) {
    let store = f.open(test_config());
    for i in 1..=10 {
        put(&*store, &format!("/h/{i}"), "v").await;
        put(&*store, "/x", "v").await;
    }
    let mut rx = store.watch("/h/", 5).unwrap();
    put(&*store, "/h/11", "v").await;
    // `/h/i` was written at revision 2i-1, so revision 5 is `/h/3`.
    let batches = recv_events(&mut rx, 9).await;
    let keys: Vec<String> = batches.iter().flatten().map(|e| e.kv.key.clone()).collect();
    let expected: Vec<String> = (3..=11).map(|i| format!("/h/{i}")).collect();
    assert_eq!(keys, expected);
    // Deletes carry the previous value and the delete's revision.
    let deleted = store.delete("/h/1", None).await.unwrap().unwrap();
    let batch = recv_events(&mut rx, 1).await.remove(0);
    assert_eq!(batch[0].kind, EventKind::Delete);
    assert_eq!(batch[0].kv.value, deleted.value);
    assert_eq!(batch[0].kv.mod_revision, store.current_revision());
    assert_eq!(batch[0].prev.as_ref().unwrap().mod_revision, 1);
}

pub(crate) async fn slow_watcher_catches_up(f: &Factory) {
    let store = f.open(StoreConfig {
        watch_channel_batches: 2,
        ..test_config()
    });
    let mut rx = store.watch("/s/", 0).unwrap();
    let n = 300;
    let started = Instant::now();
    for i in 0..n {
        put(&*store, &format!("/s/{i:04}"), "v").await;
    }
    assert!(started.elapsed() < DEADLINE, "writers were not blocked");
    let batches = recv_events(&mut rx, n).await;
    let keys: Vec<String> = batches.iter().flatten().map(|e| e.kv.key.clone()).collect();
    let expected: Vec<String> = (0..n).map(|i| format!("/s/{i:04}")).collect();
    assert_eq!(keys, expected, "caught up in order, exactly once");
    put(&*store, "/s/live", "v").await;
    assert_eq!(recv_events(&mut rx, 1).await[0][0].kv.key, "/s/live");
}

pub(crate) async fn slow_watcher_gets_compacted(f: &Factory) {
    let store = f.open(StoreConfig {
        watch_channel_batches: 1,
        ..test_config()
    });
    let mut rx = store.watch("/s/", 0).unwrap();
    for i in 0..50 {
        put(&*store, &format!("/s/{i}"), "v").await;
    }
    store.compact(store.current_revision()).await.unwrap();
    let mut got_compacted = false;
    while let Some(item) = tokio::time::timeout(DEADLINE, rx.recv()).await.unwrap() {
        match item {
            Ok(batch) => assert!(!got_compacted && !batch.is_empty()),
            Err(StoreError::Compacted { .. }) => got_compacted = true,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert!(got_compacted, "stream ended with Compacted");
}

async fn expect_lease_deletes(store: &Arc<dyn Store>, rx: &mut WatchReceiver, keys: &[&str]) {
    let batches = recv_events(rx, keys.len()).await;
    assert_eq!(
        batches.len(),
        1,
        "a lease's keys are deleted in one revision"
    );
    let mut deleted: Vec<&str> = batches[0].iter().map(|e| e.kv.key.as_str()).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, keys);
    assert!(batches[0].iter().all(|e| e.kind == EventKind::Delete));
    for key in keys {
        assert!(store.get(key).await.unwrap().is_none());
    }
}

pub(crate) async fn lease_expiry_deletes_keys(f: &Factory) {
    let config = test_config();
    let clock = config.lease_clock.clone();
    let store = f.open(config);
    // No delay of a loaded machine reaches this TTL: the lease expires when
    // the test moves the lease clock past it, after the keys are attached.
    let ttl = Duration::from_secs(600);
    let lease = store.lease_grant(ttl).await.unwrap();
    assert_ne!(lease, 0);
    for key in ["/l/a", "/l/b"] {
        let created = store.create(key, val("1"), lease).await.unwrap().unwrap();
        assert_eq!(created.lease, lease);
    }
    put(&*store, "/l/c", "no lease").await;
    assert_eq!(store.get("/l/a").await.unwrap().unwrap().lease, lease);
    let mut rx = store.watch("/l/", 0).unwrap();
    clock.advance(ttl);
    expect_lease_deletes(&store, &mut rx, &["/l/a", "/l/b"]).await;
    assert!(store.get("/l/c").await.unwrap().is_some());
    assert_eq!(
        store.lease_keep_alive(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
}

pub(crate) async fn lease_revoke_deletes_keys(f: &Factory) {
    let store = f.open(test_config());
    let lease = store.lease_grant(Duration::from_secs(600)).await.unwrap();
    store
        .create("/l/a", val("1"), lease)
        .await
        .unwrap()
        .unwrap();
    store
        .create("/l/b", val("1"), lease)
        .await
        .unwrap()
        .unwrap();
    // Re-putting without the lease detaches the key.
    store
        .create("/l/c", val("1"), lease)
        .await
        .unwrap()
        .unwrap();
    put(&*store, "/l/c", "detached").await;
    let mut rx = store.watch("/l/", 0).unwrap();
    store.lease_revoke(lease).await.unwrap();
    expect_lease_deletes(&store, &mut rx, &["/l/a", "/l/b"]).await;
    assert!(store.get("/l/c").await.unwrap().is_some());
    assert_eq!(
        store.lease_revoke(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
    assert!(matches!(
        store.lease_grant(Duration::ZERO).await,
        Err(StoreError::InvalidTtl { .. })
    ));
    // A lease without keys revokes without writing.
    let empty = store.lease_grant(Duration::from_secs(600)).await.unwrap();
    let rev = store.current_revision();
    store.lease_revoke(empty).await.unwrap();
    assert_eq!(store.current_revision(), rev);
}

pub(crate) async fn lease_keep_alive_keeps_keys(f: &Factory) {
    let config = test_config();
    let clock = config.lease_clock.clone();
    let store = f.open(config);
    let ttl = Duration::from_secs(600);
    let lease = store.lease_grant(ttl).await.unwrap();
    store
        .create("/k/a", val("1"), lease)
        .await
        .unwrap()
        .unwrap();
    // Three keep-alives, each two thirds of a TTL after the last: the key
    // outlives twice its TTL. The test moves the lease clock, so slow
    // scheduling cannot expire the lease between two keep-alives.
    for _ in 0..3 {
        clock.advance(ttl * 2 / 3);
        assert_eq!(store.lease_keep_alive(lease).await.unwrap(), ttl);
        assert!(
            store.get("/k/a").await.unwrap().is_some(),
            "kept-alive key expired"
        );
    }
    clock.advance(ttl);
    wait_until("expiry after keep-alives stop", || {
        let store = store.clone();
        async move { store.get("/k/a").await.unwrap().is_none() }
    })
    .await;
    assert_eq!(
        store.lease_keep_alive(lease).await.unwrap_err(),
        StoreError::LeaseNotFound(lease)
    );
}
