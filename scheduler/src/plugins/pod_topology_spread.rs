//! PodTopologySpread: hard (`DoNotSchedule`) constraints filter on skew,
//! soft (`ScheduleAnyway`) ones and the system defaults score.
//!
//! Matching pods are counted per domain from pod classes (one selector match
//! per class), restricted to nodes that carry every constraint key and pass
//! the constraint's node inclusion policies.

use crate::model::{
    InclusionPolicy, LabelSelector, NodeIdx, PodInfo, TopologySpreadConstraint, UnsatisfiableAction,
};
use crate::plugins::inter_pod_affinity::class_selected;
use crate::plugins::taint_toleration::TaintState;
use crate::status::RejectReason;
use crate::table::bitset::NodeBitset;
use crate::table::intern::{FastMap, StrId};
use crate::table::snapshot::{NodeRecord, Snapshot};

/// The hostname label, whose domains are single nodes.
pub const HOSTNAME_KEY: &str = "kubernetes.io/hostname";
/// The zone label used by the system default constraints.
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";

/// One hard constraint compiled against a snapshot.
#[derive(Clone, Debug)]
pub struct HardConstraint {
    pub key: Option<StrId>,
    pub max_skew: i64,
    pub self_match: bool,
    pub counts: FastMap<StrId, i64>,
    pub min_match: i64,
    /// Nodes carrying the key.
    pub with_key: NodeBitset,
    /// Nodes whose domain would exceed `max_skew` with this pod added.
    pub too_skewed: NodeBitset,
    /// Nodes whose matching pods are counted (they carry every constraint
    /// key and pass the inclusion policies).
    pub eligible: NodeBitset,
    pub min_domains: i64,
}

/// Whether a node passes a constraint's inclusion policies.
fn passes_policies(
    constraint: &TopologySpreadConstraint,
    slot: usize,
    record: &NodeRecord,
    affinity_nodes: Option<&NodeBitset>,
    taints: &TaintState,
) -> bool {
    if constraint.node_affinity_policy == InclusionPolicy::Honor
        && affinity_nodes.is_some_and(|nodes| !nodes.contains(slot))
    {
        return false;
    }
    if constraint.node_taints_policy == InclusionPolicy::Honor
        && record
            .filtering_taints
            .iter()
            .any(|taint| taints.untolerated_filtering[taint.0 as usize])
    {
        return false;
    }
    true
}

fn has_all_keys(record: &NodeRecord, keys: &[Option<StrId>]) -> bool {
    keys.iter()
        .all(|key| key.is_some_and(|key| record.label(key).is_some()))
}

