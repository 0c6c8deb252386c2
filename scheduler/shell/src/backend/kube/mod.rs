//! The Kubernetes backend: any Kubernetes API server through kube-rs, with
//! config from `--kubeconfig`, else `KUBECONFIG`, `~/.kube/config` or the
//! in-cluster service account (`kube::Config::infer`), over rustls.
//!
//! Kubernetes has no batch verbs, so each binding is its own POST of
//! `pods/{name}/binding` (many at once per chunk, as kube-scheduler binds
//! in parallel) followed by a `Scheduled` event, and each event is its own
//! create. Everything else maps one to one onto the shell's reads and
//! writes: watches through `kube::runtime::watcher` (relist on 410 Gone),
//! status replaces and leases guarded by resourceVersion, deletes guarded
//! by uid.

mod binding;
mod watch;

#[cfg(test)]
mod fake_server_tests;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Event, Pod};
use futures::StreamExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use tokio::sync::watch as watch_channel;
use tokio::task::JoinHandle;

use super::{ApiError, ClusterApi};
use crate::config::Config;
use crate::event::{BindOutcome, BindRequest, LoopEvent};

/// Event creates in flight at once.
const EVENT_CONCURRENCY: usize = 16;

/// Failure to build a client for the Kubernetes API server.
#[derive(Debug, thiserror::Error)]
pub enum KubeBackendError {
    #[error("reading kubeconfig {path}: {source}")]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: KubeconfigError,
    },
    #[error("using kubeconfig {path}: {source}")]
    UseKubeconfig {
        path: PathBuf,
        #[source]
        source: KubeconfigError,
    },
    #[error("finding a kubeconfig or in-cluster service account: {0}")]
    Infer(#[source] kube::config::InferConfigError),
    #[error("building the HTTPS client: {0}")]
    Client(#[source] kube::Error),
}

/// A Kubernetes API server, reached through one kube-rs client (a pool of
/// connections).
#[derive(Clone)]
pub(crate) struct KubeBackend {
    client: kube::Client,
    /// The Scheduled events' reporting component: the first profile's
    /// scheduler name.
    component: String,
}

impl KubeBackend {
    /// Builds the client from `config.kubeconfig` or by inference; nothing
    /// is sent yet.
    pub(crate) async fn connect(config: &Config) -> Result<KubeBackend, KubeBackendError> {
        let client_config = match &config.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|source| {
                    KubeBackendError::ReadKubeconfig {
                        path: path.clone(),
                        source,
                    }
                })?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .map_err(|source| KubeBackendError::UseKubeconfig {
                        path: path.clone(),
                        source,
                    })?
            }
            None => kube::Config::infer()
                .await
                .map_err(KubeBackendError::Infer)?,
        };
        tracing::info!(server = %client_config.cluster_url, "Kubernetes backend");
        let client = kube::Client::try_from(client_config).map_err(KubeBackendError::Client)?;
        let component = config
            .profiles
            .first()
            .map(|profile| profile.profile.scheduler_name.clone())
            .unwrap_or_else(|| config.backend.default_scheduler_name().to_string());
        Ok(KubeBackend::with_client(client, component))
    }

    /// Over an existing client (any tower service, e.g. a fake server).
    pub(crate) fn with_client(client: kube::Client, component: String) -> KubeBackend {
        KubeBackend { client, component }
    }

    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    fn leases(&self, namespace: &str) -> Api<Lease> {
        Api::namespaced(self.client.clone(), namespace)
    }
}

/// Maps a kube-rs error by its HTTP status.
pub(crate) fn api_error(error: kube::Error) -> ApiError {
    match &error {
        kube::Error::Api(status) if status.code == 404 => ApiError::NotFound {
            message: status.message.clone(),
        },
        kube::Error::Api(status) if status.code == 409 => ApiError::Conflict {
            message: status.message.clone(),
        },
        _ => ApiError::Other(Box::new(error)),
    }
}

impl ClusterApi for KubeBackend {
    fn spawn_informers(
        &self,
        loop_tx: &Sender<LoopEvent>,
        stop: &watch_channel::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        watch::spawn_all(&self.client, loop_tx, stop)
    }

    async fn bind_chunk(&self, chunk: Vec<BindRequest>) -> Vec<BindOutcome> {
        binding::bind_chunk(&self.client, &self.component, chunk).await
    }

    async fn create_events(
        &self,
        namespace: &str,
        events: Vec<Event>,
    ) -> Vec<Result<(), ApiError>> {
        create_events(&self.client, namespace, events).await
    }

    async fn get_pod(&self, namespace: &str, name: &str) -> Result<Pod, ApiError> {
        self.pods(namespace).get(name).await.map_err(api_error)
    }

    async fn update_pod_status(&self, pod: &Pod) -> Result<(), ApiError> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        self.pods(namespace)
            .replace_status(name, &PostParams::default(), pod)
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn delete_pod(&self, namespace: &str, name: &str, uid: &str) -> Result<(), ApiError> {
        self.pods(namespace)
            .delete(name, &delete_guarded_by_uid(uid))
            .await
            .map(|_| ())
            .map_err(api_error)
    }

    async fn get_lease(&self, namespace: &str, name: &str) -> Result<Lease, ApiError> {
        self.leases(namespace).get(name).await.map_err(api_error)
    }

    async fn create_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        let namespace = lease.metadata.namespace.as_deref().unwrap_or_default();
        self.leases(namespace)
            .create(&PostParams::default(), lease)
            .await
            .map_err(api_error)
    }

    async fn update_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        let namespace = lease.metadata.namespace.as_deref().unwrap_or_default();
        let name = lease.metadata.name.as_deref().unwrap_or_default();
        self.leases(namespace)
            .replace(name, &PostParams::default(), lease)
            .await
            .map_err(api_error)
    }

    async fn list_leases(&self, namespace: &str) -> Result<Vec<Lease>, ApiError> {
        self.leases(namespace)
            .list(&ListParams::default())
            .await
            .map(|list| list.items)
            .map_err(api_error)
    }
}

/// A delete with the object's own grace period, only of the pod with `uid`.
pub(crate) fn delete_guarded_by_uid(uid: &str) -> DeleteParams {
    DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    }
}

/// Creates `events` in `namespace`, a few at a time; results in order.
pub(crate) async fn create_events(
    client: &kube::Client,
    namespace: &str,
    events: Vec<Event>,
) -> Vec<Result<(), ApiError>> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let api = &api;
    futures::stream::iter(events)
        .map(|event| async move {
            api.create(&PostParams::default(), &event)
                .await
                .map(|_| ())
                .map_err(api_error)
        })
        .buffered(EVENT_CONCURRENCY)
        .collect()
        .await
}
