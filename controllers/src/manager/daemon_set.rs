//! The DaemonSet controller's I/O: which keys a change enqueues (a node
//! change may change where every DaemonSet runs), and one sync carrying
//! out [`crate::daemon_set::plan`]'s decisions, with expectations so a
//! sync never creates or deletes again for its own writes in flight.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use api::k8s_openapi::api::apps::v1::DaemonSet;
use api::k8s_openapi::api::core::v1::{Node, Pod};
use client::Client;
use runtime::{Action, Change, ObjectKey, Store};

use super::{Error, claims, pod_writes};
use crate::daemon_set::{Plan, plan, selector};
use crate::expectations::Expectations;
use crate::owner::controller_of;

pub struct DaemonSets {
    client: Client,
    daemon_sets: Store<DaemonSet>,
    nodes: Store<Node>,
    pods: Store<Pod>,
    expectations: Mutex<Expectations>,
}

impl DaemonSets {
    pub fn new(
        client: Client,
        daemon_sets: Store<DaemonSet>,
        nodes: Store<Node>,
        pods: Store<Pod>,
        expectations: Expectations,
    ) -> DaemonSets {
        DaemonSets {
            client,
            daemon_sets,
            nodes,
            pods,
            expectations: Mutex::new(expectations),
        }
    }

    fn expectations(&self) -> MutexGuard<'_, Expectations> {
        pod_writes::lock(&self.expectations)
    }

    fn controller_key(&self, pod: &Pod) -> Option<ObjectKey> {
        let reference = controller_of(&pod.metadata)?;
        if reference.kind != "DaemonSet" || !reference.api_version.starts_with("apps/") {
            return None;
        }
        let key = ObjectKey::new(
            pod.metadata.namespace.clone().unwrap_or_default(),
            reference.name.clone(),
        );
        let ds = self.daemon_sets.get(&key)?;
        (ds.metadata.uid.as_deref() == Some(reference.uid.as_str())).then_some(key)
    }

    pub fn daemon_set_changed(&self, change: &Change<DaemonSet>) -> Vec<ObjectKey> {
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// A node came, went, or changed labels or taints: every DaemonSet
    /// looks again.
    pub fn node_changed(&self, change: &Change<Node>) -> Vec<ObjectKey> {
        if let Change::Modified { old, new } = change
            && old.metadata.labels == new.metadata.labels
            && old.spec.as_ref().and_then(|s| s.taints.clone())
                == new.spec.as_ref().and_then(|s| s.taints.clone())
        {
            return Vec::new();
        }
        self.daemon_sets
            .list()
            .iter()
            .map(|ds| ObjectKey::of(ds.as_ref()))
            .collect()
    }

    /// A pod change enqueues its DaemonSet (or, for an orphan, those that
    /// may adopt it), observing expectations on the way.
    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        let pod = change.object();
        let Some(key) = self.controller_key(pod) else {
            if matches!(change, Change::Deleted(_)) {
                return Vec::new();
            }
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            return self
                .daemon_sets
                .list_namespace(pod.metadata.namespace.as_deref().unwrap_or(""))
                .iter()
                .filter(|ds| selector(ds).is_ok_and(|s| s.matches(&labels)))
                .map(|ds| ObjectKey::of(ds.as_ref()))
                .collect();
        };
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        let gone = matches!(change, Change::Deleted(_))
            || (pod.metadata.deletion_timestamp.is_some()
                && change
                    .old()
                    .is_none_or(|old| old.metadata.deletion_timestamp.is_none()));
        match change {
            Change::Added(_) if pod.metadata.deletion_timestamp.is_none() => {
                self.expectations().creation_observed(&key.to_string());
            }
            _ if gone => self.expectations().deletion_observed(&key.to_string(), uid),
            _ => {}
        }
        vec![key]
    }

    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let expectation_key = key.to_string();
        let Some(ds) = self.daemon_sets.get(&key) else {
            self.expectations().forget(&expectation_key);
            return Ok(Action::Done);
        };
        let nodes = self.nodes.list();
        let nodes: Vec<&Node> = nodes.iter().map(Arc::as_ref).collect();
        let pods = self.pods.list_namespace(&key.namespace);
        let now = runtime::clock::now();
        let Plan {
            adopt,
            release,
            create,
            delete,
            status,
        } = plan(&ds, &nodes, pods.iter().map(Arc::as_ref), now)?;
        for pod in adopt {
            claims::adopt(&self.client, "apps/v1", "DaemonSet", &ds.metadata, pod).await?;
        }
        let uid = ds.metadata.uid.as_deref().unwrap_or("");
        for pod in release {
            claims::release(&self.client, uid, pod).await?;
        }
        let mut failure = None;
        if self
            .expectations()
            .satisfied(&expectation_key, Instant::now())
        {
            if !create.is_empty() {
                failure =
                    pod_writes::create(&self.client, &self.expectations, &expectation_key, &create)
                        .await;
            }
            if !delete.is_empty() && failure.is_none() {
                failure =
                    pod_writes::delete(&self.client, &self.expectations, &expectation_key, &delete)
                        .await;
            }
        }
        if ds.status.as_ref() != Some(&status) {
            let mut updated = (*ds).clone();
            updated.status = Some(status);
            self.client.update_status(&updated).await?;
        }
        match failure {
            Some(message) => Err(Error::Sync(message)),
            None => Ok(Action::Done),
        }
    }
}

impl super::Reconciler for DaemonSets {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
