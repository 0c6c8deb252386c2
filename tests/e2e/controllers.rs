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

/// Two controllers processes: `first`, once it holds the lease, and
/// `second` standing by.
async fn leader_and_standby(kubeconfig: &std::path::Path, client: &Client) -> (Process, Process) {
    let first = elected_controllers(kubeconfig, "first");
    wait_for("first holds the lease", DEADLINE, || async {
        lease_holder(client).await.as_deref() == Some("first")
    })
    .await;
    (first, elected_controllers(kubeconfig, "second"))
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
    let (first, _second) = leader_and_standby(&kubeconfig, client).await;
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

/// The most pods of `app=web` alive at once (not being deleted, not
/// finished), over every change a watch of `default` reports, until the
/// task is aborted.
fn record_most_alive(
    client: Client,
) -> (
    tokio::task::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use futures::StreamExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&most);
    let task = tokio::spawn(async move {
        let (mut writer, store) = runtime::reflector::store::<Pod>();
        let stream = runtime::watcher::<Pod>(client, "default", ListParams::default());
        futures::pin_mut!(stream);
        while let Some(Ok(event)) = stream.next().await {
            writer.apply(event);
            let alive = store
                .list()
                .iter()
                .filter(|pod| {
                    pod.metadata.deletion_timestamp.is_none()
                        && pod
                            .metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get("app"))
                            .map(String::as_str)
                            == Some("web")
                        && !matches!(
                            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
                            Some("Succeeded" | "Failed")
                        )
                })
                .count();
            seen.fetch_max(alive, Ordering::Relaxed);
        }
    });
    (task, most)
}

/// A component of the cluster in `dir` with its own kubeconfig.
fn component(binary: &str, dir: &std::path::Path, kubeconfig: &str, args: &[&str]) -> Process {
    Process::spawn(
        Command::new(binary)
            .arg("--kubeconfig")
            .arg(dir.join("pki").join(kubeconfig))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

#[tokio::test]
async fn e2e_controllers_a_rollout_survives_the_leader_killed_mid_way() {
    use api::k8s_openapi::api::apps::v1::Deployment;
    let dir = tempfile::tempdir().unwrap();
    let server = RestApiserver::start(dir.path(), "memory").await;
    let kubeconfig = dir.path().join("pki").join("controller-manager.kubeconfig");
    let client = &server.client;
    let (first, _second) = leader_and_standby(&kubeconfig, client).await;
    let _scheduler = component(
        env!("CARGO_BIN_EXE_scheduler"),
        dir.path(),
        "scheduler.kubeconfig",
        &["--metrics-listen", "127.0.0.1:0"],
    );
    // Pods take a moment to start, so the rollout takes several steps.
    let _kubelet = component(
        env!("CARGO_BIN_EXE_kubelet"),
        dir.path(),
        "kubelet.kubeconfig",
        &[
            "--hollow",
            "--nodes",
            "3",
            "--node-prefix",
            "failover",
            "--connections",
            "1",
            "--zones",
            "0",
            "--pod-start-delay",
            "300ms",
            "--pod-start-jitter",
            "0s",
        ],
    );
    let (watch, most_alive) = record_most_alive(client.clone());
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.0"}]}
            }
        }
    }))
    .unwrap();
    client.create("default", &deployment).await.unwrap();
    let rolled_out = |generation: i64| async move {
        client
            .get::<Deployment>("default", "web")
            .await
            .ok()
            .and_then(|d| d.status)
            .is_some_and(|s| {
                s.observed_generation == Some(generation)
                    && s.updated_replicas == Some(10)
                    && s.available_replicas == Some(10)
                    && s.replicas == Some(10)
            })
    };
    wait_for("the first rollout", Duration::from_secs(60), || {
        rolled_out(1)
    })
    .await;

    // A new image; once its ReplicaSet has pods, the leader dies.
    client
        .patch::<Deployment>(
            "default",
            "web",
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2.0"}]}}}}),
        )
        .await
        .unwrap();
    let replica_sets = || async {
        client
            .list::<ReplicaSet>("default", &ListParams::default())
            .await
            .map(|list| list.items)
            .unwrap_or_default()
    };
    wait_for("the new ReplicaSet under way", DEADLINE, || async {
        replica_sets().await.iter().any(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref())
                .is_some_and(|s| s.containers[0].image.as_deref() == Some("nginx:2.0"))
                && rs.status.as_ref().is_some_and(|s| s.replicas >= 2)
        })
    })
    .await;
    first.kill();
    wait_for("second holds the lease", DEADLINE, || async {
        lease_holder(client).await.as_deref() == Some("second")
    })
    .await;
    wait_for(
        "the rollout finished by the standby",
        Duration::from_secs(60),
        || rolled_out(2),
    )
    .await;
    watch.abort();

    // One ReplicaSet per template, and never more pods than maxSurge allows.
    let sets = replica_sets().await;
    assert_eq!(
        sets.len(),
        2,
        "{:?}",
        sets.iter()
            .map(|rs| rs.metadata.name.clone())
            .collect::<Vec<_>>()
    );
    let most = most_alive.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        most <= 12,
        "{most} pods alive at once, more than 10 + maxSurge 2"
    );
    assert!(most >= 10, "the watch saw the pods ({most})");
}

#[tokio::test]
async fn e2e_controllers_every_namespace_keeps_its_default_service_account() {
    use api::k8s_openapi::api::core::v1::ServiceAccount;
    let dir = tempfile::tempdir().unwrap();
    let server = RestApiserver::start(dir.path(), "memory").await;
    let kubeconfig = dir.path().join("pki").join("controller-manager.kubeconfig");
    let _controllers = elected_controllers(&kubeconfig, "only");
    let client = &server.client;
    let before = client
        .get::<ServiceAccount>("default", "default")
        .await
        .unwrap();
    client
        .delete::<ServiceAccount>("default", "default", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        "the default ServiceAccount made again",
        DEADLINE,
        || async {
            client
                .get::<ServiceAccount>("default", "default")
                .await
                .is_ok_and(|account| account.metadata.uid != before.metadata.uid)
        },
    )
    .await;
}
