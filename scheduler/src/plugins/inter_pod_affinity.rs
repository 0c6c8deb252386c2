//! InterPodAffinity: required affinity / anti-affinity of the incoming pod
//! and the symmetric anti-affinity of existing pods (filter), and preferred
//! terms both ways plus `hardPodAffinityWeight` (score).
//!
//! Counts are kept per topology domain, built from pod classes: each class
//! is matched once, then its per-node counts are folded into the domains of
//! the term's topology key.

use crate::matching::{selector_matches, term_matches_pod};
use crate::model::{NodeIdx, PodAffinityTerm, PodInfo};
use crate::status::RejectReason;
use crate::table::intern::{FastMap, StrId};
use crate::table::snapshot::{NodeRecord, PodClass, Snapshot};

/// Domain counts for one topology key.
pub type DomainCounts = FastMap<StrId, i64>;

/// Matching-pod counts per domain of one topology key.
///
/// For a key whose every value names one node (hostname), the counts are
/// not folded: the matching classes are kept and a node's count is read
/// from their per-node counts, so preparing costs O(classes), not O(pods).
#[derive(Clone, Debug)]
pub struct TermCounts {
    pub key: StrId,
    pub per_node: bool,
    pub domains: DomainCounts,
    /// In per-node mode: (class index, weight) of matching classes.
    pub classes: Vec<(usize, i64)>,
}

impl TermCounts {
    fn new(snapshot: &Snapshot, key: StrId) -> Self {
        TermCounts {
            key,
            per_node: snapshot
                .key_index(key)
                .is_some_and(|index| index.is_unique_per_node()),
            domains: DomainCounts::default(),
            classes: Vec::new(),
        }
    }

    /// Adds `weight` per pod of class `class_index` to its domains.
    fn add_class(&mut self, snapshot: &Snapshot, class_index: usize, weight: i64) {
        if self.per_node {
            self.classes.push((class_index, weight));
            return;
        }
        let class = &snapshot.pod_classes()[class_index];
        if let Some(values) = class.domain_counts.get(&self.key) {
            for (value, count) in values {
                *self.domains.entry(*value).or_default() += weight * i64::from(*count);
            }
        }
    }

    /// The count of the domain `value` that `node` belongs to.
    #[inline]
    pub fn count(&self, snapshot: &Snapshot, node: NodeIdx, value: StrId) -> i64 {
        if self.per_node {
            let classes = snapshot.pod_classes();
            self.classes
                .iter()
                .filter_map(|(class, weight)| {
                    classes[*class]
                        .node_counts
                        .get(&node.0)
                        .map(|count| weight * i64::from(*count))
                })
                .sum()
        } else {
            self.domains.get(&value).copied().unwrap_or(0)
        }
    }

    /// Whether some domain holds a count (any matching pod on a node with the key).
    fn is_empty(&self, snapshot: &Snapshot) -> bool {
        if !self.per_node {
            return self.domains.is_empty();
        }
        !self.classes.iter().any(|(class, _)| {
            snapshot.pod_classes()[*class]
                .node_counts
                .keys()
                .any(|node| {
                    snapshot
                        .record(NodeIdx(*node))
                        .is_some_and(|record| record.label(self.key).is_some())
                })
        })
    }
}

/// PreFilter state of the incoming pod.
#[derive(Clone, Debug, Default)]
pub struct AffinityFilterState {
    /// Per required affinity term: counts, or `None` when no node has its key.
    pub affinity: Vec<Option<TermCounts>>,
    /// Whether no existing pod matched all affinity terms on a node with the key.
    pub affinity_counts_empty: bool,
    pub pod_matches_own_affinity: bool,
    /// Per required anti-affinity term with a known key: counts.
    pub anti_affinity: Vec<TermCounts>,
    /// Existing pods' anti-affinity terms matching this pod, per key.
    pub existing_anti_affinity: Vec<TermCounts>,
}

