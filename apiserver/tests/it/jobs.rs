//! Jobs as the apiserver creates them (a generated selector unless it is
//! manual, no status), and the deletion of a pod that a finalizer holds
//! after its kubelet finished with it.

use api::job::{CONTROLLER_UID_LABEL, JOB_NAME_LABEL};
use api::k8s_openapi::api::batch::v1::Job;
use api::k8s_openapi::api::core::v1::Pod;
use client::{DeleteOutcome, DeleteParams};
use serde_json::json;

use crate::common::{node, pod, start};

fn job(spec: serde_json::Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": spec,
        "status": {"succeeded": 7, "active": 2},
    }))
    .unwrap()
}

fn template(labels: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]},
    })
}

#[tokio::test]
async fn a_created_job_has_a_generated_selector_and_an_empty_status() {
    let server = start().await;
    let client = &server.client;
    let created = client
        .create(
            "default",
            &job(json!({"template": template(json!({"app": "pi"}))})),
        )
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    assert_eq!(created.status, None, "the controller writes the status");
    let spec = created.spec.unwrap();
    assert_eq!(
        serde_json::to_value(&spec.selector).unwrap(),
        json!({"matchLabels": {CONTROLLER_UID_LABEL: uid}})
    );
    assert_eq!(
        serde_json::to_value(spec.template.metadata.unwrap().labels).unwrap(),
        json!({
            "app": "pi",
            CONTROLLER_UID_LABEL: uid,
            JOB_NAME_LABEL: "pi",
            "controller-uid": uid,
            "job-name": "pi",
        })
    );
    assert_eq!(spec.manual_selector, None);
    // The Job takes its template's labels as the user gave them.
    assert_eq!(
        serde_json::to_value(&created.metadata.labels).unwrap(),
        json!({"app": "pi"})
    );
    // Without any, it shows the generated ones (as `kubectl create job`
    // makes it).
    let mut bare = job(json!({"template": template(json!(null))}));
    bare.metadata.name = Some("bare".into());
    let bare = client.create("default", &bare).await.unwrap();
    let uid = bare.metadata.uid.clone().unwrap();
    assert_eq!(
        serde_json::to_value(&bare.metadata.labels).unwrap(),
        json!({
            CONTROLLER_UID_LABEL: uid,
            JOB_NAME_LABEL: "bare",
            "controller-uid": uid,
            "job-name": "bare",
        })
    );
}

#[tokio::test]
async fn a_manual_selector_is_kept_and_must_be_given() {
    let server = start().await;
    let client = &server.client;
    let created = client
        .create(
            "default",
            &job(json!({
                "manualSelector": true,
                "selector": {"matchLabels": {"app": "pi"}},
                "template": template(json!({"app": "pi"})),
            })),
        )
        .await
        .unwrap();
    let spec = created.spec.unwrap();
    assert_eq!(
        serde_json::to_value(&spec.selector).unwrap(),
        json!({"matchLabels": {"app": "pi"}})
    );
    assert_eq!(
        serde_json::to_value(spec.template.metadata.unwrap().labels).unwrap(),
        json!({"app": "pi"})
    );

    let mut missing = job(json!({
        "manualSelector": true,
        "template": template(json!({"app": "pi"})),
    }));
    missing.metadata.name = Some("no-selector".into());
    let error = client.create("default", &missing).await.unwrap_err();
    assert!(
        error.to_string().contains("spec.selector: Required value"),
        "{error}"
    );
    // A selector that is not the generated one is refused without
    // manualSelector.
    let mut foreign = job(json!({
        "selector": {"matchLabels": {"app": "pi"}},
        "template": template(json!({"app": "pi"})),
    }));
    foreign.metadata.name = Some("foreign".into());
    let error = client.create("default", &foreign).await.unwrap_err();
    assert!(
        error.to_string().contains("`selector` not auto-generated"),
        "{error}"
    );
}

#[tokio::test]
async fn a_finished_pod_held_by_a_finalizer_goes_when_it_is_removed() {
    let server = start().await;
    let client = &server.client;
    client.create("", &node("n1")).await.unwrap();
    let mut held = pod("held");
    held.metadata.finalizers = Some(vec!["batch.kubernetes.io/job-tracking".into()]);
    client.create("default", &held).await.unwrap();
    client.bind("default", "held", "n1").await.unwrap();
    // Deleted while running: its grace period starts.
    let pending = client
        .delete::<Pod>("default", "held", &DeleteParams::default())
        .await
        .unwrap();
    assert!(matches!(pending, DeleteOutcome::Pending(_)));
    // Its kubelet is done and deletes it at once; the finalizer holds it,
    // with no grace left.
    let done = client
        .delete::<Pod>("default", "held", &DeleteParams::immediate())
        .await
        .unwrap();
    let DeleteOutcome::Pending(done) = done else {
        panic!("the finalizer holds the pod");
    };
    assert_eq!(done.metadata.deletion_grace_period_seconds, Some(0));
    client
        .patch::<Pod>(
            "default",
            "held",
            &json!({"metadata": {"finalizers": null}}),
        )
        .await
        .unwrap();
    let gone = client.get::<Pod>("default", "held").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}
