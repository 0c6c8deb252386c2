//! The REST transport: the same typed calls over the Kubernetes REST API, as
//! kubectl and client-go make them, so a Skiff component (or `loadgen --api
//! rest`) can drive any apiserver that speaks Kubernetes.
//!
//! HTTPS with the kubeconfig's CA and credential (client certificate or
//! bearer token), HTTP/2 or HTTP/1.1 by ALPN as client-go negotiates; plain
//! `http://` URLs work too. Paths come from the kind's `KindInfo` (group,
//! version, plural, scope). A batch is one request per object, several in
//! flight at once, as a real client sends them; `429 Too Many Requests` is
//! retried after the server's `Retry-After`, as client-go does.
//! Error bodies are Kubernetes `Status` objects, mapped to [`Error`] by
//! their reason.

pub(crate) mod watch;

use std::sync::Arc;
use std::time::Duration;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::Pod;
use futures::StreamExt;
use http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::bytes::Bytes;
use serde::Deserialize;

use crate::kubeconfig::Connection;
use crate::{
    Binding, DeleteOutcome, DeleteParams, Error, ListParams, ObjectList, Result, WatchParams,
    WatchStream,
};

/// Requests of one batch in flight at once (per client): well under the
/// apiserver's default in-flight limit with several clients.
const BATCH_CONCURRENCY: usize = 64;
/// Attempts of one request answered `429 Too Many Requests` (client-go
/// retries ten times).
const THROTTLED_ATTEMPTS: u32 = 10;
/// Longest `Retry-After` honoured; the server's own figure is usually 1 s.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// One apiserver's REST API. Cheap to clone: clones share the connection
/// pool.
#[derive(Clone)]
pub(crate) struct RestTransport {
    http: HttpClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The server URL without a trailing slash.
    base: Arc<str>,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for RestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestTransport")
            .field("base", &self.base)
            .field("authenticated", &self.authorization.is_some())
            .finish()
    }
}

