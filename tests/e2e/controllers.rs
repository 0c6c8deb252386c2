//! The `controllers` binary against a real, secured apiserver, with the
//! controller manager's own kubeconfig (so RBAC holds it to its roles)
//! while the test acts as the admin over REST: the ReplicaSet controller
//! keeps its replicas, scales both ways, replaces deleted pods, adopts
//! matching orphans and releases pods that stop matching.

use std::process::{Command, Stdio};
use std::time::Duration;

use api::k8s_openapi::api::apps::v1::ReplicaSet;
use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, DeleteParams, ListParams};
use serde_json::json;

use crate::process::{Process, RestApiserver, wait_for};

const DEADLINE: Duration = Duration::from_secs(30);

fn replica_set(name: &str, replicas: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    }))
    .unwrap()
}

/// The active pods of `default` whose controller is the ReplicaSet `uid`.
async fn owned_pods(client: &Client, uid: &str) -> Vec<Pod> {
    client
        .list::<Pod>("default", &ListParams::default())
        .await
        .map(|list| list.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            pod.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|reference| reference.uid == uid && reference.controller == Some(true))
        })
        .collect()
}

async fn wait_for_owned(client: &Client, uid: &str, count: usize, what: &str) -> Vec<Pod> {
    wait_for(what, DEADLINE, || async {
        owned_pods(client, uid).await.len() == count
    })
    .await;
    owned_pods(client, uid).await
}

fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

