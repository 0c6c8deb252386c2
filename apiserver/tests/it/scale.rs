//! 10,000 pods created through batch gRPC calls; one watcher receives every
//! ADDED event, in order.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use client::{ListParams, WatchEvent, WatchParams};
use futures::StreamExt;

use crate::common::{pod, rv, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pods_create_and_watch() {
    const PODS: usize = 10_000;
    const BATCH: usize = 500;
    let server = start().await;
    let client = server.client.clone();
    let list = client
        .list::<Pod>("", &ListParams::default())
        .await
        .unwrap();
    let mut stream = client
        .watch::<Pod>("", &WatchParams::from_version(list.resource_version))
        .await
        .unwrap();
    let watcher = tokio::spawn(async move {
        let mut last = 0;
        let mut added = 0;
        while added < PODS {
            let batch = tokio::time::timeout(Duration::from_secs(60), stream.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            for event in batch {
                let WatchEvent::Added(pod) = event else {
                    panic!("only ADDED expected")
                };
                let revision = rv(&pod);
                assert!(revision > last, "in order");
                last = revision;
                added += 1;
            }
        }
        added
    });
    for chunk in 0..PODS / BATCH {
        let pods: Vec<Pod> = (0..BATCH)
            .map(|i| pod(&format!("p{}", chunk * BATCH + i)))
            .collect();
        for result in client.batch_create("default", &pods).await.unwrap() {
            result.unwrap();
        }
    }
    assert_eq!(watcher.await.unwrap(), PODS);
}
