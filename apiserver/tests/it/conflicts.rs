//! Optimistic concurrency: stale updates, double binds, racing binds.

use api::k8s_openapi::api::core::v1::Pod;
use client::{Binding, Error};
use serde_json::json;

use crate::common::{node, pod, start};

#[tokio::test]
async fn stale_update_is_a_conflict_with_kubernetes_message() {
    let server = start().await;
    let client = &server.client;
    let created = client.create("default", &pod("x")).await.unwrap();
    let mut first = created.clone();
    first
        .metadata
        .labels
        .get_or_insert_default()
        .insert("a".into(), "1".into());
    client.update(&first).await.unwrap();
    let mut stale = created.clone();
    stale
        .metadata
        .labels
        .get_or_insert_default()
        .insert("a".into(), "2".into());
    match client.update(&stale).await.unwrap_err() {
        Error::Conflict(message) => assert_eq!(
            message,
            "Operation cannot be fulfilled on pods \"x\": the object has been modified; please apply your changes to the latest version and try again"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let stored: Pod = client.get("default", "x").await.unwrap();
    assert_eq!(stored.metadata.labels.unwrap()["a"], "1");

    let stale_rv = created.metadata.resource_version.clone().unwrap();
    let patch = json!({"metadata": {"resourceVersion": stale_rv, "labels": {"a": "3"}}});
    assert!(
        client
            .patch::<Pod>("default", "x", &patch)
            .await
            .unwrap_err()
            .is_conflict()
    );
}

#[tokio::test]
async fn double_bind_conflicts_and_missing_node_is_not_found() {
    let server = start().await;
    let client = &server.client;
    client.create("", &node("n1")).await.unwrap();
    client.create("", &node("n2")).await.unwrap();
    client.create("default", &pod("p")).await.unwrap();
    assert!(
        client
            .bind("default", "p", "nope")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let bound = client.bind("default", "p", "n1").await.unwrap();
    assert_eq!(bound.spec.unwrap().node_name.as_deref(), Some("n1"));
    assert!(
        client
            .bind("default", "p", "n2")
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        client
            .bind("default", "missing", "n2")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let stored: Pod = client.get("default", "p").await.unwrap();
    assert_eq!(stored.spec.unwrap().node_name.as_deref(), Some("n1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_binds_have_one_winner() {
    let server = start().await;
    let client = &server.client;
    for index in 0..4 {
        client
            .create("", &node(&format!("n{index}")))
            .await
            .unwrap();
    }
    let pods: Vec<Pod> = (0..50).map(|i| pod(&format!("p{i}"))).collect();
    for result in client.batch_create("default", &pods).await.unwrap() {
        result.unwrap();
    }
    let mut tasks = Vec::new();
    for index in 0..4 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let bindings: Vec<Binding> = (0..50)
                .map(|i| Binding {
                    namespace: "default".into(),
                    pod: format!("p{i}"),
                    node: format!("n{index}"),
                })
                .collect();
            client.batch_bind(&bindings).await.unwrap()
        }));
    }
    let mut wins = vec![0usize; 50];
    for task in tasks {
        for (i, result) in task.await.unwrap().into_iter().enumerate() {
            match result {
                Ok(()) => wins[i] += 1,
                Err(error) => assert!(error.is_conflict(), "{error}"),
            }
        }
    }
    assert!(wins.iter().all(|w| *w == 1), "{wins:?}");
}
