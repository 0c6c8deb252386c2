//! Plugin unit tests modelled on the examples of the Kubernetes
//! documentation (taints and tolerations, node affinity, inter-pod
//! affinity, topology spread, resource fit) and kube-scheduler's own tests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::cluster::{ClusterEvent, ClusterState};
use crate::model::*;
use crate::profile::{Profile, ScoringStrategy, ShapePoint};
use crate::schedule::{
    Decision, SCORE_BALANCED, SCORE_FIT, SchedulingContext, filter_node, plugin_scores, prepare,
    schedule_one,
};
use crate::table::snapshot::Snapshot;

const GI: i64 = 1024 * 1024 * 1024;

fn node(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
    let mut all: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.insert("kubernetes.io/hostname".into(), name.into());
    NodeInfo {
        name: name.into(),
        labels: all,
        allocatable: ResourceAmounts {
            milli_cpu: 4000,
            memory_bytes: 16 * GI,
            ..ResourceAmounts::default()
        },
        allocatable_pods: 110,
        ..NodeInfo::default()
    }
}

fn pod(name: &str, labels: &[(&str, &str)]) -> PodInfo {
    PodInfo {
        uid: name.into(),
        name: name.into(),
        namespace: "default".into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        nonzero_milli_cpu: 100,
        nonzero_memory_bytes: 200 * 1024 * 1024,
        scheduler_name: "default-scheduler".into(),
        ..PodInfo::default()
    }
}

fn on(mut pod: PodInfo, node: &str) -> PodInfo {
    pod.node_name = Some(node.into());
    pod
}

fn snapshot(nodes: Vec<NodeInfo>, pods: Vec<PodInfo>) -> Arc<Snapshot> {
    let mut state = ClusterState::new();
    state.apply(ClusterEvent::NamespaceUpserted {
        name: "default".into(),
        labels: BTreeMap::new(),
    });
    for node in nodes {
        state.apply(ClusterEvent::NodeUpserted(node));
    }
    for pod in pods {
        state.apply(ClusterEvent::PodUpserted(Arc::new(pod)));
    }
    state.publish()
}

/// Filters every node: node name → `Ok` or the reason texts.
fn check(snapshot: &Snapshot, pod: &PodInfo) -> BTreeMap<String, Result<(), Vec<String>>> {
    let profile = Profile::exact();
    let prepared = prepare(snapshot, pod, &profile);
    snapshot
        .node_order()
        .iter()
        .map(|node| {
            let verdict = filter_node(snapshot, &prepared, *node)
                .map_err(|rejection| rejection.messages(snapshot, &prepared.fit.unknown_resources));
            (snapshot.node_name(*node).to_string(), verdict)
        })
        .collect()
}

fn feasible(snapshot: &Snapshot, pod: &PodInfo) -> Vec<String> {
    check(snapshot, pod)
        .into_iter()
        .filter(|(_, verdict)| verdict.is_ok())
        .map(|(name, _)| name)
        .collect()
}

fn message(snapshot: &Snapshot, pod: &PodInfo) -> String {
    match schedule_one(
        snapshot,
        pod,
        &Profile::exact(),
        &mut SchedulingContext::new(1),
    ) {
        Decision::Unschedulable(error) => error.message(),
        Decision::Scheduled(placement) => {
            format!("scheduled on {}", snapshot.node_name(placement.node))
        }
    }
}

fn term(key: &str, operator: SelectorOperator, values: &[&str]) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: vec![LabelRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }],
        match_fields: Vec::new(),
    }
}

fn app_term(app: &str, topology_key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        selector: LabelSelector {
            requirements: vec![LabelRequirement {
                key: "app".into(),
                operator: SelectorOperator::In,
                values: vec![app.into()],
            }],
            matches_nothing: false,
        },
        namespaces: BTreeSet::from(["default".to_string()]),
        namespace_selector: None,
        topology_key: topology_key.into(),
    }
}

