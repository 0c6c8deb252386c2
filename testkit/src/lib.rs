//! The harness the crates' integration tests share (a dev-dependency
//! only): an apiserver in this process on a free port and a fresh memory
//! store, and waiting on a condition with a deadline instead of sleeping.
//!
//! The end-to-end tests in `tests/e2e/` start the real binaries instead;
//! the apiserver's own tests need its faces and security and keep their
//! harness (`apiserver/tests/it/common.rs`), waiting through this one.

// Reason: a harness that cannot start fails the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Namespace;
use client::Client;
use tokio::sync::oneshot;

/// An apiserver running in this process (gRPC over plain HTTP/2, every
/// request trusted) on a fresh memory store; shut down on drop.
pub struct TestApiserver {
    pub client: Client,
    pub address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApiserver {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestApiserver {
    /// With the default configuration.
    pub async fn start() -> TestApiserver {
        TestApiserver::start_with(|_| {}).await
    }

    /// With the default configuration changed by `configure` (e.g. the
    /// bind arbiter off, so binds past a node's allocatable are accepted
    /// as Kubernetes accepts them); returns once it answers.
    pub async fn start_with(configure: impl FnOnce(&mut apiserver::Config)) -> TestApiserver {
        let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
        let mut config = apiserver::Config::new(store);
        configure(&mut config);
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
            // The namespace kubelets need exists.
            async move { client.get::<Namespace>("", "kube-node-lease").await.is_ok() }
        })
        .await;
        TestApiserver {
            client,
            address,
            shutdown: Some(shutdown),
        }
    }
}

/// Polls `condition` every 10 ms until it holds; panics after `deadline`.
pub async fn wait_until<F, Fut>(deadline: Duration, condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for("condition", deadline, condition).await;
}

/// Polls `condition` every 10 ms until it holds; panics naming `what`
/// after `deadline`. Returns how long it took.
pub async fn wait_for<F, Fut>(what: &str, deadline: Duration, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !condition().await {
        assert!(
            start.elapsed() < deadline,
            "{what} not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

/// [`wait_for`] for blocking tests (e.g. ones driving `kubectl`): polls
/// `condition` every 50 ms until it holds; panics naming `what` after
/// `deadline`. Returns how long it took.
pub fn block_until(
    what: &str,
    deadline: Duration,
    mut condition: impl FnMut() -> bool,
) -> Duration {
    let start = std::time::Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "{what} not met within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}
