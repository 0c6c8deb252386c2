//! Harness: an apiserver and schedulers in-process, object builders, and
//! waiting on conditions with deadlines.

use std::net::SocketAddr;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Event, Node, Pod};
use client::{Client, ListParams};
use scheduler_shell::{Config, Scheduler};
use serde_json::json;

pub(crate) use testkit::{TestApiserver, wait_until};

pub(crate) async fn start_apiserver() -> TestApiserver {
    TestApiserver::start().await
}

/// With `bind_arbiter` off the apiserver accepts binds past a node's
/// allocatable, as Kubernetes does.
pub(crate) async fn start_apiserver_with(bind_arbiter: bool) -> TestApiserver {
    TestApiserver::start_with(|config| config.bind_arbiter = bind_arbiter).await
}

/// A scheduler config for tests: no leader election, short timers, metrics
/// on a free port.
pub(crate) fn config(apiserver: &TestApiserver) -> Config {
    let mut config = Config {
        server: Some(apiserver.address.to_string()),
        parallelism: 2,
        failed_scheduling_report_interval: Duration::from_millis(50),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Config::default()
    };
    config.queue.initial_backoff = Duration::from_millis(20);
    config.queue.max_backoff = Duration::from_millis(100);
    config.leader_election.leader_elect = false;
    config
}

pub(crate) async fn start_scheduler(config: Config) -> Scheduler {
    Scheduler::start(config).await.unwrap()
}

pub(crate) fn node(name: &str, cpu: &str, memory: &str, pods: u32) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": pods.to_string()},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods.to_string()}
        }
    }))
    .unwrap()
}

pub(crate) fn pod(name: &str, cpu: &str, memory: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "test"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "nginx",
                "resources": {"requests": {"cpu": cpu, "memory": memory}}}]
        }
    }))
    .unwrap()
}

pub(crate) async fn create_nodes(client: &Client, nodes: &[Node]) {
    for node in nodes {
        client.create("", node).await.unwrap();
    }
}

pub(crate) async fn create_pods(client: &Client, pods: &[Pod]) {
    for result in client.batch_create("default", pods).await.unwrap() {
        result.unwrap();
    }
}

pub(crate) async fn pods(client: &Client) -> Vec<Pod> {
    client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items
}

pub(crate) fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .filter(|name| !name.is_empty())
}

pub(crate) fn name_of(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

pub(crate) async fn bound_count(client: &Client) -> usize {
    pods(client)
        .await
        .iter()
        .filter(|pod| node_of(pod).is_some())
        .count()
}

/// The pod's node once bound; panics after `deadline`.
pub(crate) async fn wait_bound(client: &Client, name: &str, deadline: Duration) -> String {
    let start = tokio::time::Instant::now();
    loop {
        let pod: Pod = client.get("default", name).await.unwrap();
        if let Some(node) = node_of(&pod) {
            return node.to_string();
        }
        assert!(
            start.elapsed() < deadline,
            "pod {name} not bound within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// FailedScheduling events of a pod.
pub(crate) async fn failed_scheduling_messages(client: &Client, pod: &str) -> Vec<String> {
    client
        .list::<Event>(
            "default",
            &ListParams::default()
                .fields(format!("involvedObject.name={pod},reason=FailedScheduling")),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|event| event.message)
        .collect()
}

/// One HTTP/1.1 GET; the status code and body.
pub(crate) async fn http_get(address: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let header_end = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap();
    let head = String::from_utf8_lossy(&response[..header_end]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = response[header_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return body;
        }
        let start = line_end + 2;
        body.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}