#[test]
fn untolerated_taint_rejects_with_kube_message() {
    let mut tainted = node("node1", &[]);
    tainted.taints.push(Taint {
        key: "key1".into(),
        value: "value1".into(),
        effect: TaintEffect::NoSchedule,
    });
    let snapshot = snapshot(vec![tainted, node("node2", &[])], vec![]);
    let plain = pod("nginx", &[]);
    assert_eq!(feasible(&snapshot, &plain), ["node2"]);
    let mut only_tainted = plain.clone();
    only_tainted.node_name = Some("node1".into());
    assert_eq!(
        message(&snapshot, &only_tainted),
        "0/2 nodes are available: 1 node(s) didn't match the requested node name, \
         1 node(s) had untolerated taint {key1: value1}."
    );
    for toleration in [
        Toleration {
            key: "key1".into(),
            operator: TolerationOperator::Equal,
            value: "value1".into(),
            effect: Some(TaintEffect::NoSchedule),
        },
        Toleration {
            key: "key1".into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoSchedule),
        },
    ] {
        let mut tolerating = plain.clone();
        tolerating.tolerations.push(toleration);
        assert_eq!(feasible(&snapshot, &tolerating), ["node1", "node2"]);
    }
}

#[test]
fn unschedulable_node_needs_its_toleration() {
    let mut cordoned = node("node1", &[]);
    cordoned.unschedulable = true;
    let snapshot = snapshot(vec![cordoned], vec![]);
    let mut pod = pod("p", &[]);
    assert_eq!(
        message(&snapshot, &pod),
        "0/1 nodes are available: 1 node(s) were unschedulable."
    );
    pod.tolerations.push(Toleration {
        key: "node.kubernetes.io/unschedulable".into(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect: Some(TaintEffect::NoSchedule),
    });
    assert_eq!(feasible(&snapshot, &pod), ["node1"]);
}

#[test]
fn node_affinity_documentation_example() {
    let snapshot = snapshot(
        vec![
            node(
                "east",
                &[
                    ("topology.kubernetes.io/zone", "antarctica-east1"),
                    ("num", "5"),
                ],
            ),
            node(
                "west",
                &[
                    ("topology.kubernetes.io/zone", "antarctica-west1"),
                    ("another-node-label-key", "another-node-label-value"),
                ],
            ),
            node("north", &[("topology.kubernetes.io/zone", "arctic-1")]),
        ],
        vec![],
    );
    let mut pod = pod("with-node-affinity", &[]);
    pod.required_node_terms = Some(vec![term(
        "topology.kubernetes.io/zone",
        SelectorOperator::In,
        &["antarctica-east1", "antarctica-west1"],
    )]);
    pod.preferred_node_terms.push(PreferredNodeTerm {
        weight: 1,
        term: term(
            "another-node-label-key",
            SelectorOperator::In,
            &["another-node-label-value"],
        ),
    });
    assert_eq!(feasible(&snapshot, &pod), ["east", "west"]);
    assert_eq!(message(&snapshot, &pod), "scheduled on west");

    let mut numeric = crate::plugins::tests::pod("gt", &[]);
    numeric.required_node_terms = Some(vec![term("num", SelectorOperator::Gt, &["3"])]);
    assert_eq!(feasible(&snapshot, &numeric), ["east"]);
    numeric.required_node_terms = Some(vec![term("num", SelectorOperator::Lt, &["3"])]);
    assert!(feasible(&snapshot, &numeric).is_empty());

    let mut by_name = crate::plugins::tests::pod("fields", &[]);
    by_name.required_node_terms = Some(vec![NodeSelectorTerm {
        match_expressions: Vec::new(),
        match_fields: vec![NodeNameRequirement {
            operator: SelectorOperator::In,
            values: vec!["north".into()],
        }],
    }]);
    assert_eq!(feasible(&snapshot, &by_name), ["north"]);
    by_name.node_selector.insert(
        "topology.kubernetes.io/zone".into(),
        "antarctica-east1".into(),
    );
    assert_eq!(
        message(&snapshot, &by_name),
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    );
}

#[test]
fn anti_affinity_spreads_replicas_one_per_node() {
    // The redis-cache example: replicas refuse to share a hostname.
    let nodes = vec![node("a", &[]), node("b", &[]), node("c", &[])];
    let mut replica = pod("redis", &[("app", "store")]);
    replica
        .required_anti_affinity
        .push(app_term("store", "kubernetes.io/hostname"));
    let existing = vec![on(replica.clone(), "a"), {
        let mut second = on(replica.clone(), "b");
        second.uid = "redis-2".into();
        second
    }];
    let snapshot = snapshot(nodes, existing);
    let mut next = replica.clone();
    next.uid = "redis-3".into();
    assert_eq!(feasible(&snapshot, &next), ["c"]);
    let verdicts = check(&snapshot, &next);
    assert_eq!(
        verdicts["a"],
        Err(vec![
            "node(s) didn't match pod anti-affinity rules".to_string()
        ])
    );
    // A pod without terms is still kept away by the existing pods' terms.
    let mut store_pod = pod("plain-store", &[("app", "store")]);
    store_pod.uid = "plain".into();
    assert_eq!(
        check(&snapshot, &store_pod)["b"],
        Err(vec![
            "node(s) didn't satisfy existing pods anti-affinity rules".to_string()
        ])
    );
}

#[test]
fn affinity_allows_the_first_pod_of_a_group() {
    let snapshot = snapshot(vec![node("a", &[("zone", "z1")]), node("b", &[])], vec![]);
    let mut web = pod("web", &[("app", "web")]);
    web.required_affinity.push(app_term("store", "zone"));
    assert_eq!(
        message(&snapshot, &web),
        "0/2 nodes are available: 2 node(s) didn't match pod affinity rules."
    );
    // A pod matching its own terms may go first (but only where the key exists).
    let mut store = pod("store", &[("app", "store")]);
    store.required_affinity.push(app_term("store", "zone"));
    assert_eq!(feasible(&snapshot, &store), ["a"]);
}

#[test]
fn topology_spread_documentation_example() {
    // Two zones, two nodes each; zoneA holds two `foo: bar` pods, zoneB one.
    let nodes = vec![
        node("node1", &[("zone", "zoneA")]),
        node("node2", &[("zone", "zoneA")]),
        node("node3", &[("zone", "zoneB")]),
        node("node4", &[("zone", "zoneB")]),
    ];
    let existing = vec![
        on(pod("p1", &[("foo", "bar")]), "node1"),
        on(pod("p2", &[("foo", "bar")]), "node2"),
        on(pod("p3", &[("foo", "bar")]), "node3"),
    ];
    let snapshot = snapshot(nodes, existing);
    let mut mypod = pod("mypod", &[("foo", "bar")]);
    mypod.topology_spread.push(TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "zone".into(),
        when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
        selector: LabelSelector {
            requirements: vec![LabelRequirement {
                key: "foo".into(),
                operator: SelectorOperator::In,
                values: vec!["bar".into()],
            }],
            matches_nothing: false,
        },
        min_domains: 1,
        node_affinity_policy: InclusionPolicy::Honor,
        node_taints_policy: InclusionPolicy::Ignore,
    });
    assert_eq!(feasible(&snapshot, &mypod), ["node3", "node4"]);
    assert_eq!(
        check(&snapshot, &mypod)["node1"],
        Err(vec![
            "node(s) didn't match pod topology spread constraints".to_string()
        ])
    );
    // minDomains 3 with two domains: the global minimum counts as 0.
    mypod.topology_spread[0].min_domains = 3;
    assert!(feasible(&snapshot, &mypod).is_empty());
}

