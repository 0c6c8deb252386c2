use super::*;
use api::ApiObject;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn at(seconds_ago: i64) -> Timestamp {
    Timestamp::from_second(NOW - seconds_ago).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn now() -> Timestamp {
    at(0)
}

/// The set `web` of `replicas` running `image`, with a claim template
/// `data`, plus `spec` merged over its spec.
fn set(replicas: i32, image: &str, spec: Value) -> StatefulSet {
    let mut base = json!({
        "metadata": {"name": "web", "namespace": "db", "uid": "set-uid", "generation": 2},
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data", "labels": {"tier": "storage"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            }]
        }
    });
    if let (Some(target), Value::Object(extra)) = (base["spec"].as_object_mut(), spec) {
        target.extend(extra);
    }
    let mut set: StatefulSet = serde_json::from_value(base).unwrap();
    set.apply_defaults();
    set
}

/// `set` with `status` (as a stored set after earlier syncs).
fn with_status(mut set: StatefulSet, status: Value) -> StatefulSet {
    set.status = Some(serde_json::from_value(status).unwrap());
    set
}

/// The pod `set` makes for `ordinal`, stored (UID, creation time) and in
/// `phase`; ready since `ready` seconds ago when given.
fn pod_at(set: &StatefulSet, ordinal: i32, phase: &str, ready: Option<i64>) -> Pod {
    let spec = set.spec.clone().unwrap();
    let shape = Shape::new(set, &spec);
    let mut pod = shape.new_pod(set, &spec.template, ordinal, &update_revision(set));
    pod.metadata.uid = Some(format!("uid-{ordinal}"));
    pod.metadata.creation_timestamp = Some(Time(at(1000)));
    let conditions = match ready {
        Some(seconds) => json!([{"type": "Ready", "status": "True",
            "lastTransitionTime": at(seconds).to_string()}]),
        None => json!([{"type": "Ready", "status": "False"}]),
    };
    pod.status = serde_json::from_value(json!({"phase": phase, "conditions": conditions})).ok();
    pod
}

fn ready(set: &StatefulSet, ordinal: i32) -> Pod {
    pod_at(set, ordinal, "Running", Some(600))
}

fn terminating(mut pod: Pod) -> Pod {
    pod.metadata.deletion_timestamp = Some(Time(now()));
    pod
}

fn run<'a>(
    set: &StatefulSet,
    pods: &'a [Pod],
    claims: &[PersistentVolumeClaim],
    history: &History,
) -> Plan<'a> {
    plan(set, pods, claims, history, now()).unwrap()
}

fn created(plan: &Plan<'_>) -> Vec<String> {
    plan.create
        .iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect()
}

fn deleted(plan: &Plan<'_>) -> Vec<String> {
    plan.delete
        .iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect()
}

fn names<'p>(pods: impl IntoIterator<Item = &'p &'p Pod>) -> Vec<String> {
    pods.into_iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect()
}

fn image(pod: &Pod) -> String {
    pod.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

fn claim(name: &str, owners: Value) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "db", "uid": format!("uid-{name}"),
            "labels": {"app": "web"}, "ownerReferences": owners},
        "spec": {"accessModes": ["ReadWriteOnce"]}
    }))
    .unwrap()
}

#[test]
fn ordinals_come_from_the_name() {
    assert_eq!(parent_and_ordinal("web-0"), Some(("web", Some(0))));
    assert_eq!(parent_and_ordinal("my-db-12"), Some(("my-db", Some(12))));
    assert_eq!(parent_and_ordinal("web-"), None);
    assert_eq!(parent_and_ordinal("web-1x"), None);
    assert_eq!(parent_and_ordinal("web"), None);
    assert_eq!(parent_and_ordinal("web-99999999999"), Some(("web", None)));
}

