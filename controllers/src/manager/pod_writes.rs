//! The pod creates and deletes of the controllers that own pods
//! directly (ReplicaSet, ReplicationController, DaemonSet, Job,
//! StatefulSet), each recorded in the controller's expectations first, so
//! its next sync waits until the cache has seen them.

use std::sync::Mutex;
use std::time::Instant;

use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, DeleteParams};
use futures::future::join_all;
use runtime::{Change, ObjectKey};

use crate::expectations::Expectations;
use crate::replica_set::slow_start_batches;

pub(crate) fn lock(expectations: &Mutex<Expectations>) -> std::sync::MutexGuard<'_, Expectations> {
    // Each method of Expectations leaves it consistent.
    expectations
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates `pods` for the controller `key` in slow-start batches (1, 2,
/// 4, …); a batch with a failure stops the rest, so a quota or admission
/// error costs one request, not all. Returns the first failure.
pub(crate) async fn create(
    client: &Client,
    expectations: &Mutex<Expectations>,
    key: &str,
    pods: &[Pod],
) -> Option<String> {
    create_counted(client, expectations, key, pods).await.1
}

/// [`create`], also returning how many pods were created (a status
/// counting the new pods must not count those that failed).
pub(crate) async fn create_counted(
    client: &Client,
    expectations: &Mutex<Expectations>,
    key: &str,
    pods: &[Pod],
) -> (usize, Option<String>) {
    lock(expectations).expect_creations(key, pods.len(), Instant::now());
    let mut created = 0;
    let mut rest = pods;
    for batch in slow_start_batches(pods.len()) {
        let (now, later) = rest.split_at(batch.min(rest.len()));
        rest = later;
        let results = join_all(now.iter().map(|pod| {
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            async move { client.create(&namespace, pod).await }
        }))
        .await;
        let failures: Vec<client::Error> = results.into_iter().filter_map(Result::err).collect();
        created += now.len() - failures.len();
        if let Some(first) = failures.first() {
            // What failed or was skipped will never be observed.
            let mut expectations = lock(expectations);
            for _ in 0..failures.len() + rest.len() {
                expectations.creation_observed(key);
            }
            return (created, Some(format!("creating pods: {first}")));
        }
    }
    (created, None)
}

/// Deletes `pods` (each only while it has its UID) for the controller
/// `key`; returns the first failure other than "already gone".
pub(crate) async fn delete(
    client: &Client,
    expectations: &Mutex<Expectations>,
    key: &str,
    pods: &[&Pod],
) -> Option<String> {
    let uids = pods.iter().filter_map(|pod| pod.metadata.uid.clone());
    lock(expectations).expect_deletions(key, uids, Instant::now());
    let results = join_all(pods.iter().map(|pod| {
        let params = DeleteParams {
            precondition_uid: pod.metadata.uid.clone(),
            ..DeleteParams::default()
        };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        async move { client.delete::<Pod>(&namespace, &name, &params).await }
    }))
    .await;
    let mut first = None;
    for (pod, result) in pods.iter().zip(results) {
        if let Err(error) = result {
            // Not deleted by this request: its deletion will not be
            // observed (or it was already gone, and was).
            lock(expectations).deletion_observed(key, pod.metadata.uid.as_deref().unwrap_or(""));
            if !error.is_not_found() && first.is_none() {
                first = Some(format!("deleting pods: {error}"));
            }
        }
    }
    first
}

/// What a controller that owns pods directly tells [`pod_change_keys`].
pub(crate) trait PodOwner {
    /// The controller (in the cache, same UID) that owns `pod`.
    fn controller_key(&self, pod: &Pod) -> Option<ObjectKey>;
    /// The controllers whose selector matches an orphan `pod`.
    fn matching(&self, pod: &Pod) -> Vec<ObjectKey>;
    fn expectations(&self) -> &Mutex<Expectations>;
}

/// The keys a pod change enqueues, observing the owner's expectations on
/// the way (Kubernetes' `addPod`/`updatePod`/`deletePod`): its controller
/// before and after the change, or for an orphan the controllers that may
/// adopt it (when its labels changed or it was just released).
pub(crate) fn pod_change_keys(owner: &impl PodOwner, change: &Change<Pod>) -> Vec<ObjectKey> {
    let deletion_observed = |key: &ObjectKey, pod: &Pod| {
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        lock(owner.expectations()).deletion_observed(&key.to_string(), uid);
    };
    match change {
        Change::Added(pod) => match owner.controller_key(pod) {
            Some(key) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    deletion_observed(&key, pod);
                } else {
                    lock(owner.expectations()).creation_observed(&key.to_string());
                }
                vec![key]
            }
            None if pod.metadata.deletion_timestamp.is_none() => owner.matching(pod),
            None => Vec::new(),
        },
        Change::Modified { old, new } => {
            let (old_key, new_key) = (owner.controller_key(old), owner.controller_key(new));
            if let Some(key) = &new_key
                && new.metadata.deletion_timestamp.is_some()
                && old.metadata.deletion_timestamp.is_none()
            {
                deletion_observed(key, new);
            }
            let mut keys: Vec<ObjectKey> = old_key.iter().cloned().collect();
            match new_key {
                Some(key) => keys.push(key),
                None if old.metadata.labels != new.metadata.labels || old_key.is_some() => {
                    keys.extend(owner.matching(new));
                }
                None => {}
            }
            keys.dedup();
            keys
        }
        Change::Deleted(pod) => match owner.controller_key(pod) {
            Some(key) => {
                deletion_observed(&key, pod);
                vec![key]
            }
            None => Vec::new(),
        },
    }
}
