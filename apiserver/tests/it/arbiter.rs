//! The bind arbiter: binds and creates with `nodeName` that would
//! overcommit a node, reuse a host port or break hostname anti-affinity are
//! rejected with nothing changed; deletes and finished pods release; two
//! apiservers over one store never overcommit. Every test runs on the
//! memory and the redb store.

use std::sync::Arc;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use apiserver::Config;
use client::{Binding, Client, DeleteParams, ListParams};
use serde_json::{Value, json};
use store::{Store, StoreExt};

use crate::common::{TestServer, start_with};

#[derive(Clone, Copy, Debug)]
enum Backend {
    Memory,
    Redb,
}

/// A store of `backend`; the directory lives as long as the store is used.
fn open_store(backend: Backend) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match backend {
        Backend::Memory => (crate::common::memory_store(), None),
        Backend::Redb => {
            let dir = tempfile::tempdir().unwrap();
            let backend = store::Backend::Redb {
                data_dir: dir.path().to_path_buf(),
            };
            let store = store::open(&backend, store::StoreConfig::default()).unwrap();
            (store, Some(dir))
        }
    }
}

async fn start_on(backend: Backend) -> (TestServer, Option<tempfile::TempDir>) {
    let (store, dir) = open_store(backend);
    (start_with(Config::new(store)).await, dir)
}

fn node(name: &str, allocatable: Value) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"allocatable": allocatable, "capacity": allocatable}
    }))
    .unwrap()
}

fn pod(name: &str, labels: Value, spec: Value) -> Pod {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "nginx"}]);
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": spec
    }))
    .unwrap()
}

fn requesting(cpu: &str, memory: &str) -> Value {
    json!({"containers": [{"name": "c", "image": "nginx",
        "resources": {"requests": {"cpu": cpu, "memory": memory}}}]})
}

fn with_host_port(port: u16, host_ip: &str) -> Value {
    json!({"containers": [{"name": "c", "image": "nginx",
        "ports": [{"containerPort": 80, "hostPort": port, "hostIP": host_ip}]}]})
}

fn avoiding(app: &str) -> Value {
    json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"}]}}})
}

async fn node_of(client: &Client, name: &str) -> Option<String> {
    let pod: Pod = client.get("default", name).await.unwrap();
    pod.spec.unwrap().node_name
}

/// Mod revision and version of a node's usage record (0, 0 if absent).
async fn record_state(store: &Arc<dyn Store>, node: &str) -> (i64, i64) {
    store
        .get(&format!("/skiff/nodeusage/{node}"))
        .await
        .unwrap()
        .map_or((0, 0), |kv| (kv.mod_revision, kv.version))
}

async fn bind_error(client: &Client, pod: &str, node: &str) -> String {
    let error = client.bind("default", pod, node).await.unwrap_err();
    assert!(error.is_conflict(), "{error}");
    error.to_string()
}

async fn bind_beyond_allocatable_is_rejected_and_nothing_changes(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "1", "memory": "1Gi", "pods": "3"})),
        )
        .await
        .unwrap();
    for (name, cpu, memory) in [
        ("a", "600m", "100Mi"),
        ("cpu-hog", "600m", "100Mi"),
        ("mem-hog", "100m", "1000Mi"),
        ("b", "100m", "100Mi"),
        ("c", "100m", "100Mi"),
        ("d", "100m", "100Mi"),
    ] {
        client
            .create("default", &pod(name, json!({}), requesting(cpu, memory)))
            .await
            .unwrap();
    }
    client.bind("default", "a", "n1").await.unwrap();
    let before = record_state(&server.store, "n1").await;
    assert_eq!(before.1, 1);
    let message = bind_error(client, "cpu-hog", "n1").await;
    assert!(
        message.contains("node(s) didn't have enough cpu: pod requests 600m, node has 400m free"),
        "{message}"
    );
    let message = bind_error(client, "mem-hog", "n1").await;
    assert!(
        message.contains(
            "node(s) didn't have enough memory: pod requests 1000Mi, node has 924Mi free"
        ),
        "{message}"
    );
    assert_eq!(node_of(client, "cpu-hog").await, None);
    assert_eq!(node_of(client, "mem-hog").await, None);
    assert_eq!(record_state(&server.store, "n1").await, before);
    client.bind("default", "b", "n1").await.unwrap();
    client.bind("default", "c", "n1").await.unwrap();
    let message = bind_error(client, "d", "n1").await;
    assert!(message.contains("too many pods"), "{message}");
    assert_eq!(node_of(client, "d").await, None);
    // A missing node is not found, naming it.
    let error = client.bind("default", "d", "nope").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains("nope"), "{error}");
}

