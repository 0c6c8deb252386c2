//! Starting and stopping the `apiserver` binary, and connecting to it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Namespace;
use client::Client;

/// A running `apiserver` process; killed on drop.
pub(crate) struct ApiserverProcess {
    child: Child,
    pub(crate) client: Client,
}

impl ApiserverProcess {
    /// Starts the binary with `args` plus `--listen` on a free port (no
    /// REST face, and gRPC over plain HTTP/2: these tests are about the
    /// store; the secured face has its own), and waits until it answers.
    pub(crate) async fn start(args: &[&str]) -> ApiserverProcess {
        let address = free_address();
        let child = Command::new(env!("CARGO_BIN_EXE_apiserver"))
            .args(args)
            .arg("--no-rest")
            .arg("--grpc-plain-http")
            .arg("--listen")
            .arg(address.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut process = ApiserverProcess {
            child,
            client: connect(address).await,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while process
            .client
            .get::<Namespace>("", "default")
            .await
            .is_err()
        {
            assert!(
                process.child.try_wait().unwrap().is_none(),
                "apiserver exited early"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "apiserver did not come up"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        process
    }

    /// Starts it on a redb store in `dir`.
    pub(crate) async fn start_redb(dir: &Path, extra: &[&str]) -> ApiserverProcess {
        let dir = dir.to_str().unwrap().to_string();
        let mut args = vec!["--store", "redb", "--data-dir", dir.as_str()];
        args.extend_from_slice(extra);
        ApiserverProcess::start(&args).await
    }

    /// Kills the process hard (SIGKILL) and waits for it.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ApiserverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local address that was free a moment ago.
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A lazily connecting gRPC client of the apiserver at `grpc` as the user
/// of `kubeconfig` (the admin's, which names the REST face: its client
/// certificate serves both), over TLS.
pub(crate) async fn grpc_client_as(kubeconfig: &Path, grpc: SocketAddr) -> Client {
    let server = format!("https://{grpc}");
    let connection =
        client::kubeconfig::Connection::resolve(Some(kubeconfig), Some(&server), &server).unwrap();
    Client::grpc_lazy(&connection).await.unwrap()
}

/// A lazily connecting client: the server may not listen yet.
async fn connect(address: SocketAddr) -> Client {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap();
    Client::from_channel(endpoint.connect_lazy())
}
