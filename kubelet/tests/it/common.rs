//! Test harness: an in-process apiserver, a fast hollow kubelet config,
//! pod builders, and waiting on conditions with deadlines.

use std::future::Future;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Namespace, Pod};
use client::Client;
use kubelet::NodeTemplate;
use kubelet::hollow::HollowConfig;
use serde_json::json;
use tokio::sync::oneshot;

/// A running apiserver; shut down on drop.
pub(crate) struct TestServer {
    pub(crate) client: Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// An apiserver on a fresh memory store.
pub(crate) async fn start_apiserver() -> TestServer {
    start_apiserver_with(true).await
}

/// An apiserver on a fresh memory store; with `bind_arbiter` off it accepts
/// pods bound past a node's allocatable, so the kubelet's own admission
/// sees them.
pub(crate) async fn start_apiserver_with(bind_arbiter: bool) -> TestServer {
    let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
    let mut config = apiserver::Config::new(store);
    config.bind_arbiter = bind_arbiter;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    tokio::spawn(async move {
        apiserver::run(listener, config, async move {
            let _ = signal.await;
        })
        .await
        .unwrap();
    });
    let client = Client::connect(format!("http://{address}")).await.unwrap();
    wait_until(Duration::from_secs(10), || {
        let client = client.clone();
        async move { client.get::<Namespace>("", "kube-node-lease").await.is_ok() }
    })
    .await;
    TestServer {
        client,
        shutdown: Some(shutdown),
    }
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

/// Polls `condition` until true; panics after `deadline`.
pub(crate) async fn wait_until<F, Fut>(deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if condition().await {
            return;
        }
        assert!(
            start.elapsed() < deadline,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
