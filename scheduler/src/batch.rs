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
//!
//! Pods of one template that constrain each other (topology spread,
//! anti-affinity selecting the template) would mostly lose to each other in
//! parallel rounds, so they skip the parallel decision: after the round's
//! commits each such class is decided one pod after the other against the
//! working state (`class_run`), every pod getting exactly the decision
//! `schedule_one` gives it there.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::class_run::ClassRun;
use crate::equivalence::{EquivalenceKey, SharedEvaluation, decide, equivalence_key, evaluate_all};
use crate::model::PodInfo;
use crate::profile::{Profile, Profiles, num_feasible_nodes_to_find};
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
        let pod_context = |slot: usize, index: usize, stride: usize| SchedulingContext {
            rng: crate::rng::SplitMix64::new(round_seed ^ (index as u64).wrapping_mul(0x9e37_79b9)),
            next_start_node_index: (base_start + slot * stride) % node_count,
            node_parallelism: false,
        };
        let stride_of = |profile: &Profile| {
            num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, node_count)
        };
        // Pods of one template share one evaluation of every node.
        let mut class_of: Vec<Option<usize>> = vec![None; pending.len()];
        let mut classes: Vec<Class> = Vec::new();
        let mut class_by_key: HashMap<EquivalenceKey, usize> = HashMap::new();
        // Replicas of one template usually come one after the other: a
        // field comparison with the previous pod's key is much cheaper than
        // hashing every key.
        let mut previous: Option<(EquivalenceKey, usize)> = None;
        for (slot, index) in pending.iter().enumerate() {
            if let Some(key) = equivalence_key(&pods[*index]) {
                let class = match previous {
                    Some((previous_key, class)) if previous_key == key => class,
                    _ => {
                        let next = classes.len();
                        let class = *class_by_key.entry(key).or_insert(next);
                        if class == next {
                            classes.push(Class {
                                representative: *index,
                                members: Vec::new(),
                                interacts: key.interacts(),
                            });
                        }
                        class
                    }
                };
                previous = Some((key, class));
                classes[class].members.push(slot);
                class_of[slot] = Some(class);
            }
        }
        // Classes whose pods constrain each other are decided one by one
        // after the parallel commits (`class_run`); the rest of the round
        // is decided in parallel against the frozen snapshot.
        let sequential: Vec<bool> = classes
            .iter()
            .map(|class| {
                let pod = &pods[class.representative];
                class.interacts
                    && class.members.len() >= 2
                    && profiles
                        .get(&pod.scheduler_name)
                        .is_some_and(|profile| ClassRun::qualifies(&frozen, pod, profile))
            })
            .collect();
        let shared: Vec<Option<SharedEvaluation>> = classes
            .iter()
            .map(|class| {
                if class.members.len() < 2 || class.interacts {
                    return None;
                }
                let pod = &pods[class.representative];
                let profile = profiles.get(&pod.scheduler_name)?;
                evaluate_all(&frozen, pod, profile)
            })
            .collect();
        let results: Vec<(usize, usize, Decision, usize)> = pending
            .par_iter()
            .enumerate()
            .filter(|(slot, _)| class_of[*slot].is_none_or(|class| !sequential[class]))
            .filter_map(|(slot, index)| {
                let pod = &pods[*index];
                let profile = profiles.get(&pod.scheduler_name)?;
                let mut pod_context = pod_context(slot, *index, stride_of(profile));
                let shared_decision = class_of[slot]
                    .and_then(|class| shared[class].as_ref())
                    .and_then(|evaluation| decide(&frozen, evaluation, profile, &mut pod_context));
                let decision = match shared_decision {
                    Some(decision) => decision,
                    None => schedule_one(&frozen, pod, profile, &mut pod_context),
                };
                Some((slot, *index, decision, pod_context.next_start_node_index))
            })
            .collect();
        let mut last_start: Option<(usize, usize)> =
            results.last().map(|(slot, _, _, next)| (*slot, *next));
        let mut losers = Vec::new();
        let mut committed_anti_affinity = false;
        for (_, index, decision, _) in results {
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
        for (class, _) in classes
            .iter()
            .zip(&sequential)
            .filter(|(_, sequential)| **sequential)
        {
            let representative = &pods[class.representative];
            let Some(profile) = profiles.get(&representative.scheduler_name) else {
                continue;
            };
            // Built on the working state: it holds this round's commits.
            let mut run = ClassRun::start(&working, representative, profile);
            for slot in &class.members {
                let index = pending[*slot];
                let pod = &pods[index];
                let mut pod_context = pod_context(*slot, index, stride_of(profile));
                let decision = match run
                    .as_ref()
                    .and_then(|run| run.decide(&working, &mut pod_context))
                {
                    Some(decision) => decision,
                    None => schedule_one(&working, pod, profile, &mut pod_context),
                };
                if let Decision::Scheduled(placement) = &decision {
                    commit(&mut working, pod, placement.node);
                    if let Some(run) = &mut run {
                        run.record_commit(&working, placement.node);
                    }
                    commit_order.push(index);
                }
                if last_start.is_none_or(|(last, _)| *slot > last) {
                    last_start = Some((*slot, pod_context.next_start_node_index));
                }
                decisions[index] = Some(decision);
            }
        }
        if let Some((_, next)) = last_start {
            context.next_start_node_index = next;
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

/// Pods of one template pending in a round.
struct Class {
    /// Index (into the batch) of the first member.
    representative: usize,
    /// Slots (into the round's pending list) of the members, in order.
    members: Vec<usize>,
    /// Whether members constrain each other (see `EquivalenceKey::interacts`).
    interacts: bool,
}

fn commit(working: &mut Snapshot, pod: &Arc<PodInfo>, node: crate::model::NodeIdx) {
    if let Some(nominated) = pod.nominated_node_name.as_deref()
        && let Some(nominated_node) = working.node_by_name(nominated)
    {
        working.remove_nominated_pod(nominated_node, &pod.uid);
    }
    working.add_pod(node, pod.clone());
}
