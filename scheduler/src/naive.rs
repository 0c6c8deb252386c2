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
use crate::profile::{Profile, ScoringStrategy, WeightedResource};

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

// ---- Scores ----

fn default_normalize(scores: &mut [i64], reverse: bool) {
    let mut max = 0;
    for score in scores.iter() {
        if *score > max {
            max = *score;
        }
    }
    if max == 0 {
        if reverse {
            for score in scores.iter_mut() {
                *score = 100;
            }
        }
        return;
    }
    for score in scores.iter_mut() {
        let mut value = 100 * *score / max;
        if reverse {
            value = 100 - value;
        }
        *score = value;
    }
}

fn resource_amount(pod: &PodInfo, name: &str, nonzero: bool) -> i64 {
    match name {
        "cpu" if nonzero => pod.nonzero_milli_cpu,
        "memory" if nonzero => pod.nonzero_memory_bytes,
        "cpu" => pod.requests.milli_cpu,
        "memory" => pod.requests.memory_bytes,
        "ephemeral-storage" => pod.requests.ephemeral_storage_bytes,
        "pods" => 1,
        other => pod.requests.extended_amount(other),
    }
}

fn node_allocatable(node: &NodeInfo, name: &str) -> i64 {
    match name {
        "cpu" => node.allocatable.milli_cpu,
        "memory" => node.allocatable.memory_bytes,
        "ephemeral-storage" => node.allocatable.ephemeral_storage_bytes,
        "pods" => node.allocatable_pods,
        other => node.allocatable.extended_amount(other),
    }
}

fn is_extended(name: &str) -> bool {
    !matches!(name, "cpu" | "memory" | "ephemeral-storage" | "pods")
}

fn fit_score(cluster: &NaiveCluster, pod: &PodInfo, node: &NodeInfo, profile: &Profile) -> i64 {
    let mut node_score = 0;
    let mut weight_sum = 0;
    for WeightedResource { name, weight } in &profile.fit_resources {
        let pod_request = resource_amount(pod, name, true);
        if is_extended(name) && pod_request == 0 {
            continue;
        }
        let allocatable = node_allocatable(node, name);
        if allocatable == 0 {
            continue;
        }
        let used: i64 = cluster
            .pods_on(&node.name)
            .map(|existing| resource_amount(existing, name, true))
            .sum();
        let requested = used + pod_request;
        let score = match &profile.fit_strategy {
            ScoringStrategy::LeastAllocated => {
                if requested > allocatable {
                    0
                } else {
                    (allocatable - requested) * 100 / allocatable
                }
            }
            ScoringStrategy::MostAllocated => {
                let capped = if requested > allocatable {
                    allocatable
                } else {
                    requested
                };
                capped * 100 / allocatable
            }
            ScoringStrategy::RequestedToCapacityRatio { shape } => {
                let utilization = if requested > allocatable {
                    100
                } else {
                    requested * 100 / allocatable
                };
                let mut value = shape.last().map(|p| p.score * 10).unwrap_or(0);
                for index in 0..shape.len() {
                    if utilization <= shape[index].utilization {
                        value = if index == 0 {
                            shape[0].score * 10
                        } else {
                            let a = shape[index - 1];
                            let b = shape[index];
                            a.score * 10
                                + (b.score * 10 - a.score * 10) * (utilization - a.utilization)
                                    / (b.utilization - a.utilization)
                        };
                        break;
                    }
                }
                if value <= 0 {
                    continue;
                }
                value
            }
        };
        node_score += score * weight;
        weight_sum += weight;
    }
    if weight_sum == 0 {
        return 0;
    }
    if matches!(
        profile.fit_strategy,
        ScoringStrategy::RequestedToCapacityRatio { .. }
    ) {
        (node_score as f64 / weight_sum as f64).round() as i64
    } else {
        node_score / weight_sum
    }
}

