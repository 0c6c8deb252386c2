//! The gRPC transport: typed calls over the generic service in
//! `proto/skiff.proto`, one request per call and one per batch.

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use prost::bytes::Bytes;
use tonic::transport::{Channel, Endpoint};

use crate::proto::api_client::ApiClient;
use crate::{
    Binding, DeleteOutcome, DeleteParams, Error, ListParams, ObjectList, Result, WatchParams,
    WatchStream, proto,
};

/// Largest message the client sends or accepts (the server rejects request
/// bodies above 3 MiB; lists may be larger).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Clone, Debug)]
pub(crate) struct GrpcTransport {
    pub(crate) api: ApiClient<Channel>,
}

impl GrpcTransport {
    /// Connects to `addr`, e.g. `http://127.0.0.1:6444` (a bare
    /// `host:port` works too).
    pub(crate) async fn connect(addr: impl Into<String>) -> Result<GrpcTransport> {
        let mut addr = addr.into();
        if !addr.contains("://") {
            addr = format!("http://{addr}");
        }
        let channel = Endpoint::from_shared(addr)?
            .tcp_nodelay(true)
            .connect()
            .await?;
        Ok(GrpcTransport::from_channel(channel))
    }

    pub(crate) fn from_channel(channel: Channel) -> GrpcTransport {
        let api = ApiClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        GrpcTransport { api }
    }

    pub(crate) async fn create<K: ApiObject>(&self, namespace: &str, object: &K) -> Result<K> {
        let request = proto::CreateRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            object: encode(object)?,
        };
        let response = self.api.clone().create(request).await?.into_inner();
        decode(&response.object)
    }

    pub(crate) async fn get<K: ApiObject>(&self, namespace: &str, name: &str) -> Result<K> {
        let request = proto::GetRequest {
            resource: K::INFO.plural.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let response = self.api.clone().get(request).await?.into_inner();
        decode(&response.object)
    }

    pub(crate) async fn list<K: ApiObject>(
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

    pub(crate) async fn update<K: ApiObject>(&self, object: &K) -> Result<K> {
        let request = update_request(object)?;
        let response = self.api.clone().update(request).await?.into_inner();
        decode(&response.object)
    }

    pub(crate) async fn update_status<K: ApiObject>(&self, object: &K) -> Result<K> {
        let request = update_request(object)?;
        let response = self.api.clone().update_status(request).await?.into_inner();
        decode(&response.object)
    }

    pub(crate) async fn patch<K: ApiObject>(
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

    pub(crate) async fn delete<K: ApiObject>(
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

    pub(crate) async fn watch<K: ApiObject>(
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
        Ok(WatchStream::grpc(stream))
    }

    pub(crate) async fn bind(&self, namespace: &str, pod: &str, node: &str) -> Result<Pod> {
        let request = bind_request(namespace, pod, node);
        let response = self.api.clone().bind(request).await?.into_inner();
        decode(&response.object)
    }

    pub(crate) async fn batch_create<K: ApiObject>(
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

    pub(crate) async fn batch_bind(&self, bindings: &[Binding]) -> Result<Vec<Result<()>>> {
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
