//! The pool of pod status writers: a fixed number of tasks draining one
//! queue of jobs (write a pod's status, then maybe delete it), so status
//! writes run concurrently without a task per pod, and report each outcome
//! back to the pod manager.
//!
//! A job says which status to write ([`StatusWrite`], a few words and a
//! shared [`PodShape`]); the worker builds and encodes it, so the manager's
//! single task does none of that and a backlog of queued jobs stays small.
//!
//! A status write is guarded by the pod's resourceVersion; on a conflict the
//! worker re-reads the pod and writes again if it is still the same pod
//! (same uid). A delete is the kubelet's final one: grace period 0 with a
//! uid precondition, so a new pod of the same name is never touched.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::k8s_openapi::api::core::v1::{Pod, PodStatus};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use client::{Client, DeleteParams, proto};
use serde::Deserialize;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use crate::admission::Rejection;
use crate::hollow::pods::split_key;
use crate::hollow::register::is_transient;
use crate::hollow::{Stats, wait_stopped};
use crate::pod_status::{self, PodAddresses, PodShape};

/// Attempts of one job before it is reported failed.
const ATTEMPTS: u32 = 6;

/// One pod write.
#[derive(Debug)]
pub(super) struct Job {
    /// `namespace/name`.
    pub(super) key: Arc<str>,
    pub(super) uid: Arc<str>,
    /// The version the status is written against (0: none known).
    pub(super) resource_version: u64,
    /// Written first, if any.
    pub(super) status: Option<StatusWrite>,
    /// Then delete the pod (grace 0, uid precondition).
    pub(super) delete: bool,
}

/// A pod status to write, as the [`pod_status`] builders take it.
#[derive(Clone, Debug)]
pub(super) enum StatusWrite {
    Running {
        shape: Arc<PodShape>,
        addresses: PodAddresses,
        started: SystemTime,
    },
    Finished {
        shape: Arc<PodShape>,
        addresses: Option<PodAddresses>,
        started: Option<SystemTime>,
        finished: SystemTime,
        exit_code: i32,
    },
    Rejected {
        shape: Arc<PodShape>,
        rejection: Rejection,
    },
}

impl StatusWrite {
    pub(super) fn build(&self) -> PodStatus {
        match self {
            StatusWrite::Running {
                shape,
                addresses,
                started,
            } => pod_status::running_status(shape, *addresses, *started),
            StatusWrite::Finished {
                shape,
                addresses,
                started,
                finished,
                exit_code,
            } => pod_status::finished_status(shape, *addresses, *started, *finished, *exit_code),
            StatusWrite::Rejected { shape, rejection } => {
                pod_status::rejected_status(shape, &rejection.reason(), &rejection.message())
            }
        }
    }
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

async fn write_status(client: &Client, job: &Job, status: &StatusWrite) -> Outcome {
    let (namespace, name) = split_key(&job.key);
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            resource_version: (job.resource_version > 0).then(|| job.resource_version.to_string()),
            ..Default::default()
        },
        spec: None,
        status: Some(status.build()),
    };
    let mut pause = Duration::from_millis(50);
    for _ in 0..ATTEMPTS {
        match update_status(client, &pod).await {
            Ok(resource_version) => return Outcome::Done { resource_version },
            Err(error) if error.is_not_found() => return Outcome::Gone,
            Err(error) if error.is_conflict() => match client.get::<Pod>(namespace, name).await {
                Ok(fresh) if fresh.metadata.uid.as_deref() == Some(&*job.uid) => {
                    pod.metadata.resource_version = fresh.metadata.resource_version;
                }
                Ok(_) => return Outcome::Gone,
                Err(error) if error.is_not_found() => return Outcome::Gone,
                Err(error) => {
                    tracing::debug!(%error, pod = %job.key, "re-reading pod after conflict");
                    tokio::time::sleep(pause).await;
                }
            },
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
    let (namespace, name) = split_key(&job.key);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        precondition_uid: Some(job.uid.to_string()),
        ..Default::default()
    };
    let mut pause = Duration::from_millis(50);
    for _ in 0..ATTEMPTS {
        match client.delete::<Pod>(namespace, name, &params).await {
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

/// Writes a pod's status and returns the new resourceVersion. The reply is
/// read only for that (a full decode of the pod would cost more than the
/// write itself).
async fn update_status(client: &Client, pod: &Pod) -> client::Result<Option<u64>> {
    let request = proto::UpdateRequest {
        resource: "pods".to_string(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        object: serde_json::to_vec(pod)?.into(),
        name: pod.metadata.name.clone().unwrap_or_default(),
    };
    let reply = client
        .raw()?
        .update_status(request)
        .await
        .map_err(client::Error::from)?
        .into_inner();
    Ok(resource_version_of(&reply.object))
}

/// `metadata.resourceVersion` of an object's JSON, as a number.
fn resource_version_of(json: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Object<'a> {
        #[serde(borrow)]
        metadata: Metadata<'a>,
    }
    #[derive(Deserialize)]
    struct Metadata<'a> {
        #[serde(borrow, rename = "resourceVersion")]
        resource_version: Cow<'a, str>,
    }
    let object: Object<'_> = serde_json::from_slice(json).ok()?;
    object.metadata.resource_version.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_resource_version_only() {
        let json = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","resourceVersion":"42","labels":{"a":"b"}},"spec":{"containers":[]}}"#;
        assert_eq!(resource_version_of(json), Some(42));
        assert_eq!(resource_version_of(b"{}"), None);
    }
}
