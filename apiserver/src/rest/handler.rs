//! One REST request → one call into the request core: the path names the
//! resource (`path`), the method and path together the verb, the query its
//! options (`query`); the answer is the core's stored bytes (spliced into
//! a list, a watch stream or a Table), or a `Status` (`status`).

use std::sync::{Arc, Mutex};

use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use prost::bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::kinds::KindOps;
use crate::patch::{self, PatchType, apply::ApplyRequest};
use crate::request::{Attributes, UserInfo, Verb};
use crate::rest::accept::{self, Representation};
use crate::rest::body::{self, Body};
use crate::rest::path::{self, PathInfo, ResourcePath};
use crate::rest::query::{self, Query};
use crate::rest::table::{self, IncludeObject, TableRequest};
use crate::rest::{RestState, watch};
use crate::rest::{
    discovery, eviction, metadata, metrics, openapi, protobuf, resources, reviews, scale,
};
use crate::verbs::{DeleteOptions, ListOptions, ListPage, Patcher, WatchOptions, WriteOptions};

/// Serves one request as `user`.
pub(crate) async fn handle(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
) -> http::Response<Body> {
    let (result, warnings) = crate::warnings::collect(route(rest, request, user)).await;
    let response = match result {
        Ok(response) => response,
        Err(error) => body::error(&error),
    };
    with_warnings(response, &warnings)
}

async fn route(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
) -> Result<http::Response<Body>, ApiError> {
    let uri_path = request.uri().path().to_string();
    let parsed = path::parse(&uri_path);
    if !matches!(parsed, PathInfo::Resource(_)) {
        let verb = request.method().as_str().to_ascii_lowercase();
        let attributes = Attributes::non_resource(user.clone(), &verb, &uri_path);
        rest.state.authorizer.authorize(&attributes)?;
    }
    let extras = rest.state.kinds.custom.rows();
    match parsed {
        PathInfo::NonResource => non_resource(
            rest,
            request.method(),
            request.headers(),
            &uri_path,
            &extras,
        ),
        PathInfo::Resource(path) if reviews::is_review(&path.group, &path.resource) => {
            review(rest, request, user, &path).await
        }
        PathInfo::Resource(path) if path.group == metrics::GROUP => {
            metrics::serve(rest, request, user, &path).await
        }
        PathInfo::GroupVersion { group, version } => {
            if request.method() != Method::GET {
                return Err(method_not_allowed(request.method(), &uri_path));
            }
            match discovery::api_resource_list(&extras, &group, &version) {
                Some(list) => Ok(body::json_serialized(StatusCode::OK, &list)),
                None => Err(ApiError::not_found_path(&uri_path)),
            }
        }
        PathInfo::Resource(path) => {
            let kind = rest
                .state
                .kinds
                .resolve(&path.group, &path.version, &path.resource)?;
            let info = kind.info();
            if info.group != path.group || info.version != path.version {
                return Err(ApiError::not_found_path(&uri_path));
            }
            if !info.namespaced && !path.namespace.is_empty() {
                return Err(ApiError::not_found_path(&uri_path));
            }
            let row = resources::find_resource(&extras, &path.group, &path.version, &path.resource)
                .ok_or_else(|| ApiError::not_found_path(&uri_path))?;
            if !path.subresource.is_empty() && row.subresource(&path.subresource).is_none() {
                return Err(ApiError::not_found_path(&uri_path));
            }
            resource(rest, request, user, kind, path).await
        }
    }
}

/// POST of a review resource: authorized as a create, answered at once.
async fn review(
    rest: &RestState,
    request: http::Request<Incoming>,
    user: Arc<UserInfo>,
    path: &ResourcePath,
) -> Result<http::Response<Body>, ApiError> {
    if request.method() != Method::POST || !path.name.is_empty() {
        return Err(method_not_allowed(request.method(), request.uri().path()));
    }
    let attributes = Attributes {
        user: user.clone(),
        verb: Verb::Create.as_str().to_string(),
        resource_request: true,
        group: path.group.clone(),
        version: path.version.clone(),
        resource: path.resource.clone(),
        subresource: String::new(),
        namespace: path.namespace.clone(),
        name: String::new(),
        path: String::new(),
    };
    rest.state.authorizer.authorize(&attributes)?;
    let headers = request.headers().clone();
    let bytes = read_json_body(rest, &headers, request.into_body()).await?;
    let answer = reviews::review(rest, &path.resource, &path.namespace, &user, &bytes)?;
    Ok(body::json_value(StatusCode::CREATED, &answer))
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "the server does not allow this method on the requested resource ({method} {path})"
    ))
}

