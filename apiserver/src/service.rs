//! The gRPC face: `client::proto::api_server::Api` over [`ApiState`].
//!
//! Each method decodes its request, calls one handler, and encodes the
//! result; `ApiError` becomes a `Status` through its one `From` impl.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use client::proto::{self, api_server::Api};
use futures::{Stream, StreamExt, stream};
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use crate::bind::BindTarget;
use crate::delete::DeleteOptions;
use crate::error::ApiError;
use crate::filter::Filter;
use crate::list::ListOptions;
use crate::object;
use crate::state::ApiState;
use crate::update::UpdateMode;
use crate::watch_cache::{CachedEvent, EVENTS_PER_MESSAGE, EventType, WatchHandle, WatchMessage};

/// Items of one batch request processed concurrently (their store writes
/// share commits).
const BATCH_CONCURRENCY: usize = 512;

/// The service. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ApiService {
    pub(crate) state: Arc<ApiState>,
    /// Bounds requests in progress (watch streams count only while starting).
    pub(crate) in_flight: Arc<Semaphore>,
    /// Turns true when the server shuts down; open watch streams then end,
    /// so graceful shutdown does not wait for them.
    pub(crate) shutting_down: tokio::sync::watch::Receiver<bool>,
}

type ApiResult<T> = Result<Response<T>, Status>;

impl ApiService {
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Status> {
        self.in_flight
            .acquire()
            .await
            .map_err(|_| Status::unavailable("apiserver is shutting down"))
    }
}

fn object_response(value: &serde_json::Value) -> ApiResult<proto::ObjectResponse> {
    Ok(Response::new(proto::ObjectResponse {
        object: object::to_wire(value)?,
    }))
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
        let request = request.into_inner();
        let object = self
            .state
            .create_wire(&request.resource, &request.namespace, &request.object)
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn get(&self, request: Request<proto::GetRequest>) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let object = self
            .state
            .get(&request.resource, &request.namespace, &request.name)
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn list(&self, request: Request<proto::ListRequest>) -> ApiResult<proto::ListResponse> {
        let _permit = self.permit().await?;
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
        let request = request.into_inner();
        let object = self
            .state
            .update_wire(
                &request.resource,
                &request.namespace,
                &request.object,
                UpdateMode::Main,
            )
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn update_status(
        &self,
        request: Request<proto::UpdateRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let object = self
            .state
            .update_wire(
                &request.resource,
                &request.namespace,
                &request.object,
                UpdateMode::Status,
            )
            .await?;
        Ok(Response::new(proto::ObjectResponse { object }))
    }

    async fn patch(
        &self,
        request: Request<proto::PatchRequest>,
    ) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let value = self
            .state
            .patch(
                &request.resource,
                &request.namespace,
                &request.name,
                &request.patch,
            )
            .await?;
        object_response(&value)
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteRequest>,
    ) -> ApiResult<proto::DeleteResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let preconditions = request.preconditions.unwrap_or_default();
        let options = DeleteOptions {
            grace_period_seconds: request.grace_period_seconds,
            precondition_uid: preconditions.uid,
            precondition_resource_version: preconditions.resource_version,
            propagation_policy: request.propagation_policy,
        };
        let deleted = self
            .state
            .delete(
                &request.resource,
                &request.namespace,
                &request.name,
                &options,
            )
            .await?;
        Ok(Response::new(proto::DeleteResponse {
            object: object::to_wire(&deleted.object)?,
            deleted: deleted.gone,
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, request: Request<proto::WatchRequest>) -> ApiResult<WatchStream> {
        let request = request.into_inner();
        let (handle, initial) = {
            let _permit = self.permit().await?;
            self.start_watch(&request).await?
        };
        let mut shutting_down = self.shutting_down.clone();
        let stopped = async move {
            let _ = shutting_down.wait_for(|down| *down).await;
        };
        Ok(Response::new(Box::pin(
            watch_stream(initial, handle).take_until(stopped),
        )))
    }

    async fn batch_create(
        &self,
        request: Request<proto::BatchCreateRequest>,
    ) -> ApiResult<proto::BatchResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let (resource, namespace) = (Arc::new(request.resource), Arc::new(request.namespace));
        let results: Vec<proto::ItemResult> =
            stream::iter(request.objects)
                .map(|object| {
                    let (state, resource, namespace) =
                        (self.state.clone(), resource.clone(), namespace.clone());
                    async move {
                        item_result(state.create_wire(&resource, &namespace, &object).await, Ok)
                    }
                })
                .buffered(BATCH_CONCURRENCY)
                .collect()
                .await;
        Ok(Response::new(proto::BatchResponse { results }))
    }

    async fn bind(&self, request: Request<proto::BindRequest>) -> ApiResult<proto::ObjectResponse> {
        let _permit = self.permit().await?;
        let request = request.into_inner();
        let pod = self
            .state
            .bind(&request.namespace, &request.pod, &request.node)
            .await?;
        Ok(Response::new(proto::ObjectResponse {
            object: object::typed_to_wire(&pod)?,
        }))
    }

    async fn batch_bind(
        &self,
        request: Request<proto::BatchBindRequest>,
    ) -> ApiResult<proto::BatchResponse> {
        let _permit = self.permit().await?;
        let bindings = request.into_inner().bindings;
        // Pods for one node are bound together: one record update each.
        let mut by_node: HashMap<String, (Vec<usize>, Vec<BindTarget>)> = HashMap::new();
        for (index, binding) in bindings.into_iter().enumerate() {
            let (indexes, targets) = by_node.entry(binding.node).or_default();
            indexes.push(index);
            targets.push(BindTarget {
                namespace: binding.namespace,
                pod: binding.pod,
            });
        }
        let total = by_node.values().map(|(indexes, _)| indexes.len()).sum();
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
        let mut results = vec![proto::ItemResult::default(); total];
        for (indexes, items) in groups {
            for (index, item) in indexes.into_iter().zip(items) {
                results[index] = item;
            }
        }
        Ok(Response::new(proto::BatchResponse { results }))
    }
}

impl ApiService {
    /// Registers the watch; for a watch without resourceVersion, first lists
    /// every current object (sent as ADDED) and watches from the list.
    async fn start_watch(
        &self,
        request: &proto::WatchRequest,
    ) -> Result<(WatchHandle, Vec<proto::WatchEvent>), ApiError> {
        let info = self.state.kinds.get(&request.resource)?.info();
        let namespace = if info.namespaced {
            request.namespace.as_str()
        } else {
            ""
        };
        let filter = Filter::parse(
            info.plural,
            namespace,
            &request.label_selector,
            &request.field_selector,
        )?;
        let from = object::parse_revision(&request.resource_version)?.unwrap_or(0);
        if from > 0 {
            let handle =
                self.state
                    .watch
                    .watch(info.plural, filter, from, request.allow_bookmarks)?;
            return Ok((handle, Vec::new()));
        }
        let options = ListOptions {
            namespace: namespace.to_string(),
            label_selector: request.label_selector.clone(),
            field_selector: request.field_selector.clone(),
            ..Default::default()
        };
        let page = self.state.list(info.plural, &options).await?;
        let initial = page
            .items
            .into_iter()
            .map(|item| proto::WatchEvent {
                r#type: proto::EventType::Added as i32,
                object: item.wire,
                resource_version: item.revision.to_string(),
            })
            .collect();
        let handle =
            self.state
                .watch
                .watch(info.plural, filter, page.revision, request.allow_bookmarks)?;
        Ok((handle, initial))
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
