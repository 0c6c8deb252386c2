//! One REST request → one call into the request core: the path names the
//! resource (`path`), the method and path together the verb, the query its
//! options (`query`); the answer is the core's stored bytes (spliced into
//! a list, a watch stream or a Table), or a `Status` (`status`).

use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use prost::bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::kinds::KindOps;
use crate::request::{Attributes, UserInfo, Verb};
use crate::rest::accept::{self, Representation};
use crate::rest::body::{self, Body};
use crate::rest::path::{self, PathInfo, ResourcePath};
use crate::rest::query::{self, Query};
use crate::rest::table::{self, IncludeObject, TableRequest};
use crate::rest::{RestState, watch};
use crate::rest::{discovery, metadata, resources};
use crate::verbs::{DeleteOptions, ListOptions, ListPage, Patcher, WatchOptions, WriteOptions};

/// Serves one request as `user`.
pub(crate) async fn handle(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
) -> http::Response<Body> {
    match route(rest, request, user).await {
        Ok(response) => response,
        Err(error) => body::error(&error),
    }
}

async fn route(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
) -> Result<http::Response<Body>, ApiError> {
    let uri_path = request.uri().path().to_string();
    match path::parse(&uri_path) {
        PathInfo::NonResource => non_resource(request.method(), request.headers(), &uri_path),
        PathInfo::GroupVersion { group, version } => {
            if request.method() != Method::GET {
                return Err(method_not_allowed(request.method(), &uri_path));
            }
            match discovery::api_resource_list(&[], &group, &version) {
                Some(list) => Ok(body::json_serialized(StatusCode::OK, &list)),
                None => Err(ApiError::not_found_path(&uri_path)),
            }
        }
        PathInfo::Resource(path) => {
            let kind = rest.state.kinds.get(&path.resource)?.clone();
            let info = kind.info();
            if info.group != path.group || info.version != path.version {
                return Err(ApiError::not_found_path(&uri_path));
            }
            if !info.namespaced && !path.namespace.is_empty() {
                return Err(ApiError::not_found_path(&uri_path));
            }
            let row = resources::find_resource(&[], &path.group, &path.version, &path.resource)
                .ok_or_else(|| ApiError::not_found_path(&uri_path))?;
            if !path.subresource.is_empty() && row.subresource(&path.subresource).is_none() {
                return Err(ApiError::not_found_path(&uri_path));
            }
            resource(rest, request, user, kind, path).await
        }
    }
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "the server does not allow this method on the requested resource ({method} {path})"
    ))
}

