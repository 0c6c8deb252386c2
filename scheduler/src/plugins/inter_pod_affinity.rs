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

/// PreFilter state of the incoming pod.
#[derive(Clone, Debug, Default)]
pub struct AffinityFilterState {
    /// Per required affinity term: its key (`None`: no node has it) and counts.
    pub affinity: Vec<(Option<StrId>, DomainCounts)>,
    /// Whether any existing pod matched all affinity terms on a node with the key.
    pub affinity_counts_empty: bool,
    pub pod_matches_own_affinity: bool,
    /// Per required anti-affinity term with a known key: counts.
    pub anti_affinity: Vec<(StrId, DomainCounts)>,
    /// Existing pods' anti-affinity terms matching this pod: per key, counts.
    pub existing_anti_affinity: Vec<(StrId, DomainCounts)>,
}

/// Adds `weight × count` of each node of `class` to its domain under `key`.
fn fold_class(
    snapshot: &Snapshot,
    class: &PodClass,
    key: StrId,
    weight: i64,
    into: &mut DomainCounts,
) {
    for (node, count) in &class.node_counts {
        if let Some(record) = snapshot.record(NodeIdx(*node))
            && let Some(value) = record.label(key)
        {
            *into.entry(value).or_default() += weight * i64::from(*count);
        }
    }
}

fn entry_for(list: &mut Vec<(StrId, DomainCounts)>, key: StrId) -> &mut DomainCounts {
    let position = match list.iter().position(|(existing, _)| *existing == key) {
        Some(position) => position,
        None => {
            list.push((key, DomainCounts::default()));
            list.len() - 1
        }
    };
    &mut list[position].1
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
            .map(|term| (strings.get(&term.topology_key), DomainCounts::default()))
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
    for class in classes.iter().filter(|class| class.total > 0) {
        let existing = &class.representative;
        if !pod.required_affinity.is_empty()
            && pod
                .required_affinity
                .iter()
                .all(|term| existing_matches(term, snapshot, existing))
        {
            for (key, counts) in &mut state.affinity {
                if let Some(key) = key {
                    fold_class(snapshot, class, *key, 1, counts);
                }
            }
        }
        for term in &pod.required_anti_affinity {
            if let Some(key) = strings.get(&term.topology_key)
                && existing_matches(term, snapshot, existing)
            {
                fold_class(
                    snapshot,
                    class,
                    key,
                    1,
                    entry_for(&mut state.anti_affinity, key),
                );
            }
        }
        for term in &existing.required_anti_affinity {
            if let Some(key) = strings.get(&term.topology_key)
                && term_matches_pod(term, &pod.namespace, &pod.labels, own_namespace_labels)
            {
                fold_class(
                    snapshot,
                    class,
                    key,
                    1,
                    entry_for(&mut state.existing_anti_affinity, key),
                );
            }
        }
    }
    state.affinity_counts_empty = state.affinity.iter().all(|(_, counts)| counts.is_empty());
    Some(state)
}

#[inline]
fn positive(counts: &DomainCounts, value: StrId) -> bool {
    counts.get(&value).is_some_and(|count| *count > 0)
}

#[inline]
pub fn filter(state: &AffinityFilterState, record: &NodeRecord) -> Result<(), RejectReason> {
    if !state.affinity.is_empty() {
        let mut pods_exist = true;
        for (key, counts) in &state.affinity {
            match key.and_then(|key| record.label(key)) {
                None => return Err(RejectReason::PodAffinityMismatch),
                Some(value) => {
                    if !positive(counts, value) {
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
    for (key, counts) in &state.anti_affinity {
        if let Some(value) = record.label(*key)
            && positive(counts, value)
        {
            return Err(RejectReason::PodAntiAffinityMismatch);
        }
    }
    for (key, counts) in &state.existing_anti_affinity {
        if let Some(value) = record.label(*key)
            && positive(counts, value)
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
) -> Option<Vec<(StrId, DomainCounts)>> {
    let has_preferred =
        !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
    let strings = snapshot.strings();
    let own_namespace_labels = snapshot.namespace_labels(&pod.namespace);
    let mut by_key: Vec<(StrId, DomainCounts)> = Vec::new();
    let mut contributions: Vec<(&str, i64)> = Vec::new();
    for class in snapshot
        .pod_classes()
        .iter()
        .filter(|class| class.total > 0)
    {
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
                fold_class(snapshot, class, key, *weight, entry_for(&mut by_key, key));
            }
        }
    }
    if by_key.iter().all(|(_, counts)| counts.is_empty()) {
        return None;
    }
    Some(by_key)
}

/// Raw score of a node: Σ over keys of its domain's score.
#[inline]
pub fn score(by_key: &[(StrId, DomainCounts)], record: &NodeRecord) -> i64 {
    by_key
        .iter()
        .filter_map(|(key, counts)| record.label(*key).and_then(|value| counts.get(&value)))
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
