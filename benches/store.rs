//! Store benchmarks, layered so a regression shows which layer moved:
//!
//! - `durable_writes/{group_commit,single_fsync}/{1,64}_writers`: create
//!   requests with 1 KiB pod-sized values against the redb backend,
//!   acknowledged only once fsynced (in its write-ahead log; redb itself is
//!   updated by background checkpoints, whose CPU cost is included).
//!   `group_commit` lets the commit thread batch everything
//!   queued; `single_fsync` sets `max_commit_batch = 1` (one fsync per
//!   write). Throughput is writes/s.
//! - `memory_writes/64_writers`: the same load on the memory backend, the
//!   ceiling set by planning, applying and publishing alone.
//! - `reads/get_1KiB/{memory,redb}` and `reads/range_100/{memory,redb}`:
//!   point reads and 100-key prefix pages from a 10,000-key store.
//! - `watch_fanout/1_writer/100_watchers`: events delivered per second when
//!   one writer feeds 100 watchers of the same prefix.

// A benchmark aborts on any store error: there is nothing to recover.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use store::{Backend, Bytes, RangeRequest, Store, StoreConfig, StoreExt};

/// A value the size of a typical encoded Pod, with fixed content.
fn pod_value() -> Bytes {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect::<Vec<u8>>()
        .into()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn config(max_commit_batch: usize) -> StoreConfig {
    StoreConfig {
        max_commit_batch,
        auto_compact_retain_revisions: 100_000,
        ..StoreConfig::default()
    }
}

/// Run `iters` creates spread over `writers` tasks; returns elapsed time.
async fn concurrent_creates(
    store: &Arc<dyn Store>,
    counter: &Arc<AtomicU64>,
    writers: u64,
    iters: u64,
) -> Duration {
    let value = pod_value();
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = Arc::clone(store);
            let counter = Arc::clone(counter);
            let value = value.clone();
            let n = iters / writers + u64::from(w < iters % writers);
            tokio::spawn(async move {
                for _ in 0..n {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let key = format!("/registry/pods/bench/pod-{i:010}");
                    store
                        .create(&key, value.clone(), 0)
                        .await
                        .expect("create")
                        .expect("absent");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer task");
    }
    started.elapsed()
}

fn durable_writes(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("durable_writes");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    for (mode, max_batch) in [("group_commit", 4096), ("single_fsync", 1)] {
        for writers in [1u64, 64] {
            let dir = tempfile::tempdir().expect("tempdir");
            let backend = Backend::Redb {
                data_dir: dir.path().to_path_buf(),
            };
            let store =
                rt.block_on(async { store::open(&backend, config(max_batch)).expect("open") });
            let counter = Arc::new(AtomicU64::new(0));
            group.bench_function(format!("{mode}/{writers}_writers"), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let store = Arc::clone(&store);
                    let counter = Arc::clone(&counter);
                    async move { concurrent_creates(&store, &counter, writers, iters).await }
                });
            });
            drop(store);
        }
    }
    group.finish();

    let mut group = c.benchmark_group("memory_writes");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    let store = rt.block_on(async { store::open(&Backend::Memory, config(1)).expect("open") });
    let counter = Arc::new(AtomicU64::new(0));
    group.bench_function("64_writers", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let store = Arc::clone(&store);
            let counter = Arc::clone(&counter);
            async move { concurrent_creates(&store, &counter, 64, iters).await }
        });
    });
    group.finish();
}

fn reads(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("reads");
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, backend) in [
        ("memory", Backend::Memory),
        (
            "redb",
            Backend::Redb {
                data_dir: dir.path().to_path_buf(),
            },
        ),
    ] {
        let store = rt.block_on(async {
            let store = store::open(&backend, config(4096)).expect("open");
            concurrent_creates(&store, &Arc::new(AtomicU64::new(0)), 64, 10_000).await;
            store
        });
        group.throughput(Throughput::Elements(1));
        let mut i = 0u64;
        group.bench_function(format!("get_1KiB/{name}"), |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7919) % 10_000;
                let key = format!("/registry/pods/bench/pod-{i:010}");
                let store = Arc::clone(&store);
                async move { store.get(&key).await.expect("get").expect("present") }
            });
        });
        group.throughput(Throughput::Elements(100));
        group.bench_function(format!("range_100/{name}"), |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7919) % 9_900;
                let req = RangeRequest {
                    prefix: "/registry/pods/".into(),
                    start_after: Some(format!("/registry/pods/bench/pod-{i:010}")),
                    limit: 100,
                    ..RangeRequest::default()
                };
                let store = Arc::clone(&store);
                async move { store.range(req).await.expect("range") }
            });
        });
    }
    group.finish();
}

fn watch_fanout(c: &mut Criterion) {
    let rt = runtime();
    let watchers = 100u64;
    let mut group = c.benchmark_group("watch_fanout");
    group.throughput(Throughput::Elements(watchers));
    group.sample_size(10);
    let store = rt.block_on(async { store::open(&Backend::Memory, config(1)).expect("open") });
    let counter = Arc::new(AtomicU64::new(0));
    group.bench_function(format!("1_writer/{watchers}_watchers"), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let store = Arc::clone(&store);
            let counter = Arc::clone(&counter);
            async move {
                let receivers: Vec<_> = (0..watchers)
                    .map(|_| store.watch("/registry/pods/", 0).expect("watch"))
                    .collect();
                let started = Instant::now();
                let readers: Vec<_> = receivers
                    .into_iter()
                    .map(|mut rx| {
                        tokio::spawn(async move {
                            let mut seen = 0;
                            while seen < iters {
                                let batch = rx.recv().await.expect("open").expect("no error");
                                seen += batch.len() as u64;
                            }
                        })
                    })
                    .collect();
                concurrent_creates(&store, &counter, 1, iters).await;
                for reader in readers {
                    reader.await.expect("reader");
                }
                started.elapsed()
            }
        });
    });
    group.finish();
}

criterion_group!(benches, durable_writes, reads, watch_fanout);
criterion_main!(benches);