fn balanced_score(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    node: &NodeInfo,
    profile: &Profile,
) -> i64 {
    let mut best_effort = true;
    for WeightedResource { name, .. } in &profile.balanced_resources {
        if resource_amount(pod, name, false) != 0 {
            best_effort = false;
        }
    }
    if best_effort {
        return 0;
    }
    let mut fractions = Vec::new();
    for WeightedResource { name, .. } in &profile.balanced_resources {
        let pod_request = resource_amount(pod, name, false);
        if is_extended(name) && pod_request == 0 {
            continue;
        }
        let allocatable = node_allocatable(node, name);
        if allocatable == 0 {
            continue;
        }
        let used: i64 = cluster
            .pods_on(&node.name)
            .map(|existing| resource_amount(existing, name, false))
            .sum();
        let mut fraction = (used + pod_request) as f64 / allocatable as f64;
        if fraction > 1.0 {
            fraction = 1.0;
        }
        fractions.push(fraction);
    }
    let std = if fractions.len() == 2 {
        ((fractions[0] - fractions[1]) / 2.0).abs()
    } else if fractions.len() > 2 {
        let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
        let variance = fractions
            .iter()
            .map(|f| (f - mean) * (f - mean))
            .sum::<f64>()
            / fractions.len() as f64;
        variance.sqrt()
    } else {
        0.0
    };
    ((1.0 - std) * 100.0) as i64
}

fn image_score(cluster: &NaiveCluster, pod: &PodInfo, node: &NodeInfo) -> i64 {
    let mib = 1024 * 1024;
    let min_threshold = 23 * mib;
    let max_threshold = 1000 * mib * pod.container_count as i64;
    let total_nodes = cluster.nodes.len();
    let mut sum = 0i64;
    for image in &pod.images {
        let size = node
            .images
            .iter()
            .find(|candidate| candidate.names.iter().any(|name| name == image))
            .map(|candidate| candidate.size_bytes);
        if let Some(size) = size {
            let holders = cluster
                .nodes
                .iter()
                .filter(|other| {
                    other
                        .images
                        .iter()
                        .any(|i| i.names.iter().any(|n| n == image))
                })
                .count();
            sum += (size as f64 * (holders as f64 / total_nodes as f64)) as i64;
        }
    }
    if max_threshold <= min_threshold {
        return 0;
    }
    let clamped = sum.clamp(min_threshold, max_threshold);
    100 * (clamped - min_threshold) / (max_threshold - min_threshold)
}

fn inter_pod_raw_scores(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    feasible: &[&NodeInfo],
    profile: &Profile,
) -> Vec<i64> {
    let has_preferred =
        !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
    let mut topology: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut add = |key: &str, node: &NodeInfo, weight: i64| {
        if let Some(value) = node.labels.get(key) {
            *topology
                .entry((key.to_string(), value.clone()))
                .or_insert(0) += weight;
        }
    };
    for other in &cluster.nodes {
        for existing in cluster.pods_on(&other.name) {
            if !has_preferred && !existing.has_pod_affinity_terms() {
                continue;
            }
            for weighted in &pod.preferred_affinity {
                if term_selects(cluster, &weighted.term, existing) {
                    add(&weighted.term.topology_key, other, weighted.weight);
                }
            }
            for weighted in &pod.preferred_anti_affinity {
                if term_selects(cluster, &weighted.term, existing) {
                    add(&weighted.term.topology_key, other, -weighted.weight);
                }
            }
            if profile.hard_pod_affinity_weight > 0 {
                for term in &existing.required_affinity {
                    if term_selects(cluster, term, pod) {
                        add(&term.topology_key, other, profile.hard_pod_affinity_weight);
                    }
                }
            }
            for weighted in &existing.preferred_affinity {
                if term_selects(cluster, &weighted.term, pod) {
                    add(&weighted.term.topology_key, other, weighted.weight);
                }
            }
            for weighted in &existing.preferred_anti_affinity {
                if term_selects(cluster, &weighted.term, pod) {
                    add(&weighted.term.topology_key, other, -weighted.weight);
                }
            }
        }
    }
    let mut raw: Vec<i64> = feasible
        .iter()
        .map(|node| {
            topology
                .iter()
                .filter(|((key, value), _)| node.labels.get(key) == Some(value))
                .map(|(_, score)| *score)
                .sum()
        })
        .collect();
    if topology.is_empty() {
        return vec![0; feasible.len()];
    }
    let min = raw.iter().copied().min().unwrap_or(0);
    let max = raw.iter().copied().max().unwrap_or(0);
    for score in raw.iter_mut() {
        *score = if max - min > 0 {
            (100.0 * ((*score - min) as f64 / (max - min) as f64)) as i64
        } else {
            0
        };
    }
    raw
}