#[test]
fn a_new_pod_has_a_stable_identity_and_its_claims() {
    let web = set(3, "db:1", json!({}));
    let plan = run(&web, &[], &[], &History::new());
    assert_eq!(created(&plan), ["web-0"]);
    let pod = &plan.create[0];
    let labels = pod.metadata.labels.clone().unwrap();
    assert_eq!(
        labels.get(POD_NAME_LABEL).map(String::as_str),
        Some("web-0")
    );
    assert_eq!(labels.get(POD_INDEX_LABEL).map(String::as_str), Some("0"));
    assert_eq!(labels.get(REVISION_LABEL), Some(&update_revision(&web)));
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    let spec = pod.spec.clone().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
    let volume = &spec.volumes.unwrap()[0];
    assert_eq!(volume.name, "data");
    assert_eq!(
        volume
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str()),
        Some("data-web-0")
    );
    let reference = &pod.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (reference.kind.as_str(), reference.uid.as_str()),
        ("StatefulSet", "set-uid")
    );
    // The claim goes first, with the template's and the selector's labels
    // and no owner (Retain).
    assert_eq!(plan.create_claims.len(), 1);
    let claim = &plan.create_claims[0];
    assert_eq!(claim.metadata.name.as_deref(), Some("data-web-0"));
    assert_eq!(claim.metadata.namespace.as_deref(), Some("db"));
    let labels = claim.metadata.labels.clone().unwrap();
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    assert_eq!(labels.get("tier").map(String::as_str), Some("storage"));
    assert!(claim.metadata.owner_references.is_none());
    // Revisions are named after the set, like ControllerRevisions.
    assert!(update_revision(&web).starts_with("web-"));
    assert_eq!(plan.status.update_revision, Some(update_revision(&web)));
    assert_eq!(plan.status.current_revision, Some(update_revision(&web)));
}

#[test]
fn ordered_ready_creates_a_pod_only_after_the_lower_ones_are_ready() {
    let web = set(3, "db:1", json!({}));
    let history = History::new();
    // web-0 exists but is not ready: nothing else happens.
    let pending = [pod_at(&web, 0, "Pending", None)];
    let plan = run(&web, &pending, &[], &history);
    assert!(plan.create.is_empty(), "{:?}", created(&plan));
    // Its claim is missing (deleted meanwhile): made again for the pending pod.
    assert_eq!(plan.create_claims.len(), 1);
    let unready = [pod_at(&web, 0, "Running", None)];
    assert!(run(&web, &unready, &[], &history).create.is_empty());
    // Ready: web-1 comes, and only web-1.
    let pods = [ready(&web, 0)];
    let claims = [claim("data-web-0", json!(null))];
    let plan = run(&web, &pods, &claims, &history);
    assert_eq!(created(&plan), ["web-1"]);
    assert_eq!(plan.create_claims.len(), 1);
    assert_eq!(
        plan.create_claims[0].metadata.name.as_deref(),
        Some("data-web-1")
    );
    // A terminating pod is waited for, too.
    let pods = [terminating(ready(&web, 0))];
    assert!(run(&web, &pods, &claims, &history).create.is_empty());
}

