//! The garbage collector on a whole cluster, driven with real `kubectl`:
//! deleting a Deployment takes its ReplicaSets and pods along
//! (background), `--cascade=orphan` leaves the pods without their owner,
//! and `--cascade=foreground` removes the owner only after its dependents.

use std::time::Duration;

use crate::deployments::{json, start_components};
use crate::kubectl::{Cluster, start};

const DEADLINE: Duration = Duration::from_secs(30);

/// The names of the `kind` objects of `gc` labelled `app=<app>`.
fn names(cluster: &Cluster, kind: &str, app: &str) -> Vec<String> {
    let list = json(
        cluster,
        &["get", kind, "-n", "gc", "-l", &format!("app={app}")],
    );
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Waits until `condition` holds, polling; panics naming `what`.
fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    testkit::block_until(what, DEADLINE, condition);
}

const SOLO: &str = "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: solo
  namespace: gc
spec:
  replicas: 3
  selector:
    matchLabels: {app: solo}
  template:
    metadata:
      labels: {app: solo}
    spec:
      containers:
      - name: c
        image: nginx
";

#[test]
fn e2e_garbage_collection_cascades_orphans_and_waits_in_the_foreground() {
    let cluster = start();
    let _components = start_components(&cluster);
    cluster.kubectl(&["create", "namespace", "gc"]);

    // Background (kubectl's default): the Deployment goes at once, its
    // ReplicaSet and pods after it.
    cluster.kubectl(&[
        "create",
        "deployment",
        "web",
        "-n",
        "gc",
        "--image=nginx",
        "--replicas=2",
    ]);
    wait_until("two pods of web", || {
        names(&cluster, "pods", "web").len() == 2
    });
    cluster.kubectl(&["delete", "deployment", "web", "-n", "gc", "--wait=false"]);
    wait_until("web's ReplicaSet and pods collected", || {
        names(&cluster, "rs", "web").is_empty() && names(&cluster, "pods", "web").is_empty()
    });

    // Orphan: the ReplicaSet goes, its pods stay, without the reference.
    cluster.kubectl_stdin(&["apply", "-f", "-"], SOLO);
    wait_until("three pods of solo", || {
        names(&cluster, "pods", "solo").len() == 3
    });
    cluster.kubectl(&["delete", "rs", "solo", "-n", "gc", "--cascade=orphan"]);
    wait_until("solo gone", || names(&cluster, "rs", "solo").is_empty());
    let pods = json(&cluster, &["get", "pods", "-n", "gc", "-l", "app=solo"]);
    let pods = pods["items"].as_array().unwrap();
    assert_eq!(pods.len(), 3);
    for pod in pods {
        assert!(pod["metadata"]["ownerReferences"].is_null(), "{pod}");
    }

    // Foreground: kubectl waits for the Deployment to be gone, which it
    // is only once its ReplicaSet and pods are.
    cluster.kubectl(&[
        "create",
        "deployment",
        "fg",
        "-n",
        "gc",
        "--image=nginx",
        "--replicas=2",
    ]);
    wait_until("two pods of fg", || {
        names(&cluster, "pods", "fg").len() == 2
    });
    cluster.kubectl(&[
        "delete",
        "deployment",
        "fg",
        "-n",
        "gc",
        "--cascade=foreground",
        "--timeout=30s",
    ]);
    assert!(names(&cluster, "deployments", "fg").is_empty());
    assert!(names(&cluster, "rs", "fg").is_empty());
    assert!(names(&cluster, "pods", "fg").is_empty());
}
