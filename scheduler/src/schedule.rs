//! Scheduling one pod against a snapshot: PreFilter, Filter (with
//! percentageOfNodesToScore sampling from a rotating start), Score,
//! NormalizeScore, weights, and random tie-breaking among the best nodes.
//!
//! Filtering and scoring fan out over node chunks with rayon when the number
//! of nodes to examine reaches `Profile::parallel_node_threshold`; results
//! are identical to the sequential order.

use rayon::prelude::*;

use crate::model::{NodeIdx, PodInfo};
use crate::plugins::{
    balanced_allocation, default_normalize, image_locality, inter_pod_affinity, node_affinity,
    node_name, node_ports, node_resources_fit, node_unschedulable, pod_topology_spread,
    taint_toleration,
};
use crate::profile::{Profile, num_feasible_nodes_to_find};
use crate::rng::SplitMix64;
use crate::status::{FitError, Rejection};
use crate::table::snapshot::{ResourceIdx, Snapshot};

/// Mutable per-scheduler state carried between decisions.
#[derive(Clone, Debug)]
pub struct SchedulingContext {
    pub rng: SplitMix64,
    /// Where the next filter pass starts in the node order.
    pub next_start_node_index: usize,
    /// Whether filtering and scoring may fan out over nodes with rayon
    /// (batches turn this off: they already run one pod per thread).
    pub node_parallelism: bool,
}

impl SchedulingContext {
    pub fn new(seed: u64) -> Self {
        SchedulingContext {
            rng: SplitMix64::new(seed),
            next_start_node_index: 0,
            node_parallelism: true,
        }
    }
}

/// Where a pod goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub node: NodeIdx,
    /// Weighted total score (0 when there was nothing to compare).
    pub score: i64,
    pub feasible_nodes: usize,
    pub evaluated_nodes: usize,
    /// Version of the node in the snapshot the decision was made on.
    pub node_version: u64,
}

/// The outcome of one scheduling attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Scheduled(Placement),
    Unschedulable(FitError),
}

/// A pod compiled against a snapshot (PreFilter results of every plugin).
pub struct PreparedPod<'a> {
    pub pod: &'a PodInfo,
    pub profile: &'a Profile,
    pub node_name: Option<Option<NodeIdx>>,
    pub tolerates_unschedulable: bool,
    pub taints: taint_toleration::TaintState,
    pub node_affinity: node_affinity::NodeAffinityState,
    pub fit: node_resources_fit::FitState,
    pub spread: Option<Vec<pod_topology_spread::HardConstraint>>,
    pub inter_pod: Option<inter_pod_affinity::AffinityFilterState>,
}

/// PreFilter: compiles `pod` for `snapshot`.
pub fn prepare<'a>(snapshot: &Snapshot, pod: &'a PodInfo, profile: &'a Profile) -> PreparedPod<'a> {
    let filters = &profile.filters;
    let taints = taint_toleration::prepare(snapshot, pod);
    let affinity_state = node_affinity::prepare(snapshot, pod);
    let spread = if filters.pod_topology_spread {
        pod_topology_spread::prepare(snapshot, pod, affinity_state.required.as_ref(), &taints)
    } else {
        None
    };
    PreparedPod {
        pod,
        profile,
        node_name: if filters.node_name {
            node_name::prepare(snapshot, pod)
        } else {
            None
        },
        tolerates_unschedulable: node_unschedulable::prepare(pod),
        taints,
        node_affinity: affinity_state,
        fit: node_resources_fit::prepare(snapshot, pod, profile),
        spread,
        inter_pod: if filters.inter_pod_affinity {
            inter_pod_affinity::prepare(snapshot, pod)
        } else {
            None
        },
    }
}

