//! Jobs on a whole cluster of processes (apiserver, controllers,
//! scheduler, a hollow kubelet whose pods run to completion by
//! annotation), driven with real `kubectl`: completions with bounded
//! parallelism, a Job failing past its backoff limit, an Indexed Job, a
//! Job deleted with its pods, and one deleted by its TTL.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;
use testkit::block_until;

use crate::deployments::{controllers, hollow_kubelet, json, scheduler};
use crate::kubectl::Cluster;

const DEADLINE: Duration = Duration::from_secs(60);

/// A Job of `name` in `namespace` whose pods run `seconds` and exit with
/// `exit_code`; `extra` goes into its spec.
fn job(name: &str, seconds: &str, exit_code: i32, extra: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: jobs}}
spec:
{extra}  template:
    metadata:
      annotations:
        skiff.dev/hollow-run-seconds: '{seconds}'
        skiff.dev/hollow-exit-code: '{exit_code}'
    spec:
      restartPolicy: Never
      containers:
      - {{name: work, image: busybox:1.36}}
"
    )
}

fn pods_of(cluster: &Cluster, job: &str) -> Vec<Value> {
    let selector = format!("batch.kubernetes.io/job-name={job}");
    json(cluster, &["get", "pods", "-n", "jobs", "-l", &selector])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn condition<'a>(job: &'a Value, type_: &str) -> Option<&'a Value> {
    job["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|condition| condition["type"] == type_ && condition["status"] == "True")
}

fn wait_for(cluster: &Cluster, job: &str, condition: &str) {
    let output = cluster.kubectl(&[
        "wait",
        &format!("--for=condition={condition}"),
        &format!("job/{job}"),
        "-n",
        "jobs",
        "--timeout=60s",
    ]);
    assert!(output.contains("condition met"), "{output}");
}

