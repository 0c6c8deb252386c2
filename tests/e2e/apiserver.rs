//! The apiserver binary: flags, durability across `kill -9`, watch resume
//! after restart.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Pod, Service};
use client::{ListParams, WatchEvent, WatchParams};
use futures::StreamExt;
use serde_json::json;

use crate::process::ApiserverProcess;

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_redb_survives_kill_and_watch_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiserverProcess::start_redb(dir.path(), &[]).await;
    let first = server.client.create("default", &pod("a")).await.unwrap();
    server.client.create("default", &pod("b")).await.unwrap();
    let pods: Vec<Pod> = (0..100).map(|i| pod(&format!("batch-{i}"))).collect();
    for result in server.client.batch_create("default", &pods).await.unwrap() {
        result.unwrap();
    }
    server.kill();

    let server = ApiserverProcess::start_redb(dir.path(), &[]).await;
    let list = server
        .client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), 102, "acknowledged writes survive kill -9");
    let from = first.metadata.resource_version.unwrap();
    let mut stream = server
        .client
        .watch::<Pod>("default", &WatchParams::from_version(from))
        .await
        .unwrap();
    server.client.create("default", &pod("c")).await.unwrap();
    let mut names = Vec::new();
    while names.len() < 102 {
        let batch = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        names.extend(batch.into_iter().filter_map(|event| match event {
            WatchEvent::Added(pod) => pod.metadata.name,
            _ => None,
        }));
    }
    assert_eq!(names.first().map(String::as_str), Some("b"));
    assert_eq!(names.last().map(String::as_str), Some("c"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_memory_store_and_service_range_flag() {
    let server = ApiserverProcess::start(&[
        "--store",
        "memory",
        "--service-cluster-ip-range",
        "127.100.0.0/16",
    ])
    .await;
    let service: Service = serde_json::from_value(
        json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .unwrap();
    let created = server.client.create("default", &service).await.unwrap();
    let ip = created.spec.unwrap().cluster_ip.unwrap();
    assert!(ip.starts_with("127.100."), "{ip}");
}
