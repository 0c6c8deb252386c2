//! The ReplicaSet controller's I/O (and the ReplicationController's, the
//! same logic over its ReplicaSet view): which keys a change enqueues, and one
//! sync carrying out [`crate::replica_set::plan`]'s decisions through the
//! apiserver (adopt and release by patching owner references, create in
//! slow-start batches, delete, write the status), with expectations so a
//! sync never creates or deletes again for its own writes in flight.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use api::k8s_openapi::api::apps::v1::ReplicaSet;
use api::k8s_openapi::api::core::v1::Pod;
use client::Client;
use runtime::{Action, Change, ObjectKey, Store};

use super::{Error, claims, pod_writes};
use crate::expectations::Expectations;
use crate::owner::controller_of;
use crate::replica_set::{
    Plan, Replicated, Scale, plan, pod_from_template, selector, with_failure,
};

/// The ReplicaSet controller's shared state: the caches it reads, its
/// expectations and the client it writes through.
pub struct ReplicaSets<K> {
    client: Client,
    replica_sets: Store<K>,
    pods: Store<Pod>,
    expectations: Mutex<Expectations>,
}

fn key_string(key: &ObjectKey) -> String {
    key.to_string()
}

impl<K: Replicated> ReplicaSets<K> {
    pub fn new(
        client: Client,
        replica_sets: Store<K>,
        pods: Store<Pod>,
        expectations: Expectations,
    ) -> ReplicaSets<K> {
        ReplicaSets {
            client,
            replica_sets,
            pods,
            expectations: Mutex::new(expectations),
        }
    }

    fn expectations(&self) -> MutexGuard<'_, Expectations> {
        pod_writes::lock(&self.expectations)
    }

    /// The keys a pod change enqueues (its controller, old and new, or
    /// for an orphan the ReplicaSets that may adopt it), observing the
    /// expectations it meets on the way.
    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        pod_writes::pod_change_keys(self, change)
    }

    /// The keys a ReplicaSet change enqueues: its own.
    pub fn replica_set_changed(&self, change: &Change<K>) -> Vec<ObjectKey> {
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// The pods that count as neighbours of `rs`'s when ranking pods for
    /// deletion: those of every ReplicaSet with the same controller (a
    /// Deployment's), or its own.
    fn related(&self, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or("");
        let siblings: Vec<String> = match controller_of(&rs.metadata) {
            Some(owner) => self
                .replica_sets
                .list_namespace(namespace)
                .iter()
                .filter(|other| controller_of(other.metadata()).is_some_and(|o| o.uid == owner.uid))
                .filter_map(|other| other.metadata().uid.clone())
                .collect(),
            None => rs.metadata.uid.iter().cloned().collect(),
        };
        siblings
            .iter()
            .flat_map(|uid| self.pods.owned_by(uid))
            .collect()
    }

    /// One sync of the ReplicaSet `key`.
    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let expectation_key = key_string(&key);
        let Some(object) = self.replica_sets.get(&key) else {
            self.expectations().forget(&expectation_key);
            return Ok(Action::Done);
        };
        let rs = object.as_replica_set();
        let satisfied = self
            .expectations()
            .satisfied(&expectation_key, Instant::now());
        let pods = self.pods.list_namespace(&key.namespace);
        let related = self.related(&rs);
        let related: Vec<&Pod> = related.iter().map(Arc::as_ref).collect();
        let now = runtime::clock::now();
        let plan = plan(&rs, pods.iter().map(Arc::as_ref), &related, satisfied, now)?;
        let Plan {
            adopt,
            release,
            scale,
            status,
            requeue_after,
        } = plan;
        let mut failure = None;
        for pod in adopt {
            claims::adopt(&self.client, K::API_VERSION, K::KIND, &rs.metadata, pod).await?;
        }
        let uid = rs.metadata.uid.as_deref().unwrap_or("");
        for pod in release {
            claims::release(&self.client, uid, pod).await?;
        }
        match scale {
            Scale::Hold => {}
            Scale::Create(count) => {
                let template = rs.spec.as_ref().and_then(|spec| spec.template.as_ref());
                if let Some(template) = template {
                    let pod = pod_from_template(template, K::API_VERSION, K::KIND, &rs.metadata);
                    let pods = vec![pod; count];
                    let created = pod_writes::create(
                        &self.client,
                        &self.expectations,
                        &expectation_key,
                        &pods,
                    );
                    if let Some(message) = created.await {
                        failure = Some(("FailedCreate", message));
                    }
                }
            }
            Scale::Delete(pods) => {
                let deleted =
                    pod_writes::delete(&self.client, &self.expectations, &expectation_key, &pods);
                if let Some(message) = deleted.await {
                    failure = Some(("FailedDelete", message));
                }
            }
        }
        let status = with_failure(
            status,
            failure
                .as_ref()
                .map(|(reason, message)| (*reason, message.as_str())),
            now,
        );
        if rs.status.as_ref() != Some(&status) {
            self.client
                .update_status(&object.with_status(status))
                .await?;
        }
        if let Some((_, message)) = failure {
            return Err(Error::Sync(message));
        }
        Ok(requeue_after.map_or(Action::Done, Action::requeue_after))
    }
}

impl<K: Replicated> super::Reconciler for ReplicaSets<K> {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}

impl<K: Replicated> pod_writes::PodOwner for ReplicaSets<K> {
    /// The ReplicaSet that controls `pod`, if it is one in the cache (same
    /// name and UID as the pod's controller reference).
    fn controller_key(&self, pod: &Pod) -> Option<ObjectKey> {
        let reference = controller_of(&pod.metadata)?;
        if reference.kind != K::KIND || reference.api_version != K::API_VERSION {
            return None;
        }
        let key = ObjectKey::new(
            pod.metadata.namespace.clone().unwrap_or_default(),
            reference.name.clone(),
        );
        let rs = self.replica_sets.get(&key)?;
        (rs.metadata().uid.as_deref() == Some(reference.uid.as_str())).then_some(key)
    }

    /// The ReplicaSets of the pod's namespace whose selector matches it
    /// (those that may adopt an orphan).
    fn matching(&self, pod: &Pod) -> Vec<ObjectKey> {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        self.replica_sets
            .list_namespace(pod.metadata.namespace.as_deref().unwrap_or(""))
            .iter()
            .filter(|rs| {
                selector(&rs.as_replica_set()).is_ok_and(|selector| selector.matches(&labels))
            })
            .map(|rs| ObjectKey::of(rs.as_ref()))
            .collect()
    }

    fn expectations(&self) -> &Mutex<Expectations> {
        &self.expectations
    }
}
