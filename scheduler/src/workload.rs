//! Named scheduling scenarios shared by the criterion bench, smoke tests and
//! (later) loadgen: a cluster filled to about half its CPU and memory, plus
//! the pods whose scheduling is measured. Everything is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::cluster::{ClusterEvent, ClusterState};
use crate::model::{
    InclusionPolicy, LabelRequirement, LabelSelector, NodeInfo, NodeSelectorTerm, PodAffinityTerm,
    PodInfo, PreferredNodeTerm, ResourceAmounts, SelectorOperator, TopologySpreadConstraint,
    UnsatisfiableAction,
};

/// Zones nodes are spread over.
pub const ZONE_COUNT: usize = 10;
const MIB: i64 = 1024 * 1024;
const NODE_MILLI_CPU: i64 = 4000;
const NODE_MEMORY_BYTES: i64 = 16 * 1024 * MIB;
const FILL_PODS_PER_NODE: usize = 10;

/// The scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Pods with requests only.
    Basic,
    /// Required zone affinity and a preferred disk type.
    NodeAffinity,
    /// Required anti-affinity on hostname among measured pods.
    AntiAffinity,
    /// Hard spread over zones (maxSkew 1).
    TopologySpread,
    /// Full cluster of low-priority pods; measured pods must preempt.
    Preemption,
    /// A quarter each of basic, node affinity, anti-affinity and spread pods.
    Mixed,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Basic => "basic",
            Scenario::NodeAffinity => "node_affinity",
            Scenario::AntiAffinity => "anti_affinity",
            Scenario::TopologySpread => "topology_spread",
            Scenario::Preemption => "preemption",
            Scenario::Mixed => "mixed",
        }
    }
}

/// A cluster and the pods to schedule on it.
#[derive(Clone, Debug)]
pub struct Workload {
    pub nodes: Vec<NodeInfo>,
    /// Pods already bound (`node_name` set).
    pub existing: Vec<PodInfo>,
    /// Pods to schedule, in queue order.
    pub measured: Vec<PodInfo>,
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn app_selector(app: &str) -> LabelSelector {
    LabelSelector {
        requirements: vec![LabelRequirement {
            key: "app".into(),
            operator: SelectorOperator::In,
            values: vec![app.into()],
        }],
        matches_nothing: false,
    }
}

/// A node of the standard shape (4 CPU, 16 GiB, 110 pods).
pub fn node(index: usize) -> NodeInfo {
    let name = format!("node-{index}");
    let zone = format!("zone-{}", index % ZONE_COUNT);
    NodeInfo {
        labels: labels(&[
            ("kubernetes.io/hostname", &name),
            ("topology.kubernetes.io/zone", &zone),
            (
                "disk",
                if index.is_multiple_of(2) {
                    "ssd"
                } else {
                    "hdd"
                },
            ),
        ]),
        name,
        taints: Vec::new(),
        unschedulable: false,
        allocatable: ResourceAmounts {
            milli_cpu: NODE_MILLI_CPU,
            memory_bytes: NODE_MEMORY_BYTES,
            ephemeral_storage_bytes: 100 * 1024 * MIB,
            extended: Vec::new(),
        },
        allocatable_pods: 110,
        images: Vec::new(),
    }
}

/// A pod requesting `milli_cpu` and `memory_mib`.
pub fn pod(uid: String, app: &str, milli_cpu: i64, memory_mib: i64, priority: i32) -> PodInfo {
    PodInfo {
        name: uid.clone(),
        uid,
        namespace: "default".into(),
        labels: labels(&[("app", app)]),
        priority,
        requests: ResourceAmounts {
            milli_cpu,
            memory_bytes: memory_mib * MIB,
            ephemeral_storage_bytes: 0,
            extended: Vec::new(),
        },
        nonzero_milli_cpu: milli_cpu.max(1),
        nonzero_memory_bytes: (memory_mib * MIB).max(1),
        scheduler_name: "default-scheduler".into(),
        container_count: 1,
        start_time_unix_seconds: Some(1_700_000_000),
        ..PodInfo::default()
    }
}

fn hostname_anti_affinity(pod: &mut PodInfo, app: &str) {
    pod.required_anti_affinity.push(PodAffinityTerm {
        selector: app_selector(app),
        namespaces: BTreeSet::from(["default".to_string()]),
        namespace_selector: None,
        topology_key: "kubernetes.io/hostname".into(),
    });
}

fn zone_spread(pod: &mut PodInfo, app: &str) {
    pod.topology_spread.push(TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "topology.kubernetes.io/zone".into(),
        when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
        selector: app_selector(app),
        min_domains: 1,
        node_affinity_policy: InclusionPolicy::Honor,
        node_taints_policy: InclusionPolicy::Ignore,
    });
}

fn zone_affinity(pod: &mut PodInfo) {
    pod.required_node_terms = Some(vec![NodeSelectorTerm {
        match_expressions: vec![LabelRequirement {
            key: "topology.kubernetes.io/zone".into(),
            operator: SelectorOperator::In,
            values: vec!["zone-1".into(), "zone-2".into(), "zone-3".into()],
        }],
        match_fields: Vec::new(),
    }]);
    pod.preferred_node_terms.push(PreferredNodeTerm {
        weight: 10,
        term: NodeSelectorTerm {
            match_expressions: vec![LabelRequirement {
                key: "disk".into(),
                operator: SelectorOperator::In,
                values: vec!["ssd".into()],
            }],
            match_fields: Vec::new(),
        },
    });
}

