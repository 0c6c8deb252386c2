//! The gRPC face: `client::proto::api_server::Api` over the request core.
//!
//! Each method finds the request's user (`auth.rs`), turns the request
//! into [`Attributes`], authorizes them (one decision for a whole batch),
//! calls one verb, and encodes the result; an `ApiError` becomes a
//! `Status` in `status.rs`. Skiff's own components use this face: batch
//! RPCs (create, bind) and watch frames that carry many events each.

pub(crate) mod auth;
mod status;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use client::proto::{self, api_server::Api};
use futures::{Stream, StreamExt, stream};
use serde_json::Value;
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use crate::error::ApiError;
use crate::request::{Attributes, Verb};
use crate::state::ApiState;
use crate::verbs::{BindTarget, DeleteOptions, ListOptions, WatchOptions, WriteOptions};
use crate::watch_cache::{CachedEvent, EVENTS_PER_MESSAGE, EventType, WatchHandle, WatchMessage};

/// Items of one batch request processed concurrently (their store writes
/// share commits).
const BATCH_CONCURRENCY: usize = 512;

/// The service. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ApiService {
    pub(crate) state: Arc<ApiState>,
    /// How requests are authenticated.
    pub(crate) auth: auth::GrpcAuth,
    /// Bounds requests in progress (watch streams count only while starting).
    pub(crate) in_flight: Arc<Semaphore>,
    /// Turns true when the server shuts down; open watch streams then end,
    /// so graceful shutdown does not wait for them.
    pub(crate) shutting_down: tokio::sync::watch::Receiver<bool>,
}

type ApiResult<T> = Result<Response<T>, Status>;

/// What a request acts on.
#[derive(Clone, Copy)]
struct Target<'a> {
    resource: &'a str,
    subresource: &'a str,
    namespace: &'a str,
    name: &'a str,
}

impl<'a> Target<'a> {
    fn new(resource: &'a str, namespace: &'a str, name: &'a str) -> Target<'a> {
        Target {
            resource,
            subresource: "",
            namespace,
            name,
        }
    }
}

impl ApiService {
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Status> {
        self.in_flight
            .acquire()
            .await
            .map_err(|_| Status::unavailable("apiserver is shutting down"))
    }

    /// The attributes of `request`'s `verb` on `resource`, once its user
    /// may do it.
    fn authorize<T>(
        &self,
        request: &Request<T>,
        verb: Verb,
        target: Target<'_>,
    ) -> Result<Attributes, ApiError> {
        let user = self.auth.user(request)?;
        let info = self.state.kinds.get(target.resource)?.info();
        let attributes = Attributes::resource(
            user,
            verb,
            info,
            target.subresource,
            target.namespace,
            target.name,
        );
        self.state.authorizer.authorize(&attributes)?;
        Ok(attributes)
    }
}

fn item_result<T>(
    result: Result<T, ApiError>,
    encode: impl FnOnce(T) -> Result<prost::bytes::Bytes, ApiError>,
) -> proto::ItemResult {
    match result.and_then(encode) {
        Ok(object) => proto::ItemResult {
            code: 0,
            message: String::new(),
            object,
        },
        Err(error) => {
            let status = Status::from(error);
            proto::ItemResult {
                code: status.code() as i32,
                message: status.message().to_string(),
                object: Default::default(),
            }
        }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<proto::WatchBatch, Status>> + Send>>;

#[tonic::async_trait]
impl Api for ApiService {
    async fn create(
        &self,
        request: Request<proto::CreateRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, "");
        let attributes = self.authorize(&request, Verb::Create, target)?;
        let request = request.into_inner();
        let object = self
            .state
            .kinds
            .get(&request.resource)?
            .create(
                &self.state,
                &attributes,
                &request.object,
                &WriteOptions::default(),
            )
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn get(&self, request: Request<proto::GetRequest>) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, &message.name);
        self.authorize(&request, Verb::Get, target)?;
        let request = request.into_inner();
        let object = self
            .state
            .get(&request.resource, &request.namespace, &request.name)
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn list(&self, request: Request<proto::ListRequest>) -> ApiResult<proto::ListResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, "");
        self.authorize(&request, Verb::List, target)?;
        let request = request.into_inner();
        let options = ListOptions {
            namespace: request.namespace,
            label_selector: request.label_selector,
            field_selector: request.field_selector,
            limit: request.limit,
            continue_token: request.continue_token,
            resource_version: request.resource_version,
        };
        let page = self.state.list(&request.resource, &options).await?;
        let items = page.items.into_iter().map(|item| item.wire).collect();
        Ok(Response::new(proto::ListResponse {
            items,
            resource_version: page.revision.to_string(),
            continue_token: page.continue_token,
        }))
    }