fn spread_scores(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    feasible: &[&NodeInfo],
    profile: &Profile,
) -> Vec<i64> {
    let mut system_defaulted = false;
    let constraints: Vec<TopologySpreadConstraint> = if pod.topology_spread.is_empty() {
        system_defaulted = true;
        match &pod.default_spread_selector {
            Some(selector)
                if profile.system_default_spread
                    && !selector.matches_nothing
                    && !selector.requirements.is_empty() =>
            {
                [
                    ("kubernetes.io/hostname", 3),
                    ("topology.kubernetes.io/zone", 5),
                ]
                .iter()
                .map(|(key, skew)| TopologySpreadConstraint {
                    max_skew: *skew,
                    topology_key: key.to_string(),
                    when_unsatisfiable: UnsatisfiableAction::ScheduleAnyway,
                    selector: selector.clone(),
                    min_domains: 1,
                    node_affinity_policy: InclusionPolicy::Honor,
                    node_taints_policy: InclusionPolicy::Ignore,
                })
                .collect()
            }
            _ => Vec::new(),
        }
    } else {
        pod.topology_spread
            .iter()
            .filter(|c| c.when_unsatisfiable == UnsatisfiableAction::ScheduleAnyway)
            .cloned()
            .collect()
    };
    if constraints.is_empty() {
        return vec![0; feasible.len()];
    }
    let require_all = !system_defaulted;
    let has_all = |node: &NodeInfo| {
        constraints
            .iter()
            .all(|c| node.labels.contains_key(&c.topology_key))
    };
    let ignored: Vec<bool> = feasible
        .iter()
        .map(|node| require_all && !has_all(node))
        .collect();
    let mut weights = Vec::new();
    let mut domain_counts: Vec<BTreeMap<String, i64>> = Vec::new();
    for constraint in &constraints {
        let mut domains: BTreeMap<String, i64> = BTreeMap::new();
        for (node, ignored) in feasible.iter().zip(&ignored) {
            if *ignored {
                continue;
            }
            if let Some(value) = node.labels.get(&constraint.topology_key) {
                domains.insert(value.clone(), 0);
            }
        }
        let size = if constraint.topology_key == "kubernetes.io/hostname" {
            ignored.iter().filter(|i| !**i).count()
        } else {
            domains.len()
        };
        weights.push(((size + 2) as f64).ln());
        if constraint.topology_key != "kubernetes.io/hostname" {
            for node in &cluster.nodes {
                if require_all && !has_all(node) {
                    continue;
                }
                if !passes_inclusion(pod, constraint, node) {
                    continue;
                }
                let Some(value) = node.labels.get(&constraint.topology_key) else {
                    continue;
                };
                if let Some(count) = domains.get_mut(value) {
                    *count += counts_for_spread(cluster, pod, &constraint.selector, &node.name);
                }
            }
        }
        domain_counts.push(domains);
    }
    let mut raw: Vec<i64> = Vec::new();
    for node in feasible {
        let mut total = 0f64;
        for (index, constraint) in constraints.iter().enumerate() {
            let Some(value) = node.labels.get(&constraint.topology_key) else {
                continue;
            };
            let count = if constraint.topology_key == "kubernetes.io/hostname" {
                counts_for_spread(cluster, pod, &constraint.selector, &node.name)
            } else {
                domain_counts[index].get(value).copied().unwrap_or(0)
            };
            total += count as f64 * weights[index] + (constraint.max_skew - 1) as f64;
        }
        raw.push(total.round() as i64);
    }
    let mut min = i64::MAX;
    let mut max = 0;
    for (score, ignored) in raw.iter().zip(&ignored) {
        if !*ignored {
            min = min.min(*score);
            max = max.max(*score);
        }
    }
    raw.iter()
        .zip(&ignored)
        .map(|(score, ignored)| {
            if *ignored {
                0
            } else if max == 0 {
                100
            } else {
                100 * (max + min - score) / max
            }
        })
        .collect()
}