fn entry_for<'a>(
    list: &'a mut Vec<TermCounts>,
    snapshot: &Snapshot,
    key: StrId,
) -> &'a mut TermCounts {
    let position = match list.iter().position(|counts| counts.key == key) {
        Some(position) => position,
        None => {
            list.push(TermCounts::new(snapshot, key));
            list.len() - 1
        }
    };
    &mut list[position]
}

fn existing_matches(term: &PodAffinityTerm, snapshot: &Snapshot, existing: &PodInfo) -> bool {
    term_matches_pod(
        term,
        &existing.namespace,
        &existing.labels,
        snapshot.namespace_labels(&existing.namespace),
    )
}

/// PreFilter; `None` when the plugin has nothing to check for this pod.
pub fn prepare(snapshot: &Snapshot, pod: &PodInfo) -> Option<AffinityFilterState> {
    let classes = snapshot.pod_classes();
    let any_existing_anti = classes
        .iter()
        .any(|class| class.total > 0 && !class.representative.required_anti_affinity.is_empty());
    if pod.required_affinity.is_empty()
        && pod.required_anti_affinity.is_empty()
        && !any_existing_anti
    {
        return None;
    }
    let strings = snapshot.strings();
    let mut state = AffinityFilterState {
        affinity: pod
            .required_affinity
            .iter()
            .map(|term| {
                strings
                    .get(&term.topology_key)
                    .map(|key| TermCounts::new(snapshot, key))
            })
            .collect(),
        affinity_counts_empty: true,
        pod_matches_own_affinity: pod.required_affinity.iter().all(|term| {
            term_matches_pod(
                term,
                &pod.namespace,
                &pod.labels,
                snapshot.namespace_labels(&pod.namespace),
            )
        }),
        anti_affinity: Vec::new(),
        existing_anti_affinity: Vec::new(),
    };
    let own_namespace_labels = snapshot.namespace_labels(&pod.namespace);
    for (class_index, class) in classes.iter().enumerate() {
        if class.total == 0 {
            continue;
        }
        let existing = &class.representative;
        if !pod.required_affinity.is_empty()
            && pod
                .required_affinity
                .iter()
                .all(|term| existing_matches(term, snapshot, existing))
        {
            for counts in state.affinity.iter_mut().flatten() {
                counts.add_class(snapshot, class_index, 1);
            }
        }
        for term in &pod.required_anti_affinity {
            if let Some(key) = strings.get(&term.topology_key)
                && existing_matches(term, snapshot, existing)
            {
                entry_for(&mut state.anti_affinity, snapshot, key).add_class(
                    snapshot,
                    class_index,
                    1,
                );
            }
        }
        for term in &existing.required_anti_affinity {
            if let Some(key) = strings.get(&term.topology_key)
                && term_matches_pod(term, &pod.namespace, &pod.labels, own_namespace_labels)
            {
                entry_for(&mut state.existing_anti_affinity, snapshot, key).add_class(
                    snapshot,
                    class_index,
                    1,
                );
            }
        }
    }
    state.affinity_counts_empty = state
        .affinity
        .iter()
        .flatten()
        .all(|counts| counts.is_empty(snapshot));
    Some(state)
}

#[inline]
pub fn filter(
    snapshot: &Snapshot,
    state: &AffinityFilterState,
    node: NodeIdx,
    record: &NodeRecord,
) -> Result<(), RejectReason> {
    if !state.affinity.is_empty() {
        let mut pods_exist = true;
        for counts in &state.affinity {
            let Some(counts) = counts else {
                return Err(RejectReason::PodAffinityMismatch);
            };
            match record.label(counts.key) {
                None => return Err(RejectReason::PodAffinityMismatch),
                Some(value) => {
                    if counts.count(snapshot, node, value) <= 0 {
                        pods_exist = false;
                    }
                }
            }
        }
        let first_pod_exception = state.affinity_counts_empty && state.pod_matches_own_affinity;
        if !pods_exist && !first_pod_exception {
            return Err(RejectReason::PodAffinityMismatch);
        }
    }
    for counts in &state.anti_affinity {
        if let Some(value) = record.label(counts.key)
            && counts.count(snapshot, node, value) > 0
        {
            return Err(RejectReason::PodAntiAffinityMismatch);
        }
    }
    for counts in &state.existing_anti_affinity {
        if let Some(value) = record.label(counts.key)
            && counts.count(snapshot, node, value) > 0
        {
            return Err(RejectReason::ExistingPodsAntiAffinityMismatch);
        }
    }
    Ok(())
}