#[test]
fn min_ready_seconds_holds_the_next_pod_and_requeues() {
    let web = set(2, "db:1", json!({"minReadySeconds": 30}));
    let pods = [pod_at(&web, 0, "Running", Some(10))];
    let plan = run(&web, &pods, &[], &History::new());
    assert!(plan.create.is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    assert_eq!(plan.status.ready_replicas, Some(1));
    assert_eq!(plan.status.available_replicas, Some(0));
    let pods = [pod_at(&web, 0, "Running", Some(60))];
    let plan = run(&web, &pods, &[], &History::new());
    assert_eq!(created(&plan), ["web-1"]);
}

#[test]
fn ordinals_start_where_the_spec_says() {
    let web = set(2, "db:1", json!({"ordinals": {"start": 5}}));
    let plan = run(&web, &[], &[], &History::new());
    assert_eq!(created(&plan), ["web-5"]);
    assert_eq!(
        plan.create_claims[0].metadata.name.as_deref(),
        Some("data-web-5")
    );
    // web-0 is outside the range: it goes once the range is up.
    let pods = [ready(&web, 0), ready(&web, 5), ready(&web, 6)];
    assert_eq!(deleted(&run(&web, &pods, &[], &History::new())), ["web-0"]);
}

#[test]
fn parallel_creates_and_deletes_all_at_once() {
    let web = set(3, "db:1", json!({"podManagementPolicy": "Parallel"}));
    let plan = run(&web, &[], &[], &History::new());
    assert_eq!(created(&plan), ["web-0", "web-1", "web-2"]);
    assert_eq!(plan.create_claims.len(), 3);
    let down = set(1, "db:1", json!({"podManagementPolicy": "Parallel"}));
    let pods = [
        ready(&down, 0),
        pod_at(&down, 1, "Pending", None),
        ready(&down, 2),
    ];
    let plan = run(&down, &pods, &[], &History::new());
    assert_eq!(deleted(&plan), ["web-2", "web-1"]);
}

#[test]
fn scale_down_goes_from_the_highest_ordinal_one_at_a_time() {
    let web = set(2, "db:1", json!({}));
    let history = History::new();
    let pods: Vec<Pod> = (0..4).map(|i| ready(&web, i)).collect();
    assert_eq!(deleted(&run(&web, &pods, &[], &history)), ["web-3"]);
    // The highest is terminating: wait for it to go.
    let mut waiting = pods.clone();
    waiting[3] = terminating(waiting[3].clone());
    assert!(run(&web, &waiting, &[], &history).delete.is_empty());
    // A pod in range is not ready: nothing goes.
    let mut unready = pods.clone();
    unready[1] = pod_at(&web, 1, "Running", None);
    assert!(run(&web, &unready, &[], &history).delete.is_empty());
    // An unready pod above the range goes only as the first unhealthy one.
    let mut lower_unready = pods.clone();
    lower_unready[2] = pod_at(&web, 2, "Running", None);
    lower_unready[3] = pod_at(&web, 3, "Running", None);
    assert!(run(&web, &lower_unready, &[], &history).delete.is_empty());
    let only = &lower_unready[..3];
    assert_eq!(deleted(&run(&web, only, &[], &history)), ["web-2"]);
    // A missing pod in range comes back before anything is removed.
    let gap = [ready(&web, 0), ready(&web, 2), ready(&web, 3)];
    let plan = run(&web, &gap, &[], &history);
    assert_eq!(created(&plan), ["web-1"]);
    assert!(plan.delete.is_empty());
}

#[test]
fn a_failed_pod_is_deleted_then_recreated_with_its_name() {
    let web = set(3, "db:1", json!({}));
    let history = History::new();
    let pods = [
        ready(&web, 0),
        pod_at(&web, 1, "Failed", None),
        ready(&web, 2),
    ];
    let plan = run(&web, &pods, &[], &history);
    assert_eq!(deleted(&plan), ["web-1"]);
    assert!(plan.create.is_empty());
    // Being deleted: not deleted again, nothing else either.
    let going = [
        ready(&web, 0),
        terminating(pod_at(&web, 1, "Failed", None)),
        ready(&web, 2),
    ];
    let plan = run(&web, &going, &[], &history);
    assert!(plan.delete.is_empty() && plan.create.is_empty());
    // Gone: the same name comes back.
    let gone = [ready(&web, 0), ready(&web, 2)];
    let plan = run(&web, &gone, &[], &history);
    assert_eq!(created(&plan), ["web-1"]);
    // A pod that succeeded is replaced as well.
    let done = [ready(&web, 0), pod_at(&web, 1, "Succeeded", None)];
    assert_eq!(deleted(&run(&web, &done, &[], &history)), ["web-1"]);
}

#[test]
fn a_partitioned_rollout_updates_from_the_highest_ordinal_down_to_the_partition() {
    let v1 = set(3, "db:1", json!({}));
    let old = update_revision(&v1);
    let pods: Vec<Pod> = (0..3).map(|i| ready(&v1, i)).collect();
    let partitioned = |partition: i32| {
        let v2 = set(
            3,
            "db:2",
            json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}}),
        );
        with_status(
            v2,
            json!({"replicas": 3, "currentRevision": old, "currentReplicas": 3}),
        )
    };
    let v2 = partitioned(2);
    let new = update_revision(&v2);
    assert_ne!(old, new);
    let mut history = History::new();
    history.insert(old.clone(), v1.spec.clone().unwrap().template);

    // web-2 goes first, and only web-2.
    let plan = run(&v2, &pods, &[], &history);
    assert_eq!(deleted(&plan), ["web-2"]);
    assert_eq!(plan.status.updated_replicas, Some(0));
    assert_eq!(plan.status.current_replicas, Some(2));
    assert_eq!(plan.status.current_revision.as_deref(), Some(old.as_str()));
    assert_eq!(plan.status.update_revision.as_deref(), Some(new.as_str()));
    // Gone: recreated at the update revision.
    let plan = run(&v2, &pods[..2], &[], &history);
    assert_eq!(created(&plan), ["web-2"]);
    assert_eq!(image(&plan.create[0]), "db:2");
    assert_eq!(pod_revision(&plan.create[0]), new);
    // web-2 updated and ready: the partition holds web-0 and web-1.
    let updated = [pods[0].clone(), pods[1].clone(), ready(&v2, 2)];
    let plan = run(&v2, &updated, &[], &history);
    assert!(plan.delete.is_empty() && plan.create.is_empty());
    assert_eq!(plan.status.updated_replicas, Some(1));
    assert_eq!(plan.status.current_replicas, Some(2));
    assert_eq!(plan.status.current_revision.as_deref(), Some(old.as_str()));
    // A pod below the partition deleted by hand comes back at the
    // current revision, from the remembered template.
    let plan = run(&v2, &updated[1..], &[], &history);
    assert_eq!(created(&plan), ["web-0"]);
    assert_eq!(image(&plan.create[0]), "db:1");
    assert_eq!(pod_revision(&plan.create[0]), old);
    // Without the template it is made at the update revision.
    let plan = run(&v2, &updated[1..], &[], &History::new());
    assert_eq!(image(&plan.create[0]), "db:2");

    // Partition 0: web-1 next; an updated pod not ready yet is waited for.
    let v2 = partitioned(0);
    assert_eq!(deleted(&run(&v2, &updated, &[], &history)), ["web-1"]);
    let recreating = [
        pods[0].clone(),
        pod_at(&v2, 1, "Running", None),
        ready(&v2, 2),
    ];
    assert!(run(&v2, &recreating, &[], &history).delete.is_empty());
    let almost = [pods[0].clone(), ready(&v2, 1), ready(&v2, 2)];
    assert_eq!(deleted(&run(&v2, &almost, &[], &history)), ["web-0"]);
    // All at the update revision and ready: it becomes the current one.
    let done: Vec<Pod> = (0..3).map(|i| ready(&v2, i)).collect();
    let plan = run(&v2, &done, &[], &history);
    assert!(plan.delete.is_empty());
    assert_eq!(plan.status.current_revision.as_deref(), Some(new.as_str()));
    assert_eq!(plan.status.current_replicas, Some(3));
    assert_eq!(plan.status.updated_replicas, Some(3));
}

