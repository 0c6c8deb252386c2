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
use crate::table::snapshot::{RESOURCE_PODS, ResourceIdx, Snapshot, nominated_reservation};

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

/// Splits `victims` (by index, in order) into PDB-violating and not.
fn split_by_pdb_violation(
    victims: &[Arc<PodInfo>],
    pdbs: &[PodDisruptionBudgetInfo],
) -> (Vec<usize>, Vec<usize>) {
    let mut allowed: Vec<i64> = pdbs.iter().map(|pdb| pdb.disruptions_allowed).collect();
    let mut violating = Vec::new();
    let mut clean = Vec::new();
    for (index, victim) in victims.iter().enumerate() {
        let mut violated = false;
        if !victim.labels.is_empty() {
            for (pdb_index, pdb) in pdbs.iter().enumerate() {
                if pdb.namespace != victim.namespace
                    || pdb.selector.requirements.is_empty()
                    || !selector_matches(&pdb.selector, &victim.labels)
                    || pdb.disrupted_pods.contains(&victim.name)
                {
                    continue;
                }
                allowed[pdb_index] -= 1;
                if allowed[pdb_index] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(index);
        } else {
            clean.push(index);
        }
    }
    (violating, clean)
}

/// Node-local fit of the preemptor on one node while some of its
/// lower-priority pods are removed: resources and host ports only, valid
/// when the pod has no inter-pod or hard spread state. Each victim's
/// requests are read once; removing or returning one is O(resources).
struct NodeLocalFit<'a> {
    snapshot: &'a Snapshot,
    prepared: &'a PreparedPod<'a>,
    node: NodeIdx,
    /// Per victim, what it frees of each resource the preemptor requests
    /// (in `prepared.fit.requests` order).
    frees: Vec<Vec<i64>>,
    /// Whether each victim is currently removed.
    removed: Vec<bool>,
    removed_count: i64,
    /// Sum of `frees` over the removed victims.
    freed: Vec<i64>,
    /// What pods nominated to the node with at least the preemptor's
    /// priority reserve there (as the filter counts them), per requested
    /// resource, and their number.
    reserved: Vec<i64>,
    reserved_pods: i64,
}

impl<'a> NodeLocalFit<'a> {
    /// Starts with every victim removed.
    fn all_removed(
        snapshot: &'a Snapshot,
        prepared: &'a PreparedPod<'a>,
        node: NodeIdx,
        victims: &[Arc<PodInfo>],
    ) -> NodeLocalFit<'a> {
        let requests = &prepared.fit.requests;
        let frees: Vec<Vec<i64>> = victims
            .iter()
            .map(|victim| {
                let (vector, _) = snapshot.pod_request_vector(victim);
                requests
                    .iter()
                    .map(|(resource, _)| {
                        vector
                            .iter()
                            .filter(|(column, _)| column == resource)
                            .map(|(_, value)| *value)
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let mut freed = vec![0; requests.len()];
        for amounts in &frees {
            for (total, amount) in freed.iter_mut().zip(amounts) {
                *total += amount;
            }
        }
        let (pod, nominated) = (prepared.pod, snapshot.nominated_pods(node));
        let reserved_of = |resource: ResourceIdx| -> i64 {
            nominated_reservation(nominated, pod.priority, &pod.uid, resource)
        };
        NodeLocalFit {
            snapshot,
            prepared,
            node,
            reserved: requests
                .iter()
                .map(|(resource, _)| reserved_of(*resource))
                .collect(),
            reserved_pods: reserved_of(RESOURCE_PODS),
            removed: vec![true; victims.len()],
            removed_count: i64::try_from(victims.len()).unwrap_or(i64::MAX),
            frees,
            freed,
        }
    }

    /// Puts victim `index` back (or removes it again).
    fn set_removed(&mut self, index: usize, removed: bool) {
        if self.removed[index] == removed {
            return;
        }
        self.removed[index] = removed;
        let sign = if removed { 1 } else { -1 };
        self.removed_count += sign;
        for (total, amount) in self.freed.iter_mut().zip(&self.frees[index]) {
            *total += sign * amount;
        }
    }

    /// Whether the preemptor fits with the currently removed victims gone.
    fn fits(&self, victims: &[Arc<PodInfo>]) -> bool {
        let (snapshot, prepared, node) = (self.snapshot, self.prepared, self.node);
        if !prepared.fit.unknown_resources.is_empty() {
            return false;
        }
        let pods_left =
            snapshot.requested(RESOURCE_PODS, node) + self.reserved_pods - self.removed_count;
        if pods_left + 1 > snapshot.allocatable(RESOURCE_PODS, node) {
            return false;
        }
        let requests = prepared.fit.requests.iter();
        for (((resource, amount), freed), reserved) in requests.zip(&self.freed).zip(&self.reserved)
        {
            let free = snapshot.allocatable(*resource, node)
                - snapshot.requested(*resource, node)
                - reserved
                + freed;
            if *amount > free {
                return false;
            }
        }
        if !prepared.pod.host_ports.is_empty()
            && let Some(record) = snapshot.record(node)
        {
            let removed_uids: Vec<&str> = victims
                .iter()
                .zip(&self.removed)
                .filter(|(_, removed)| **removed)
                .map(|(victim, _)| victim.uid.as_str())
                .collect();
            for existing in &record.pods {
                if removed_uids.contains(&existing.uid.as_str()) {
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
    let (violating, clean) = split_by_pdb_violation(&potential, snapshot.pdbs());
    let mixed = !violating.is_empty() && !clean.is_empty();
    // Reprieve order: PDB-violating victims first, each group by importance.
    let order = violating
        .iter()
        .map(|&index| (true, index))
        .chain(clean.iter().map(|&index| (false, index)));
    let mut victims: Vec<Arc<PodInfo>> = Vec::new();
    let mut pdb_violations = 0;
    if node_local {
        // Start from "everything removed" and give pods back one by one.
        let mut fit = NodeLocalFit::all_removed(snapshot, prepared, node, &potential);
        if !fit.fits(&potential) {
            return None;
        }
        for (is_violating, index) in order {
            fit.set_removed(index, false);
            if !fit.fits(&potential) {
                fit.set_removed(index, true);
                victims.push(potential[index].clone());
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
        for (is_violating, index) in order {
            let victim = &potential[index];
            working.add_pod(node, victim.clone());
            if !fits(&working) {
                working.remove_pod(node, &victim.uid);
                victims.push(victim.clone());
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