async fn host_port_conflicts_are_rejected(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "4", "memory": "4Gi", "pods": "10"})),
        )
        .await
        .unwrap();
    for (name, port, ip) in [
        ("wildcard", 8080, ""),
        ("specific", 8080, "10.0.0.1"),
        ("other-port", 8081, "10.0.0.1"),
        ("same-ip", 8081, "10.0.0.1"),
        ("other-ip", 8081, "10.0.0.2"),
    ] {
        client
            .create("default", &pod(name, json!({}), with_host_port(port, ip)))
            .await
            .unwrap();
    }
    client.bind("default", "wildcard", "n1").await.unwrap();
    let message = bind_error(client, "specific", "n1").await;
    assert!(
        message.contains("didn't have free ports for the requested pod ports: TCP 0.0.0.0:8080"),
        "{message}"
    );
    client.bind("default", "other-port", "n1").await.unwrap();
    bind_error(client, "same-ip", "n1").await;
    client.bind("default", "other-ip", "n1").await.unwrap();
    assert_eq!(node_of(client, "specific").await, None);
    assert_eq!(node_of(client, "same-ip").await, None);
}

async fn hostname_anti_affinity_is_enforced_both_ways(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    let room = json!({"cpu": "4", "memory": "4Gi", "pods": "10"});
    for name in ["n1", "n2"] {
        client.create("", &node(name, room.clone())).await.unwrap();
    }
    client
        .create("default", &pod("db", json!({"app": "db"}), json!({})))
        .await
        .unwrap();
    client
        .create(
            "default",
            &pod("web", json!({"app": "web"}), avoiding("db")),
        )
        .await
        .unwrap();
    client
        .create("default", &pod("db-2", json!({"app": "db"}), json!({})))
        .await
        .unwrap();
    client.bind("default", "db", "n1").await.unwrap();
    // The incoming pod's anti-affinity selects a pod on n1.
    let message = bind_error(client, "web", "n1").await;
    assert!(
        message.contains("didn't match pod anti-affinity rules"),
        "{message}"
    );
    client.bind("default", "web", "n2").await.unwrap();
    // A pod on n2 has anti-affinity that selects the incoming pod.
    let message = bind_error(client, "db-2", "n2").await;
    assert!(
        message.contains("didn't satisfy existing pods anti-affinity rules"),
        "{message}"
    );
    client.bind("default", "db-2", "n1").await.unwrap();
    // Relabelling a bound pod updates its node's record.
    client
        .create(
            "default",
            &pod("web-2", json!({"app": "web"}), avoiding("db")),
        )
        .await
        .unwrap();
    bind_error(client, "web-2", "n1").await;
    for name in ["db", "db-2"] {
        let patch = json!({"metadata": {"labels": {"app": "cache"}}});
        client.patch::<Pod>("default", name, &patch).await.unwrap();
    }
    client.bind("default", "web-2", "n1").await.unwrap();
}

