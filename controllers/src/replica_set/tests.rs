use std::collections::BTreeMap;

use api::k8s_openapi::api::apps::v1::ReplicaSetSpec;
use api::k8s_openapi::api::core::v1::{Container, PodCondition, PodSpec, PodStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};

use super::*;

const NOW: i64 = 1_800_000_000;

fn at(seconds_ago: i64) -> Timestamp {
    Timestamp::from_second(NOW - seconds_ago).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn labels(app: &str) -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([("app".to_string(), app.to_string())]))
}

fn replica_set(replicas: i32, min_ready_seconds: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("rs-uid".into()),
            generation: Some(3),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: Some(min_ready_seconds),
            selector: LabelSelector {
                match_labels: labels("web"),
                ..LabelSelector::default()
            },
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: labels("web"),
                    annotations: Some(BTreeMap::from([("note".to_string(), "x".to_string())])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "c".into(),
                        image: Some("nginx".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            }),
        }),
        status: None,
    }
}

/// A pod of `app`, owned by the ReplicaSet when `owned`, ready since
/// `ready` seconds ago.
fn pod(name: &str, app: &str, owned: bool, ready: Option<i64>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            labels: labels(app),
            creation_timestamp: Some(Time(at(1_000))),
            owner_references: owned.then(|| {
                vec![OwnerReference {
                    uid: "rs-uid".into(),
                    controller: Some(true),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".into()),
            conditions: ready.map(|since| {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(at(since))),
                    ..PodCondition::default()
                }]
            }),
            ..PodStatus::default()
        }),
    }
}

fn plan_for<'a>(rs: &ReplicaSet, pods: &'a [Pod], satisfied: bool) -> Plan<'a> {
    let related: Vec<&Pod> = pods.iter().collect();
    match plan(rs, pods, &related, satisfied, at(0)) {
        Ok(plan) => plan,
        Err(error) => panic!("{error}"),
    }
}

