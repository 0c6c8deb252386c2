//! The replay: applies recorded events in revision order to a model of the
//! cluster and checks every bind and every deletion against it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::constraints::{CompiledTerm, node_failures, required_affinity, required_anti_affinity};
use super::spread::{ClusterView, SpreadIndex};
use super::{Change, EventType, NodeFacts, PodFacts, PodState, Recording, VerifyReport, Violation};

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// What the replay knows of one pod.
#[derive(Debug, Default)]
struct LivePod {
    /// The node the pod was first bound to.
    bound_to: Option<String>,
    terminating: bool,
    deleted: bool,
    nominated: Option<String>,
}

/// A deletion of a bound pod that waits for a nomination to its node to
/// name its preemptor.
#[derive(Debug)]
struct PendingVictim {
    uid: String,
    node: String,
    revision: u64,
}

pub(super) struct Replay<'a> {
    recording: &'a Recording,
    nodes: HashMap<String, NodeFacts>,
    /// Nodes per (label key, value), for scanning a topology domain.
    nodes_by_label: HashMap<(String, String), BTreeSet<String>>,
    live: HashMap<String, LivePod>,
    /// Bound, not deleted pods per node (terminating ones included: they
    /// hold their resources until gone).
    node_pods: HashMap<String, BTreeSet<String>>,
    /// Bound, not terminating pods per node (what topology spread counts).
    counted_pods: HashMap<String, BTreeSet<String>>,
    /// Requested nano-units per node and resource.
    node_requested: HashMap<String, BTreeMap<String, i128>>,
    /// Bound pods with required anti-affinity per (topology key, value).
    anti_by_domain: HashMap<(String, String), BTreeSet<String>>,
    /// Topology keys used by any bound pod's required anti-affinity.
    anti_keys: BTreeSet<String>,
    /// Pods nominated per node.
    nominated: HashMap<String, BTreeSet<String>>,
    pending_victims: Vec<PendingVictim>,
    spread: SpreadIndex,
    unchecked: HashSet<String>,
    report: VerifyReport,
}

