//! The gRPC transport: typed calls over the generic service in
//! `proto/skiff.proto`, one request per call and one per batch.

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use hyper_util::client::legacy::connect::HttpConnector;
use prost::bytes::Bytes;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::kubeconfig::Connection;
use crate::proto::api_client::ApiClient;
use crate::{
    Binding, DeleteOutcome, DeleteParams, Error, ListParams, ObjectList, Result, WatchParams,
    WatchStream, proto,
};

/// Largest message the client sends or accepts (the server rejects request
/// bodies above 3 MiB; lists may be larger).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The generated stub over a channel that carries the connection's bearer
/// token, if any.
pub(crate) type Stub = ApiClient<InterceptedService<Channel, BearerToken>>;

/// Puts `authorization: Bearer <token>` on every call (nothing without a
/// token: a client certificate authenticates the whole connection).
#[derive(Clone, Debug, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// When a gRPC client connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dial {
    /// Now: an unreachable server is an error at once.
    Now,
    /// On the first call (the server may not be up yet).
    Lazy,
}

#[derive(Clone, Debug)]
pub(crate) struct GrpcTransport {
    pub(crate) api: Stub,
}

impl GrpcTransport {
    /// Connects to `connection`'s server: over TLS with its CA and
    /// credential for `https://` URLs, plain HTTP/2 for `http://` ones (a
    /// bare `host:port` is `http://`). `Dial::Lazy` connects on the first
    /// call instead of now.
    pub(crate) async fn connect(connection: &Connection, dial: Dial) -> Result<GrpcTransport> {
        let mut server = connection.server.trim_end_matches('/').to_string();
        if !server.contains("://") {
            server = format!("http://{server}");
        }
        let endpoint = Endpoint::from_shared(server.clone())?.tcp_nodelay(true);
        let channel = if server.starts_with("https://") {
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            http.enforce_http(false);
            // HTTP/2 only: gRPC offers just `h2` by ALPN.
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(crate::tls::client_config(connection)?)
                .https_only()
                .enable_http2()
                .wrap_connector(http);
            match dial {
                Dial::Now => endpoint.connect_with_connector(connector).await?,
                Dial::Lazy => endpoint.connect_with_connector_lazy(connector),
            }
        } else if server.starts_with("http://") {
            match dial {
                Dial::Now => endpoint.connect().await?,
                Dial::Lazy => endpoint.connect_lazy(),
            }
        } else {
            return Err(Error::Config(format!(
                "server {server:?}: a gRPC URL starts with https:// or http://"
            )));
        };
        let token = crate::tls::bearer(connection)?
            .map(|value| {
                MetadataValue::try_from(value.as_bytes())
                    .map_err(|_| Error::Config("the bearer token is not a valid header".into()))
            })
            .transpose()?;
        Ok(GrpcTransport::from_channel(channel, BearerToken(token)))
    }

    pub(crate) fn from_channel(channel: Channel, token: BearerToken) -> GrpcTransport {
        let api = ApiClient::with_interceptor(channel, token)
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
        name: object.metadata().name.clone().unwrap_or_default(),
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
