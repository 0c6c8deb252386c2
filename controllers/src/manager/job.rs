//! The Job controller's I/O: which keys a change enqueues, and one sync
//! carrying out [`crate::job::plan`]'s decisions through the apiserver in
//! the order the tracking finalizer needs (claims; pods removed uncounted,
//! their finalizer first; creates; the status recording finished pods;
//! their finalizers removed; a failed Job's pods deleted; the status
//! counting them), with expectations so a sync never creates or deletes
//! again for its own writes in flight, and a memory of the finalizers it
//! removed that the cache has not shown yet, so no pod is counted twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use api::k8s_openapi::api::batch::v1::Job;
use api::k8s_openapi::api::core::v1::Pod;
use client::Client;
use runtime::{Action, Change, ObjectKey, Store};
use serde_json::json;

use super::{Error, pod_writes};
use crate::expectations::Expectations;
use crate::job::{
    API_VERSION, KIND, Plan, Removal, Settings, TRACKING_FINALIZER, flush, has_tracking_finalizer,
    plan, selector, stray_finalizers,
};
use crate::owner::{controller_of, controller_reference};

/// The Job controller's shared state.
pub struct Jobs {
    client: Client,
    jobs: Store<Job>,
    pods: Store<Pod>,
    expectations: Mutex<Expectations>,
    /// UIDs of pods whose tracking finalizer this controller removed and
    /// that the cache still shows with it (Kubernetes'
    /// `finalizerExpectations`).
    removing: Mutex<HashSet<String>>,
    settings: Settings,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A set of UIDs is consistent after every operation.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Jobs {
    pub fn new(
        client: Client,
        jobs: Store<Job>,
        pods: Store<Pod>,
        expectations: Expectations,
        settings: Settings,
    ) -> Jobs {
        Jobs {
            client,
            jobs,
            pods,
            expectations: Mutex::new(expectations),
            removing: Mutex::new(HashSet::new()),
            settings,
        }
    }

    fn expectations(&self) -> MutexGuard<'_, Expectations> {
        pod_writes::lock(&self.expectations)
    }

    /// The Job named by the pod's controller reference, if it is a Job
    /// (whether or not the cache has it).
    fn job_reference(pod: &Pod) -> Option<ObjectKey> {
        let reference = controller_of(&pod.metadata)?;
        (reference.kind == KIND && reference.api_version == API_VERSION).then(|| {
            ObjectKey::new(
                pod.metadata.namespace.clone().unwrap_or_default(),
                reference.name.clone(),
            )
        })
    }

    /// The key whose sync lets go of a pod holding the finalizer for a Job
    /// not in the cache: the Job its reference names, or for an orphan the
    /// one its `job-name` label names.
    fn stray_key(pod: &Pod) -> Option<ObjectKey> {
        if !has_tracking_finalizer(pod) {
            return None;
        }
        if let Some(key) = Self::job_reference(pod) {
            return Some(key);
        }
        if controller_of(&pod.metadata).is_some() {
            return None;
        }
        let labels = pod.metadata.labels.as_ref()?;
        let name = labels
            .get(api::job::JOB_NAME_LABEL)
            .or_else(|| labels.get(api::job::LEGACY_JOB_NAME_LABEL))?;
        Some(ObjectKey::new(
            pod.metadata.namespace.clone().unwrap_or_default(),
            name.clone(),
        ))
    }

    /// The keys a Job change enqueues: its own (a deleted Job's too: its
    /// pods' finalizers go).
    pub fn job_changed(&self, change: &Change<Job>) -> Vec<ObjectKey> {
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// The keys a pod change enqueues (its Job, old and new; for an orphan
    /// the Jobs that may adopt it; for a pod whose Job is gone, that Job's
    /// key), observing the expectations and finalizer removals it meets.
    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        let pod = change.object();
        if matches!(change, Change::Deleted(_)) || !has_tracking_finalizer(pod) {
            lock(&self.removing).remove(pod.metadata.uid.as_deref().unwrap_or(""));
        }
        let mut keys = pod_writes::pod_change_keys(self, change);
        if keys.is_empty()
            && !matches!(change, Change::Deleted(_))
            && let Some(key) = Self::stray_key(pod)
        {
            keys.push(key);
        }
        keys.dedup();
        keys
    }