    async fn update(
        &self,
        request: Request<proto::UpdateRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        Ok(Response::new(self.update_object(request, "").await?))
    }

    async fn update_status(
        &self,
        request: Request<proto::UpdateRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        Ok(Response::new(self.update_object(request, "status").await?))
    }

    async fn patch(
        &self,
        request: Request<proto::PatchRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, &message.name);
        let attributes = self.authorize(&request, Verb::Patch, target)?;
        let request = request.into_inner();
        self.state.check_size(request.patch.len())?;
        let patch: Value = serde_json::from_slice(&request.patch)
            .map_err(|error| ApiError::BadRequest(format!("invalid merge patch: {error}")))?;
        let merge = move |stored: &Value| {
            let mut patched = stored.clone();
            json_patch::merge(&mut patched, &patch);
            Ok(patched)
        };
        let object = self
            .state
            .kinds
            .get(&request.resource)?
            .patch(&self.state, &attributes, &merge, &WriteOptions::default())
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteRequest>,
    ) -> ApiResult<proto::DeleteResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, &message.name);
        let attributes = self.authorize(&request, Verb::Delete, target)?;
        let request = request.into_inner();
        let preconditions = request.preconditions.unwrap_or_default();
        let options = DeleteOptions {
            grace_period_seconds: request.grace_period_seconds,
            precondition_uid: preconditions.uid,
            precondition_resource_version: preconditions.resource_version,
            propagation_policy: request.propagation_policy,
            dry_run: false,
        };
        let deleted = self
            .state
            .kinds
            .get(&request.resource)?
            .delete(&self.state, &attributes, &options)
            .await?;
        Ok(Response::new(proto::DeleteResponse {
            object: deleted.object,
            deleted: deleted.gone,
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, request: Request<proto::WatchRequest>) -> ApiResult<WatchStream> {
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, "");
        self.authorize(&request, Verb::Watch, target)?;
        let request = request.into_inner();
        let options = WatchOptions {
            namespace: request.namespace,
            label_selector: request.label_selector,
            field_selector: request.field_selector,
            resource_version: request.resource_version,
            allow_bookmarks: request.allow_bookmarks,
        };
        let start = {
            let _permit = self.permit().await?;
            self.state.watch(&request.resource, &options).await?
        };
        let initial = start
            .initial
            .into_iter()
            .map(|item| proto::WatchEvent {
                r#type: proto::EventType::Added as i32,
                object: item.wire,
                resource_version: item.revision.to_string(),
            })
            .collect();
        let mut shutting_down = self.shutting_down.clone();
        let stopped = async move {
            let _ = shutting_down.wait_for(|down| *down).await;
        };
        Ok(Response::new(Box::pin(
            watch_stream(initial, start.handle).take_until(stopped),
        )))
    }

    async fn batch_create(
        &self,
        request: Request<proto::BatchCreateRequest>,
    ) -> ApiResult<proto::BatchResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target::new(&message.resource, &message.namespace, "");
        // One decision for the whole batch: every item is a create in the
        // same namespace.
        let attributes = Arc::new(self.authorize(&request, Verb::Create, target)?);
        let request = request.into_inner();
        let kind = self.state.kinds.get(&request.resource)?.clone();
        let options = Arc::new(WriteOptions::default());
        let results: Vec<proto::ItemResult> = stream::iter(request.objects)
            .map(|object| {
                let (state, kind, attributes, options) = (
                    self.state.clone(),
                    kind.clone(),
                    attributes.clone(),
                    options.clone(),
                );
                async move {
                    let created = kind.create(&state, &attributes, &object, &options).await;
                    item_result(created, Ok)
                }
            })
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await;
        Ok(Response::new(proto::BatchResponse { results }))
    }

    async fn bind(&self, request: Request<proto::BindRequest>) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let message = request.get_ref();
        let target = Target {
            subresource: "binding",
            ..Target::new("pods", &message.namespace, &message.pod)
        };
        self.authorize(&request, Verb::Create, target)?;
        let request = request.into_inner();
        let pod = self
            .state
            .bind(&request.namespace, &request.pod, &request.node)
            .await?;
        Ok(Response::new(proto::ObjectResponse {
            object: crate::object::typed_to_wire(&pod)?,
        }))
    }

    async fn batch_bind(
        &self,
        request: Request<proto::BatchBindRequest>,
    ) -> ApiResult<proto::BatchResponse> {
        let _permit = self.permit().await?;
        let mut denied = self.authorize_bindings(&request)?;
        let bindings = request.into_inner().bindings;
        let total = bindings.len();
        let mut results = vec![proto::ItemResult::default(); total];
        // Pods for one node are bound together: one record update each.
        let mut by_node: HashMap<String, (Vec<usize>, Vec<BindTarget>)> = HashMap::new();
        for (index, binding) in bindings.into_iter().enumerate() {
            if let Some(result) = denied.remove(&index) {
                results[index] = result;
                continue;
            }
            let (indexes, targets) = by_node.entry(binding.node).or_default();
            indexes.push(index);
            targets.push(BindTarget {
                namespace: binding.namespace,
                pod: binding.pod,
            });
        }
        let groups: Vec<(Vec<usize>, Vec<proto::ItemResult>)> = stream::iter(by_node)
            .map(|(node, (indexes, targets))| {
                let state = self.state.clone();
                async move {
                    let results = state.bind_to_node(&node, &targets).await;
                    let items = results
                        .into_iter()
                        .map(|result| item_result(result.map(|_| ()), |()| Ok(Default::default())))
                        .collect();
                    (indexes, items)
                }
            })
            .buffer_unordered(BATCH_CONCURRENCY)
            .collect()
            .await;
        for (indexes, items) in groups {
            for (index, item) in indexes.into_iter().zip(items) {
                results[index] = item;
            }
        }
        Ok(Response::new(proto::BatchResponse { results }))
    }

    /// Stores the latest usage of the reported nodes (`metrics.k8s.io`),
    /// authorized as a create of `metrics.k8s.io` nodes; a report with any
    /// bad field stores nothing.
    async fn report_usage(
        &self,
        request: Request<proto::ReportUsageRequest>,
    ) -> ApiResult<proto::ReportUsageResponse> {
        let _permit = self.permit().await?;
        let attributes = Attributes {
            user: self.auth.user(&request)?,
            verb: Verb::Create.as_str().to_string(),
            resource_request: true,
            group: "metrics.k8s.io".to_string(),
            version: "v1beta1".to_string(),
            resource: "nodes".to_string(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            path: String::new(),
        };
        self.state.authorizer.authorize(&attributes)?;
        let samples = crate::metrics_store::validate_report(request.into_inner())?;
        let accepted = u32::try_from(samples.len()).unwrap_or(u32::MAX);
        self.state
            .metrics
            .report(samples, std::time::SystemTime::now());
        Ok(Response::new(proto::ReportUsageResponse { accepted }))
    }
}

