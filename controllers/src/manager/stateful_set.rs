//! The StatefulSet controller's I/O: which keys a change enqueues (the
//! set's, its pods', its claims'), and one sync carrying out
//! [`crate::stateful_set::plan`]'s decisions through the apiserver: claims
//! adopted and released, PersistentVolumeClaims created and their owner
//! references set, then pods created, relabeled and deleted, then the
//! status. Expectations keep a sync from creating or deleting again for
//! its own writes in flight (a pod of a fixed name created twice is a
//! conflict, not a second pod, but the retry would cost a backoff).
//!
//! The apiserver does not serve ControllerRevisions, so the templates of
//! the revisions a set went through are remembered here, from the set's
//! changes as the informer delivers them, for as long as a pod or the
//! status still names them; after a restart only the current template is
//! known.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use api::k8s_openapi::api::apps::v1::StatefulSet;
use api::k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use client::Client;
use runtime::{Action, Change, ObjectKey, Store};

use super::{Error, claims, pod_writes};
use crate::expectations::Expectations;
use crate::owner::controller_of;
use crate::stateful_set::{
    API_VERSION, History, KIND, Plan, claim_name, parent_and_ordinal, plan, pod_revision,
    revision_name, selector,
};

/// The StatefulSet controller's shared state.
pub struct StatefulSets {
    client: Client,
    stateful_sets: Store<StatefulSet>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    expectations: Mutex<Expectations>,
    /// Templates of the revisions each set went through, by revision name.
    history: Mutex<HashMap<ObjectKey, History>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A map of templates is consistent after every operation.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl StatefulSets {
    pub fn new(
        client: Client,
        stateful_sets: Store<StatefulSet>,
        pods: Store<Pod>,
        claims: Store<PersistentVolumeClaim>,
        expectations: Expectations,
    ) -> StatefulSets {
        StatefulSets {
            client,
            stateful_sets,
            pods,
            claims,
            expectations: Mutex::new(expectations),
            history: Mutex::new(HashMap::new()),
        }
    }

    fn expectations(&self) -> MutexGuard<'_, Expectations> {
        pod_writes::lock(&self.expectations)
    }

