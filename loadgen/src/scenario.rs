//! Scenarios modelled on Kubernetes' scheduler_perf test cases, scaled by
//! `--pods` and `--nodes`: the node groups to register, the priority classes
//! to create, and the phases of pods to create.

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{Node, Pod, Taint};
use api::k8s_openapi::api::scheduling::v1::PriorityClass;
use api::k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use serde::Serialize;
use serde_json::json;

/// Label on every pod a run creates: its phase.
pub const PHASE_LABEL: &str = "loadgen.skiff.dev/phase";
/// Label on nodes of the `node-affinity` scenario.
pub const POOL_LABEL: &str = "loadgen.skiff.dev/pool";
/// Taint on the tainted nodes of the `taints` scenario.
pub const DEDICATED_TAINT: &str = "loadgen.skiff.dev/dedicated";
/// The second scheduler name of `multi-scheduler`.
pub const SECOND_SCHEDULER: &str = "loadgen-second";
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";
const ZONE_KEY: &str = "topology.kubernetes.io/zone";
const HOSTNAME_KEY: &str = "kubernetes.io/hostname";

/// Which workload to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Pods with resource requests only (SchedulingBasic).
    Basic,
    /// Pods requiring a node label half the nodes carry (SchedulingNodeAffinity).
    NodeAffinity,
    /// Pods with required anti-affinity to their own group on the hostname
    /// (SchedulingPodAntiAffinity).
    PodAntiAffinity,
    /// Pods with required affinity to their team in the same zone
    /// (SchedulingPodAffinity).
    PodAffinity,
    /// Pods spread over zones with maxSkew 1, DoNotSchedule (TopologySpreading).
    TopologySpread,
    /// A fifth of the nodes tainted NoSchedule; a fifth of the pods tolerate
    /// it (SchedulingWithNodeInclusionPolicy).
    Taints,
    /// Low-priority pods fill every node, then a high-priority wave must
    /// preempt them (PreemptionBasic).
    Preemption,
    /// Pods are deleted and created while the measured pods schedule
    /// (SchedulingWithMixedChurn).
    MixedChurn,
    /// Two scheduler profiles; pods alternate between their names.
    MultiScheduler,
    /// Several scheduler shard processes; half the pods basic, half with
    /// hostname anti-affinity.
    Sharded,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::Basic,
        Scenario::NodeAffinity,
        Scenario::PodAntiAffinity,
        Scenario::PodAffinity,
        Scenario::TopologySpread,
        Scenario::Taints,
        Scenario::Preemption,
        Scenario::MixedChurn,
        Scenario::MultiScheduler,
        Scenario::Sharded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Basic => "basic",
            Scenario::NodeAffinity => "node-affinity",
            Scenario::PodAntiAffinity => "pod-anti-affinity",
            Scenario::PodAffinity => "pod-affinity",
            Scenario::TopologySpread => "topology-spread",
            Scenario::Taints => "taints",
            Scenario::Preemption => "preemption",
            Scenario::MixedChurn => "mixed-churn",
            Scenario::MultiScheduler => "multi-scheduler",
            Scenario::Sharded => "sharded",
        }
    }
}

/// Nodes registered from one template by one hollow kubelet.
#[derive(Clone, Debug)]
pub struct NodeGroup {
    /// Node names are `<prefix>-<index>`.
    pub prefix: String,
    pub count: usize,
    pub template: Node,
}

/// The shape of the pods of one phase.
#[derive(Clone, Debug, PartialEq)]
pub enum PodShape {
    /// The template as is.
    Basic,
    /// Required node affinity to the `a` pool.
    NodeAffinity,
    /// Required anti-affinity on the hostname to pods of the same color.
    AntiAffinity { colors: usize },
    /// Required affinity to the same team in the zone.
    Affinity { teams: usize },
    /// Zone spread, maxSkew 1, DoNotSchedule.
    Spread,
    /// Every fifth pod tolerates the dedicated taint.
    Tolerating,
    /// A priority class and a cpu request.
    Priority { class: String, milli_cpu: i64 },
    /// Alternating scheduler names.
    AlternatingSchedulers,
    /// Alternating basic and hostname anti-affinity pods.
    HalfAntiAffinity { colors: usize },
}