/// `kubectl get pods -w` of the namespace: one line per pod state seen,
/// `<name> <phase> <deleting>`.
fn watch_pods(cluster: &Cluster) -> (Child, Receiver<String>) {
    let mut child = Command::new("kubectl")
        .args([
            "get",
            "pods",
            "-n",
            "jobs",
            "-l",
            "batch.kubernetes.io/job-name=pi",
            "-w",
            "--request-timeout=0",
            "-o",
            "jsonpath={.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{\"\\n\"}",
        ])
        .env(
            "KUBECONFIG",
            cluster.component_kubeconfig("admin.kubeconfig"),
        )
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// The most pods seen running (not finished, not being deleted) at once.
fn most_at_once(lines: &Receiver<String>) -> usize {
    let mut running: BTreeMap<String, bool> = BTreeMap::new();
    let mut most = 0;
    for line in lines.try_iter() {
        let mut fields = line.split_whitespace();
        let (Some(name), phase, deleting) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let active = !matches!(phase, Some("Succeeded" | "Failed")) && deleting.is_none();
        running.insert(name.to_string(), active);
        most = most.max(running.values().filter(|active| **active).count());
    }
    most
}

#[test]
fn e2e_jobs_complete_fail_past_the_backoff_limit_and_index_with_kubectl() {
    let cluster = crate::kubectl::start();
    let _components = [
        // Failed pods are replaced after 100 ms, not 10 s.
        controllers(&cluster, &["--job-pod-failure-backoff", "100ms"]),
        scheduler(&cluster),
        hollow_kubelet(&cluster, 2, "job-node", &[]),
    ];
    cluster.kubectl(&["create", "namespace", "jobs"]);

    // Three completions, two at a time.
    let (mut watcher, lines) = watch_pods(&cluster);
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job("pi", "0.5", 0, "  completions: 3\n  parallelism: 2\n"),
    );
    wait_for(&cluster, "pi", "complete");
    let pi = json(&cluster, &["get", "job", "pi", "-n", "jobs"]);
    assert_eq!(pi["status"]["succeeded"], 3, "{pi}");
    assert!(pi["status"]["failed"].is_null(), "{pi}");
    assert!(condition(&pi, "SuccessCriteriaMet").is_some(), "{pi}");
    assert_eq!(
        condition(&pi, "Complete").map(|c| c["reason"].clone()),
        Some(Value::from("CompletionsReached")),
        "{pi}"
    );
    assert!(pi["status"]["completionTime"].is_string(), "{pi}");
    assert_eq!(
        pi["status"]["uncountedTerminatedPods"],
        serde_json::json!({})
    );
    let pods = pods_of(&cluster, "pi");
    assert_eq!(pods.len(), 3, "{pods:?}");
    for pod in &pods {
        assert_eq!(pod["status"]["phase"], "Succeeded", "{pod}");
        assert!(pod["metadata"]["finalizers"].is_null(), "counted: {pod}");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
    }
    let most = most_at_once(&lines);
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!((1..=2).contains(&most), "{most} pods ran at once");

    // Every pod fails: one retry (backoffLimit 1), then the Job fails.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job("fail", "0", 1, "  backoffLimit: 1\n"),
    );
    wait_for(&cluster, "fail", "failed");
    let fail = json(&cluster, &["get", "job", "fail", "-n", "jobs"]);
    assert_eq!(
        condition(&fail, "Failed").map(|c| c["reason"].clone()),
        Some(Value::from("BackoffLimitExceeded")),
        "{fail}"
    );
    assert!(condition(&fail, "FailureTarget").is_some(), "{fail}");
    assert_eq!(fail["status"]["failed"], 2, "{fail}");
    let pods = pods_of(&cluster, "fail");
    assert_eq!(pods.len(), 2, "{pods:?}");
    assert!(
        pods.iter().all(|pod| pod["status"]["phase"] == "Failed"),
        "{pods:?}"
    );

    // Indexed: each index succeeds once.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job(
            "idx",
            "0.2",
            0,
            "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n",
        ),
    );
    wait_for(&cluster, "idx", "complete");
    let idx = json(&cluster, &["get", "job", "idx", "-n", "jobs"]);
    assert_eq!(idx["status"]["completedIndexes"], "0-2", "{idx}");
    assert_eq!(idx["status"]["succeeded"], 3, "{idx}");
    let pods = pods_of(&cluster, "idx");
    assert_eq!(pods.len(), 3, "{pods:?}");
    let mut indexes = BTreeSet::new();
    for pod in &pods {
        let index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"],
            index.as_str()
        );
        assert_eq!(pod["spec"]["hostname"], format!("idx-{index}"));
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        assert!(name.starts_with(&format!("idx-{index}-")), "{name}");
        assert_eq!(
            pod["spec"]["containers"][0]["env"][0]["name"],
            "JOB_COMPLETION_INDEX"
        );
        indexes.insert(index);
    }
    assert_eq!(indexes, BTreeSet::from(["0", "1", "2"].map(String::from)));

    // Past its active deadline: its running pods are stopped and count as
    // failed.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job(
            "late",
            "300",
            0,
            "  completions: 2\n  parallelism: 2\n  activeDeadlineSeconds: 1\n",
        ),
    );
    wait_for(&cluster, "late", "failed");
    let late = json(&cluster, &["get", "job", "late", "-n", "jobs"]);
    assert_eq!(
        condition(&late, "Failed").map(|c| c["reason"].clone()),
        Some(Value::from("DeadlineExceeded")),
        "{late}"
    );
    assert_eq!(late["status"]["failed"], 2, "{late}");
    block_until("the stopped pods are gone", DEADLINE, || {
        pods_of(&cluster, "late").is_empty()
    });

    // Suspended: its pods go, uncounted; resumed: they come back.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job("held", "300", 0, "  completions: 4\n  parallelism: 2\n"),
    );
    let running = |cluster: &Cluster| {
        pods_of(cluster, "held")
            .iter()
            .filter(|pod| pod["status"]["phase"] == "Running")
            .count()
    };
    block_until("two pods run", DEADLINE, || running(&cluster) == 2);
    let suspend = |value: bool| {
        cluster.kubectl(&[
            "patch",
            "job",
            "held",
            "-n",
            "jobs",
            "--type=merge",
            "-p",
            &format!("{{\"spec\": {{\"suspend\": {value}}}}}"),
        ]);
    };
    suspend(true);
    wait_for(&cluster, "held", "suspended");
    block_until("the suspended Job's pods are gone", DEADLINE, || {
        pods_of(&cluster, "held").is_empty()
    });
    let held = json(&cluster, &["get", "job", "held", "-n", "jobs"]);
    assert!(held["status"]["failed"].is_null(), "{held}");
    assert!(held["status"]["active"].is_null(), "{held}");
    suspend(false);
    block_until("the resumed Job's pods run", DEADLINE, || {
        running(&cluster) == 2
    });
    let held = json(&cluster, &["get", "job", "held", "-n", "jobs"]);
    assert!(condition(&held, "Suspended").is_none(), "{held}");

    // Deleting a Job deletes its pods.
    cluster.kubectl(&["delete", "job", "pi", "-n", "jobs"]);
    block_until("the deleted Job's pods are gone", DEADLINE, || {
        pods_of(&cluster, "pi").is_empty()
    });

    // `kubectl create job` (a protobuf body): the selector is generated
    // and its pod runs (it never finishes without the hollow annotation).
    cluster.kubectl(&[
        "create",
        "job",
        "made",
        "-n",
        "jobs",
        "--image=busybox:1.36",
    ]);
    let made = json(&cluster, &["get", "job", "made", "-n", "jobs"]);
    let uid = made["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        made["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        uid.as_str(),
        "{made}"
    );
    block_until("the created Job's pod runs", DEADLINE, || {
        pods_of(&cluster, "made")
            .iter()
            .any(|pod| pod["status"]["phase"] == "Running")
    });
    let made = json(&cluster, &["get", "job", "made", "-n", "jobs"]);
    assert!(made["status"]["startTime"].is_string(), "{made}");

    // A finished Job with a TTL goes, with its pods.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        &job("ttl", "0", 0, "  ttlSecondsAfterFinished: 0\n"),
    );
    block_until("the Job past its TTL is gone", DEADLINE, || {
        !cluster.try_kubectl(&["get", "job", "ttl", "-n", "jobs"]).0
    });
    block_until("its pods are gone", DEADLINE, || {
        pods_of(&cluster, "ttl").is_empty()
    });
}
