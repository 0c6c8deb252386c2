//! The whole Kubernetes backend in one process against a fake API server: a
//! tower service under `kube::Client` that serves lists from a scripted
//! cluster, holds watches open, and records every write. The scheduler must
//! list nodes and all pods, bind only its own pods with one `binding` POST
//! each (counting a pod of another scheduler on its node), write their
//! `Scheduled` events, report an unschedulable pod with `FailedScheduling`
//! and `PodScheduled=False`, and create and renew its lease.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

use super::KubeBackend;
use crate::config::{BackendKind, Config};

/// What the fake server holds and what it was sent.
#[derive(Default)]
struct FakeCluster {
    nodes: Vec<Value>,
    /// `namespace/name` → pod.
    pods: BTreeMap<String, Value>,
    /// `namespace/name` → lease.
    leases: BTreeMap<String, Value>,
    /// Binding bodies, in arrival order.
    bindings: Vec<Value>,
    events: Vec<Value>,
    /// Bodies of pod status writes.
    status_writes: Vec<Value>,
    next_resource_version: u64,
}

/// Shared with the service; a std Mutex, since nothing awaits under it.
type Shared = Arc<Mutex<FakeCluster>>;

fn reply(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

fn not_found(what: &str) -> Response<Body> {
    reply(
        StatusCode::NOT_FOUND,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": format!("{what} not found"), "reason": "NotFound", "code": 404}),
    )
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Response<Body> {
    reply(
        StatusCode::OK,
        &json!({"apiVersion": api_version, "kind": kind,
                "metadata": {"resourceVersion": "1"}, "items": items}),
    )
}

impl FakeCluster {
    fn bump(&mut self, object: &mut Value) {
        self.next_resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(self.next_resource_version.to_string());
    }

    fn handle(&mut self, method: &Method, path: &str, body: Value) -> Response<Body> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["api", "v1", "nodes"]) => list("NodeList", "v1", self.nodes.clone()),
            ("GET", ["api", "v1", "pods"]) => {
                list("PodList", "v1", self.pods.values().cloned().collect())
            }
            ("GET", ["api", "v1", "namespaces"]) => list(
                "NamespaceList",
                "v1",
                vec![json!({"metadata": {"name": "default", "labels": {"team": "web"}}})],
            ),
            ("GET", ["apis", "policy", "v1", "poddisruptionbudgets"]) => {
                list("PodDisruptionBudgetList", "policy/v1", Vec::new())
            }
            (
                "POST",
                [
                    "api",
                    "v1",
                    "namespaces",
                    namespace,
                    "pods",
                    name,
                    "binding",
                ],
            ) => {
                let key = format!("{namespace}/{name}");
                let Some(pod) = self.pods.get_mut(&key) else {
                    return not_found(&key);
                };
                pod["spec"]["nodeName"] = body["target"]["name"].clone();
                self.bindings.push(body);
                reply(
                    StatusCode::CREATED,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}),
                )
            }
            ("POST", ["api", "v1", "namespaces", _, "events"]) => {
                self.events.push(body.clone());
                reply(StatusCode::CREATED, &body)
            }
            ("GET", ["api", "v1", "namespaces", namespace, "pods", name]) => {
                match self.pods.get(&format!("{namespace}/{name}")) {
                    Some(pod) => reply(StatusCode::OK, pod),
                    None => not_found(name),
                }
            }
            ("PUT", ["api", "v1", "namespaces", namespace, "pods", name, "status"]) => {
                let key = format!("{namespace}/{name}");
                let Some(mut pod) = self.pods.get(&key).cloned() else {
                    return not_found(&key);
                };
                pod["status"] = body["status"].clone();
                self.bump(&mut pod);
                self.status_writes.push(body);
                self.pods.insert(key, pod.clone());
                reply(StatusCode::OK, &pod)
            }
            (
                "GET",
                [
                    "apis",
                    "coordination.k8s.io",
                    "v1",
                    "namespaces",
                    namespace,
                    "leases",
                    name,
                ],
            ) => match self.leases.get(&format!("{namespace}/{name}")) {
                Some(lease) => reply(StatusCode::OK, lease),
                None => not_found(name),
            },
            (
                "POST",
                [
                    "apis",
                    "coordination.k8s.io",
                    "v1",
                    "namespaces",
                    namespace,
                    "leases",
                ],
            ) => {
                let mut lease = body;
                let key = format!(
                    "{namespace}/{}",
                    lease["metadata"]["name"].as_str().unwrap()
                );
                self.bump(&mut lease);
                self.leases.insert(key, lease.clone());
                reply(StatusCode::CREATED, &lease)
            }
            (
                "PUT",
                [
                    "apis",
                    "coordination.k8s.io",
                    "v1",
                    "namespaces",
                    namespace,
                    "leases",
                    name,
                ],
            ) => {
                let mut lease = body;
                self.bump(&mut lease);
                self.leases
                    .insert(format!("{namespace}/{name}"), lease.clone());
                reply(StatusCode::OK, &lease)
            }
            _ => not_found(path),
        }
    }
}