/// Pods created together; `measured` phases feed the throughput and
/// latency figures, as scheduler_perf's `collectMetrics`.
#[derive(Clone, Debug)]
pub struct Phase {
    pub name: &'static str,
    pub count: usize,
    pub measured: bool,
    pub shape: PodShape,
    /// Wait until every pod created so far is bound before this phase.
    pub barrier_before: bool,
}

/// Deleting and recreating pods while a phase schedules.
#[derive(Clone, Copy, Debug)]
pub struct Churn {
    /// Bound pods deleted (and as many new ones created) per tick.
    pub pods_per_tick: usize,
    pub tick: std::time::Duration,
}

/// Everything a scenario needs, sized for one run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: Scenario,
    pub node_groups: Vec<NodeGroup>,
    pub priority_classes: Vec<PriorityClass>,
    pub phases: Vec<Phase>,
    /// Scheduler profile names the pods use.
    pub scheduler_names: Vec<String>,
    /// Scheduler processes to start (shards).
    pub scheduler_shards: usize,
    pub churn: Option<Churn>,
    pod_template: Pod,
}

/// The sizes a plan is built for.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub pods: usize,
    pub nodes: usize,
    /// Scheduler shard processes for `sharded`.
    pub shards: usize,
}

impl Plan {
    pub fn new(scenario: Scenario, sizes: Sizes, node_template: &Node, pod_template: Pod) -> Plan {
        let pods = sizes.pods.max(1);
        let nodes = sizes.nodes.max(1);
        let group = |prefix: &str, count: usize, template: Node| NodeGroup {
            prefix: prefix.to_string(),
            count,
            template,
        };
        let one_phase = |shape: PodShape| {
            vec![Phase {
                name: "measured",
                count: pods,
                measured: true,
                shape,
                barrier_before: false,
            }]
        };
        let all_nodes = vec![group("node", nodes, node_template.clone())];
        // Enough colors that each color has at most half as many pods as nodes.
        let colors = (2 * pods).div_ceil(nodes).max(1);
        let mut plan = Plan {
            scenario,
            node_groups: all_nodes.clone(),
            priority_classes: Vec::new(),
            phases: one_phase(PodShape::Basic),
            scheduler_names: vec![DEFAULT_SCHEDULER.to_string()],
            scheduler_shards: 1,
            churn: None,
            pod_template,
        };
        match scenario {
            Scenario::Basic => {}
            Scenario::NodeAffinity => {
                let half = nodes.div_ceil(2);
                plan.node_groups = vec![
                    group("pool-a", half, with_label(node_template, POOL_LABEL, "a")),
                    group(
                        "pool-b",
                        nodes - half,
                        with_label(node_template, POOL_LABEL, "b"),
                    ),
                ];
                plan.phases = one_phase(PodShape::NodeAffinity);
            }
            Scenario::PodAntiAffinity => plan.phases = one_phase(PodShape::AntiAffinity { colors }),
            Scenario::PodAffinity => plan.phases = one_phase(PodShape::Affinity { teams: 3 }),
            Scenario::TopologySpread => plan.phases = one_phase(PodShape::Spread),
            Scenario::Taints => {
                let tainted = (nodes / 5).max(1).min(nodes.saturating_sub(1));
                let mut groups = vec![group("node", nodes - tainted, node_template.clone())];
                if tainted > 0 {
                    groups.push(group("tainted", tainted, with_taint(node_template)));
                }
                plan.node_groups = groups;
                plan.phases = one_phase(PodShape::Tolerating);
            }
            Scenario::Preemption => {
                let high = (pods / 5).max(1);
                let per_node = ((pods - high.min(pods)) / nodes).max(1);
                let low = per_node * nodes;
                let milli_cpu =
                    allocatable_milli_cpu(node_template) / i64::try_from(per_node).unwrap_or(1);
                plan.priority_classes = vec![
                    priority_class("loadgen-low", 100),
                    priority_class("loadgen-high", 1000),
                ];
                plan.phases = vec![
                    Phase {
                        name: "low",
                        count: low,
                        measured: false,
                        shape: PodShape::Priority {
                            class: "loadgen-low".to_string(),
                            milli_cpu,
                        },
                        barrier_before: false,
                    },
                    Phase {
                        name: "high",
                        count: high,
                        measured: true,
                        shape: PodShape::Priority {
                            class: "loadgen-high".to_string(),
                            milli_cpu,
                        },
                        barrier_before: true,
                    },
                ];
            }
            Scenario::MixedChurn => {
                plan.churn = Some(Churn {
                    pods_per_tick: (pods / 200).max(1),
                    tick: std::time::Duration::from_millis(100),
                });
            }
            Scenario::MultiScheduler => {
                plan.scheduler_names =
                    vec![DEFAULT_SCHEDULER.to_string(), SECOND_SCHEDULER.to_string()];
                plan.phases = one_phase(PodShape::AlternatingSchedulers);
            }
            Scenario::Sharded => {
                plan.scheduler_shards = sizes.shards.max(2);
                plan.phases = one_phase(PodShape::HalfAntiAffinity { colors });
            }
        }
        plan
    }