/// Normalized per-plugin scores of each feasible node, in the fast path's
/// column order: taint, node affinity, spread, inter-pod, fit, balanced, image.
pub fn plugin_scores(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    feasible: &[String],
    profile: &Profile,
) -> Vec<[i64; 7]> {
    let nodes: Vec<&NodeInfo> = feasible
        .iter()
        .filter_map(|name| cluster.node(name))
        .collect();
    let mut taint: Vec<i64> = nodes
        .iter()
        .map(|node| {
            node.taints
                .iter()
                .filter(|taint| taint.effect == TaintEffect::PreferNoSchedule)
                .filter(|taint| {
                    !pod.tolerations
                        .iter()
                        .filter(|t| {
                            t.effect.is_none() || t.effect == Some(TaintEffect::PreferNoSchedule)
                        })
                        .any(|t| tolerates(t, taint))
                })
                .count() as i64
        })
        .collect();
    default_normalize(&mut taint, true);
    let mut affinity: Vec<i64> = nodes
        .iter()
        .map(|node| {
            pod.preferred_node_terms
                .iter()
                .filter(|preferred| node_term_matches(&preferred.term, node))
                .map(|preferred| preferred.weight)
                .sum()
        })
        .collect();
    default_normalize(&mut affinity, false);
    let spread = spread_scores(cluster, pod, &nodes, profile);
    let inter_pod = inter_pod_raw_scores(cluster, pod, &nodes, profile);
    let mut rows = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let weights = &profile.weights;
        rows.push([
            if weights.taint_toleration > 0 {
                taint[index]
            } else {
                0
            },
            if weights.node_affinity > 0 {
                affinity[index]
            } else {
                0
            },
            if weights.pod_topology_spread > 0 {
                spread[index]
            } else {
                0
            },
            if weights.inter_pod_affinity > 0 {
                inter_pod[index]
            } else {
                0
            },
            if weights.node_resources_fit > 0 {
                fit_score(cluster, pod, node, profile)
            } else {
                0
            },
            if weights.balanced_allocation > 0 {
                balanced_score(cluster, pod, node, profile)
            } else {
                0
            },
            if weights.image_locality > 0 {
                image_score(cluster, pod, node)
            } else {
                0
            },
        ]);
    }
    rows
}

/// Weighted totals of each feasible node.
pub fn total_scores(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    feasible: &[String],
    profile: &Profile,
) -> Vec<i64> {
    let weights = &profile.weights;
    let weight_row = [
        weights.taint_toleration,
        weights.node_affinity,
        weights.pod_topology_spread,
        weights.inter_pod_affinity,
        weights.node_resources_fit,
        weights.balanced_allocation,
        weights.image_locality,
    ];
    plugin_scores(cluster, pod, feasible, profile)
        .iter()
        .map(|row| row.iter().zip(weight_row).map(|(s, w)| s * w).sum())
        .collect()
}

/// Exact-mode scheduling: the best-scoring nodes (any may be chosen), or the
/// FailedScheduling message.
pub fn schedule(
    cluster: &NaiveCluster,
    pod: &PodInfo,
    profile: &Profile,
) -> Result<(Vec<String>, i64), String> {
    let feasible = feasible_nodes(cluster, pod);
    if feasible.is_empty() {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for node in &cluster.nodes {
            if let Err(rejection) = filter(cluster, pod, node) {
                for reason in rejection.reasons {
                    *counts.entry(reason).or_insert(0) += 1;
                }
            }
        }
        let mut entries: Vec<String> = counts.iter().map(|(r, c)| format!("{c} {r}")).collect();
        entries.sort();
        if cluster.nodes.is_empty() {
            return Err("no nodes available to schedule pods".into());
        }
        return Err(format!(
            "0/{} nodes are available: {}.",
            cluster.nodes.len(),
            entries.join(", ")
        ));
    }
    if feasible.len() == 1 {
        return Ok((feasible, 0));
    }
    let totals = total_scores(cluster, pod, &feasible, profile);
    let best = totals.iter().copied().max().unwrap_or(0);
    let winners = feasible
        .iter()
        .zip(&totals)
        .filter(|(_, total)| **total == best)
        .map(|(name, _)| name.clone())
        .collect();
    Ok((winners, best))
}