/// Runs the filters in kube-scheduler's order on one node; first failure wins.
#[inline]
pub fn filter_node(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    node: NodeIdx,
) -> Result<(), Rejection> {
    // Hot checks read columns only; the node record is fetched when a
    // plugin needs it (taints, ports, spread, inter-pod affinity).
    if !snapshot.live_nodes().contains(node.get()) {
        return Err(Rejection::Plugin(
            crate::status::RejectReason::NodeNameMismatch,
        ));
    }
    let filters = &prepared.profile.filters;
    let plugin = Rejection::Plugin;
    if filters.node_unschedulable {
        node_unschedulable::filter(
            prepared.tolerates_unschedulable,
            snapshot.is_unschedulable(node),
        )
        .map_err(plugin)?;
    }
    if let Some(wanted) = prepared.node_name {
        node_name::filter(wanted, node).map_err(plugin)?;
    }
    let record = || snapshot.record(node);
    if filters.taint_toleration
        && snapshot.has_filtering_taints(node)
        && let Some(record) = record()
    {
        taint_toleration::filter(&prepared.taints, record).map_err(plugin)?;
    }
    if filters.node_affinity {
        node_affinity::filter(&prepared.node_affinity, node.get()).map_err(plugin)?;
    }
    if filters.node_ports
        && !prepared.pod.host_ports.is_empty()
        && let Some(record) = record()
    {
        node_ports::filter(prepared.pod, record).map_err(plugin)?;
    }
    if filters.node_resources_fit {
        node_resources_fit::filter(snapshot, &prepared.fit, node, &prepared.pod.uid)?;
    }
    if let Some(spread) = &prepared.spread {
        pod_topology_spread::filter(spread, node).map_err(plugin)?;
    }
    if let Some(inter_pod) = &prepared.inter_pod
        && let Some(record) = record()
    {
        inter_pod_affinity::filter(snapshot, inter_pod, node, record).map_err(plugin)?;
    }
    Ok(())
}

/// Schedules one pod: a node and its score, or why no node fits.
pub fn schedule_one(
    snapshot: &Snapshot,
    pod: &PodInfo,
    profile: &Profile,
    context: &mut SchedulingContext,
) -> Decision {
    let node_count = snapshot.node_count();
    if node_count == 0 {
        return Decision::Unschedulable(FitError::new(snapshot, Vec::new(), &[]));
    }
    let prepared = prepare(snapshot, pod, profile);
    if let Some(nominated) = pod.nominated_node_name.as_deref()
        && let Some(node) = snapshot.node_by_name(nominated)
        && filter_node(snapshot, &prepared, node).is_ok()
    {
        return Decision::Scheduled(Placement {
            node,
            score: 0,
            feasible_nodes: 1,
            evaluated_nodes: 1,
            node_version: snapshot.node_version(node),
        });
    }
    let to_find = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, node_count);
    let start = context.next_start_node_index % node_count;
    let parallel_threshold = if context.node_parallelism {
        profile.parallel_node_threshold
    } else {
        usize::MAX
    };
    let search = find_feasible(snapshot, &prepared, start, to_find, parallel_threshold);
    context.next_start_node_index = (start + search.evaluated) % node_count;
    if search.feasible.is_empty() {
        let rejections = search
            .rejections
            .into_iter()
            .map(|(_, node, r)| (node, r))
            .collect();
        return Decision::Unschedulable(FitError::new(
            snapshot,
            rejections,
            &prepared.fit.unknown_resources,
        ));
    }
    let evaluated_nodes = search.evaluated;
    let feasible = search.feasible;
    if feasible.len() == 1 {
        let node = feasible[0];
        return Decision::Scheduled(Placement {
            node,
            score: 0,
            feasible_nodes: 1,
            evaluated_nodes,
            node_version: snapshot.node_version(node),
        });
    }
    let totals = score_nodes(snapshot, &prepared, &feasible, parallel_threshold);
    let (best, score) = select_host(&feasible, &totals, &mut context.rng);
    Decision::Scheduled(Placement {
        node: best,
        score,
        feasible_nodes: feasible.len(),
        evaluated_nodes,
        node_version: snapshot.node_version(best),
    })
}

/// Nodes that passed, nodes that failed (with their position), and how many
/// positions of the rotation were consumed.
pub struct FeasibleSearch {
    pub feasible: Vec<NodeIdx>,
    /// Complete only when `feasible` is empty.
    pub rejections: Vec<(usize, NodeIdx, Rejection)>,
    pub evaluated: usize,
}

const FILTER_CHUNK_NODES: usize = 512;

