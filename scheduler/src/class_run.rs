//! Runs of one pod template whose pods constrain each other: hard topology
//! spread, or required anti-affinity that selects the template itself.
//!
//! Such pods cannot be decided in parallel against one snapshot: with
//! maxSkew 1 nearly every pod of an optimistic round loses to the first one
//! placed in its zone, and two anti-affine replicas race for the same nodes.
//! So a batch decides them one after the other, each on the state with the
//! previous ones committed, and each gets exactly the decision
//! `schedule_one` would give it there. What makes this cheap is that only a
//! little of that state depends on the run's own pods:
//!
//! - Evaluated once per run on every node: the filters other than spread
//!   and inter-pod affinity, the inter-pod verdict against the pods already
//!   placed, whether the node carries every spread key, and the weighted
//!   total (only resource-only scores qualify, so a node's total does not
//!   depend on the window it is scored in).
//! - Kept incrementally: per hard spread constraint, the matching-pod count
//!   of every domain and the global minimum; per anti-affinity term that
//!   selects the template, the domains already holding a pod of the run.
//!   Each keeps its verdict as a bitset by node position, and a pod's
//!   window walk visits only the bits set in all of them (64 nodes per
//!   word), so a zone that is full for the skew costs nothing to skip.
//!   After each commit only the chosen node's filters and score are
//!   re-evaluated, plus the bits of the domains whose verdict flipped.
//!
//! The run's own pods change nothing else: they carry no required affinity
//! and no preferred terms (so no other score moves), and a pod of the run
//! matches another's anti-affinity term exactly when the term selects the
//! template, whichever of the two pods carries it.

use rayon::prelude::*;

use crate::equivalence::walk_window_masked;
use crate::matching::term_matches_pod;
use crate::model::{NodeIdx, PodInfo};
use crate::plugins::{inter_pod_affinity, pod_topology_spread::HardConstraint};
use crate::profile::Profile;
use crate::schedule::{
    Decision, PreparedPod, ResourceScorer, SchedulingContext, filter_node, prepare,
};
use crate::table::bitset::NodeBitset;
use crate::table::intern::{FastMap, StrId};
use crate::table::snapshot::Snapshot;

/// Domain id of a node that lacks the key.
const NO_DOMAIN: u32 = u32::MAX;

/// Dense domain ids of one topology key, by node position, and the
/// positions of each domain.
struct DomainTable {
    key: Option<StrId>,
    of_position: Vec<u32>,
    id_of_value: FastMap<StrId, u32>,
    /// Positions of domain `d`: `positions[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl DomainTable {
    fn build(snapshot: &Snapshot, key: Option<StrId>, position_of_slot: &[u32]) -> Self {
        let mut of_position = vec![NO_DOMAIN; snapshot.node_order().len()];
        let mut id_of_value = FastMap::default();
        let mut starts = vec![0u32];
        let mut positions = Vec::new();
        if let Some(index) = key.and_then(|key| snapshot.key_index(key)) {
            for (value, posting) in &index.by_value {
                let id = id_of_value.len() as u32;
                id_of_value.insert(*value, id);
                for slot in posting {
                    let position = position_of_slot
                        .get(*slot as usize)
                        .copied()
                        .unwrap_or(u32::MAX);
                    if let Some(domain) = of_position.get_mut(position as usize) {
                        *domain = id;
                        positions.push(position);
                    }
                }
                starts.push(positions.len() as u32);
            }
        }
        DomainTable {
            key,
            of_position,
            id_of_value,
            starts,
            positions,
        }
    }

    fn domain_count(&self) -> usize {
        self.id_of_value.len()
    }

    #[inline]
    fn domain(&self, position: usize) -> u32 {
        self.of_position.get(position).copied().unwrap_or(NO_DOMAIN)
    }

    /// The positions of `domain` (none for a domain no node carries).
    fn positions_of(&self, domain: u32) -> &[u32] {
        let domain = domain as usize;
        match (self.starts.get(domain), self.starts.get(domain + 1)) {
            (Some(start), Some(end)) => &self.positions[*start as usize..*end as usize],
            _ => &[],
        }
    }
}

