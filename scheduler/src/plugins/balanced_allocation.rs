//! NodeResourcesBalancedAllocation: prefers nodes whose resource fractions
//! (real requests / allocatable, capped at 1) are close to each other:
//! `(1 − std) · 100`. Best-effort pods score 0 everywhere.

use crate::model::{NodeIdx, PodInfo};
use crate::profile::Profile;
use crate::table::snapshot::{ResourceIdx, Snapshot};

/// Scoring resources (column, pod real request); empty = skip.
pub fn prepare(snapshot: &Snapshot, pod: &PodInfo, profile: &Profile) -> Vec<(ResourceIdx, i64)> {
    let list = crate::plugins::node_resources_fit::score_resource_list(
        snapshot,
        pod,
        &profile.balanced_resources,
        false,
    );
    if list.iter().all(|(_, _, request)| *request == 0) {
        return Vec::new();
    }
    list.into_iter()
        .map(|(resource, _, request)| (resource, request))
        .collect()
}

#[inline]
pub fn score(snapshot: &Snapshot, resources: &[(ResourceIdx, i64)], node: NodeIdx) -> i64 {
    let mut fractions = [0f64; 8];
    let mut count = 0usize;
    let mut total = 0f64;
    for (resource, request) in resources {
        let allocatable = snapshot.allocatable(*resource, node);
        if allocatable == 0 || count == fractions.len() {
            continue;
        }
        let requested = snapshot.requested(*resource, node) + request;
        let fraction = (requested as f64 / allocatable as f64).min(1.0);
        fractions[count] = fraction;
        total += fraction;
        count += 1;
    }
    let std = match count {
        0 | 1 => 0.0,
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        _ => {
            let mean = total / count as f64;
            let sum: f64 = fractions[..count]
                .iter()
                .map(|f| (f - mean) * (f - mean))
                .sum();
            (sum / count as f64).sqrt()
        }
    };
    ((1.0 - std) * 100.0) as i64
}