impl RestTransport {
    pub(crate) fn new(connection: &Connection) -> Result<RestTransport> {
        let base = connection.server.trim_end_matches('/');
        if !base.starts_with("https://") && !base.starts_with("http://") {
            return Err(Error::Config(format!(
                "server {base:?}: a REST URL starts with https:// or http://"
            )));
        }
        let tls = crate::tls::client_config(connection)?;
        let mut http_connector = HttpConnector::new();
        http_connector.set_nodelay(true);
        http_connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http_connector);
        let http = HttpClient::builder(TokioExecutor::new()).build(connector);
        let authorization = crate::tls::bearer(connection)?;
        Ok(RestTransport {
            http,
            base: base.into(),
            authorization,
        })
    }

    /// Sends one request, retrying while the server answers 429.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<http::Response<Incoming>> {
        let uri = format!("{}{path_and_query}", self.base);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = http::Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header(http::header::ACCEPT, JSON);
            if !body.is_empty() {
                request = request.header(CONTENT_TYPE, content_type);
            }
            if let Some(authorization) = &self.authorization {
                request = request.header(AUTHORIZATION, authorization.clone());
            }
            let request = request
                .body(Full::new(body.clone()))
                .map_err(|error| Error::Config(format!("request to {uri}: {error}")))?;
            let response = self.http.request(request).await?;
            if response.status() != StatusCode::TOO_MANY_REQUESTS || attempt >= THROTTLED_ATTEMPTS {
                return Ok(response);
            }
            tokio::time::sleep(retry_after(&response)).await;
        }
    }

    /// Sends one request and reads the whole answer; a non-2xx answer is
    /// the error its `Status` names.
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let response = self
            .send(method, path_and_query, content_type, body)
            .await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if status.is_success() {
            Ok((status, bytes))
        } else {
            Err(error_from_status(status, &bytes))
        }
    }

    async fn call_json<K: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<K> {
        let (_, bytes) = self
            .call(method, path_and_query, content_type, body)
            .await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    pub(crate) async fn create<K: ApiObject>(&self, namespace: &str, object: &K) -> Result<K> {
        let path = collection_path(&K::INFO, namespace);
        self.call_json(Method::POST, &path, JSON, encode(object)?)
            .await
    }

    pub(crate) async fn get<K: ApiObject>(&self, namespace: &str, name: &str) -> Result<K> {
        let path = object_path(&K::INFO, namespace, name, "");
        self.call_json(Method::GET, &path, JSON, Bytes::new()).await
    }

    pub(crate) async fn list<K: ApiObject>(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ObjectList<K>> {
        #[derive(Deserialize)]
        struct ListBody<K> {
            #[serde(default)]
            metadata: ListMeta,
            #[serde(default = "Vec::new")]
            items: Vec<K>,
        }
        #[derive(Default, Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct ListMeta {
            #[serde(default)]
            resource_version: String,
            #[serde(default, rename = "continue")]
            continue_token: String,
        }
        let limit = if params.limit > 0 {
            params.limit.to_string()
        } else {
            String::new()
        };
        let path = with_query(
            collection_path(&K::INFO, namespace),
            &[
                ("labelSelector", &params.label_selector),
                ("fieldSelector", &params.field_selector),
                ("limit", &limit),
                ("continue", &params.continue_token),
                ("resourceVersion", &params.resource_version),
            ],
        );
        let list: ListBody<K> = self
            .call_json(Method::GET, &path, JSON, Bytes::new())
            .await?;
        Ok(ObjectList {
            items: list.items,
            resource_version: list.metadata.resource_version,
            continue_token: Some(list.metadata.continue_token).filter(|token| !token.is_empty()),
        })
    }

    pub(crate) async fn update<K: ApiObject>(&self, object: &K, subresource: &str) -> Result<K> {
        let metadata = object.metadata();
        let path = object_path(
            &K::INFO,
            metadata.namespace.as_deref().unwrap_or_default(),
            metadata.name.as_deref().unwrap_or_default(),
            subresource,
        );
        self.call_json(Method::PUT, &path, JSON, encode(object)?)
            .await
    }

    pub(crate) async fn patch<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<K> {
        let path = object_path(&K::INFO, namespace, name, "");
        let body = Bytes::from(serde_json::to_vec(patch)?);
        self.call_json(Method::PATCH, &path, MERGE_PATCH, body)
            .await
    }

    pub(crate) async fn delete<K: ApiObject>(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome<K>> {
        let mut options = serde_json::json!({"apiVersion": "v1", "kind": "DeleteOptions"});
        if let Some(seconds) = params.grace_period_seconds {
            options["gracePeriodSeconds"] = seconds.into();
        }
        if let Some(policy) = params.propagation_policy {
            options["propagationPolicy"] = policy.as_str().into();
        }
        let mut preconditions = serde_json::Map::new();
        if let Some(uid) = &params.precondition_uid {
            preconditions.insert("uid".into(), uid.clone().into());
        }
        if let Some(version) = &params.precondition_resource_version {
            preconditions.insert("resourceVersion".into(), version.clone().into());
        }
        if !preconditions.is_empty() {
            options["preconditions"] = preconditions.into();
        }
        let path = object_path(&K::INFO, namespace, name, "");
        let body = Bytes::from(serde_json::to_vec(&options)?);
        let (status, bytes) = self.call(Method::DELETE, &path, JSON, body).await?;
        let object = serde_json::from_slice(&bytes)?;
        // The apiserver answers 202 Accepted while finalizers or a grace
        // period hold the object, 200 once it is gone.
        Ok(if status == StatusCode::ACCEPTED {
            DeleteOutcome::Pending(object)
        } else {
            DeleteOutcome::Deleted(object)
        })
    }

    pub(crate) async fn watch<K: ApiObject>(
        &self,
        namespace: &str,
        params: &WatchParams,
    ) -> Result<WatchStream<K>> {
        let bookmarks = if params.allow_bookmarks { "true" } else { "" };
        let path = with_query(
            collection_path(&K::INFO, namespace),
            &[
                ("watch", "1"),
                ("labelSelector", &params.label_selector),
                ("fieldSelector", &params.field_selector),
                ("resourceVersion", &params.resource_version),
                ("allowWatchBookmarks", bookmarks),
            ],
        );
        let response = self.send(Method::GET, &path, JSON, Bytes::new()).await?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.into_body().collect().await?.to_bytes();
            return Err(error_from_status(status, &bytes));
        }
        Ok(WatchStream::rest(watch::EventLines::new(
            response.into_body(),
        )))
    }

    /// POST `pods/<name>/binding`, as alternate schedulers bind; the pod is
    /// then read back, since the answer is a bare `Status`.
    pub(crate) async fn bind(&self, namespace: &str, pod: &str, node: &str) -> Result<Pod> {
        self.bind_only(namespace, pod, node).await?;
        self.get::<Pod>(namespace, pod).await
    }

    async fn bind_only(&self, namespace: &str, pod: &str, node: &str) -> Result<()> {
        let binding = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let path = object_path(&<Pod as ApiObject>::INFO, namespace, pod, "binding");
        let body = Bytes::from(serde_json::to_vec(&binding)?);
        self.call(Method::POST, &path, JSON, body).await?;
        Ok(())
    }

    pub(crate) async fn batch_create<K: ApiObject>(
        &self,
        namespace: &str,
        objects: &[K],
    ) -> Result<Vec<Result<K>>> {
        // Collected first (futures are lazy: `buffered` still runs at most
        // BATCH_CONCURRENCY at once) so that no closure over a borrow is in
        // the stream's type, which would keep callers' futures from being
        // `Send` (rust-lang/rust#102211).
        let creates: Vec<_> = objects
            .iter()
            .map(|object| self.create(namespace, object))
            .collect();
        Ok(futures::stream::iter(creates)
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await)
    }

    pub(crate) async fn batch_bind(&self, bindings: &[Binding]) -> Result<Vec<Result<()>>> {
        let binds: Vec<_> = bindings
            .iter()
            .map(|binding| self.bind_only(&binding.namespace, &binding.pod, &binding.node))
            .collect();
        Ok(futures::stream::iter(binds)
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await)
    }
}