    /// Total pods the phases create (churn adds more).
    pub fn planned_pods(&self) -> usize {
        self.phases.iter().map(|phase| phase.count).sum()
    }

    pub fn planned_nodes(&self) -> usize {
        self.node_groups.iter().map(|group| group.count).sum()
    }

    /// Pod `index` of `phase`, named `<phase>-<index>`.
    pub fn pod(&self, phase: &Phase, index: usize) -> Pod {
        self.shaped_pod(phase.name, &phase.shape, index)
    }

    /// A churn pod: the template, named `churn-<index>`.
    pub fn churn_pod(&self, index: usize) -> Pod {
        self.shaped_pod("churn", &PodShape::Basic, index)
    }

    fn shaped_pod(&self, phase: &str, shape: &PodShape, index: usize) -> Pod {
        let mut pod = self.pod_template.clone();
        pod.metadata.name = Some(format!("{phase}-{index:07}"));
        pod.metadata.generate_name = None;
        pod.metadata.namespace = None;
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(PHASE_LABEL.to_string(), phase.to_string());
        let spec = pod.spec.get_or_insert_with(Default::default);
        let mut affinity = |value: serde_json::Value| {
            spec.affinity = serde_json::from_value(value).ok();
        };
        match shape {
            PodShape::Basic => {}
            PodShape::NodeAffinity => affinity(json!({"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": ["a"]}]}
            ]}}})),
            PodShape::AntiAffinity { colors } => {
                let color = format!("c{}", index % colors);
                labels.insert("color".to_string(), color.clone());
                affinity(anti_affinity("color", &color));
            }
            PodShape::HalfAntiAffinity { colors } => {
                if index % 2 == 1 {
                    let color = format!("c{}", (index / 2) % colors);
                    labels.insert("color".to_string(), color.clone());
                    affinity(anti_affinity("color", &color));
                }
            }
            PodShape::Affinity { teams } => {
                let team = format!("t{}", index % teams);
                labels.insert("team".to_string(), team.clone());
                affinity(
                    json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"team": team}}, "topologyKey": ZONE_KEY}
                    ]}}),
                );
            }
            PodShape::Spread => {
                labels.insert("spread".to_string(), "zone".to_string());
                spec.topology_spread_constraints = serde_json::from_value(json!([{
                    "maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": {"spread": "zone"}}
                }]))
                .ok();
            }
            PodShape::Tolerating => {
                if index.is_multiple_of(5) {
                    spec.tolerations = serde_json::from_value(json!([
                        {"key": DEDICATED_TAINT, "operator": "Equal", "value": "infra", "effect": "NoSchedule"}
                    ]))
                    .ok();
                }
            }
            PodShape::Priority { class, milli_cpu } => {
                spec.priority_class_name = Some(class.clone());
                spec.priority = None;
                for container in &mut spec.containers {
                    let resources = container.resources.get_or_insert_with(Default::default);
                    let cpu = WireQuantity(format!("{milli_cpu}m"));
                    resources
                        .requests
                        .get_or_insert_with(BTreeMap::new)
                        .insert("cpu".to_string(), cpu.clone());
                    if let Some(limits) = resources.limits.as_mut() {
                        limits.insert("cpu".to_string(), cpu);
                    }
                }
            }
            PodShape::AlternatingSchedulers => {
                let name = self.scheduler_names[index % self.scheduler_names.len()].clone();
                spec.scheduler_name = Some(name);
            }
        }
        pod
    }
}

