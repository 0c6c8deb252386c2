use super::*;
use api::ApiObject;
use api::k8s_openapi::api::apps::v1::ReplicaSetStatus;
use serde_json::json;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A defaulted Deployment `web` of `replicas` running `image`.
fn deployment(replicas: i32, image: &str, strategy: serde_json::Value) -> Deployment {
    let mut d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "ns", "uid": "d-uid", "generation": 1,
                     "annotations": {"team": "blue"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            }
        }
    }))
    .unwrap_or_default();
    d.apply_defaults();
    d
}

fn rolling(surge: serde_json::Value, unavailable: serde_json::Value) -> serde_json::Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

/// What the apiserver and the ReplicaSet controller make of a created
/// ReplicaSet: a UID, a creation time, and `available` of its replicas
/// up and available.
fn settle(mut rs: ReplicaSet, uid: &str, created: i64, available: i32) -> ReplicaSet {
    rs.metadata.uid = Some(uid.to_string());
    rs.metadata.creation_timestamp = Some(Time(at(created)));
    rs.metadata.generation = Some(1);
    let replicas = replicas_of(&rs);
    rs.status = Some(ReplicaSetStatus {
        replicas,
        ready_replicas: Some(available),
        available_replicas: Some(available),
        observed_generation: Some(1),
        ..ReplicaSetStatus::default()
    });
    rs
}

fn input<'a>(replica_sets: &'a [ReplicaSet], now: i64) -> Input<'a> {
    Input {
        replica_sets: replica_sets.iter().collect(),
        pods: Vec::new(),
        now: at(now),
    }
}

fn created(plan: &Plan<'_>) -> ReplicaSet {
    match plan.writes.as_slice() {
        [Write::Create(rs)] => rs.clone(),
        other => panic!("expected one create, got {other:?}"),
    }
}

/// The replicas each updated ReplicaSet is scaled to, by name.
fn scaled(plan: &Plan<'_>) -> Vec<(String, i32)> {
    plan.writes
        .iter()
        .filter_map(|write| match write {
            Write::Update(rs) => Some((
                rs.metadata.name.clone().unwrap_or_default(),
                replicas_of(rs),
            )),
            _ => None,
        })
        .collect()
}

fn progressing_reason(plan: &Plan<'_>) -> Option<String> {
    condition(&plan.status, PROGRESSING).and_then(|c| c.reason.clone())
}

#[test]
fn percentages_round_as_kubernetes_rounds() {
    let quarter = IntOrString::String("25%".into());
    assert_eq!(scaled_value(&quarter, 10, true), 3);
    assert_eq!(scaled_value(&quarter, 10, false), 2);
    assert_eq!(scaled_value(&quarter, 1, true), 1);
    assert_eq!(scaled_value(&quarter, 1, false), 0);
    assert_eq!(scaled_value(&IntOrString::Int(4), 10, false), 4);
    // Both zero would never move: unavailable becomes one.
    let d = deployment(3, "nginx:1", rolling(json!(0), json!("10%")));
    assert_eq!(fenceposts(&d), (0, 1));
    let recreate = deployment(3, "nginx:1", json!({"type": "Recreate"}));
    assert_eq!((max_surge(&recreate), max_unavailable(&recreate)), (0, 0));
}