/// Passed (position, node) and failed (position, node, why) of one chunk.
type ChunkResult = (Vec<(usize, NodeIdx)>, Vec<(usize, NodeIdx, Rejection)>);

/// Filters nodes from `start` in rotation until `to_find` pass.
pub fn find_feasible(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    start: usize,
    to_find: usize,
    parallel_threshold: usize,
) -> FeasibleSearch {
    let order = snapshot.node_order();
    let node_count = order.len();
    let mut search = FeasibleSearch {
        feasible: Vec::with_capacity(to_find.min(node_count)),
        rejections: Vec::new(),
        evaluated: node_count,
    };
    if node_count < parallel_threshold {
        // Walk the rotation as two slices to avoid a division per node.
        let rotated = order[start..].iter().chain(order[..start].iter());
        for (position, node) in rotated.enumerate() {
            let node = *node;
            match filter_node(snapshot, prepared, node) {
                Ok(()) => {
                    search.feasible.push(node);
                    if search.feasible.len() >= to_find {
                        search.evaluated = position + 1;
                        break;
                    }
                }
                // Rejections only matter if no node fits, so stop keeping
                // them once one does.
                Err(rejection) if search.feasible.is_empty() => {
                    search.rejections.push((position, node, rejection))
                }
                Err(_) => {}
            }
        }
        return search;
    }
    let batch_chunks = rayon::current_num_threads().max(1) * 2;
    let mut position = 0;
    while position < node_count {
        let batch_end = (position + batch_chunks * FILTER_CHUNK_NODES).min(node_count);
        let chunk_starts: Vec<usize> = (position..batch_end).step_by(FILTER_CHUNK_NODES).collect();
        let results: Vec<ChunkResult> = chunk_starts
            .par_iter()
            .map(|chunk_start| {
                let chunk_end = (chunk_start + FILTER_CHUNK_NODES).min(batch_end);
                let mut passed = Vec::new();
                let mut failed = Vec::new();
                for index in *chunk_start..chunk_end {
                    let node = order[(start + index) % node_count];
                    match filter_node(snapshot, prepared, node) {
                        Ok(()) => passed.push((index, node)),
                        Err(rejection) => failed.push((index, node, rejection)),
                    }
                }
                (passed, failed)
            })
            .collect();
        for (passed, failed) in results {
            search.rejections.extend(failed);
            for (index, node) in passed {
                if search.feasible.len() < to_find {
                    search.feasible.push(node);
                    if search.feasible.len() == to_find {
                        search.evaluated = index + 1;
                    }
                }
            }
        }
        if search.feasible.len() >= to_find {
            let evaluated = search.evaluated;
            search.rejections.retain(|(index, _, _)| *index < evaluated);
            return search;
        }
        position = batch_end;
    }
    search
}

/// Number of score plugins.
pub const SCORE_PLUGINS: usize = 7;
/// Column of each score plugin in a raw score row.
pub const SCORE_TAINT: usize = 0;
pub const SCORE_NODE_AFFINITY: usize = 1;
pub const SCORE_SPREAD: usize = 2;
pub const SCORE_INTER_POD: usize = 3;
pub const SCORE_FIT: usize = 4;
pub const SCORE_BALANCED: usize = 5;
pub const SCORE_IMAGE: usize = 6;

/// Normalized per-plugin scores (0–100) of each feasible node, before weights.
pub fn plugin_scores(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    feasible: &[NodeIdx],
) -> Vec<[i64; SCORE_PLUGINS]> {
    plugin_scores_with(
        snapshot,
        prepared,
        feasible,
        prepared.profile.parallel_node_threshold,
    )
}

