//! The seam between the shell and a cluster: [`ClusterApi`] lists exactly
//! the reads and writes the shell makes, and each backend implements it.
//!
//! - [`skiff`]: Skiff's gRPC apiserver through `client::Client`, with batch
//!   binds and batch event writes.
//! - `kube` (feature `kube-backend`): any Kubernetes API server through
//!   kube-rs, one `pods/{name}/binding` POST per pod, many at once.
//!
//! The scheduling loop, binder, reporter, preemptor and membership task are
//! generic over the backend; a backend only moves data. **Invariant:** no
//! scheduling decision is made here or in a backend: placement, preemption
//! victims and queueing stay in the core and the loop.

#[cfg(feature = "kube-backend")]
pub(crate) mod kube;
pub(crate) mod skiff;

use std::future::Future;
use std::sync::mpsc::Sender;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Event, Pod};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::event::{BindOutcome, BindRequest, LoopEvent};

/// A failed read or write, as the shell's retry logic needs to tell them
/// apart.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The object does not exist (or no longer).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// An optimistic-concurrency guard failed: a stale resourceVersion, a
    /// uid precondition, or an object that already exists.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// Anything else: transport, authorization, validation.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }

    pub(crate) fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Conflict { .. })
    }
}

/// Everything the shell reads from and writes to a cluster.
///
/// Futures are `Send` so the shell's tasks can run them on any tokio worker.
pub(crate) trait ClusterApi: Clone + Send + Sync + 'static {
    /// Starts the list+watch tasks of nodes, all pods (those of other
    /// schedulers hold room on their nodes too), PodDisruptionBudgets and
    /// namespaces. Each sends `LoopEvent`s in batches, a relist (after a
    /// too-old resourceVersion or a broken watch) as one `restart` batch, and
    /// ends when `stop` turns true or the loop is gone.
    fn spawn_informers(
        &self,
        loop_tx: &Sender<LoopEvent>,
        stop: &watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>>;

    /// Binds one chunk of pods and answers one outcome per request, in any
    /// order.
    fn bind_chunk(&self, chunk: Vec<BindRequest>) -> impl Future<Output = Vec<BindOutcome>> + Send;

    /// Creates events in `namespace`; one result per event, in order.
    fn create_events(
        &self,
        namespace: &str,
        events: Vec<Event>,
    ) -> impl Future<Output = Vec<Result<(), ApiError>>> + Send;

    fn get_pod(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Pod, ApiError>> + Send;

    /// Writes `pod.status`, guarded by `pod`'s resourceVersion.
    fn update_pod_status(&self, pod: &Pod) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Deletes the pod with its own grace period, only if its uid is `uid`.
    fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    fn get_lease(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Lease, ApiError>> + Send;

    fn create_lease(&self, lease: &Lease) -> impl Future<Output = Result<Lease, ApiError>> + Send;

    /// Replaces the lease, guarded by its resourceVersion.
    fn update_lease(&self, lease: &Lease) -> impl Future<Output = Result<Lease, ApiError>> + Send;

    fn list_leases(
        &self,
        namespace: &str,
    ) -> impl Future<Output = Result<Vec<Lease>, ApiError>> + Send;
}