    /// Merge-patches the pod's metadata, only while it is the object
    /// decided about (its resourceVersion pins it: finalizers and owner
    /// references are whole lists in a merge patch). Whether it went
    /// through (or the pod is gone).
    async fn patch_pod(&self, pod: &Pod, mut metadata: serde_json::Value) -> Result<(), Error> {
        metadata["uid"] = json!(pod.metadata.uid);
        metadata["resourceVersion"] = json!(pod.metadata.resource_version);
        let patch = json!({ "metadata": metadata });
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let name = pod.metadata.name.as_deref().unwrap_or("");
        match self.client.patch::<Pod>(namespace, name, &patch).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    fn finalizers_without_tracking(pod: &Pod) -> serde_json::Value {
        let kept: Vec<&String> = pod
            .metadata
            .finalizers
            .iter()
            .flatten()
            .filter(|finalizer| *finalizer != TRACKING_FINALIZER)
            .collect();
        if kept.is_empty() {
            json!(null)
        } else {
            json!(kept)
        }
    }

    /// Removes the tracking finalizer of `pod`, remembering it until the
    /// cache shows it.
    async fn remove_finalizer(&self, pod: &Pod) -> Result<(), Error> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        lock(&self.removing).insert(uid.clone());
        // A conflict (the pod changed since the cache saw it, e.g. this
        // sync just deleted it) fails the sync, whose retry reads it anew.
        let patch = json!({ "finalizers": Self::finalizers_without_tracking(pod) });
        let result = self.patch_pod(pod, patch).await;
        if result.is_err() {
            lock(&self.removing).remove(&uid);
        }
        result
    }

    /// Removes the finalizer of every pod in `pods`; the UIDs of those
    /// whose removal failed, and the first failure.
    async fn remove_finalizers(&self, pods: &[&Pod]) -> (HashSet<String>, Option<Error>) {
        let results =
            futures::future::join_all(pods.iter().map(|pod| self.remove_finalizer(pod))).await;
        let mut failed = HashSet::new();
        let mut first = None;
        for (pod, result) in pods.iter().zip(results) {
            if let Err(error) = result {
                failed.insert(pod.metadata.uid.clone().unwrap_or_default());
                first.get_or_insert(error);
            }
        }
        (failed, first)
    }

