//! The objects the scheduler's end-to-end tests create, and what they read
//! off pods.

use std::collections::BTreeMap;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::{Client, ListParams};
use serde_json::json;

/// A node with 1 CPU, 2Gi and 110 pods allocatable, labelled with its
/// hostname.
pub(crate) fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"allocatable": {"cpu": "1", "memory": "2Gi", "pods": "110"},
                   "capacity": {"cpu": "1", "memory": "2Gi", "pods": "110"}}
    }))
    .unwrap()
}

/// A pod for `scheduler_name` (`None`: the default scheduler) requesting
/// `cpu` and 64Mi.
pub(crate) fn pod(name: &str, scheduler_name: Option<&str>, cpu: &str) -> Pod {
    let mut pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx",
                 "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}
    }))
    .unwrap();
    if let Some(spec) = pod.spec.as_mut() {
        spec.scheduler_name = scheduler_name.map(str::to_string);
    }
    pod
}

/// The node a pod is bound to.
pub(crate) fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .filter(|node| !node.is_empty())
}

/// Whether the pod's PodScheduled condition says Unschedulable.
pub(crate) fn marked_unschedulable(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|condition| {
            condition.type_ == "PodScheduled"
                && condition.status == "False"
                && condition.reason.as_deref() == Some("Unschedulable")
        })
}

/// Creates `objects` in `namespace` in one batch; panics on any failure.
pub(crate) async fn create_all<K: ApiObject>(client: &Client, namespace: &str, objects: &[K]) {
    for result in client.batch_create(namespace, objects).await.unwrap() {
        result.unwrap();
    }
}

/// Pod name → node, for the bound pods of `default`.
pub(crate) async fn placements(client: &Client) -> BTreeMap<String, String> {
    client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|pod| Some((pod.metadata.name.clone()?, node_of(pod)?.to_string())))
        .collect()
}
