//! Topology spread (`whenUnsatisfiable: DoNotSchedule`) checked at bind
//! time, with per-domain pod counts kept incrementally so a replay of
//! 100,000 binds does not rescan every pod on every bind.
//!
//! Semantics (Kubernetes' PodTopologySpread filter): domains are the values
//! of `topologyKey` over nodes that carry the key and pass the inclusion
//! policies (`nodeAffinityPolicy` Honor by default: the pod's nodeSelector
//! and required node affinity; `nodeTaintsPolicy` Ignore by default);
//! counted pods are bound, not terminating, in the pod's namespace, and
//! match the selector (plus `matchLabelKeys`). The bind breaks the
//! constraint when `count(node's domain) + self − min over domains >
//! maxSkew`, where the minimum is 0 while fewer than `minDomains` domains
//! exist.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use api::k8s_openapi::api::core::v1::TopologySpreadConstraint;
use api::selector::{Operator, Requirement, Selector};

use super::constraints::{matches_node_affinity, tolerates_hard_taints};
use super::{NodeFacts, PodFacts};

/// Counts for one (namespace, topologyKey, selector).
#[derive(Debug)]
struct Counts {
    namespace: String,
    topology_key: String,
    selector: Selector,
    /// Counted pods per node name.
    per_node: HashMap<String, u32>,
    /// Counted pods per domain value, over all nodes carrying the key.
    per_domain: HashMap<String, u32>,
}

impl Counts {
    fn selects(&self, pod: &PodFacts) -> bool {
        pod.namespace == self.namespace && self.selector.matches(&pod.labels)
    }
}

/// Every selector seen so far with its counts.
/// Binds after which a skew over maxSkew at bind time counts as a
/// violation: more than a scheduler keeps in flight (Skiff: 4 requests of
/// 512 bindings).
pub(super) const REORDER_WINDOW_BINDS: usize = 4096;

/// A bind whose skew was over maxSkew, waiting to be re-checked.
#[derive(Debug)]
struct Deferred {
    uid: String,
    node: String,
    /// Index into the pod's topologySpreadConstraints.
    constraint: usize,
    /// The bind index after which it is a violation.
    deadline: usize,
    first_failure: String,
    revision: u64,
}

#[derive(Debug, Default)]
pub(super) struct SpreadIndex {
    deferred: Vec<Deferred>,
    counts: HashMap<String, Counts>,
    /// Eligible domains per (pod's node affinity, key, policies); cleared
    /// when nodes change.
    eligible: HashMap<String, Eligible>,
}

/// The domains a pod's constraint spreads over.
#[derive(Debug)]
struct Eligible {
    domains: BTreeSet<String>,
    /// `None` when every node carrying the key is eligible (counts per
    /// domain can be read directly); otherwise each eligible node with its
    /// domain value.
    nodes: Option<Vec<(String, String)>>,
}

/// The live cluster the index needs to read: nodes, and which counted pods
/// are on which node.
pub(super) struct ClusterView<'a> {
    pub(super) nodes: &'a HashMap<String, NodeFacts>,
    /// Bound, non-terminating pods per node.
    pub(super) counted_pods: &'a HashMap<String, BTreeSet<String>>,
    pub(super) pods: &'a BTreeMap<String, PodFacts>,
}

impl SpreadIndex {
    /// A counted pod appeared on (`delta = 1`) or left (`-1`) `node`.
    pub(super) fn apply(&mut self, pod: &PodFacts, node: &NodeFacts, delta: i64) {
        for counts in self.counts.values_mut() {
            if !counts.selects(pod) {
                continue;
            }
            let entry = counts.per_node.entry(node.name.clone()).or_insert(0);
            *entry = add(*entry, delta);
            if let Some(value) = node.labels.get(&counts.topology_key) {
                let entry = counts.per_domain.entry(value.clone()).or_insert(0);
                *entry = add(*entry, delta);
            }
        }
    }

    /// Node labels changed: per-domain sums are rebuilt from per-node counts.
    pub(super) fn nodes_changed(&mut self, nodes: &HashMap<String, NodeFacts>) {
        self.eligible.clear();
        for counts in self.counts.values_mut() {
            counts.per_domain.clear();
            for (node_name, count) in &counts.per_node {
                if let Some(value) = nodes
                    .get(node_name)
                    .and_then(|node| node.labels.get(&counts.topology_key))
                {
                    *counts.per_domain.entry(value.clone()).or_insert(0) += count;
                }
            }
        }
    }