#[test]
fn max_unavailable_replaces_several_pods_at_once() {
    let v1 = set(4, "db:1", json!({}));
    let pods: Vec<Pod> = (0..4).map(|i| ready(&v1, i)).collect();
    let v2 = set(
        4,
        "db:2",
        json!({
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 2}}
        }),
    );
    assert_eq!(
        deleted(&run(&v2, &pods, &[], &History::new())),
        ["web-3", "web-2"]
    );
    // One down already (Parallel goes on past it): one more.
    let mut one_down = pods.clone();
    one_down[3] = pod_at(&v2, 3, "Running", None);
    assert_eq!(
        deleted(&run(&v2, &one_down, &[], &History::new())),
        ["web-2"]
    );
}

#[test]
fn on_delete_replaces_only_pods_the_user_deleted() {
    let v1 = set(3, "db:1", json!({}));
    let pods: Vec<Pod> = (0..3).map(|i| ready(&v1, i)).collect();
    let v2 = set(3, "db:2", json!({"updateStrategy": {"type": "OnDelete"}}));
    let v2 = with_status(
        v2,
        json!({"replicas": 3, "currentRevision": update_revision(&v1)}),
    );
    let plan = run(&v2, &pods, &[], &History::new());
    assert!(plan.delete.is_empty());
    assert_eq!(plan.status.updated_replicas, Some(0));
    // The user deleted web-1: it comes back at the update revision.
    let left = [pods[0].clone(), pods[2].clone()];
    let plan = run(&v2, &left, &[], &History::new());
    assert_eq!(created(&plan), ["web-1"]);
    assert_eq!(image(&plan.create[0]), "db:2");
}

#[test]
fn existing_claims_are_reused_and_one_being_deleted_blocks_its_pod() {
    let web = set(1, "db:1", json!({}));
    let reused = [claim("data-web-0", json!(null))];
    let plan = run(&web, &[], &reused, &History::new());
    assert_eq!(created(&plan), ["web-0"]);
    assert!(plan.create_claims.is_empty());
    let mut going = claim("data-web-0", json!(null));
    going.metadata.deletion_timestamp = Some(Time(now()));
    let plan = run(&web, &[], &[going], &History::new());
    assert!(plan.create.is_empty());
    assert!(plan.blocked.is_some());
}