fn table_for(
    tables: &mut Vec<DomainTable>,
    snapshot: &Snapshot,
    key: Option<StrId>,
    position_of_slot: &[u32],
) -> usize {
    if let Some(position) = tables.iter().position(|table| table.key == key) {
        return position;
    }
    tables.push(DomainTable::build(snapshot, key, position_of_slot));
    tables.len() - 1
}

/// One hard spread constraint with its domain counts kept up to date.
struct SpreadRun {
    table: usize,
    max_skew: i64,
    self_match: bool,
    /// Nodes whose pods are counted.
    eligible: NodeBitset,
    /// Matching pods per domain (0 for domains without eligible nodes).
    counts: Vec<i64>,
    /// Domains with an eligible node: they take part in the minimum.
    counted: Vec<bool>,
    /// Fewer counted domains than `minDomains`: the minimum is taken as 0.
    min_is_zero: bool,
    /// Smallest count among counted domains.
    min: i64,
    /// Counted domains whose count equals `min`.
    at_min: usize,
    /// The filter's verdict per domain: a pod placed there keeps the skew.
    admits: Vec<bool>,
    /// Bits by position: the node's domain admits the next pod.
    mask: Vec<u64>,
}

impl SpreadRun {
    fn new(constraint: &HardConstraint, table: &DomainTable) -> Self {
        let mut counts = vec![0i64; table.domain_count()];
        let mut counted = vec![false; table.domain_count()];
        for (value, count) in &constraint.counts {
            // Every counted domain is a value some node carries; a stray one
            // still takes part in the minimum.
            let domain = match table.id_of_value.get(value) {
                Some(domain) => *domain as usize,
                None => {
                    counts.push(0);
                    counted.push(false);
                    counts.len() - 1
                }
            };
            counts[domain] = *count;
            counted[domain] = true;
        }
        let counted_domains = counted.iter().filter(|counted| **counted).count();
        let mut run = SpreadRun {
            table: 0,
            max_skew: constraint.max_skew,
            self_match: constraint.self_match,
            eligible: constraint.eligible.clone(),
            counts,
            counted,
            min_is_zero: (counted_domains as i64) < constraint.min_domains,
            min: 0,
            at_min: 0,
            admits: Vec::new(),
            mask: vec![0; table.of_position.len().div_ceil(64)],
        };
        run.recompute_min();
        run.admits = (0..run.counts.len())
            .map(|domain| run.verdict(domain))
            .collect();
        for domain in 0..table.domain_count() {
            if run.admits[domain] {
                set_bits(&mut run.mask, table.positions_of(domain as u32), true);
            }
        }
        debug_assert_eq!(run.min_match(), constraint.min_match);
        run
    }

    fn recompute_min(&mut self) {
        let counted = || {
            self.counts
                .iter()
                .zip(&self.counted)
                .filter(|(_, counted)| **counted)
                .map(|(count, _)| *count)
        };
        self.min = counted().min().unwrap_or(0);
        self.at_min = counted().filter(|count| *count == self.min).count();
    }

    #[inline]
    fn min_match(&self) -> i64 {
        if self.min_is_zero { 0 } else { self.min }
    }

    /// Whether a pod placed in `domain` keeps the skew, from the counts.
    fn verdict(&self, domain: usize) -> bool {
        self.counts.get(domain).is_some_and(|count| {
            count + i64::from(self.self_match) - self.min_match() <= self.max_skew
        })
    }

    /// One more matching pod in `domain`; updates the verdicts and the
    /// mask of the domains whose verdict flipped.
    fn add(&mut self, domain: usize, table: &DomainTable) {
        let min_before = self.min_match();
        let Some(count) = self.counts.get_mut(domain) else {
            return;
        };
        *count += 1;
        let count = *count;
        if self.counted[domain] && count - 1 == self.min {
            self.at_min -= 1;
            if self.at_min == 0 {
                self.recompute_min();
            }
        }
        // Only this domain's count moved, unless the minimum did.
        let changed = if self.min_match() == min_before {
            domain..domain + 1
        } else {
            0..self.counts.len()
        };
        for domain in changed {
            let verdict = self.verdict(domain);
            if self.admits[domain] != verdict {
                self.admits[domain] = verdict;
                set_bits(&mut self.mask, table.positions_of(domain as u32), verdict);
            }
        }
    }
}