fn measured_pod(scenario: Scenario, index: usize) -> PodInfo {
    let uid = format!("measured-{index}");
    match scenario {
        Scenario::Basic => pod(uid, "basic", 100, 200, 0),
        Scenario::NodeAffinity => {
            let mut pod = pod(uid, "affinity", 100, 200, 0);
            zone_affinity(&mut pod);
            pod
        }
        Scenario::AntiAffinity => {
            let mut pod = pod(uid, "anti", 100, 200, 0);
            hostname_anti_affinity(&mut pod, "anti");
            pod
        }
        Scenario::TopologySpread => {
            let mut pod = pod(uid, "spread", 100, 200, 0);
            zone_spread(&mut pod, "spread");
            pod
        }
        Scenario::Preemption => pod(uid, "preemptor", 1000, 2048, 1000),
        Scenario::Mixed => {
            let kind = [
                Scenario::Basic,
                Scenario::NodeAffinity,
                Scenario::AntiAffinity,
                Scenario::TopologySpread,
            ][index % 4];
            measured_pod(kind, index)
        }
    }
}

/// Builds a scenario: `node_count` nodes filled to ~50% (100% with
/// low-priority pods for `Preemption`) and `measured_count` pods.
pub fn build(scenario: Scenario, node_count: usize, measured_count: usize) -> Workload {
    let nodes: Vec<NodeInfo> = (0..node_count).map(node).collect();
    let mut existing = Vec::with_capacity(node_count * FILL_PODS_PER_NODE);
    let (fill_milli_cpu, fill_memory_mib) = if scenario == Scenario::Preemption {
        (400, 1600)
    } else {
        (200, 800)
    };
    for (node_index, node) in nodes.iter().enumerate() {
        for slot in 0..FILL_PODS_PER_NODE {
            let app = format!("fill-{}", (node_index + slot) % 20);
            let mut filler = pod(
                format!("fill-{node_index}-{slot}"),
                &app,
                fill_milli_cpu,
                fill_memory_mib,
                (slot % 3) as i32,
            );
            filler.start_time_unix_seconds = Some(1_600_000_000 + slot as i64);
            filler.node_name = Some(node.name.clone());
            existing.push(filler);
        }
        // Existing pods of the constrained kinds on a fifth of the nodes.
        if matches!(scenario, Scenario::AntiAffinity | Scenario::Mixed)
            && node_index.is_multiple_of(5)
        {
            let mut anti = pod(format!("anti-{node_index}"), "anti", 100, 200, 0);
            hostname_anti_affinity(&mut anti, "anti");
            anti.node_name = Some(node.name.clone());
            existing.push(anti);
        }
        if matches!(scenario, Scenario::TopologySpread | Scenario::Mixed) && node_index % 5 == 1 {
            let mut spread = pod(format!("spread-{node_index}"), "spread", 100, 200, 0);
            zone_spread(&mut spread, "spread");
            spread.node_name = Some(node.name.clone());
            existing.push(spread);
        }
    }
    let measured = (0..measured_count)
        .map(|index| measured_pod(scenario, index))
        .collect();
    Workload {
        nodes,
        existing,
        measured,
    }
}

impl Workload {
    /// The cluster state holding nodes and existing pods.
    pub fn cluster_state(&self) -> ClusterState {
        let mut state = ClusterState::new();
        state.apply(ClusterEvent::NamespaceUpserted {
            name: "default".into(),
            labels: BTreeMap::new(),
        });
        for node in &self.nodes {
            state.apply(ClusterEvent::NodeUpserted(node.clone()));
        }
        for pod in &self.existing {
            state.apply(ClusterEvent::PodUpserted(Arc::new(pod.clone())));
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::schedule_batch;
    use crate::preemption::{PreemptionConfig, PreemptionOutcome, preempt};
    use crate::profile::{Profile, Profiles};
    use crate::rng::SplitMix64;
    use crate::schedule::{Decision, SchedulingContext, schedule_one};

    /// Smoke test: every scenario schedules (or preempts) at small scale.
    #[test]
    fn every_scenario_makes_progress() {
        for scenario in [
            Scenario::Basic,
            Scenario::NodeAffinity,
            Scenario::AntiAffinity,
            Scenario::TopologySpread,
            Scenario::Mixed,
        ] {
            let workload = build(scenario, 200, 100);
            let snapshot = workload.cluster_state().publish();
            let pods: Vec<Arc<PodInfo>> = workload.measured.iter().cloned().map(Arc::new).collect();
            let profiles = Profiles::new([Profile::default()]);
            let outcome =
                schedule_batch(&snapshot, &pods, &profiles, &mut SchedulingContext::new(1));
            let scheduled = outcome
                .decisions
                .iter()
                .filter(|d| matches!(d, Some(Decision::Scheduled(_))))
                .count();
            assert_eq!(scheduled, 100, "{scenario:?}");
        }
        let workload = build(Scenario::Preemption, 50, 5);
        let snapshot = workload.cluster_state().publish();
        let profile = Profile::default();
        for pod in &workload.measured {
            let Decision::Unschedulable(error) =
                schedule_one(&snapshot, pod, &profile, &mut SchedulingContext::new(1))
            else {
                panic!("preemptor fit without preemption");
            };
            let outcome = preempt(
                &snapshot,
                pod,
                &profile,
                &error,
                &PreemptionConfig::default(),
                &mut SplitMix64::new(1),
            );
            assert!(
                matches!(outcome, PreemptionOutcome::Nominate(_)),
                "{outcome:?}"
            );
        }
    }
}
