//! The naive reference scheduler: kube-scheduler's filter and score
//! semantics written as plain loops over plain data (nodes and bound pods as
//! parsed `NodeInfo`/`PodInfo`), sharing nothing with the fast path but the
//! parse. It is slow and obviously correct; property tests check that the
//! fast path agrees with it, and the bench reports the speed ratio.

use std::collections::{BTreeMap, HashMap};

use crate::model::{
    HostPort, InclusionPolicy, LabelRequirement, LabelSelector, NodeInfo, NodeSelectorTerm,
    PodAffinityTerm, PodDisruptionBudgetInfo, PodInfo, SelectorOperator, Taint, TaintEffect,
    Toleration, TolerationOperator, TopologySpreadConstraint, UnsatisfiableAction,
};

/// A cluster as plain data.
#[derive(Clone, Debug, Default)]
pub struct NaiveCluster {
    pub nodes: Vec<NodeInfo>,
    /// Bound pods (`node_name` set).
    pub pods: Vec<PodInfo>,
    /// Unbound pods with `nominated_node_name` set.
    pub nominated: Vec<PodInfo>,
    pub namespace_labels: HashMap<String, BTreeMap<String, String>>,
    pub pdbs: Vec<PodDisruptionBudgetInfo>,
}

/// Why the naive filter rejected a node: reason texts and whether
/// preemption could help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaiveRejection {
    pub reasons: Vec<String>,
    pub resolvable: bool,
}

fn reject(reason: &str, resolvable: bool) -> NaiveRejection {
    NaiveRejection {
        reasons: vec![reason.to_string()],
        resolvable,
    }
}

impl NaiveCluster {
    /// Pods bound to the node called `name`.
    pub fn pods_on<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PodInfo> + 'a {
        self.pods
            .iter()
            .filter(move |pod| pod.node_name.as_deref() == Some(name))
    }

    fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.iter().find(|node| node.name == name)
    }
}

// ---- Matching ----

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = match toleration.effect {
        None => true,
        Some(effect) => effect == taint.effect,
    };
    let key_ok = toleration.key.is_empty() || toleration.key == taint.key;
    let value_ok = match toleration.operator {
        TolerationOperator::Exists => true,
        TolerationOperator::Equal => toleration.value == taint.value,
    };
    effect_ok && key_ok && value_ok
}

fn requirement_holds(requirement: &LabelRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&requirement.key);
    match requirement.operator {
        SelectorOperator::In => match value {
            Some(value) => requirement.values.iter().any(|wanted| wanted == value),
            None => false,
        },
        SelectorOperator::NotIn => match value {
            Some(value) => !requirement.values.iter().any(|wanted| wanted == value),
            None => true,
        },
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
        SelectorOperator::Gt | SelectorOperator::Lt => {
            if requirement.values.len() != 1 {
                return false;
            }
            let Some(value) = value else { return false };
            let Ok(actual) = value.parse::<i64>() else {
                return false;
            };
            let Ok(bound) = requirement.values[0].parse::<i64>() else {
                return false;
            };
            if requirement.operator == SelectorOperator::Gt {
                actual > bound
            } else {
                actual < bound
            }
        }
    }
}

fn selector_selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if selector.matches_nothing {
        return false;
    }
    for requirement in &selector.requirements {
        if !requirement_holds(requirement, labels) {
            return false;
        }
    }
    true
}

fn node_term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    for requirement in &term.match_expressions {
        if !requirement_holds(requirement, &node.labels) {
            return false;
        }
    }
    for field in &term.match_fields {
        let listed = field.values.contains(&node.name);
        let ok = if field.operator == SelectorOperator::In {
            listed
        } else {
            !listed
        };
        if !ok {
            return false;
        }
    }
    true
}

/// nodeSelector AND required node affinity terms.
pub fn node_matches_required_affinity(pod: &PodInfo, node: &NodeInfo) -> bool {
    for (key, value) in &pod.node_selector {
        if node.labels.get(key) != Some(value) {
            return false;
        }
    }
    match &pod.required_node_terms {
        None => true,
        Some(terms) => terms.iter().any(|term| node_term_matches(term, node)),
    }
}

fn term_selects(cluster: &NaiveCluster, term: &PodAffinityTerm, target: &PodInfo) -> bool {
    let mut namespace_ok = term.namespaces.contains(&target.namespace);
    if !namespace_ok && let Some(selector) = &term.namespace_selector {
        let empty = BTreeMap::new();
        let labels = cluster
            .namespace_labels
            .get(&target.namespace)
            .unwrap_or(&empty);
        namespace_ok = selector_selects(selector, labels);
    }
    namespace_ok && selector_selects(&term.selector, &target.labels)
}

