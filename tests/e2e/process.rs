//! The helpers every end-to-end test shares: a child process that dies
//! with its test ([`Process`]), free local addresses, waiting on a
//! condition with a deadline, and starting the `apiserver` binary either
//! on its gRPC face alone ([`ApiserverProcess`]) or with its REST face and
//! data directory, reached through the admin kubeconfig it writes
//! ([`RestApiserver`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api::k8s_openapi::api::core::v1::Namespace;
use client::Client;

/// A child process, killed (SIGKILL) and reaped on drop.
pub(crate) struct Process(Child);

impl Process {
    /// Spawns `command`; panics if it cannot start.
    pub(crate) fn spawn(command: &mut Command) -> Process {
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        Process(child)
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }

    /// Whether the process has exited (it is reaped if so).
    pub(crate) fn has_exited(&mut self) -> bool {
        self.0.try_wait().unwrap().is_some()
    }

    /// Kills the process hard (SIGKILL) and waits for it.
    pub(crate) fn kill(self) {
        drop(self);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A local address that was free a moment ago.
pub(crate) fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

pub(crate) use testkit::wait_for;

/// A running `apiserver` serving its gRPC face only; killed on drop.
pub(crate) struct ApiserverProcess {
    process: Process,
    /// The gRPC face's address.
    pub(crate) address: SocketAddr,
    pub(crate) client: Client,
}

impl ApiserverProcess {
    /// Starts the binary with `args` plus `--listen` on a free port (no
    /// REST face, and gRPC over plain HTTP/2 with every request trusted:
    /// these tests are about the store and the scheduler; the secured face
    /// has its own tests, and loadgen's embedded cluster runs on it), and
    /// waits until it answers. Without a `--store` in `args` it runs on
    /// the in-memory store (the default, redb in `./skiff-data`, would
    /// outlive the test).
    pub(crate) async fn start(args: &[&str]) -> ApiserverProcess {
        let address = free_address();
        let store: &[&str] = if args.contains(&"--store") {
            &[]
        } else {
            &["--store", "memory"]
        };
        let process = Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_apiserver"))
                .args(store)
                .args(args)
                .arg("--no-rest")
                .arg("--grpc-plain-http")
                .arg("--listen")
                .arg(address.to_string())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap();
        let mut server = ApiserverProcess {
            process,
            address,
            client: Client::from_channel(endpoint.connect_lazy()),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.client.get::<Namespace>("", "default").await.is_err() {
            assert!(!server.process.has_exited(), "apiserver exited early");
            assert!(Instant::now() < deadline, "apiserver did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    /// Starts it on a redb store in `dir`.
    pub(crate) async fn start_redb(dir: &Path, extra: &[&str]) -> ApiserverProcess {
        let dir = dir.to_str().unwrap().to_string();
        let mut args = vec!["--store", "redb", "--data-dir", dir.as_str()];
        args.extend_from_slice(extra);
        ApiserverProcess::start(&args).await
    }

    /// Kills the process hard (SIGKILL) and waits for it.
    pub(crate) fn kill(self) {
        self.process.kill();
    }
}

/// A running `apiserver` with its REST face on a free port and its data
/// directory (PKI, admin kubeconfig) in the caller's directory; killed on
/// drop.
pub(crate) struct RestApiserver {
    _process: Process,
    /// The admin kubeconfig the apiserver wrote (HTTPS, client
    /// certificate): what kubectl and the scheduler's Kubernetes backend
    /// use.
    pub(crate) kubeconfig: PathBuf,
    /// A REST client built from `kubeconfig`.
    pub(crate) client: Client,
}

impl RestApiserver {
    /// Starts the binary on `store` (`memory` or `redb`) with `data_dir`,
    /// and waits until the REST face answers the admin kubeconfig.
    pub(crate) async fn start(data_dir: &Path, store: &str) -> RestApiserver {
        let mut process = Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_apiserver"))
                .args(["--store", store, "--data-dir"])
                .arg(data_dir)
                // Port 0 for both faces: the kernel picks free ports, so no
                // other test's connection can take one between a check and
                // the bind; the admin kubeconfig names the REST face's.
                .args(["--listen", "127.0.0.1:0"])
                .args(["--rest-listen", "127.0.0.1:0"])
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let kubeconfig = data_dir.join("pki").join("admin.kubeconfig");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            assert!(!process.has_exited(), "apiserver exited early");
            if kubeconfig.exists()
                && let Ok(client) = Client::rest_from_kubeconfig(&kubeconfig)
                && client.get::<Namespace>("", "kube-system").await.is_ok()
            {
                break client;
            }
            assert!(
                Instant::now() < deadline,
                "the REST face did not answer the admin kubeconfig within 30s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        RestApiserver {
            _process: process,
            kubeconfig,
            client,
        }
    }
}
