//! The garbage collector's I/O over the kinds the manager caches (pods,
//! ReplicaSets, Deployments, ReplicationControllers, DaemonSets): which items a change
//! enqueues, and one sync carrying out [`crate::garbage_collector`]'s
//! decisions. An owner missing
//! from the cache is looked up live before its dependents are deleted (the
//! cache may not have seen it yet), and owners seen gone are remembered.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use api::ApiObject;
use api::k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use api::k8s_openapi::api::core::v1::{Pod, ReplicationController};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use client::{Client, DeleteParams, PropagationPolicy};
use runtime::{Action, Change, ObjectKey, Store};
use serde_json::json;

use super::Error;
use crate::garbage_collector::{
    Dependent, Owner, OwnerState, Propagation, decide_dependent, decide_owner, waits_for_dependents,
};

/// How many owner UIDs seen gone are remembered at most.
const ABSENT_OWNERS: usize = 10_000;

/// A kind the collector handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Pod,
    ReplicaSet,
    Deployment,
    ReplicationController,
    DaemonSet,
}

impl Kind {
    /// The kind an owner reference points at, if the collector handles it.
    fn of_reference(reference: &OwnerReference) -> Option<Kind> {
        let group = reference
            .api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group);
        match (group, reference.kind.as_str()) {
            ("", "Pod") => Some(Kind::Pod),
            ("apps", "ReplicaSet") => Some(Kind::ReplicaSet),
            ("apps", "Deployment") => Some(Kind::Deployment),
            ("", "ReplicationController") => Some(Kind::ReplicationController),
            ("apps", "DaemonSet") => Some(Kind::DaemonSet),
            _ => None,
        }
    }
}

/// Runs `$body` with `$k` the Rust type of `$kind`.
macro_rules! by_kind {
    ($kind:expr, $k:ident => $body:expr) => {
        match $kind {
            Kind::Pod => {
                type $k = Pod;
                $body
            }
            Kind::ReplicaSet => {
                type $k = ReplicaSet;
                $body
            }
            Kind::Deployment => {
                type $k = Deployment;
                $body
            }
            Kind::ReplicationController => {
                type $k = ReplicationController;
                $body
            }
            Kind::DaemonSet => {
                type $k = DaemonSet;
                $body
            }
        }
    };
}

/// The metadata of the objects in `store` with an owner reference to
/// `uid`, as objects of `kind`.
fn owned<K: ApiObject>(kind: Kind, store: &Store<K>, uid: &str) -> Vec<(Kind, ObjectMeta)> {
    store
        .owned_by(uid)
        .iter()
        .map(|object| (kind, object.metadata().clone()))
        .collect()
}

/// One object, as the queue knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl ObjectRef {
    fn of(kind: Kind, meta: &ObjectMeta) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
        }
    }
}

/// What the collector looks at: an object as a dependent (are its owners
/// gone?) or as an owner being deleted (orphan or wait for dependents).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    Dependent(ObjectRef),
    Owner(ObjectRef),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (role, object) = match self {
            Item::Dependent(object) => ("dependent", object),
            Item::Owner(object) => ("owner", object),
        };
        write!(
            f,
            "{role} {:?} {}/{}",
            object.kind, object.namespace, object.name
        )
    }
}

pub struct GarbageCollector {
    client: Client,
    pods: Store<Pod>,
    replica_sets: Store<ReplicaSet>,
    deployments: Store<Deployment>,
    replication_controllers: Store<ReplicationController>,
    daemon_sets: Store<DaemonSet>,
    /// Owner UIDs seen gone (a UID never comes back).
    absent: Mutex<HashSet<String>>,
}

impl GarbageCollector {
    pub fn new(
        client: Client,
        pods: Store<Pod>,
        replica_sets: Store<ReplicaSet>,
        deployments: Store<Deployment>,
        replication_controllers: Store<ReplicationController>,
        daemon_sets: Store<DaemonSet>,
    ) -> GarbageCollector {
        GarbageCollector {
            client,
            pods,
            replica_sets,
            deployments,
            replication_controllers,
            daemon_sets,
            absent: Mutex::new(HashSet::new()),
        }
    }

