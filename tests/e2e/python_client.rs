//! The official Kubernetes Python client against the `apiserver` binary's
//! HTTPS REST face, authenticated as a ServiceAccount with a token from a
//! TokenRequest. The admin sets the namespace, the ServiceAccount and its
//! `edit` RoleBinding up with `kubectl` and the admin kubeconfig; the checks
//! themselves (CRUD, selectors, paging, strategic merge patch, watch and its
//! resumption, 404 and 403 as `ApiException`s) are in
//! `tests/python/client_e2e.py`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{Process, free_address};

/// The namespace the Python client works in.
const NAMESPACE: &str = "python-e2e";

/// The admin's objects, each with the collection it is posted to: the
/// namespace, the ServiceAccount and the binding of the `edit` ClusterRole
/// to it in that namespace. They go as JSON with `kubectl create --raw`,
/// which works with any kubectl (`kubectl apply` of Debian's kubectl 1.20
/// needs the OpenAPI v2 document as protobuf).
fn setup_objects() -> Vec<(String, Value)> {
    vec![
        (
            "/api/v1/namespaces".to_string(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
        ),
        (
            format!("/api/v1/namespaces/{NAMESPACE}/serviceaccounts"),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}),
        ),
        (
            format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings"),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "robot-edit"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"
                },
                "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": NAMESPACE}]
            }),
        ),
    ]
}

/// An `apiserver` process with its REST face over TLS; killed on drop.
struct TlsApiserver {
    process: Process,
    data_dir: tempfile::TempDir,
    rest: SocketAddr,
}

impl TlsApiserver {
    /// Starts the binary on a memory store with a fresh data directory and
    /// waits until the admin kubeconfig it writes reaches the REST face.
    fn start() -> TlsApiserver {
        let data_dir = tempfile::tempdir().unwrap();
        let grpc = free_address();
        let rest = free_address();
        let process = Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_apiserver"))
                .args(["--store", "memory", "--data-dir"])
                .arg(data_dir.path())
                .arg("--listen")
                .arg(grpc.to_string())
                .arg("--rest-listen")
                .arg(rest.to_string())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let mut server = TlsApiserver {
            process,
            data_dir,
            rest,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.admin_kubeconfig().exists() {
                let output = server.kubectl(&["get", "--raw", "/readyz"], None);
                if output.status.success() {
                    break;
                }
            }
            assert!(!server.process.has_exited(), "apiserver exited early");
            assert!(
                Instant::now() < deadline,
                "the REST face did not answer kubectl with the admin kubeconfig within 30s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn pki(&self) -> PathBuf {
        self.data_dir.path().join("pki")
    }

    fn admin_kubeconfig(&self) -> PathBuf {
        self.pki().join("admin.kubeconfig")
    }

    fn url(&self) -> String {
        format!("https://{}", self.rest)
    }

    /// Runs kubectl as the admin with `args`, `stdin` fed to it.
    fn kubectl(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut command = Command::new("kubectl");
        command.arg("--kubeconfig").arg(self.admin_kubeconfig());
        run_kubectl(command, args, stdin)
    }

    /// Writes a kubeconfig that authenticates with `token` only (no client
    /// certificate) and trusts the cluster CA; returns its path.
    fn token_kubeconfig(&self, token: &str) -> PathBuf {
        let kubeconfig = self.data_dir.path().join("token.kubeconfig");
        let yaml = format!(
            "apiVersion: v1\nkind: Config\n\
             clusters:\n- name: skiff\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
             users:\n- name: robot\n  user:\n    token: {token}\n\
             contexts:\n- name: robot\n  context:\n    cluster: skiff\n    user: robot\n\
             current-context: robot\n",
            self.url(),
            self.pki().join("ca.crt").display()
        );
        std::fs::write(&kubeconfig, yaml).unwrap();
        kubeconfig
    }
}

fn run_kubectl(mut command: Command, args: &[&str], stdin: Option<&[u8]>) -> Output {
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!("cannot run kubectl ({error}); scripts/test.sh installs it when it is missing")
    });
    let mut pipe = child.stdin.take().unwrap();
    if let Some(stdin) = stdin {
        pipe.write_all(stdin).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Asserts that a command succeeded and returns its standard output.
fn succeeded(what: &str, output: Output) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The python of the venv with the `kubernetes` package: `$SKIFF_PYTHON` as
/// `scripts/test.sh` sets it, or what `scripts/python-client-env.sh` prints.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("SKIFF_PYTHON").filter(|value| !value.is_empty()) {
        return PathBuf::from(python);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python-client-env.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} could not set up the Python client's venv ({}); the test needs the \
         `kubernetes` package from PyPI:\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
}

/// Whether the user of `kubeconfig` may create ConfigMaps in the namespace
/// yet: the RBAC view follows a watch of bindings, so a new binding takes a
/// moment.
fn may_create_config_maps(kubeconfig: &Path) -> bool {
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": NAMESPACE, "verb": "create", "resource": "configmaps"
        }}
    });
    let mut command = Command::new("kubectl");
    command.arg("--kubeconfig").arg(kubeconfig);
    let output = run_kubectl(
        command,
        &[
            "create",
            "--raw",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "-f",
            "-",
        ],
        Some(review.to_string().as_bytes()),
    );
    let review: Value = serde_json::from_slice(&succeeded("SelfSubjectAccessReview", output))
        .expect("SelfSubjectAccessReview answer is JSON");
    review["status"]["allowed"] == json!(true)
}

#[test]
fn e2e_python_client_crud_watch_with_service_account_token() {
    let python = python();
    let server = TlsApiserver::start();

    for (collection, object) in setup_objects() {
        succeeded(
            &format!("creating {object} in {collection}"),
            server.kubectl(
                &["create", "--raw", &collection, "-f", "-"],
                Some(object.to_string().as_bytes()),
            ),
        );
    }
    let request = json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {}
    });
    let answer = succeeded(
        "TokenRequest for robot",
        server.kubectl(
            &[
                "create",
                "--raw",
                &format!("/api/v1/namespaces/{NAMESPACE}/serviceaccounts/robot/token"),
                "-f",
                "-",
            ],
            Some(request.to_string().as_bytes()),
        ),
    );
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    let token = answer["status"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("TokenRequest answer has no status.token: {answer}"))
        .to_string();

    let robot = server.token_kubeconfig(&token);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !may_create_config_maps(&robot) {
        assert!(
            Instant::now() < deadline,
            "robot's token was not allowed to create ConfigMaps within 10s of its RoleBinding"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_e2e.py");
    let started = Instant::now();
    let output = Command::new(&python)
        .arg(&script)
        .arg("--server")
        .arg(server.url())
        .arg("--ca")
        .arg(server.pki().join("ca.crt"))
        .arg("--token")
        .arg(&token)
        .arg("--namespace")
        .arg(NAMESPACE)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", python.display()));
    let elapsed = started.elapsed();
    let stdout = succeeded("tests/python/client_e2e.py", output);
    println!(
        "{}python client checks took {elapsed:?}",
        String::from_utf8_lossy(&stdout)
    );
}
