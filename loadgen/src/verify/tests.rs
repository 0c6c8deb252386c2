//! Synthetic recordings, each planting one kind of violation (or none).

use api::k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

use super::{EventType, Recording, Violation, verify};

/// Builds a recording event by event, numbering revisions.
struct Builder {
    recording: Recording,
    revision: u64,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            recording: Recording::default(),
            revision: 0,
        }
    }

    fn next_revision(&mut self) -> String {
        self.revision += 1;
        self.revision.to_string()
    }

    /// A node with `cpu` millicores, 110 pods, and extra labels/taints.
    fn node(&mut self, name: &str, cpu_milli: i64, labels: Value, taints: Value) -> &mut Builder {
        let mut all_labels = json!({"kubernetes.io/hostname": name});
        if let (Some(all), Some(extra)) = (all_labels.as_object_mut(), labels.as_object()) {
            all.extend(extra.clone());
        }
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": all_labels, "resourceVersion": self.next_revision()},
            "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": format!("{cpu_milli}m"), "memory": "8Gi", "pods": "110"}},
        }))
        .unwrap();
        self.recording.record_node(EventType::Added, 0, &node);
        self
    }

    fn pod_object(
        &mut self,
        spec: &PodSpec<'_>,
        node: Option<&str>,
        nominated: Option<&str>,
        deleting: bool,
    ) -> Pod {
        let mut spec_json = json!({
            "containers": [{"name": "c", "image": "pause",
                "resources": {"requests": {"cpu": format!("{}m", spec.cpu_milli)}}}],
            "priority": spec.priority,
        });
        if let Some(object) = spec_json.as_object_mut() {
            if let Some(extra) = spec.extra.as_object() {
                object.extend(extra.clone());
            }
            if let Some(node) = node {
                object.insert("nodeName".to_string(), json!(node));
            }
        }
        let mut metadata = json!({
            "name": spec.name, "namespace": "ns", "uid": format!("uid-{}", spec.name),
            "labels": spec.labels, "resourceVersion": self.next_revision(),
        });
        if deleting && let Some(object) = metadata.as_object_mut() {
            object.insert(
                "deletionTimestamp".to_string(),
                json!("2026-01-01T00:00:00Z"),
            );
        }
        serde_json::from_value(json!({
            "metadata": metadata,
            "spec": spec_json,
            "status": {"nominatedNodeName": nominated},
        }))
        .unwrap()
    }

    fn created(&mut self, spec: &PodSpec<'_>) -> &mut Builder {
        let pod = self.pod_object(spec, None, None, false);
        self.recording.record_pod(EventType::Added, 0, &pod);
        self
    }

    fn bound(&mut self, spec: &PodSpec<'_>, node: &str) -> &mut Builder {
        let pod = self.pod_object(spec, Some(node), None, false);
        self.recording.record_pod(EventType::Modified, 0, &pod);
        self
    }

    fn create_and_bind(&mut self, spec: &PodSpec<'_>, node: &str) -> &mut Builder {
        self.created(spec).bound(spec, node)
    }

    fn nominated(&mut self, spec: &PodSpec<'_>, node: &str) -> &mut Builder {
        let pod = self.pod_object(spec, None, Some(node), false);
        self.recording.record_pod(EventType::Modified, 0, &pod);
        self
    }

    fn deleted(&mut self, spec: &PodSpec<'_>, node: &str) -> &mut Builder {
        let pod = self.pod_object(spec, Some(node), None, true);
        self.recording.record_pod(EventType::Deleted, 0, &pod);
        self
    }

    fn violations(&self) -> Vec<Violation> {
        let report = verify(&self.recording);
        assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
        report.violations
    }
}

/// The parts of a test pod that vary.
struct PodSpec<'a> {
    name: &'a str,
    cpu_milli: i64,
    priority: i32,
    labels: Value,
    extra: Value,
}

fn pod(name: &str) -> PodSpec<'_> {
    PodSpec {
        name,
        cpu_milli: 100,
        priority: 0,
        labels: json!({}),
        extra: json!({}),
    }
}

fn anti_affinity_pod<'a>(name: &'a str, key: &str) -> PodSpec<'a> {
    PodSpec {
        labels: json!({"app": "x"}),
        extra: json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": key}
        ]}}}),
        ..pod(name)
    }
}

fn spread_pod(name: &str) -> PodSpec<'_> {
    PodSpec {
        labels: json!({"app": "s"}),
        extra: json!({"topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "s"}}
        }]}),
        ..pod(name)
    }
}

