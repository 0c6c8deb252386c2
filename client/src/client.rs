//! [`Client`]: typed calls over one of two transports.
//!
//! Every call is generic over the kind `K`; its resource (group, version,
//! plural, scope) comes from `K::INFO`. Namespaced calls take the namespace
//! explicitly ("" for cluster-scoped kinds, or for "all namespaces" in list
//! and watch).
//!
//! Skiff's components speak gRPC (`grpc`: batch calls, watch frames of many
//! events); any client can instead speak the Kubernetes REST API (`rest`:
//! one request per object, `?watch=1` streams), which is what kubectl and
//! client libraries send. Callers see the same calls and errors either way.

use std::path::Path;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use tonic::transport::Channel;

use crate::grpc::{Dial, GrpcTransport};
use crate::kubeconfig::Connection;
use crate::rest::RestTransport;
use crate::{Binding, DeleteParams, Error, ListParams, Result, WatchParams, WatchStream, proto};

/// The generated gRPC stub (`Client::raw`), with the connection's bearer
/// token on every call.
pub type RawClient = crate::grpc::Stub;

/// A connection to one apiserver. Cheap to clone: clones share the
/// connection.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
}

#[derive(Clone, Debug)]
enum Transport {
    Grpc(GrpcTransport),
    /// Boxed: the connection pool is larger than a gRPC channel.
    Rest(Box<RestTransport>),
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct ObjectList<K> {
    pub items: Vec<K>,
    /// Watch from this version to see every later change.
    pub resource_version: String,
    /// `Some` when more items remain: pass it as `ListParams::continue_token`.
    pub continue_token: Option<String>,
}

/// Result of a delete.
#[derive(Clone, Debug)]
pub enum DeleteOutcome<K> {
    /// The object is gone; this was its last state.
    Deleted(K),
    /// Finalizers or a grace period hold the object; it now carries a
    /// deletionTimestamp.
    Pending(K),
}

impl<K> DeleteOutcome<K> {
    pub fn into_object(self) -> K {
        match self {
            DeleteOutcome::Deleted(k) | DeleteOutcome::Pending(k) => k,
        }
    }
}

/// Dispatches one call to the transport.
macro_rules! dispatch {
    ($self:ident, $transport:ident => $call:expr) => {
        match &$self.transport {
            Transport::Grpc($transport) => $call,
            Transport::Rest($transport) => $call,
        }
    };
}

impl Client {
    /// Connects over gRPC to `addr`, e.g. `http://127.0.0.1:6444` (a bare
    /// `host:port` works too).
    /// The apiserver must serve plain HTTP/2 (`--grpc-plain-http`); use
    /// [`Client::grpc`] with a kubeconfig's connection otherwise.
    pub async fn connect(addr: impl Into<String>) -> Result<Client> {
        Client::grpc(&Connection::insecure(addr)).await
    }

    /// Connects over gRPC to `connection`'s server (a kubeconfig's
    /// current context): TLS with its CA, authenticated by its client
    /// certificate or bearer token.
    pub async fn grpc(connection: &Connection) -> Result<Client> {
        Ok(Client {
            transport: Transport::Grpc(GrpcTransport::connect(connection, Dial::Now).await?),
        })
    }

    /// As [`Client::grpc`], connecting on the first call (the apiserver
    /// need not be up yet).
    pub async fn grpc_lazy(connection: &Connection) -> Result<Client> {
        Ok(Client {
            transport: Transport::Grpc(GrpcTransport::connect(connection, Dial::Lazy).await?),
        })
    }

    /// A gRPC client for the current context of the kubeconfig at `path`.
    pub async fn grpc_from_kubeconfig(path: &Path) -> Result<Client> {
        Client::grpc(&Connection::from_kubeconfig(path)?).await
    }

    pub fn from_channel(channel: Channel) -> Client {
        Client {
            transport: Transport::Grpc(GrpcTransport::from_channel(channel, Default::default())),
        }
    }

    /// A Kubernetes REST API client for `connection` (server URL, CA and
    /// credential). Connects on the first request.
    pub fn rest(connection: &Connection) -> Result<Client> {
        Ok(Client {
            transport: Transport::Rest(Box::new(RestTransport::new(connection)?)),
        })
    }