async fn create_with_node_name_is_arbitrated(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "1", "memory": "1Gi", "pods": "10"})),
        )
        .await
        .unwrap();
    let bound = |name: &str, node: &str, spec: Value| {
        let mut spec = spec;
        spec["nodeName"] = json!(node);
        pod(name, json!({}), spec)
    };
    client
        .create("default", &bound("a", "n1", requesting("600m", "0")))
        .await
        .unwrap();
    let error = client
        .create("default", &bound("b", "n1", requesting("600m", "0")))
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error}");
    assert!(
        error
            .to_string()
            .contains("didn't have enough cpu: pod requests 600m, node has 400m free"),
        "{error}"
    );
    assert!(
        client
            .get::<Pod>("default", "b")
            .await
            .unwrap_err()
            .is_not_found()
    );
    // The created pod counts for binds too.
    client
        .create("default", &pod("c", json!({}), requesting("600m", "0")))
        .await
        .unwrap();
    bind_error(client, "c", "n1").await;
    // Ahead of its Node a pod is accepted and its host ports are counted.
    client
        .create("default", &bound("early", "ghost", with_host_port(80, "")))
        .await
        .unwrap();
    let error = client
        .create(
            "default",
            &bound("early-2", "ghost", with_host_port(80, "")),
        )
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error}");
}

async fn delete_and_finished_pods_release_capacity(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "1", "memory": "1Gi", "pods": "10"})),
        )
        .await
        .unwrap();
    for name in ["a", "b", "c"] {
        client
            .create("default", &pod(name, json!({}), requesting("600m", "0")))
            .await
            .unwrap();
    }
    client.bind("default", "a", "n1").await.unwrap();
    bind_error(client, "b", "n1").await;
    // a finishes: its resources are free again.
    let mut a: Pod = client.get("default", "a").await.unwrap();
    a.status.as_mut().unwrap().phase = Some("Succeeded".to_string());
    client.update_status(&a).await.unwrap();
    client.bind("default", "b", "n1").await.unwrap();
    bind_error(client, "c", "n1").await;
    // A delete waiting out its grace period still holds the resources.
    client
        .delete::<Pod>("default", "b", &DeleteParams::default())
        .await
        .unwrap();
    bind_error(client, "c", "n1").await;
    // Gone for good: released.
    client
        .delete::<Pod>("default", "b", &DeleteParams::immediate())
        .await
        .unwrap();
    client.bind("default", "c", "n1").await.unwrap();
    // Deleting the finished pod releases nothing twice.
    client
        .delete::<Pod>("default", "a", &DeleteParams::immediate())
        .await
        .unwrap();
    client
        .create("default", &pod("d", json!({}), requesting("600m", "0")))
        .await
        .unwrap();
    bind_error(client, "d", "n1").await;
}

async fn batch_has_mixed_outcomes_and_one_record_update(backend: Backend) {
    let (server, _dir) = start_on(backend).await;
    let client = &server.client;
    for name in ["n1", "n2"] {
        client
            .create(
                "",
                &node(name, json!({"cpu": "1", "memory": "1Gi", "pods": "10"})),
            )
            .await
            .unwrap();
    }
    for name in ["a", "b", "too-big", "taken"] {
        client
            .create("default", &pod(name, json!({}), requesting("400m", "0")))
            .await
            .unwrap();
    }
    client.bind("default", "taken", "n2").await.unwrap();
    let binding = |pod: &str, node: &str| Binding {
        namespace: "default".into(),
        pod: pod.into(),
        node: node.into(),
    };
    let results = client
        .batch_bind(&[
            binding("a", "n1"),
            binding("missing", "n1"),
            binding("b", "n1"),
            binding("too-big", "n1"),
            binding("taken", "n1"),
            binding("a", "nope"),
        ])
        .await
        .unwrap();
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].as_ref().unwrap_err().is_not_found());
    assert!(results[2].is_ok(), "{:?}", results[2]);
    let too_big = results[3].as_ref().unwrap_err();
    assert!(
        too_big.is_conflict()
            && too_big
                .to_string()
                .contains("pod requests 400m, node has 200m free"),
        "{too_big}"
    );
    let taken = results[4].as_ref().unwrap_err();
    assert!(
        taken.is_conflict() && taken.to_string().contains("already assigned"),
        "{taken}"
    );
    let missing_node = results[5].as_ref().unwrap_err();
    assert!(
        missing_node.is_not_found() || missing_node.is_conflict(),
        "{missing_node}"
    );
    // Both accepted pods went in with one record write.
    assert_eq!(record_state(&server.store, "n1").await.1, 1);
    assert_eq!(node_of(client, "a").await.as_deref(), Some("n1"));
    assert_eq!(node_of(client, "b").await.as_deref(), Some("n1"));
    assert_eq!(node_of(client, "too-big").await, None);
}

