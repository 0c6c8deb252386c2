//! Equivalence classes of pending pods: pods of one template (same requests,
//! tolerations, node selection, priority and profile, and nothing that
//! depends on other pods) get identical filter verdicts and scores on every
//! node, so a batch round evaluates all nodes once per class and each pod
//! then only walks its own sampling window over the shared results.
//!
//! A pod decided this way gets exactly the decision `schedule_one` would
//! give it: resource-only scores do not depend on which nodes are in the
//! window, and the window walk is the same.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::model::{NodeSelectorTerm, PodInfo, PreferredNodeTerm, ResourceAmounts, Toleration};
use crate::profile::{Profile, num_feasible_nodes_to_find};
use crate::schedule::{
    Decision, Placement, PreparedPod, SchedulingContext, filter_node, prepare, score_nodes,
};
use crate::table::snapshot::Snapshot;

/// What makes two pods equivalent for scheduling.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EquivalenceKey {
    scheduler_name: String,
    requests: ResourceAmounts,
    nonzero_milli_cpu: i64,
    nonzero_memory_bytes: i64,
    node_selector: BTreeMap<String, String>,
    required_node_terms: Option<Vec<NodeSelectorTerm>>,
    preferred_node_terms: Vec<PreferredNodeTerm>,
    tolerations: Vec<Toleration>,
    images: Vec<String>,
    priority: i32,
}

/// The key of a pod, or `None` when its verdicts depend on other pods or on
/// itself (host ports, inter-pod terms, spread, a named or nominated node).
pub fn equivalence_key(pod: &PodInfo) -> Option<EquivalenceKey> {
    let independent = pod.host_ports.is_empty()
        && !pod.has_pod_affinity_terms()
        && pod.topology_spread.is_empty()
        && pod.default_spread_selector.is_none()
        && pod.node_name.is_none()
        && pod.nominated_node_name.is_none();
    independent.then(|| EquivalenceKey {
        scheduler_name: pod.scheduler_name.clone(),
        requests: pod.requests.clone(),
        nonzero_milli_cpu: pod.nonzero_milli_cpu,
        nonzero_memory_bytes: pod.nonzero_memory_bytes,
        node_selector: pod.node_selector.clone(),
        required_node_terms: pod.required_node_terms.clone(),
        preferred_node_terms: pod.preferred_node_terms.clone(),
        tolerations: pod.tolerations.clone(),
        images: pod.images.clone(),
        priority: pod.priority,
    })
}

/// Filter verdicts and weighted totals of one class on every node, by
/// position in the snapshot's node order (`None` = infeasible).
pub struct SharedEvaluation {
    totals: Vec<Option<i64>>,
}

/// Evaluates `representative` on every node; `None` when the pod's scores
/// are not resource-only or its inter-pod state is active (no sharing).
pub fn evaluate_all(
    snapshot: &Snapshot,
    representative: &PodInfo,
    profile: &Profile,
) -> Option<SharedEvaluation> {
    let prepared = prepare(snapshot, representative, profile);
    if prepared.inter_pod.is_some() || prepared.spread.is_some() || snapshot.has_nominated_pods() {
        return None;
    }
    let order = snapshot.node_order();
    let passes: Vec<bool> = order
        .par_iter()
        .with_min_len(512)
        .map(|node| filter_node(snapshot, &prepared, *node).is_ok())
        .collect();
    let feasible: Vec<_> = order
        .iter()
        .zip(&passes)
        .filter(|(_, passes)| **passes)
        .map(|(node, _)| *node)
        .collect();
    if !resource_only(snapshot, &prepared) {
        return None;
    }
    let scores = score_nodes(snapshot, &prepared, &feasible, 512);
    let mut scores = scores.into_iter();
    let totals = passes
        .iter()
        .map(|passes| if *passes { scores.next() } else { None })
        .collect();
    Some(SharedEvaluation { totals })
}

fn resource_only(snapshot: &Snapshot, prepared: &PreparedPod<'_>) -> bool {
    let weights = &prepared.profile.weights;
    let pod = prepared.pod;
    !(weights.taint_toleration > 0 && snapshot.has_prefer_no_schedule_taints())
        && (weights.node_affinity == 0 || prepared.node_affinity.preferred.is_empty())
        && (weights.image_locality == 0
            || crate::plugins::image_locality::prepare(snapshot, pod)
                .images
                .is_empty())
        && (weights.inter_pod_affinity == 0
            || crate::plugins::inter_pod_affinity::prepare_score(
                snapshot,
                pod,
                prepared.profile.hard_pod_affinity_weight,
            )
            .is_none())
}

/// `schedule_one` over the shared results; `None` when no node in the whole
/// rotation fits (the caller runs `schedule_one` to collect the reasons).
pub fn decide(
    snapshot: &Snapshot,
    shared: &SharedEvaluation,
    profile: &Profile,
    context: &mut SchedulingContext,
) -> Option<Decision> {
    let order = snapshot.node_order();
    let node_count = order.len();
    if node_count == 0 {
        return None;
    }
    let to_find = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, node_count);
    let start = context.next_start_node_index % node_count;
    let mut found = 0usize;
    let mut evaluated = node_count;
    let mut best: Option<(usize, i64)> = None;
    let mut ties = 0u64;
    let positions = (start..node_count).chain(0..start);
    for (step, position) in positions.enumerate() {
        let Some(total) = shared.totals[position] else {
            continue;
        };
        found += 1;
        match best {
            Some((_, best_total)) if total < best_total => {}
            Some((_, best_total)) if total == best_total => {
                ties += 1;
                if context.rng.below(ties) == 0 {
                    best = Some((position, total));
                }
            }
            _ => {
                best = Some((position, total));
                ties = 1;
            }
        }
        if found >= to_find {
            evaluated = step + 1;
            break;
        }
    }
    let (position, total) = best?;
    context.next_start_node_index = (start + evaluated) % node_count;
    let node = order[position];
    Some(Decision::Scheduled(Placement {
        node,
        score: if found == 1 { 0 } else { total },
        feasible_nodes: found,
        evaluated_nodes: evaluated,
        node_version: snapshot.node_version(node),
    }))
}
