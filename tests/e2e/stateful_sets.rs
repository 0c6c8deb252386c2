//! A StatefulSet on a whole cluster of processes (apiserver, controllers,
//! scheduler, a hollow kubelet), driven with real `kubectl`: pods with
//! stable names come up one at a time in ordinal order, each with its own
//! PersistentVolumeClaim, `rollout status` follows them, a partitioned
//! rollout updates only the pods at or above the partition, lowering the
//! partition updates the rest from the highest ordinal down, and scaling
//! down removes the highest ordinals first, keeping their claims.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use testkit::block_until;

use crate::deployments::{json, start_components};
use crate::kubectl::{Cluster, start};

const DEADLINE: Duration = Duration::from_secs(60);

const WEB: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: store}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: store}
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:1
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
";

/// One pod of the set as a list showed it.
#[derive(Clone, Debug)]
struct Member {
    uid: String,
    image: String,
    revision: String,
    /// Running and Ready, not being deleted.
    healthy: bool,
    terminating: bool,
    created: String,
    /// When its Ready condition became true.
    ready_since: Option<String>,
    pod: Value,
}

/// The set's pods by ordinal, from one list (one consistent snapshot).
fn members(cluster: &Cluster) -> BTreeMap<usize, Member> {
    let pods = json(cluster, &["get", "pods", "-n", "store", "-l", "app=web"]);
    let mut members = BTreeMap::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let Some(ordinal) = name.strip_prefix("web-").and_then(|o| o.parse().ok()) else {
            panic!("a pod not named after the set: {name}");
        };
        let ready = pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|condition| condition["type"] == "Ready" && condition["status"] == "True");
        let terminating = !pod["metadata"]["deletionTimestamp"].is_null();
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        members.insert(
            ordinal,
            Member {
                uid: text(&pod["metadata"]["uid"]),
                image: text(&pod["spec"]["containers"][0]["image"]),
                revision: text(&pod["metadata"]["labels"]["controller-revision-hash"]),
                healthy: ready.is_some() && pod["status"]["phase"] == "Running" && !terminating,
                terminating,
                created: text(&pod["metadata"]["creationTimestamp"]),
                ready_since: ready.map(|condition| text(&condition["lastTransitionTime"])),
                pod: pod.clone(),
            },
        );
    }
    members
}

/// What OrderedReady allows at any instant: the pods are a prefix of the
/// ordinals, and every one but the highest is healthy.
fn assert_ordered(members: &BTreeMap<usize, Member>) {
    let ordinals: Vec<usize> = members.keys().copied().collect();
    let prefix: Vec<usize> = (0..ordinals.len()).collect();
    assert_eq!(ordinals, prefix, "pods out of order: {members:#?}");
    let below_highest = members.values().rev().skip(1);
    for member in below_highest {
        assert!(
            member.healthy,
            "a higher pod exists while a lower one is not ready: {members:#?}"
        );
    }
}

fn rolled_out(cluster: &Cluster) -> String {
    let output = cluster.kubectl(&[
        "rollout",
        "status",
        "statefulset/web",
        "-n",
        "store",
        "--timeout=60s",
    ]);
    assert!(output.contains("complete"), "{output}");
    output
}

fn stateful_set(cluster: &Cluster) -> Value {
    json(cluster, &["get", "statefulset", "web", "-n", "store"])
}

/// A timestamp to the second: creation times have no fraction, and a
/// pod created in the second another became ready came after it.
fn second(time: &str) -> &str {
    time.get(..19).unwrap_or(time)
}

fn images(members: &BTreeMap<usize, Member>) -> Vec<(usize, String)> {
    members
        .iter()
        .map(|(ordinal, member)| (*ordinal, member.image.clone()))
        .collect()
}

