//! The typed client over the REST face (HTTPS, the admin kubeconfig the
//! server writes): every call gives what the gRPC face gives, and errors
//! map to the same `client::Error` variants.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Namespace, Pod};
use apiserver::Config;
use client::kubeconfig::{Connection, Credential};
use client::{Binding, Client, DeleteOutcome, DeleteParams, ListParams, WatchEvent, WatchParams};
use futures::StreamExt;
use serde_json::json;

use crate::common::{NOBODY_TOKEN, memory_store, node, pod, start_rest_tls};

fn config() -> Config {
    Config::new(memory_store())
}

/// Reads watch batches until `want` events (bookmarks aside) arrived.
async fn next_events(stream: &mut client::WatchStream<Pod>, want: usize) -> Vec<WatchEvent<Pod>> {
    let mut events = Vec::new();
    while events.len() < want {
        let batch = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("watch events within 10 s")
            .expect("the stream stays open")
            .expect("no watch error");
        events.extend(
            batch
                .into_iter()
                .filter(|event| !matches!(event, WatchEvent::Bookmark { .. })),
        );
    }
    events
}

fn name_of(event: &WatchEvent<Pod>) -> (&'static str, String) {
    let kind = match event {
        WatchEvent::Added(_) => "added",
        WatchEvent::Modified(_) => "modified",
        WatchEvent::Deleted(_) => "deleted",
        WatchEvent::Bookmark { .. } => "bookmark",
    };
    let name = event
        .object()
        .and_then(|pod| pod.metadata.name.clone())
        .unwrap_or_default();
    (kind, name)
}

