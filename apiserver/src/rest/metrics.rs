//! `metrics.k8s.io/v1beta1` on the REST face, as metrics-server serves it:
//! `NodeMetrics` and `PodMetrics` built from the latest usage kubelets
//! reported (`metrics_store`), for `kubectl top` and autoscalers.
//!
//! The objects a list may show are the stored Nodes and Pods, listed with
//! the request's label and field selectors (so both select on the labels
//! of the node or pod), each shown if a fresh sample of it is held; a named
//! one without a sample is a 404. Metadata is metrics-server's: the name,
//! namespace and labels of the node or pod, and the time of the request as
//! `creationTimestamp`. Tables have metrics-server's columns
//! (`table/metrics`). Metrics are not watchable (405), as with
//! metrics-server.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode, header};
use hyper::body::Incoming;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::metrics_store::{ContainerSample, Usage, Window};
use crate::request::{Attributes, UserInfo, Verb};
use crate::rest::accept::{self, Representation};
use crate::rest::body::{self, Body};
use crate::rest::path::ResourcePath;
use crate::rest::query::{self, Query};
use crate::rest::table::{self, TableRequest};
use crate::rest::{RestState, handler};
use crate::verbs::ListOptions;

/// The group this module serves.
pub(crate) const GROUP: &str = "metrics.k8s.io";
const VERSION: &str = "v1beta1";
const API_VERSION: &str = "metrics.k8s.io/v1beta1";

/// Serves one request under `/apis/metrics.k8s.io/`.
pub(crate) async fn serve(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
    path: &ResourcePath,
) -> Result<http::Response<Body>, ApiError> {
    let uri_path = request.uri().path();
    let namespaced = match path.resource.as_str() {
        "nodes" => false,
        "pods" => true,
        _ => return Err(ApiError::not_found_path(uri_path)),
    };
    if path.version != VERSION
        || !path.subresource.is_empty()
        || (!namespaced && !path.namespace.is_empty())
    {
        return Err(ApiError::not_found_path(uri_path));
    }
    let query = Query::parse(request.uri().query())?;
    let collection = path.name.is_empty();
    let verb = match (request.method(), collection) {
        (&Method::GET, true) if query.flag("watch")? => Verb::Watch,
        (&Method::GET, true) => Verb::List,
        (&Method::GET, false) => Verb::Get,
        (&Method::POST, _) => Verb::Create,
        (&Method::PUT, _) => Verb::Update,
        (&Method::PATCH, _) => Verb::Patch,
        (&Method::DELETE, true) => Verb::DeleteCollection,
        (&Method::DELETE, false) => Verb::Delete,
        (method, _) => return Err(method_not_allowed(method, uri_path)),
    };
    let attributes = Attributes {
        user,
        verb: verb.as_str().to_string(),
        resource_request: true,
        group: GROUP.to_string(),
        version: VERSION.to_string(),
        resource: path.resource.clone(),
        subresource: String::new(),
        namespace: path.namespace.clone(),
        name: path.name.clone(),
        path: String::new(),
    };
    rest.state.authorizer.authorize(&attributes)?;
    if !matches!(verb, Verb::Get | Verb::List) {
        return Err(method_not_allowed(request.method(), uri_path));
    }
    let representation = representation(request.headers())?;
    let now = SystemTime::now();
    let created = request_time(now);
    let answer = match (namespaced, collection) {
        (false, true) => {
            query.only(&[query::LIST])?;
            node_list(rest, &query, now, &created).await?
        }
        (false, false) => {
            query.only(&[query::GET])?;
            node(rest, &path.name, now, &created).await?
        }
        (true, true) => {
            query.only(&[query::LIST])?;
            pod_list(rest, &path.namespace, &query, now, &created).await?
        }
        (true, false) => {
            query.only(&[query::GET])?;
            pod(rest, &path.namespace, &path.name, now, &created).await?
        }
    };
    if representation != Representation::Table {
        return Ok(body::json_value(StatusCode::OK, &answer));
    }
    let kind = if namespaced {
        "PodMetrics"
    } else {
        "NodeMetrics"
    };
    let table = as_table(answer, kind, &path.resource, &query)?;
    Ok(body::typed(
        StatusCode::OK,
        representation.content_type(),
        &table,
    ))
}

/// A list or one object of `kind` as a Table; each row's object carries
/// its kind, as a list's items do not.
fn as_table(answer: Value, kind: &str, plural: &str, query: &Query) -> Result<Value, ApiError> {
    let objects = match answer.get("items").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                with_type(&mut item, kind);
                item
            })
            .collect(),
        None => vec![answer],
    };
    let request = TableRequest {
        plural,
        resource_version: "",
        continue_token: "",
        include_object: handler::include_object(query)?,
    };
    Ok(table::metrics::build_metrics_table(&request, &objects))
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "the server does not allow this method on the requested resource ({method} {path})"
    ))
}