fn plugin_scores_with(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    feasible: &[NodeIdx],
    parallel_threshold: usize,
) -> Vec<[i64; SCORE_PLUGINS]> {
    let pod = prepared.pod;
    let profile = prepared.profile;
    let weights = &profile.weights;
    let taint_active = weights.taint_toleration > 0 && snapshot.has_prefer_no_schedule_taints();
    let affinity_active = weights.node_affinity > 0 && !prepared.node_affinity.preferred.is_empty();
    let spread_state = if weights.pod_topology_spread > 0 {
        pod_topology_spread::prepare_score(
            snapshot,
            pod,
            profile.system_default_spread,
            feasible,
            prepared.node_affinity.required.as_ref(),
            &prepared.taints,
        )
    } else {
        None
    };
    let inter_pod_state = if weights.inter_pod_affinity > 0 {
        inter_pod_affinity::prepare_score(snapshot, pod, profile.hard_pod_affinity_weight)
    } else {
        None
    };
    let balanced = if weights.balanced_allocation > 0 {
        balanced_allocation::prepare(snapshot, pod, profile)
    } else {
        Vec::new()
    };
    let image_state = if weights.image_locality > 0 {
        image_locality::prepare(snapshot, pod)
    } else {
        image_locality::ImageState::default()
    };
    let total_nodes = snapshot.node_count();
    let needs_record = taint_active
        || spread_state.is_some()
        || inter_pod_state.is_some()
        || !image_state.images.is_empty();
    let row = |node: &NodeIdx| -> [i64; SCORE_PLUGINS] {
        let mut row = [0i64; SCORE_PLUGINS];
        if weights.node_resources_fit > 0 {
            row[SCORE_FIT] =
                node_resources_fit::score(snapshot, &prepared.fit, &profile.fit_strategy, *node);
        }
        if !balanced.is_empty() {
            row[SCORE_BALANCED] = balanced_allocation::score(snapshot, &balanced, *node);
        }
        if affinity_active {
            row[SCORE_NODE_AFFINITY] = node_affinity::score(&prepared.node_affinity, node.get());
        }
        if !needs_record {
            return row;
        }
        let Some(record) = snapshot.record(*node) else {
            return row;
        };
        if taint_active {
            row[SCORE_TAINT] = taint_toleration::score(&prepared.taints, record);
        }
        if let Some(state) = &spread_state {
            row[SCORE_SPREAD] = pod_topology_spread::score(snapshot, state, *node, record);
        }
        if let Some(state) = &inter_pod_state {
            row[SCORE_INTER_POD] = inter_pod_affinity::score(snapshot, state, *node, record);
        }
        if !image_state.images.is_empty() {
            row[SCORE_IMAGE] = image_locality::score(&image_state, record, total_nodes);
        }
        row
    };
    let mut rows: Vec<[i64; SCORE_PLUGINS]> = if feasible.len() >= parallel_threshold {
        feasible.par_iter().with_min_len(256).map(row).collect()
    } else {
        feasible.iter().map(row).collect()
    };
    let mut column = vec![0i64; rows.len()];
    let mut normalize_column = |index: usize, normalize: &dyn Fn(&mut [i64])| {
        for (value, row) in column.iter_mut().zip(rows.iter()) {
            *value = row[index];
        }
        normalize(&mut column);
        for (value, row) in column.iter().zip(rows.iter_mut()) {
            row[index] = *value;
        }
    };
    if weights.taint_toleration > 0 {
        normalize_column(SCORE_TAINT, &|scores| default_normalize(scores, true));
    }
    if affinity_active {
        normalize_column(SCORE_NODE_AFFINITY, &|scores| {
            default_normalize(scores, false)
        });
    }
    if let Some(state) = &spread_state {
        normalize_column(SCORE_SPREAD, &|scores| {
            pod_topology_spread::normalize(state, scores)
        });
    }
    if inter_pod_state.is_some() {
        normalize_column(SCORE_INTER_POD, &inter_pod_affinity::normalize);
    }
    rows
}

/// Weighted totals of each feasible node.
pub fn score_nodes(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    feasible: &[NodeIdx],
    parallel_threshold: usize,
) -> Vec<i64> {
    if let Some(totals) = resource_only_totals(snapshot, prepared, feasible, parallel_threshold) {
        return totals;
    }
    let weights = &prepared.profile.weights;
    let weight_row = [
        weights.taint_toleration,
        weights.node_affinity,
        weights.pod_topology_spread,
        weights.inter_pod_affinity,
        weights.node_resources_fit,
        weights.balanced_allocation,
        weights.image_locality,
    ];
    plugin_scores_with(snapshot, prepared, feasible, parallel_threshold)
        .iter()
        .map(|row| {
            row.iter()
                .zip(weight_row)
                .map(|(score, weight)| score * weight)
                .sum()
        })
        .collect()
}

