//! Restart on the same redb data directory: objects survive, and a watch
//! from a resourceVersion of the previous run resumes.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use apiserver::Config;
use client::{ListParams, WatchEvent, WatchParams};
use futures::StreamExt;

use crate::common::{pod, rv, start_with};

fn redb_config(dir: &std::path::Path) -> Config {
    let backend = store::Backend::Redb {
        data_dir: dir.to_path_buf(),
    };
    Config::new(store::open(&backend, store::StoreConfig::default()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_objects_and_resumes_watch() {
    let dir = tempfile::tempdir().unwrap();
    let resume_from = {
        let server = start_with(redb_config(dir.path())).await;
        let first = server
            .client
            .create("default", &pod("before-1"))
            .await
            .unwrap();
        server
            .client
            .create("default", &pod("before-2"))
            .await
            .unwrap();
        server.stop().await;
        rv(&first)
    };
    let server = start_with(redb_config(dir.path())).await;
    let client = &server.client;
    let pods = client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = pods
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    assert_eq!(names, ["before-1", "before-2"]);
    let mut stream = client
        .watch::<Pod>("", &WatchParams::from_version(resume_from.to_string()))
        .await
        .unwrap();
    client.create("default", &pod("after")).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let batch = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        for event in batch {
            if let WatchEvent::Added(p) = event {
                seen.push(p.metadata.name.unwrap());
            }
        }
    }
    assert_eq!(seen, ["before-2", "after"]);
}
