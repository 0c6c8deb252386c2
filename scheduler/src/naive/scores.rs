//! Naive reference scores: every score plugin and its normalization written
//! as plain loops over the naive cluster, and exact-mode scheduling.

use std::collections::BTreeMap;

use super::{
    NaiveCluster, counts_for_spread, feasible_nodes, filter, node_term_matches, passes_inclusion,
    term_selects, tolerates,
};
use crate::model::{
    InclusionPolicy, NodeInfo, PodInfo, TaintEffect, TopologySpreadConstraint, UnsatisfiableAction,
};
use crate::profile::{Profile, ScoringStrategy, WeightedResource};

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