impl ApiService {
    /// Authorizes each binding of a batch as a create of `pods/binding`:
    /// one decision per namespace, and one per pod only where that denies
    /// (a rule listing `resourceNames` may still allow some pods). Returns
    /// the results of the denied bindings by index.
    fn authorize_bindings(
        &self,
        request: &Request<proto::BatchBindRequest>,
    ) -> Result<HashMap<usize, proto::ItemResult>, ApiError> {
        let user = self.auth.user(request)?;
        let info = self.state.kinds.get("pods")?.info();
        let decide = |namespace: &str, name: &str| {
            let attributes =
                Attributes::resource(user.clone(), Verb::Create, info, "binding", namespace, name);
            self.state.authorizer.authorize(&attributes)
        };
        let mut namespaces: HashMap<&str, bool> = HashMap::new();
        let mut denied = HashMap::new();
        for (index, binding) in request.get_ref().bindings.iter().enumerate() {
            let namespace = binding.namespace.as_str();
            let allowed = match namespaces.get(namespace) {
                Some(allowed) => *allowed,
                None => {
                    let allowed = match decide(namespace, "") {
                        Ok(()) => true,
                        Err(ApiError::Unauthorized) => return Err(ApiError::Unauthorized),
                        Err(_) => false,
                    };
                    namespaces.insert(namespace, allowed);
                    allowed
                }
            };
            if !allowed && let Err(error) = decide(namespace, &binding.pod) {
                denied.insert(
                    index,
                    item_result::<()>(Err(error), |()| Ok(Default::default())),
                );
            }
        }
        Ok(denied)
    }