    /// A REST client for the current context of the kubeconfig at `path`.
    pub fn rest_from_kubeconfig(path: &Path) -> Result<Client> {
        Client::rest(&Connection::from_kubeconfig(path)?)
    }

    /// The raw gRPC stub, for calls this wrapper does not cover; an error
    /// on a REST client.
    pub fn raw(&self) -> Result<RawClient> {
        match &self.transport {
            Transport::Grpc(grpc) => Ok(grpc.api.clone()),
            Transport::Rest(_) => Err(Error::Config(
                "this call needs Skiff's gRPC API; the client speaks REST".into(),
            )),
        }
    }

    pub async fn create<K: ApiObject>(&self, namespace: &str, object: &K) -> Result<K> {
        dispatch!(self, t => t.create(namespace, object).await)
    }

    pub async fn get<K: ApiObject>(&self, namespace: &str, name: &str) -> Result<K> {
        dispatch!(self, t => t.get(namespace, name).await)
    }

    pub async fn list<K: ApiObject>(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ObjectList<K>> {
        dispatch!(self, t => t.list(namespace, params).await)
    }

    /// Lists every page and concatenates them.
    pub async fn list_all<K: ApiObject>(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ObjectList<K>> {
        let mut params = params.clone();
        let mut all = self.list::<K>(namespace, &params).await?;
        while let Some(token) = all.continue_token.take() {
            params.continue_token = token;
            let page = self.list::<K>(namespace, &params).await?;
            all.items.extend(page.items);
            all.continue_token = page.continue_token;
        }
        Ok(all)
    }

    /// Replaces the object (namespace and name from its metadata). Fails with
    /// [`Error::Conflict`] if its resourceVersion is stale; status is ignored.
    pub async fn update<K: ApiObject>(&self, object: &K) -> Result<K> {
        match &self.transport {
            Transport::Grpc(grpc) => grpc.update(object).await,
            Transport::Rest(rest) => rest.update(object, "").await,
        }
    }

    /// Writes only the status of the object.
    pub async fn update_status<K: ApiObject>(&self, object: &K) -> Result<K> {
        match &self.transport {
            Transport::Grpc(grpc) => grpc.update_status(object).await,
            Transport::Rest(rest) => rest.update(object, "status").await,
        }
    }

    /// Applies a JSON merge patch to the stored object.
    pub async fn patch<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<K> {
        dispatch!(self, t => t.patch(namespace, name, patch).await)
    }

    pub async fn delete<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome<K>> {
        dispatch!(self, t => t.delete(namespace, name, params).await)
    }

    /// Watches objects of kind `K` in `namespace` ("" = all).
    pub async fn watch<K: ApiObject>(
        &self,
        namespace: &str,
        params: &WatchParams,
    ) -> Result<WatchStream<K>> {
        dispatch!(self, t => t.watch(namespace, params).await)
    }

    /// Binds a pod to a node; fails with [`Error::Conflict`] if the pod is
    /// already bound, [`Error::NotFound`] if the pod or node does not exist.
    pub async fn bind(&self, namespace: &str, pod: &str, node: &str) -> Result<Pod> {
        dispatch!(self, t => t.bind(namespace, pod, node).await)
    }

    /// Creates many objects; one result per object, in order. One call over
    /// gRPC; one request per object (several in flight) over REST.
    pub async fn batch_create<K: ApiObject>(
        &self,
        namespace: &str,
        objects: &[K],
    ) -> Result<Vec<Result<K>>> {
        dispatch!(self, t => t.batch_create(namespace, objects).await)
    }

    /// Binds many pods; one result per binding, in order.
    pub async fn batch_bind(&self, bindings: &[Binding]) -> Result<Vec<Result<()>>> {
        dispatch!(self, t => t.batch_bind(bindings).await)
    }

    /// Reports the current resource usage of nodes and their pods
    /// (metrics.k8s.io); the latest sample of each node replaces the one
    /// before. gRPC only: kubelets report, no REST client does.
    pub async fn report_usage(
        &self,
        request: proto::ReportUsageRequest,
    ) -> Result<proto::ReportUsageResponse> {
        Ok(self.raw()?.report_usage(request).await?.into_inner())
    }
}
