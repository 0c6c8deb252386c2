//! The gRPC backend: Skiff's own apiserver through `client::Client`.
//! Bindings go out as one `batch_bind` per chunk and events as one
//! `batch_create` per namespace, so the hot path stays batched.

mod watch;

use std::sync::mpsc::Sender;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Event, Pod};
use client::{Binding, Client, DeleteParams, ListParams};
use tokio::sync::watch as watch_channel;
use tokio::task::JoinHandle;

use super::{ApiError, ClusterApi};
use crate::event::{BindOutcome, BindRequest, LoopEvent};

/// Skiff's apiserver, reached over one (lazily connected) gRPC channel.
#[derive(Clone)]
pub(crate) struct SkiffBackend {
    client: Client,
}

impl SkiffBackend {
    pub(crate) fn new(client: Client) -> SkiffBackend {
        SkiffBackend { client }
    }
}

impl From<client::Error> for ApiError {
    fn from(error: client::Error) -> Self {
        if error.is_not_found() {
            ApiError::NotFound {
                message: error.to_string(),
            }
        } else if error.is_conflict() {
            ApiError::Conflict {
                message: error.to_string(),
            }
        } else {
            ApiError::Other(Box::new(error))
        }
    }
}

impl ClusterApi for SkiffBackend {
    fn spawn_informers(
        &self,
        loop_tx: &Sender<LoopEvent>,
        stop: &watch_channel::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        watch::spawn_all(&self.client, loop_tx, stop)
    }

    async fn bind_chunk(&self, chunk: Vec<BindRequest>) -> Vec<BindOutcome> {
        let bindings: Vec<Binding> = chunk
            .iter()
            .map(|request| Binding {
                namespace: request.namespace.clone(),
                pod: request.name.clone(),
                node: request.node.clone(),
            })
            .collect();
        match self.client.batch_bind(&bindings).await {
            Ok(results) if results.len() == chunk.len() => chunk
                .into_iter()
                .zip(results)
                .map(|(request, result)| BindOutcome {
                    uid: request.uid,
                    result: result.map_err(|error| error.to_string()),
                })
                .collect(),
            Ok(results) => {
                let message = format!(
                    "batch_bind answered {} results for {} bindings",
                    results.len(),
                    chunk.len()
                );
                crate::binder::fail_all(chunk, &message)
            }
            Err(error) => {
                tracing::warn!(%error, bindings = chunk.len(), "batch_bind failed");
                crate::binder::fail_all(chunk, &error.to_string())
            }
        }
    }

    async fn create_events(
        &self,
        namespace: &str,
        events: Vec<Event>,
    ) -> Vec<Result<(), ApiError>> {
        match self.client.batch_create(namespace, &events).await {
            Ok(results) => results
                .into_iter()
                .map(|result| result.map(|_| ()).map_err(ApiError::from))
                .collect(),
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(%error, "writing events failed");
                events
                    .iter()
                    .map(|_| Err(ApiError::Other(message.clone().into())))
                    .collect()
            }
        }
    }

    async fn get_pod(&self, namespace: &str, name: &str) -> Result<Pod, ApiError> {
        Ok(self.client.get::<Pod>(namespace, name).await?)
    }

    async fn update_pod_status(&self, pod: &Pod) -> Result<(), ApiError> {
        self.client.update_status(pod).await?;
        Ok(())
    }

    async fn delete_pod(&self, namespace: &str, name: &str, uid: &str) -> Result<(), ApiError> {
        let params = DeleteParams {
            precondition_uid: Some(uid.to_string()),
            ..DeleteParams::default()
        };
        self.client.delete::<Pod>(namespace, name, &params).await?;
        Ok(())
    }

    async fn get_lease(&self, namespace: &str, name: &str) -> Result<Lease, ApiError> {
        Ok(self.client.get::<Lease>(namespace, name).await?)
    }

    async fn create_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        let namespace = lease.metadata.namespace.clone().unwrap_or_default();
        Ok(self.client.create(&namespace, lease).await?)
    }

    async fn update_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        Ok(self.client.update(lease).await?)
    }

    async fn list_leases(&self, namespace: &str) -> Result<Vec<Lease>, ApiError> {
        let list = self
            .client
            .list::<Lease>(namespace, &ListParams::default())
            .await?;
        Ok(list.items)
    }
}