#[test]
fn the_retention_policy_sets_owner_references() {
    let owners = |claim: &PersistentVolumeClaim| -> Vec<(String, String, Option<bool>)> {
        claim
            .metadata
            .owner_references
            .iter()
            .flatten()
            .map(|r| (r.kind.clone(), r.name.clone(), r.controller))
            .collect()
    };
    // whenDeleted: Delete: the set owns the claims of its pods in range.
    let web = set(
        2,
        "db:1",
        json!({"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"}}),
    );
    let plan = run(&web, &[], &[], &History::new());
    assert_eq!(
        owners(&plan.create_claims[0]),
        [("StatefulSet".into(), "web".into(), Some(true))]
    );
    // An existing claim without it gets it.
    let pods = [ready(&web, 0)];
    let claims = [claim("data-web-0", json!(null))];
    let plan = run(&web, &pods, &claims, &History::new());
    assert_eq!(plan.update_claims.len(), 1);
    assert_eq!(
        owners(&plan.update_claims[0]),
        [("StatefulSet".into(), "web".into(), Some(true))]
    );

    // whenScaled: Delete: a pod above the range owns its claims before it
    // goes, so the garbage collector takes them with it.
    let scaled = set(
        1,
        "db:1",
        json!({"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}}),
    );
    let pods = [ready(&scaled, 0), ready(&scaled, 1)];
    let claims = [
        claim("data-web-0", json!(null)),
        claim("data-web-1", json!(null)),
    ];
    let plan = run(&scaled, &pods, &claims, &History::new());
    assert_eq!(deleted(&plan), ["web-1"]);
    assert_eq!(plan.update_claims.len(), 1);
    assert_eq!(
        plan.update_claims[0].metadata.name.as_deref(),
        Some("data-web-1")
    );
    assert_eq!(
        owners(&plan.update_claims[0]),
        [("Pod".into(), "web-1".into(), Some(true))]
    );
    // Scaled up again while that claim still belongs to the old web-1:
    // the new web-1 waits for the collector.
    let up = set(
        2,
        "db:1",
        json!({"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}}),
    );
    let stale = [
        claim("data-web-0", json!(null)),
        claim(
            "data-web-1",
            json!([{"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "uid-1", "controller": true}]),
        ),
    ];
    let first = [ready(&up, 0)];
    let plan = run(&up, &first, &stale, &History::new());
    assert!(plan.create.is_empty());
    assert!(plan.blocked.is_some());
    // Retain (the default) leaves claims without owners.
    let web = set(2, "db:1", json!({}));
    let claims = [claim("data-web-0", json!(null))];
    let first = [ready(&web, 0)];
    let plan = run(&web, &first, &claims, &History::new());
    assert!(plan.update_claims.is_empty());
}

#[test]
fn members_are_adopted_and_others_released() {
    let web = set(3, "db:1", json!({}));
    let orphan = |name: &str, app: &str| -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "db", "uid": format!("uid-{name}"),
                "labels": {"app": app}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap()
    };
    let mut renamed = ready(&web, 2);
    renamed.metadata.name = Some("other-2".into());
    let mut relabeled = ready(&web, 1);
    relabeled.metadata.labels = Some(BTreeMap::from([("app".into(), "db".into())]));
    let pods = [
        ready(&web, 0),
        orphan("web-1", "web"),
        orphan("web-x", "web"),
        orphan("cache-0", "web"),
        renamed,
        relabeled,
    ];
    let plan = run(&web, &pods, &[], &History::new());
    assert_eq!(names(&plan.adopt), ["web-1"]);
    let mut released = names(&plan.release);
    released.sort();
    assert_eq!(released, ["other-2", "web-1"]);
    // The adopted pod lacks its identity label: restored.
    assert_eq!(plan.update.len(), 1);
    let labels = plan.update[0].metadata.labels.clone().unwrap();
    assert_eq!(
        labels.get(POD_NAME_LABEL).map(String::as_str),
        Some("web-1")
    );
    assert_eq!(labels.get(POD_INDEX_LABEL).map(String::as_str), Some("1"));
    // A set being deleted neither adopts nor acts.
    let mut gone = set(3, "db:1", json!({}));
    gone.metadata.deletion_timestamp = Some(Time(now()));
    let plan = run(&gone, &pods, &[], &History::new());
    assert!(plan.adopt.is_empty() && plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(plan.status.replicas, 1);
}

#[test]
fn the_status_counts_what_kubectl_rollout_status_reads() {
    let web = set(3, "db:1", json!({}));
    let pods = [
        ready(&web, 0),
        pod_at(&web, 1, "Running", None),
        pod_at(&web, 2, "Pending", None),
    ];
    let plan = run(&web, &pods, &[], &History::new());
    let status = &plan.status;
    assert_eq!(status.observed_generation, Some(2));
    assert_eq!(status.replicas, 3);
    assert_eq!(status.ready_replicas, Some(1));
    assert_eq!(status.available_replicas, Some(1));
    assert_eq!(status.updated_replicas, Some(3));
    assert_eq!(status.current_replicas, Some(3));
    assert_eq!(status.collision_count, Some(0));
    assert_eq!(status.current_revision, status.update_revision);
    // A terminating pod is a replica, but neither current nor updated.
    let pods = [ready(&web, 0), terminating(ready(&web, 1))];
    let status = run(&web, &pods, &[], &History::new()).status;
    assert_eq!(status.replicas, 2);
    assert_eq!(status.ready_replicas, Some(2));
    assert_eq!(status.updated_replicas, Some(1));
}
