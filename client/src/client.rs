//! [`Client`]: typed calls over the generic gRPC service.
//!
//! Every call is generic over the kind `K`; its resource plural comes from
//! `K::INFO`. Namespaced calls take the namespace explicitly ("" for
//! cluster-scoped kinds, or for "all namespaces" in list and watch).

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use prost::bytes::Bytes;
use tonic::transport::{Channel, Endpoint};

use crate::proto::api_client::ApiClient;
use crate::{Binding, DeleteParams, Error, ListParams, Result, WatchParams, WatchStream, proto};

/// Largest message the client sends or accepts (the server rejects request
/// bodies above 3 MiB; lists may be larger).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// A connection to one apiserver. Cheap to clone: clones share the HTTP/2
/// connection.
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiClient<Channel>,
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

impl Client {
    /// Connects to `addr`, e.g. `http://127.0.0.1:6443` (a bare `host:port` works too).
    pub async fn connect(addr: impl Into<String>) -> Result<Client> {
        let mut addr = addr.into();
        if !addr.contains("://") {
            addr = format!("http://{addr}");
        }
        let channel = Endpoint::from_shared(addr)?
            .tcp_nodelay(true)
            .connect()
            .await?;
        Ok(Client::from_channel(channel))
    }

    pub fn from_channel(channel: Channel) -> Client {
        let api = ApiClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Client { api }
    }

    /// The raw gRPC stub, for calls this wrapper does not cover.
    pub fn raw(&self) -> ApiClient<Channel> {
        self.api.clone()
    }

    pub async fn create<K: ApiObject>(&self, namespace: &str, object: &K) -> Result<K> {
        let request = proto::CreateRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            object: encode(object)?,
        };
        let response = self.api.clone().create(request).await?.into_inner();
        decode(&response.object)
    }

    pub async fn get<K: ApiObject>(&self, namespace: &str, name: &str) -> Result<K> {
        let request = proto::GetRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let response = self.api.clone().get(request).await?.into_inner();
        decode(&response.object)
    }

    pub async fn list<K: ApiObject>(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ObjectList<K>> {
        let request = proto::ListRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            label_selector: params.label_selector.clone(),
            field_selector: params.field_selector.clone(),
            limit: params.limit,
            continue_token: params.continue_token.clone(),
            resource_version: params.resource_version.clone(),
        };
        let response = self.api.clone().list(request).await?.into_inner();
        let items = response
            .items
            .iter()
            .map(|item| decode(item))
            .collect::<Result<Vec<K>>>()?;
        let continue_token = Some(response.continue_token).filter(|token| !token.is_empty());
        Ok(ObjectList {
            items,
            resource_version: response.resource_version,
            continue_token,
        })
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
        let request = update_request(object)?;
        let response = self.api.clone().update(request).await?.into_inner();
        decode(&response.object)
    }

    /// Writes only the status of the object.
    pub async fn update_status<K: ApiObject>(&self, object: &K) -> Result<K> {
        let request = update_request(object)?;
        let response = self.api.clone().update_status(request).await?.into_inner();
        decode(&response.object)
    }

    /// Applies a JSON merge patch to the stored object.
    pub async fn patch<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<K> {
        let request = proto::PatchRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            patch: Bytes::from(serde_json::to_vec(patch)?),
        };
        let response = self.api.clone().patch(request).await?.into_inner();
        decode(&response.object)
    }

    pub async fn delete<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome<K>> {
        let preconditions = (params.precondition_uid.is_some()
            || params.precondition_resource_version.is_some())
        .then(|| proto::Preconditions {
            uid: params.precondition_uid.clone().unwrap_or_default(),
            resource_version: params
                .precondition_resource_version
                .clone()
                .unwrap_or_default(),
        });
        let request = proto::DeleteRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            grace_period_seconds: params.grace_period_seconds,
            preconditions,
            propagation_policy: params
                .propagation_policy
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        };
        let response = self.api.clone().delete(request).await?.into_inner();
        let object = decode(&response.object)?;
        Ok(if response.deleted {
            DeleteOutcome::Deleted(object)
        } else {
            DeleteOutcome::Pending(object)
        })
    }

    /// Watches objects of kind `K` in `namespace` ("" = all).
    pub async fn watch<K: ApiObject>(
        &self,
        namespace: &str,
        params: &WatchParams,
    ) -> Result<WatchStream<K>> {
        let request = proto::WatchRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            label_selector: params.label_selector.clone(),
            field_selector: params.field_selector.clone(),
            resource_version: params.resource_version.clone(),
            allow_bookmarks: params.allow_bookmarks,
        };
        let stream = self.api.clone().watch(request).await?.into_inner();
        Ok(WatchStream::new(stream))
    }

    /// Binds a pod to a node; fails with [`Error::Conflict`] if the pod is
    /// already bound, [`Error::NotFound`] if the pod or node does not exist.
    pub async fn bind(&self, namespace: &str, pod: &str, node: &str) -> Result<Pod> {
        let request = bind_request(namespace, pod, node);
        let response = self.api.clone().bind(request).await?.into_inner();
        decode(&response.object)
    }

    /// Creates many objects in one call; one result per object, in order.
    pub async fn batch_create<K: ApiObject>(
        &self,
        namespace: &str,
        objects: &[K],
    ) -> Result<Vec<Result<K>>> {
        let objects = objects.iter().map(encode).collect::<Result<Vec<_>>>()?;
        let request = proto::BatchCreateRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            objects,
        };
        let response = self.api.clone().batch_create(request).await?.into_inner();
        Ok(response
            .results
            .into_iter()
            .map(|item| item_result(item).and_then(|bytes| decode(&bytes)))
            .collect())
    }

    /// Binds many pods in one call; one result per binding, in order.
    pub async fn batch_bind(&self, bindings: &[Binding]) -> Result<Vec<Result<()>>> {
        let request = proto::BatchBindRequest {
            bindings: bindings
                .iter()
                .map(|b| bind_request(&b.namespace, &b.pod, &b.node))
                .collect(),
        };
        let response = self.api.clone().batch_bind(request).await?.into_inner();
        Ok(response
            .results
            .into_iter()
            .map(|item| item_result(item).map(|_| ()))
            .collect())
    }

    /// Reports the current resource usage of nodes and their pods
    /// (metrics.k8s.io); the latest sample of each node replaces the one
    /// before.
    pub async fn report_usage(
        &self,
        request: proto::ReportUsageRequest,
    ) -> Result<proto::ReportUsageResponse> {
        Ok(self.api.clone().report_usage(request).await?.into_inner())
    }
}

fn encode<K: ApiObject>(object: &K) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(object)?))
}

fn decode<K: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<K> {
    Ok(serde_json::from_slice(bytes)?)
}

fn update_request<K: ApiObject>(object: &K) -> Result<proto::UpdateRequest> {
    Ok(proto::UpdateRequest {
        resource: K::INFO.plural.to_string(),
        namespace: object.metadata().namespace.clone().unwrap_or_default(),
        object: encode(object)?,
    })
}

fn bind_request(namespace: &str, pod: &str, node: &str) -> proto::BindRequest {
    proto::BindRequest {
        namespace: namespace.to_string(),
        pod: pod.to_string(),
        node: node.to_string(),
    }
}

fn item_result(item: proto::ItemResult) -> Result<Bytes> {
    if item.code == 0 {
        Ok(item.object)
    } else {
        Err(Error::from_code(
            tonic::Code::from_i32(item.code),
            item.message,
        ))
    }
}