/// Totals in one pass when only the resource scores can differ between
/// nodes (no PreferNoSchedule taints, preferred node terms, spread, inter-pod
/// terms or known images): the common case, kept free of per-plugin rows.
fn resource_only_totals(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    feasible: &[NodeIdx],
    parallel_threshold: usize,
) -> Option<Vec<i64>> {
    let scorer = ResourceScorer::new(snapshot, prepared)?;
    let total = |node: &NodeIdx| scorer.total(snapshot, prepared, *node);
    Some(if feasible.len() >= parallel_threshold {
        feasible.par_iter().with_min_len(256).map(total).collect()
    } else {
        feasible.iter().map(total).collect()
    })
}

/// The weighted total of a pod whose scores differ between nodes only
/// through the node's own resources, so a node's total does not depend on
/// which other nodes are scored with it (no window normalization).
#[derive(Clone, Debug)]
pub struct ResourceScorer {
    /// Contribution of plugins that score every node alike.
    constant: i64,
    /// BalancedAllocation's resources (empty = skipped).
    balanced: Vec<(ResourceIdx, i64)>,
}

impl ResourceScorer {
    /// `None` when a PreferNoSchedule taint, preferred node term, spread
    /// constraint, inter-pod term or known image makes scores vary otherwise.
    pub fn new(snapshot: &Snapshot, prepared: &PreparedPod<'_>) -> Option<Self> {
        let pod = prepared.pod;
        let profile = prepared.profile;
        let weights = &profile.weights;
        let varies = (weights.taint_toleration > 0 && snapshot.has_prefer_no_schedule_taints())
            || (weights.node_affinity > 0 && !prepared.node_affinity.preferred.is_empty())
            || (weights.pod_topology_spread > 0
                && !pod_topology_spread::scoring_constraints(pod, profile.system_default_spread)
                    .0
                    .is_empty())
            || (weights.image_locality > 0
                && !image_locality::prepare(snapshot, pod).images.is_empty())
            || (weights.inter_pod_affinity > 0
                && inter_pod_affinity::prepare_score(
                    snapshot,
                    pod,
                    profile.hard_pod_affinity_weight,
                )
                .is_some());
        if varies {
            return None;
        }
        Some(ResourceScorer {
            // All-zero taint scores normalize (reversed) to 100 on every node.
            constant: if weights.taint_toleration > 0 {
                100 * weights.taint_toleration
            } else {
                0
            },
            balanced: if weights.balanced_allocation > 0 {
                balanced_allocation::prepare(snapshot, pod, profile)
            } else {
                Vec::new()
            },
        })
    }

    /// The weighted total of `node`.
    #[inline]
    pub fn total(&self, snapshot: &Snapshot, prepared: &PreparedPod<'_>, node: NodeIdx) -> i64 {
        let profile = prepared.profile;
        let weights = &profile.weights;
        let mut total = self.constant;
        if weights.node_resources_fit > 0 {
            total += weights.node_resources_fit
                * node_resources_fit::score(snapshot, &prepared.fit, &profile.fit_strategy, node);
        }
        if !self.balanced.is_empty() {
            total += weights.balanced_allocation
                * balanced_allocation::score(snapshot, &self.balanced, node);
        }
        total
    }
}

/// The highest total; ties broken uniformly at random (reservoir sampling).
pub fn select_host(feasible: &[NodeIdx], totals: &[i64], rng: &mut SplitMix64) -> (NodeIdx, i64) {
    let mut best = feasible[0];
    let mut best_score = totals[0];
    let mut ties = 1u64;
    for (node, score) in feasible.iter().zip(totals).skip(1) {
        if *score > best_score {
            best = *node;
            best_score = *score;
            ties = 1;
        } else if *score == best_score {
            ties += 1;
            if rng.below(ties) == 0 {
                best = *node;
            }
        }
    }
    (best, best_score)
}
