//! DefaultPreemption (PostFilter) for a pod that fits nowhere.
//!
//! Candidates are nodes rejected only for reasons removing pods can fix.
//! On each, every strictly lower-priority pod is removed; if the pod then
//! fits, victims are reprieved one by one by importance (PDB-violating ones
//! first), keeping each whose return leaves the pod feasible. The node is
//! picked by kube-scheduler's ordering: fewest PDB violations → lowest
//! highest-victim priority → smallest Σ(priority + 2³¹) → fewest victims →
//! latest earliest start among the highest-priority victims → first.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::matching::selector_matches;
use crate::model::{NodeIdx, PodDisruptionBudgetInfo, PodInfo, PreemptionPolicy};
use crate::profile::Profile;
use crate::rng::SplitMix64;
use crate::schedule::{PreparedPod, filter_node, prepare};
use crate::status::{FitError, format_fit_message};
use crate::table::snapshot::{RESOURCE_PODS, Snapshot};

/// How many candidates to evaluate before choosing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreemptionConfig {
    pub min_candidate_nodes_percentage: usize,
    pub min_candidate_nodes_absolute: usize,
}

impl Default for PreemptionConfig {
    fn default() -> Self {
        PreemptionConfig {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// A node where preemption makes the pod fit, with the pods to evict.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub node: NodeIdx,
    /// Victims, most important first.
    pub victims: Vec<Arc<PodInfo>>,
    pub pdb_violations: usize,
}

/// What preemption decided.
#[derive(Clone, Debug, PartialEq)]
pub enum PreemptionOutcome {
    /// `preemptionPolicy: Never`, or an earlier preemption is still in progress.
    NotEligible,
    /// No node can be freed; `message` is the ` preemption: …` suffix text.
    NoCandidate { message: String },
    /// Evict `victims` and nominate the pod to `node`.
    Nominate(Candidate),
}

const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// Runs preemption for `pod` given why it fit nowhere.
pub fn preempt(
    snapshot: &Snapshot,
    pod: &PodInfo,
    profile: &Profile,
    fit_error: &FitError,
    config: &PreemptionConfig,
    rng: &mut SplitMix64,
) -> PreemptionOutcome {
    if pod.preemption_policy == PreemptionPolicy::Never {
        return PreemptionOutcome::NotEligible;
    }
    if let Some(nominated) = pod.nominated_node_name.as_deref()
        && let Some(record) = snapshot
            .node_by_name(nominated)
            .and_then(|node| snapshot.record(node))
        && record
            .pods
            .iter()
            .any(|existing| existing.terminating && existing.priority < pod.priority)
    {
        return PreemptionOutcome::NotEligible;
    }
    let mut reason_counts: BTreeMap<String, u32> = BTreeMap::new();
    let potential: Vec<NodeIdx> = fit_error
        .node_rejections
        .iter()
        .filter(|(_, rejection)| rejection.is_resolvable())
        .map(|(node, _)| *node)
        .collect();
    let not_helpful = fit_error.node_rejections.len() - potential.len();
    if not_helpful > 0 {
        reason_counts.insert(NOT_HELPFUL.into(), not_helpful as u32);
    }
    let target = (potential.len() * config.min_candidate_nodes_percentage / 100)
        .max(config.min_candidate_nodes_absolute)
        .min(potential.len());
    let prepared = prepare(snapshot, pod, profile);
    let offset = rng.below(potential.len() as u64) as usize;
    let mut candidates = Vec::new();
    let mut no_victims = 0u32;
    for step in 0..potential.len() {
        let node = potential[(offset + step) % potential.len()];
        match select_victims_on_node(snapshot, &prepared, node) {
            Some(candidate) => candidates.push(candidate),
            None => no_victims += 1,
        }
        let clean = candidates.iter().filter(|c| c.pdb_violations == 0).count();
        if clean > 0 && candidates.len() >= target {
            break;
        }
    }
    match pick_candidate(&candidates) {
        Some(index) => PreemptionOutcome::Nominate(candidates.swap_remove(index)),
        None => {
            if no_victims > 0 {
                reason_counts.insert(NO_VICTIMS.into(), no_victims);
            }
            PreemptionOutcome::NoCandidate {
                message: format!(
                    "preemption: {}",
                    format_fit_message(snapshot.node_count(), &reason_counts)
                ),
            }
        }
    }
}

/// kube's `MoreImportantPod` as a sort key: priority desc, then earlier start.
fn importance_key(pod: &PodInfo) -> (Reverse<i32>, i64) {
    (
        Reverse(pod.priority),
        pod.start_time_unix_seconds.unwrap_or(i64::MAX),
    )
}

/// Splits victims into PDB-violating and not, in order.
pub fn split_by_pdb_violation(
    victims: Vec<Arc<PodInfo>>,
    pdbs: &[PodDisruptionBudgetInfo],
) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i64> = pdbs.iter().map(|pdb| pdb.disruptions_allowed).collect();
    let mut violating = Vec::new();
    let mut clean = Vec::new();
    for victim in victims {
        let mut violated = false;
        if !victim.labels.is_empty() {
            for (index, pdb) in pdbs.iter().enumerate() {
                if pdb.namespace != victim.namespace
                    || pdb.selector.requirements.is_empty()
                    || !selector_matches(&pdb.selector, &victim.labels)
                    || pdb.disrupted_pods.contains(&victim.name)
                {
                    continue;
                }
                allowed[index] -= 1;
                if allowed[index] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(victim);
        } else {
            clean.push(victim);
        }
    }
    (violating, clean)
}

/// Whether the pod fits `node` once `removed` pods are gone, checking only
/// node-local filters (resources and ports); valid when the pod has no
/// inter-pod or hard spread state.
fn fits_without(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    node: NodeIdx,
    removed: &[Arc<PodInfo>],
) -> bool {
    if !prepared.fit.unknown_resources.is_empty() {
        return false;
    }
    let pods_left = snapshot.requested(RESOURCE_PODS, node) - removed.len() as i64;
    if pods_left + 1 > snapshot.allocatable(RESOURCE_PODS, node) {
        return false;
    }
    for (resource, amount) in &prepared.fit.requests {
        let freed: i64 = removed
            .iter()
            .map(|victim| {
                let (vector, _) = snapshot.pod_request_vector(victim);
                vector
                    .iter()
                    .filter(|(column, _)| column == resource)
                    .map(|(_, value)| *value)
                    .sum::<i64>()
            })
            .sum();
        let free =
            snapshot.allocatable(*resource, node) - snapshot.requested(*resource, node) + freed;
        if *amount > free {
            return false;
        }
    }
    if !prepared.pod.host_ports.is_empty()
        && let Some(record) = snapshot.record(node)
    {
        for existing in &record.pods {
            if removed.iter().any(|victim| victim.uid == existing.uid) {
                continue;
            }
            for wanted in &prepared.pod.host_ports {
                if existing
                    .host_ports
                    .iter()
                    .any(|used| wanted.conflicts_with(used))
                {
                    return false;
                }
            }
        }
    }
    true
}

/// Dry run on one node; `None` when preemption cannot make the pod fit.
pub fn select_victims_on_node(
    snapshot: &Snapshot,
    prepared: &PreparedPod<'_>,
    node: NodeIdx,
) -> Option<Candidate> {
    let pod = prepared.pod;
    let record = snapshot.record(node)?;
    let mut potential: Vec<Arc<PodInfo>> = record
        .pods
        .iter()
        .filter(|existing| existing.priority < pod.priority)
        .cloned()
        .collect();
    if potential.is_empty() {
        return None;
    }
    potential.sort_by_key(|victim| importance_key(victim));
    let node_local = prepared.inter_pod.is_none() && prepared.spread.is_none();
    let mut victims: Vec<Arc<PodInfo>>;
    let mut pdb_violations = 0;
    let (violating, clean) = split_by_pdb_violation(potential.clone(), snapshot.pdbs());
    let mixed = !violating.is_empty() && !clean.is_empty();
    if node_local {
        if !fits_without(snapshot, prepared, node, &potential) {
            return None;
        }
        // Start from "everything removed" and give pods back one by one.
        let mut removed = potential.clone();
        victims = Vec::new();
        for (is_violating, victim) in violating
            .into_iter()
            .map(|v| (true, v))
            .chain(clean.into_iter().map(|v| (false, v)))
        {
            removed.retain(|other| other.uid != victim.uid);
            if !fits_without(snapshot, prepared, node, &removed) {
                removed.push(victim.clone());
                victims.push(victim);
                pdb_violations += usize::from(is_violating);
            }
        }
    } else {
        let mut working = snapshot.clone();
        for victim in &potential {
            working.remove_pod(node, &victim.uid);
        }
        let fits = |working: &Snapshot| {
            let prepared_here = prepare(working, pod, prepared.profile);
            filter_node(working, &prepared_here, node).is_ok()
        };
        if !fits(&working) {
            return None;
        }
        victims = Vec::new();
        for (is_violating, victim) in violating
            .into_iter()
            .map(|v| (true, v))
            .chain(clean.into_iter().map(|v| (false, v)))
        {
            working.add_pod(node, victim.clone());
            if !fits(&working) {
                working.remove_pod(node, &victim.uid);
                victims.push(victim);
                pdb_violations += usize::from(is_violating);
            }
        }
    }
    if mixed {
        victims.sort_by_key(|victim| importance_key(victim));
    }
    Some(Candidate {
        node,
        victims,
        pdb_violations,
    })
}

/// The ranking key of a candidate (smaller is better).
pub fn candidate_rank(candidate: &Candidate) -> (usize, i32, i64, usize, Reverse<i64>) {
    let highest = candidate
        .victims
        .first()
        .map(|v| v.priority)
        .unwrap_or(i32::MIN);
    let priority_sum: i64 = candidate
        .victims
        .iter()
        .map(|victim| i64::from(victim.priority) + (1i64 << 31))
        .sum();
    let highest_priority = candidate.victims.iter().map(|v| v.priority).max();
    let earliest_start = candidate
        .victims
        .iter()
        .filter(|victim| Some(victim.priority) == highest_priority)
        .map(|victim| victim.start_time_unix_seconds.unwrap_or(i64::MAX))
        .min()
        .unwrap_or(i64::MAX);
    (
        candidate.pdb_violations,
        highest,
        priority_sum,
        candidate.victims.len(),
        Reverse(earliest_start),
    )
}

/// kube's `pickOneNodeForPreemption`: a victim-free node at once, else the
/// lexicographically smallest rank, first on ties.
pub fn pick_candidate(candidates: &[Candidate]) -> Option<usize> {
    if let Some(index) = candidates.iter().position(|c| c.victims.is_empty()) {
        return Some(index);
    }
    let mut best: Option<(usize, _)> = None;
    for (index, candidate) in candidates.iter().enumerate() {
        let rank = candidate_rank(candidate);
        if best.as_ref().is_none_or(|(_, best_rank)| rank < *best_rank) {
            best = Some((index, rank));
        }
    }
    best.map(|(index, _)| index)
}
