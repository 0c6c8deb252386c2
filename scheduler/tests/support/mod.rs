//! Random small clusters and pods for the agreement property tests, built
//! deterministically from a seed so a failing seed can be pinned as a test.

// Each test binary uses a different subset of these helpers, and `pub` items
// are shared between test binaries, so unused and unreachable warnings are moot.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use scheduler::cluster::{ClusterEvent, ClusterState};
use scheduler::model::*;
use scheduler::naive::NaiveCluster;
use scheduler::rng::SplitMix64;

pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ZONE: &str = "topology.kubernetes.io/zone";
const MIB: i64 = 1024 * 1024;

pub struct Scenario {
    pub nodes: Vec<NodeInfo>,
    pub existing: Vec<PodInfo>,
    pub incoming: Vec<PodInfo>,
    pub namespaces: Vec<(String, BTreeMap<String, String>)>,
    pub pdbs: Vec<PodDisruptionBudgetInfo>,
    /// Unbound pods nominated to a node by an earlier preemption.
    pub nominated: Vec<PodInfo>,
}

struct Gen(SplitMix64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn selector(requirements: Vec<LabelRequirement>) -> LabelSelector {
    LabelSelector {
        requirements,
        matches_nothing: false,
    }
}

fn requirement(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelRequirement {
    LabelRequirement {
        key: key.to_string(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn random_label_selector(g: &mut Gen) -> LabelSelector {
    match g.below(6) {
        0 => LabelSelector::nothing(),
        1 => selector(vec![]),
        2 => selector(vec![requirement(
            "app",
            SelectorOperator::In,
            &[*g.pick(&["a", "b", "c"])],
        )]),
        3 => selector(vec![requirement("app", SelectorOperator::NotIn, &["a"])]),
        4 => selector(vec![requirement("tier", SelectorOperator::Exists, &[])]),
        _ => selector(vec![
            requirement("app", SelectorOperator::In, &["a", "b"]),
            requirement("tier", SelectorOperator::DoesNotExist, &[]),
        ]),
    }
}

fn random_affinity_term(g: &mut Gen, namespace: &str) -> PodAffinityTerm {
    let mut namespaces = BTreeSet::new();
    let namespace_selector = match g.below(5) {
        0 => Some(selector(vec![])),
        1 => Some(selector(vec![requirement(
            "team",
            SelectorOperator::In,
            &["x"],
        )])),
        2 => {
            namespaces.insert("ns1".to_string());
            None
        }
        _ => None,
    };
    if namespaces.is_empty() && namespace_selector.is_none() {
        namespaces.insert(namespace.to_string());
    }
    PodAffinityTerm {
        selector: random_label_selector(g),
        namespaces,
        namespace_selector,
        topology_key: g.pick(&[HOSTNAME, ZONE, ZONE, "disk"]).to_string(),
    }
}

fn random_node_term(g: &mut Gen, node_count: usize) -> NodeSelectorTerm {
    let mut term = NodeSelectorTerm::default();
    let count = g.below(3);
    for _ in 0..count {
        let requirement = match g.below(7) {
            0 => requirement("disk", SelectorOperator::In, &[*g.pick(&["ssd", "hdd"])]),
            1 => requirement("disk", SelectorOperator::NotIn, &["hdd"]),
            2 => requirement("num", SelectorOperator::Gt, &[*g.pick(&["2", "5", "x"])]),
            3 => requirement("num", SelectorOperator::Lt, &[*g.pick(&["3", "7"])]),
            4 => requirement(ZONE, SelectorOperator::Exists, &[]),
            5 => requirement("disk", SelectorOperator::DoesNotExist, &[]),
            _ => requirement(ZONE, SelectorOperator::In, &["z0", "z1"]),
        };
        term.match_expressions.push(requirement);
    }
    if g.chance(20) {
        let name = format!("n{}", g.below(node_count as u64));
        term.match_fields.push(NodeNameRequirement {
            operator: if g.chance(50) {
                SelectorOperator::In
            } else {
                SelectorOperator::NotIn
            },
            values: vec![name],
        });
    }
    term
}

fn random_spread(g: &mut Gen, hard: bool) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1 + g.below(2) as i64,
        topology_key: g.pick(&[HOSTNAME, ZONE, ZONE]).to_string(),
        when_unsatisfiable: if hard {
            UnsatisfiableAction::DoNotSchedule
        } else {
            UnsatisfiableAction::ScheduleAnyway
        },
        selector: random_label_selector(g),
        min_domains: 1 + g.below(3) as i64,
        node_affinity_policy: if g.chance(80) {
            InclusionPolicy::Honor
        } else {
            InclusionPolicy::Ignore
        },
        node_taints_policy: if g.chance(30) {
            InclusionPolicy::Honor
        } else {
            InclusionPolicy::Ignore
        },
    }
}

const TAINTS: [(&str, &str, TaintEffect); 4] = [
    ("dedicated", "gpu", TaintEffect::NoSchedule),
    ("dedicated", "db", TaintEffect::NoExecute),
    ("spot", "", TaintEffect::PreferNoSchedule),
    ("maint", "yes", TaintEffect::NoSchedule),
];

fn random_node(g: &mut Gen, index: usize) -> NodeInfo {
    let name = format!("n{index}");
    let mut node_labels = labels(&[(HOSTNAME, &name)]);
    if g.chance(85) {
        node_labels.insert(ZONE.into(), g.pick(&["z0", "z1", "z2"]).to_string());
    }
    if g.chance(60) {
        node_labels.insert("disk".into(), g.pick(&["ssd", "hdd"]).to_string());
    }
    if g.chance(60) {
        node_labels.insert("num".into(), g.below(10).to_string());
    }
    let mut taints = Vec::new();
    for (key, value, effect) in TAINTS {
        if g.chance(12) {
            taints.push(Taint {
                key: key.into(),
                value: value.into(),
                effect,
            });
        }
    }
    let mut allocatable = ResourceAmounts {
        milli_cpu: *g.pick(&[1000, 2000, 4000]),
        memory_bytes: *g.pick(&[1024 * MIB, 2048 * MIB, 4096 * MIB]),
        ephemeral_storage_bytes: *g.pick(&[0, 10_000 * MIB]),
        extended: Vec::new(),
    };
    let gpus = g.below(3) as i64;
    if gpus > 0 {
        allocatable.add_extended("example.com/gpu", gpus);
    }
    let mut images = Vec::new();
    if g.chance(40) {
        images.push(NodeImage {
            names: vec!["nginx:latest".into()],
            size_bytes: 200 * MIB,
        });
    }
    if g.chance(30) {
        images.push(NodeImage {
            names: vec!["redis:7".into()],
            size_bytes: 500 * MIB,
        });
    }
    NodeInfo {
        name,
        labels: node_labels,
        taints,
        unschedulable: g.chance(8),
        allocatable,
        allocatable_pods: 2 + g.below(5) as i64,
        images,
    }
}

fn random_pod(g: &mut Gen, uid: usize, node_count: usize, incoming: bool) -> PodInfo {
    let namespace = g.pick(&["ns0", "ns1"]).to_string();
    let mut pod_labels = labels(&[("app", *g.pick(&["a", "b", "c"]))]);
    if g.chance(40) {
        pod_labels.insert("tier".into(), "web".into());
    }
    let milli_cpu = *g.pick(&[0, 100, 300, 700]);
    let memory_bytes = *g.pick(&[0, 128 * MIB, 512 * MIB]);
    let mut requests = ResourceAmounts {
        milli_cpu,
        memory_bytes,
        ephemeral_storage_bytes: if g.chance(15) { 1000 * MIB } else { 0 },
        extended: Vec::new(),
    };
    if g.chance(15) {
        requests.add_extended("example.com/gpu", 1);
    }
    if incoming && g.chance(5) {
        requests.add_extended("example.com/fpga", 1);
    }
    let mut pod = PodInfo {
        uid: format!("uid-{uid}"),
        namespace: namespace.clone(),
        name: format!("p{uid}"),
        labels: pod_labels,
        priority: *g.pick(&[0, 10, 100]),
        nonzero_milli_cpu: if milli_cpu == 0 { 100 } else { milli_cpu },
        nonzero_memory_bytes: if memory_bytes == 0 {
            200 * MIB
        } else {
            memory_bytes
        },
        requests,
        scheduler_name: "default-scheduler".into(),
        container_count: 1,
        terminating: !incoming && g.chance(8),
        start_time_unix_seconds: Some(1_000 + g.below(100) as i64),
        ..PodInfo::default()
    };
    if g.chance(20) {
        pod.host_ports.push(HostPort {
            host_ip: g.pick(&["0.0.0.0", "10.0.0.1"]).to_string(),
            protocol: *g.pick(&[Protocol::Tcp, Protocol::Udp]),
            port: *g.pick(&[80, 8080]),
        });
    }
    if g.chance(25) {
        pod.required_anti_affinity
            .push(random_affinity_term(g, &namespace));
    }
    if g.chance(20) {
        pod.preferred_affinity.push(WeightedPodAffinityTerm {
            weight: 1 + g.below(100) as i64,
            term: random_affinity_term(g, &namespace),
        });
    }
    if g.chance(15) {
        pod.preferred_anti_affinity.push(WeightedPodAffinityTerm {
            weight: 1 + g.below(100) as i64,
            term: random_affinity_term(g, &namespace),
        });
    }
    if g.chance(10) {
        pod.required_affinity
            .push(random_affinity_term(g, &namespace));
    }
    if !incoming {
        return pod;
    }
    if g.chance(20) {
        pod.node_selector
            .insert("disk".into(), g.pick(&["ssd", "hdd"]).to_string());
    }
    if g.chance(30) {
        let terms = (0..1 + g.below(2))
            .map(|_| random_node_term(g, node_count))
            .collect();
        pod.required_node_terms = Some(terms);
    }
    if g.chance(30) {
        for _ in 0..1 + g.below(2) {
            pod.preferred_node_terms.push(PreferredNodeTerm {
                weight: 1 + g.below(100) as i64,
                term: random_node_term(g, node_count),
            });
        }
    }
    for (key, value, effect) in TAINTS {
        if g.chance(25) {
            pod.tolerations.push(Toleration {
                key: key.into(),
                operator: if g.chance(50) {
                    TolerationOperator::Equal
                } else {
                    TolerationOperator::Exists
                },
                value: value.into(),
                effect: if g.chance(50) { Some(effect) } else { None },
            });
        }
    }
    if g.chance(5) {
        pod.tolerations.push(Toleration {
            key: String::new(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: None,
        });
    }
    if g.chance(5) {
        pod.node_name = Some(format!("n{}", g.below(node_count as u64)));
    }
    if g.chance(35) {
        pod.topology_spread.push(random_spread(g, true));
    }
    if g.chance(30) {
        pod.topology_spread.push(random_spread(g, false));
    }
    if pod.topology_spread.is_empty() && g.chance(40) {
        pod.default_spread_selector = Some(selector(vec![requirement(
            "app",
            SelectorOperator::In,
            &["a"],
        )]));
    }
    if g.chance(40) {
        pod.images = vec![
            g.pick(&["nginx:latest", "redis:7", "busybox:latest"])
                .to_string(),
        ];
    }
    pod
}

fn fits(node: &NodeInfo, placed: &[PodInfo], pod: &PodInfo) -> bool {
    let on_node: Vec<&PodInfo> = placed
        .iter()
        .filter(|p| p.node_name.as_deref() == Some(node.name.as_str()))
        .collect();
    let cpu: i64 = on_node.iter().map(|p| p.requests.milli_cpu).sum();
    let memory: i64 = on_node.iter().map(|p| p.requests.memory_bytes).sum();
    let gpu: i64 = on_node
        .iter()
        .map(|p| p.requests.extended_amount("example.com/gpu"))
        .sum();
    let storage: i64 = on_node
        .iter()
        .map(|p| p.requests.ephemeral_storage_bytes)
        .sum();
    (on_node.len() as i64) < node.allocatable_pods
        && cpu + pod.requests.milli_cpu <= node.allocatable.milli_cpu
        && memory + pod.requests.memory_bytes <= node.allocatable.memory_bytes
        && gpu + pod.requests.extended_amount("example.com/gpu")
            <= node.allocatable.extended_amount("example.com/gpu")
        && storage + pod.requests.ephemeral_storage_bytes
            <= node.allocatable.ephemeral_storage_bytes
}

/// A random scenario; existing pods are placed only where their resources fit.
pub fn random_scenario(seed: u64, incoming_count: usize) -> Scenario {
    let mut g = Gen(SplitMix64::new(seed));
    let node_count = 1 + g.below(9) as usize;
    let nodes: Vec<NodeInfo> = (0..node_count).map(|i| random_node(&mut g, i)).collect();
    let mut existing = Vec::new();
    let existing_count = g.below(16) as usize;
    for uid in 0..existing_count {
        let mut pod = random_pod(&mut g, uid, node_count, false);
        let node = &nodes[g.below(node_count as u64) as usize];
        if fits(node, &existing, &pod) {
            pod.node_name = Some(node.name.clone());
            existing.push(pod);
        }
    }
    let incoming = (0..incoming_count)
        .map(|i| random_pod(&mut g, 1000 + i, node_count, true))
        .collect();
    let namespaces = vec![
        ("ns0".to_string(), labels(&[("team", "x")])),
        ("ns1".to_string(), labels(&[("team", "y")])),
    ];
    let mut pdbs = Vec::new();
    if g.chance(50) {
        pdbs.push(PodDisruptionBudgetInfo {
            namespace: "ns0".into(),
            name: "pdb-a".into(),
            selector: selector(vec![requirement("app", SelectorOperator::In, &["a"])]),
            disruptions_allowed: g.below(2) as i64,
            disrupted_pods: BTreeSet::new(),
        });
    }
    Scenario {
        nodes,
        existing,
        incoming,
        namespaces,
        pdbs,
        nominated: Vec::new(),
    }
}

impl Scenario {
    /// Turns about a third of the existing pods into pods nominated to the
    /// node they were on (unbound, reserving room there), with their
    /// priorities kept.
    pub fn nominate_some(&mut self, seed: u64) {
        let mut g = Gen(SplitMix64::new(seed ^ 0x6e6f_6d69));
        let mut kept = Vec::new();
        for mut pod in std::mem::take(&mut self.existing) {
            if g.chance(33) {
                pod.nominated_node_name = pod.node_name.take();
                self.nominated.push(pod);
            } else {
                kept.push(pod);
            }
        }
        self.existing = kept;
    }

    pub fn cluster_state(&self) -> ClusterState {
        let mut state = ClusterState::new();
        for (name, labels) in &self.namespaces {
            state.apply(ClusterEvent::NamespaceUpserted {
                name: name.clone(),
                labels: labels.clone(),
            });
        }
        for node in &self.nodes {
            state.apply(ClusterEvent::NodeUpserted(node.clone()));
        }
        for pod in &self.existing {
            state.apply(ClusterEvent::PodUpserted(Arc::new(pod.clone())));
        }
        for pdb in &self.pdbs {
            state.apply(ClusterEvent::PdbUpserted(pdb.clone()));
        }
        for pod in &self.nominated {
            state.apply(ClusterEvent::PodUpserted(Arc::new(pod.clone())));
        }
        state
    }

    pub fn naive(&self) -> NaiveCluster {
        NaiveCluster {
            nodes: self.nodes.clone(),
            pods: self.existing.clone(),
            nominated: self.nominated.clone(),
            namespace_labels: self.namespaces.iter().cloned().collect(),
            pdbs: self.pdbs.clone(),
        }
    }
}