fn two_zones(builder: &mut Builder) -> &mut Builder {
    builder
        .node("a1", 4000, json!({"zone": "a"}), json!([]))
        .node("a2", 4000, json!({"zone": "a"}), json!([]))
        .node("b1", 4000, json!({"zone": "b"}), json!([]))
}

fn kinds(violations: &[Violation]) -> Vec<&'static str> {
    violations
        .iter()
        .map(|violation| match violation {
            Violation::Rebound { .. } => "rebound",
            Violation::UnknownNode { .. } => "unknown-node",
            Violation::Overcommit { .. } => "overcommit",
            Violation::Constraint { .. } => "constraint",
            Violation::PriorityInversion { .. } => "priority-inversion",
            Violation::UnexplainedDeletion { .. } => "unexplained-deletion",
            Violation::FinalStateMismatch { .. } => "final-state",
            Violation::IncompleteRecording { .. } => "incomplete",
        })
        .collect()
}

#[test]
fn clean_recording_passes() {
    let mut b = Builder::new();
    two_zones(&mut b);
    b.create_and_bind(&pod("p1"), "a1")
        .create_and_bind(&anti_affinity_pod("x1", "kubernetes.io/hostname"), "a1")
        .create_and_bind(&anti_affinity_pod("x2", "kubernetes.io/hostname"), "a2")
        .create_and_bind(&spread_pod("s1"), "a1")
        .create_and_bind(&spread_pod("s2"), "b1")
        .create_and_bind(&spread_pod("s3"), "a2");
    // A preemption: low fills, high is nominated, low is deleted, high binds.
    let low = PodSpec {
        priority: 10,
        cpu_milli: 3000,
        ..pod("low")
    };
    let high = PodSpec {
        priority: 1000,
        cpu_milli: 3000,
        ..pod("high")
    };
    b.create_and_bind(&low, "b1")
        .created(&high)
        .nominated(&high, "b1")
        .deleted(&low, "b1")
        .bound(&high, "b1");
    let pods: Vec<Pod> = Vec::new();
    let listed = b.revision.to_string();
    b.recording.set_final_pods(&pods, &listed);
    let report = verify(&b.recording);
    assert_eq!(report.violations, Vec::new());
    assert_eq!(report.binds, 8);
    assert_eq!(report.preemption_victims, 1);
}

#[test]
fn overcommit_is_caught() {
    let mut b = Builder::new();
    b.node("n1", 1000, json!({}), json!([]));
    let big = |name| PodSpec {
        cpu_milli: 600,
        ..pod(name)
    };
    b.create_and_bind(&big("p1"), "n1")
        .create_and_bind(&big("p2"), "n1");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["overcommit"]);
    assert!(
        violations[0]
            .to_string()
            .contains("node n1 cpu requested 1200m > allocatable 1000m after binding ns/p2"),
        "{}",
        violations[0]
    );
}

#[test]
fn pods_count_overcommit_is_caught() {
    let mut b = Builder::new();
    b.node("n1", 100_000, json!({}), json!([]));
    for i in 0..111 {
        let name = format!("p{i}");
        b.create_and_bind(
            &PodSpec {
                cpu_milli: 1,
                ..pod(&name)
            },
            "n1",
        );
    }
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["overcommit"]);
    assert!(
        violations[0]
            .to_string()
            .contains("pods requested 111 > allocatable 110")
    );
}

#[test]
fn deleted_pods_free_their_resources() {
    let mut b = Builder::new();
    b.node("n1", 1000, json!({}), json!([]));
    let big = |name| PodSpec {
        cpu_milli: 600,
        ..pod(name)
    };
    b.create_and_bind(&big("p1"), "n1");
    b.recording.driver_deleted.insert("uid-p1".to_string());
    b.deleted(&big("p1"), "n1")
        .create_and_bind(&big("p2"), "n1");
    assert_eq!(b.violations(), Vec::new());
}

#[test]
fn double_bind_is_caught() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]))
        .node("n2", 4000, json!({}), json!([]));
    b.create_and_bind(&pod("p1"), "n1").bound(&pod("p1"), "n2");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["rebound"]);
    assert!(
        violations[0]
            .to_string()
            .contains("pod ns/p1 bound to n1, then to n2")
    );
}

#[test]
fn anti_affinity_violation_is_caught() {
    let mut b = Builder::new();
    two_zones(&mut b);
    b.create_and_bind(&anti_affinity_pod("x1", "zone"), "a1")
        .create_and_bind(&anti_affinity_pod("x2", "zone"), "a2");
    let violations = b.violations();
    // The incoming pod's own term and the existing pod's term (symmetry).
    assert_eq!(kinds(&violations), ["constraint", "constraint"]);
    assert!(
        violations[0]
            .to_string()
            .contains("pod ns/x2 on node a2: required pod anti-affinity on zone: ns/x1")
    );
}

