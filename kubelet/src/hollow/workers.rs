//! The pool of pod status writers: a fixed number of tasks draining one
//! queue of jobs (write a pod's status, then maybe delete it), so status
//! writes run concurrently without a task per pod, and report each outcome
//! back to the pod manager.
//!
//! A status write is guarded by the pod's resourceVersion; on a conflict the
//! worker re-reads the pod and writes again if it is still the same pod
//! (same uid). A delete is the kubelet's final one: grace period 0 with a
//! uid precondition, so a new pod of the same name is never touched.

use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Pod, PodStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use client::{Client, DeleteParams};
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use crate::hollow::register::is_transient;
use crate::hollow::{Stats, wait_stopped};

/// Attempts of one job before it is reported failed.
const ATTEMPTS: u32 = 6;

/// One pod write.
#[derive(Debug)]
pub(super) struct Job {
    /// `namespace/name`.
    pub(super) key: Arc<str>,
    pub(super) namespace: String,
    pub(super) name: String,
    pub(super) uid: Arc<str>,
    /// The version the status is written against.
    pub(super) resource_version: Option<String>,
    /// Written first, if any.
    pub(super) status: Option<PodStatus>,
    /// Then delete the pod (grace 0, uid precondition).
    pub(super) delete: bool,
}

/// What became of a job.
#[derive(Debug)]
pub(super) struct JobResult {
    pub(super) key: Arc<str>,
    pub(super) uid: Arc<str>,
    pub(super) outcome: Outcome,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Written (and deleted if asked); the pod's new resourceVersion if it
    /// still exists.
    Done { resource_version: Option<u64> },
    /// The pod is gone or was replaced by another of the same name.
    Gone,
    /// Failed for a reason retrying now did not cure.
    Failed,
}

/// Starts `workers` writers over `clients` (round robin); returns the job
/// queue and the stream of results.
pub(super) fn spawn(
    clients: Vec<Client>,
    workers: usize,
    stats: Arc<Stats>,
    stopped: watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> (
    mpsc::UnboundedSender<Job>,
    mpsc::UnboundedReceiver<JobResult>,
) {
    let (jobs, queue) = mpsc::unbounded_channel::<Job>();
    let (results, results_receiver) = mpsc::unbounded_channel::<JobResult>();
    // Workers take turns receiving; the lock is held only while waiting
    // for the next job.
    let queue = Arc::new(Mutex::new(queue));
    for worker in 0..workers.max(1) {
        let client = clients[worker % clients.len()].clone();
        tasks.push(tokio::spawn(run_worker(
            client,
            queue.clone(),
            results.clone(),
            stats.clone(),
            stopped.clone(),
        )));
    }
    (jobs, results_receiver)
}

async fn run_worker(
    client: Client,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    results: mpsc::UnboundedSender<JobResult>,
    stats: Arc<Stats>,
    stopped: watch::Receiver<bool>,
) {
    let mut stop = std::pin::pin!(wait_stopped(stopped));
    loop {
        let next = async { queue.lock().await.recv().await };
        let job = tokio::select! {
            () = &mut stop => return,
            job = next => job,
        };
        let Some(job) = job else { return };
        let outcome = tokio::select! {
            () = &mut stop => return,
            outcome = execute(&client, &job, &stats) => outcome,
        };
        let result = JobResult {
            key: job.key,
            uid: job.uid,
            outcome,
        };
        if results.send(result).is_err() {
            return;
        }
    }
}

async fn execute(client: &Client, job: &Job, stats: &Stats) -> Outcome {
    let mut outcome = Outcome::Done {
        resource_version: None,
    };
    if let Some(status) = &job.status {
        outcome = write_status(client, job, status).await;
        match outcome {
            Outcome::Done { .. } => Stats::add(&stats.status_writes, 1),
            Outcome::Failed => Stats::add(&stats.status_write_errors, 1),
            Outcome::Gone => {}
        }
        if !matches!(outcome, Outcome::Done { .. }) {
            return outcome;
        }
    }
    if job.delete {
        outcome = delete(client, job).await;
        if let Outcome::Done { .. } | Outcome::Gone = outcome {
            Stats::add(&stats.pods_deleted, 1);
        }
    }
    outcome
}

async fn write_status(client: &Client, job: &Job, status: &PodStatus) -> Outcome {
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(job.name.clone()),
            namespace: Some(job.namespace.clone()),
            resource_version: job.resource_version.clone(),
            ..Default::default()
        },
        spec: None,
        status: Some(status.clone()),
    };
    let mut pause = Duration::from_millis(50);
    for _ in 0..ATTEMPTS {
        match client.update_status(&pod).await {
            Ok(written) => {
                return Outcome::Done {
                    resource_version: version_of(&written),
                };
            }
            Err(error) if error.is_not_found() => return Outcome::Gone,
            Err(error) if error.is_conflict() => {
                match client.get::<Pod>(&job.namespace, &job.name).await {
                    Ok(fresh) if fresh.metadata.uid.as_deref() == Some(&*job.uid) => {
                        pod.metadata.resource_version = fresh.metadata.resource_version;
                    }
                    Ok(_) => return Outcome::Gone,
                    Err(error) if error.is_not_found() => return Outcome::Gone,
                    Err(error) => {
                        tracing::debug!(%error, pod = %job.key, "re-reading pod after conflict");
                        tokio::time::sleep(pause).await;
                    }
                }
            }
            Err(error) if is_transient(&error) => {
                tracing::debug!(%error, pod = %job.key, "status write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(error) => {
                tracing::warn!(%error, pod = %job.key, "status write rejected");
                return Outcome::Failed;
            }
        }
    }
    Outcome::Failed
}

async fn delete(client: &Client, job: &Job) -> Outcome {
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        precondition_uid: Some(job.uid.to_string()),
        ..Default::default()
    };
    let mut pause = Duration::from_millis(50);
    for _ in 0..ATTEMPTS {
        match client
            .delete::<Pod>(&job.namespace, &job.name, &params)
            .await
        {
            Ok(_) => {
                return Outcome::Done {
                    resource_version: None,
                };
            }
            // Gone, or the uid precondition failed: another pod now has the name.
            Err(error) if error.is_not_found() || error.is_conflict() => return Outcome::Gone,
            Err(error) if is_transient(&error) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(error) => {
                tracing::warn!(%error, pod = %job.key, "delete rejected");
                return Outcome::Failed;
            }
        }
    }
    Outcome::Failed
}

/// A resourceVersion as a number (the apiserver's are store revisions).
pub(super) fn version_of(pod: &Pod) -> Option<u64> {
    pod.metadata.resource_version.as_deref()?.parse().ok()
}