    fn absent(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.absent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, kind: Kind, namespace: &str, name: &str) -> Option<ObjectMeta> {
        let key = ObjectKey::new(namespace, name);
        match kind {
            Kind::Pod => self.pods.get(&key).map(|o| o.metadata.clone()),
            Kind::ReplicaSet => self.replica_sets.get(&key).map(|o| o.metadata.clone()),
            Kind::Deployment => self.deployments.get(&key).map(|o| o.metadata.clone()),
            Kind::ReplicationController => self
                .replication_controllers
                .get(&key)
                .map(|o| o.metadata.clone()),
            Kind::DaemonSet => self.daemon_sets.get(&key).map(|o| o.metadata.clone()),
        }
    }

    /// Every cached object with an owner reference to `uid`.
    fn dependents(&self, uid: &str) -> Vec<(Kind, ObjectMeta)> {
        [
            owned(Kind::Pod, &self.pods, uid),
            owned(Kind::ReplicaSet, &self.replica_sets, uid),
            owned(Kind::Deployment, &self.deployments, uid),
            owned(
                Kind::ReplicationController,
                &self.replication_controllers,
                uid,
            ),
            owned(Kind::DaemonSet, &self.daemon_sets, uid),
        ]
        .concat()
    }

    /// The items a change of an object of `kind` enqueues.
    pub fn changed<K: ApiObject>(&self, kind: Kind, change: &Change<K>) -> Vec<Item> {
        let meta = change.object().metadata();
        let mut items = Vec::new();
        if let Change::Deleted(_) = change {
            // Its dependents may have lost their last owner; owners that
            // wait for it may be done.
            let uid = meta.uid.as_deref().unwrap_or("");
            for (kind, dependent) in self.dependents(uid) {
                items.push(Item::Dependent(ObjectRef::of(kind, &dependent)));
            }
            for reference in meta.owner_references.iter().flatten() {
                if let Some(owner_kind) = Kind::of_reference(reference) {
                    items.push(Item::Owner(ObjectRef {
                        kind: owner_kind,
                        namespace: meta.namespace.clone().unwrap_or_default(),
                        name: reference.name.clone(),
                        uid: reference.uid.clone(),
                    }));
                }
            }
            return items;
        }
        if meta
            .owner_references
            .as_ref()
            .is_some_and(|refs| !refs.is_empty())
        {
            items.push(Item::Dependent(ObjectRef::of(kind, meta)));
        }
        if meta.deletion_timestamp.is_some()
            && meta.finalizers.as_ref().is_some_and(|f| !f.is_empty())
        {
            items.push(Item::Owner(ObjectRef::of(kind, meta)));
        }
        items
    }

    pub async fn sync(&self, item: Item) -> Result<Action, Error> {
        match item {
            Item::Dependent(object) => self.sync_dependent(&object).await,
            Item::Owner(object) => self.sync_owner(&object).await,
        }
    }

    /// The cached metadata of `object`, if it is still that object.
    fn current(&self, object: &ObjectRef) -> Option<ObjectMeta> {
        self.cached(object.kind, &object.namespace, &object.name)
            .filter(|meta| meta.uid.as_deref() == Some(object.uid.as_str()))
    }

    async fn owner_state(
        &self,
        namespace: &str,
        reference: &OwnerReference,
    ) -> Result<OwnerState, Error> {
        let Some(kind) = Kind::of_reference(reference) else {
            return Ok(OwnerState::Unknown);
        };
        if self.absent().contains(&reference.uid) {
            return Ok(OwnerState::Dangling);
        }
        let meta = match self.cached(kind, namespace, &reference.name) {
            Some(meta) if meta.uid.as_deref() == Some(reference.uid.as_str()) => Some(meta),
            // Not in the cache (or another object of that name): ask.
            _ => by_kind!(kind, K => {
                match self.client.get::<K>(namespace, &reference.name).await {
                    Ok(owner) => Some(owner.metadata),
                    Err(error) if error.is_not_found() => None,
                    Err(error) => return Err(error.into()),
                }
            }),
        };
        match meta {
            Some(meta) if meta.uid.as_deref() == Some(reference.uid.as_str()) => {
                Ok(if waits_for_dependents(&meta) {
                    OwnerState::Waiting
                } else {
                    OwnerState::Solid
                })
            }
            _ => {
                let mut absent = self.absent();
                // A bounded memory: forgetting costs one more lookup.
                if absent.len() >= ABSENT_OWNERS {
                    absent.clear();
                }
                absent.insert(reference.uid.clone());
                Ok(OwnerState::Dangling)
            }
        }
    }

