//! NodeAffinity: `nodeSelector` AND required node selector terms (ORed;
//! inside a term, expressions and `matchFields` ANDed) as a filter, and the
//! summed weights of matching preferred terms as a score.
//!
//! Both are evaluated for all nodes at once as bitsets from the label index,
//! so the per-node filter is one bit test.

use crate::model::{LabelRequirement, NodeSelectorTerm, PodInfo, SelectorOperator};
use crate::status::RejectReason;
use crate::table::bitset::NodeBitset;
use crate::table::snapshot::Snapshot;

/// The compiled node affinity of a pod.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinityState {
    /// Nodes passing `nodeSelector` and required terms; `None` = all.
    pub required: Option<NodeBitset>,
    /// Preferred terms as (weight, matching nodes).
    pub preferred: Vec<(i64, NodeBitset)>,
}

pub fn prepare(snapshot: &Snapshot, pod: &PodInfo) -> NodeAffinityState {
    NodeAffinityState {
        required: required_nodes(snapshot, pod),
        preferred: pod
            .preferred_node_terms
            .iter()
            .map(|preferred| (preferred.weight, term_nodes(snapshot, &preferred.term)))
            .collect(),
    }
}

/// Nodes passing the pod's `nodeSelector` and required terms (`None` = all).
pub fn required_nodes(snapshot: &Snapshot, pod: &PodInfo) -> Option<NodeBitset> {
    if pod.node_selector.is_empty() && pod.required_node_terms.is_none() {
        return None;
    }
    let mut nodes = snapshot.live_nodes().clone();
    nodes.ensure_slots(snapshot.slot_count());
    for (key, value) in &pod.node_selector {
        let requirement = LabelRequirement {
            key: key.clone(),
            operator: SelectorOperator::In,
            values: vec![value.clone()],
        };
        nodes.intersect_with(&requirement_nodes(snapshot, &requirement));
    }
    if let Some(terms) = &pod.required_node_terms {
        let mut any_term = NodeBitset::empty(snapshot.slot_count());
        for term in terms {
            any_term.union_with(&term_nodes(snapshot, term));
        }
        nodes.intersect_with(&any_term);
    }
    Some(nodes)
}

#[inline]
pub fn filter(state: &NodeAffinityState, slot: usize) -> Result<(), RejectReason> {
    match &state.required {
        Some(nodes) if !nodes.contains(slot) => Err(RejectReason::NodeAffinityMismatch),
        _ => Ok(()),
    }
}

/// Raw score: Σ weights of matching preferred terms.
#[inline]
pub fn score(state: &NodeAffinityState, slot: usize) -> i64 {
    state
        .preferred
        .iter()
        .filter(|(_, nodes)| nodes.contains(slot))
        .map(|(weight, _)| *weight)
        .sum()
}

/// Nodes matching one node selector term; an empty term matches none.
pub fn term_nodes(snapshot: &Snapshot, term: &NodeSelectorTerm) -> NodeBitset {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return NodeBitset::empty(snapshot.slot_count());
    }
    let mut nodes = snapshot.live_nodes().clone();
    nodes.ensure_slots(snapshot.slot_count());
    for requirement in &term.match_expressions {
        nodes.intersect_with(&requirement_nodes(snapshot, requirement));
    }
    for field in &term.match_fields {
        let mut named = NodeBitset::empty(snapshot.slot_count());
        for name in &field.values {
            if let Some(node) = snapshot.node_by_name(name) {
                named.insert(node.get());
            }
        }
        if field.operator == SelectorOperator::In {
            nodes.intersect_with(&named);
        } else {
            nodes.subtract(&named);
        }
    }
    nodes
}

/// Nodes satisfying one requirement, from the label index.
pub fn requirement_nodes(snapshot: &Snapshot, requirement: &LabelRequirement) -> NodeBitset {
    let slot_count = snapshot.slot_count();
    let key_index = snapshot
        .strings()
        .get(&requirement.key)
        .and_then(|key| snapshot.key_index(key));
    let with_values = |values: &[String]| {
        let mut nodes = NodeBitset::empty(slot_count);
        if let Some(index) = key_index {
            for value in values {
                let posting = snapshot
                    .strings()
                    .get(value)
                    .and_then(|value| index.by_value.get(&value));
                for slot in posting.into_iter().flatten() {
                    nodes.insert(*slot as usize);
                }
            }
        }
        nodes
    };
    let live_minus = |excluded: &NodeBitset| {
        let mut nodes = snapshot.live_nodes().clone();
        nodes.ensure_slots(slot_count);
        nodes.subtract(excluded);
        nodes
    };
    match requirement.operator {
        SelectorOperator::In => with_values(&requirement.values),
        SelectorOperator::NotIn => live_minus(&with_values(&requirement.values)),
        SelectorOperator::Exists => key_index
            .map(|index| index.exists.clone())
            .unwrap_or_else(|| NodeBitset::empty(slot_count)),
        SelectorOperator::DoesNotExist => match key_index {
            Some(index) => live_minus(&index.exists),
            None => live_minus(&NodeBitset::empty(slot_count)),
        },
        SelectorOperator::Gt | SelectorOperator::Lt => {
            let mut nodes = NodeBitset::empty(slot_count);
            let bound = match requirement.values.as_slice() {
                [bound] => bound.parse::<i64>().ok(),
                _ => None,
            };
            if let (Some(bound), Some(index)) = (bound, key_index) {
                for (value, posting) in &index.by_value {
                    let Ok(number) = snapshot.strings().resolve(*value).parse::<i64>() else {
                        continue;
                    };
                    let passes = if requirement.operator == SelectorOperator::Gt {
                        number > bound
                    } else {
                        number < bound
                    };
                    if passes {
                        for slot in posting {
                            nodes.insert(*slot as usize);
                        }
                    }
                }
            }
            nodes
        }
    }
}