#[test]
fn existing_pods_anti_affinity_is_enforced() {
    let mut b = Builder::new();
    two_zones(&mut b);
    let plain = PodSpec {
        labels: json!({"app": "x"}),
        ..pod("plain")
    };
    b.create_and_bind(&anti_affinity_pod("x1", "kubernetes.io/hostname"), "a1")
        .create_and_bind(&plain, "a1");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["constraint"]);
    assert!(
        violations[0]
            .to_string()
            .contains("existing pod ns/x1's required anti-affinity")
    );
}

#[test]
fn spread_violation_is_caught() {
    let mut b = Builder::new();
    two_zones(&mut b);
    b.create_and_bind(&spread_pod("s1"), "a1")
        .create_and_bind(&spread_pod("s2"), "a2");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["constraint"]);
    assert!(
        violations[0].to_string().contains("skew 2 > maxSkew 1"),
        "{}",
        violations[0]
    );
}

#[test]
fn priority_inversion_is_caught() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    let victim = PodSpec {
        priority: 1000,
        cpu_milli: 3000,
        ..pod("victim")
    };
    let preemptor = PodSpec {
        priority: 100,
        cpu_milli: 3000,
        ..pod("preemptor")
    };
    b.create_and_bind(&victim, "n1")
        .created(&preemptor)
        .nominated(&preemptor, "n1")
        .deleted(&victim, "n1")
        .bound(&preemptor, "n1");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["priority-inversion"]);
    assert!(
        violations[0]
            .to_string()
            .contains("victim ns/victim (priority 1000)")
    );
}

#[test]
fn victim_deleted_before_the_nomination_is_matched_to_it() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    let victim = PodSpec {
        priority: 5,
        cpu_milli: 3000,
        ..pod("victim")
    };
    let preemptor = PodSpec {
        priority: 1,
        cpu_milli: 3000,
        ..pod("preemptor")
    };
    b.create_and_bind(&victim, "n1")
        .created(&preemptor)
        .deleted(&victim, "n1")
        .nominated(&preemptor, "n1");
    assert_eq!(kinds(&b.violations()), ["priority-inversion"]);
}

#[test]
fn deletion_without_preemptor_is_reported() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    b.create_and_bind(&pod("p1"), "n1")
        .deleted(&pod("p1"), "n1");
    assert_eq!(kinds(&b.violations()), ["unexplained-deletion"]);
}

#[test]
fn taints_and_node_affinity_are_checked() {
    let mut b = Builder::new();
    b.node(
        "tainted",
        4000,
        json!({}),
        json!([{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]),
    )
    .node("plain", 4000, json!({"pool": "a"}), json!([]));
    let tolerant = PodSpec {
        extra: json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]}),
        ..pod("tolerant")
    };
    let picky = PodSpec {
        extra: json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}]}}}}),
        ..pod("picky")
    };
    let selecting = PodSpec {
        extra: json!({"nodeSelector": {"pool": "a"}}),
        ..pod("selecting")
    };
    b.create_and_bind(&tolerant, "tainted")
        .create_and_bind(&picky, "plain")
        .create_and_bind(&selecting, "plain");
    assert_eq!(b.violations(), Vec::new());
    b.create_and_bind(&pod("intolerant"), "tainted")
        .create_and_bind(
            &PodSpec {
                name: "picky2",
                ..picky
            },
            "tainted",
        );
    let violations = b.violations();
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:?}");
    assert!(
        text[0].contains(
            "ns/intolerant on node tainted: untolerated taint dedicated=infra:NoSchedule"
        )
    );
    assert!(
        text[2].contains(
            "ns/picky2 on node tainted: nodeSelector / required node affinity not matched"
        )
    );
}

#[test]
fn pod_affinity_allows_the_first_pod_and_requires_the_group_after() {
    let mut b = Builder::new();
    two_zones(&mut b);
    let member = |name| PodSpec {
        labels: json!({"team": "t"}),
        extra: json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"team": "t"}}, "topologyKey": "zone"}
        ]}}}),
        ..pod(name)
    };
    b.create_and_bind(&member("m1"), "b1")
        .create_and_bind(&member("m2"), "b1");
    assert_eq!(b.violations(), Vec::new());
    b.create_and_bind(&member("m3"), "a1");
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["constraint"]);
    assert!(
        violations[0]
            .to_string()
            .contains("ns/m3 on node a1: required pod affinity not satisfied")
    );
}