impl<'a> Replay<'a> {
    pub(super) fn new(recording: &'a Recording) -> Replay<'a> {
        Replay {
            recording,
            nodes: HashMap::new(),
            nodes_by_label: HashMap::new(),
            live: HashMap::new(),
            node_pods: HashMap::new(),
            counted_pods: HashMap::new(),
            node_requested: HashMap::new(),
            anti_by_domain: HashMap::new(),
            anti_keys: BTreeSet::new(),
            nominated: HashMap::new(),
            pending_victims: Vec::new(),
            spread: SpreadIndex::default(),
            unchecked: HashSet::new(),
            report: VerifyReport::default(),
        }
    }

    pub(super) fn run(mut self) -> VerifyReport {
        if self.recording.relists > 0 {
            self.report.violations.push(Violation::IncompleteRecording {
                relists: self.recording.relists,
            });
        }
        let mut order: Vec<usize> = (0..self.recording.events.len()).collect();
        order.sort_by_key(|&index| self.recording.events[index].revision);
        let mut final_state = None;
        for index in order {
            let event = &self.recording.events[index];
            if final_state.is_none()
                && self
                    .recording
                    .final_revision
                    .is_some_and(|listed| event.revision > listed)
            {
                final_state = Some(self.check_final_state());
            }
            match &event.change {
                Change::Node { event: kind, node } => self.apply_node(*kind, node),
                Change::Pod { event: kind, state } => {
                    self.apply_pod(*kind, state, event.revision);
                }
            }
        }
        self.recheck_spread(true);
        for victim in std::mem::take(&mut self.pending_victims) {
            self.report.violations.push(Violation::UnexplainedDeletion {
                pod: self.pod_key(&victim.uid),
                node: victim.node,
                revision: victim.revision,
            });
        }
        let final_state = final_state.unwrap_or_else(|| self.check_final_state());
        self.report.violations.extend(final_state);
        self.report.events_replayed = self.recording.events.len();
        self.report.pods_seen = self.recording.pods.len();
        let mut unchecked: Vec<String> = self.unchecked.into_iter().collect();
        unchecked.sort();
        self.report.unchecked = unchecked;
        self.report
    }

    fn pod_key(&self, uid: &str) -> String {
        self.recording
            .pods
            .get(uid)
            .map_or_else(|| format!("uid {uid}"), PodFacts::key)
    }

    fn apply_node(&mut self, kind: EventType, node: &NodeFacts) {
        if let Some(old) = self.nodes.remove(&node.name) {
            for (key, value) in old.labels {
                if let Some(set) = self.nodes_by_label.get_mut(&(key, value)) {
                    set.remove(&node.name);
                }
            }
        }
        if kind != EventType::Deleted {
            for (key, value) in &node.labels {
                self.nodes_by_label
                    .entry((key.clone(), value.clone()))
                    .or_default()
                    .insert(node.name.clone());
            }
            self.nodes.insert(node.name.clone(), node.clone());
        }
        self.spread.nodes_changed(&self.nodes);
    }

    fn apply_pod(&mut self, kind: EventType, state: &PodState, revision: u64) {
        let recording = self.recording;
        let Some(facts) = recording.pods.get(&state.uid) else {
            self.unchecked
                .insert(format!("pod uid {} has no recorded facts", state.uid));
            return;
        };
        let live = self.live.entry(state.uid.clone()).or_default();
        if live.deleted {
            return;
        }
        let was_counted = live.bound_to.is_some() && !live.terminating;
        // Nomination.
        let nominated = if kind == EventType::Deleted || state.node_name.is_some() {
            None
        } else {
            state.nominated_node_name.clone()
        };
        if live.nominated != nominated {
            if let Some(old) = live.nominated.take()
                && let Some(set) = self.nominated.get_mut(&old)
            {
                set.remove(&state.uid);
            }
            if let Some(node) = &nominated {
                self.nominated
                    .entry(node.clone())
                    .or_default()
                    .insert(state.uid.clone());
            }
            self.live_mut(&state.uid).nominated = nominated.clone();
            if let Some(node) = nominated {
                self.resolve_pending_victims(&node, facts);
            }
        }
        let live = self.live_mut(&state.uid);
        let bound_to = live.bound_to.clone();
        let was_terminating = live.terminating;
        match (&bound_to, &state.node_name) {
            (None, Some(node)) if kind != EventType::Deleted => {
                self.bind(facts, node, revision);
            }
            (Some(first), Some(second)) if first != second => {
                self.report.violations.push(Violation::Rebound {
                    pod: facts.key(),
                    first_node: first.clone(),
                    second_node: second.clone(),
                    revision,
                });
            }
            (Some(first), None) => {
                self.report.violations.push(Violation::Rebound {
                    pod: facts.key(),
                    first_node: first.clone(),
                    second_node: "<unbound>".to_string(),
                    revision,
                });
            }
            _ => {}
        }
        let deleting = kind == EventType::Deleted || state.terminating;
        if let Some(node) = &bound_to
            && deleting
            && !was_terminating
        {
            self.deletion_started(facts, node, revision);
        }
        let live = self.live_mut(&state.uid);
        live.terminating = state.terminating;
        let bound_now = live.bound_to.clone();
        let counted_now = bound_now.is_some() && !state.terminating && kind != EventType::Deleted;
        if let Some(node) = &bound_now {
            if was_counted && !counted_now {
                self.set_counted(facts, node, false);
            } else if !was_counted && counted_now && bound_to.is_some() {
                self.set_counted(facts, node, true);
            }
        }
        if kind == EventType::Deleted {
            self.live_mut(&state.uid).deleted = true;
            if let Some(node) = &bound_now {
                self.unbind(facts, node);
            }
        }
    }

    fn live_mut(&mut self, uid: &str) -> &mut LivePod {
        self.live.entry(uid.to_string()).or_default()
    }

    /// Checks and applies the first bind of a pod.
    fn bind(&mut self, facts: &PodFacts, node_name: &str, revision: u64) {
        self.report.binds += 1;
        let Some(node) = self.nodes.get(node_name) else {
            self.report.violations.push(Violation::UnknownNode {
                pod: facts.key(),
                node: node_name.to_string(),
                revision,
            });
            self.live_mut(&facts.uid).bound_to = Some(node_name.to_string());
            return;
        };
        let node = node.clone();
        self.check_resources(facts, &node, revision);
        let mut failures = match node_failures(facts, &node) {
            Ok(failures) => failures,
            Err(note) => {
                self.unchecked.insert(note);
                Vec::new()
            }
        };
        failures.extend(self.inter_pod_failures(facts, &node));
        let view = ClusterView {
            nodes: &self.nodes,
            counted_pods: &self.counted_pods,
            pods: &self.recording.pods,
        };
        match self
            .spread
            .check(&view, facts, &node, self.report.binds, revision)
        {
            Ok(spread_failures) => failures.extend(spread_failures),
            Err(note) => {
                self.unchecked.insert(note);
            }
        }
        for constraint in failures {
            self.report.violations.push(Violation::Constraint {
                pod: facts.key(),
                node: node_name.to_string(),
                constraint,
                revision,
            });
        }
        // Apply.
        self.live_mut(&facts.uid).bound_to = Some(node_name.to_string());
        self.node_pods
            .entry(node_name.to_string())
            .or_default()
            .insert(facts.uid.clone());
        let requested = self
            .node_requested
            .entry(node_name.to_string())
            .or_default();
        for (resource, nanos) in &facts.requests_nanos {
            *requested.entry(resource.clone()).or_insert(0) += nanos;
        }
        let anti = required_anti_affinity(facts);
        for term in anti {
            if let Some(value) = node.labels.get(&term.topology_key) {
                self.anti_keys.insert(term.topology_key.clone());
                self.anti_by_domain
                    .entry((term.topology_key.clone(), value.clone()))
                    .or_default()
                    .insert(facts.uid.clone());
            }
        }
        let terminating = self
            .live
            .get(&facts.uid)
            .is_some_and(|live| live.terminating);
        if !terminating {
            self.set_counted(facts, node_name, true);
        }
        self.recheck_spread(false);
        // A victim deleted without a nomination is matched to the next pod
        // bound to its node.
        self.resolve_pending_victims(node_name, facts);
    }

    fn recheck_spread(&mut self, final_check: bool) {
        let view = ClusterView {
            nodes: &self.nodes,
            counted_pods: &self.counted_pods,
            pods: &self.recording.pods,
        };
        let expired = self.spread.recheck(&view, self.report.binds, final_check);
        for (uid, node, constraint, revision) in expired {
            self.report.violations.push(Violation::Constraint {
                pod: self.pod_key(&uid),
                node,
                constraint,
                revision,
            });
        }
    }

    fn check_resources(&mut self, facts: &PodFacts, node: &NodeFacts, revision: u64) {
        let requested = self.node_requested.get(&node.name);
        for (resource, nanos) in &facts.requests_nanos {
            if *nanos <= 0 {
                continue;
            }
            let already = requested
                .and_then(|r| r.get(resource))
                .copied()
                .unwrap_or(0);
            let allocatable = node.allocatable_nanos.get(resource).copied().unwrap_or(0);
            if already + nanos > allocatable {
                self.report.violations.push(Violation::Overcommit {
                    node: node.name.clone(),
                    resource: resource.clone(),
                    requested: format_nanos(resource, already + nanos),
                    allocatable: format_nanos(resource, allocatable),
                    pod: facts.key(),
                    revision,
                });
            }
        }
        let pods_on_node = self.node_pods.get(&node.name).map_or(0, BTreeSet::len);
        let allowed = node.allocatable_nanos.get("pods").copied().unwrap_or(0) / NANOS_PER_UNIT;
        let after = i128::try_from(pods_on_node + 1).unwrap_or(i128::MAX);
        if after > allowed {
            self.report.violations.push(Violation::Overcommit {
                node: node.name.clone(),
                resource: "pods".to_string(),
                requested: after.to_string(),
                allocatable: allowed.to_string(),
                pod: facts.key(),
                revision,
            });
        }
    }

    /// Required pod affinity and anti-affinity of the incoming pod, and the
    /// required anti-affinity of pods already bound (symmetry).
    fn inter_pod_failures(&mut self, facts: &PodFacts, node: &NodeFacts) -> Vec<String> {
        let mut failures = Vec::new();
        let affinity_terms = match compile_all(required_affinity(facts), facts) {
            Ok(terms) => terms,
            Err(note) => {
                self.unchecked.insert(note);
                Vec::new()
            }
        };
        if !affinity_terms.is_empty() {
            let satisfied = affinity_terms.iter().all(|term| {
                node.labels.get(&term.topology_key).is_some_and(|value| {
                    self.domain_pods(&term.topology_key, value)
                        .any(|other| affinity_terms.iter().all(|t| t.matches(other)))
                })
            });
            let first_pod_exception = !satisfied
                && affinity_terms.iter().all(|term| term.matches(facts))
                && !self.any_bound_pod(|other| affinity_terms.iter().all(|t| t.matches(other)));
            if !satisfied && !first_pod_exception {
                failures.push("required pod affinity not satisfied".to_string());
            }
        }
        let anti_terms = match compile_all(required_anti_affinity(facts), facts) {
            Ok(terms) => terms,
            Err(note) => {
                self.unchecked.insert(note);
                Vec::new()
            }
        };
        for term in &anti_terms {
            let Some(value) = node.labels.get(&term.topology_key) else {
                continue;
            };
            if let Some(other) = self
                .domain_pods(&term.topology_key, value)
                .find(|o| term.matches(o))
            {
                failures.push(format!(
                    "required pod anti-affinity on {}: {} is in the same domain ({}={value})",
                    term.topology_key,
                    other.key(),
                    term.topology_key
                ));
            }
        }
        // Existing pods' required anti-affinity against the incoming pod.
        for key in &self.anti_keys {
            let Some(value) = node.labels.get(key) else {
                continue;
            };
            let Some(uids) = self.anti_by_domain.get(&(key.clone(), value.clone())) else {
                continue;
            };
            for uid in uids {
                let Some(existing) = self.recording.pods.get(uid) else {
                    continue;
                };
                for term in required_anti_affinity(existing) {
                    if &term.topology_key != key {
                        continue;
                    }
                    match CompiledTerm::new(term, existing) {
                        Ok(term) if term.matches(facts) => failures.push(format!(
                            "existing pod {}'s required anti-affinity on {key} selects this pod ({key}={value})",
                            existing.key()
                        )),
                        Ok(_) => {}
                        Err(note) => {
                            self.unchecked.insert(note);
                        }
                    }
                }
            }
        }
        failures
    }

    /// Bound, not deleted pods on nodes whose `key` label is `value`.
    fn domain_pods<'s>(
        &'s self,
        key: &str,
        value: &str,
    ) -> impl Iterator<Item = &'s PodFacts> + 's {
        self.nodes_by_label
            .get(&(key.to_string(), value.to_string()))
            .into_iter()
            .flatten()
            .filter_map(|node| self.node_pods.get(node))
            .flatten()
            .filter_map(|uid| self.recording.pods.get(uid))
    }

