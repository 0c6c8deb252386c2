//! Filter and score plugins with kube-scheduler semantics, one per file.
//! Each exposes a `prepare` (PreFilter/PreScore) that compiles the pod
//! against a snapshot once, and per-node `filter` / `score` functions that
//! do no allocation.

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;

/// kube-scheduler's `DefaultNormalizeScore(100, reverse)`.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|score| *score = 100);
        }
        return;
    }
    for score in scores.iter_mut() {
        let normalized = 100 * *score / max;
        *score = if reverse {
            100 - normalized
        } else {
            normalized
        };
    }
}

#[cfg(test)]
mod tests;