    /// Checks every DoNotSchedule constraint of `pod` for a bind to `node`;
    /// returns a description of each broken one. `Err` when a constraint
    /// cannot be evaluated.
    ///
    /// A skew over maxSkew is not reported at once: binds that were in
    /// flight together may reach the apiserver in another order than the
    /// scheduler decided them, so the bind is re-checked as later binds
    /// land and is a violation only if the skew is still over maxSkew
    /// [`REORDER_WINDOW_BINDS`] binds later (or at the end of the replay).
    pub(super) fn check(
        &mut self,
        view: &ClusterView<'_>,
        pod: &PodFacts,
        node: &NodeFacts,
        bind_index: usize,
        revision: u64,
    ) -> Result<Vec<String>, String> {
        let mut failures = Vec::new();
        for (index, constraint) in pod.topology_spread_constraints.iter().enumerate() {
            if constraint.when_unsatisfiable != "DoNotSchedule" {
                continue;
            }
            if !node.labels.contains_key(&constraint.topology_key) {
                failures.push(format!(
                    "topology spread on {}: node lacks the label",
                    constraint.topology_key
                ));
                continue;
            }
            if let Some(failure) = self.check_one(view, pod, node, constraint)? {
                self.deferred.push(Deferred {
                    uid: pod.uid.clone(),
                    node: node.name.clone(),
                    constraint: index,
                    deadline: bind_index + REORDER_WINDOW_BINDS,
                    first_failure: failure,
                    revision,
                });
            }
        }
        Ok(failures)
    }

    /// Re-checks deferred skews after bind number `bind_index` (or at the
    /// end, with `final_check`); returns those that became violations as
    /// (pod uid, node, description, revision of the bind).
    pub(super) fn recheck(
        &mut self,
        view: &ClusterView<'_>,
        bind_index: usize,
        final_check: bool,
    ) -> Vec<(String, String, String, u64)> {
        if self.deferred.is_empty() {
            return Vec::new();
        }
        let mut violations = Vec::new();
        let mut waiting = Vec::new();
        for deferred in std::mem::take(&mut self.deferred) {
            let counted = view
                .counted_pods
                .get(&deferred.node)
                .is_some_and(|uids| uids.contains(&deferred.uid));
            let (Some(pod), Some(node)) =
                (view.pods.get(&deferred.uid), view.nodes.get(&deferred.node))
            else {
                continue;
            };
            let Some(constraint) = pod.topology_spread_constraints.get(deferred.constraint) else {
                continue;
            };
            if !counted {
                // Deleted or terminating: it no longer skews anything.
                continue;
            }
            match self.evaluate(view, pod, node, constraint, false) {
                Ok(None) | Err(_) => {}
                Ok(Some(_)) if !final_check && bind_index < deferred.deadline => {
                    waiting.push(deferred)
                }
                Ok(Some(_)) => violations.push((
                    deferred.uid,
                    deferred.node,
                    format!(
                        "{} at bind time, still over maxSkew {REORDER_WINDOW_BINDS} binds later",
                        deferred.first_failure
                    ),
                    deferred.revision,
                )),
            }
        }
        self.deferred = waiting;
        violations
    }

    fn check_one(
        &mut self,
        view: &ClusterView<'_>,
        pod: &PodFacts,
        node: &NodeFacts,
        constraint: &TopologySpreadConstraint,
    ) -> Result<Option<String>, String> {
        self.evaluate(view, pod, node, constraint, true)
    }

    /// The constraint's verdict for `pod` on `node`: `Some(description)`
    /// when the skew exceeds maxSkew. `with_self` adds the pod to its
    /// domain's count (it is not bound yet).
    fn evaluate(
        &mut self,
        view: &ClusterView<'_>,
        pod: &PodFacts,
        node: &NodeFacts,
        constraint: &TopologySpreadConstraint,
        with_self: bool,
    ) -> Result<Option<String>, String> {
        let key = &constraint.topology_key;
        let Some(node_value) = node.labels.get(key) else {
            return Ok(Some(format!(
                "topology spread on {key}: node lacks the label"
            )));
        };
        let selector = spread_selector(constraint, pod)?;
        let signature = format!("{}\u{0}{key}\u{0}{selector:?}", pod.namespace);
        let counts = self
            .counts
            .entry(signature)
            .or_insert_with(|| build_counts(view, pod, key, selector));
        let honor_affinity = constraint.node_affinity_policy.as_deref() != Some("Ignore");
        let honor_taints = constraint.node_taints_policy.as_deref() == Some("Honor");
        let eligibility_key = eligibility_signature(pod, key, honor_affinity, honor_taints);
        if !self.eligible.contains_key(&eligibility_key) {
            let eligible = eligible_nodes(view, pod, key, honor_affinity, honor_taints)?;
            self.eligible.insert(eligibility_key.clone(), eligible);
        }
        let Some(eligible) = self.eligible.get(&eligibility_key) else {
            return Ok(None);
        };
        // Domains and their counts over the eligible nodes.
        let mut domains: HashMap<&str, u32> = eligible
            .domains
            .iter()
            .map(|value| (value.as_str(), 0))
            .collect();
        match &eligible.nodes {
            None => {
                for (value, count) in domains.iter_mut() {
                    *count = counts.per_domain.get(*value).copied().unwrap_or(0);
                }
            }
            Some(nodes) => {
                for (node_name, value) in nodes {
                    if let Some(count) = domains.get_mut(value.as_str()) {
                        *count += counts.per_node.get(node_name).copied().unwrap_or(0);
                    }
                }
            }
        }
        let min_domains = usize::try_from(constraint.min_domains.unwrap_or(1)).unwrap_or(1);
        let global_min = if domains.len() < min_domains {
            0
        } else {
            domains.values().copied().min().unwrap_or(0)
        };
        let own = domains
            .get(node_value.as_str())
            .copied()
            .unwrap_or_else(|| counts.per_domain.get(node_value).copied().unwrap_or(0));
        let self_match = u32::from(with_self && counts.selects(pod));
        let skew = i64::from(own) + i64::from(self_match) - i64::from(global_min);
        if skew > i64::from(constraint.max_skew) {
            return Ok(Some(format!(
                "topology spread on {key}: skew {skew} > maxSkew {} ({key}={node_value} has {own}, min {global_min})",
                constraint.max_skew
            )));
        }
        Ok(None)
    }
}