fn anti_affinity(key: &str, value: &str) -> serde_json::Value {
    json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {key: value}}, "topologyKey": HOSTNAME_KEY}
    ]}})
}

fn with_label(template: &Node, key: &str, value: &str) -> Node {
    let mut node = template.clone();
    node.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(key.to_string(), value.to_string());
    node
}

fn with_taint(template: &Node) -> Node {
    let mut node = template.clone();
    node.spec
        .get_or_insert_with(Default::default)
        .taints
        .get_or_insert_with(Vec::new)
        .push(Taint {
            key: DEDICATED_TAINT.to_string(),
            value: Some("infra".to_string()),
            effect: "NoSchedule".to_string(),
            ..Taint::default()
        });
    node
}

fn priority_class(name: &str, value: i32) -> PriorityClass {
    PriorityClass {
        metadata: api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        value,
        ..Default::default()
    }
}

/// The template's allocatable cpu in millicores (1000 if unreadable).
fn allocatable_milli_cpu(template: &Node) -> i64 {
    template
        .status
        .as_ref()
        .and_then(|status| status.allocatable.as_ref())
        .and_then(|allocatable| allocatable.get("cpu"))
        .and_then(|cpu| api::quantity::Quantity::parse(&cpu.0).ok())
        .map_or(1000, |cpu| cpu.milli_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::{node_template, pod_template};

    fn plan(scenario: Scenario, pods: usize, nodes: usize) -> Plan {
        let sizes = Sizes {
            pods,
            nodes,
            shards: 2,
        };
        Plan::new(
            scenario,
            sizes,
            &node_template(None).unwrap(),
            pod_template(None).unwrap(),
        )
    }

    #[test]
    fn every_scenario_plans_the_requested_sizes() {
        for scenario in Scenario::ALL {
            let plan = plan(scenario, 2000, 200);
            assert_eq!(plan.planned_nodes(), 200, "{scenario:?}");
            assert_eq!(plan.planned_pods(), 2000, "{scenario:?}");
            for phase in &plan.phases {
                let pod = plan.pod(phase, 7);
                assert_eq!(
                    pod.metadata.name.as_deref(),
                    Some(format!("{}-0000007", phase.name).as_str())
                );
            }
        }
    }

    #[test]
    fn preemption_fills_nodes_then_sends_a_high_wave() {
        let plan = plan(Scenario::Preemption, 2000, 200);
        assert_eq!(plan.phases[0].count, 1600);
        assert_eq!(plan.phases[1].count, 400);
        assert!(plan.phases[1].barrier_before && plan.phases[1].measured);
        // 8 low pods per node of 31850m: 3981m each.
        let pod = plan.pod(&plan.phases[0], 0);
        let requests = pod.spec.unwrap().containers[0]
            .resources
            .clone()
            .unwrap()
            .requests
            .unwrap();
        assert_eq!(requests["cpu"].0, "3981m");
    }

    #[test]
    fn anti_affinity_colors_keep_each_group_below_the_node_count() {
        let plan = plan(Scenario::PodAntiAffinity, 2000, 200);
        assert_eq!(plan.phases[0].shape, PodShape::AntiAffinity { colors: 20 });
    }
}