/// PreFilter; `None` when the pod has no hard constraints.
pub fn prepare(
    snapshot: &Snapshot,
    pod: &PodInfo,
    affinity_nodes: Option<&NodeBitset>,
    taints: &TaintState,
) -> Option<Vec<HardConstraint>> {
    let hard: Vec<&TopologySpreadConstraint> = pod
        .topology_spread
        .iter()
        .filter(|constraint| constraint.when_unsatisfiable == UnsatisfiableAction::DoNotSchedule)
        .collect();
    if hard.is_empty() {
        return None;
    }
    let strings = snapshot.strings();
    let keys: Vec<Option<StrId>> = hard
        .iter()
        .map(|constraint| strings.get(&constraint.topology_key))
        .collect();
    // Nodes carrying every constraint key.
    let mut with_keys = snapshot.live_nodes().clone();
    with_keys.ensure_slots(snapshot.slot_count());
    for key in &keys {
        match key.and_then(|key| snapshot.key_index(key)) {
            Some(index) => with_keys.intersect_with(&index.exists),
            None => with_keys = NodeBitset::empty(snapshot.slot_count()),
        }
    }
    let mut compiled = Vec::with_capacity(hard.len());
    for (constraint, key) in hard.iter().zip(&keys) {
        let mut eligible = with_keys.clone();
        if constraint.node_affinity_policy == InclusionPolicy::Honor
            && let Some(nodes) = affinity_nodes
        {
            eligible.intersect_with(nodes);
        }
        if constraint.node_taints_policy == InclusionPolicy::Honor {
            let tainted: Vec<usize> = eligible
                .iter_ones()
                .filter(|slot| {
                    snapshot.record(NodeIdx(*slot as u32)).is_none_or(|record| {
                        !passes_policies(constraint, *slot, record, None, taints)
                    })
                })
                .collect();
            for slot in tainted {
                eligible.remove(slot);
            }
        }
        let mut counts: FastMap<StrId, i64> = FastMap::default();
        // With one topology key and no inclusion policy narrowing the nodes,
        // the eligible nodes are exactly those carrying the key, so each
        // class's per-domain counts apply as they are.
        let unrestricted = keys.iter().all(|other| other == key)
            && (constraint.node_affinity_policy == InclusionPolicy::Ignore
                || affinity_nodes.is_none())
            && constraint.node_taints_policy == InclusionPolicy::Ignore;
        if let Some(key) = key
            && let Some(index) = snapshot.key_index(*key)
        {
            for (value, posting) in &index.by_value {
                if unrestricted || posting.iter().any(|slot| eligible.contains(*slot as usize)) {
                    counts.insert(*value, 0);
                }
            }
            for class in snapshot.pod_classes() {
                if class.total == 0 || !class_selected(&constraint.selector, class, &pod.namespace)
                {
                    continue;
                }
                if unrestricted {
                    for (value, count) in class.domain_counts.get(key).into_iter().flatten() {
                        *counts.entry(*value).or_default() += i64::from(*count);
                    }
                    continue;
                }
                for (node, count) in &class.node_counts {
                    if !eligible.contains(*node as usize) {
                        continue;
                    }
                    if let Some(value) = snapshot
                        .record(NodeIdx(*node))
                        .and_then(|record| record.label(*key))
                    {
                        *counts.entry(value).or_default() += i64::from(*count);
                    }
                }
            }
        }
        let min_match = if (counts.len() as i64) < constraint.min_domains {
            0
        } else {
            counts.values().copied().min().unwrap_or(0)
        };
        let self_match = crate::matching::selector_matches(&constraint.selector, &pod.labels);
        let skews =
            |matching: i64| matching + i64::from(self_match) - min_match > constraint.max_skew;
        // Per-domain verdicts become node bitsets, so the per-node filter is
        // two bit tests. Values outside `counts` count 0 matching pods.
        let key_index = key.and_then(|key| snapshot.key_index(key));
        let with_key = key_index
            .map(|index| index.exists.clone())
            .unwrap_or_else(|| NodeBitset::empty(snapshot.slot_count()));
        let mut too_skewed = if skews(0) {
            with_key.clone()
        } else {
            NodeBitset::empty(snapshot.slot_count())
        };
        if let Some(index) = key_index {
            let posting_len = |value: &StrId| index.by_value.get(value).map_or(0, Vec::len);
            // Every value is a counted domain when no policy narrows them; then
            // flipping from "all with the key" is cheaper if most nodes fail.
            let failing_nodes: usize = counts
                .iter()
                .filter(|(_, count)| skews(**count))
                .map(|(value, _)| posting_len(value))
                .sum();
            let all_counted = counts.len() == index.by_value.len();
            let start_full = !skews(0) && all_counted && failing_nodes * 2 > with_key.count();
            if start_full {
                too_skewed = with_key.clone();
            }
            let default_skews = skews(0) || start_full;
            for (value, count) in &counts {
                if skews(*count) == default_skews {
                    continue;
                }
                for slot in index.by_value.get(value).into_iter().flatten() {
                    if skews(*count) {
                        too_skewed.insert(*slot as usize);
                    } else {
                        too_skewed.remove(*slot as usize);
                    }
                }
            }
        }
        compiled.push(HardConstraint {
            key: *key,
            max_skew: constraint.max_skew,
            self_match,
            counts,
            min_match,
            with_key,
            too_skewed,
            eligible,
            min_domains: constraint.min_domains,
        });
    }
    Some(compiled)
}

#[inline]
pub fn filter(constraints: &[HardConstraint], node: NodeIdx) -> Result<(), RejectReason> {
    let slot = node.get();
    for constraint in constraints {
        if !constraint.with_key.contains(slot) {
            return Err(RejectReason::SpreadMissingLabel);
        }
        if constraint.too_skewed.contains(slot) {
            return Err(RejectReason::SpreadConstraintMismatch);
        }
    }
    Ok(())
}

/// The soft constraints that score a pod (its own, or the system defaults).
pub fn scoring_constraints(
    pod: &PodInfo,
    system_default_spread: bool,
) -> (Vec<TopologySpreadConstraint>, bool) {
    if pod.topology_spread.is_empty() {
        if !system_default_spread {
            return (Vec::new(), true);
        }
        let Some(selector) = pod
            .default_spread_selector
            .as_ref()
            .filter(|selector| !selector.matches_nothing && !selector.requirements.is_empty())
        else {
            return (Vec::new(), true);
        };
        let default =
            |key: &str, max_skew: i64, selector: &LabelSelector| TopologySpreadConstraint {
                max_skew,
                topology_key: key.to_string(),
                when_unsatisfiable: UnsatisfiableAction::ScheduleAnyway,
                selector: selector.clone(),
                min_domains: 1,
                node_affinity_policy: InclusionPolicy::Honor,
                node_taints_policy: InclusionPolicy::Ignore,
            };
        return (
            vec![
                default(HOSTNAME_KEY, 3, selector),
                default(ZONE_KEY, 5, selector),
            ],
            true,
        );
    }
    let soft = pod
        .topology_spread
        .iter()
        .filter(|constraint| constraint.when_unsatisfiable == UnsatisfiableAction::ScheduleAnyway)
        .cloned()
        .collect();
    (soft, false)
}