#[test]
fn final_state_must_agree_with_the_replay() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]))
        .node("n2", 4000, json!({}), json!([]));
    b.create_and_bind(&pod("p1"), "n1");
    let moved = b.pod_object(&pod("p1"), Some("n2"), None, false);
    let listed = b.revision.to_string();
    b.recording.set_final_pods(&[moved], &listed);
    assert_eq!(kinds(&b.violations()), ["final-state"]);
}

/// The watch records on after the final listing: a pod bound after it is
/// unbound in the listing, which is no violation; a bind the listing should
/// show but does not still is one.
#[test]
fn final_state_is_compared_as_of_the_listing() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    b.create_and_bind(&pod("early"), "n1").created(&pod("late"));
    let early_bound = b.pod_object(&pod("early"), Some("n1"), None, false);
    let early_unbound = b.pod_object(&pod("early"), None, None, false);
    let late_unbound = b.pod_object(&pod("late"), None, None, false);
    let listed = b.revision.to_string();
    b.bound(&pod("late"), "n1");

    b.recording
        .set_final_pods(&[early_bound.clone(), late_unbound.clone()], &listed);
    assert_eq!(b.violations(), Vec::new());

    b.recording
        .set_final_pods(&[early_unbound, late_unbound.clone()], &listed);
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["final-state"]);
    assert!(
        violations[0]
            .to_string()
            .contains("pod ns/early: bound to None at the end, Some(\"n1\") in the recording"),
        "{violations:?}"
    );

    // Listed after the late bind, the late pod must be bound.
    let after_bind = b.revision.to_string();
    b.recording
        .set_final_pods(&[early_bound, late_unbound], &after_bind);
    let violations = b.violations();
    assert_eq!(kinds(&violations), ["final-state"]);
    assert!(
        violations[0].to_string().contains("pod ns/late"),
        "{violations:?}"
    );
}

#[test]
fn the_watch_catches_up_with_a_listing_pod_by_pod() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    b.created(&pod("p1"));
    let listed = b.pod_object(&pod("p1"), Some("n1"), None, false);
    let never_watched = b.pod_object(&pod("p2"), None, None, false);
    assert_eq!(b.recording.not_yet_seen(std::slice::from_ref(&listed)), 1);
    b.recording.record_pod(EventType::Modified, 0, &listed);
    assert_eq!(b.recording.not_yet_seen(std::slice::from_ref(&listed)), 0);
    assert_eq!(b.recording.not_yet_seen(&[listed, never_watched]), 1);
}

#[test]
fn relists_make_the_recording_incomplete() {
    let mut b = Builder::new();
    b.recording.relists = 1;
    assert_eq!(kinds(&b.violations()), ["incomplete"]);
}

#[test]
fn recording_round_trips_through_json() {
    let mut b = Builder::new();
    two_zones(&mut b);
    b.create_and_bind(&spread_pod("s1"), "a1")
        .create_and_bind(&spread_pod("s2"), "a2");
    let text = serde_json::to_string(&b.recording).unwrap();
    let back: Recording = serde_json::from_str(&text).unwrap();
    assert_eq!(verify(&back).violations, verify(&b.recording).violations);
    assert_eq!(back.events.len(), b.recording.events.len());
}

#[test]
fn spread_skew_repaired_by_binds_in_flight_passes() {
    // The scheduler decided s1→a, s3→b, s2→a, s4→b; the binds landed as
    // s1, s2, s3, s4: a transient skew of 2 that later binds repair.
    let mut b = Builder::new();
    two_zones(&mut b);
    b.create_and_bind(&spread_pod("s1"), "a1")
        .create_and_bind(&spread_pod("s2"), "a2")
        .create_and_bind(&spread_pod("s3"), "b1")
        .create_and_bind(&spread_pod("s4"), "b1");
    assert_eq!(b.violations(), Vec::new());
}

#[test]
fn victim_without_nomination_is_matched_to_the_next_bind_on_its_node() {
    let mut b = Builder::new();
    b.node("n1", 4000, json!({}), json!([]));
    let victim = PodSpec {
        priority: 5,
        cpu_milli: 3000,
        ..pod("victim")
    };
    let preemptor = PodSpec {
        priority: 50,
        cpu_milli: 3000,
        ..pod("preemptor")
    };
    b.create_and_bind(&victim, "n1")
        .created(&preemptor)
        .deleted(&victim, "n1")
        .bound(&preemptor, "n1");
    assert_eq!(b.violations(), Vec::new());
    let low = PodSpec {
        priority: 1,
        ..pod("low")
    };
    let other = PodSpec {
        priority: 7,
        ..pod("other")
    };
    b.create_and_bind(&other, "n1")
        .deleted(&other, "n1")
        .create_and_bind(&low, "n1");
    assert_eq!(kinds(&b.violations()), ["priority-inversion"]);
}