/// An anti-affinity term that selects the template: a domain holding a pod
/// of the run rejects every later pod of the run.
struct AntiRun {
    table: usize,
    blocked: Vec<bool>,
    /// Bits by position: the node's domain holds no pod of the run.
    mask: Vec<u64>,
}

/// Sets (or clears) the bits of `positions` in `mask`.
fn set_bits(mask: &mut [u64], positions: &[u32], value: bool) {
    for position in positions {
        let position = *position as usize;
        if let Some(word) = mask.get_mut(position / 64) {
            let bit = 1u64 << (position % 64);
            if value {
                *word |= bit;
            } else {
                *word &= !bit;
            }
        }
    }
}

/// The state of one run; see the module documentation.
pub struct ClassRun<'a> {
    /// PreFilter of the template without its spread and inter-pod state.
    prepared: PreparedPod<'a>,
    scorer: ResourceScorer,
    /// Position in the node order of each slot.
    position_of_slot: Vec<u32>,
    /// Weighted total of every node by position; `None` = rejected by
    /// something the run's own pods cannot change back.
    totals: Vec<Option<i64>>,
    tables: Vec<DomainTable>,
    spread: Vec<SpreadRun>,
    anti: Vec<AntiRun>,
    /// Bits by position: the node has a total. A node is feasible for the
    /// next pod when its bit is set here and in every spread and
    /// anti-affinity mask.
    scored: Vec<u64>,
}

impl<'a> ClassRun<'a> {
    /// Whether a run of `representative` can start on `snapshot`: the
    /// template must have resource-only scores and no required affinity,
    /// preferred inter-pod terms, host ports, named or nominated node, or
    /// extended resources no node has, and no pod may be nominated anywhere
    /// (reservations are not tracked per run).
    pub fn qualifies(snapshot: &Snapshot, representative: &PodInfo, profile: &Profile) -> bool {
        compile(snapshot, representative, profile).is_some()
    }

    /// Evaluates `representative` on every node of `snapshot`; `None` when
    /// the template does not qualify (see `qualifies`).
    pub fn start(
        snapshot: &Snapshot,
        representative: &'a PodInfo,
        profile: &'a Profile,
    ) -> Option<Self> {
        let pod = representative;
        let (mut prepared, scorer) = compile(snapshot, pod, profile)?;
        let spread = prepared.spread.take().unwrap_or_default();
        let inter_pod = prepared.inter_pod.take();
        let order = snapshot.node_order();
        let totals: Vec<Option<i64>> = order
            .par_iter()
            .with_min_len(512)
            .map(|node| {
                let slot = node.get();
                let passes = filter_node(snapshot, &prepared, *node).is_ok()
                    && spread
                        .iter()
                        .all(|constraint| constraint.with_key.contains(slot))
                    && inter_pod.as_ref().is_none_or(|state| {
                        snapshot.record(*node).is_none_or(|record| {
                            inter_pod_affinity::filter(snapshot, state, *node, record).is_ok()
                        })
                    });
                passes.then(|| scorer.total(snapshot, &prepared, *node))
            })
            .collect();
        let mut position_of_slot = vec![u32::MAX; snapshot.slot_count()];
        for (position, node) in order.iter().enumerate() {
            position_of_slot[node.get()] = position as u32;
        }
        let mut tables = Vec::new();
        let spread: Vec<SpreadRun> = spread
            .iter()
            .map(|constraint| {
                let table = table_for(&mut tables, snapshot, constraint.key, &position_of_slot);
                let mut run = SpreadRun::new(constraint, &tables[table]);
                run.table = table;
                run
            })
            .collect();
        let mut anti = Vec::new();
        if profile.filters.inter_pod_affinity {
            let namespace_labels = snapshot.namespace_labels(&pod.namespace);
            for term in &pod.required_anti_affinity {
                let Some(key) = snapshot.strings().get(&term.topology_key) else {
                    continue;
                };
                if !term_matches_pod(term, &pod.namespace, &pod.labels, namespace_labels) {
                    continue;
                }
                let table = table_for(&mut tables, snapshot, Some(key), &position_of_slot);
                anti.push(AntiRun {
                    table,
                    blocked: vec![false; tables[table].domain_count()],
                    mask: vec![!0u64; order.len().div_ceil(64)],
                });
            }
        }
        let mut scored = vec![0u64; order.len().div_ceil(64)];
        for (position, total) in totals.iter().enumerate() {
            if total.is_some() {
                scored[position / 64] |= 1 << (position % 64);
            }
        }
        Some(ClassRun {
            prepared,
            scorer,
            position_of_slot,
            totals,
            tables,
            spread,
            anti,
            scored,
        })
    }