#[test]
fn the_template_hash_is_stable_safe_and_moved_by_collisions() {
    let d = deployment(3, "nginx:1", rolling(json!("25%"), json!("25%")));
    let template = d
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let hash = pod_template_hash(&template, None);
    assert_eq!(hash, pod_template_hash(&template, None));
    assert!(
        hash.chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
        "{hash}"
    );
    assert_ne!(hash, pod_template_hash(&template, Some(1)));
    let other = deployment(3, "nginx:2", rolling(json!("25%"), json!("25%")));
    let other = other
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    assert_ne!(hash, pod_template_hash(&other, None));
    // The label itself does not count.
    let mut labelled = template.clone();
    labelled
        .metadata
        .get_or_insert_with(ObjectMeta::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
    assert_eq!(pod_template_hash(&labelled, None), hash);
    assert!(equal_ignore_hash(&labelled, &template));
}

#[test]
fn a_new_deployment_creates_its_first_replica_set() {
    let d = deployment(3, "nginx:1", rolling(json!("25%"), json!("25%")));
    let plan = plan(&d, input(&[], 0)).unwrap_or_else(|e| panic!("{e}"));
    let rs = created(&plan);
    let hash = rs
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_TEMPLATE_HASH_LABEL))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        rs.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    assert_eq!(replicas_of(&rs), 3);
    let annotations = rs.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations.get(REVISION_ANNOTATION).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        annotations
            .get(DESIRED_REPLICAS_ANNOTATION)
            .map(String::as_str),
        Some("3")
    );
    assert_eq!(
        annotations.get(MAX_REPLICAS_ANNOTATION).map(String::as_str),
        Some("4")
    );
    assert_eq!(annotations.get("team").map(String::as_str), Some("blue"));
    let spec = rs.spec.clone().unwrap_or_default();
    let selected = spec.selector.match_labels.unwrap_or_default();
    assert_eq!(selected.get(POD_TEMPLATE_HASH_LABEL), Some(&hash));
    let template_labels = spec
        .template
        .and_then(|t| t.metadata)
        .and_then(|m| m.labels)
        .unwrap_or_default();
    assert_eq!(template_labels.get(POD_TEMPLATE_HASH_LABEL), Some(&hash));
    let owner = crate::owner::controller_of(&rs.metadata).map(|r| (r.kind.clone(), r.uid.clone()));
    assert_eq!(owner, Some(("Deployment".to_string(), "d-uid".to_string())));
    assert_eq!(plan.revision.as_deref(), Some("1"));
    assert_eq!(progressing_reason(&plan).as_deref(), Some(NEW_RS_CREATED));
}

#[test]
fn a_rolling_update_surges_then_drains_within_its_bounds() {
    let v1 = deployment(4, "nginx:1", rolling(json!(1), json!(1)));
    let first = created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}")));
    let old = settle(first, "rs-1", 0, 4);
    let old_name = old.metadata.name.clone().unwrap_or_default();

    // The template changes: a new ReplicaSet within the surge (4 + 1 - 4
    // = 1), and in the same sync the old one down by the unavailable
    // budget (5 pods, 4 available, at least 3 must stay available).
    let mut v2 = deployment(4, "nginx:2", rolling(json!(1), json!(1)));
    v2.metadata.generation = Some(2);
    let step = plan(&v2, input(std::slice::from_ref(&old), 10)).unwrap_or_else(|e| panic!("{e}"));
    let new = match step.writes.as_slice() {
        [Write::Create(new), Write::Update(old)] => {
            assert_eq!(old.metadata.name.as_deref(), Some(old_name.as_str()));
            assert_eq!(replicas_of(old), 3);
            new.clone()
        }
        other => panic!("expected a create and a scale-down, got {other:?}"),
    };
    assert_eq!(replicas_of(&new), 1);
    assert_eq!(revision(&new), 2);
    assert_eq!(step.revision.as_deref(), Some("2"));
    assert_ne!(new.metadata.name.as_deref(), Some(old_name.as_str()));
    let new_name = new.metadata.name.clone().unwrap_or_default();
    let mut old = old;
    set_replicas(&mut old, 3);
    let old = settle(old, "rs-1", 0, 3);

    // Old at 3, new at 1 not yet available: 4 pods, room for one more.
    let new = settle(new, "rs-2", 10, 0);
    let set = [old.clone(), new.clone()];
    let step = plan(&v2, input(&set, 11)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scaled(&step), [(new_name.clone(), 2)]);
    assert_eq!(progressing_reason(&step).as_deref(), Some(RS_UPDATED));

    // New at 2 with 1 available: 5 pods, 4 available: one old may go.
    let mut new = new;
    set_replicas(&mut new, 2);
    let new = settle(new, "rs-2", 10, 1);
    let set = [old.clone(), new.clone()];
    let step = plan(&v2, input(&set, 12)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scaled(&step), [(old_name.clone(), 2)]);

    // At the end the old ReplicaSet is drained and the rollout completes.
    let mut old = old;
    set_replicas(&mut old, 0);
    let old = settle(old, "rs-1", 0, 0);
    let mut new = new;
    set_replicas(&mut new, 4);
    let new = settle(new, "rs-2", 10, 4);
    let set = [old, new];
    let done = plan(&v2, input(&set, 13)).unwrap_or_else(|e| panic!("{e}"));
    assert!(done.writes.is_empty(), "{:?}", done.writes);
    assert!(complete(&v2, &done.status));
    assert_eq!(progressing_reason(&done).as_deref(), Some(NEW_RS_AVAILABLE));
    let available = condition(&done.status, AVAILABLE).map(|c| c.status.clone());
    assert_eq!(available.as_deref(), Some("True"));
    assert_eq!(done.status.updated_replicas, Some(4));
    assert_eq!(done.status.observed_generation, Some(2));
}

