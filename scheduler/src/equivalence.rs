//! Equivalence classes of pending pods: pods of one template (same
//! namespace, labels, requests, tolerations, node selection, priority,
//! profile, anti-affinity and spread constraints) get identical filter
//! verdicts and scores on every node of one snapshot.
//!
//! Classes whose pods do not constrain each other are evaluated once per
//! batch round on every node, and each pod then only walks its own sampling
//! window over the shared results (`evaluate_all`, `decide`). Classes whose
//! pods do constrain each other (spread, self-selecting anti-affinity) are
//! decided one pod after the other by `class_run`, which uses the same walk.
//!
//! A pod decided this way gets exactly the decision `schedule_one` would
//! give it: resource-only scores do not depend on which nodes are in the
//! window, and the window walk is the same.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;

use rayon::prelude::*;

use crate::model::{
    LabelSelector, NodeSelectorTerm, PodAffinityTerm, PodInfo, PreferredNodeTerm, ResourceAmounts,
    Toleration, TopologySpreadConstraint,
};
use crate::profile::{Profile, num_feasible_nodes_to_find};
use crate::schedule::{
    Decision, Placement, ResourceScorer, SchedulingContext, filter_node, prepare,
};
use crate::table::snapshot::Snapshot;

/// What makes two pods equivalent for scheduling: every field a filter or
/// score reads, borrowed from the pod (keys are built per pod per round, so
/// they allocate nothing).
#[derive(Clone, Copy, Debug)]
pub struct EquivalenceKey<'a> {
    pod: &'a PodInfo,
}

impl EquivalenceKey<'_> {
    /// Whether pods of the class constrain each other (required
    /// anti-affinity or topology spread), so they must be decided one after
    /// the other (see `class_run`) rather than in parallel.
    pub fn interacts(&self) -> bool {
        !self.pod.required_anti_affinity.is_empty() || !self.pod.topology_spread.is_empty()
    }

    #[allow(clippy::type_complexity)] // One tuple mirrors the compared fields.
    fn fields(
        &self,
    ) -> (
        (
            &str,
            &str,
            &BTreeMap<String, String>,
            &ResourceAmounts,
            i64,
            i64,
        ),
        (
            &BTreeMap<String, String>,
            &Option<Vec<NodeSelectorTerm>>,
            &[PreferredNodeTerm],
            &[Toleration],
            &[String],
            i32,
        ),
        (
            &[PodAffinityTerm],
            &[TopologySpreadConstraint],
            &Option<LabelSelector>,
        ),
    ) {
        let pod = self.pod;
        (
            (
                &pod.scheduler_name,
                &pod.namespace,
                &pod.labels,
                &pod.requests,
                pod.nonzero_milli_cpu,
                pod.nonzero_memory_bytes,
            ),
            (
                &pod.node_selector,
                &pod.required_node_terms,
                &pod.preferred_node_terms,
                &pod.tolerations,
                &pod.images,
                pod.priority,
            ),
            (
                &pod.required_anti_affinity,
                &pod.topology_spread,
                &pod.default_spread_selector,
            ),
        )
    }
}

impl PartialEq for EquivalenceKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.pod, other.pod) || self.fields() == other.fields()
    }
}

impl Eq for EquivalenceKey<'_> {}

impl Hash for EquivalenceKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.fields().hash(state);
    }
}

/// The key of a pod, or `None` when its verdicts depend on the pod itself
/// beyond the key (host ports, required or preferred inter-pod affinity, a
/// named or nominated node).
pub fn equivalence_key(pod: &PodInfo) -> Option<EquivalenceKey<'_>> {
    let shareable = pod.host_ports.is_empty()
        && pod.required_affinity.is_empty()
        && pod.preferred_affinity.is_empty()
        && pod.preferred_anti_affinity.is_empty()
        && pod.node_name.is_none()
        && pod.nominated_node_name.is_none();
    shareable.then_some(EquivalenceKey { pod })
}

/// Filter verdicts and weighted totals of one class on every node, by
/// position in the snapshot's node order (`None` = infeasible).
pub struct SharedEvaluation {
    totals: Vec<Option<i64>>,
}

/// Evaluates `representative` on every node; `None` when the pod's scores
/// are not resource-only, when it constrains pods of its own class (those
/// go through `class_run`), or when nominated pods exist (no sharing).
///
/// Existing pods' anti-affinity may still reject nodes: that verdict
/// depends only on the pod's namespace and labels, which are in the key.
pub fn evaluate_all(
    snapshot: &Snapshot,
    representative: &PodInfo,
    profile: &Profile,
) -> Option<SharedEvaluation> {
    if representative.has_pod_affinity_terms()
        || !representative.topology_spread.is_empty()
        || snapshot.has_nominated_pods()
    {
        return None;
    }
    let prepared = prepare(snapshot, representative, profile);
    let scorer = ResourceScorer::new(snapshot, &prepared)?;
    let totals = snapshot
        .node_order()
        .par_iter()
        .with_min_len(512)
        .map(|node| {
            filter_node(snapshot, &prepared, *node)
                .is_ok()
                .then(|| scorer.total(snapshot, &prepared, *node))
        })
        .collect();
    Some(SharedEvaluation { totals })
}