    /// The keys a pod change enqueues (its controller, old and new, or for
    /// an orphan the set that may adopt it), observing expectations on the
    /// way.
    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        pod_writes::pod_change_keys(self, change)
    }

    /// Remembers the template of `set`'s revision.
    fn remember(&self, set: &StatefulSet) {
        let Some(spec) = &set.spec else {
            return;
        };
        let name = set.metadata.name.as_deref().unwrap_or("");
        let collisions = set
            .status
            .as_ref()
            .and_then(|status| status.collision_count)
            .unwrap_or(0);
        let revision = revision_name(name, &spec.template, collisions);
        lock(&self.history)
            .entry(ObjectKey::of(set))
            .or_default()
            .entry(revision)
            .or_insert_with(|| spec.template.clone());
    }

    /// The keys a StatefulSet change enqueues: its own. Each template it
    /// shows is remembered for the revisions' pods.
    pub fn stateful_set_changed(&self, change: &Change<StatefulSet>) -> Vec<ObjectKey> {
        match change {
            Change::Added(set) => self.remember(set),
            Change::Modified { old, new } => {
                self.remember(old);
                self.remember(new);
            }
            Change::Deleted(_) => {}
        }
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// A claim change enqueues the sets whose templates name it
    /// (`<template>-<set>-<ordinal>`): a pod may be waiting for it to be
    /// created, or to go.
    pub fn claim_changed(&self, change: &Change<PersistentVolumeClaim>) -> Vec<ObjectKey> {
        let claim = change.object();
        let name = claim.metadata.name.as_deref().unwrap_or("");
        let Some((prefix, Some(ordinal))) = parent_and_ordinal(name) else {
            return Vec::new();
        };
        self.stateful_sets
            .list_namespace(claim.metadata.namespace.as_deref().unwrap_or(""))
            .iter()
            .filter(|set| {
                let set_name = set.metadata.name.as_deref().unwrap_or("");
                prefix.ends_with(&format!("-{set_name}"))
                    && set
                        .spec
                        .iter()
                        .flat_map(|spec| spec.volume_claim_templates.iter().flatten())
                        .filter_map(|template| template.metadata.name.as_deref())
                        .any(|template| claim_name(template, set_name, ordinal) == name)
            })
            .map(|set| ObjectKey::of(set.as_ref()))
            .collect()
    }

    /// Creates `claims`; one that exists already is fine (a cache behind).
    async fn create_claims(&self, claims: &[PersistentVolumeClaim]) -> Option<String> {
        for claim in claims {
            let namespace = claim.metadata.namespace.as_deref().unwrap_or("");
            match self.client.create(namespace, claim).await {
                Ok(_) => {}
                Err(error) if error.is_already_exists() => {}
                Err(error) => {
                    let name = claim.metadata.name.as_deref().unwrap_or("");
                    return Some(format!("creating PersistentVolumeClaim {name}: {error}"));
                }
            }
        }
        None
    }

    /// Writes `objects` back (claims with new owner references, pods with
    /// their identity labels); a conflict is retried by the next sync.
    async fn update_all<K: api::ApiObject>(&self, objects: &[K]) -> Option<String> {
        for object in objects {
            match self.client.update(object).await {
                Ok(_) => {}
                Err(error) if error.is_not_found() => {}
                Err(error) => {
                    let name = object.metadata().name.as_deref().unwrap_or("");
                    return Some(format!("updating {} {name}: {error}", K::KIND));
                }
            }
        }
        None
    }

    /// Forgets the templates of revisions neither the status nor a pod
    /// names any more.
    fn prune_history(&self, key: &ObjectKey, set: &StatefulSet, pods: &[Arc<Pod>]) {
        let uid = set.metadata.uid.as_deref().unwrap_or("");
        let status = set.status.as_ref();
        let mut live: HashSet<String> = pods
            .iter()
            .filter(|pod| controller_of(&pod.metadata).is_some_and(|r| r.uid == uid))
            .map(|pod| pod_revision(pod).to_string())
            .collect();
        live.extend(status.and_then(|s| s.current_revision.clone()));
        live.extend(status.and_then(|s| s.update_revision.clone()));
        live.insert(crate::stateful_set::update_revision(set));
        if let Some(history) = lock(&self.history).get_mut(key) {
            history.retain(|revision, _| live.contains(revision));
        }
    }

    /// One sync of the StatefulSet `key`.
    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let expectation_key = key.to_string();
        let Some(set) = self.stateful_sets.get(&key) else {
            self.expectations().forget(&expectation_key);
            lock(&self.history).remove(&key);
            return Ok(Action::Done);
        };
        let satisfied = self
            .expectations()
            .satisfied(&expectation_key, Instant::now());
        let pods = self.pods.list_namespace(&key.namespace);
        let claims = self.claims.list_namespace(&key.namespace);
        let history = lock(&self.history).get(&key).cloned().unwrap_or_default();
        let now = runtime::clock::now();
        let Plan {
            adopt,
            release,
            create_claims,
            update_claims,
            create,
            update,
            delete,
            status,
            requeue_after,
            blocked,
        } = plan(
            &set,
            pods.iter().map(Arc::as_ref),
            claims.iter().map(Arc::as_ref),
            &history,
            now,
        )?;
        for pod in adopt {
            claims::adopt(&self.client, API_VERSION, KIND, &set.metadata, pod).await?;
        }
        let uid = set.metadata.uid.as_deref().unwrap_or("");
        for pod in release {
            claims::release(&self.client, uid, pod).await?;
        }
        let mut failure = None;
        if satisfied {
            // A pod never starts without its claims.
            failure = self.create_claims(&create_claims).await;
            if failure.is_none() {
                failure = self.update_all(&update_claims).await;
            }
            if failure.is_none() && !create.is_empty() {
                failure =
                    pod_writes::create(&self.client, &self.expectations, &expectation_key, &create)
                        .await;
            }
            if failure.is_none() {
                failure = self.update_all(&update).await;
            }
            if failure.is_none() && !delete.is_empty() {
                failure =
                    pod_writes::delete(&self.client, &self.expectations, &expectation_key, &delete)
                        .await;
            }
        }
        if set.status.as_ref() != Some(&status) {
            let mut updated = (*set).clone();
            updated.status = Some(status);
            self.client.update_status(&updated).await?;
            self.prune_history(&key, &updated, &pods);
        } else {
            self.prune_history(&key, &set, &pods);
        }
        if let Some(message) = failure.or(blocked) {
            return Err(Error::Sync(message));
        }
        Ok(requeue_after.map_or(Action::Done, Action::requeue_after))
    }
}

impl super::Reconciler for StatefulSets {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}

impl pod_writes::PodOwner for StatefulSets {
    /// The cached StatefulSet that controls `pod` (same name and UID).
    fn controller_key(&self, pod: &Pod) -> Option<ObjectKey> {
        let reference = controller_of(&pod.metadata)?;
        if reference.kind != KIND || reference.api_version != API_VERSION {
            return None;
        }
        let key = ObjectKey::new(
            pod.metadata.namespace.clone().unwrap_or_default(),
            reference.name.clone(),
        );
        let set = self.stateful_sets.get(&key)?;
        (set.metadata.uid.as_deref() == Some(reference.uid.as_str())).then_some(key)
    }

    /// The sets that may adopt the orphan `pod`: named after it, with a
    /// selector that matches it.
    fn matching(&self, pod: &Pod) -> Vec<ObjectKey> {
        let Some((parent, _)) = pod.metadata.name.as_deref().and_then(parent_and_ordinal) else {
            return Vec::new();
        };
        let key = ObjectKey::new(
            pod.metadata.namespace.clone().unwrap_or_default(),
            parent.to_string(),
        );
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        self.stateful_sets
            .get(&key)
            .filter(|set| selector(set).is_ok_and(|selector| selector.matches(&labels)))
            .map(|_| vec![key])
            .unwrap_or_default()
    }

    fn expectations(&self) -> &Mutex<Expectations> {
        &self.expectations
    }
}