#[test]
fn resource_fit_reports_every_insufficient_resource() {
    let mut small = node("small", &[]);
    small.allocatable_pods = 1;
    let snapshot = snapshot(
        vec![small, node("big", &[])],
        vec![on(pod("running", &[]), "small")],
    );
    let mut hungry = pod("hungry", &[]);
    hungry.requests.milli_cpu = 5000;
    hungry.requests.memory_bytes = 32 * GI;
    hungry.requests.add_extended("example.com/gpu", 1);
    assert_eq!(
        message(&snapshot, &hungry),
        "0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu, \
         2 Insufficient example.com/gpu, 2 Insufficient memory."
    );
}

#[test]
fn host_port_conflicts() {
    let mut web = pod("web", &[]);
    web.host_ports.push(HostPort {
        host_ip: "0.0.0.0".into(),
        protocol: Protocol::Tcp,
        port: 80,
    });
    let snapshot = snapshot(
        vec![node("a", &[]), node("b", &[])],
        vec![on(web.clone(), "a")],
    );
    let mut second = web.clone();
    second.uid = "web-2".into();
    assert_eq!(feasible(&snapshot, &second), ["b"]);
    second.host_ports[0].protocol = Protocol::Udp;
    assert_eq!(feasible(&snapshot, &second), ["a", "b"]);
}

