//! Test harness: start an in-process apiserver on port 0, object builders,
//! and waiting on conditions with deadlines.

use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use apiserver::Config;
use client::Client;
use serde_json::json;
use store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running apiserver; shut down on drop.
pub(crate) struct TestServer {
    pub(crate) client: Client,
    /// The gRPC face's address.
    pub(crate) address: std::net::SocketAddr,
    pub(crate) store: Arc<dyn Store>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The security directory of a REST server, removed on drop.
    pub(crate) dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Stops the server and waits for it to finish.
    pub(crate) async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub(crate) fn memory_store() -> Arc<dyn Store> {
    store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap()
}

/// An apiserver on a fresh memory store with default config.
pub(crate) async fn start() -> TestServer {
    start_with(Config::new(memory_store())).await
}

pub(crate) async fn start_with(config: Config) -> TestServer {
    start_faces(config, None, None).await
}

/// The static tokens the REST tests authenticate with: an admin in
/// `system:masters` and a user with no roles.
pub(crate) const ADMIN_TOKEN: &str = "admin-token";
pub(crate) const NOBODY_TOKEN: &str = "nobody-token";

/// An apiserver serving REST too, over plain HTTP on loopback with the
/// static tokens above (gRPC plain and trusted too); returns the REST
/// address. The security directory lives as long as the server.
pub(crate) async fn start_rest(config: Config) -> (TestServer, std::net::SocketAddr) {
    start_rest_with(config, false).await
}

/// Starts both faces over TLS with the PKI, the admin kubeconfig and the
/// components' kubeconfigs in the server's security directory
/// (`TestServer::dir`/security), plus the static tokens of `start_rest`;
/// the server's gRPC client is the admin's, over TLS.
pub(crate) async fn start_rest_tls(config: Config) -> (TestServer, std::path::PathBuf) {
    let (server, _) = start_rest_with(config, true).await;
    let kubeconfig = security_dir(&server).join("admin.kubeconfig");
    (server, kubeconfig)
}

/// The security directory of a server from `start_rest*`.
pub(crate) fn security_dir(server: &TestServer) -> std::path::PathBuf {
    server.dir.as_ref().unwrap().path().join("security")
}

/// The connection of the kubeconfig at `path`, to the gRPC face at
/// `address` over TLS.
pub(crate) fn grpc_connection(
    path: &std::path::Path,
    address: std::net::SocketAddr,
) -> client::kubeconfig::Connection {
    let server = format!("https://{address}");
    client::kubeconfig::Connection::resolve(Some(path), Some(&server), &server).unwrap()
}

async fn start_rest_with(mut config: Config, tls: bool) -> (TestServer, std::net::SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        format!("{ADMIN_TOKEN},admin,1,\"system:masters\"\n{NOBODY_TOKEN},nobody,2\n"),
    )
    .unwrap();
    let security = dir.path().join("security");
    config.security_dir = Some(security.clone());
    config.token_auth_file = Some(tokens);
    config.grpc_plain_http = !tls;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let rest = apiserver::RestListener { listener, tls };
    let admin = tls.then(|| security.join("admin.kubeconfig"));
    let mut server = start_faces(config, Some(rest), admin).await;
    server.dir = Some(dir);
    (server, address)
}

/// Starts the faces; the returned client speaks gRPC as the user of the
/// `admin` kubeconfig over TLS, or plain HTTP/2 without one.
async fn start_faces(
    config: Config,
    rest: Option<apiserver::RestListener>,
    admin: Option<std::path::PathBuf>,
) -> TestServer {
    let store = config.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let listeners = apiserver::Listeners {
        grpc: listener,
        rest,
    };
    let task = tokio::spawn(async move {
        apiserver::serve(listeners, config, async move {
            let _ = signal.await;
        })
        .await
        .unwrap();
    });
    let client = match admin {
        Some(path) => {
            // Written before the faces serve.
            wait_until(Duration::from_secs(10), || {
                let exists = path.exists();
                async move { exists }
            })
            .await;
            Client::grpc_lazy(&grpc_connection(&path, address))
                .await
                .unwrap()
        }
        None => Client::connect(format!("http://{address}")).await.unwrap(),
    };
    // The server bootstraps before serving; wait until it answers.
    wait_until(Duration::from_secs(10), || {
        let client = client.clone();
        async move {
            client
                .get::<api::k8s_openapi::api::core::v1::Namespace>("", "default")
                .await
                .is_ok()
        }
    })
    .await;
    TestServer {
        client,
        address,
        store,
        shutdown: Some(shutdown),
        task: Some(task),
        dir: None,
    }
}

/// Sends `request` as the admin (bearer token) on a fresh HTTP/1.1
/// connection to a REST face; the answer's body is left to read, so watch
/// streams work too.
pub(crate) async fn send(
    address: std::net::SocketAddr,
    request: http::Request<http_body_util::Full<hyper::body::Bytes>>,
) -> http::Response<hyper::body::Incoming> {
    send_as(Some(ADMIN_TOKEN), address, request).await
}

/// As `send`, with `token` (none: anonymous).
pub(crate) async fn send_as(
    token: Option<&str>,
    address: std::net::SocketAddr,
    mut request: http::Request<http_body_util::Full<hyper::body::Bytes>>,
) -> http::Response<hyper::body::Incoming> {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let headers = request.headers_mut();
    headers.insert(
        http::header::HOST,
        http::HeaderValue::from_static("localhost"),
    );
    if let Some(token) = token {
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
    }
    sender.send_request(request).await.unwrap()
}

pub(crate) use testkit::wait_until;

pub(crate) fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx",
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    }))
    .unwrap()
}

pub(crate) fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                   "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}
    }))
    .unwrap()
}

pub(crate) fn rv<K: api::ApiObject>(object: &K) -> i64 {
    object
        .metadata()
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// Number of keys under a store prefix (to check nothing was stored).
pub(crate) async fn count_keys(store: &Arc<dyn Store>, prefix: &str) -> usize {
    store
        .range(store::RangeRequest {
            prefix: prefix.to_string(),
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .count
}
