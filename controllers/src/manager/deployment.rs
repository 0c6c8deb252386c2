//! The Deployment controller's I/O: which keys a change enqueues, and one
//! sync carrying out [`crate::deployment::plan`]'s decisions (claim
//! ReplicaSets, create, scale and delete them, the revision annotation,
//! the status).

use std::sync::Arc;

use api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, DeleteParams};
use runtime::{Action, Change, ObjectKey, Store};

use super::{Error, claims};
use crate::deployment::{Input, Plan, Write, equal_ignore_hash, plan, selector};
use crate::owner::controller_of;

const API_VERSION: &str = "apps/v1";
const KIND: &str = "Deployment";

/// The Deployment controller's shared state.
pub struct Deployments {
    client: Client,
    deployments: Store<Deployment>,
    replica_sets: Store<ReplicaSet>,
    pods: Store<Pod>,
}

impl Deployments {
    pub fn new(
        client: Client,
        deployments: Store<Deployment>,
        replica_sets: Store<ReplicaSet>,
        pods: Store<Pod>,
    ) -> Deployments {
        Deployments {
            client,
            deployments,
            replica_sets,
            pods,
        }
    }

    /// The Deployment that controls `meta`'s object, if it is in the cache
    /// with the reference's UID.
    fn controller_key(
        &self,
        meta: &api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) -> Option<ObjectKey> {
        let reference = controller_of(meta)?;
        if reference.kind != KIND || !reference.api_version.starts_with("apps/") {
            return None;
        }
        let key = ObjectKey::new(
            meta.namespace.clone().unwrap_or_default(),
            reference.name.clone(),
        );
        let d = self.deployments.get(&key)?;
        (d.metadata.uid.as_deref() == Some(reference.uid.as_str())).then_some(key)
    }

    /// The Deployments of the ReplicaSet's namespace whose selector
    /// matches it (those that may adopt an orphan).
    fn matching(&self, rs: &ReplicaSet) -> Vec<ObjectKey> {
        let labels = rs.metadata.labels.clone().unwrap_or_default();
        self.deployments
            .list_namespace(rs.metadata.namespace.as_deref().unwrap_or(""))
            .iter()
            .filter(|d| selector(d).is_ok_and(|selector| selector.matches(&labels)))
            .map(|d| ObjectKey::of(d.as_ref()))
            .collect()
    }

    pub fn deployment_changed(&self, change: &Change<Deployment>) -> Vec<ObjectKey> {
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// A ReplicaSet change enqueues its Deployment (old and new, when the
    /// controller reference changed), or for an orphan those that may
    /// adopt it.
    pub fn replica_set_changed(&self, change: &Change<ReplicaSet>) -> Vec<ObjectKey> {
        let new = change.object();
        let mut keys: Vec<ObjectKey> = change
            .old()
            .and_then(|old| self.controller_key(&old.metadata))
            .into_iter()
            .collect();
        match self.controller_key(&new.metadata) {
            Some(key) => keys.push(key),
            None if !matches!(change, Change::Deleted(_)) => keys.extend(self.matching(new)),
            None => {}
        }
        keys.dedup();
        keys
    }

    /// A deleted pod may let a `Recreate` rollout go on: its ReplicaSet's
    /// Deployment looks again.
    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        let Change::Deleted(pod) = change else {
            return Vec::new();
        };
        let Some(reference) = controller_of(&pod.metadata) else {
            return Vec::new();
        };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        self.replica_sets
            .get(&ObjectKey::new(namespace, reference.name.clone()))
            .and_then(|rs| self.controller_key(&rs.metadata))
            .into_iter()
            .collect()
    }

    /// One sync of the Deployment `key`.
    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let Some(d) = self.deployments.get(&key) else {
            return Ok(Action::Done);
        };
        let replica_sets = self.replica_sets.list_namespace(&key.namespace);
        let pods = self.pods.list_namespace(&key.namespace);
        let input = Input {
            replica_sets: replica_sets.iter().map(Arc::as_ref).collect(),
            pods: pods.iter().map(Arc::as_ref).collect(),
            now: runtime::clock::now(),
        };
        let Plan {
            adopt,
            release,
            writes,
            revision,
            mut status,
            requeue_after,
        } = plan(&d, input)?;
        for rs in adopt {
            claims::adopt(&self.client, API_VERSION, KIND, &d.metadata, rs).await?;
        }
        let uid = d.metadata.uid.as_deref().unwrap_or("");
        for rs in release {
            claims::release(&self.client, uid, rs).await?;
        }
        let mut collided = false;
        for write in writes {
            match write {
                Write::Create(rs) => {
                    if !self.create(&d, &rs).await? {
                        // Another object holds the name: the next sync
                        // hashes with a higher collision count.
                        status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                        collided = true;
                        break;
                    }
                }
                Write::Update(rs) => {
                    self.client.update(&rs).await?;
                }
                Write::Delete { name, uid } => {
                    let params = DeleteParams {
                        precondition_uid: Some(uid),
                        ..DeleteParams::default()
                    };
                    match self
                        .client
                        .delete::<ReplicaSet>(&key.namespace, &name, &params)
                        .await
                    {
                        Ok(_) => {}
                        Err(error) if error.is_not_found() || error.is_conflict() => {}
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
        // The revision annotation first (an update, as Kubernetes' role
        // allows), then the status on the object that update returned.
        let mut current = (*d).clone();
        if let Some(revision) = revision {
            current
                .metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(crate::deployment::REVISION_ANNOTATION.to_string(), revision);
            current = self.client.update(&current).await?;
        }
        if d.status.as_ref() != Some(&status) {
            current.status = Some(status);
            self.client.update_status(&current).await?;
        }
        if collided {
            return Err(Error::Sync(format!(
                "the new ReplicaSet's name for Deployment {key} is taken; retrying with collision count {}",
                d.status
                    .as_ref()
                    .and_then(|s| s.collision_count)
                    .unwrap_or(0)
                    + 1
            )));
        }
        Ok(requeue_after.map_or(Action::Done, Action::requeue_after))
    }

    /// Creates the new ReplicaSet; `false` when the name is taken by one
    /// that is not this Deployment's with this template (a hash collision).
    async fn create(&self, d: &Deployment, rs: &ReplicaSet) -> Result<bool, Error> {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or("");
        match self.client.create(namespace, rs).await {
            Ok(_) => Ok(true),
            Err(error) if error.is_already_exists() => {
                let name = rs.metadata.name.as_deref().unwrap_or("");
                let existing = self.client.get::<ReplicaSet>(namespace, name).await?;
                let ours = controller_of(&existing.metadata).is_some_and(|reference| {
                    Some(reference.uid.as_str()) == d.metadata.uid.as_deref()
                });
                let template =
                    |rs: &ReplicaSet| rs.spec.as_ref().and_then(|spec| spec.template.clone());
                let same = template(&existing)
                    .zip(template(rs))
                    .is_some_and(|(a, b)| equal_ignore_hash(&a, &b));
                // Ours already (the cache lags): nothing to do.
                Ok(ours && same)
            }
            Err(error) => Err(error.into()),
        }
    }
}

impl super::Reconciler for Deployments {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
