//! Naive reference for preemption: every candidate node is dry-run with the
//! naive filters on a copy of the cluster, written as plain loops and
//! sharing nothing with `preemption` except the parsed pods.

use crate::model::{PodDisruptionBudgetInfo, PodInfo, PreemptionPolicy};
use crate::naive::{NaiveCluster, filter};

/// A naive candidate: node name, victims (most important first), PDB
/// violations.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveCandidate {
    pub node: String,
    pub victims: Vec<PodInfo>,
    pub pdb_violations: usize,
}

fn more_important(left: &PodInfo, right: &PodInfo) -> bool {
    if left.priority != right.priority {
        return left.priority > right.priority;
    }
    left.start_time_unix_seconds.unwrap_or(i64::MAX)
        < right.start_time_unix_seconds.unwrap_or(i64::MAX)
}

fn sort_by_importance(pods: &mut [PodInfo]) {
    // A stable insertion sort keeps equal pods in their original order.
    for i in 1..pods.len() {
        let mut j = i;
        while j > 0 && more_important(&pods[j], &pods[j - 1]) {
            pods.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn pdb_selects(pdb: &PodDisruptionBudgetInfo, pod: &PodInfo) -> bool {
    if pdb.namespace != pod.namespace
        || pdb.selector.matches_nothing
        || pdb.selector.requirements.is_empty()
    {
        return false;
    }
    pdb.selector.requirements.iter().all(|requirement| {
        let value = pod.labels.get(&requirement.key);
        match requirement.operator {
            crate::model::SelectorOperator::In => {
                value.is_some_and(|v| requirement.values.contains(v))
            }
            crate::model::SelectorOperator::NotIn => {
                value.is_none_or(|v| !requirement.values.contains(v))
            }
            crate::model::SelectorOperator::Exists => value.is_some(),
            crate::model::SelectorOperator::DoesNotExist => value.is_none(),
            _ => false,
        }
    })
}

/// Every node where preemption would make `pod` fit, with its victims.
pub fn candidates(cluster: &NaiveCluster, pod: &PodInfo) -> Vec<NaiveCandidate> {
    let mut result = Vec::new();
    if pod.preemption_policy == PreemptionPolicy::Never {
        return result;
    }
    for node in &cluster.nodes {
        let Err(rejection) = filter(cluster, pod, node) else {
            continue;
        };
        if !rejection.resolvable {
            continue;
        }
        let mut potential: Vec<PodInfo> = cluster
            .pods_on(&node.name)
            .filter(|existing| existing.priority < pod.priority)
            .cloned()
            .collect();
        if potential.is_empty() {
            continue;
        }
        sort_by_importance(&mut potential);
        let mut trial = cluster.clone();
        trial
            .pods
            .retain(|existing| !potential.iter().any(|victim| victim.uid == existing.uid));
        if filter(&trial, pod, node).is_err() {
            continue;
        }
        let mut allowed: Vec<i64> = cluster
            .pdbs
            .iter()
            .map(|pdb| pdb.disruptions_allowed)
            .collect();
        let mut violating = Vec::new();
        let mut clean = Vec::new();
        for victim in &potential {
            let mut violated = false;
            for (index, pdb) in cluster.pdbs.iter().enumerate() {
                if !victim.labels.is_empty()
                    && pdb_selects(pdb, victim)
                    && !pdb.disrupted_pods.contains(&victim.name)
                {
                    allowed[index] -= 1;
                    if allowed[index] < 0 {
                        violated = true;
                    }
                }
            }
            if violated {
                violating.push(victim.clone());
            } else {
                clean.push(victim.clone());
            }
        }
        let mixed = !violating.is_empty() && !clean.is_empty();
        let mut victims = Vec::new();
        let mut pdb_violations = 0;
        for (is_violating, victim) in violating
            .into_iter()
            .map(|v| (true, v))
            .chain(clean.into_iter().map(|v| (false, v)))
        {
            trial.pods.push(victim.clone());
            if filter(&trial, pod, node).is_err() {
                trial.pods.pop();
                if is_violating {
                    pdb_violations += 1;
                }
                victims.push(victim);
            }
        }
        if mixed {
            sort_by_importance(&mut victims);
        }
        result.push(NaiveCandidate {
            node: node.name.clone(),
            victims,
            pdb_violations,
        });
    }
    result
}

/// The nodes kube-scheduler's ordering ranks best (any may be picked,
/// depending on the evaluation order).
pub fn best_nodes(candidates: &[NaiveCandidate]) -> Vec<String> {
    let free: Vec<String> = candidates
        .iter()
        .filter(|c| c.victims.is_empty())
        .map(|c| c.node.clone())
        .collect();
    if !free.is_empty() {
        return free;
    }
    let rank = |candidate: &NaiveCandidate| {
        let highest = candidate
            .victims
            .iter()
            .map(|v| v.priority)
            .max()
            .unwrap_or(i32::MIN);
        let sum: i64 = candidate
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + 2_147_483_648)
            .sum();
        let earliest = candidate
            .victims
            .iter()
            .filter(|v| v.priority == highest)
            .map(|v| v.start_time_unix_seconds.unwrap_or(i64::MAX))
            .min()
            .unwrap_or(i64::MAX);
        (
            candidate.pdb_violations,
            highest,
            sum,
            candidate.victims.len(),
            -(earliest as i128),
        )
    };
    let Some(best) = candidates.iter().map(rank).min() else {
        return Vec::new();
    };
    candidates
        .iter()
        .filter(|c| rank(c) == best)
        .map(|c| c.node.clone())
        .collect()
}