    /// The decision `schedule_one` would make for a pod of the template on
    /// `snapshot` (the run's starting state plus every commit recorded with
    /// `record_commit`); `None` when no node fits (the caller runs
    /// `schedule_one` for the reasons).
    pub fn decide(&self, snapshot: &Snapshot, context: &mut SchedulingContext) -> Option<Decision> {
        let word_at = |index: usize| {
            let mut word = self.scored[index];
            for spread in &self.spread {
                word &= spread.mask[index];
            }
            for anti in &self.anti {
                word &= anti.mask[index];
            }
            word
        };
        walk_window_masked(
            snapshot,
            self.prepared.profile,
            context,
            word_at,
            |position| self.totals[position],
        )
    }

    /// Accounts for a pod of the template just added to `node` in
    /// `snapshot`.
    pub fn record_commit(&mut self, snapshot: &Snapshot, node: NodeIdx) {
        let Some(position) = self
            .position_of_slot
            .get(node.get())
            .map(|position| *position as usize)
            .filter(|position| *position < self.totals.len())
        else {
            return;
        };
        if self.totals[position].is_some() {
            // A rejected node stays rejected: one more pod never frees
            // resources or lifts an anti-affinity.
            let total = filter_node(snapshot, &self.prepared, node)
                .is_ok()
                .then(|| self.scorer.total(snapshot, &self.prepared, node));
            self.totals[position] = total;
            if total.is_none() {
                set_bits(&mut self.scored, &[position as u32], false);
            }
        }
        for spread in &mut self.spread {
            let table = &self.tables[spread.table];
            let domain = table.domain(position);
            if spread.self_match && spread.eligible.contains(node.get()) && domain != NO_DOMAIN {
                spread.add(domain as usize, table);
            }
        }
        for anti in &mut self.anti {
            let table = &self.tables[anti.table];
            let domain = table.domain(position);
            if domain != NO_DOMAIN && !anti.blocked[domain as usize] {
                anti.blocked[domain as usize] = true;
                set_bits(&mut anti.mask, table.positions_of(domain), false);
            }
        }
    }
}

/// PreFilter and scorer of a qualifying template (see `ClassRun::qualifies`).
fn compile<'a>(
    snapshot: &Snapshot,
    pod: &'a PodInfo,
    profile: &'a Profile,
) -> Option<(PreparedPod<'a>, ResourceScorer)> {
    let qualifies = pod.host_ports.is_empty()
        && pod.required_affinity.is_empty()
        && pod.preferred_affinity.is_empty()
        && pod.preferred_anti_affinity.is_empty()
        && pod.node_name.is_none()
        && pod.nominated_node_name.is_none()
        && snapshot.node_count() > 0
        && !snapshot.has_nominated_pods()
        && pod
            .requests
            .extended
            .iter()
            .all(|(name, _)| snapshot.resource_by_name(name).is_some());
    if !qualifies {
        return None;
    }
    let prepared = prepare(snapshot, pod, profile);
    let scorer = ResourceScorer::new(snapshot, &prepared)?;
    Some((prepared, scorer))
}
