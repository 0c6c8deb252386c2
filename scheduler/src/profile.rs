//! Scheduling profiles: which plugins run for a `schedulerName`, with which
//! score weights and arguments. Defaults are kube-scheduler's.

use std::collections::HashMap;

/// Filter plugins a profile runs (in kube-scheduler's order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterPlugins {
    pub node_unschedulable: bool,
    pub node_name: bool,
    pub taint_toleration: bool,
    pub node_affinity: bool,
    pub node_ports: bool,
    pub node_resources_fit: bool,
    pub pod_topology_spread: bool,
    pub inter_pod_affinity: bool,
}

impl Default for FilterPlugins {
    fn default() -> Self {
        FilterPlugins {
            node_unschedulable: true,
            node_name: true,
            taint_toleration: true,
            node_affinity: true,
            node_ports: true,
            node_resources_fit: true,
            pod_topology_spread: true,
            inter_pod_affinity: true,
        }
    }
}

/// Score plugin weights; 0 disables a score plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreWeights {
    pub taint_toleration: i64,
    pub node_affinity: i64,
    pub pod_topology_spread: i64,
    pub inter_pod_affinity: i64,
    pub node_resources_fit: i64,
    pub balanced_allocation: i64,
    pub image_locality: i64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            taint_toleration: 3,
            node_affinity: 2,
            pod_topology_spread: 2,
            inter_pod_affinity: 2,
            node_resources_fit: 1,
            balanced_allocation: 1,
            image_locality: 1,
        }
    }
}

/// A resource with its weight in a resource score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedResource {
    pub name: String,
    pub weight: i64,
}

/// `cpu:1, memory:1`.
pub fn default_score_resources() -> Vec<WeightedResource> {
    vec![
        WeightedResource {
            name: "cpu".into(),
            weight: 1,
        },
        WeightedResource {
            name: "memory".into(),
            weight: 1,
        },
    ]
}

/// One point of a RequestedToCapacityRatio shape: utilization 0–100 → score 0–10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapePoint {
    pub utilization: i64,
    pub score: i64,
}

/// NodeResourcesFit scoring strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoringStrategy {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio { shape: Vec<ShapePoint> },
}

/// A scheduling profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub scheduler_name: String,
    pub filters: FilterPlugins,
    pub weights: ScoreWeights,
    pub fit_strategy: ScoringStrategy,
    pub fit_resources: Vec<WeightedResource>,
    pub balanced_resources: Vec<WeightedResource>,
    /// `None` = adaptive default; `Some(100)` = evaluate every node.
    pub percentage_of_nodes_to_score: Option<u32>,
    pub hard_pod_affinity_weight: i64,
    /// Whether pods without spread constraints get the system default ones
    /// (score only; needs `PodInfo::default_spread_selector`).
    pub system_default_spread: bool,
    /// Node count from which filtering and scoring fan out with rayon.
    pub parallel_node_threshold: usize,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            scheduler_name: "default-scheduler".into(),
            filters: FilterPlugins::default(),
            weights: ScoreWeights::default(),
            fit_strategy: ScoringStrategy::LeastAllocated,
            fit_resources: default_score_resources(),
            balanced_resources: default_score_resources(),
            percentage_of_nodes_to_score: None,
            hard_pod_affinity_weight: 1,
            system_default_spread: true,
            parallel_node_threshold: 4096,
        }
    }
}

impl Profile {
    /// The default profile evaluating every node.
    pub fn exact() -> Self {
        Profile {
            percentage_of_nodes_to_score: Some(100),
            ..Profile::default()
        }
    }
}

/// Profiles by `schedulerName`.
#[derive(Clone, Debug, Default)]
pub struct Profiles {
    by_name: HashMap<String, Profile>,
}

impl Profiles {
    /// A set holding the given profiles.
    pub fn new(profiles: impl IntoIterator<Item = Profile>) -> Self {
        Profiles {
            by_name: profiles
                .into_iter()
                .map(|profile| (profile.scheduler_name.clone(), profile))
                .collect(),
        }
    }

    /// The profile for a scheduler name; pods of unknown names are ignored.
    pub fn get(&self, scheduler_name: &str) -> Option<&Profile> {
        self.by_name.get(scheduler_name)
    }
}

/// Minimum nodes to find before sampling stops.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Lowest adaptive percentage.
pub const MIN_FEASIBLE_NODES_PERCENTAGE: i64 = 5;

/// kube-scheduler's `numFeasibleNodesToFind`.
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut percent = i64::from(percentage.unwrap_or(0));
    if percent >= 100 {
        return num_all_nodes;
    }
    if percent == 0 {
        percent = 50 - (num_all_nodes as i64) / 125;
        if percent < MIN_FEASIBLE_NODES_PERCENTAGE {
            percent = MIN_FEASIBLE_NODES_PERCENTAGE;
        }
    }
    let nodes = (num_all_nodes as i64 * percent / 100) as usize;
    nodes.max(MIN_FEASIBLE_NODES_TO_FIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_percentage_matches_reference() {
        assert_eq!(num_feasible_nodes_to_find(None, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(None, 1000), 420);
        assert_eq!(num_feasible_nodes_to_find(None, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(None, 6000), 300);
        assert_eq!(num_feasible_nodes_to_find(None, 15000), 750);
        assert_eq!(num_feasible_nodes_to_find(Some(100), 15000), 15000);
        assert_eq!(num_feasible_nodes_to_find(Some(1), 500), 100);
    }
}