#[test]
fn unhealthy_old_replicas_go_first() {
    let v1 = deployment(4, "nginx:1", rolling(json!(0), json!(1)));
    let old = settle(
        created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}"))),
        "rs-1",
        0,
        2,
    );
    let v2 = deployment(4, "nginx:2", rolling(json!(0), json!(1)));
    let step = plan(&v2, input(std::slice::from_ref(&old), 1)).unwrap_or_else(|e| panic!("{e}"));
    // No surge: the new ReplicaSet starts empty. Only 2 of the 4 old
    // pods are available, below the 3 that must stay, so no healthy pod
    // may go, but an unhealthy one costs nothing: 4 pods - 3 minimum = 1.
    let old_name = old.metadata.name.clone().unwrap_or_default();
    match step.writes.as_slice() {
        [Write::Create(new), Write::Update(old)] => {
            assert_eq!(replicas_of(new), 0);
            assert_eq!(old.metadata.name.as_deref(), Some(old_name.as_str()));
            assert_eq!(replicas_of(old), 3);
        }
        other => panic!("expected a create and a scale-down, got {other:?}"),
    }
}

#[test]
fn recreate_drains_the_old_before_creating_the_new() {
    let strategy = json!({"type": "Recreate"});
    let v1 = deployment(2, "nginx:1", strategy.clone());
    let old = settle(
        created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}"))),
        "rs-1",
        0,
        2,
    );
    let v2 = deployment(2, "nginx:2", strategy);
    let step = plan(&v2, input(std::slice::from_ref(&old), 1)).unwrap_or_else(|e| panic!("{e}"));
    let old_name = old.metadata.name.clone().unwrap_or_default();
    assert_eq!(scaled(&step), [(old_name, 0)]);
    // Scaled to zero, but a pod still runs: wait.
    let mut drained = old.clone();
    set_replicas(&mut drained, 0);
    let drained = settle(drained, "rs-1", 0, 0);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "ns",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x",
                                          "uid": "rs-1", "controller": true}]},
        "status": {"phase": "Running"}
    }))
    .unwrap_or_default();
    let mut with_pod = input(std::slice::from_ref(&drained), 2);
    with_pod.pods = vec![&pod];
    let step = plan(&v2, with_pod).unwrap_or_else(|e| panic!("{e}"));
    assert!(step.writes.is_empty(), "{:?}", step.writes);
    // Once it finished, the new ReplicaSet comes at full size.
    let mut finished = pod.clone();
    if let Some(status) = finished.status.as_mut() {
        status.phase = Some("Succeeded".into());
    }
    let mut with_pod = input(std::slice::from_ref(&drained), 3);
    with_pod.pods = vec![&finished];
    let new = created(&plan(&v2, with_pod).unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(replicas_of(&new), 2);
    assert_eq!(revision(&new), 2);
}

#[test]
fn scaling_mid_rollout_is_proportional() {
    let strategy = rolling(json!(2), json!(2));
    let annotate = |mut rs: ReplicaSet, name: &str, replicas: i32| {
        rs.metadata.name = Some(name.into());
        let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.insert(DESIRED_REPLICAS_ANNOTATION.into(), "10".into());
        annotations.insert(MAX_REPLICAS_ANNOTATION.into(), "12".into());
        set_replicas(&mut rs, replicas);
        rs
    };
    let v1 = deployment(10, "nginx:1", strategy.clone());
    let old = created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}")));
    let old = settle(annotate(old, "web-old", 6), "rs-1", 0, 6);
    let v2 = deployment(10, "nginx:2", strategy.clone());
    let new =
        created(&plan(&v2, input(std::slice::from_ref(&old), 1)).unwrap_or_else(|e| panic!("{e}")));
    let new = settle(annotate(new, "web-new", 6), "rs-2", 1, 2);
    // Scaled from 10 to 20 (22 with the surge): 10 more, shared 6:6.
    let v2 = deployment(20, "nginx:2", strategy);
    let set = [old, new];
    let step = plan(&v2, input(&set, 2)).unwrap_or_else(|e| panic!("{e}"));
    let mut sizes = scaled(&step);
    sizes.sort();
    assert_eq!(
        sizes,
        [("web-new".to_string(), 11), ("web-old".to_string(), 11)]
    );
    for write in &step.writes {
        if let Write::Update(rs) = write {
            assert_eq!(
                int_annotation(&rs.metadata, DESIRED_REPLICAS_ANNOTATION),
                Some(20)
            );
            assert_eq!(
                int_annotation(&rs.metadata, MAX_REPLICAS_ANNOTATION),
                Some(22)
            );
        }
    }
}