fn retry_after(response: &http::Response<Incoming>) -> Duration {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(MAX_RETRY_AFTER)
}

/// `/api/v1[/namespaces/<ns>]/<plural>` or `/apis/<group>/<version>/…`.
fn collection_path(info: &api::KindInfo, namespace: &str) -> String {
    let mut path = if info.group.is_empty() {
        format!("/api/{}", info.version)
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    if info.namespaced && !namespace.is_empty() {
        path.push_str("/namespaces/");
        path.push_str(&escape_segment(namespace));
    }
    path.push('/');
    path.push_str(info.plural);
    path
}

fn object_path(info: &api::KindInfo, namespace: &str, name: &str, subresource: &str) -> String {
    let mut path = collection_path(info, namespace);
    path.push('/');
    path.push_str(&escape_segment(name));
    if !subresource.is_empty() {
        path.push('/');
        path.push_str(subresource);
    }
    path
}

/// Percent-encodes what may not appear in a path segment. Kubernetes names
/// are DNS labels or subdomains, so this only matters for bad input, which
/// then reaches the server's validation instead of another path.
fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `path?key=value&…` with the pairs whose value is not empty, encoded.
fn with_query(path: String, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if !value.is_empty() {
            query.append_pair(key, value);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

fn encode<K: ApiObject>(object: &K) -> Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(object)?))
}

/// The `Status` body of a failed request, as far as errors need it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatusBody {
    #[serde(default)]
    pub(crate) code: u16,
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) message: String,
}

