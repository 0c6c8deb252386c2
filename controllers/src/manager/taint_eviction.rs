//! The taint eviction controller's I/O: a pod bound to a node is synced
//! when it changes and, for every pod on the node, when the node's
//! NoExecute taints change; a sync carries out
//! [`crate::taint_eviction::eviction`], keeping each pod's timer (when it
//! was first seen under tolerated taints) and coming back at its deadline.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use api::k8s_openapi::api::core::v1::{Node, Pod, Taint};
use client::{Client, DeleteParams};
use runtime::{Action, Change, ObjectKey, Store};

use super::{Error, index_by_node, pods_on_node};
use crate::taint_eviction::{deadline, disruption_target, eviction, no_execute};

pub struct TaintEviction {
    client: Client,
    nodes: Store<Node>,
    pods: Store<Pod>,
    /// When each pod's timer started.
    timers: Mutex<HashMap<ObjectKey, Instant>>,
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref()
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    let taints = node
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.as_deref())
        .unwrap_or(&[]);
    no_execute(taints).into_iter().cloned().collect()
}

impl TaintEviction {
    pub fn new(client: Client, nodes: Store<Node>, pods: Store<Pod>) -> TaintEviction {
        index_by_node(&pods);
        TaintEviction {
            client,
            nodes,
            pods,
            timers: Mutex::new(HashMap::new()),
        }
    }

    fn timers(&self) -> MutexGuard<'_, HashMap<ObjectKey, Instant>> {
        // One insert or remove at a time: always consistent.
        self.timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        let pod = change.object();
        if matches!(change, Change::Deleted(_)) {
            self.timers().remove(&ObjectKey::of(pod.as_ref()));
            return Vec::new();
        }
        let bound = node_name(pod).is_some();
        let rebound = change
            .old()
            .is_some_and(|old| node_name(old) != node_name(pod));
        if bound && (matches!(change, Change::Added(_)) || rebound || self.could_matter(pod)) {
            return vec![ObjectKey::of(pod.as_ref())];
        }
        Vec::new()
    }

    /// A changed pod matters when its node has NoExecute taints (its
    /// tolerations may have changed).
    fn could_matter(&self, pod: &Pod) -> bool {
        node_name(pod)
            .and_then(|node| self.nodes.get(&ObjectKey::new("", node)))
            .is_some_and(|node| !no_execute_taints(&node).is_empty())
    }

    /// A node whose NoExecute taints changed: every pod on it.
    pub fn node_changed(&self, change: &Change<Node>) -> Vec<ObjectKey> {
        let keys = |taints: Vec<Taint>| -> Vec<(String, Option<String>)> {
            taints
                .into_iter()
                .map(|taint| (taint.key, taint.value))
                .collect()
        };
        let (before, after) = match change {
            Change::Added(node) => (Vec::new(), keys(no_execute_taints(node))),
            Change::Modified { old, new } => {
                (keys(no_execute_taints(old)), keys(no_execute_taints(new)))
            }
            Change::Deleted(node) => (keys(no_execute_taints(node)), Vec::new()),
        };
        if before == after {
            return Vec::new();
        }
        let name = change.object().metadata.name.as_deref().unwrap_or("");
        pods_on_node(&self.pods, name)
            .iter()
            .map(|pod| ObjectKey::of(pod.as_ref()))
            .collect()
    }

    async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let pod = self.pods.get(&key);
        let node = pod
            .as_deref()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none())
            .and_then(node_name)
            .and_then(|node| self.nodes.get(&ObjectKey::new("", node)));
        let (Some(pod), Some(node)) = (pod, node) else {
            self.timers().remove(&key);
            return Ok(Action::Done);
        };
        let taints = no_execute_taints(&node);
        let decision = eviction(&pod, &taints.iter().collect::<Vec<_>>());
        let now = Instant::now();
        let started = self.timers().get(&key).copied();
        let Some((start, at)) = deadline(decision, started, now) else {
            self.timers().remove(&key);
            return Ok(Action::Done);
        };
        if at > now {
            self.timers().insert(key, start);
            return Ok(Action::requeue_after(at - now));
        }
        self.evict(&pod, node.metadata.name.as_deref().unwrap_or(""))
            .await?;
        self.timers().remove(&key);
        Ok(Action::Done)
    }

    /// Marks the pod a disruption target, then deletes it (with its own
    /// grace period, and only while it is the same pod).
    async fn evict(&self, pod: &Pod, node: &str) -> Result<(), Error> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let name = pod.metadata.name.as_deref().unwrap_or("");
        tracing::info!(pod = %format!("{namespace}/{name}"), node, "deleting a pod for its node's NoExecute taints");
        if let Some(status) = disruption_target(pod, runtime::clock::now()) {
            let mut marked = pod.clone();
            marked.status = Some(status);
            match self.client.update_status(&marked).await {
                Ok(_) => {}
                Err(error) if error.is_not_found() => return Ok(()),
                // A conflict: the deletion below still goes ahead, as in
                // Kubernetes, where the condition is best effort.
                Err(error) => tracing::debug!(%error, "marking the pod a disruption target failed"),
            }
        }
        let params = DeleteParams {
            precondition_uid: pod.metadata.uid.clone(),
            ..DeleteParams::default()
        };
        match self.client.delete::<Pod>(namespace, name, &params).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

impl super::Reconciler for TaintEviction {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
