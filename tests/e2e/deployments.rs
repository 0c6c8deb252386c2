//! A Deployment's life as a user drives it with real `kubectl`, on a whole
//! cluster of processes (apiserver, controllers, scheduler, a hollow
//! kubelet): create, `rollout status`, a new image rolled out, history,
//! `rollout undo`, scaling, pause and resume.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::kubectl::{Cluster, start};
use crate::process::Process;

/// Starts the component `binary` with the kubeconfig `kubeconfig` of the
/// cluster's data dir and `args`; killed on drop.
pub(crate) fn spawn_component(
    cluster: &Cluster,
    binary: &str,
    kubeconfig: &str,
    args: &[&str],
) -> Process {
    Process::spawn(
        Command::new(binary)
            .arg("--kubeconfig")
            .arg(cluster.component_kubeconfig(kubeconfig))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

/// A hollow kubelet of `nodes` nodes named `<prefix>-<i>`, starting pods
/// at once, plus `args`.
pub(crate) fn hollow_kubelet(
    cluster: &Cluster,
    nodes: u32,
    prefix: &str,
    args: &[&str],
) -> Process {
    let nodes = nodes.to_string();
    let mut all = vec![
        "--hollow",
        "--nodes",
        &nodes,
        "--node-prefix",
        prefix,
        "--connections",
        "1",
        "--zones",
        "0",
        "--pod-start-delay",
        "0s",
        "--pod-start-jitter",
        "0s",
    ];
    all.extend_from_slice(args);
    spawn_component(
        cluster,
        env!("CARGO_BIN_EXE_kubelet"),
        "kubelet.kubeconfig",
        &all,
    )
}

/// The scheduler, with its metrics on a free port.
pub(crate) fn scheduler(cluster: &Cluster) -> Process {
    spawn_component(
        cluster,
        env!("CARGO_BIN_EXE_scheduler"),
        "scheduler.kubeconfig",
        &["--metrics-listen", "127.0.0.1:0"],
    )
}

/// The controller manager with short retries, plus `args`.
pub(crate) fn controllers(cluster: &Cluster, args: &[&str]) -> Process {
    let mut all = vec!["--retry-base-delay", "1ms", "--retry-max-delay", "200ms"];
    all.extend_from_slice(args);
    spawn_component(
        cluster,
        env!("CARGO_BIN_EXE_controllers"),
        "controller-manager.kubeconfig",
        &all,
    )
}

/// Starts the controllers, the scheduler and a hollow kubelet of three
/// nodes, each with its own kubeconfig; killed on drop.
pub(crate) fn start_components(cluster: &Cluster) -> Vec<Process> {
    vec![
        controllers(cluster, &[]),
        scheduler(cluster),
        hollow_kubelet(cluster, 3, "deploy-node", &[]),
    ]
}

pub(crate) fn json(cluster: &Cluster, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&cluster.kubectl(&args)).unwrap()
}

/// `kubectl rollout status` of `deployment/web` in `apps` until the
/// rollout is done (kubectl waits itself).
fn rolled_out(cluster: &Cluster) {
    rollout_done(cluster, "deployment/web", "apps");
}

/// `kubectl rollout status` of `workload` (e.g. `deployment/web`) in
/// `namespace`; panics unless it says the rollout finished within 60 s.
pub(crate) fn rollout_done(cluster: &Cluster, workload: &str, namespace: &str) {
    let output = cluster.kubectl(&[
        "rollout",
        "status",
        workload,
        "-n",
        namespace,
        "--timeout=60s",
    ]);
    assert!(output.contains("successfully rolled out"), "{output}");
}

/// The ReplicaSets of `web`: (revision, image, spec.replicas), by revision.
fn replica_sets(cluster: &Cluster) -> Vec<(i64, String, i64)> {
    let list = json(cluster, &["get", "rs", "-n", "apps", "-l", "app=web"]);
    let mut sets: Vec<(i64, String, i64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rs| {
            let revision = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            let image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                revision,
                image,
                rs["spec"]["replicas"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    sets.sort();
    sets
}

fn image(cluster: &Cluster) -> String {
    cluster.kubectl(&[
        "get",
        "deployment",
        "web",
        "-n",
        "apps",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ])
}

#[test]
fn e2e_deployments_roll_out_undo_scale_and_pause_with_kubectl() {
    let cluster = start();
    let _components = start_components(&cluster);
    cluster.kubectl(&["create", "namespace", "apps"]);
    cluster.kubectl(&[
        "create",
        "deployment",
        "web",
        "-n",
        "apps",
        "--image=nginx:1.0",
        "--replicas=3",
    ]);
    rolled_out(&cluster);
    let deployment = json(&cluster, &["get", "deployment", "web", "-n", "apps"]);
    assert_eq!(deployment["status"]["availableReplicas"], 3, "{deployment}");
    assert_eq!(
        deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    let pods = json(&cluster, &["get", "pods", "-n", "apps", "-l", "app=web"]);
    let pods = pods["items"].as_array().unwrap();
    assert_eq!(pods.len(), 3);
    assert!(
        pods.iter().all(|pod| pod["status"]["phase"] == "Running"),
        "{pods:?}"
    );

    // A new image rolls out through a second ReplicaSet; the first drains.
    cluster.kubectl(&[
        "set",
        "image",
        "deployment/web",
        "-n",
        "apps",
        "nginx=nginx:2.0",
    ]);
    rolled_out(&cluster);
    assert_eq!(
        replica_sets(&cluster),
        [
            (1, "nginx:1.0".to_string(), 0),
            (2, "nginx:2.0".to_string(), 3)
        ]
    );
    let history = cluster.kubectl(&["rollout", "history", "deployment/web", "-n", "apps"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");

    // Undo brings revision 1's template back as revision 3.
    cluster.kubectl(&["rollout", "undo", "deployment/web", "-n", "apps"]);
    rolled_out(&cluster);
    assert_eq!(image(&cluster), "nginx:1.0");
    assert_eq!(
        replica_sets(&cluster),
        [
            (2, "nginx:2.0".to_string(), 0),
            (3, "nginx:1.0".to_string(), 3)
        ]
    );

    // Scaling reaches the active ReplicaSet.
    cluster.kubectl(&["scale", "deployment", "web", "-n", "apps", "--replicas=5"]);
    rolled_out(&cluster);
    assert_eq!(replica_sets(&cluster)[1].2, 5);

    // Paused, a template change does not roll out; resumed, it does.
    cluster.kubectl(&["rollout", "pause", "deployment/web", "-n", "apps"]);
    cluster.kubectl(&[
        "set",
        "image",
        "deployment/web",
        "-n",
        "apps",
        "nginx=nginx:3.0",
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let deployment = json(&cluster, &["get", "deployment", "web", "-n", "apps"]);
        let paused = deployment["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "DeploymentPaused");
        if paused
            && deployment["status"]["observedGeneration"] == deployment["metadata"]["generation"]
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not paused: {deployment}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(replica_sets(&cluster).len(), 2);
    cluster.kubectl(&["rollout", "resume", "deployment/web", "-n", "apps"]);
    rolled_out(&cluster);
    let sets = replica_sets(&cluster);
    assert_eq!(
        sets.last(),
        Some(&(4, "nginx:3.0".to_string(), 5)),
        "{sets:?}"
    );
}
