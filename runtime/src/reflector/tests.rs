use super::*;
use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

fn pod(namespace: &str, name: &str, version: &str, owner: Option<&str>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{namespace}-{name}")),
            resource_version: Some(version.into()),
            owner_references: owner.map(|uid| {
                vec![OwnerReference {
                    uid: uid.into(),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        },
        ..Pod::default()
    }
}

fn restarted(objects: Vec<Pod>) -> WatcherEvent<Pod> {
    WatcherEvent::Restarted {
        objects,
        resource_version: "9".into(),
    }
}

/// Each change as `(kind, namespace/name, resourceVersion now)`.
fn summary(changes: &[Change<Pod>]) -> Vec<(&'static str, String, String)> {
    changes
        .iter()
        .map(|change| {
            let kind = match change {
                Change::Added(_) => "added",
                Change::Modified { .. } => "modified",
                Change::Deleted(_) => "deleted",
            };
            let object = change.object();
            (
                kind,
                ObjectKey::of(object.as_ref()).to_string(),
                object.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn names(pods: &[Arc<Pod>]) -> Vec<String> {
    pods.iter()
        .map(|pod| ObjectKey::of(pod.as_ref()).to_string())
        .collect()
}

#[test]
fn a_relist_is_diffed_against_the_cache() {
    let (mut writer, store) = store::<Pod>();
    assert!(!store.is_synced());
    let changes = writer.apply(restarted(vec![
        pod("a", "p1", "1", None),
        pod("a", "p2", "2", None),
        pod("b", "p3", "3", None),
    ]));
    assert_eq!(changes.len(), 3);
    assert!(store.is_synced());

    // p1 unchanged, p2 changed, p3 gone, p4 new.
    let changes = writer.apply(restarted(vec![
        pod("a", "p1", "1", None),
        pod("a", "p2", "5", None),
        pod("b", "p4", "6", None),
    ]));
    assert_eq!(
        summary(&changes),
        [
            ("modified", "a/p2".to_string(), "5".to_string()),
            ("added", "b/p4".to_string(), "6".to_string()),
            ("deleted", "b/p3".to_string(), "3".to_string()),
        ]
    );
    assert_eq!(names(&store.list()), ["a/p1", "a/p2", "b/p4"]);
}

#[test]
fn watch_events_change_the_cache_in_order() {
    let (mut writer, store) = store::<Pod>();
    writer.apply(restarted(vec![pod("a", "p1", "1", None)]));
    let changes = writer.apply(WatcherEvent::Applied(vec![
        WatchEvent::Added(pod("a", "p2", "2", None)),
        WatchEvent::Modified(pod("a", "p1", "3", None)),
        WatchEvent::Deleted(pod("a", "p2", "4", None)),
    ]));
    assert_eq!(
        summary(&changes),
        [
            ("added", "a/p2".to_string(), "2".to_string()),
            ("modified", "a/p1".to_string(), "3".to_string()),
            ("deleted", "a/p2".to_string(), "4".to_string()),
        ]
    );
    if let Change::Modified { old, .. } = &changes[1] {
        assert_eq!(old.metadata.resource_version.as_deref(), Some("1"));
    }
    assert_eq!(names(&store.list()), ["a/p1"]);
    assert_eq!(
        store
            .get(&ObjectKey::new("a", "p1"))
            .and_then(|pod| pod.metadata.resource_version.clone())
            .as_deref(),
        Some("3")
    );
}

#[test]
fn namespaces_are_listed_apart() {
    let (mut writer, store) = store::<Pod>();
    writer.apply(restarted(vec![
        pod("a", "p1", "1", None),
        pod("ab", "p2", "2", None),
        pod("b", "p3", "3", None),
        pod("a", "p0", "4", None),
    ]));
    assert_eq!(names(&store.list_namespace("a")), ["a/p0", "a/p1"]);
    assert_eq!(names(&store.list_namespace("ab")), ["ab/p2"]);
    assert!(store.list_namespace("c").is_empty());
}

#[test]
fn the_owner_index_follows_changes() {
    let (mut writer, store) = store::<Pod>();
    writer.apply(restarted(vec![
        pod("a", "p1", "1", Some("rs-1")),
        pod("a", "p2", "2", Some("rs-1")),
        pod("a", "p3", "3", Some("rs-2")),
    ]));
    assert_eq!(names(&store.owned_by("rs-1")), ["a/p1", "a/p2"]);
    // p2 is released, p3 adopted by rs-1, p1 deleted.
    writer.apply(WatcherEvent::Applied(vec![
        WatchEvent::Modified(pod("a", "p2", "4", None)),
        WatchEvent::Modified(pod("a", "p3", "5", Some("rs-1"))),
        WatchEvent::Deleted(pod("a", "p1", "6", Some("rs-1"))),
    ]));
    assert_eq!(names(&store.owned_by("rs-1")), ["a/p3"]);
    assert!(store.owned_by("rs-2").is_empty());
    // A relist drops what is gone from the index too.
    writer.apply(restarted(vec![]));
    assert!(store.owned_by("rs-1").is_empty());
    assert!(store.is_empty());
}

fn on_node(mut pod: Pod, node: &str) -> Pod {
    pod.spec.get_or_insert_with(Default::default).node_name = Some(node.into());
    pod
}

fn node_of(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.clone())
        .into_iter()
        .collect()
}

#[test]
fn an_added_index_files_what_is_cached_and_follows_changes() {
    let (mut writer, store) = store::<Pod>();
    writer.apply(restarted(vec![
        on_node(pod("a", "p1", "1", None), "n1"),
        pod("a", "p2", "2", None),
    ]));
    store.add_index("node", node_of);
    // A second add under the same name keeps the first function.
    store.add_index("node", |_| vec!["n1".into()]);
    assert_eq!(names(&store.indexed("node", "n1")), ["a/p1"]);
    // p2 is bound, p1 moves (as a delete and re-create would).
    writer.apply(WatcherEvent::Applied(vec![
        WatchEvent::Modified(on_node(pod("a", "p2", "3", None), "n1")),
        WatchEvent::Modified(on_node(pod("a", "p1", "4", None), "n2")),
    ]));
    assert_eq!(names(&store.indexed("node", "n1")), ["a/p2"]);
    assert_eq!(names(&store.indexed("node", "n2")), ["a/p1"]);
    writer.apply(WatcherEvent::Applied(vec![WatchEvent::Deleted(on_node(
        pod("a", "p2", "5", None),
        "n1",
    ))]));
    assert!(store.indexed("node", "n1").is_empty());
    assert!(store.indexed("unknown", "n2").is_empty());
}