fn names(pods: &[&Pod]) -> Vec<String> {
    pods.iter()
        .map(|pod| pod.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn missing_pods_are_created_and_capped_per_sync() {
    let pods = [pod("a", "web", true, Some(100))];
    assert_eq!(
        plan_for(&replica_set(3, 0), &pods, true).scale,
        Scale::Create(2)
    );
    assert_eq!(
        plan_for(&replica_set(10_000, 0), &pods, true).scale,
        Scale::Create(BURST_REPLICAS)
    );
    // Not while its own writes are still unobserved.
    assert_eq!(
        plan_for(&replica_set(3, 0), &pods, false).scale,
        Scale::Hold
    );
}

#[test]
fn matching_orphans_are_adopted_and_count() {
    let pods = [
        pod("mine", "web", true, Some(100)),
        pod("orphan", "web", false, Some(100)),
        pod("stray", "db", true, Some(100)),
    ];
    let plan = plan_for(&replica_set(2, 0), &pods, true);
    assert_eq!(names(&plan.adopt), ["orphan"]);
    assert_eq!(names(&plan.release), ["stray"]);
    assert_eq!(plan.scale, Scale::Hold);
    assert_eq!(plan.status.replicas, 2);
}

#[test]
fn the_surplus_is_deleted_not_ready_first() {
    let pods = [
        pod("ready", "web", true, Some(100)),
        pod("not-ready", "web", true, None),
        pod("also-ready", "web", true, Some(100)),
    ];
    match plan_for(&replica_set(2, 0), &pods, true).scale {
        Scale::Delete(victims) => assert_eq!(names(&victims), ["not-ready"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn finished_and_deleting_pods_are_replaced() {
    let mut done = pod("done", "web", true, None);
    if let Some(status) = done.status.as_mut() {
        status.phase = Some("Succeeded".into());
    }
    let mut going = pod("going", "web", true, Some(100));
    going.metadata.deletion_timestamp = Some(Time(at(1)));
    let pods = [pod("a", "web", true, Some(100)), done, going];
    let plan = plan_for(&replica_set(3, 0), &pods, true);
    assert_eq!(plan.scale, Scale::Create(2));
    assert_eq!(plan.status.replicas, 1);
}

#[test]
fn status_counts_labels_readiness_and_availability() {
    let mut partly_labeled = pod("partly", "web", true, Some(5));
    if let Some(labels) = partly_labeled.metadata.labels.as_mut() {
        labels.insert("extra".into(), "y".into());
    }
    let mut rs = replica_set(3, 30);
    if let Some(template) = rs
        .spec
        .as_mut()
        .and_then(|spec| spec.template.as_mut())
        .and_then(|template| template.metadata.as_mut())
    {
        template.labels = Some(BTreeMap::from([
            ("app".to_string(), "web".to_string()),
            ("extra".to_string(), "y".to_string()),
        ]));
    }
    let pods = [
        pod("long-ready", "web", true, Some(100)),
        partly_labeled,
        pod("not-ready", "web", true, None),
    ];
    let plan = plan_for(&rs, &pods, true);
    let status = &plan.status;
    assert_eq!(status.replicas, 3);
    assert_eq!(status.fully_labeled_replicas, Some(1));
    assert_eq!(status.ready_replicas, Some(2));
    // Ready 5 s is not yet available with minReadySeconds 30.
    assert_eq!(status.available_replicas, Some(1));
    assert_eq!(status.observed_generation, Some(3));
    // Not all ready yet: no timed resync needed.
    assert_eq!(plan.requeue_after, None);

    let pods = [
        pod("a", "web", true, Some(100)),
        pod("b", "web", true, Some(5)),
    ];
    let plan = plan_for(&replica_set(2, 30), &pods, true);
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
}

#[test]
fn a_deleting_replica_set_neither_scales_nor_adopts() {
    let mut rs = replica_set(3, 0);
    rs.metadata.deletion_timestamp = Some(Time(at(1)));
    let pods = [pod("orphan", "web", false, None)];
    let plan = plan_for(&rs, &pods, true);
    assert_eq!(plan.scale, Scale::Hold);
    assert!(plan.adopt.is_empty());
}

#[test]
fn an_empty_selector_selects_nothing() {
    let mut rs = replica_set(1, 0);
    if let Some(spec) = rs.spec.as_mut() {
        spec.selector = LabelSelector::default();
    }
    let pods = [pod("orphan", "web", false, None)];
    let plan = plan_for(&rs, &pods, true);
    assert!(plan.adopt.is_empty());
    assert_eq!(plan.scale, Scale::Create(1));
}

#[test]
fn failure_condition_is_set_once_and_cleared() {
    let failed = with_failure(
        ReplicaSetStatus::default(),
        Some(("FailedCreate", "quota")),
        at(10),
    );
    let conditions = failed.conditions.clone().unwrap_or_default();
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0].reason.as_deref(), Some("FailedCreate"));
    // Failing again keeps the first transition time.
    let again = with_failure(failed.clone(), Some(("FailedCreate", "quota")), at(0));
    assert_eq!(again.conditions, failed.conditions);
    let cleared = with_failure(again, None, at(0));
    assert_eq!(cleared.conditions, None);
}

#[test]
fn creations_go_out_in_doubling_batches() {
    assert_eq!(slow_start_batches(0), Vec::<usize>::new());
    assert_eq!(slow_start_batches(1), [1]);
    assert_eq!(slow_start_batches(10), [1, 2, 4, 3]);
    assert_eq!(slow_start_batches(500).iter().sum::<usize>(), 500);
}

#[test]
fn pods_come_from_the_template_with_a_controller_reference() {
    let rs = replica_set(1, 0);
    let template = rs
        .spec
        .as_ref()
        .and_then(|spec| spec.template.clone())
        .unwrap_or_default();
    let pod = pod_from_template(&template, "apps/v1", "ReplicaSet", &rs.metadata);
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(pod.metadata.labels, labels("web"));
    assert_eq!(
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("note"))
            .map(String::as_str),
        Some("x")
    );
    let reference = crate::owner::controller_of(&pod.metadata)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (reference.kind.as_str(), reference.uid.as_str()),
        ("ReplicaSet", "rs-uid")
    );
    assert_eq!(pod.spec, template.spec);
}
