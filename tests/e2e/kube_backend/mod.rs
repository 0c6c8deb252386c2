//! The `scheduler` binary with `--backend kubernetes`: its wiring (flags,
//! kubeconfig, typed startup errors), and a full run against the
//! apiserver's Kubernetes REST face in `rest_face`.

mod failover;
mod rest_face;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the scheduler with `args` and waits (with a deadline) for it to
/// exit; returns whether it succeeded and its stderr.
fn run_to_exit(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scheduler"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("scheduler did not exit within 30s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.success(), stderr)
}

#[test]
fn e2e_kubernetes_backend_names_a_missing_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.kubeconfig");
    let (succeeded, stderr) = run_to_exit(&[
        "--backend",
        "kubernetes",
        "--kubeconfig",
        missing.to_str().unwrap(),
        "--metrics-listen",
        "off",
    ]);
    assert!(!succeeded, "started without a kubeconfig: {stderr}");
    assert!(
        stderr.contains("reading kubeconfig") && stderr.contains("absent.kubeconfig"),
        "{stderr}"
    );
}

#[test]
fn e2e_kubernetes_backend_rejects_an_unknown_backend() {
    let (succeeded, stderr) = run_to_exit(&["--backend", "etcd", "--metrics-listen", "off"]);
    assert!(!succeeded);
    assert!(stderr.contains("--backend"), "{stderr}");
}
