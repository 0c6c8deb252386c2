//! The garbage collector's I/O over the kinds of [`collected_kinds!`]:
//! which items a change enqueues, and one sync carrying out
//! [`crate::garbage_collector`]'s decisions. An owner missing from the
//! cache is looked up live before its dependents are deleted (the cache
//! may not have seen it yet), and owners seen gone are remembered.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use api::ApiObject;
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

/// Calls `$m! { (Variant, Type, field), ... }` with every kind the
/// collector caches and handles, owners and dependents alike: the kinds
/// Skiff's controllers own (pods, workloads, Service endpoints, claims)
/// and what users commonly hang on an owner (config maps, secrets), and
/// node leases, owned by their Node.
macro_rules! collected_kinds {
    ($m:ident) => {
        $m! {
            (Pod, ::api::k8s_openapi::api::core::v1::Pod, pods),
            (ReplicaSet, ::api::k8s_openapi::api::apps::v1::ReplicaSet, replica_sets),
            (Deployment, ::api::k8s_openapi::api::apps::v1::Deployment, deployments),
            (ReplicationController, ::api::k8s_openapi::api::core::v1::ReplicationController, replication_controllers),
            (DaemonSet, ::api::k8s_openapi::api::apps::v1::DaemonSet, daemon_sets),
            (StatefulSet, ::api::k8s_openapi::api::apps::v1::StatefulSet, stateful_sets),
            (Job, ::api::k8s_openapi::api::batch::v1::Job, jobs),
            (CronJob, ::api::k8s_openapi::api::batch::v1::CronJob, cron_jobs),
            (Service, ::api::k8s_openapi::api::core::v1::Service, services),
            (Endpoints, ::api::k8s_openapi::api::core::v1::Endpoints, endpoints),
            (EndpointSlice, ::api::k8s_openapi::api::discovery::v1::EndpointSlice, endpoint_slices),
            (PersistentVolumeClaim, ::api::k8s_openapi::api::core::v1::PersistentVolumeClaim, persistent_volume_claims),
            (ConfigMap, ::api::k8s_openapi::api::core::v1::ConfigMap, config_maps),
            (Secret, ::api::k8s_openapi::api::core::v1::Secret, secrets),
            (Node, ::api::k8s_openapi::api::core::v1::Node, nodes),
            (Lease, ::api::k8s_openapi::api::coordination::v1::Lease, leases),
        }
    };
}

macro_rules! kinds {
    ($( ($variant:ident, $t:ty, $field:ident) ),* $(,)?) => {
        /// A kind the collector handles.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $( $variant, )*
        }

        impl Kind {
            fn info(self) -> &'static api::KindInfo {
                match self {
                    $( Kind::$variant => &<$t as ApiObject>::INFO, )*
                }
            }

            /// The kind an owner reference points at, if the collector
            /// handles it.
            fn of_reference(reference: &OwnerReference) -> Option<Kind> {
                let group = reference
                    .api_version
                    .rsplit_once('/')
                    .map_or("", |(group, _)| group);
                [$( Kind::$variant, )*]
                    .into_iter()
                    .find(|kind| kind.info().group == group && kind.info().kind == reference.kind)
            }
        }

        /// The collector's caches, one per kind.
        pub struct Stores {
            $( pub $field: Store<$t>, )*
        }

        impl Stores {
            fn cached(&self, kind: Kind, key: &ObjectKey) -> Option<ObjectMeta> {
                match kind {
                    $( Kind::$variant => self.$field.get(key).map(|o| o.metadata.clone()), )*
                }
            }

            /// Every cached object with an owner reference to `uid`.
            fn dependents(&self, uid: &str) -> Vec<(Kind, ObjectMeta)> {
                let mut all = Vec::new();
                $( all.extend(owned(Kind::$variant, &self.$field, uid)); )*
                all
            }
        }

        /// Runs `$body` with `$k` the Rust type of `$kind`.
        macro_rules! by_kind {
            ($kind:expr, $k:ident => $body:expr) => {
                match $kind {
                    $( Kind::$variant => {
                        type $k = $t;
                        $body
                    } )*
                }
            };
        }
    };
}

pub(crate) use collected_kinds;

collected_kinds!(kinds);

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
    stores: Stores,
    /// Owner UIDs seen gone (a UID never comes back).
    absent: Mutex<HashSet<String>>,
}

impl GarbageCollector {
    pub fn new(client: Client, stores: Stores) -> GarbageCollector {
        GarbageCollector {
            client,
            stores,
            absent: Mutex::new(HashSet::new()),
        }
    }

    fn absent(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.absent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, kind: Kind, namespace: &str, name: &str) -> Option<ObjectMeta> {
        self.stores.cached(kind, &ObjectKey::new(namespace, name))
    }

    fn dependents(&self, uid: &str) -> Vec<(Kind, ObjectMeta)> {
        self.stores.dependents(uid)
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
                    let namespace = match owner_kind.info().namespaced {
                        true => meta.namespace.clone().unwrap_or_default(),
                        false => String::new(),
                    };
                    items.push(Item::Owner(ObjectRef {
                        kind: owner_kind,
                        namespace,
                        name: reference.name.clone(),
                        uid: reference.uid.clone(),
                    }));
                }
            }
            return items;
        }
        // A dependent is looked at when it appears (a relist included) or
        // its references change; its owners' deletes bring it back.
        let references_changed = change
            .old()
            .is_none_or(|old| old.metadata().owner_references != meta.owner_references);
        if references_changed
            && meta
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
        // A namespaced object may be owned by a cluster-scoped one.
        let namespace = if kind.info().namespaced {
            namespace
        } else {
            ""
        };
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

    /// What to do with a dependent whose metadata is `meta`.
    async fn decide(&self, object: &ObjectRef, meta: &ObjectMeta) -> Result<Dependent, Error> {
        let mut owners = Vec::new();
        for reference in meta.owner_references.iter().flatten() {
            owners.push((
                reference.uid.clone(),
                self.owner_state(&object.namespace, reference).await?,
            ));
        }
        let has_dependents = !self.dependents(&object.uid).is_empty();
        Ok(decide_dependent(meta, &owners, has_dependents))
    }

    /// The dependent's metadata as the apiserver holds it now, while it is
    /// still that object.
    async fn live(&self, object: &ObjectRef) -> Result<Option<ObjectMeta>, Error> {
        let result = by_kind!(object.kind, K => {
            self.client
                .get::<K>(&object.namespace, &object.name)
                .await
                .map(|live| live.metadata)
        });
        match result {
            Ok(meta) => Ok((meta.uid.as_deref() == Some(object.uid.as_str())).then_some(meta)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn sync_dependent(&self, object: &ObjectRef) -> Result<Action, Error> {
        let Some(cached) = self.current(object) else {
            return Ok(Action::Done);
        };
        if matches!(self.decide(object, &cached).await?, Dependent::Nothing) {
            return Ok(Action::Done);
        }
        // Act on what the apiserver holds, as Kubernetes' collector does:
        // the cache may not show yet that an orphaning owner removed its
        // reference a moment ago.
        let Some(meta) = self.live(object).await? else {
            return Ok(Action::Done);
        };
        match self.decide(object, &meta).await? {
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
