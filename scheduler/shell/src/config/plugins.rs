//! Plugins of a profile: the enabled/disabled lists of each extension
//! point (multiPoint, filter, score, postFilter) and `pluginConfig` args.

use scheduler::Profile;
use scheduler::preemption::PreemptionConfig;
use scheduler::profile::{ScoringStrategy, ShapePoint, WeightedResource};
use serde::Deserialize;

use super::{ConfigError, invalid};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginSet {
    enabled: Option<Vec<RawPlugin>>,
    disabled: Option<Vec<RawPlugin>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlugin {
    name: String,
    weight: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FitArgs {
    scoring_strategy: Option<ScoringStrategyArgs>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScoringStrategyArgs {
    r#type: Option<String>,
    resources: Option<Vec<ResourceArg>>,
    requested_to_capacity_ratio: Option<RequestedToCapacityRatioArgs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceArg {
    name: String,
    weight: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestedToCapacityRatioArgs {
    shape: Vec<ShapeArg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeArg {
    utilization: i64,
    score: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BalancedArgs {
    resources: Option<Vec<ResourceArg>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InterPodAffinityArgs {
    hard_pod_affinity_weight: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SpreadArgs {
    defaulting_type: Option<String>,
    default_constraints: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PreemptionArgs {
    min_candidate_nodes_percentage: Option<usize>,
    min_candidate_nodes_absolute: Option<usize>,
}

/// Extension points a plugin list can name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Point {
    Filter,
    Score,
    PostFilter,
}

/// Plugins Skiff runs, with their extension points and default score weight.
const PLUGINS: &[(&str, &[Point], i64)] = &[
    ("NodeUnschedulable", &[Point::Filter], 0),
    ("NodeName", &[Point::Filter], 0),
    ("TaintToleration", &[Point::Filter, Point::Score], 3),
    ("NodeAffinity", &[Point::Filter, Point::Score], 2),
    ("NodePorts", &[Point::Filter], 0),
    ("NodeResourcesFit", &[Point::Filter, Point::Score], 1),
    ("PodTopologySpread", &[Point::Filter, Point::Score], 2),
    ("InterPodAffinity", &[Point::Filter, Point::Score], 2),
    ("NodeResourcesBalancedAllocation", &[Point::Score], 1),
    ("ImageLocality", &[Point::Score], 1),
    ("DefaultPreemption", &[Point::PostFilter], 0),
];

/// kube-scheduler default plugins Skiff has no equivalent of: they may be
/// disabled (a no-op) but not enabled.
const ABSENT_PLUGINS: &[&str] = &[
    "SchedulingGates",
    "PrioritySort",
    "DefaultBinder",
    "VolumeRestrictions",
    "NodeVolumeLimits",
    "VolumeBinding",
    "VolumeZone",
    "DynamicResources",
];

/// The plugin state of a profile while lists are applied.
pub(super) struct PluginState {
    pub(super) filters: [bool; 8],
    pub(super) weights: [i64; 7],
    pub(super) preemption: bool,
}

const FILTER_NAMES: [&str; 8] = [
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
];

const SCORE_NAMES: [&str; 7] = [
    "TaintToleration",
    "NodeAffinity",
    "PodTopologySpread",
    "InterPodAffinity",
    "NodeResourcesFit",
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
];

impl PluginState {
    pub(super) fn default_weights() -> [i64; 7] {
        SCORE_NAMES.map(|name| {
            PLUGINS
                .iter()
                .find(|(plugin, _, _)| *plugin == name)
                .map(|(_, _, weight)| *weight)
                .unwrap_or(1)
        })
    }

    fn set(&mut self, point: Point, name: &str, on: bool, weight: Option<i64>) {
        match point {
            Point::Filter => {
                for (index, filter) in FILTER_NAMES.iter().enumerate() {
                    if name == "*" || *filter == name {
                        self.filters[index] = on;
                    }
                }
            }
            Point::Score => {
                let defaults = PluginState::default_weights();
                for (index, score) in SCORE_NAMES.iter().enumerate() {
                    if name == "*" || *score == name {
                        self.weights[index] = if on {
                            weight.unwrap_or(defaults[index])
                        } else {
                            0
                        };
                    }
                }
            }
            Point::PostFilter => {
                if name == "*" || name == "DefaultPreemption" {
                    self.preemption = on;
                }
            }
        }
    }

    /// Applies one enabled/disabled list of `point` (or of every point the
    /// plugin has, for multiPoint).
    pub(super) fn apply(
        &mut self,
        field: &str,
        point: Option<Point>,
        set: RawPluginSet,
    ) -> Result<(), ConfigError> {
        for (list, on) in [(set.disabled, false), (set.enabled, true)] {
            let list_name = if on { "enabled" } else { "disabled" };
            for (index, plugin) in list.unwrap_or_default().into_iter().enumerate() {
                let at = format!("{field}.{list_name}[{index}]");
                if plugin.name == "*" {
                    if on {
                        return Err(invalid(format!("{at}.name"), "\"*\" may only be disabled"));
                    }
                    for each in [Point::Filter, Point::Score, Point::PostFilter] {
                        if point.is_none_or(|p| p == each) {
                            self.set(each, "*", false, None);
                        }
                    }
                    continue;
                }
                let Some((_, points, _)) = PLUGINS.iter().find(|(name, _, _)| *name == plugin.name)
                else {
                    if ABSENT_PLUGINS.contains(&plugin.name.as_str()) && !on {
                        continue;
                    }
                    return Err(invalid(
                        format!("{at}.name"),
                        format!(
                            "unsupported plugin {:?}; supported: {}",
                            plugin.name,
                            PLUGINS
                                .iter()
                                .map(|(name, _, _)| *name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                };
                if let Some(weight) = plugin.weight {
                    if !(1..=100).contains(&weight) {
                        return Err(invalid(
                            format!("{at}.weight"),
                            format!("must be in 1..=100, got {weight}"),
                        ));
                    }
                    if !points.contains(&Point::Score) || point.is_some_and(|p| p != Point::Score) {
                        return Err(invalid(
                            format!("{at}.weight"),
                            "only score plugins take a weight",
                        ));
                    }
                }
                match point {
                    Some(point) => {
                        if !points.contains(&point) {
                            return Err(invalid(
                                format!("{at}.name"),
                                format!("{} is not a plugin of this extension point", plugin.name),
                            ));
                        }
                        self.set(point, &plugin.name, on, plugin.weight);
                    }
                    None => {
                        for each in points.iter() {
                            self.set(*each, &plugin.name, on, plugin.weight);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl PluginState {
    /// Writes the filters and weights into `profile`.
    pub(super) fn write(&self, profile: &mut Profile) {
        let filters = &mut profile.filters;
        [
            filters.node_unschedulable,
            filters.node_name,
            filters.taint_toleration,
            filters.node_affinity,
            filters.node_ports,
            filters.node_resources_fit,
            filters.pod_topology_spread,
            filters.inter_pod_affinity,
        ] = self.filters;
        let weights = &mut profile.weights;
        [
            weights.taint_toleration,
            weights.node_affinity,
            weights.pod_topology_spread,
            weights.inter_pod_affinity,
            weights.node_resources_fit,
            weights.balanced_allocation,
            weights.image_locality,
        ] = self.weights;
    }
}

/// Applies one `pluginConfig` entry.
pub(super) fn apply_plugin_args(
    at: &str,
    name: &str,
    args: serde_json::Value,
    profile: &mut Profile,
    preemption: &mut PreemptionConfig,
) -> Result<(), ConfigError> {
    let parse_error = |error: serde_json::Error| invalid(format!("{at}.args"), error.to_string());
    match name {
        "NodeResourcesFit" => {
            let args: FitArgs = serde_json::from_value(args).map_err(parse_error)?;
            if let Some(strategy) = args.scoring_strategy {
                apply_strategy(at, strategy, profile)?;
            }
        }
        "NodeResourcesBalancedAllocation" => {
            let args: BalancedArgs = serde_json::from_value(args).map_err(parse_error)?;
            if let Some(resources) = args.resources {
                profile.balanced_resources =
                    weighted_resources(&format!("{at}.args.resources"), resources)?;
            }
        }
        "InterPodAffinity" => {
            let args: InterPodAffinityArgs = serde_json::from_value(args).map_err(parse_error)?;
            if let Some(weight) = args.hard_pod_affinity_weight {
                if !(0..=100).contains(&weight) {
                    return Err(invalid(
                        format!("{at}.args.hardPodAffinityWeight"),
                        format!("must be in 0..=100, got {weight}"),
                    ));
                }
                profile.hard_pod_affinity_weight = weight;
            }
        }
        "PodTopologySpread" => {
            let args: SpreadArgs = serde_json::from_value(args).map_err(parse_error)?;
            if args
                .default_constraints
                .is_some_and(|list| !list.is_empty())
            {
                return Err(invalid(
                    format!("{at}.args.defaultConstraints"),
                    "custom default constraints are not supported; use defaultingType System or List with none",
                ));
            }
            match args.defaulting_type.as_deref() {
                None | Some("System") => profile.system_default_spread = true,
                Some("List") => profile.system_default_spread = false,
                Some(other) => {
                    return Err(invalid(
                        format!("{at}.args.defaultingType"),
                        format!("expected System or List, got {other:?}"),
                    ));
                }
            }
        }
        "DefaultPreemption" => {
            let args: PreemptionArgs = serde_json::from_value(args).map_err(parse_error)?;
            if let Some(percentage) = args.min_candidate_nodes_percentage {
                if percentage > 100 {
                    return Err(invalid(
                        format!("{at}.args.minCandidateNodesPercentage"),
                        format!("must be in 0..=100, got {percentage}"),
                    ));
                }
                preemption.min_candidate_nodes_percentage = percentage;
            }
            if let Some(absolute) = args.min_candidate_nodes_absolute {
                preemption.min_candidate_nodes_absolute = absolute;
            }
        }
        other => {
            return Err(invalid(
                format!("{at}.name"),
                format!("no arguments are known for plugin {other:?}"),
            ));
        }
    }
    Ok(())
}

fn weighted_resources(
    field: &str,
    resources: Vec<ResourceArg>,
) -> Result<Vec<WeightedResource>, ConfigError> {
    if resources.is_empty() {
        return Err(invalid(field, "must list at least one resource"));
    }
    resources
        .into_iter()
        .enumerate()
        .map(|(index, resource)| {
            let weight = resource.weight.unwrap_or(1);
            if !(1..=100).contains(&weight) {
                return Err(invalid(
                    format!("{field}[{index}].weight"),
                    format!("must be in 1..=100, got {weight}"),
                ));
            }
            if resource.name.is_empty() {
                return Err(invalid(
                    format!("{field}[{index}].name"),
                    "must not be empty",
                ));
            }
            Ok(WeightedResource {
                name: resource.name,
                weight,
            })
        })
        .collect()
}

fn apply_strategy(
    at: &str,
    strategy: ScoringStrategyArgs,
    profile: &mut scheduler::Profile,
) -> Result<(), ConfigError> {
    let field = format!("{at}.args.scoringStrategy");
    if let Some(resources) = strategy.resources {
        profile.fit_resources = weighted_resources(&format!("{field}.resources"), resources)?;
    }
    let kind = strategy.r#type.as_deref().unwrap_or("LeastAllocated");
    let ratio = strategy.requested_to_capacity_ratio;
    if ratio.is_some() && kind != "RequestedToCapacityRatio" {
        return Err(invalid(
            format!("{field}.requestedToCapacityRatio"),
            "is only allowed with type RequestedToCapacityRatio",
        ));
    }
    profile.fit_strategy = match kind {
        "LeastAllocated" => ScoringStrategy::LeastAllocated,
        "MostAllocated" => ScoringStrategy::MostAllocated,
        "RequestedToCapacityRatio" => {
            let Some(ratio) = ratio else {
                return Err(invalid(
                    format!("{field}.requestedToCapacityRatio"),
                    "is required for type RequestedToCapacityRatio",
                ));
            };
            ScoringStrategy::RequestedToCapacityRatio {
                shape: shape(
                    &format!("{field}.requestedToCapacityRatio.shape"),
                    ratio.shape,
                )?,
            }
        }
        other => {
            return Err(invalid(
                format!("{field}.type"),
                format!(
                    "expected LeastAllocated, MostAllocated or RequestedToCapacityRatio, got {other:?}"
                ),
            ));
        }
    };
    Ok(())
}

/// A RequestedToCapacityRatio shape: increasing utilizations 0..=100,
/// scores 0..=10.
fn shape(field: &str, points: Vec<ShapeArg>) -> Result<Vec<ShapePoint>, ConfigError> {
    if points.is_empty() {
        return Err(invalid(field, "must have at least one point"));
    }
    let mut previous: Option<i64> = None;
    let mut shape = Vec::new();
    for (index, point) in points.into_iter().enumerate() {
        if !(0..=100).contains(&point.utilization) {
            return Err(invalid(
                format!("{field}[{index}].utilization"),
                format!("must be in 0..=100, got {}", point.utilization),
            ));
        }
        if previous.is_some_and(|p| point.utilization <= p) {
            return Err(invalid(
                format!("{field}[{index}].utilization"),
                "utilization values must be increasing",
            ));
        }
        if !(0..=10).contains(&point.score) {
            return Err(invalid(
                format!("{field}[{index}].score"),
                format!("must be in 0..=10, got {}", point.score),
            ));
        }
        previous = Some(point.utilization);
        shape.push(ShapePoint {
            utilization: point.utilization,
            score: point.score,
        });
    }
    Ok(shape)
}