/// Two apiservers over one store, many concurrent binds to one node that
/// has room for 20 of them: never more than 20 bound, and the record stays
/// exact (binding the rest one by one stops at exactly 20).
async fn two_apiservers_racing_never_overcommit(backend: Backend) {
    const PODS: usize = 60;
    const FIT: usize = 20;
    let (store, _dir) = open_store(backend);
    let first = start_with(Config::new(store.clone())).await;
    let second = start_with(Config::new(store.clone())).await;
    let client = &first.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "10", "memory": "64Gi", "pods": "1000"})),
        )
        .await
        .unwrap();
    let pods: Vec<Pod> = (0..PODS)
        .map(|i| pod(&format!("p{i}"), json!({}), requesting("500m", "0")))
        .collect();
    for result in client.batch_create("default", &pods).await.unwrap() {
        result.unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..PODS {
        let client = if i % 2 == 0 {
            first.client.clone()
        } else {
            second.client.clone()
        };
        tasks.push(tokio::spawn(async move {
            let name = format!("p{i}");
            if i % 3 == 0 {
                let binding = Binding {
                    namespace: "default".into(),
                    pod: name,
                    node: "n1".into(),
                };
                client.batch_bind(&[binding]).await.unwrap().pop().unwrap()
            } else {
                client.bind("default", &name, "n1").await.map(|_| ())
            }
        }));
    }
    for task in tasks {
        if let Err(error) = task.await.unwrap() {
            assert!(error.is_conflict(), "{error}");
        }
    }
    let bound = |pods: &[Pod]| {
        pods.iter()
            .filter(|p| p.spec.as_ref().unwrap().node_name.as_deref() == Some("n1"))
            .count()
    };
    let listed = client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items;
    let raced = bound(&listed);
    assert!((1..=FIT).contains(&raced), "{raced} pods bound");
    for pod in &listed {
        let name = pod.metadata.name.as_deref().unwrap();
        if pod.spec.as_ref().unwrap().node_name.is_none() {
            let _ = second.client.bind("default", name, "n1").await;
        }
    }
    let listed = client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(bound(&listed), FIT);
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Memory).await;
                }
            )*
        }
        mod redb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Redb).await;
                }
            )*
        }
    };
}

on_both_backends!(
    bind_beyond_allocatable_is_rejected_and_nothing_changes,
    host_port_conflicts_are_rejected,
    hostname_anti_affinity_is_enforced_both_ways,
    create_with_node_name_is_arbitrated,
    delete_and_finished_pods_release_capacity,
    batch_has_mixed_outcomes_and_one_record_update,
    two_apiservers_racing_never_overcommit,
);

/// Switched off, the apiserver accepts what Kubernetes accepts (the
/// kubelet's admission is then the only check).
#[tokio::test]
async fn switched_off_accepts_overcommit() {
    let mut config = Config::new(crate::common::memory_store());
    config.bind_arbiter = false;
    let server = start_with(config).await;
    let client = &server.client;
    client
        .create(
            "",
            &node("n1", json!({"cpu": "1", "memory": "1Gi", "pods": "10"})),
        )
        .await
        .unwrap();
    for name in ["a", "b"] {
        client
            .create("default", &pod(name, json!({}), requesting("600m", "0")))
            .await
            .unwrap();
        client.bind("default", name, "n1").await.unwrap();
    }
    let mut bound = pod("c", json!({}), requesting("600m", "0"));
    bound.spec.as_mut().unwrap().node_name = Some("n1".to_string());
    client.create("default", &bound).await.unwrap();
}
