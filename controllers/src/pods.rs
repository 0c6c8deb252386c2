//! What controllers read of a pod: whether it is active, ready and
//! available, and the order in which a controller scaling down deletes
//! pods (Kubernetes' `ActivePodsWithRanks`).

use std::cmp::Ordering;

use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::jiff::{SignedDuration, Timestamp};

/// The annotation by which a user ranks pods for deletion: lower goes first.
pub const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

/// Neither finished (Succeeded, Failed) nor being deleted: a pod that
/// counts toward a controller's replicas.
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

/// When the pod's Ready condition last became true, if it is true now.
pub fn ready_since(pod: &Pod) -> Option<Option<Timestamp>> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == "Ready")?;
    (condition.status == "True").then(|| condition.last_transition_time.as_ref().map(|time| time.0))
}

/// The Ready condition is true.
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds` at `now` (at once when 0).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since
            .saturating_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
            .is_ok_and(|available_at| available_at < now),
    }
}

/// The most restarts of any of the pod's containers (init containers
/// included).
pub fn max_restarts(pod: &Pod) -> i32 {
    let Some(status) = &pod.status else {
        return 0;
    };
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .map(|status| status.restart_count)
        .max()
        .unwrap_or(0)
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(DELETION_COST_ANNOTATION))
        .and_then(|cost| cost.parse().ok())
        .unwrap_or(0)
}

fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .unwrap_or("")
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

/// Kubernetes' `logarithmicRankDiff`: the ages' base-2 logarithms (of
/// nanoseconds) compared, so pods of about the same age tie and the
/// tie-break spreads deletions instead of always taking the newest.
fn logarithmic_rank(time: Timestamp, now: Timestamp) -> i64 {
    let age = now.duration_since(time).as_nanos();
    if age <= 0 {
        -1
    } else {
        // An i128 of nanoseconds is exact in an f64 to well past a year,
        // and the logarithm's integer part is all that is compared.
        (age as f64).log2() as i64
    }
}

/// Compares two times as "newer first": `None` (unknown) first, then the
/// later one; with `now`, by logarithmic age bucket, ties by UID.
fn newer_first(
    a: Option<Timestamp>,
    b: Option<Timestamp>,
    now: Option<Timestamp>,
    uids: (&str, &str),
) -> Ordering {
    match (a, b, now) {
        (Some(a), Some(b), Some(now)) => {
            let (rank_a, rank_b) = (logarithmic_rank(a, now), logarithmic_rank(b, now));
            rank_a.cmp(&rank_b).then_with(|| uids.0.cmp(uids.1))
        }
        (None, None, _) => Ordering::Equal,
        (None, Some(_), _) => Ordering::Less,
        (Some(_), None, _) => Ordering::Greater,
        (Some(a), Some(b), None) => b.cmp(&a),
    }
}

/// A pod and its rank: how many related pods (the same controller's, or a
/// Deployment's across its ReplicaSets) share its node.
#[derive(Clone, Copy, Debug)]
pub struct Ranked<'a> {
    pub pod: &'a Pod,
    pub rank: usize,
}

/// Kubernetes' order for deleting active pods, first to go first:
/// unscheduled before scheduled; Pending, Unknown, then Running; not
/// ready before ready; lower deletion cost; more related pods on the same
/// node; ready for less time; more restarts; newer. Ready and creation
/// times compare by logarithmic age bucket at `now`.
pub fn deletion_order(a: &Ranked<'_>, b: &Ranked<'_>, now: Option<Timestamp>) -> Ordering {
    let (pa, pb) = (a.pod, b.pod);
    let (node_a, node_b) = (node_name(pa), node_name(pb));
    let uids = (
        pa.metadata.uid.as_deref().unwrap_or(""),
        pb.metadata.uid.as_deref().unwrap_or(""),
    );
    if node_a.is_empty() != node_b.is_empty() {
        return if node_a.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let (ready_a, ready_b) = (ready_since(pa), ready_since(pb));
    phase_rank(pa)
        .cmp(&phase_rank(pb))
        .then_with(|| ready_a.is_some().cmp(&ready_b.is_some()))
        .then_with(|| deletion_cost(pa).cmp(&deletion_cost(pb)))
        .then_with(|| b.rank.cmp(&a.rank))
        .then_with(|| match (ready_a, ready_b) {
            (Some(since_a), Some(since_b)) if since_a != since_b => {
                newer_first(since_a, since_b, now, uids)
            }
            _ => Ordering::Equal,
        })
        .then_with(|| max_restarts(pb).cmp(&max_restarts(pa)))
        .then_with(|| {
            let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|time| time.0);
            let (created_a, created_b) = (created(pa), created(pb));
            if created_a == created_b {
                Ordering::Equal
            } else {
                newer_first(created_a, created_b, now, uids)
            }
        })
}

/// The `count` pods of `pods` to delete first, ranking each by how many of
/// `related` are active on its node.
pub fn pods_to_delete<'a>(
    pods: &[&'a Pod],
    related: &[&Pod],
    count: usize,
    now: Timestamp,
) -> Vec<&'a Pod> {
    if count >= pods.len() {
        return pods.to_vec();
    }
    let mut per_node: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for pod in related.iter().filter(|pod| is_active(pod)) {
        let node = node_name(pod);
        if !node.is_empty() {
            *per_node.entry(node).or_default() += 1;
        }
    }
    let mut ranked: Vec<Ranked<'a>> = pods
        .iter()
        .map(|pod| Ranked {
            pod,
            rank: per_node.get(node_name(pod)).copied().unwrap_or(0),
        })
        .collect();
    ranked.sort_by(|a, b| deletion_order(a, b, Some(now)));
    ranked
        .into_iter()
        .take(count)
        .map(|ranked| ranked.pod)
        .collect()
}

#[cfg(test)]
mod tests;
