//! NodeResourcesFit: every requested resource must fit in allocatable minus
//! already requested (all failures reported), and one more pod must fit the
//! pod count. Scores with LeastAllocated (default), MostAllocated or
//! RequestedToCapacityRatio over non-zero CPU/memory requests.

use crate::model::{NodeIdx, PodInfo};
use crate::profile::{Profile, ScoringStrategy, ShapePoint};
use crate::status::{Rejection, UNKNOWN_RESOURCE_BIT};
use crate::table::snapshot::{
    RESOURCE_CPU, RESOURCE_MEMORY, RESOURCE_PODS, ResourceIdx, Snapshot, nominated_reservation,
};

/// A pod's requests resolved to columns.
#[derive(Clone, Debug, Default)]
pub struct FitState {
    /// Non-zero requests by column.
    pub requests: Vec<(ResourceIdx, i64)>,
    /// Requested extended resources no node has.
    pub unknown_resources: Vec<String>,
    /// Scoring resources: (column, weight, pod request for scoring).
    pub score_resources: Vec<(ResourceIdx, i64, i64)>,
    pub priority: i32,
}

pub fn prepare(snapshot: &Snapshot, pod: &PodInfo, profile: &Profile) -> FitState {
    let (vector, unknown_resources) = snapshot.pod_request_vector(pod);
    let requests = vector
        .into_iter()
        .filter(|(_, amount)| *amount > 0)
        .collect();
    let score_resources = score_resource_list(snapshot, pod, &profile.fit_resources, true);
    FitState {
        requests,
        unknown_resources,
        score_resources,
        priority: pod.priority,
    }
}

/// Resolves weighted scoring resources to (column, weight, pod request).
/// Extended resources the pod does not request are skipped.
pub fn score_resource_list(
    snapshot: &Snapshot,
    pod: &PodInfo,
    resources: &[crate::profile::WeightedResource],
    nonzero: bool,
) -> Vec<(ResourceIdx, i64, i64)> {
    let mut list = Vec::new();
    for resource in resources {
        let Some(column) = snapshot.resource_by_name(&resource.name) else {
            continue;
        };
        let request = match column {
            RESOURCE_CPU if nonzero => pod.nonzero_milli_cpu,
            RESOURCE_MEMORY if nonzero => pod.nonzero_memory_bytes,
            RESOURCE_CPU => pod.requests.milli_cpu,
            RESOURCE_MEMORY => pod.requests.memory_bytes,
            crate::table::snapshot::RESOURCE_EPHEMERAL_STORAGE => {
                pod.requests.ephemeral_storage_bytes
            }
            RESOURCE_PODS => 1,
            _ => pod.requests.extended_amount(&resource.name),
        };
        let is_extended = column.0 > RESOURCE_PODS.0;
        if is_extended && request == 0 {
            continue;
        }
        list.push((column, resource.weight, request));
    }
    list
}

#[inline]
pub fn filter(
    snapshot: &Snapshot,
    state: &FitState,
    node: NodeIdx,
    uid: &str,
) -> Result<(), Rejection> {
    let mut mask = 0u64;
    let nominated = if snapshot.has_nominated_pods() {
        snapshot.nominated_pods(node)
    } else {
        &[]
    };
    let nominated_amount = |resource: ResourceIdx| -> i64 {
        nominated_reservation(nominated, state.priority, uid, resource)
    };
    let pods_requested = snapshot.requested(RESOURCE_PODS, node) + nominated_amount(RESOURCE_PODS);
    if pods_requested + 1 > snapshot.allocatable(RESOURCE_PODS, node) {
        mask |= 1 << RESOURCE_PODS.0;
    }
    for (resource, amount) in &state.requests {
        let free = snapshot.allocatable(*resource, node)
            - snapshot.requested(*resource, node)
            - nominated_amount(*resource);
        if *amount > free {
            mask |= 1 << resource.0.min(63);
        }
    }
    for index in 0..state.unknown_resources.len().min(16) {
        mask |= 1 << (UNKNOWN_RESOURCE_BIT + index as u32);
    }
    if mask == 0 {
        Ok(())
    } else {
        Err(Rejection::Resources(mask))
    }
}

/// The node's requested amount for scoring (non-zero for CPU/memory).
#[inline]
fn node_requested_for_score(snapshot: &Snapshot, resource: ResourceIdx, node: NodeIdx) -> i64 {
    match resource {
        RESOURCE_CPU => snapshot.nonzero_requested_milli_cpu(node),
        RESOURCE_MEMORY => snapshot.nonzero_requested_memory_bytes(node),
        _ => snapshot.requested(resource, node),
    }
}

/// The NodeResourcesFit score (already 0–100; no normalization).
#[inline]
pub fn score(
    snapshot: &Snapshot,
    state: &FitState,
    strategy: &ScoringStrategy,
    node: NodeIdx,
) -> i64 {
    let mut node_score = 0i64;
    let mut weight_sum = 0i64;
    for (resource, weight, pod_request) in &state.score_resources {
        let allocatable = snapshot.allocatable(*resource, node);
        if allocatable == 0 {
            continue;
        }
        let requested = node_requested_for_score(snapshot, *resource, node) + pod_request;
        let resource_score = match strategy {
            ScoringStrategy::LeastAllocated => {
                if requested > allocatable {
                    0
                } else {
                    (allocatable - requested) * 100 / allocatable
                }
            }
            ScoringStrategy::MostAllocated => requested.min(allocatable) * 100 / allocatable,
            ScoringStrategy::RequestedToCapacityRatio { shape } => {
                let utilization = if requested > allocatable {
                    100
                } else {
                    requested * 100 / allocatable
                };
                let value = broken_linear(shape, utilization);
                if value <= 0 {
                    continue;
                }
                value
            }
        };
        node_score += resource_score * weight;
        weight_sum += weight;
    }
    if weight_sum == 0 {
        return 0;
    }
    match strategy {
        ScoringStrategy::RequestedToCapacityRatio { .. } => {
            (node_score as f64 / weight_sum as f64).round() as i64
        }
        _ => node_score / weight_sum,
    }
}

/// kube's `BuildBrokenLinearFunction` with shape scores scaled ×10.
pub fn broken_linear(shape: &[ShapePoint], utilization: i64) -> i64 {
    for (index, point) in shape.iter().enumerate() {
        if utilization <= point.utilization {
            if index == 0 {
                return point.score * 10;
            }
            let previous = shape[index - 1];
            return previous.score * 10
                + (point.score * 10 - previous.score * 10) * (utilization - previous.utilization)
                    / (point.utilization - previous.utilization);
        }
    }
    shape.last().map(|point| point.score * 10).unwrap_or(0)
}