/// Metrics are served as objects or, as metrics-server prints them, as a
/// Table (`kubectl get podmetrics`); a metadata-only client falls back to
/// the objects, as they all offer.
fn representation(headers: &HeaderMap) -> Result<Representation, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    accept::negotiate(accept, &[Representation::Object, Representation::Table])
        .map_err(|error| ApiError::NotAcceptable(error.to_string()))
}

/// The metadata of a stored Node or Pod that metrics show.
#[derive(Debug, Deserialize)]
struct StoredMeta {
    metadata: Meta,
}

#[derive(Debug, Deserialize)]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: Option<Map<String, Value>>,
}

fn stored_meta(bytes: &[u8]) -> Result<Meta, ApiError> {
    serde_json::from_slice::<StoredMeta>(bytes)
        .map(|stored| stored.metadata)
        .map_err(ApiError::internal)
}

/// The stored objects of `plural` a list selects.
async fn list_stored(
    rest: &RestState,
    plural: &str,
    namespace: &str,
    query: &Query,
) -> Result<Vec<Meta>, ApiError> {
    let options = ListOptions {
        namespace: namespace.to_string(),
        label_selector: query.text("labelSelector").to_string(),
        field_selector: query.text("fieldSelector").to_string(),
        limit: 0,
        continue_token: String::new(),
        resource_version: String::new(),
    };
    let page = rest.state.list(plural, &options).await?;
    page.items
        .iter()
        .map(|item| stored_meta(&item.wire))
        .collect()
}

async fn node_list(
    rest: &RestState,
    query: &Query,
    now: SystemTime,
    created: &Value,
) -> Result<Value, ApiError> {
    let nodes = list_stored(rest, "nodes", "", query).await?;
    let store = &rest.state.metrics;
    let items: Vec<Value> = nodes
        .iter()
        .filter_map(|meta| {
            let sample = store.node(&meta.name, now)?;
            Some(node_metrics(meta, &sample.window, sample.usage, created))
        })
        .collect();
    Ok(list("NodeMetricsList", items))
}

async fn node(
    rest: &RestState,
    name: &str,
    now: SystemTime,
    created: &Value,
) -> Result<Value, ApiError> {
    let not_found = || ApiError::not_found("nodemetrics.metrics.k8s.io", name);
    let stored = match rest.state.get("nodes", "", name).await {
        Ok(stored) => stored,
        Err(ApiError::NotFound { .. }) => return Err(not_found()),
        Err(error) => return Err(error),
    };
    let meta = stored_meta(&stored)?;
    let sample = rest.state.metrics.node(name, now).ok_or_else(not_found)?;
    let mut object = node_metrics(&meta, &sample.window, sample.usage, created);
    with_type(&mut object, "NodeMetrics");
    Ok(object)
}

async fn pod_list(
    rest: &RestState,
    namespace: &str,
    query: &Query,
    now: SystemTime,
    created: &Value,
) -> Result<Value, ApiError> {
    let pods = list_stored(rest, "pods", namespace, query).await?;
    let samples = rest.state.metrics.pods(
        pods.iter()
            .map(|meta| (meta.namespace.as_str(), meta.name.as_str())),
        now,
    );
    let items: Vec<Value> = pods
        .iter()
        .zip(samples)
        .filter_map(|(meta, sample)| {
            let sample = sample?;
            Some(pod_metrics(
                meta,
                &sample.window,
                &sample.containers,
                created,
            ))
        })
        .collect();
    Ok(list("PodMetricsList", items))
}

async fn pod(
    rest: &RestState,
    namespace: &str,
    name: &str,
    now: SystemTime,
    created: &Value,
) -> Result<Value, ApiError> {
    let not_found = || ApiError::not_found("podmetrics.metrics.k8s.io", name);
    let stored = match rest.state.get("pods", namespace, name).await {
        Ok(stored) => stored,
        Err(ApiError::NotFound { .. }) => return Err(not_found()),
        Err(error) => return Err(error),
    };
    let meta = stored_meta(&stored)?;
    let sample = rest
        .state
        .metrics
        .pods([(namespace, name)], now)
        .pop()
        .flatten()
        .ok_or_else(not_found)?;
    let mut object = pod_metrics(&meta, &sample.window, &sample.containers, created);
    with_type(&mut object, "PodMetrics");
    Ok(object)
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({
        "kind": kind,
        "apiVersion": API_VERSION,
        "metadata": {},
        "items": items,
    })
}