    /// Update (`subresource` "") or update of the status ("status").
    async fn update_object(
        &self,
        request: Request<proto::UpdateRequest>,
        subresource: &str,
    ) -> Result<proto::ObjectResponse, ApiError> {
        let message = request.get_ref();
        let target = Target {
            subresource,
            ..Target::new(&message.resource, &message.namespace, &message.name)
        };
        let attributes = self.authorize(&request, Verb::Update, target)?;
        let request = request.into_inner();
        let object = self
            .state
            .kinds
            .get(&request.resource)?
            .update(
                &self.state,
                &attributes,
                &request.object,
                &WriteOptions::default(),
            )
            .await?;
        Ok(proto::ObjectResponse { object })
    }
}

fn wire_event(event: &CachedEvent) -> proto::WatchEvent {
    let event_type = match event.event_type {
        EventType::Added => proto::EventType::Added,
        EventType::Modified => proto::EventType::Modified,
        EventType::Deleted => proto::EventType::Deleted,
    };
    proto::WatchEvent {
        r#type: event_type as i32,
        object: event.wire.clone(),
        resource_version: event.revision.to_string(),
    }
}

fn chunks(events: Vec<proto::WatchEvent>) -> Vec<proto::WatchBatch> {
    let mut batches = Vec::new();
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        batches.push(proto::WatchBatch {
            events: events.by_ref().take(EVENTS_PER_MESSAGE).collect(),
        });
    }
    batches
}

/// The stream of one watch: the initial objects, then what the watcher
/// reads from the cache; ends with "too old" if the watcher fell out of the
/// window (or the cache restarted).
fn watch_stream(initial: Vec<proto::WatchEvent>, handle: WatchHandle) -> WatchStream {
    let head = stream::iter(chunks(initial).into_iter().map(Ok));
    let live = stream::unfold(Some(handle), |handle| async move {
        let mut handle = handle?;
        let item = match handle.next().await {
            WatchMessage::Events(events) => Ok(proto::WatchBatch {
                events: events.iter().map(|event| wire_event(event)).collect(),
            }),
            WatchMessage::Bookmark(revision) => Ok(proto::WatchBatch {
                events: vec![proto::WatchEvent {
                    r#type: proto::EventType::Bookmark as i32,
                    object: Default::default(),
                    resource_version: revision.to_string(),
                }],
            }),
            WatchMessage::TooOld(message) => {
                return Some((Err(Status::from(ApiError::TooOld(message))), None));
            }
        };
        Some((item, Some(handle)))
    });
    Box::pin(head.chain(live))
}
