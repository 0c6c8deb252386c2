//! Optimistic batch scheduling (Omega-style).
//!
//! A batch of pods is scheduled in parallel against one frozen snapshot;
//! then decisions are committed in queue order into a working copy. A
//! decision commits only if its node's version is unchanged since the frozen
//! snapshot (and, for pods whose feasibility depends on other nodes'
//! pods, if the node still passes every filter against the working state).
//! Losers are re-scheduled against the updated state in the next round;
//! after `MAX_PARALLEL_ROUNDS` the rest go one by one, so the batch always
//! finishes and no node is ever overcommitted.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::equivalence::{EquivalenceKey, SharedEvaluation, decide, equivalence_key, evaluate_all};
use crate::model::PodInfo;
use crate::profile::{Profiles, num_feasible_nodes_to_find};
use crate::schedule::{Decision, SchedulingContext, filter_node, prepare, schedule_one};
use crate::table::snapshot::Snapshot;

/// Parallel rounds before the remaining losers are scheduled sequentially.
pub const MAX_PARALLEL_ROUNDS: usize = 4;

/// The result of a batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// One entry per input pod, in input order; `None` for pods whose
    /// `schedulerName` has no profile.
    pub decisions: Vec<Option<Decision>>,
    /// The snapshot with every scheduled pod assumed on its node.
    pub working: Snapshot,
    /// Parallel rounds run.
    pub rounds: usize,
    /// Decisions rejected at commit and re-run.
    pub conflicts: usize,
    /// Indexes of scheduled pods in the order they were committed.
    pub commit_order: Vec<usize>,
}

/// Whether a pod's feasibility depends on pods of other nodes.
fn depends_on_other_nodes(pod: &PodInfo) -> bool {
    !pod.required_affinity.is_empty()
        || !pod.required_anti_affinity.is_empty()
        || !pod.topology_spread.is_empty()
}

/// Schedules `pods` (already in queue order) against `snapshot`.
pub fn schedule_batch(
    snapshot: &Snapshot,
    pods: &[Arc<PodInfo>],
    profiles: &Profiles,
    context: &mut SchedulingContext,
) -> BatchOutcome {
    let mut working = snapshot.clone();
    let mut decisions: Vec<Option<Decision>> = vec![None; pods.len()];
    let mut pending: Vec<usize> = (0..pods.len())
        .filter(|index| profiles.get(&pods[*index].scheduler_name).is_some())
        .collect();
    let mut rounds = 0;
    let mut conflicts = 0;
    let mut commit_order = Vec::new();
    while !pending.is_empty() && rounds < MAX_PARALLEL_ROUNDS {
        rounds += 1;
        let frozen = working.clone();
        let node_count = frozen.node_count().max(1);
        let base_start = context.next_start_node_index;
        let round_seed = context.rng.next_u64();
        // Pods of one template share one evaluation of every node.
        let mut class_of: Vec<Option<usize>> = vec![None; pending.len()];
        let mut representatives: Vec<(usize, usize)> = Vec::new();
        let mut class_by_key: HashMap<EquivalenceKey, usize> = HashMap::new();
        for (slot, index) in pending.iter().enumerate() {
            if let Some(key) = equivalence_key(&pods[*index]) {
                let next = representatives.len();
                let class = *class_by_key.entry(key).or_insert(next);
                if class == next {
                    representatives.push((*index, 0));
                }
                representatives[class].1 += 1;
                class_of[slot] = Some(class);
            }
        }
        let shared: Vec<Option<SharedEvaluation>> = representatives
            .iter()
            .map(|(representative, members)| {
                if *members < 2 {
                    return None;
                }
                let pod = &pods[*representative];
                let profile = profiles.get(&pod.scheduler_name)?;
                evaluate_all(&frozen, pod, profile)
            })
            .collect();
        let results: Vec<(usize, Decision, usize)> = pending
            .par_iter()
            .enumerate()
            .filter_map(|(slot, index)| {
                let pod = &pods[*index];
                let profile = profiles.get(&pod.scheduler_name)?;
                let stride =
                    num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, node_count);
                let mut pod_context = SchedulingContext {
                    rng: crate::rng::SplitMix64::new(
                        round_seed ^ (*index as u64).wrapping_mul(0x9e37_79b9),
                    ),
                    next_start_node_index: (base_start + slot * stride) % node_count,
                    node_parallelism: false,
                };
                let shared_decision = class_of[slot]
                    .and_then(|class| shared[class].as_ref())
                    .and_then(|evaluation| decide(&frozen, evaluation, profile, &mut pod_context));
                let decision = match shared_decision {
                    Some(decision) => decision,
                    None => schedule_one(&frozen, pod, profile, &mut pod_context),
                };
                Some((*index, decision, pod_context.next_start_node_index))
            })
            .collect();
        if let Some((_, _, next)) = results.last() {
            context.next_start_node_index = *next;
        }
        let mut losers = Vec::new();
        let mut committed_anti_affinity = false;
        for (index, decision, _) in results {
            let pod = &pods[index];
            let Decision::Scheduled(placement) = &decision else {
                decisions[index] = Some(decision);
                continue;
            };
            let mut wins = working.node_version(placement.node) == placement.node_version;
            if wins && (committed_anti_affinity || depends_on_other_nodes(pod)) {
                // Other nodes' commits this round may change this node's
                // inter-pod or spread verdict: re-check it on the working state.
                if let Some(profile) = profiles.get(&pod.scheduler_name) {
                    let prepared = prepare(&working, pod, profile);
                    wins = filter_node(&working, &prepared, placement.node).is_ok();
                }
            }
            if wins {
                commit(&mut working, pod, placement.node);
                committed_anti_affinity |= !pod.required_anti_affinity.is_empty();
                commit_order.push(index);
                decisions[index] = Some(decision);
            } else {
                conflicts += 1;
                losers.push(index);
            }
        }
        pending = losers;
    }
    for index in pending {
        let pod = &pods[index];
        let Some(profile) = profiles.get(&pod.scheduler_name) else {
            continue;
        };
        let decision = schedule_one(&working, pod, profile, context);
        if let Decision::Scheduled(placement) = &decision {
            commit(&mut working, pod, placement.node);
            commit_order.push(index);
        }
        decisions[index] = Some(decision);
    }
    BatchOutcome {
        decisions,
        working,
        rounds,
        conflicts,
        commit_order,
    }
}

fn commit(working: &mut Snapshot, pod: &Arc<PodInfo>, node: crate::model::NodeIdx) {
    if let Some(nominated) = pod.nominated_node_name.as_deref()
        && let Some(nominated_node) = working.node_by_name(nominated)
    {
        working.remove_nominated_pod(nominated_node, &pod.uid);
    }
    working.add_pod(node, pod.clone());
}
