//! Pods bound to hollow nodes: start, completion, admission, graceful
//! deletion, and the resource metrics of running pods.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{DeleteOutcome, DeleteParams};
use kubelet::hollow::{HollowKubelet, RUN_SECONDS_ANNOTATION};
use kubelet::ipam::Ipv4Cidr;
use kubelet::{BUILT_IN_TEMPLATE, NodeTemplate};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    create_bound, fast_config, phase, pod, start_apiserver, start_apiserver_with, wait_for_pod,
    wait_until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_pod_becomes_running_with_ips_conditions_and_usage() {
    let server = start_apiserver().await;
    let client = &server.client;
    let mut config = fast_config(3);
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let kubelet = HollowKubelet::start(client.clone(), config).await.unwrap();

    create_bound(client, &pod("web", "500m"), "hollow-node-2").await;
    let running = wait_for_pod(client, "web", |p| phase(p) == "Running").await;
    let node: Node = client.get("", "hollow-node-2").await.unwrap();
    let status = running.status.as_ref().unwrap();
    let cidr: Ipv4Cidr = node
        .spec
        .as_ref()
        .unwrap()
        .pod_cidr
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let pod_ip: Ipv4Addr = status.pod_ip.as_deref().unwrap().parse().unwrap();
    assert!(cidr.contains(pod_ip), "{pod_ip} in {cidr}");
    let internal_ip = &node.status.as_ref().unwrap().addresses.as_ref().unwrap()[0].address;
    assert_eq!(status.host_ip.as_ref(), Some(internal_ip));
    assert!(status.start_time.is_some());
    assert_eq!(
        status.qos_class.as_deref(),
        Some("Burstable"),
        "kept from the apiserver"
    );
    let conditions: Vec<(&str, &str)> = status
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect();
    for expected in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
        assert!(
            conditions.contains(&(expected, "True")),
            "{expected} in {conditions:?}"
        );
    }
    let container = &status.container_statuses.as_ref().unwrap()[0];
    assert!(container.ready && container.started == Some(true));
    assert_eq!(container.restart_count, 0);
    assert_eq!(container.image, "nginx:1.27");
    assert!(container.state.as_ref().unwrap().running.is_some());

    // Synthetic usage: around half the 500m request.
    let usage = kubelet.usage().pod("default", "web").unwrap();
    let milli_cpu = usage.containers[0].milli_cpu;
    assert!((125.0..=375.0).contains(&milli_cpu), "{milli_cpu}");
    let body = http_get(
        kubelet.metrics_address().unwrap(),
        "/metrics/resource?node=hollow-node-2",
    )
    .await;
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(body.contains(
        "container_memory_working_set_bytes{container=\"app\",namespace=\"default\",node=\"hollow-node-2\",pod=\"web\"}"
    ));
    assert!(body.contains("node_cpu_usage_seconds_total{node=\"hollow-node-2\"}"));
    assert_eq!(kubelet.stats().pods_started.load(Ordering::Relaxed), 1);
    kubelet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_delete_is_finished_and_the_pod_disappears() {
    let server = start_apiserver().await;
    let client = &server.client;
    let kubelet = HollowKubelet::start(client.clone(), fast_config(2))
        .await
        .unwrap();
    create_bound(client, &pod("doomed", "100m"), "hollow-node-0").await;
    wait_for_pod(client, "doomed", |p| phase(p) == "Running").await;
    let outcome = client
        .delete::<Pod>("default", "doomed", &DeleteParams::default())
        .await
        .unwrap();
    let DeleteOutcome::Pending(pending) = outcome else {
        panic!("a bound pod waits for its kubelet")
    };
    assert!(pending.metadata.deletion_timestamp.is_some());
    wait_until(Duration::from_secs(10), || {
        let client = client.clone();
        async move {
            client
                .get::<Pod>("default", "doomed")
                .await
                .is_err_and(|e| e.is_not_found())
        }
    })
    .await;
    // The kubelet counts the delete when its call returns, which may be
    // after the pod is seen gone here.
    wait_until(Duration::from_secs(10), || async {
        kubelet.stats().pods_deleted.load(Ordering::Relaxed) > 0
    })
    .await;
    assert_eq!(kubelet.stats().pods_deleted.load(Ordering::Relaxed), 1);
    assert!(kubelet.usage().pod("default", "doomed").is_none());
    kubelet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_to_completion_pods_finish() {
    let server = start_apiserver().await;
    let client = &server.client;
    let kubelet = HollowKubelet::start(client.clone(), fast_config(1))
        .await
        .unwrap();
    let job_pod = |name: &str, policy: &str, exit_code: &str| -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "annotations": {
                RUN_SECONDS_ANNOTATION: "0.2", "skiff.dev/hollow-exit-code": exit_code}},
            "spec": {"restartPolicy": policy,
                     "containers": [{"name": "work", "image": "busybox:1.37"}]}
        }))
        .unwrap()
    };
    create_bound(client, &job_pod("ok", "Never", "0"), "hollow-node-0").await;
    create_bound(client, &job_pod("bad", "Never", "3"), "hollow-node-0").await;
    create_bound(client, &job_pod("server", "Always", "0"), "hollow-node-0").await;
    let ok = wait_for_pod(client, "ok", |p| phase(p) == "Succeeded").await;
    let terminated = ok.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (0, Some("Completed"))
    );
    let bad = wait_for_pod(client, "bad", |p| phase(p) == "Failed").await;
    let terminated = bad.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.exit_code, 3);
    // restartPolicy Always ignores the annotation.
    wait_for_pod(client, "server", |p| phase(p) == "Running").await;
    kubelet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_beyond_allocatable_are_rejected_and_others_ignored() {
    // The apiserver's bind arbiter would refuse these pods before the
    // kubelet sees them.
    let server = start_apiserver_with(false).await;
    let client = &server.client;
    let mut config = fast_config(1);
    config.template = NodeTemplate::parse(
        &BUILT_IN_TEMPLATE
            .replace("cpu: 31850m", "cpu: 1500m")
            .replace("cpu: \"32\"", "cpu: \"2\""),
    )
    .unwrap();
    let kubelet = HollowKubelet::start(client.clone(), config).await.unwrap();
    create_bound(client, &pod("first", "1"), "hollow-node-0").await;
    wait_for_pod(client, "first", |p| phase(p) == "Running").await;
    create_bound(client, &pod("second", "1"), "hollow-node-0").await;
    let rejected = wait_for_pod(client, "second", |p| phase(p) == "Failed").await;
    let status = rejected.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some("OutOfcpu"));
    assert!(
        status
            .message
            .as_deref()
            .unwrap()
            .contains("requested: 1000, used: 1000, capacity: 1500"),
        "{:?}",
        status.message
    );
    assert_eq!(kubelet.stats().pods_rejected.load(Ordering::Relaxed), 1);

    // A pod bound to a node this kubelet does not run stays Pending.
    let other: Node = serde_json::from_value(json!({"metadata": {"name": "real-node"}})).unwrap();
    client.create("", &other).await.unwrap();
    create_bound(client, &pod("elsewhere", "100m"), "real-node").await;
    create_bound(client, &pod("third", "400m"), "hollow-node-0").await;
    wait_for_pod(client, "third", |p| phase(p) == "Running").await;
    let elsewhere: Pod = client.get("default", "elsewhere").await.unwrap();
    assert_eq!(phase(&elsewhere), "Pending");
    kubelet.stop().await;
}

/// One HTTP/1.1 GET; the whole response as text.
async fn http_get(address: std::net::SocketAddr, target: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}