fn non_resource(
    rest: &RestState,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    extras: &[resources::ResourceRow],
) -> Result<http::Response<Body>, ApiError> {
    if method != Method::GET {
        return Err(method_not_allowed(method, path));
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let aggregated = accept::wants_aggregated_discovery(accept);
    let aggregated_type = Representation::AggregatedDiscovery.content_type();
    let trimmed = path.trim_end_matches('/');
    if trimmed.starts_with("/openapi/")
        && let Some(documents) = rest.state.kinds.custom.openapi()
    {
        // Custom resources are served: the documents that include them.
        let document = match trimmed {
            "/openapi/v2" => Some(documents.v2.clone()),
            "/openapi/v3" => Some(documents.v3_index.clone()),
            other => other
                .strip_prefix("/openapi/v3/")
                .and_then(|group_version| documents.v3_group_version(group_version)),
        };
        return match document {
            Some(bytes) => Ok(body::json_bytes(StatusCode::OK, bytes)),
            None => Err(ApiError::not_found_path(path)),
        };
    }
    match trimmed {
        "/healthz" | "/livez" | "/readyz" => Ok(body::text(StatusCode::OK, "ok")),
        "/openapi/v2" => Ok(body::json_bytes(
            StatusCode::OK,
            Bytes::from_static(&openapi::documents().v2.json),
        )),
        "/openapi/v3" => Ok(body::json_bytes(
            StatusCode::OK,
            Bytes::from_static(&openapi::documents().v3_index.json),
        )),
        "/version" => Ok(body::json_serialized(
            StatusCode::OK,
            &discovery::version_info(),
        )),
        "/api" if aggregated => Ok(body::typed(
            StatusCode::OK,
            aggregated_type,
            &discovery::aggregated_core(extras),
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
            &discovery::aggregated_groups(extras),
        )),
        "/apis" => Ok(body::json_serialized(
            StatusCode::OK,
            &discovery::api_group_list(extras),
        )),
        other if other.starts_with("/openapi/v3/") => {
            let group_version = other.trim_start_matches("/openapi/v3/");
            match openapi::documents().v3_group_version(group_version) {
                Some(document) => Ok(body::json_bytes(
                    StatusCode::OK,
                    Bytes::from_static(&document.json),
                )),
                None => Err(ApiError::not_found_path(path)),
            }
        }
        other => match other.strip_prefix("/apis/") {
            Some(group) if !group.contains('/') => match discovery::api_group(extras, group) {
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
    let verb = match (&method, collection) {
        (&Method::GET, true) if query.flag("watch")? => Verb::Watch,
        (&Method::GET, true) => Verb::List,
        (&Method::GET, false) => Verb::Get,
        (&Method::POST, _) => Verb::Create,
        (&Method::PUT, _) => Verb::Update,
        (&Method::PATCH, _) => Verb::Patch,
        (&Method::DELETE, true) => Verb::DeleteCollection,
        (&Method::DELETE, false) => Verb::Delete,
        _ => return Err(method_not_allowed(&method, &uri_path)),
    };
    state.authorizer.authorize(&attributes(verb))?;
    match (method, collection, path.subresource.as_str()) {
        (Method::GET, true, "") => {
            query.only(&[query::LIST])?;
            if query.flag("watch")? {
                let table = representation(&headers, true)? == Representation::Table;
                let include = include_object(&query)?;
                let objects = match kind.custom() {
                    _ if table => watch::Objects::Table(
                        include,
                        kind.custom().map(|custom| Arc::new(custom.columns.clone())),
                    ),
                    Some(custom) => watch::Objects::InVersion(custom.api_version.clone()),
                    None => watch::Objects::AsStored,
                };
                return watch::serve(rest, info, &path, &query, objects).await;
            }
            let options = list_options(&path, &query)?;
            let representation = representation(&headers, true)?;
            let mut page = state.list(info.resource_key, &options).await?;
            if let Some(custom) = kind.custom() {
                for item in &mut page.items {
                    item.wire = custom.in_version(item.wire.clone())?;
                }
            }
            let columns = kind.custom().map(|custom| custom.columns.as_slice());
            render_list(info, columns, &page, representation, &query)
        }
        (Method::POST, true, "") => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let options = write_options(&query)?;
            let warnings = check_fields(kind.as_ref(), field_validation(&query)?, &bytes)?;
            let created = kind
                .create(state, &attributes(Verb::Create), &bytes, &options)
                .await?;
            Ok(with_warnings(
                body::json_bytes(StatusCode::CREATED, created),
                &warnings,
            ))
        }
        (Method::DELETE, true, "") => {
            query.only(&[query::LIST, query::DELETE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let options = delete_options(&query, &bytes)?;
            let page = state
                .list(info.resource_key, &list_options(&path, &query)?)
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
        (Method::GET, false, "" | "status" | "ephemeralcontainers") => {
            query.only(&[query::GET])?;
            let representation = representation(&headers, false)?;
            let mut object = state
                .get(info.resource_key, &path.namespace, &path.name)
                .await?;
            if let Some(custom) = kind.custom() {
                object = custom.in_version(object)?;
            }
            let columns = kind.custom().map(|custom| custom.columns.as_slice());
            render_object(info, columns, object, representation, &query)
        }
        (Method::PUT, false, "" | "status" | "ephemeralcontainers") => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let options = write_options(&query)?;
            let warnings = check_fields(kind.as_ref(), field_validation(&query)?, &bytes)?;
            let updated = kind
                .update(state, &attributes(Verb::Update), &bytes, &options)
                .await?;
            Ok(with_warnings(
                body::json_bytes(StatusCode::OK, updated),
                &warnings,
            ))
        }
        (Method::PATCH, false, "" | "status" | "ephemeralcontainers") => {
            query.only(&[query::PATCH])?;
            let patch_type = PatchType::from_content_type(&content_type(&headers))?;
            if patch_type == PatchType::StrategicMerge && kind.custom().is_some() {
                // Custom resources have no patch strategies to merge by.
                return Err(ApiError::UnsupportedMediaType(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".to_string(),
                ));
            }
            let bytes = read_body(rest, request.into_body()).await?;
            let manager = field_manager(&query, &headers);
            let warnings = Arc::new(Mutex::new(Vec::new()));
            let patcher = patcher(
                &kind,
                patch_type,
                bytes.clone(),
                &query,
                &manager,
                &warnings,
            )?;
            let options = write_options(&query)?;
            let attributes = attributes(Verb::Patch);
            match kind
                .patch(state, &attributes, patcher.as_ref(), &options)
                .await
            {
                Ok(patched) => {
                    let warnings = lock_warnings(&warnings).clone();
                    Ok(with_warnings(
                        body::json_bytes(StatusCode::OK, patched),
                        &warnings,
                    ))
                }
                Err(ApiError::NotFound { .. })
                    if patch_type == PatchType::Apply && path.subresource.is_empty() =>
                {
                    let created =
                        apply_create(rest, kind.as_ref(), &attributes, &bytes, &query, &options)
                            .await?;
                    Ok(body::json_bytes(StatusCode::CREATED, created))
                }
                Err(error) => Err(error),
            }
        }
        (Method::DELETE, false, "") => {
            query.only(&[query::DELETE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
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
        (Method::POST, false, "eviction") if info.plural == "pods" => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            let answer = eviction::evict(rest, kind.as_ref(), &attributes(verb), &bytes).await?;
            Ok(body::json_value(StatusCode::CREATED, &answer))
        }
        (Method::GET | Method::PUT | Method::PATCH, false, "scale") => {
            let content_type = content_type(&headers);
            let bytes = if verb == Verb::Update {
                read_json_body(rest, &headers, request.into_body()).await?
            } else {
                read_body(rest, request.into_body()).await?
            };
            let options = write_options(&query)?;
            let scale = scale::serve(
                rest,
                kind.as_ref(),
                &attributes(verb),
                &content_type,
                &bytes,
                &options,
            )
            .await?;
            Ok(body::json_value(StatusCode::OK, &scale))
        }
        (Method::POST, false, "token") if info.plural == "serviceaccounts" => {
            query.only(&[query::WRITE])?;
            let bytes = read_json_body(rest, &headers, request.into_body()).await?;
            token_request(rest, &path, &bytes).await
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

pub(crate) fn include_object(query: &Query) -> Result<IncludeObject, ApiError> {
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
    columns: Option<&[table::custom::PrinterColumn]>,
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
            let table =
                table::build_for(&request, columns, &objects, crate::object::now_timestamp());
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
    columns: Option<&[table::custom::PrinterColumn]>,
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
            let table =
                table::build_for(&request, columns, &objects, crate::object::now_timestamp());
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

pub(super) fn list_options(path: &ResourcePath, query: &Query) -> Result<ListOptions, ApiError> {
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

/// What `fieldValidation` does with fields the kind does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FieldValidation {
    /// Drop them (also when the parameter is absent).
    Ignore,
    /// Drop them and answer one `Warning` header each.
    Warn,
    /// Refuse the request (400, as Kubernetes' strict decoding).
    Strict,
}

pub(super) fn field_validation(query: &Query) -> Result<FieldValidation, ApiError> {
    match query.text("fieldValidation") {
        "" | "Ignore" => Ok(FieldValidation::Ignore),
        "Warn" => Ok(FieldValidation::Warn),
        "Strict" => Ok(FieldValidation::Strict),
        other => Err(ApiError::BadRequest(format!(
            "fieldValidation must be one of Ignore, Warn or Strict, not {other:?}"
        ))),
    }
}

/// `fieldValidation` on a create or update body, or on the object a
/// JSON, merge or strategic merge patch produced: the warnings to answer,
/// or the strict decoding error.
pub(super) fn check_fields(
    kind: &dyn KindOps,
    validation: FieldValidation,
    bytes: &[u8],
) -> Result<Vec<String>, ApiError> {
    if validation == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let strict = validation == FieldValidation::Strict;
    let unknown: Vec<String> = kind
        .unknown_fields(bytes)
        .into_iter()
        .map(|field| format!("unknown field {field:?}"))
        .collect();
    if strict && !unknown.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "strict decoding error: {}",
            unknown.join(", ")
        )));
    }
    Ok(unknown)
}

/// Adds one `Warning: 299 - "…"` header per warning, as Kubernetes does.
fn with_warnings(mut response: http::Response<Body>, warnings: &[String]) -> http::Response<Body> {
    for warning in warnings {
        let text = format!("299 - {}", serde_json::Value::String(warning.clone()));
        if let Ok(value) = http::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
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

pub(super) fn delete_options(query: &Query, bytes: &[u8]) -> Result<DeleteOptions, ApiError> {
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

/// The field manager of a write: `fieldManager`, else the client's
/// User-Agent up to its first `/`, as Kubernetes defaults it.
fn field_manager(query: &Query, headers: &HeaderMap) -> String {
    let given = query.text("fieldManager");
    if !given.is_empty() {
        return given.to_string();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .and_then(|agent| agent.split('/').next())
        .filter(|agent| !agent.is_empty())
        .unwrap_or("unknown")
        .chars()
        .take(128)
        .collect()
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

/// The warnings a patch answers with, set by each run of its patcher (a
/// lost race runs it again, and the last run is the one stored).
pub(super) type PatchWarnings = Arc<Mutex<Vec<String>>>;

/// Locks the warnings; nothing awaits under this lock, and a poisoned
/// lock still holds a usable list.
fn lock_warnings(warnings: &PatchWarnings) -> std::sync::MutexGuard<'_, Vec<String>> {
    warnings
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The patcher for a PATCH body: JSON patch, merge patch, strategic
/// merge patch (by the kind's merge keys) or server-side apply. The first
/// three check the patched object under `fieldValidation`, as
/// kube-apiserver does, and leave their warnings in `warnings`.
pub(super) fn patcher(
    kind: &Arc<dyn KindOps>,
    patch_type: PatchType,
    bytes: Bytes,
    query: &Query,
    manager: &str,
    warnings: &PatchWarnings,
) -> Result<Box<Patcher>, ApiError> {
    let info = kind.info();
    if patch_type != PatchType::Apply {
        let manager = manager.to_string();
        let validation = field_validation(query)?;
        let kind = kind.clone();
        let warnings = warnings.clone();
        return Ok(Box::new(move |stored: &Value| {
            let mut patched = patch::apply_patch(info, stored, patch_type, &bytes)?;
            if validation != FieldValidation::Ignore {
                let encoded = serde_json::to_vec(&patched).map_err(ApiError::internal)?;
                *lock_warnings(&warnings) = check_fields(kind.as_ref(), validation, &encoded)?;
            }
            let now = api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                crate::object::now_timestamp(),
            );
            let entries = patch::apply::record_update(info, stored, &patched, &manager, &now)?;
            patch::apply::set_managed_fields(&mut patched, &entries)?;
            Ok(patched)
        }));
    }
    let field_manager = query.text("fieldManager").to_string();
    if field_manager.is_empty() {
        return Err(ApiError::BadRequest(
            "PATCH requests with apply content type must include a fieldManager query parameter"
                .to_string(),
        ));
    }
    let force = query.flag("force")?;
    Ok(Box::new(move |stored: &Value| {
        let now = api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            crate::object::now_timestamp(),
        );
        let request = ApplyRequest {
            kind: info,
            live: Some(stored),
            body: &bytes,
            field_manager: &field_manager,
            force,
            now: &now,
        };
        Ok(patch::apply::server_side_apply(&request)?)
    }))
}

/// Server-side apply of an object that does not exist yet: created from
/// the applied configuration, owned by its field manager.
async fn apply_create(
    rest: &RestState,
    kind: &dyn KindOps,
    attributes: &Attributes,
    bytes: &[u8],
    query: &Query,
    options: &WriteOptions,
) -> Result<Bytes, ApiError> {
    let info = kind.info();
    let now =
        api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(crate::object::now_timestamp());
    let request = ApplyRequest {
        kind: info,
        live: None,
        body: bytes,
        field_manager: query.text("fieldManager"),
        force: query.flag("force")?,
        now: &now,
    };
    let object = patch::apply::server_side_apply(&request)?;
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name != attributes.name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            attributes.name
        )));
    }
    let body = serde_json::to_vec(&object).map_err(ApiError::internal)?;
    let mut create = attributes.clone();
    create.verb = Verb::Create.as_str().to_string();
    kind.create(&rest.state, &create, &body, options).await
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

/// POST `serviceaccounts/<name>/token` (TokenRequest): a signed token for
/// the ServiceAccount, as `kubectl create token` asks for.
async fn token_request(
    rest: &RestState,
    path: &ResourcePath,
    bytes: &[u8],
) -> Result<http::Response<Body>, ApiError> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        #[serde(default)]
        audiences: Vec<String>,
        expiration_seconds: Option<i64>,
    }
    #[derive(Deserialize)]
    struct TokenRequestBody {
        #[serde(default)]
        spec: Spec,
    }
    let Some(signer) = rest
        .authenticator
        .as_ref()
        .and_then(|authenticator| authenticator.service_account_tokens.as_ref())
    else {
        return Err(ApiError::Unavailable(
            "ServiceAccount tokens are not configured on this apiserver".to_string(),
        ));
    };
    let request: TokenRequestBody = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::BadRequest(format!("cannot decode TokenRequest: {error}")))?;
    let account = rest
        .state
        .get("serviceaccounts", &path.namespace, &path.name)
        .await?;
    let account: Value = serde_json::from_slice(&account).map_err(ApiError::internal)?;
    let uid = account
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let expiration = request.spec.expiration_seconds.unwrap_or(3600);
    if !(600..=(1 << 32)).contains(&expiration) {
        return Err(ApiError::BadRequest(
            "spec.expirationSeconds: may not specify a duration less than 10 minutes or more than 2^32 seconds"
                .to_string(),
        ));
    }
    let mut audiences = request.spec.audiences;
    if audiences.is_empty() {
        audiences.push(signer.issuer().to_string());
    }
    let now = crate::object::now_timestamp().as_second();
    let token = signer
        .issue(
            &path.namespace,
            &path.name,
            uid,
            &audiences,
            expiration,
            now,
        )
        .map_err(ApiError::internal)?;
    let expires = crate::object::time_in(expiration);
    let answer = serde_json::json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": path.name, "namespace": path.namespace},
        "spec": {"audiences": audiences, "expirationSeconds": expiration},
        "status": {"token": token, "expirationTimestamp": expires},
    });
    Ok(body::json_value(StatusCode::CREATED, &answer))
}

/// The media type of YAML request bodies.
pub(super) const YAML_MEDIA_TYPE: &str = "application/yaml";

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

/// Reads a body that must be JSON (`application/json`, or no type), YAML
/// (`application/yaml`) or Kubernetes protobuf, as JSON
/// ([`decode_json_body`]).
async fn read_json_body(
    rest: &RestState,
    headers: &HeaderMap,
    incoming: Incoming,
) -> Result<Bytes, ApiError> {
    let content_type = content_type(headers);
    let bytes = read_body(rest, incoming).await?;
    decode_json_body(&content_type, bytes)
}

/// Turns a whole request body of media type `content_type` into JSON:
/// YAML and protobuf become the same JSON here, so everything after
/// (`fieldValidation`, the verbs) reads JSON only. As in kube-apiserver,
/// the type of an empty body (a DELETE without options) does not matter.
pub(super) fn decode_json_body(content_type: &str, bytes: Bytes) -> Result<Bytes, ApiError> {
    if bytes.is_empty() {
        return Ok(bytes);
    }
    match content_type {
        "" | "application/json" | "*/*" => Ok(bytes),
        protobuf::MEDIA_TYPE => {
            let object = protobuf::decode_request(&bytes)
                .map_err(|error| ApiError::BadRequest(error.to_string()))?;
            serde_json::to_vec(&object)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        }
        YAML_MEDIA_TYPE => {
            let object = crate::yaml::to_json_value(&bytes).map_err(|error| {
                ApiError::BadRequest(format!("the request body is not valid YAML: {error}"))
            })?;
            serde_json::to_vec(&object)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        }
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
        ))),
    }
}