    async fn sync_dependent(&self, object: &ObjectRef) -> Result<Action, Error> {
        let Some(meta) = self.current(object) else {
            return Ok(Action::Done);
        };
        let mut owners = Vec::new();
        for reference in meta.owner_references.iter().flatten() {
            owners.push((
                reference.uid.clone(),
                self.owner_state(&object.namespace, reference).await?,
            ));
        }
        let has_dependents = !self.dependents(&object.uid).is_empty();
        match decide_dependent(&meta, &owners, has_dependents) {
            Dependent::Nothing => {}
            Dependent::RemoveReferences(uids) => {
                let kept: Vec<&OwnerReference> = meta
                    .owner_references
                    .iter()
                    .flatten()
                    .filter(|reference| !uids.contains(&reference.uid))
                    .collect();
                self.patch(object, json!({"ownerReferences": if kept.is_empty() { json!(null) } else { json!(kept) }}))
                    .await?;
            }
            Dependent::Delete(propagation) => self.delete(object, propagation).await?,
        }
        Ok(Action::Done)
    }

    async fn sync_owner(&self, object: &ObjectRef) -> Result<Action, Error> {
        let Some(meta) = self.current(object) else {
            return Ok(Action::Done);
        };
        let dependents = self.dependents(&object.uid);
        let metas: Vec<&ObjectMeta> = dependents.iter().map(|(_, meta)| meta).collect();
        match decide_owner(&meta, &metas) {
            Owner::Nothing => {}
            Owner::Orphan(indexes) => {
                for index in indexes {
                    let Some((kind, dependent)) = dependents.get(index) else {
                        continue;
                    };
                    let kept: Vec<&OwnerReference> = dependent
                        .owner_references
                        .iter()
                        .flatten()
                        .filter(|reference| reference.uid != object.uid)
                        .collect();
                    let patch = json!({"ownerReferences": if kept.is_empty() { json!(null) } else { json!(kept) }});
                    self.patch(&ObjectRef::of(*kind, dependent), patch).await?;
                }
                self.remove_finalizer(object, &meta, crate::garbage_collector::ORPHAN_FINALIZER)
                    .await?;
            }
            Owner::DeleteDependents(indexes) => {
                for index in indexes {
                    if let Some((kind, dependent)) = dependents.get(index) {
                        self.sync_dependent(&ObjectRef::of(*kind, dependent))
                            .await?;
                    }
                }
            }
            Owner::RemoveFinalizer(finalizer) => {
                self.remove_finalizer(object, &meta, finalizer).await?
            }
        }
        Ok(Action::Done)
    }

    async fn remove_finalizer(
        &self,
        object: &ObjectRef,
        meta: &ObjectMeta,
        finalizer: &str,
    ) -> Result<(), Error> {
        let kept: Vec<&String> = meta
            .finalizers
            .iter()
            .flatten()
            .filter(|f| *f != finalizer)
            .collect();
        self.patch(
            object,
            json!({"finalizers": if kept.is_empty() { json!(null) } else { json!(kept) }}),
        )
        .await
    }

    /// Merge-patches `metadata` of `object` (only while it is still that
    /// object: the UID goes with the patch).
    async fn patch(
        &self,
        object: &ObjectRef,
        mut metadata: serde_json::Value,
    ) -> Result<(), Error> {
        metadata["uid"] = json!(object.uid);
        let patch = json!({"metadata": metadata});
        let result = by_kind!(object.kind, K => {
            self.client.patch::<K>(&object.namespace, &object.name, &patch).await.map(|_| ())
        });
        match result {
            Ok(()) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn delete(&self, object: &ObjectRef, propagation: Propagation) -> Result<(), Error> {
        let params = DeleteParams {
            precondition_uid: Some(object.uid.clone()),
            propagation_policy: Some(match propagation {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            ..DeleteParams::default()
        };
        let result = by_kind!(object.kind, K => {
            self.client
                .delete::<K>(&object.namespace, &object.name, &params)
                .await
                .map(|_| ())
        });
        match result {
            Ok(()) => Ok(()),
            // Gone, or replaced by another object of that name.
            Err(error) if error.is_not_found() || error.is_conflict() => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

impl super::Reconciler for GarbageCollector {
    type Key = Item;

    fn reconcile(&self, key: Item) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
