//! gRPC throughput of the apiserver in process, on the redb store (durable,
//! the default) and on the memory store (the apiserver's own CPU cost):
//!
//! - `apiserver_grpc/<store>/batch_create/500pods`: pods created per second through
//!   `BatchCreate` (500 pods per call, admission + validation + one durable
//!   create each, commits shared by group commit).
//! - `apiserver_grpc/<store>/batch_bind/500pods`: pods bound per second through
//!   `BatchBind` (500 unbound pods, created untimed before each call).
//!
//! Results go in `benches/RESULTS.md` (apiserver section).

// Reason: bench setup panics on failure, as tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{Binding, Client};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

/// As in the `apiserver` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 500;
const NODES: usize = 50;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{"name": "c", "image": "registry.local/bench:1",
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "200m", "memory": "256Mi"}}}],
                 "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "bench", "effect": "NoSchedule"}]}
    }))
    .unwrap()
}

/// Room for every pod a run creates: binds are checked against allocatable.
fn node(name: &str) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name},
        "status": {"allocatable": {"cpu": "100000", "memory": "1000Ti", "pods": "1000000"}}}))
    .unwrap()
}

async fn create_batch(client: &Client, names: &[String]) {
    let pods: Vec<Pod> = names.iter().map(|name| pod(name)).collect();
    for result in client.batch_create("default", &pods).await.unwrap() {
        result.unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let backends = [
        (
            "redb",
            store::Backend::Redb {
                data_dir: dir.path().to_path_buf(),
            },
        ),
        ("memory", store::Backend::Memory),
    ];
    for (name, backend) in backends {
        bench_backend(c, name, &backend);
    }
}

fn bench_backend(c: &mut Criterion, backend_name: &str, backend: &store::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = runtime.block_on(async {
        let store = store::open(backend, store::StoreConfig::default()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let config = apiserver::Config::new(store);
        tokio::spawn(async move {
            apiserver::run(listener, config, std::future::pending())
                .await
                .unwrap()
        });
        let client = loop {
            if let Ok(client) = Client::connect(format!("http://{address}")).await
                && client
                    .get::<api::k8s_openapi::api::core::v1::Namespace>("", "default")
                    .await
                    .is_ok()
            {
                break client;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        for index in 0..NODES {
            client
                .create("", &node(&format!("node-{index}")))
                .await
                .unwrap();
        }
        client
    });
    let counter = AtomicUsize::new(0);
    let next_names = || -> Vec<String> {
        (0..BATCH)
            .map(|_| format!("pod-{}", counter.fetch_add(1, Ordering::Relaxed)))
            .collect()
    };

    let mut group = c.benchmark_group("apiserver_grpc");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function(format!("{backend_name}/batch_create/{BATCH}pods"), |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let names = next_names();
                    let start = Instant::now();
                    create_batch(&client, &names).await;
                    total += start.elapsed();
                }
                total
            })
        });
    });
    group.bench_function(format!("{backend_name}/batch_bind/{BATCH}pods"), |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let names = next_names();
                    create_batch(&client, &names).await;
                    let bindings: Vec<Binding> = names
                        .iter()
                        .enumerate()
                        .map(|(i, name)| Binding {
                            namespace: "default".into(),
                            pod: name.clone(),
                            node: format!("node-{}", i % NODES),
                        })
                        .collect();
                    let start = Instant::now();
                    for result in client.batch_bind(&bindings).await.unwrap() {
                        result.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