#[tokio::test]
async fn e2e_controllers_replica_set_keeps_its_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let server = RestApiserver::start(dir.path(), "memory").await;
    let kubeconfig = dir.path().join("pki").join("controller-manager.kubeconfig");
    let _controllers = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_controllers"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--controllers", "*"])
            // Retries of a failed sync come back at once in a test.
            .args(["--retry-base-delay", "1ms", "--retry-max-delay", "100ms"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    );
    let client = &server.client;
    let created = client
        .create("default", &replica_set("web", 3))
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();

    let pods = wait_for_owned(client, &uid, 3, "three pods for web").await;
    for pod in &pods {
        assert!(name(pod).starts_with("web-"), "{}", name(pod));
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("tier").map(String::as_str), Some("web"));
    }
    wait_for("status.replicas = 3", DEADLINE, || async {
        client
            .get::<ReplicaSet>("default", "web")
            .await
            .ok()
            .and_then(|rs| rs.status)
            .is_some_and(|status| status.replicas == 3 && status.observed_generation == Some(1))
    })
    .await;

    // A deleted pod is replaced.
    client
        .delete::<Pod>("default", &name(&pods[0]), &DeleteParams::immediate())
        .await
        .unwrap();
    let replaced = wait_for_owned(client, &uid, 3, "the deleted pod replaced").await;
    assert!(replaced.iter().all(|pod| name(pod) != name(&pods[0])));

    // Scale down, then up.
    client
        .patch::<ReplicaSet>("default", "web", &json!({"spec": {"replicas": 1}}))
        .await
        .unwrap();
    wait_for_owned(client, &uid, 1, "scaled down to one").await;
    client
        .patch::<ReplicaSet>("default", "web", &json!({"spec": {"replicas": 2}}))
        .await
        .unwrap();
    let pods = wait_for_owned(client, &uid, 2, "scaled up to two").await;

    // A pod that stops matching is released (and replaced); a matching
    // orphan is adopted (and the surplus deleted).
    let released = name(&pods[0]);
    client
        .patch::<Pod>(
            "default",
            &released,
            &json!({"metadata": {"labels": {"app": "other"}}}),
        )
        .await
        .unwrap();
    wait_for("the relabelled pod released", DEADLINE, || async {
        client
            .get::<Pod>("default", &released)
            .await
            .is_ok_and(|pod| pod.metadata.owner_references.is_none())
    })
    .await;
    wait_for_owned(client, &uid, 2, "the released pod replaced").await;

    let orphan: Pod = serde_json::from_value(json!({
        "metadata": {"name": "orphan", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    client.create("default", &orphan).await.unwrap();
    // Adopted, then one of the three deleted: two remain, all owned.
    wait_for("the orphan adopted", DEADLINE, || async {
        client
            .get::<Pod>("default", "orphan")
            .await
            .is_ok_and(|pod| {
                pod.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|reference| reference.uid == uid)
            })
            || client.get::<Pod>("default", "orphan").await.is_err()
    })
    .await;
    wait_for_owned(client, &uid, 2, "back to two after the adoption").await;
}

/// Starts a controllers process that holds the leader lease as
/// `identity`, with timers short enough for a test.
fn elected_controllers(kubeconfig: &std::path::Path, identity: &str) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_controllers"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--leader-elect-identity", identity])
            .args(["--leader-elect-lease-duration", "1s"])
            .args(["--leader-elect-renew-deadline", "800ms"])
            .args(["--leader-elect-retry-period", "100ms"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

async fn lease_holder(client: &Client) -> Option<String> {
    client
        .get::<api::k8s_openapi::api::coordination::v1::Lease>(
            "kube-system",
            "kube-controller-manager",
        )
        .await
        .ok()
        .and_then(|lease| lease.spec?.holder_identity)
}

#[tokio::test]
async fn e2e_controllers_a_standby_takes_over_when_the_leader_dies() {
    let dir = tempfile::tempdir().unwrap();
    let server = RestApiserver::start(dir.path(), "memory").await;
    let kubeconfig = dir.path().join("pki").join("controller-manager.kubeconfig");
    let client = &server.client;
    let first = elected_controllers(&kubeconfig, "first");
    wait_for("first holds the lease", DEADLINE, || async {
        lease_holder(client).await.as_deref() == Some("first")
    })
    .await;
    let _second = elected_controllers(&kubeconfig, "second");
    let created = client
        .create("default", &replica_set("web", 2))
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    wait_for_owned(client, &uid, 2, "two pods from the leader").await;
    assert_eq!(lease_holder(client).await.as_deref(), Some("first"));

    // Killed without releasing the lease: the standby waits out the lease
    // duration, takes over, and reconciles.
    first.kill();
    wait_for("second holds the lease", DEADLINE, || async {
        lease_holder(client).await.as_deref() == Some("second")
    })
    .await;
    client
        .patch::<ReplicaSet>("default", "web", &json!({"spec": {"replicas": 3}}))
        .await
        .unwrap();
    wait_for_owned(client, &uid, 3, "the standby scaled up").await;
}

#[tokio::test]
async fn e2e_controllers_replication_controller_runs_on_the_replica_set_logic() {
    use api::k8s_openapi::api::core::v1::ReplicationController;
    let dir = tempfile::tempdir().unwrap();
    let server = RestApiserver::start(dir.path(), "memory").await;
    let kubeconfig = dir.path().join("pki").join("controller-manager.kubeconfig");
    let _controllers = elected_controllers(&kubeconfig, "only");
    let client = &server.client;
    let rc: ReplicationController = serde_json::from_value(json!({
        "metadata": {"name": "legacy"},
        "spec": {
            "replicas": 2,
            "selector": {"app": "legacy"},
            "template": {
                "metadata": {"labels": {"app": "legacy"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    }))
    .unwrap();
    let created = client.create("default", &rc).await.unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    let pods = wait_for_owned(client, &uid, 2, "two pods for the ReplicationController").await;
    let reference = pods[0]
        .metadata
        .owner_references
        .clone()
        .unwrap_or_default();
    assert_eq!(
        (
            reference[0].api_version.as_str(),
            reference[0].kind.as_str()
        ),
        ("v1", "ReplicationController")
    );
    client
        .patch::<ReplicationController>("default", "legacy", &json!({"spec": {"replicas": 3}}))
        .await
        .unwrap();
    wait_for_owned(client, &uid, 3, "scaled to three").await;
    wait_for("status.replicas = 3", DEADLINE, || async {
        client
            .get::<ReplicationController>("default", "legacy")
            .await
            .ok()
            .and_then(|rc| rc.status)
            .is_some_and(|status| status.replicas == 3)
    })
    .await;
    // Deleted (in the background), its pods are collected.
    client
        .delete::<ReplicationController>("default", "legacy", &DeleteParams::default())
        .await
        .unwrap();
    wait_for_owned(client, &uid, 0, "the pods collected").await;
}