fn ports_conflict(wanted: &HostPort, used: &HostPort) -> bool {
    if wanted.protocol != used.protocol || wanted.port != used.port {
        return false;
    }
    wanted.host_ip == "0.0.0.0" || used.host_ip == "0.0.0.0" || wanted.host_ip == used.host_ip
}

fn all_filtering_taints_tolerated(pod: &PodInfo, node: &NodeInfo) -> bool {
    node.taints
        .iter()
        .filter(|taint| taint.effect != TaintEffect::PreferNoSchedule)
        .all(|taint| {
            pod.tolerations
                .iter()
                .any(|toleration| tolerates(toleration, taint))
        })
}

// ---- Filters ----

/// Runs every filter on one node in kube-scheduler's order.
pub fn filter(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), NaiveRejection> {
    // NodeUnschedulable.
    if node.unschedulable {
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        };
        if !pod
            .tolerations
            .iter()
            .any(|toleration| tolerates(toleration, &taint))
        {
            return Err(reject("node(s) were unschedulable", false));
        }
    }
    // NodeName.
    if let Some(wanted) = &pod.node_name
        && *wanted != node.name
    {
        return Err(reject(
            "node(s) didn't match the requested node name",
            false,
        ));
    }
    // TaintToleration.
    for taint in &node.taints {
        if taint.effect == TaintEffect::PreferNoSchedule {
            continue;
        }
        if !pod
            .tolerations
            .iter()
            .any(|toleration| tolerates(toleration, taint))
        {
            return Err(reject(
                &format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint.key, taint.value
                ),
                false,
            ));
        }
    }
    // NodeAffinity.
    if !node_matches_required_affinity(pod, node) {
        return Err(reject(
            "node(s) didn't match Pod's node affinity/selector",
            false,
        ));
    }
    // NodePorts.
    for wanted in &pod.host_ports {
        for existing in cluster.pods_on(&node.name) {
            if existing
                .host_ports
                .iter()
                .any(|used| ports_conflict(wanted, used))
            {
                return Err(reject(
                    "node(s) didn't have free ports for the requested pod ports",
                    true,
                ));
            }
        }
    }
    // NodeResourcesFit.
    let insufficient = insufficient_resources(cluster, pod, node);
    if !insufficient.is_empty() {
        return Err(NaiveRejection {
            reasons: insufficient,
            resolvable: true,
        });
    }
    spread_filter(cluster, pod, node)?;
    inter_pod_filter(cluster, pod, node)?;
    Ok(())
}

