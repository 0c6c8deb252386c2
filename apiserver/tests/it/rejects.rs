//! Every class of bad input is rejected with the right error, and nothing
//! is stored.

use api::k8s_openapi::api::core::v1::Pod;
use client::{Error, ListParams, WatchParams};
use prost::bytes::Bytes;
use serde_json::json;

use crate::common::{count_keys, pod, start};

#[tokio::test]
async fn bad_inputs_store_nothing() {
    let server = start().await;
    let client = &server.client;
    let before = count_keys(&server.store, "/registry/").await;

    // Invalid field: the Kubernetes field-error text.
    match client
        .create("default", &pod("Bad_Name"))
        .await
        .unwrap_err()
    {
        Error::Invalid(message) => {
            assert!(
                message.starts_with("Pod \"Bad_Name\" is invalid: "),
                "{message}"
            );
            assert!(
                message.contains("metadata.name: Invalid value: \"Bad_Name\""),
                "{message}"
            );
        }
        other => panic!("expected invalid, got {other:?}"),
    }

    // Unknown kind.
    let mut raw = client.raw().unwrap();
    let status = raw
        .create(client::proto::CreateRequest {
            resource: "widgets".into(),
            namespace: "default".into(),
            object: Bytes::from_static(b"{}"),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);

    // Kind mismatch: a Service body sent as a pod.
    let status = raw
        .create(client::proto::CreateRequest {
            resource: "pods".into(),
            namespace: "default".into(),
            object: Bytes::from(
                serde_json::to_vec(
                    &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
                )
                .unwrap(),
            ),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // Malformed JSON.
    let status = raw
        .create(client::proto::CreateRequest {
            resource: "pods".into(),
            namespace: "default".into(),
            object: Bytes::from_static(b"{nope"),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // Wrong namespace: object says one, request another.
    let mut elsewhere = pod("ns");
    elsewhere.metadata.namespace = Some("kube-system".into());
    assert!(matches!(
        client.create("default", &elsewhere).await.unwrap_err(),
        Error::Invalid(_)
    ));

    // Missing namespace.
    assert!(
        client
            .create("nowhere", &pod("p"))
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Unknown priority class.
    let mut prioritized = pod("prio");
    prioritized.spec.as_mut().unwrap().priority_class_name = Some("ghost".into());
    match client.create("default", &prioritized).await.unwrap_err() {
        Error::Forbidden(message) => assert!(
            message.contains("no PriorityClass with name ghost"),
            "{message}"
        ),
        other => panic!("expected forbidden, got {other:?}"),
    }

    // Oversized body.
    let mut huge = pod("huge");
    huge.metadata.annotations = Some([("blob".to_string(), "x".repeat(4 * 1024 * 1024))].into());
    assert!(matches!(
        client.create("default", &huge).await.unwrap_err(),
        Error::ResourceExhausted(_)
    ));

    // Malformed selectors.
    let bad_selector = client
        .list::<Pod>("", &ListParams::default().labels("app in (x"))
        .await
        .unwrap_err();
    assert!(
        matches!(bad_selector, Error::Invalid(_)),
        "{bad_selector:?}"
    );
    let bad_field = client
        .list::<Pod>("", &ListParams::default().fields("spec.bogus=1"))
        .await
        .unwrap_err();
    assert!(matches!(bad_field, Error::Invalid(_)), "{bad_field:?}");
    let bad_watch = client
        .watch::<Pod>("", &WatchParams::default().labels("=x"))
        .await;
    assert!(matches!(bad_watch, Err(Error::Invalid(_))));

    assert_eq!(
        count_keys(&server.store, "/registry/").await,
        before,
        "nothing stored"
    );

    // Stale resourceVersion on update: nothing changes.
    let created = client.create("default", &pod("ok")).await.unwrap();
    let mut stale = created.clone();
    stale.metadata.resource_version = Some("1".into());
    stale
        .metadata
        .labels
        .get_or_insert_default()
        .insert("x".into(), "y".into());
    assert!(client.update(&stale).await.unwrap_err().is_conflict());
    let stored: Pod = client.get("default", "ok").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version,
        created.metadata.resource_version
    );
}