/// A kube client whose requests the fake cluster answers; watches stay open
/// without events.
fn fake_client(cluster: Shared) -> kube::Client {
    let service = tower::service_fn(move |request: Request<Body>| {
        let cluster = cluster.clone();
        async move {
            let watching = request
                .uri()
                .query()
                .is_some_and(|query| query.split('&').any(|pair| pair == "watch=true"));
            if watching {
                // A quiet watch: nothing changes in the scripted cluster.
                std::future::pending::<()>().await;
            }
            let method = request.method().clone();
            let path = request.uri().path().to_string();
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let body: Value = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            };
            let response = cluster.lock().unwrap().handle(&method, &path, body);
            Ok::<_, Infallible>(response)
        }
    });
    kube::Client::new(service, "default")
}

fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
           "status": {"allocatable": {"cpu": "1", "memory": "2Gi", "pods": "110"},
                      "capacity": {"cpu": "1", "memory": "2Gi", "pods": "110"}}})
}

fn pod(name: &str, scheduler_name: &str, cpu: &str, node: Option<&str>) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "1"},
        "spec": {"schedulerName": scheduler_name,
                 "containers": [{"name": "c", "image": "nginx",
                                 "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
        "status": {"phase": if node.is_some() { "Running" } else { "Pending" }},
    });
    if let Some(node) = node {
        pod["spec"]["nodeName"] = json!(node);
    }
    pod
}

fn config() -> Config {
    let mut config = Config::for_backend(BackendKind::Kubernetes);
    config.identity = "fake-replica".to_string();
    config.metrics_listen = None;
    config.parallelism = 1;
    config.failed_scheduling_report_interval = Duration::from_millis(50);
    config.queue.initial_backoff = Duration::from_millis(20);
    config.queue.max_backoff = Duration::from_millis(100);
    let election = &mut config.leader_election;
    election.lease_duration = Duration::from_secs(2);
    election.renew_deadline = Duration::from_secs(1);
    election.retry_period = Duration::from_millis(50);
    config
}

/// Waits until `condition` holds on the cluster, or fails after 20 s.
async fn wait_for(cluster: &Shared, what: &str, condition: impl Fn(&FakeCluster) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition(&cluster.lock().unwrap()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 20s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn node_of(cluster: &FakeCluster, name: &str) -> Option<String> {
    cluster.pods[&format!("default/{name}")]["spec"]["nodeName"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_its_own_pods_through_a_kubernetes_api() {
    let cluster: Shared = Arc::default();
    {
        let mut state = cluster.lock().unwrap();
        state.nodes = vec![node("node-a"), node("node-b")];
        // Another scheduler's pod fills node-a: every pod counts on its node.
        for pod in [
            pod("theirs-bound", "default-scheduler", "1", Some("node-a")),
            pod("theirs-pending", "default-scheduler", "100m", None),
            pod("web-0", "skiff-scheduler", "250m", None),
            pod("web-1", "skiff-scheduler", "250m", None),
            pod("web-2", "skiff-scheduler", "250m", None),
            pod("huge", "skiff-scheduler", "8", None),
        ] {
            let name = pod["metadata"]["name"].as_str().unwrap().to_string();
            state.pods.insert(format!("default/{name}"), pod);
        }
    }
    let backend = KubeBackend::with_client(fake_client(cluster.clone()), "skiff-scheduler".into());
    let scheduler = crate::Scheduler::start_with(backend, config())
        .await
        .unwrap();

    wait_for(&cluster, "three bindings", |state| {
        state.bindings.len() >= 3
    })
    .await;
    wait_for(&cluster, "three Scheduled events", |state| {
        state
            .events
            .iter()
            .filter(|event| event["reason"] == "Scheduled")
            .count()
            >= 3
    })
    .await;
    wait_for(&cluster, "huge reported", |state| {
        let reported = state.events.iter().any(|event| {
            event["reason"] == "FailedScheduling" && event["involvedObject"]["name"] == "huge"
        });
        let condition = state.status_writes.iter().any(|write| {
            write["metadata"]["name"] == "huge"
                && write["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|condition| {
                        condition["type"] == "PodScheduled"
                            && condition["status"] == "False"
                            && condition["reason"] == "Unschedulable"
                    })
        });
        reported && condition
    })
    .await;
    scheduler.stop().await.unwrap();

    let state = cluster.lock().unwrap();
    for name in ["web-0", "web-1", "web-2"] {
        assert_eq!(node_of(&state, name).as_deref(), Some("node-b"), "{name}");
    }
    assert_eq!(node_of(&state, "theirs-pending"), None);
    assert_eq!(node_of(&state, "huge"), None);
    assert_eq!(state.bindings.len(), 3, "one binding per pod");
    let web_0 = state
        .bindings
        .iter()
        .find(|binding| binding["metadata"]["name"] == "web-0")
        .unwrap();
    assert_eq!(web_0["metadata"]["uid"], "uid-web-0");
    assert_eq!(
        web_0["target"],
        json!({"apiVersion": "v1", "kind": "Node", "name": "node-b"})
    );
    assert!(state.events.iter().any(|event| {
        event["reason"] == "Scheduled"
            && event["message"] == "Successfully assigned default/web-1 to node-b"
            && event["source"]["component"] == "skiff-scheduler"
    }));
    let failed = state
        .events
        .iter()
        .find(|event| event["reason"] == "FailedScheduling")
        .unwrap();
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("Insufficient cpu"),
        "{failed}"
    );
    // Held while scheduling, released (no holder) on stop.
    let lease = &state.leases["kube-system/skiff-scheduler"];
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 1);
    assert!(lease["spec"]["holderIdentity"].is_null());
    assert_eq!(lease["spec"]["leaseTransitions"], 0);
}
