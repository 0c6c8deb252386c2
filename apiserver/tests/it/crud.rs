//! Create, get, list (selectors, paging), update, patch and delete across kinds.

use api::k8s_openapi::api::apps::v1::Deployment;
use api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use std::time::Duration;

use client::{DeleteOutcome, DeleteParams, ListParams, WatchParams};
use futures::StreamExt;
use serde_json::json;

use crate::common::{node, pod, rv, start};

#[tokio::test]
async fn pod_crud_sets_server_fields() {
    let server = start().await;
    let client = &server.client;
    let created = client.create("default", &pod("p1")).await.unwrap();
    let meta = &created.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(meta.uid.is_some());
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(meta.generation, Some(1));
    let status = created.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.qos_class.as_deref(), Some("Burstable"));
    let spec = created.spec.as_ref().unwrap();
    assert_eq!(spec.priority, Some(0));
    let tolerations = spec.tolerations.as_ref().unwrap();
    assert!(
        tolerations
            .iter()
            .any(|t| t.key.as_deref() == Some("node.kubernetes.io/not-ready"))
    );

    let fetched: Pod = client.get("default", "p1").await.unwrap();
    assert_eq!(
        fetched.metadata.resource_version,
        created.metadata.resource_version
    );

    let mut changed = fetched.clone();
    changed
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "a".into());
    let updated = client.update(&changed).await.unwrap();
    assert!(rv(&updated) > rv(&created));
    assert_eq!(updated.metadata.generation, Some(1), "labels are not spec");

    let mut respec = updated.clone();
    respec.spec.as_mut().unwrap().active_deadline_seconds = Some(30);
    let respecced = client.update(&respec).await.unwrap();
    assert_eq!(respecced.metadata.generation, Some(2));

    let deleted = client
        .delete::<Pod>("default", "p1", &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(deleted, DeleteOutcome::Deleted(_)));
    assert!(
        client
            .get::<Pod>("default", "p1")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn cluster_scoped_and_other_kinds() {
    let server = start().await;
    let client = &server.client;
    let created = client.create("", &node("n1")).await.unwrap();
    assert_eq!(created.metadata.namespace, None);
    assert!(
        created.status.unwrap().capacity.is_some(),
        "nodes keep status on create"
    );

    let namespaces = client
        .list::<Namespace>("", &ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = namespaces
        .items
        .iter()
        .filter_map(|ns| ns.metadata.name.clone())
        .collect();
    for expected in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }

    let config_map: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "cm"}, "data": {"k": "v"}
    }))
    .unwrap();
    let cm = client.create("kube-system", &config_map).await.unwrap();
    assert_eq!(cm.data.unwrap()["k"], "v");

    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": {"replicas": 99}
    }))
    .unwrap();
    let created = client.create("default", &deployment).await.unwrap();
    assert!(
        created
            .status
            .as_ref()
            .is_none_or(|s| s.replicas != Some(99)),
        "status is cleared on create"
    );

    let mut status = created.clone();
    status.status =
        Some(serde_json::from_value(json!({"replicas": 2, "readyReplicas": 1})).unwrap());
    let with_status = client.update_status(&status).await.unwrap();
    assert_eq!(with_status.status.as_ref().unwrap().ready_replicas, Some(1));
    assert_eq!(with_status.metadata.generation, Some(1));

    let mut scaled = with_status.clone();
    scaled.spec.as_mut().unwrap().replicas = Some(5);
    scaled.status = None;
    let scaled = client.update(&scaled).await.unwrap();
    assert_eq!(
        scaled.status.as_ref().unwrap().ready_replicas,
        Some(1),
        "update keeps status"
    );
    assert_eq!(scaled.metadata.generation, Some(2));

    let patched: Deployment = client
        .patch(
            "default",
            "web",
            &json!({"metadata": {"labels": {"patched": "yes"}}}),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap()["patched"], "yes");
    assert_eq!(patched.spec.unwrap().replicas, Some(5));
}

