//! Test harness: an in-process apiserver, a fast hollow kubelet config,
//! pod builders, and waiting on conditions with deadlines.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use client::Client;
use kubelet::NodeTemplate;
use kubelet::hollow::HollowConfig;
use serde_json::json;

pub(crate) use testkit::{TestApiserver as TestServer, wait_until};

/// An apiserver on a fresh memory store.
pub(crate) async fn start_apiserver() -> TestServer {
    TestServer::start().await
}

/// An apiserver on a fresh memory store; with `bind_arbiter` off it accepts
/// pods bound past a node's allocatable, so the kubelet's own admission
/// sees them.
pub(crate) async fn start_apiserver_with(bind_arbiter: bool) -> TestServer {
    TestServer::start_with(|config| config.bind_arbiter = bind_arbiter).await
}

/// `nodes` hollow nodes with short timers: leases every 100 ms, pods start
/// within 20–40 ms.
pub(crate) fn fast_config(nodes: u32) -> HollowConfig {
    let mut config = HollowConfig::new(nodes, NodeTemplate::built_in().unwrap());
    config.lease_renew_interval = Duration::from_millis(100);
    config.lease_duration_seconds = 1;
    config.pod_start_delay = Duration::from_millis(20);
    config.pod_start_jitter = Duration::from_millis(20);
    config.status_workers = 8;
    config
}

/// Waits until pod `name` in `default` satisfies `check`, and returns it.
pub(crate) async fn wait_for_pod(client: &Client, name: &str, check: impl Fn(&Pod) -> bool) -> Pod {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pod = client.get::<Pod>("default", name).await;
        if let Ok(pod) = pod
            && check(&pod)
        {
            return pod;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pod {name} did not reach the expected state"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// A pod with one container requesting `cpu`.
pub(crate) fn pod(name: &str, cpu: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                 "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}
    }))
    .unwrap()
}

/// Creates `pod` in `default` and binds it to `node`.
pub(crate) async fn create_bound(client: &Client, pod: &Pod, node: &str) -> Pod {
    let created = client.create("default", pod).await.unwrap();
    let name = created.metadata.name.clone().unwrap();
    client.bind("default", &name, node).await.unwrap()
}