/// The NodeResourcesFit reasons for one node (empty = fits).
pub fn insufficient_resources(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Vec<String> {
    let mut counted: Vec<&PodInfo> = cluster.pods_on(&node.name).collect();
    for nominated in &cluster.nominated {
        if nominated.nominated_node_name.as_deref() == Some(node.name.as_str())
            && nominated.priority >= pod.priority
            && nominated.uid != pod.uid
        {
            counted.push(nominated);
        }
    }
    let mut reasons = Vec::new();
    if counted.len() as i64 + 1 > node.allocatable_pods {
        reasons.push("Too many pods".to_string());
    }
    let used_cpu: i64 = counted.iter().map(|p| p.requests.milli_cpu).sum();
    let used_memory: i64 = counted.iter().map(|p| p.requests.memory_bytes).sum();
    let used_storage: i64 = counted
        .iter()
        .map(|p| p.requests.ephemeral_storage_bytes)
        .sum();
    if pod.requests.milli_cpu > 0 && pod.requests.milli_cpu > node.allocatable.milli_cpu - used_cpu
    {
        reasons.push("Insufficient cpu".to_string());
    }
    if pod.requests.memory_bytes > 0
        && pod.requests.memory_bytes > node.allocatable.memory_bytes - used_memory
    {
        reasons.push("Insufficient memory".to_string());
    }
    if pod.requests.ephemeral_storage_bytes > 0
        && pod.requests.ephemeral_storage_bytes
            > node.allocatable.ephemeral_storage_bytes - used_storage
    {
        reasons.push("Insufficient ephemeral-storage".to_string());
    }
    for (name, amount) in &pod.requests.extended {
        if *amount <= 0 {
            continue;
        }
        let used: i64 = counted
            .iter()
            .map(|p| p.requests.extended_amount(name))
            .sum();
        if *amount > node.allocatable.extended_amount(name) - used {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}

fn counts_for_spread(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    selector: &LabelSelector,
    node_name: &str,
) -> i64 {
    cluster
        .pods_on(node_name)
        .filter(|existing| {
            existing.namespace == pod.namespace
                && !existing.terminating
                && selector_selects(selector, &existing.labels)
        })
        .count() as i64
}

fn passes_inclusion(pod: &PodInfo, constraint: &TopologySpreadConstraint, node: &NodeInfo) -> bool {
    if constraint.node_affinity_policy == InclusionPolicy::Honor
        && !node_matches_required_affinity(pod, node)
    {
        return false;
    }
    if constraint.node_taints_policy == InclusionPolicy::Honor
        && !all_filtering_taints_tolerated(pod, node)
    {
        return false;
    }
    true
}

fn spread_filter(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), NaiveRejection> {
    let hard: Vec<&TopologySpreadConstraint> = pod
        .topology_spread
        .iter()
        .filter(|c| c.when_unsatisfiable == UnsatisfiableAction::DoNotSchedule)
        .collect();
    for constraint in &hard {
        let Some(node_value) = node.labels.get(&constraint.topology_key) else {
            return Err(reject(
                "node(s) didn't match pod topology spread constraints (missing required label)",
                false,
            ));
        };
        let mut counts: BTreeMap<&String, i64> = BTreeMap::new();
        for candidate in &cluster.nodes {
            let has_all = hard
                .iter()
                .all(|c| candidate.labels.contains_key(&c.topology_key));
            if !has_all || !passes_inclusion(pod, constraint, candidate) {
                continue;
            }
            let value = &candidate.labels[&constraint.topology_key];
            *counts.entry(value).or_insert(0) +=
                counts_for_spread(cluster, pod, &constraint.selector, &candidate.name);
        }
        let global_min = if (counts.len() as i64) < constraint.min_domains {
            0
        } else {
            counts.values().copied().min().unwrap_or(0)
        };
        let self_match = i64::from(selector_selects(&constraint.selector, &pod.labels));
        let matching = counts.get(node_value).copied().unwrap_or(0);
        if matching + self_match - global_min > constraint.max_skew {
            return Err(reject(
                "node(s) didn't match pod topology spread constraints",
                true,
            ));
        }
    }
    Ok(())
}

fn inter_pod_filter(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), NaiveRejection> {
    let mut affinity_counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut anti_counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut existing_anti_counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for other in &cluster.nodes {
        for existing in cluster.pods_on(&other.name) {
            if !pod.required_affinity.is_empty()
                && pod
                    .required_affinity
                    .iter()
                    .all(|term| term_selects(cluster, term, existing))
            {
                for term in &pod.required_affinity {
                    if let Some(value) = other.labels.get(&term.topology_key) {
                        *affinity_counts
                            .entry((term.topology_key.clone(), value.clone()))
                            .or_insert(0) += 1;
                    }
                }
            }
            for term in &pod.required_anti_affinity {
                if term_selects(cluster, term, existing)
                    && let Some(value) = other.labels.get(&term.topology_key)
                {
                    *anti_counts
                        .entry((term.topology_key.clone(), value.clone()))
                        .or_insert(0) += 1;
                }
            }
            for term in &existing.required_anti_affinity {
                if term_selects(cluster, term, pod)
                    && let Some(value) = other.labels.get(&term.topology_key)
                {
                    *existing_anti_counts
                        .entry((term.topology_key.clone(), value.clone()))
                        .or_insert(0) += 1;
                }
            }
        }
    }
    if !pod.required_affinity.is_empty() {
        let mut pods_exist = true;
        for term in &pod.required_affinity {
            let Some(value) = node.labels.get(&term.topology_key) else {
                return Err(reject("node(s) didn't match pod affinity rules", false));
            };
            let count = affinity_counts
                .get(&(term.topology_key.clone(), value.clone()))
                .copied()
                .unwrap_or(0);
            if count <= 0 {
                pods_exist = false;
            }
        }
        if !pods_exist {
            let matches_self = pod
                .required_affinity
                .iter()
                .all(|term| term_selects(cluster, term, pod));
            if !(affinity_counts.is_empty() && matches_self) {
                return Err(reject("node(s) didn't match pod affinity rules", false));
            }
        }
    }
    for term in &pod.required_anti_affinity {
        if let Some(value) = node.labels.get(&term.topology_key)
            && anti_counts
                .get(&(term.topology_key.clone(), value.clone()))
                .is_some_and(|count| *count > 0)
        {
            return Err(reject("node(s) didn't match pod anti-affinity rules", true));
        }
    }
    for (key, value) in &node.labels {
        if existing_anti_counts
            .get(&(key.clone(), value.clone()))
            .is_some_and(|count| *count > 0)
        {
            return Err(reject(
                "node(s) didn't satisfy existing pods anti-affinity rules",
                true,
            ));
        }
    }
    Ok(())
}

/// Names of every node passing all filters.
pub fn feasible_nodes(cluster: &NaiveCluster, pod: &PodInfo) -> Vec<String> {
    cluster
        .nodes
        .iter()
        .filter(|node| filter(cluster, pod, node).is_ok())
        .map(|node| node.name.clone())
        .collect()
}

mod scores;

pub use scores::{plugin_scores, schedule, total_scores};
