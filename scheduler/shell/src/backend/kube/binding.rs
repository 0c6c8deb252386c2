//! Binding on Kubernetes: one POST of `pods/{name}/binding` per pod, the
//! pods of a chunk many at once, then a `Scheduled` event per bound pod,
//! written by one task per chunk off the path back to the loop.

use api::k8s_openapi::api::core::v1::{Binding, Event, ObjectReference};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use futures::StreamExt;
use kube::api::{Api, PostParams};

use super::{api_error, create_events};
use crate::event::{BindOutcome, BindRequest, PodRef};
use crate::reporter::pod_event;

/// Binding POSTs in flight at once within one chunk.
const BIND_CONCURRENCY: usize = 64;

/// Binds every pod of `chunk`; one outcome per request.
pub(super) async fn bind_chunk(
    client: &kube::Client,
    component: &str,
    chunk: Vec<BindRequest>,
) -> Vec<BindOutcome> {
    let results: Vec<(BindRequest, Result<(), String>)> = futures::stream::iter(chunk)
        .map(|request| async move {
            let result = bind_one(client, &request).await;
            (request, result)
        })
        .buffer_unordered(BIND_CONCURRENCY)
        .collect()
        .await;
    let events = scheduled_events(component, &results);
    if !events.is_empty() {
        let client = client.clone();
        tokio::spawn(async move {
            for (namespace, events) in events {
                for result in create_events(&client, &namespace, events).await {
                    if let Err(error) = result {
                        tracing::debug!(%error, "Scheduled event not written");
                    }
                }
            }
        });
    }
    results
        .into_iter()
        .map(|(request, result)| BindOutcome {
            uid: request.uid,
            result,
        })
        .collect()
}

async fn bind_one(client: &kube::Client, request: &BindRequest) -> Result<(), String> {
    let pods: Api<api::k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(client.clone(), &request.namespace);
    pods.create_subresource::<Binding, serde_json::Value>(
        "binding",
        &request.name,
        &PostParams::default(),
        &binding_for(request),
    )
    .await
    .map(|_| ())
    .map_err(|error| api_error(error).to_string())
}

/// The body of `POST pods/{name}/binding`, as kube-scheduler sends it: the
/// pod's namespace, name and uid (so a pod recreated under the same name is
/// not bound by mistake) and the target node.
pub(crate) fn binding_for(request: &BindRequest) -> Binding {
    Binding {
        metadata: ObjectMeta {
            namespace: Some(request.namespace.clone()),
            name: Some(request.name.clone()),
            uid: Some(request.uid.clone()),
            ..ObjectMeta::default()
        },
        target: ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("Node".to_string()),
            name: Some(request.node.clone()),
            ..ObjectReference::default()
        },
    }
}

/// kube-scheduler's `Scheduled` event for one bound pod.
pub(crate) fn scheduled_event(
    component: &str,
    request: &BindRequest,
) -> Result<Event, serde_json::Error> {
    let pod = PodRef {
        uid: request.uid.clone(),
        namespace: request.namespace.clone(),
        name: request.name.clone(),
    };
    let message = format!(
        "Successfully assigned {}/{} to {}",
        request.namespace, request.name, request.node
    );
    pod_event(&pod, component, "Normal", "Scheduled", "Binding", &message)
}

/// The `Scheduled` events of the bound pods, grouped by namespace.
fn scheduled_events(
    component: &str,
    results: &[(BindRequest, Result<(), String>)],
) -> Vec<(String, Vec<Event>)> {
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<Event>> = Default::default();
    for (request, result) in results {
        if result.is_err() {
            continue;
        }
        match scheduled_event(component, request) {
            Ok(event) => by_namespace
                .entry(request.namespace.as_str())
                .or_default()
                .push(event),
            Err(error) => tracing::warn!(%error, "cannot build Scheduled event"),
        }
    }
    by_namespace
        .into_iter()
        .map(|(namespace, events)| (namespace.to_string(), events))
        .collect()
}