#[test]
fn least_allocated_and_balanced_scores() {
    // kube-scheduler's test: nodes (4000m, 10000) and (6000m, 10000), pod (3000m, 5000).
    let mut first = node("first", &[]);
    first.allocatable.milli_cpu = 4000;
    first.allocatable.memory_bytes = 10000;
    let mut second = node("second", &[]);
    second.allocatable.milli_cpu = 6000;
    second.allocatable.memory_bytes = 10000;
    let snapshot = snapshot(vec![first, second], vec![]);
    let mut pod = pod("p", &[]);
    pod.requests.milli_cpu = 3000;
    pod.requests.memory_bytes = 5000;
    pod.nonzero_milli_cpu = 3000;
    pod.nonzero_memory_bytes = 5000;
    let nodes: Vec<NodeIdx> = snapshot.node_order().to_vec();
    let profile = Profile::exact();
    let rows = plugin_scores(&snapshot, &prepare(&snapshot, &pod, &profile), &nodes);
    assert_eq!((rows[0][SCORE_FIT], rows[1][SCORE_FIT]), (37, 50));
    assert_eq!(
        (rows[0][SCORE_BALANCED], rows[1][SCORE_BALANCED]),
        (87, 100)
    );

    let most = Profile {
        fit_strategy: ScoringStrategy::MostAllocated,
        ..Profile::exact()
    };
    let rows = plugin_scores(&snapshot, &prepare(&snapshot, &pod, &most), &nodes);
    assert_eq!((rows[0][SCORE_FIT], rows[1][SCORE_FIT]), (62, 50));

    let ratio = Profile {
        fit_strategy: ScoringStrategy::RequestedToCapacityRatio {
            shape: vec![
                ShapePoint {
                    utilization: 0,
                    score: 10,
                },
                ShapePoint {
                    utilization: 100,
                    score: 0,
                },
            ],
        },
        ..Profile::exact()
    };
    let rows = plugin_scores(&snapshot, &prepare(&snapshot, &pod, &ratio), &nodes);
    // Utilization 75%/50% → 25/50, mean 38 (rounded); 50%/50% → 50.
    assert_eq!((rows[0][SCORE_FIT], rows[1][SCORE_FIT]), (38, 50));
}

#[test]
fn prefer_no_schedule_taint_lowers_the_score() {
    let mut spot = node("spot", &[]);
    spot.taints.push(Taint {
        key: "spot".into(),
        value: String::new(),
        effect: TaintEffect::PreferNoSchedule,
    });
    let snapshot = snapshot(vec![spot, node("regular", &[])], vec![]);
    assert_eq!(message(&snapshot, &pod("p", &[])), "scheduled on regular");
}

#[test]
fn relabelled_node_moves_its_pods_to_the_new_domain() {
    let mut state = ClusterState::new();
    state.apply(ClusterEvent::NodeUpserted(node("n1", &[("zone", "a")])));
    state.apply(ClusterEvent::NodeUpserted(node("n2", &[("zone", "b")])));
    let mut store = pod("store", &[("app", "store")]);
    store.node_name = Some("n1".into());
    state.apply(ClusterEvent::PodUpserted(Arc::new(store)));
    let mut web = pod("web", &[("app", "web")]);
    web.required_affinity.push(app_term("store", "zone"));
    let before = state.publish();
    assert_eq!(feasible(&before, &web), ["n1"]);
    state.apply(ClusterEvent::NodeUpserted(node("n1", &[("zone", "b")])));
    let after = state.publish();
    assert_eq!(feasible(&after, &web), ["n1", "n2"]);
    // The published snapshot taken before the change is untouched.
    assert_eq!(feasible(&before, &web), ["n1"]);
    assert_eq!(
        after.requested(
            crate::table::snapshot::RESOURCE_PODS,
            after.node_by_name("n1").expect("n1")
        ),
        1
    );
}