fn non_resource(
    method: &Method,
    headers: &HeaderMap,
    path: &str,
) -> Result<http::Response<Body>, ApiError> {
    if method != Method::GET {
        return Err(method_not_allowed(method, path));
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let aggregated = accept::wants_aggregated_discovery(accept);
    let aggregated_type = Representation::AggregatedDiscovery.content_type();
    match path.trim_end_matches('/') {
        "/healthz" | "/livez" | "/readyz" => Ok(body::text(StatusCode::OK, "ok")),
        "/version" => Ok(body::json_serialized(
            StatusCode::OK,
            &discovery::version_info(),
        )),
        "/api" if aggregated => Ok(body::typed(
            StatusCode::OK,
            aggregated_type,
            &discovery::aggregated_core(&[]),
        )),
        "/api" => {
            let host = headers
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            Ok(body::json_serialized(
                StatusCode::OK,
                &discovery::api_versions(host),
            ))
        }
        "/apis" if aggregated => Ok(body::typed(
            StatusCode::OK,
            aggregated_type,
            &discovery::aggregated_groups(&[]),
        )),
        "/apis" => Ok(body::json_serialized(
            StatusCode::OK,
            &discovery::api_group_list(&[]),
        )),
        other => match other.strip_prefix("/apis/") {
            Some(group) if !group.contains('/') => match discovery::api_group(&[], group) {
                Some(found) => Ok(body::json_serialized(StatusCode::OK, &found)),
                None => Err(ApiError::not_found_path(path)),
            },
            _ => Err(ApiError::not_found_path(path)),
        },
    }
}

async fn resource(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
    kind: Arc<dyn KindOps>,
    path: ResourcePath,
) -> Result<http::Response<Body>, ApiError> {
    let info = kind.info();
    let uri_path = request.uri().path().to_string();
    let query = Query::parse(request.uri().query())?;
    let method = request.method().clone();
    let headers = request.headers().clone();
    let collection = path.name.is_empty();
    let state = &rest.state;
    let attributes = |verb: Verb| {
        Attributes::resource(
            user.clone(),
            verb,
            info,
            &path.subresource,
            &path.namespace,
            &path.name,
        )
    };
    match (method, collection, path.subresource.as_str()) {
        (Method::GET, true, "") => {
            query.only(&[query::LIST])?;
            if query.flag("watch")? {
                return watch::serve(rest, info, &path, &query).await;
            }
            let options = list_options(&path, &query)?;
            let representation = representation(&headers, true)?;
            let page = state.list(info.plural, &options).await?;
            render_list(info, &page, representation, &query)
        }
        (Method::POST, true, "") => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let options = write_options(&query)?;
            let created = kind
                .create(state, &attributes(Verb::Create), &bytes, &options)
                .await?;
            Ok(body::json_bytes(StatusCode::CREATED, created))
        }
        (Method::DELETE, true, "") => {
            query.only(&[query::LIST, query::DELETE])?;
            let bytes = read_body(rest, request.into_body()).await?;
            let options = delete_options(&query, &bytes)?;
            let page = state
                .list(info.plural, &list_options(&path, &query)?)
                .await?;
            for item in &page.items {
                let Some((namespace, name)) = object_identity(&item.wire) else {
                    continue;
                };
                let attributes =
                    Attributes::resource(user.clone(), Verb::Delete, info, "", &namespace, &name);
                match kind.delete(state, &attributes, &options).await {
                    Ok(_) | Err(ApiError::NotFound { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(body::list(info, &page))
        }
        (Method::GET, false, "" | "status") => {
            query.only(&[query::GET])?;
            let representation = representation(&headers, false)?;
            let object = state.get(info.plural, &path.namespace, &path.name).await?;
            render_object(info, object, representation, &query)
        }
        (Method::PUT, false, "" | "status") => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let options = write_options(&query)?;
            let updated = kind
                .update(state, &attributes(Verb::Update), &bytes, &options)
                .await?;
            Ok(body::json_bytes(StatusCode::OK, updated))
        }
        (Method::PATCH, false, "" | "status") => {
            query.only(&[query::PATCH])?;
            let content_type = content_type(&headers);
            let bytes = read_body(rest, request.into_body()).await?;
            let patcher = patcher(&content_type, bytes)?;
            let options = write_options(&query)?;
            let patched = kind
                .patch(state, &attributes(Verb::Patch), patcher.as_ref(), &options)
                .await?;
            Ok(body::json_bytes(StatusCode::OK, patched))
        }
        (Method::DELETE, false, "") => {
            query.only(&[query::DELETE])?;
            let bytes = read_body(rest, request.into_body()).await?;
            let options = delete_options(&query, &bytes)?;
            let deleted = kind
                .delete(state, &attributes(Verb::Delete), &options)
                .await?;
            let code = if deleted.gone {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            Ok(body::json_bytes(code, deleted.object))
        }
        (Method::POST, false, "binding") if info.plural == "pods" => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            bind(rest, &path, &bytes).await
        }
        (_, false, "log" | "exec" | "attach" | "portforward" | "proxy") => {
            Err(ApiError::Unavailable(format!(
                "{}/{} is served by the node's kubelet, which does not serve it yet",
                info.plural, path.subresource
            )))
        }
        (method, _, _) => Err(method_not_allowed(&method, &uri_path)),
    }
}

/// The representation a GET answers with, from its `Accept` header.
fn representation(headers: &HeaderMap, list: bool) -> Result<Representation, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let metadata = if list {
        Representation::PartialObjectMetadataList
    } else {
        Representation::PartialObjectMetadata
    };
    let offers = [Representation::Object, Representation::Table, metadata];
    accept::negotiate(accept, &offers).map_err(|error| ApiError::NotAcceptable(error.to_string()))
}

fn include_object(query: &Query) -> Result<IncludeObject, ApiError> {
    let given = query.text("includeObject");
    IncludeObject::parse((!given.is_empty()).then_some(given))
        .map_err(|error| ApiError::BadRequest(error.to_string()))
}

fn decode_items(items: impl Iterator<Item = Bytes>) -> Result<Vec<Value>, ApiError> {
    items
        .map(|bytes| serde_json::from_slice(&bytes).map_err(ApiError::internal))
        .collect()
}

/// A list as the client asked for it: the objects (spliced from their
/// stored bytes), a Table, or their metadata.
fn render_list(
    info: &'static api::KindInfo,
    page: &ListPage,
    representation: Representation,
    query: &Query,
) -> Result<http::Response<Body>, ApiError> {
    let revision = page.revision.to_string();
    match representation {
        Representation::Table => {
            let objects = decode_items(page.items.iter().map(|item| item.wire.clone()))?;
            let request = TableRequest {
                plural: info.plural,
                resource_version: &revision,
                continue_token: &page.continue_token,
                include_object: include_object(query)?,
            };
            let table = table::build_table(&request, &objects, crate::object::now_timestamp());
            Ok(body::typed(
                StatusCode::OK,
                representation.content_type(),
                &table,
            ))
        }
        Representation::PartialObjectMetadataList => {
            let objects = decode_items(page.items.iter().map(|item| item.wire.clone()))?;
            let list =
                metadata::partial_object_metadata_list(&objects, &revision, &page.continue_token);
            Ok(body::typed(
                StatusCode::OK,
                representation.content_type(),
                &list,
            ))
        }
        _ => Ok(body::list(info, page)),
    }
}

/// One object as the client asked for it.
fn render_object(
    info: &'static api::KindInfo,
    object: Bytes,
    representation: Representation,
    query: &Query,
) -> Result<http::Response<Body>, ApiError> {
    match representation {
        Representation::Table => {
            let objects = decode_items(std::iter::once(object))?;
            let revision = objects
                .first()
                .and_then(|object| object.pointer("/metadata/resourceVersion"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let request = TableRequest {
                plural: info.plural,
                resource_version: &revision,
                continue_token: "",
                include_object: include_object(query)?,
            };
            let table = table::build_table(&request, &objects, crate::object::now_timestamp());
            Ok(body::typed(
                StatusCode::OK,
                representation.content_type(),
                &table,
            ))
        }
        Representation::PartialObjectMetadata => {
            let object: Value = serde_json::from_slice(&object).map_err(ApiError::internal)?;
            let partial = metadata::partial_object_metadata(&object);
            Ok(body::typed(
                StatusCode::OK,
                representation.content_type(),
                &partial,
            ))
        }
        _ => Ok(body::json_bytes(StatusCode::OK, object)),
    }
}

fn list_options(path: &ResourcePath, query: &Query) -> Result<ListOptions, ApiError> {
    Ok(ListOptions {
        namespace: path.namespace.clone(),
        label_selector: query.text("labelSelector").to_string(),
        field_selector: query.text("fieldSelector").to_string(),
        limit: query.integer("limit")?.unwrap_or(0),
        continue_token: query.text("continue").to_string(),
        resource_version: query.text("resourceVersion").to_string(),
    })
}

/// The watch a `?watch=1` list asks for.
pub(crate) fn watch_options(path: &ResourcePath, query: &Query) -> Result<WatchOptions, ApiError> {
    Ok(WatchOptions {
        namespace: path.namespace.clone(),
        label_selector: query.text("labelSelector").to_string(),
        field_selector: query.text("fieldSelector").to_string(),
        resource_version: query.text("resourceVersion").to_string(),
        allow_bookmarks: query.flag("allowWatchBookmarks")?,
    })
}

fn write_options(query: &Query) -> Result<WriteOptions, ApiError> {
    Ok(WriteOptions {
        dry_run: query.dry_run()?,
    })
}

/// The body of a DELETE: `metav1.DeleteOptions`, all fields optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteBody {
    grace_period_seconds: Option<i64>,
    propagation_policy: Option<String>,
    orphan_dependents: Option<bool>,
    preconditions: Option<PreconditionsBody>,
    dry_run: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreconditionsBody {
    uid: Option<String>,
    resource_version: Option<String>,
}

fn delete_options(query: &Query, bytes: &[u8]) -> Result<DeleteOptions, ApiError> {
    let body: DeleteBody = if bytes.is_empty() {
        DeleteBody::default()
    } else {
        serde_json::from_slice(bytes)
            .map_err(|error| ApiError::BadRequest(format!("invalid DeleteOptions: {error}")))?
    };
    let mut propagation = body.propagation_policy.unwrap_or_default();
    if propagation.is_empty() {
        propagation = query.text("propagationPolicy").to_string();
    }
    let orphan = match body.orphan_dependents {
        Some(orphan) => orphan,
        None => query.flag("orphanDependents")?,
    };
    if orphan && propagation.is_empty() {
        propagation = "Orphan".to_string();
    }
    let body_dry_run = match body.dry_run.as_deref() {
        None | Some([]) => false,
        Some([all]) if all == "All" => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "invalid dryRun {other:?}: the only supported value is All"
            )));
        }
    };
    let preconditions = body.preconditions.unwrap_or_default();
    Ok(DeleteOptions {
        grace_period_seconds: match body.grace_period_seconds {
            Some(grace) => Some(grace),
            None => query.integer("gracePeriodSeconds")?,
        },
        precondition_uid: preconditions.uid.unwrap_or_default(),
        precondition_resource_version: preconditions.resource_version.unwrap_or_default(),
        propagation_policy: propagation,
        dry_run: body_dry_run || query.dry_run()?,
    })
}