/// Puts `kind` and `apiVersion` first, as a single object carries them.
fn with_type(object: &mut Value, kind: &str) {
    let mut typed = Map::new();
    typed.insert("kind".to_string(), json!(kind));
    typed.insert("apiVersion".to_string(), json!(API_VERSION));
    if let Value::Object(fields) = std::mem::take(object) {
        typed.extend(fields);
    }
    *object = Value::Object(typed);
}

fn metadata(meta: &Meta, created: &Value) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".to_string(), json!(meta.name));
    if !meta.namespace.is_empty() {
        metadata.insert("namespace".to_string(), json!(meta.namespace));
    }
    metadata.insert("creationTimestamp".to_string(), created.clone());
    if let Some(labels) = meta.labels.as_ref().filter(|labels| !labels.is_empty()) {
        metadata.insert("labels".to_string(), Value::Object(labels.clone()));
    }
    Value::Object(metadata)
}

fn node_metrics(meta: &Meta, window: &Window, usage: Usage, created: &Value) -> Value {
    json!({
        "metadata": metadata(meta, created),
        "timestamp": timestamp(window.timestamp_unix_millis),
        "window": go_duration(window.window),
        "usage": usage_value(usage),
    })
}

fn pod_metrics(
    meta: &Meta,
    window: &Window,
    containers: &[ContainerSample],
    created: &Value,
) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|container| json!({"name": container.name, "usage": usage_value(container.usage)}))
        .collect();
    json!({
        "metadata": metadata(meta, created),
        "timestamp": timestamp(window.timestamp_unix_millis),
        "window": go_duration(window.window),
        "containers": containers,
    })
}

/// `{cpu, memory}` as Kubernetes quantities: CPU in canonical decimal form
/// of nanocores (`150m`, `123456789n`), memory in binary form (`456Ki`).
pub(crate) fn usage_value(usage: Usage) -> Value {
    let cpu = api::quantity::Quantity::from_nanos(
        i128::from(usage.cpu_nanocores),
        api::quantity::QuantityFormat::DecimalSi,
    );
    let memory = api::quantity::Quantity::from_units(
        i64::try_from(usage.memory_bytes).unwrap_or(i64::MAX),
        api::quantity::QuantityFormat::BinarySi,
    );
    json!({"cpu": cpu.to_string(), "memory": memory.to_string()})
}

/// The time of the request, at second precision as Kubernetes writes it.
fn request_time(now: SystemTime) -> Value {
    let seconds = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    timestamp(seconds.saturating_mul(1000))
}

/// A sample time in RFC 3339 at second precision, as `metav1.Time`.
fn timestamp(unix_millis: i64) -> Value {
    let time = k8s_openapi::jiff::Timestamp::from_second(unix_millis.div_euclid(1000))
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    serde_json::to_value(Time(time)).unwrap_or(Value::Null)
}

/// A duration as Go's `time.Duration.String` prints it (`15s`, `1m30s`,
/// `1.5s`, `500ms`), which is how `metav1.Duration` travels.
pub(crate) fn go_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_string();
    }
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let hours = millis / 3_600_000;
    let minutes = millis / 60_000 % 60;
    let seconds = millis / 1000 % 60;
    let fraction = millis % 1000;
    let mut text = String::new();
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if fraction == 0 {
        text.push_str(&format!("{seconds}s"));
    } else {
        let fraction = format!("{fraction:03}");
        text.push_str(&format!("{seconds}.{}s", fraction.trim_end_matches('0')));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::{go_duration, usage_value};
    use crate::metrics_store::Usage;

    #[test]
    fn windows_print_as_go_durations() {
        let check = |millis: u64, expected: &str| {
            assert_eq!(go_duration(Duration::from_millis(millis)), expected);
        };
        check(0, "0s");
        check(500, "500ms");
        check(15_000, "15s");
        check(20_500, "20.5s");
        check(20_062, "20.062s");
        check(90_000, "1m30s");
        check(3_600_000, "1h0m0s");
    }

    #[test]
    fn usage_prints_as_metrics_server_quantities() {
        let check = |cpu_nanocores: u64, memory_bytes: u64, expected: serde_json::Value| {
            let usage = Usage {
                cpu_nanocores,
                memory_bytes,
            };
            assert_eq!(usage_value(usage), expected);
        };
        check(
            150_000_000,
            466_944,
            json!({"cpu": "150m", "memory": "456Ki"}),
        );
        check(
            123_456_789,
            1_610_612_736,
            json!({"cpu": "123456789n", "memory": "1536Mi"}),
        );
        check(2_000_000_000, 0, json!({"cpu": "2", "memory": "0"}));
    }
}