/// Maps a failed answer to the error its reason names (or, without a
/// `Status` body, its HTTP code).
pub(crate) fn error_from_status(status: StatusCode, body: &[u8]) -> Error {
    let parsed: StatusBody = serde_json::from_slice(body).unwrap_or_else(|_| StatusBody {
        message: String::from_utf8_lossy(body).trim().to_string(),
        ..StatusBody::default()
    });
    let code = if parsed.code != 0 {
        parsed.code
    } else {
        status.as_u16()
    };
    error_from_reason(code, &parsed.reason, parsed.message)
}

pub(crate) fn error_from_reason(code: u16, reason: &str, message: String) -> Error {
    match (reason, code) {
        ("NotFound", _) | (_, 404) => Error::NotFound(message),
        ("AlreadyExists", _) => Error::AlreadyExists(message),
        ("Conflict", _) | (_, 409) => Error::Conflict(message),
        ("Invalid" | "BadRequest", _) | (_, 400 | 422) => Error::Invalid(message),
        ("Expired" | "Gone", _) | (_, 410) => Error::TooOld(message),
        ("Unauthorized", _) | (_, 401) => Error::Unauthorized(message),
        ("Forbidden", _) | (_, 403) => Error::Forbidden(message),
        ("RequestEntityTooLarge" | "TooManyRequests", _) | (_, 413 | 429) => {
            Error::ResourceExhausted(message)
        }
        ("ServiceUnavailable", _) | (_, 503) => Error::Unavailable(message),
        _ => Error::Rest {
            code,
            reason: reason.to_string(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::api::apps::v1::Deployment;
    use api::k8s_openapi::api::core::v1::Node;

    #[test]
    fn paths_follow_group_version_and_scope() {
        assert_eq!(
            collection_path(&<Pod as ApiObject>::INFO, "ns"),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(
            collection_path(&<Pod as ApiObject>::INFO, ""),
            "/api/v1/pods"
        );
        assert_eq!(
            object_path(&<Deployment as ApiObject>::INFO, "ns", "web", "scale"),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale"
        );
        // A cluster-scoped kind ignores the namespace.
        assert_eq!(
            object_path(&<Node as ApiObject>::INFO, "ns", "n1", ""),
            "/api/v1/nodes/n1"
        );
        assert_eq!(
            object_path(&<Pod as ApiObject>::INFO, "ns", "a/b?c", ""),
            "/api/v1/namespaces/ns/pods/a%2Fb%3Fc"
        );
    }

    #[test]
    fn status_bodies_map_to_errors_by_reason() {
        let status = |code: u16, reason: &str| {
            let body = serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "it failed", "reason": reason, "code": code,
            });
            error_from_status(
                StatusCode::from_u16(code).unwrap(),
                &serde_json::to_vec(&body).unwrap(),
            )
        };
        assert!(matches!(status(404, "NotFound"), Error::NotFound(m) if m == "it failed"));
        assert!(matches!(
            status(409, "AlreadyExists"),
            Error::AlreadyExists(_)
        ));
        assert!(matches!(status(409, "Conflict"), Error::Conflict(_)));
        assert!(matches!(status(422, "Invalid"), Error::Invalid(_)));
        assert!(matches!(status(410, "Expired"), Error::TooOld(_)));
        assert!(matches!(
            status(401, "Unauthorized"),
            Error::Unauthorized(_)
        ));
        assert!(matches!(status(403, "Forbidden"), Error::Forbidden(_)));
        assert!(matches!(
            status(429, "TooManyRequests"),
            Error::ResourceExhausted(_)
        ));
        assert!(matches!(
            status(503, "ServiceUnavailable"),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            status(500, "InternalError"),
            Error::Rest { code: 500, .. }
        ));
        // Not a Status: the code and the text.
        assert!(matches!(
            error_from_status(StatusCode::NOT_FOUND, b"404 page not found"),
            Error::NotFound(m) if m == "404 page not found"
        ));
    }
}