/// What decides a pod's eligible nodes for a constraint, as a map key.
fn eligibility_signature(
    pod: &PodFacts,
    key: &str,
    honor_affinity: bool,
    honor_taints: bool,
) -> String {
    let affinity = if honor_affinity {
        let required = pod
            .affinity
            .as_ref()
            .and_then(|affinity| affinity.node_affinity.as_ref())
            .and_then(|node_affinity| {
                node_affinity
                    .required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        serde_json::to_string(&(&pod.node_selector, required)).unwrap_or_default()
    } else {
        String::new()
    };
    let tolerations = if honor_taints {
        serde_json::to_string(&pod.tolerations).unwrap_or_default()
    } else {
        String::new()
    };
    format!("{key}\u{0}{affinity}\u{0}{tolerations}")
}

fn eligible_nodes(
    view: &ClusterView<'_>,
    pod: &PodFacts,
    key: &str,
    honor_affinity: bool,
    honor_taints: bool,
) -> Result<Eligible, String> {
    let mut domains = BTreeSet::new();
    let mut nodes = Vec::new();
    let mut every_node_eligible = true;
    for candidate in view.nodes.values() {
        let Some(value) = candidate.labels.get(key) else {
            continue;
        };
        let eligible = (!honor_affinity || matches_node_affinity(pod, candidate)?)
            && (!honor_taints || tolerates_hard_taints(pod, candidate));
        if eligible {
            domains.insert(value.clone());
            nodes.push((candidate.name.clone(), value.clone()));
        } else {
            every_node_eligible = false;
        }
    }
    Ok(Eligible {
        domains,
        nodes: (!every_node_eligible).then_some(nodes),
    })
}

fn add(value: u32, delta: i64) -> u32 {
    u32::try_from((i64::from(value) + delta).max(0)).unwrap_or(u32::MAX)
}

/// The constraint's selector with `matchLabelKeys` ANDed in.
fn spread_selector(
    constraint: &TopologySpreadConstraint,
    pod: &PodFacts,
) -> Result<Selector, String> {
    let base = Selector::from_optional(constraint.label_selector.as_ref())
        .map_err(|error| format!("pod {}: topology spread selector: {error}", pod.key()))?;
    let mut parts: Vec<String> = base
        .requirements()
        .iter()
        .map(ToString::to_string)
        .collect();
    for key in constraint.match_label_keys.iter().flatten() {
        if let Some(value) = pod.labels.get(key) {
            let requirement = Requirement::new(key, Operator::In, std::slice::from_ref(value))
                .map_err(|error| format!("pod {}: matchLabelKeys: {error}", pod.key()))?;
            parts.push(requirement.to_string());
        }
    }
    if constraint.label_selector.is_none() || parts.len() == base.requirements().len() {
        return Ok(base);
    }
    Selector::parse(&parts.join(","))
        .map_err(|error| format!("pod {}: matchLabelKeys: {error}", pod.key()))
}

/// Counts of a selector seen for the first time, from the live cluster.
fn build_counts(view: &ClusterView<'_>, pod: &PodFacts, key: &str, selector: Selector) -> Counts {
    let mut counts = Counts {
        namespace: pod.namespace.clone(),
        topology_key: key.to_string(),
        selector,
        per_node: HashMap::new(),
        per_domain: HashMap::new(),
    };
    for (node_name, uids) in view.counted_pods {
        let n = uids
            .iter()
            .filter_map(|uid| view.pods.get(uid))
            .filter(|other| counts.selects(other))
            .count();
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if n == 0 {
            continue;
        }
        counts.per_node.insert(node_name.clone(), n);
        if let Some(value) = view
            .nodes
            .get(node_name)
            .and_then(|node| node.labels.get(key))
        {
            *counts.per_domain.entry(value.clone()).or_insert(0) += n;
        }
    }
    counts
}