/// The media type of the request body, without parameters.
fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The patcher for a PATCH body of media type `content_type`.
fn patcher(content_type: &str, bytes: Bytes) -> Result<Box<Patcher>, ApiError> {
    match content_type {
        "application/merge-patch+json" => {
            let patch: Value = serde_json::from_slice(&bytes)
                .map_err(|error| ApiError::BadRequest(format!("invalid merge patch: {error}")))?;
            if !patch.is_object() {
                return Err(ApiError::BadRequest(
                    "a merge patch must be a JSON object".to_string(),
                ));
            }
            Ok(Box::new(move |stored: &Value| {
                let mut patched = stored.clone();
                json_patch::merge(&mut patched, &patch);
                Ok(patched)
            }))
        }
        "application/json-patch+json" => {
            let patch: json_patch::Patch = serde_json::from_slice(&bytes)
                .map_err(|error| ApiError::BadRequest(format!("invalid JSON patch: {error}")))?;
            Ok(Box::new(move |stored: &Value| {
                let mut patched = stored.clone();
                json_patch::patch(&mut patched, &patch).map_err(|error| ApiError::Invalid {
                    kind: "Patch",
                    name: String::new(),
                    errors: {
                        let mut errors = api::FieldErrors::default();
                        errors.push(api::FieldError::invalid(
                            api::FieldPath::root("patch"),
                            &error.path.to_string(),
                            error.kind.to_string(),
                        ));
                        errors
                    },
                })?;
                Ok(patched)
            }))
        }
        other => Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (got {other:?})"
        ))),
    }
}

