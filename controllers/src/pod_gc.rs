//! The pod garbage collector's decisions (Kubernetes'
//! `pkg/controller/podgc`): finished pods beyond
//! `--terminated-pod-gc-threshold` (oldest first), pods bound to a node
//! that no longer exists, pods being deleted that were never bound, and
//! pods being deleted on a node that is not ready and tainted
//! `out-of-service` are deleted at once (grace period 0): no kubelet is
//! left to finish them.

use std::collections::HashMap;

use api::k8s_openapi::api::core::v1::{Node, Pod, PodCondition, PodStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use api::k8s_openapi::jiff::Timestamp;

use crate::node_lifecycle::{Readiness, readiness};

/// The taint an operator puts on a node known to be shut down, so its
/// terminating pods can go (`node.kubernetes.io/out-of-service`).
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// What one pass deletes, and which pods' nodes are missing from the cache
/// (to be confirmed gone before their pods are).
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub terminated: Vec<&'a Pod>,
    pub orphaned: Vec<&'a Pod>,
    pub unscheduled_terminating: Vec<&'a Pod>,
    pub out_of_service: Vec<&'a Pod>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

fn is_terminated(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

fn out_of_service(node: &Node) -> bool {
    readiness(node) != Some(Readiness::Ready)
        && node
            .spec
            .as_ref()
            .and_then(|spec| spec.taints.as_ref())
            .is_some_and(|taints| {
                taints
                    .iter()
                    .any(|taint| taint.key == OUT_OF_SERVICE && taint.effect == "NoExecute")
            })
}

/// One pass over the cached `pods` and `nodes` (by name); `threshold` 0
/// keeps every finished pod.
pub fn plan<'a>(
    pods: impl IntoIterator<Item = &'a Pod>,
    nodes: &HashMap<&str, &Node>,
    threshold: usize,
) -> Plan<'a> {
    let mut plan = Plan::default();
    let mut terminated = Vec::new();
    for pod in pods {
        let node = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref())
            .filter(|node| !node.is_empty());
        let deleting = pod.metadata.deletion_timestamp.is_some();
        match node {
            None if deleting => plan.unscheduled_terminating.push(pod),
            None => {}
            Some(node) => match nodes.get(node) {
                None => plan.orphaned.push(pod),
                Some(node) if deleting && out_of_service(node) => plan.out_of_service.push(pod),
                Some(_) => {}
            },
        }
        if is_terminated(pod) && !deleting {
            terminated.push(pod);
        }
    }
    if threshold > 0 && terminated.len() > threshold {
        terminated.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
        });
        let excess = terminated.len() - threshold;
        plan.terminated = terminated.into_iter().take(excess).collect();
    }
    plan
}

/// The status a pod gets before the collector deletes it while it may
/// still be running: Failed (unless it finished) with the
/// `DisruptionTarget` condition, reason `DeletionByPodGC`.
pub fn disrupted_status(pod: &Pod, now: Timestamp) -> PodStatus {
    let mut status = pod.status.clone().unwrap_or_default();
    if !is_terminated(pod) {
        status.phase = Some("Failed".to_string());
    }
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|condition| condition.type_ != "DisruptionTarget");
    conditions.push(PodCondition {
        type_: "DisruptionTarget".to_string(),
        status: "True".to_string(),
        reason: Some("DeletionByPodGC".to_string()),
        message: Some("PodGC: node no longer exists".to_string()),
        last_transition_time: Some(Time(now)),
        ..PodCondition::default()
    });
    status
}

#[cfg(test)]
mod tests;