    fn any_bound_pod(&self, predicate: impl Fn(&PodFacts) -> bool) -> bool {
        self.node_pods
            .values()
            .flatten()
            .filter_map(|uid| self.recording.pods.get(uid))
            .any(predicate)
    }

    fn set_counted(&mut self, facts: &PodFacts, node_name: &str, counted: bool) {
        let set = self.counted_pods.entry(node_name.to_string()).or_default();
        let changed = if counted {
            set.insert(facts.uid.clone())
        } else {
            set.remove(&facts.uid)
        };
        if changed && let Some(node) = self.nodes.get(node_name) {
            self.spread.apply(facts, node, if counted { 1 } else { -1 });
        }
    }

    /// Removes a deleted pod's resources and index entries.
    fn unbind(&mut self, facts: &PodFacts, node_name: &str) {
        self.set_counted(facts, node_name, false);
        if let Some(set) = self.node_pods.get_mut(node_name) {
            set.remove(&facts.uid);
        }
        if let Some(requested) = self.node_requested.get_mut(node_name) {
            for (resource, nanos) in &facts.requests_nanos {
                if let Some(total) = requested.get_mut(resource) {
                    *total -= nanos;
                }
            }
        }
        for set in self.anti_by_domain.values_mut() {
            set.remove(&facts.uid);
        }
    }