/// PreScore: per topology key, the domain scores; `None` = skip.
pub fn prepare_score(
    snapshot: &Snapshot,
    pod: &PodInfo,
    hard_pod_affinity_weight: i64,
) -> Option<Vec<TermCounts>> {
    let has_preferred =
        !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
    let strings = snapshot.strings();
    let own_namespace_labels = snapshot.namespace_labels(&pod.namespace);
    let mut by_key: Vec<TermCounts> = Vec::new();
    let mut contributions: Vec<(&str, i64)> = Vec::new();
    for (class_index, class) in snapshot.pod_classes().iter().enumerate() {
        if class.total == 0 {
            continue;
        }
        let existing = &class.representative;
        if !has_preferred && !existing.has_pod_affinity_terms() {
            continue;
        }
        contributions.clear();
        for weighted in &pod.preferred_affinity {
            if existing_matches(&weighted.term, snapshot, existing) {
                contributions.push((&weighted.term.topology_key, weighted.weight));
            }
        }
        for weighted in &pod.preferred_anti_affinity {
            if existing_matches(&weighted.term, snapshot, existing) {
                contributions.push((&weighted.term.topology_key, -weighted.weight));
            }
        }
        let matches_incoming = |term: &PodAffinityTerm| {
            term_matches_pod(term, &pod.namespace, &pod.labels, own_namespace_labels)
        };
        if hard_pod_affinity_weight > 0 {
            for term in &existing.required_affinity {
                if matches_incoming(term) {
                    contributions.push((&term.topology_key, hard_pod_affinity_weight));
                }
            }
        }
        for weighted in &existing.preferred_affinity {
            if matches_incoming(&weighted.term) {
                contributions.push((&weighted.term.topology_key, weighted.weight));
            }
        }
        for weighted in &existing.preferred_anti_affinity {
            if matches_incoming(&weighted.term) {
                contributions.push((&weighted.term.topology_key, -weighted.weight));
            }
        }
        for (key, weight) in &contributions {
            if let Some(key) = strings.get(key) {
                entry_for(&mut by_key, snapshot, key).add_class(snapshot, class_index, *weight);
            }
        }
    }
    if by_key
        .iter()
        .all(|counts| counts.domains.is_empty() && counts.classes.is_empty())
    {
        return None;
    }
    Some(by_key)
}

/// Raw score of a node: Σ over keys of its domain's score.
#[inline]
pub fn score(
    snapshot: &Snapshot,
    by_key: &[TermCounts],
    node: NodeIdx,
    record: &NodeRecord,
) -> i64 {
    by_key
        .iter()
        .filter_map(|counts| {
            record
                .label(counts.key)
                .map(|value| counts.count(snapshot, node, value))
        })
        .sum()
}

/// Min–max normalization to 0–100 (all 0 when every score is equal).
pub fn normalize(scores: &mut [i64]) {
    let (Some(min), Some(max)) = (scores.iter().copied().min(), scores.iter().copied().max())
    else {
        return;
    };
    let difference = max - min;
    for score in scores.iter_mut() {
        *score = if difference > 0 {
            (100.0 * ((*score - min) as f64 / difference as f64)) as i64
        } else {
            0
        };
    }
}

/// Whether the pod is selected by `selector` (used by callers for classes).
pub fn class_selected(
    selector: &crate::model::LabelSelector,
    class: &PodClass,
    namespace: &str,
) -> bool {
    class.representative.namespace == namespace
        && !class.representative.terminating
        && selector_matches(selector, &class.representative.labels)
}