#[test]
fn e2e_stateful_sets_start_in_order_roll_out_by_partition_and_scale_down_from_the_top() {
    let cluster = start();
    let _components = start_components(&cluster);
    cluster.kubectl(&["create", "namespace", "store"]);
    cluster.kubectl_stdin(&["apply", "-f", "-"], WEB);

    // The pods come up one at a time, in order: at no poll does a pod
    // exist while a lower one is not ready.
    let mut up = BTreeMap::new();
    block_until("three ready pods", DEADLINE, || {
        up = members(&cluster);
        assert_ordered(&up);
        up.len() == 3 && up.values().all(|member| member.healthy)
    });
    for ordinal in 1..3 {
        let (lower, higher) = (&up[&(ordinal - 1)], &up[&ordinal]);
        let lower_ready = lower.ready_since.clone().unwrap_or_default();
        assert!(
            second(&higher.created) >= second(&lower_ready),
            "web-{ordinal} was created at {} before web-{} was ready at {lower_ready}",
            higher.created,
            ordinal - 1
        );
    }
    // Stable identities: the hostname, the headless Service's subdomain,
    // the claim of each.
    for (ordinal, member) in &up {
        let spec = &member.pod["spec"];
        assert_eq!(spec["hostname"], format!("web-{ordinal}"), "{spec}");
        assert_eq!(spec["subdomain"], "web", "{spec}");
        let labels = &member.pod["metadata"]["labels"];
        assert_eq!(
            labels["statefulset.kubernetes.io/pod-name"],
            format!("web-{ordinal}")
        );
        assert_eq!(labels["apps.kubernetes.io/pod-index"], ordinal.to_string());
        let volume = spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|volume| volume["name"] == "data")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            volume["persistentVolumeClaim"]["claimName"],
            format!("data-web-{ordinal}"),
            "{spec}"
        );
    }
    let claims = json(&cluster, &["get", "pvc", "-n", "store", "-l", "app=web"]);
    let mut claim_names: Vec<String> = claims["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|claim| claim["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    claim_names.sort();
    assert_eq!(claim_names, ["data-web-0", "data-web-1", "data-web-2"]);
    rolled_out(&cluster);
    let set = stateful_set(&cluster);
    let status = &set["status"];
    assert_eq!(status["readyReplicas"], 3, "{set}");
    assert_eq!(status["currentRevision"], status["updateRevision"], "{set}");
    let first_revision = status["updateRevision"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        up.values().all(|member| member.revision == first_revision),
        "{up:#?}"
    );

    // A partitioned rollout: only web-2 (at the partition) is updated.
    cluster.kubectl(&[
        "patch",
        "statefulset",
        "web",
        "-n",
        "store",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    cluster.kubectl(&[
        "set",
        "image",
        "statefulset/web",
        "-n",
        "store",
        "web=web:2",
    ]);
    let output = rolled_out(&cluster);
    assert!(output.contains("partitioned roll out complete"), "{output}");
    let mut partitioned = BTreeMap::new();
    block_until("web-2 updated and ready", DEADLINE, || {
        partitioned = members(&cluster);
        partitioned.len() == 3 && partitioned.values().all(|member| member.healthy)
    });
    assert_eq!(
        images(&partitioned),
        [
            (0, "web:1".into()),
            (1, "web:1".into()),
            (2, "web:2".into())
        ]
    );
    assert_eq!(partitioned[&0].uid, up[&0].uid);
    assert_eq!(partitioned[&1].uid, up[&1].uid);
    let set = stateful_set(&cluster);
    let status = &set["status"];
    assert_eq!(status["updatedReplicas"], 1, "{set}");
    assert_eq!(status["currentRevision"], first_revision.as_str(), "{set}");
    assert_ne!(status["updateRevision"], first_revision.as_str(), "{set}");

    // Partition 0: the rest follow from the highest ordinal down, one at a
    // time; web-0 is replaced only after the new web-1 is ready.
    cluster.kubectl(&[
        "patch",
        "statefulset",
        "web",
        "-n",
        "store",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ]);
    let mut updated = BTreeMap::new();
    block_until("every pod updated and ready", DEADLINE, || {
        updated = members(&cluster);
        let new = |ordinal: usize| updated.get(&ordinal).is_some_and(|m| m.image == "web:2");
        assert!(
            !new(0) || new(1),
            "web-0 was updated before web-1: {updated:#?}"
        );
        let down = (0..3)
            .filter(|ordinal| updated.get(ordinal).is_none_or(|m| !m.healthy))
            .count();
        assert!(down <= 1, "more than one pod down at once: {updated:#?}");
        updated.len() == 3 && updated.values().all(|m| m.healthy && m.image == "web:2")
    });
    let web1_ready = updated[&1].ready_since.clone().unwrap_or_default();
    assert!(
        second(&updated[&0].created) >= second(&web1_ready),
        "the new web-0 was created before the new web-1 was ready: {updated:#?}"
    );
    assert_eq!(updated[&2].uid, partitioned[&2].uid);
    rolled_out(&cluster);
    block_until("the update revision becomes current", DEADLINE, || {
        let status = stateful_set(&cluster)["status"].clone();
        status["currentRevision"] == status["updateRevision"] && status["currentReplicas"] == 3
    });

    // Scaling down removes web-2, then web-1; their claims stay.
    cluster.kubectl(&["scale", "statefulset", "web", "-n", "store", "--replicas=1"]);
    block_until("only web-0 left", DEADLINE, || {
        let now = members(&cluster);
        let ordinals: Vec<usize> = now.keys().copied().collect();
        let prefix: Vec<usize> = (0..ordinals.len()).collect();
        assert_eq!(ordinals, prefix, "web-1 went before web-2: {now:#?}");
        if now.get(&1).is_some_and(|m| m.terminating) {
            assert!(!now.contains_key(&2), "web-1 went before web-2: {now:#?}");
        }
        now.len() == 1 && now[&0].healthy
    });
    let claims = json(&cluster, &["get", "pvc", "-n", "store", "-l", "app=web"]);
    assert_eq!(
        claims["items"].as_array().map(Vec::len),
        Some(3),
        "{claims}"
    );
    let set = stateful_set(&cluster);
    assert_eq!(set["status"]["replicas"], 1, "{set}");
}