/// PreScore state for soft constraints over the feasible nodes.
#[derive(Clone, Debug)]
pub struct SpreadScoreState {
    pub keys: Vec<Option<StrId>>,
    pub is_hostname: Vec<bool>,
    pub max_skews: Vec<i64>,
    pub weights: Vec<f64>,
    pub counts: Vec<FastMap<StrId, i64>>,
    /// Per constraint, classes its selector matches (for hostname counts).
    pub matching_classes: Vec<Vec<usize>>,
    /// Per feasible node (same order): lacks a required key.
    pub ignored: Vec<bool>,
}

pub fn prepare_score(
    snapshot: &Snapshot,
    pod: &PodInfo,
    system_default_spread: bool,
    feasible: &[NodeIdx],
    affinity_nodes: Option<&NodeBitset>,
    taints: &TaintState,
) -> Option<SpreadScoreState> {
    let (constraints, system_defaulted) = scoring_constraints(pod, system_default_spread);
    if constraints.is_empty() {
        return None;
    }
    let require_all = !system_defaulted;
    let strings = snapshot.strings();
    let keys: Vec<Option<StrId>> = constraints
        .iter()
        .map(|constraint| strings.get(&constraint.topology_key))
        .collect();
    let is_hostname: Vec<bool> = constraints
        .iter()
        .map(|constraint| constraint.topology_key == HOSTNAME_KEY)
        .collect();
    let ignored: Vec<bool> = feasible
        .iter()
        .map(|node| {
            require_all
                && snapshot
                    .record(*node)
                    .is_none_or(|record| !has_all_keys(record, &keys))
        })
        .collect();
    let not_ignored = ignored.iter().filter(|ignored| !**ignored).count();
    let mut counts: Vec<FastMap<StrId, i64>> = vec![FastMap::default(); constraints.len()];
    let mut weights = Vec::with_capacity(constraints.len());
    for (index, key) in keys.iter().enumerate() {
        if !is_hostname[index]
            && let Some(key) = key
        {
            for (node, _) in feasible
                .iter()
                .zip(&ignored)
                .filter(|(_, ignored)| !**ignored)
            {
                if let Some(value) = snapshot.record(*node).and_then(|record| record.label(*key)) {
                    counts[index].entry(value).or_insert(0);
                }
            }
        }
        let size = if is_hostname[index] {
            not_ignored
        } else {
            counts[index].len()
        };
        weights.push(((size + 2) as f64).ln());
    }
    let mut matching_classes = vec![Vec::new(); constraints.len()];
    for (class_index, class) in snapshot.pod_classes().iter().enumerate() {
        if class.total == 0 {
            continue;
        }
        for (index, constraint) in constraints.iter().enumerate() {
            if !class_selected(&constraint.selector, class, &pod.namespace) {
                continue;
            }
            matching_classes[index].push(class_index);
            let Some(key) = keys[index] else { continue };
            if is_hostname[index] {
                continue;
            }
            for (node, count) in &class.node_counts {
                let Some(record) = snapshot.record(NodeIdx(*node)) else {
                    continue;
                };
                if require_all && !has_all_keys(record, &keys) {
                    continue;
                }
                if !passes_policies(constraint, *node as usize, record, affinity_nodes, taints) {
                    continue;
                }
                if let Some(value) = record.label(key)
                    && let Some(tracked) = counts[index].get_mut(&value)
                {
                    *tracked += i64::from(*count);
                }
            }
        }
    }
    Some(SpreadScoreState {
        keys,
        is_hostname,
        max_skews: constraints
            .iter()
            .map(|constraint| constraint.max_skew)
            .collect(),
        weights,
        counts,
        matching_classes,
        ignored,
    })
}

/// Raw score of a feasible node (ignored nodes are zeroed in `normalize`).
pub fn score(
    snapshot: &Snapshot,
    state: &SpreadScoreState,
    node: NodeIdx,
    record: &NodeRecord,
) -> i64 {
    let mut total = 0f64;
    for index in 0..state.keys.len() {
        let Some(value) = state.keys[index].and_then(|key| record.label(key)) else {
            continue;
        };
        let count = if state.is_hostname[index] {
            state.matching_classes[index]
                .iter()
                .filter_map(|class| snapshot.pod_classes()[*class].node_counts.get(&node.0))
                .map(|count| i64::from(*count))
                .sum()
        } else {
            state.counts[index].get(&value).copied().unwrap_or(0)
        };
        total += count as f64 * state.weights[index] + (state.max_skews[index] - 1) as f64;
    }
    total.round() as i64
}

/// `100·(max+min−s)/max` over non-ignored nodes; ignored nodes score 0.
pub fn normalize(state: &SpreadScoreState, scores: &mut [i64]) {
    let mut min = i64::MAX;
    let mut max = 0i64;
    for (score, ignored) in scores.iter().zip(&state.ignored) {
        if *ignored {
            continue;
        }
        min = min.min(*score);
        max = max.max(*score);
    }
    for (score, ignored) in scores.iter_mut().zip(&state.ignored) {
        if *ignored {
            *score = 0;
        } else if max == 0 {
            *score = 100;
        } else {
            *score = 100 * (max + min - *score) / max;
        }
    }
}