#[tokio::test]
async fn rest_client_verbs_match_the_grpc_face() {
    let (server, kubeconfig) = start_rest_tls(config()).await;
    let rest = Client::rest_from_kubeconfig(&kubeconfig).unwrap();
    let grpc = &server.client;
    let namespace: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}
    }))
    .unwrap();
    rest.create("", &namespace).await.unwrap();

    let list = rest
        .list::<Pod>("team", &ListParams::default())
        .await
        .unwrap();
    assert!(list.items.is_empty());
    let mut watch = rest
        .watch::<Pod>(
            "team",
            &WatchParams::from_version(list.resource_version).bookmarks(),
        )
        .await
        .unwrap();

    // Create through REST; gRPC reads the same object.
    let created = rest.create("team", &pod("a")).await.unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("team"));
    let read = grpc.get::<Pod>("team", "a").await.unwrap();
    assert_eq!(read.metadata.uid, created.metadata.uid);
    assert_eq!(
        rest.get::<Pod>("team", "a").await.unwrap().metadata.uid,
        created.metadata.uid
    );

    // A batch is one POST per pod; results in order, failures per item.
    let results = rest
        .batch_create("team", &[pod("b"), pod("a"), pod("c")])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(
        matches!(&results[1], Err(error) if error.is_already_exists()),
        "{:?}",
        results[1]
    );

    // Paged lists and selectors.
    let page = rest
        .list::<Pod>("team", &ListParams::default().limit(2))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.continue_token.is_some());
    let all = rest
        .list_all::<Pod>("team", &ListParams::default().limit(2))
        .await
        .unwrap();
    let mut names: Vec<_> = all
        .items
        .iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    let selected = rest
        .list::<Pod>("", &ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(selected.items.len(), 1);

    // Update, status update, merge patch.
    let mut changed = rest.get::<Pod>("team", "a").await.unwrap();
    changed
        .metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "front".into());
    let updated = rest.update(&changed).await.unwrap();
    assert_eq!(updated.metadata.labels.unwrap()["tier"], "front");
    let stale = rest.update(&changed).await.unwrap_err();
    assert!(stale.is_conflict(), "{stale}");
    let mut with_status = rest.get::<Pod>("team", "a").await.unwrap();
    with_status.status.get_or_insert_default().message = Some("hello".into());
    let status_written = rest.update_status(&with_status).await.unwrap();
    assert_eq!(
        status_written.status.unwrap().message.as_deref(),
        Some("hello")
    );
    let patched: Pod = rest
        .patch(
            "team",
            "b",
            &json!({"metadata": {"annotations": {"k": "v"}}}),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.annotations.unwrap()["k"], "v");

    // Binds: one, then a batch with a failure in it.
    grpc.create("", &node("n1")).await.unwrap();
    let bound = rest.bind("team", "a", "n1").await.unwrap();
    assert_eq!(bound.spec.unwrap().node_name.as_deref(), Some("n1"));
    let binds = rest
        .batch_bind(&[
            Binding {
                namespace: "team".into(),
                pod: "b".into(),
                node: "n1".into(),
            },
            Binding {
                namespace: "team".into(),
                pod: "a".into(),
                node: "n1".into(),
            },
        ])
        .await
        .unwrap();
    assert!(binds[0].is_ok(), "{:?}", binds[0]);
    assert!(
        matches!(&binds[1], Err(error) if error.is_conflict()),
        "{:?}",
        binds[1]
    );

    // Deletes: a bound pod waits for its kubelet (grace), an unbound one
    // goes at once.
    let pending = rest
        .delete::<Pod>("team", "a", &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(pending, DeleteOutcome::Pending(_)), "{pending:?}");
    let gone = rest
        .delete::<Pod>("team", "c", &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(gone, DeleteOutcome::Deleted(_)), "{gone:?}");
    let missing = rest.get::<Pod>("team", "c").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    // The watch saw it all, in order.
    let events = next_events(&mut watch, 10).await;
    let seen: Vec<_> = events.iter().map(name_of).collect();
    assert_eq!(
        seen,
        [
            ("added", "a".to_string()),
            ("added", "b".to_string()),
            ("added", "c".to_string()),
            ("modified", "a".to_string()),
            ("modified", "a".to_string()),
            ("modified", "b".to_string()),
            ("modified", "a".to_string()),
            ("modified", "b".to_string()),
            ("modified", "a".to_string()),
            ("deleted", "c".to_string()),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn rest_client_errors_name_the_condition() {
    let (server, kubeconfig) = start_rest_tls(config()).await;
    let rest = Client::rest_from_kubeconfig(&kubeconfig).unwrap();

    // Validation: 422 with the field path, nothing stored.
    let mut bad = pod("bad");
    bad.spec.as_mut().unwrap().containers[0].image = None;
    let error = rest.create("default", &bad).await.unwrap_err();
    assert!(
        matches!(&error, client::Error::Invalid(message) if message.contains("spec.containers[0].image")),
        "{error}"
    );
    assert!(
        rest.get::<Pod>("default", "bad")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // The same server, other credentials.
    let admin = Connection::from_kubeconfig(&kubeconfig).unwrap();
    let nobody = Client::rest(&Connection {
        credential: Some(Credential::Token(NOBODY_TOKEN.into())),
        ..admin.clone()
    })
    .unwrap();
    let forbidden = nobody.create("default", &pod("x")).await.unwrap_err();
    assert!(
        matches!(forbidden, client::Error::Forbidden(_)),
        "{forbidden}"
    );
    let anonymous = Client::rest(&Connection {
        credential: None,
        ..admin.clone()
    })
    .unwrap();
    let unauthorized = anonymous
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(unauthorized, client::Error::Unauthorized(_)),
        "{unauthorized}"
    );
    let wrong_token = Client::rest(&Connection {
        credential: Some(Credential::Token("not-a-token".into())),
        ..admin.clone()
    })
    .unwrap();
    assert!(matches!(
        wrong_token.get::<Pod>("default", "x").await,
        Err(client::Error::Unauthorized(_))
    ));

    // A server certificate from another CA is refused.
    let untrusted = Client::rest(&Connection {
        ca_pem: None,
        ..admin
    })
    .unwrap();
    let error = untrusted.get::<Namespace>("", "default").await.unwrap_err();
    assert!(matches!(error, client::Error::Http(_)), "{error}");

    // gRPC-only calls say so.
    assert!(matches!(rest.raw(), Err(client::Error::Config(_))));
    server.stop().await;
}