/// `metadata.namespace` and `metadata.name` of an object's JSON.
fn object_identity(bytes: &[u8]) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Identity {
        metadata: Meta,
    }
    #[derive(Deserialize)]
    struct Meta {
        #[serde(default)]
        namespace: String,
        name: String,
    }
    let identity: Identity = serde_json::from_slice(bytes).ok()?;
    Some((identity.metadata.namespace, identity.metadata.name))
}

/// POST `pods/<name>/binding`: binds the pod to the Binding's target node.
async fn bind(
    rest: &RestState,
    path: &ResourcePath,
    bytes: &[u8],
) -> Result<http::Response<Body>, ApiError> {
    #[derive(Deserialize)]
    struct Binding {
        target: Target,
    }
    #[derive(Deserialize)]
    struct Target {
        #[serde(default)]
        name: String,
    }
    let binding: Binding = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::BadRequest(format!("cannot decode Binding: {error}")))?;
    rest.state
        .bind(&path.namespace, &path.name, &binding.target.name)
        .await?;
    Ok(body::json_value(
        StatusCode::CREATED,
        &crate::rest::status::success(serde_json::json!({})),
    ))
}

/// Reads a whole body, at most the configured request size.
async fn read_body(rest: &RestState, incoming: Incoming) -> Result<Bytes, ApiError> {
    let limit = rest.state.config.max_request_bytes;
    let limited = http_body_util::Limited::new(incoming, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge {
            size: limit + 1,
            limit,
        }),
        Err(error) => Err(ApiError::BadRequest(format!(
            "cannot read the request body: {error}"
        ))),
    }
}

/// Reads a body that must be JSON (`application/json`, or no type).
async fn read_json_body(
    rest: &RestState,
    headers: &HeaderMap,
    incoming: Incoming,
) -> Result<Bytes, ApiError> {
    let content_type = content_type(headers);
    if !matches!(content_type.as_str(), "" | "application/json" | "*/*") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json (got {content_type:?})"
        )));
    }
    read_body(rest, incoming).await
}