/// `schedule_one` over the shared results; `None` when no node in the whole
/// rotation fits (the caller runs `schedule_one` to collect the reasons).
pub fn decide(
    snapshot: &Snapshot,
    shared: &SharedEvaluation,
    profile: &Profile,
    context: &mut SchedulingContext,
) -> Option<Decision> {
    walk_window(snapshot, profile, context, |position| {
        shared.totals[position]
    })
}

/// `schedule_one`'s sampling walk and tie-break over precomputed verdicts:
/// `total_at(position)` is the weighted total of the node at that position
/// of the node order, `None` when it
/// is infeasible. Starts at the context's start index, stops after
/// `percentageOfNodesToScore` feasible nodes, and breaks ties with the
/// context's generator in the same order `select_host` does. `None` when no
/// node in the rotation is feasible (the context is then untouched).
#[inline]
pub(crate) fn walk_window(
    snapshot: &Snapshot,
    profile: &Profile,
    context: &mut SchedulingContext,
    total_at: impl FnMut(usize) -> Option<i64>,
) -> Option<Decision> {
    walk(snapshot, profile, context, &EveryPosition, total_at)
}

/// `walk_window` when the feasible positions are known as a bitset by
/// position: `word_at(i)` holds positions `64 i .. 64 i + 63`. Only set bits
/// are visited, so infeasible stretches cost one word per 64 nodes;
/// `total_at` is read for set bits only.
#[inline]
pub(crate) fn walk_window_masked(
    snapshot: &Snapshot,
    profile: &Profile,
    context: &mut SchedulingContext,
    word_at: impl Fn(usize) -> u64,
    total_at: impl FnMut(usize) -> Option<i64>,
) -> Option<Decision> {
    walk(snapshot, profile, context, &SetBits(word_at), total_at)
}

/// The positions of a range a walk visits, in order.
trait Positions {
    /// Calls `visit` on the positions of `range` until it returns true;
    /// whether it did.
    fn any(&self, range: Range<usize>, visit: impl FnMut(usize) -> bool) -> bool;
}

/// Every position.
struct EveryPosition;

impl Positions for EveryPosition {
    #[inline]
    fn any(&self, range: Range<usize>, visit: impl FnMut(usize) -> bool) -> bool {
        range.into_iter().any(visit)
    }
}

/// The set bits of a bitset given word by word.
struct SetBits<W>(W);

impl<W: Fn(usize) -> u64> Positions for SetBits<W> {
    #[inline]
    fn any(&self, range: Range<usize>, mut visit: impl FnMut(usize) -> bool) -> bool {
        if range.start >= range.end {
            return false;
        }
        let last = (range.end - 1) / 64;
        let mut index = range.start / 64;
        let mut word = (self.0)(index) & (!0u64 << (range.start % 64));
        loop {
            if index == last {
                let tail = range.end - last * 64;
                if tail < 64 {
                    word &= (1u64 << tail) - 1;
                }
            }
            while word != 0 {
                if visit(index * 64 + word.trailing_zeros() as usize) {
                    return true;
                }
                word &= word - 1;
            }
            if index == last {
                return false;
            }
            index += 1;
            word = (self.0)(index);
        }
    }
}

/// The rotation and selection shared by the walks.
#[inline]
fn walk(
    snapshot: &Snapshot,
    profile: &Profile,
    context: &mut SchedulingContext,
    positions: &impl Positions,
    mut total_at: impl FnMut(usize) -> Option<i64>,
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
    let rng = &mut context.rng;
    // Visits one position; true once enough feasible nodes were found.
    let mut visit = |position: usize, step: usize| -> bool {
        let Some(total) = total_at(position) else {
            return false;
        };
        found += 1;
        match best {
            Some((_, best_total)) if total < best_total => {}
            Some((_, best_total)) if total == best_total => {
                ties += 1;
                if rng.below(ties) == 0 {
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
            return true;
        }
        false
    };
    // The rotation as two plain ranges (no division or chained iterator
    // per node).
    let done = positions.any(start..node_count, |position| {
        visit(position, position - start)
    });
    if !done {
        let offset = node_count - start;
        let _ = positions.any(0..start, |position| visit(position, offset + position));
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