    /// A bound pod started to go away: unless the load driver deleted it,
    /// it is a preemption victim, and its preemptor is the
    /// highest-priority pod nominated to its node now or, failing that, the
    /// next pod nominated to or bound on that node.
    fn deletion_started(&mut self, facts: &PodFacts, node: &str, revision: u64) {
        if self.recording.driver_deleted.contains(&facts.uid) {
            return;
        }
        self.report.preemption_victims += 1;
        let preemptor = self
            .nominated
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|uid| self.recording.pods.get(uid))
            .max_by_key(|pod| pod.priority);
        match preemptor {
            Some(preemptor) => {
                if facts.priority >= preemptor.priority {
                    self.report.violations.push(Violation::PriorityInversion {
                        victim: facts.key(),
                        victim_priority: facts.priority,
                        preemptor: preemptor.key(),
                        preemptor_priority: preemptor.priority,
                        node: node.to_string(),
                        revision,
                    });
                }
            }
            None => self.pending_victims.push(PendingVictim {
                uid: facts.uid.clone(),
                node: node.to_string(),
                revision,
            }),
        }
    }

    fn resolve_pending_victims(&mut self, node: &str, preemptor: &PodFacts) {
        let (resolved, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_victims)
            .into_iter()
            .partition(|victim| victim.node == node);
        self.pending_victims = waiting;
        for victim in resolved {
            let Some(victim_facts) = self.recording.pods.get(&victim.uid) else {
                continue;
            };
            if victim_facts.priority >= preemptor.priority {
                self.report.violations.push(Violation::PriorityInversion {
                    victim: victim_facts.key(),
                    victim_priority: victim_facts.priority,
                    preemptor: preemptor.key(),
                    preemptor_priority: preemptor.priority,
                    node: victim.node,
                    revision: victim.revision,
                });
            }
        }
    }

    /// The final listing must agree with the replay as of the listing:
    /// same binding for every pod, and no pod the recording never saw.
    fn check_final_state(&self) -> Vec<Violation> {
        let mut violations = Vec::new();
        let Some(final_pods) = &self.recording.final_pods else {
            return violations;
        };
        for state in final_pods {
            let Some(live) = self.live.get(&state.uid) else {
                violations.push(Violation::FinalStateMismatch {
                    pod: self.pod_key(&state.uid),
                    detail: "present at the end but never seen by the watch".to_string(),
                });
                continue;
            };
            if live.deleted {
                violations.push(Violation::FinalStateMismatch {
                    pod: self.pod_key(&state.uid),
                    detail: "present at the end but deleted in the recording".to_string(),
                });
            } else if live.bound_to != state.node_name {
                violations.push(Violation::FinalStateMismatch {
                    pod: self.pod_key(&state.uid),
                    detail: format!(
                        "bound to {:?} at the end, {:?} in the recording",
                        state.node_name, live.bound_to
                    ),
                });
            }
        }
        violations
    }
}

fn compile_all(
    terms: &[api::k8s_openapi::api::core::v1::PodAffinityTerm],
    owner: &PodFacts,
) -> Result<Vec<CompiledTerm>, String> {
    terms
        .iter()
        .map(|term| CompiledTerm::new(term, owner))
        .collect()
}

/// A quantity in nano-units, printed readably: cpu in millicores, whole
/// units when exact, nano-units otherwise.
fn format_nanos(resource: &str, nanos: i128) -> String {
    if resource == "cpu" {
        format!("{}m", nanos / 1_000_000)
    } else if nanos % NANOS_PER_UNIT == 0 {
        (nanos / NANOS_PER_UNIT).to_string()
    } else {
        format!("{nanos}n")
    }
}