#[tokio::test]
async fn list_selectors_and_paging() {
    let server = start().await;
    let client = &server.client;
    client.create("", &node("n1")).await.unwrap();
    for index in 0..25 {
        let mut p = pod(&format!("p{index:02}"));
        p.metadata.labels.get_or_insert_default().insert(
            "parity".into(),
            (if index % 2 == 0 { "even" } else { "odd" }).into(),
        );
        client.create("default", &p).await.unwrap();
    }
    client.bind("default", "p03", "n1").await.unwrap();

    let even = client
        .list::<Pod>("default", &ListParams::default().labels("parity=even"))
        .await
        .unwrap();
    assert_eq!(even.items.len(), 13);
    let set = client
        .list::<Pod>("", &ListParams::default().labels("parity in (odd),app"))
        .await
        .unwrap();
    assert_eq!(set.items.len(), 12);
    let on_node = client
        .list::<Pod>("", &ListParams::default().fields("spec.nodeName=n1"))
        .await
        .unwrap();
    assert_eq!(on_node.items.len(), 1);
    assert_eq!(on_node.items[0].metadata.name.as_deref(), Some("p03"));
    let unbound = client
        .list::<Pod>(
            "",
            &ListParams::default().fields("spec.nodeName=,status.phase=Pending"),
        )
        .await
        .unwrap();
    assert_eq!(unbound.items.len(), 24);
    let elsewhere = client
        .list::<Pod>("kube-system", &ListParams::default())
        .await
        .unwrap();
    assert!(elsewhere.items.is_empty());

    let mut params = ListParams::default().labels("parity=odd").limit(5);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = client.list::<Pod>("default", &params).await.unwrap();
        pages += 1;
        seen.extend(page.items.into_iter().filter_map(|p| p.metadata.name));
        match page.continue_token {
            Some(token) => params.continue_token = token,
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let all = client
        .list_all::<Pod>("", &ListParams::default().limit(7))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 25);
}

/// Every page of a list reads, and reports, the revision of its first page,
/// even after later writes: a client that watches from the list's
/// resourceVersion then misses nothing and sees nothing twice.
#[tokio::test]
async fn continued_pages_keep_the_first_pages_revision() {
    let server = start().await;
    let client = &server.client;
    client.create("", &node("n1")).await.unwrap();
    for index in 0..6 {
        client
            .create("default", &pod(&format!("p{index}")))
            .await
            .unwrap();
    }
    for name in ["p0", "p1", "p2"] {
        client.bind("default", name, "n1").await.unwrap();
    }
    let mut params = ListParams::default().fields("spec.nodeName!=").limit(2);
    let first = client.list::<Pod>("default", &params).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let revision = first.resource_version.clone();
    assert!(!revision.is_empty());

    // Bound after the list started: not in it, but seen by a watch from it.
    client.bind("default", "p4", "n1").await.unwrap();
    let mut names = Vec::new();
    let mut token = first.continue_token;
    while let Some(next) = token {
        params.continue_token = next;
        let page = client.list::<Pod>("default", &params).await.unwrap();
        assert_eq!(page.resource_version, revision);
        names.extend(page.items.into_iter().filter_map(|p| p.metadata.name));
        token = page.continue_token;
    }
    assert_eq!(names, ["p2"], "the list shows only what its first page saw");

    let version = revision;
    let params = WatchParams::from_version(version).fields("spec.nodeName!=");
    let mut watch = client.watch::<Pod>("default", &params).await.unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(20), watch.next())
        .await
        .expect("the watch delivers the bind")
        .unwrap()
        .unwrap();
    let names: Vec<_> = batch
        .iter()
        .filter_map(|event| event.object()?.metadata.name.clone())
        .collect();
    assert_eq!(names, ["p4"]);
}

#[tokio::test]
async fn generate_name_and_delete_preconditions() {
    let server = start().await;
    let client = &server.client;
    let mut template = pod("");
    template.metadata.name = None;
    template.metadata.generate_name = Some("web-".into());
    let first = client.create("default", &template).await.unwrap();
    let second = client.create("default", &template).await.unwrap();
    let (a, b) = (first.metadata.name.unwrap(), second.metadata.name.unwrap());
    assert!(a.starts_with("web-") && a.len() == 9, "{a}");
    assert_ne!(a, b);

    let wrong_uid = DeleteParams {
        precondition_uid: Some("nope".into()),
        ..Default::default()
    };
    assert!(
        client
            .delete::<Pod>("default", &a, &wrong_uid)
            .await
            .unwrap_err()
            .is_conflict()
    );
    let right_uid = DeleteParams {
        precondition_uid: second.metadata.uid.clone(),
        ..Default::default()
    };
    assert!(
        client
            .delete::<Pod>("default", &b, &right_uid)
            .await
            .is_ok()
    );
    assert!(
        client
            .get::<Node>("", "missing")
            .await
            .unwrap_err()
            .is_not_found()
    );
}