    /// Adopts the orphan `pod`: the Job becomes its controller and it gets
    /// the tracking finalizer, so it is counted once it finishes.
    async fn adopt(&self, job: &Job, pod: &Pod) -> Result<(), Error> {
        let Some(reference) = controller_reference(API_VERSION, KIND, &job.metadata) else {
            return Ok(());
        };
        let mut references = pod.metadata.owner_references.clone().unwrap_or_default();
        references.push(reference);
        let mut finalizers = pod.metadata.finalizers.clone().unwrap_or_default();
        if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
            finalizers.push(TRACKING_FINALIZER.to_string());
        }
        let patch = json!({ "ownerReferences": references, "finalizers": finalizers });
        self.patch_pod(pod, patch).await
    }

    /// Releases `pod`, which stopped matching: no reference, no finalizer.
    async fn release(&self, job_uid: &str, pod: &Pod) -> Result<(), Error> {
        let references: Vec<_> = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .filter(|reference| reference.uid != job_uid)
            .collect();
        let patch = json!({
            "ownerReferences": if references.is_empty() { json!(null) } else { json!(references) },
            "finalizers": Self::finalizers_without_tracking(pod),
        });
        self.patch_pod(pod, patch).await
    }

    /// Lets go of the pods that hold the finalizer for a Job named
    /// `key.name` that is gone (`job`: the one of that name now).
    async fn release_strays(&self, key: &ObjectKey, job: Option<&Job>) -> Result<(), Error> {
        let pods = self.pods.list_namespace(&key.namespace);
        let removing = lock(&self.removing).clone();
        let strays: Vec<&Pod> = stray_finalizers(job, &key.name, pods.iter().map(Arc::as_ref))
            .into_iter()
            .filter(|pod| !removing.contains(pod.metadata.uid.as_deref().unwrap_or("")))
            .collect();
        match self.remove_finalizers(&strays).await {
            (_, Some(error)) => Err(error),
            (_, None) => Ok(()),
        }
    }

    /// Writes `status` as the Job's (when it differs from `job`'s); the
    /// Job as stored after.
    async fn write_status(
        &self,
        job: Arc<Job>,
        status: api::k8s_openapi::api::batch::v1::JobStatus,
    ) -> Result<Arc<Job>, Error> {
        if job.status.as_ref() == Some(&status) {
            return Ok(job);
        }
        let mut updated = (*job).clone();
        updated.status = Some(status);
        Ok(Arc::new(self.client.update_status(&updated).await?))
    }

    /// One sync of the Job `key`.
    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let expectation_key = key.to_string();
        let Some(job) = self.jobs.get(&key) else {
            self.expectations().forget(&expectation_key);
            self.release_strays(&key, None).await?;
            return Ok(Action::Done);
        };
        self.release_strays(&key, Some(&job)).await?;
        let satisfied = self
            .expectations()
            .satisfied(&expectation_key, Instant::now());
        let removing = lock(&self.removing).clone();
        let pods = self.pods.list_namespace(&key.namespace);
        let now = runtime::clock::now();
        let Plan {
            adopt,
            release,
            delete,
            removal,
            create,
            mut status,
            remove_finalizers,
            mut keeping_finalizer,
            mut finished,
            requeue_after,
        } = plan(
            &job,
            pods.iter().map(Arc::as_ref),
            satisfied,
            &removing,
            &self.settings,
            now,
        )?;
        for pod in adopt {
            self.adopt(&job, pod).await?;
        }
        let job_uid = job.metadata.uid.as_deref().unwrap_or("");
        for pod in release {
            self.release(job_uid, pod).await?;
        }
        let mut failure = None;
        if removal == Removal::Uncounted && !delete.is_empty() {
            // Their finalizer goes first, so they are not counted; only
            // those that lost it are deleted.
            let (kept, error) = self.remove_finalizers(&delete).await;
            if let Some(error) = error {
                failure = Some(error.to_string());
            }
            let delete: Vec<&Pod> = delete
                .iter()
                .copied()
                .filter(|pod| !kept.contains(pod.metadata.uid.as_deref().unwrap_or("")))
                .collect();
            let deleted =
                pod_writes::delete(&self.client, &self.expectations, &expectation_key, &delete);
            if let Some(message) = deleted.await {
                failure.get_or_insert(message);
            }
        }
        if !create.is_empty() {
            let (created, error) = pod_writes::create_counted(
                &self.client,
                &self.expectations,
                &expectation_key,
                &create,
            )
            .await;
            if let Some(message) = error {
                let missing = i32::try_from(create.len() - created).unwrap_or(i32::MAX);
                let active = status.active.unwrap_or(0).saturating_sub(missing);
                status.active = (active > 0).then_some(active);
                failure.get_or_insert(message);
            }
        }
        let mut job = job;
        if !remove_finalizers.is_empty() {
            // Recorded first, so a pod whose finalizer goes is counted
            // even if this process stops now.
            job = self.write_status(job, status.clone()).await?;
            let (kept, error) = self.remove_finalizers(&remove_finalizers).await;
            keeping_finalizer.extend(kept);
            if let Some(error) = error {
                failure.get_or_insert(error.to_string());
            }
        }
        if removal == Removal::Counted && !delete.is_empty() {
            // Stopped once recorded as failed (and, mostly, without the
            // finalizer, so the delete does not race its removal).
            let deleted =
                pod_writes::delete(&self.client, &self.expectations, &expectation_key, &delete);
            if let Some(message) = deleted.await {
                failure.get_or_insert(message);
            }
        }
        if failure.is_some() {
            // The Job's pods are not what the status says; it does not
            // finish before a sync where every write went through.
            finished = None;
        }
        let status = flush(status, &keeping_finalizer, finished.as_ref());
        self.write_status(job, status).await?;
        if let Some(message) = failure {
            return Err(Error::Sync(message));
        }
        Ok(requeue_after.map_or(Action::Done, Action::requeue_after))
    }
}

impl super::Reconciler for Jobs {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}

impl pod_writes::PodOwner for Jobs {
    /// The cached Job that controls `pod` (same name and UID).
    fn controller_key(&self, pod: &Pod) -> Option<ObjectKey> {
        let key = Self::job_reference(pod)?;
        let reference = controller_of(&pod.metadata)?;
        let job = self.jobs.get(&key)?;
        (job.metadata.uid.as_deref() == Some(reference.uid.as_str())).then_some(key)
    }

    /// The Jobs of the pod's namespace whose selector matches it.
    fn matching(&self, pod: &Pod) -> Vec<ObjectKey> {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        self.jobs
            .list_namespace(pod.metadata.namespace.as_deref().unwrap_or(""))
            .iter()
            .filter(|job| selector(job).is_ok_and(|selector| selector.matches(&labels)))
            .map(|job| ObjectKey::of(job.as_ref()))
            .collect()
    }

    fn expectations(&self) -> &Mutex<Expectations> {
        &self.expectations
    }
}