#[test]
fn old_revisions_beyond_the_history_limit_are_deleted() {
    let strategy = rolling(json!(1), json!(0));
    let mut replica_sets = Vec::new();
    for (index, image) in ["nginx:1", "nginx:2", "nginx:3"].iter().enumerate() {
        let d = deployment(1, image, strategy.clone());
        let mut rs = created(&plan(&d, input(&[], 0)).unwrap_or_else(|e| panic!("{e}")));
        let revision = (index + 1).to_string();
        rs.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(REVISION_ANNOTATION.into(), revision);
        set_replicas(&mut rs, 0);
        replica_sets.push(settle(rs, &format!("rs-{index}"), index as i64, 0));
    }
    let mut current = deployment(1, "nginx:4", strategy);
    if let Some(spec) = current.spec.as_mut() {
        spec.revision_history_limit = Some(1);
    }
    let mut rs =
        created(&plan(&current, input(&replica_sets, 5)).unwrap_or_else(|e| panic!("{e}")));
    set_replicas(&mut rs, 1);
    rs.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_ANNOTATION.into(), "4".into());
    replica_sets.push(settle(rs, "rs-new", 5, 1));
    let step = plan(&current, input(&replica_sets, 6)).unwrap_or_else(|e| panic!("{e}"));
    let deleted: Vec<String> = step
        .writes
        .iter()
        .filter_map(|write| match write {
            Write::Delete { uid, .. } => Some(uid.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, ["rs-0", "rs-1"]);
}

#[test]
fn a_paused_deployment_does_not_roll_out() {
    let v1 = deployment(2, "nginx:1", rolling(json!(1), json!(0)));
    let old = settle(
        created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}"))),
        "rs-1",
        0,
        2,
    );
    let mut v2 = deployment(2, "nginx:2", rolling(json!(1), json!(0)));
    if let Some(spec) = v2.spec.as_mut() {
        spec.paused = Some(true);
    }
    let step = plan(&v2, input(std::slice::from_ref(&old), 1)).unwrap_or_else(|e| panic!("{e}"));
    assert!(step.writes.is_empty(), "{:?}", step.writes);
    assert_eq!(progressing_reason(&step).as_deref(), Some(PAUSED));
}

#[test]
fn no_progress_within_the_deadline_times_out() {
    let v1 = deployment(2, "nginx:1", rolling(json!(1), json!(0)));
    let old = settle(
        created(&plan(&v1, input(&[], 0)).unwrap_or_else(|e| panic!("{e}"))),
        "rs-1",
        0,
        2,
    );
    let mut v2 = deployment(2, "nginx:2", rolling(json!(1), json!(0)));
    let first = plan(&v2, input(std::slice::from_ref(&old), 100)).unwrap_or_else(|e| panic!("{e}"));
    let new = settle(created(&first), "rs-2", 100, 0);
    v2.status = Some(first.status.clone());
    // The new ReplicaSet's pod is counted (progress), then nothing
    // becomes available: before the deadline (600 s after the last
    // progress) the controller asks to look again when it passes.
    let set = [old.clone(), new.clone()];
    let moved = plan(&v2, input(&set, 150)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(progressing_reason(&moved).as_deref(), Some(RS_UPDATED));
    v2.status = Some(moved.status.clone());
    let set = [old.clone(), new.clone()];
    let waiting = plan(&v2, input(&set, 200)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(progressing_reason(&waiting).as_deref(), Some(RS_UPDATED));
    assert_eq!(waiting.requeue_after, Some(Duration::from_secs(550)));
    v2.status = Some(waiting.status.clone());
    let set = [old, new];
    let late = plan(&v2, input(&set, 751)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(progressing_reason(&late).as_deref(), Some(TIMED_OUT));
    let status = condition(&late.status, PROGRESSING).map(|c| c.status.clone());
    assert_eq!(status.as_deref(), Some("False"));
    assert_eq!(late.requeue_after, None);
}
