//! `kubectl top` against the `apiserver` binary and a hollow `kubelet`
//! process: the kubelet reports its nodes' usage over gRPC, kubectl finds
//! `metrics.k8s.io` in discovery and reads NodeMetrics and PodMetrics over
//! REST.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kubectl::{Cluster, start};
use crate::process::Process;

/// Starts a hollow kubelet process of two nodes; killed on drop.
fn start_kubelet(cluster: &Cluster) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kubelet"))
            .args(["--hollow", "--nodes", "2", "--node-prefix", "top-node"])
            .arg("--kubeconfig")
            .arg(cluster.component_kubeconfig("kubelet.kubeconfig"))
            .args(["--connections", "1", "--zones", "0"])
            .args(["--pod-start-delay", "0s", "--pod-start-jitter", "0s"])
            .args(["--usage-report-interval", "200ms"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

const POD: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: metered
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: metered
  labels: {app: web}
spec:
  nodeName: top-node-1
  containers:
  - name: app
    image: nginx
    resources:
      requests: {cpu: 400m, memory: 256Mi}
";

/// The rows of a `kubectl top` table (header dropped), split on blanks.
fn rows(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Runs `kubectl top …` until `accept` takes its rows; panics with the
/// last output after the deadline.
fn top_until(
    cluster: &Cluster,
    args: &[&str],
    accept: impl Fn(&[Vec<String>]) -> bool,
) -> Vec<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, stdout, stderr) = cluster.try_kubectl(args);
        if ok {
            let rows = rows(&stdout);
            if accept(&rows) {
                return rows;
            }
        }
        assert!(
            Instant::now() < deadline,
            "kubectl {args:?} did not show the metrics in time: {stdout}{stderr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `123m` and `1536Mi` as kubectl top prints CPU and memory.
fn is_cpu(text: &str) -> bool {
    text.strip_suffix('m')
        .is_some_and(|number| number.parse::<u64>().is_ok_and(|milli| milli > 0))
}

fn is_memory(text: &str) -> bool {
    text.strip_suffix("Mi")
        .is_some_and(|number| number.parse::<u64>().is_ok_and(|mebibytes| mebibytes > 0))
}

#[test]
fn e2e_kubectl_top_nodes_and_pods() {
    let cluster = start();
    let _kubelet = start_kubelet(&cluster);
    let api_versions = cluster.kubectl(&["api-versions"]);
    assert!(
        api_versions
            .lines()
            .any(|line| line == "metrics.k8s.io/v1beta1"),
        "{api_versions}"
    );

    // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%), one row per node.
    let nodes = top_until(&cluster, &["top", "nodes"], |rows| {
        rows.len() == 2
            && rows
                .iter()
                .all(|row| row.len() == 5 && is_cpu(&row[1]) && is_memory(&row[3]))
    });
    let names: Vec<&str> = nodes.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(names, ["top-node-0", "top-node-1"], "{nodes:?}");
    for row in &nodes {
        assert!(row[2].ends_with('%') && row[4].ends_with('%'), "{row:?}");
    }

    cluster.kubectl_stdin(&["apply", "-f", "-"], POD);
    // NAME CPU(cores) MEMORY(bytes) once the kubelet runs the pod and
    // reports it; its usage is a share of its requests.
    let pods = top_until(&cluster, &["top", "pods", "-n", "metered"], |rows| {
        rows.len() == 1 && rows[0].len() == 3 && is_cpu(&rows[0][1]) && is_memory(&rows[0][2])
    });
    assert_eq!(pods[0][0], "web", "{pods:?}");
    let milli: u64 = pods[0][1].trim_end_matches('m').parse().unwrap();
    assert!((100..=400).contains(&milli), "{pods:?}");

    // Per container, and by label selector.
    let containers = top_until(
        &cluster,
        &[
            "top",
            "pods",
            "-n",
            "metered",
            "--containers",
            "-l",
            "app=web",
        ],
        |rows| rows.len() == 1 && rows[0].len() == 4,
    );
    assert_eq!(&containers[0][..2], ["web", "app"], "{containers:?}");
    // The node that runs the pod now uses more than the idle one.
    let nodes = top_until(&cluster, &["top", "nodes", "--sort-by", "cpu"], |rows| {
        rows.len() == 2 && rows[0][0] == "top-node-1"
    });
    assert_eq!(nodes[1][0], "top-node-0");
    // kubectl get prints metrics-server's columns.
    let printed = cluster.kubectl(&["get", "nodes.metrics.k8s.io"]);
    let header: Vec<&str> = printed.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "CPU", "MEMORY", "WINDOW"], "{printed}");
    assert_eq!(rows(&printed).len(), 2, "{printed}");
    let (ok, _, stderr) = cluster.try_kubectl(&["top", "node", "no-such-node"]);
    assert!(!ok);
    assert!(stderr.contains("not found"), "{stderr}");
}
