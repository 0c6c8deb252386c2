//! `?watch=1`: a chunked stream of JSON watch events, one per line
//! (`{"type":"ADDED","object":{...}}`), written from the watch cache's
//! shared event bytes without decoding them.
//!
//! Kubernetes' options: `resourceVersion` (none or "0": every current
//! object first as ADDED), `sendInitialEvents` (the current objects, then
//! a BOOKMARK annotated `k8s.io/initial-events-end`), `allowWatchBookmarks`,
//! `timeoutSeconds` (the stream ends by itself). A watch from before the
//! window answers 410 before the stream starts; a watcher that falls out
//! of the window mid-stream gets an ERROR event with a 410 `Status`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use prost::bytes::Bytes;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::rest::RestState;
use crate::rest::body::{self, Body};
use crate::rest::handler::watch_options;
use crate::rest::path::ResourcePath;
use crate::rest::query::Query;
use crate::rest::status::status_of;
use crate::rest::table::custom::PrinterColumn;
use crate::rest::table::{self, IncludeObject, TableRequest};
use crate::watch_cache::{CachedEvent, EventType, WatchMessage};

/// How long a watch lasts when the client does not say (Kubernetes ends
/// watches after its minimum request timeout, 30 minutes, too).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// How the objects of events are sent.
#[derive(Clone, Debug)]
pub(crate) enum Objects {
    /// The stored JSON, shared by every watcher.
    AsStored,
    /// The stored JSON in a custom resource's version (its `apiVersion`
    /// set when the object is stored in another).
    InVersion(String),
    /// A one-row Table each (`kubectl get -w` asks for them), with a custom
    /// resource's printer columns if it is one.
    Table(IncludeObject, Option<Arc<Vec<PrinterColumn>>>),
}

impl Objects {
    /// The bytes of one event's object.
    fn encode<'a>(&self, info: &api::KindInfo, stored: &'a [u8]) -> Cow<'a, [u8]> {
        let (include_object, columns) = match self {
            Objects::AsStored => return Cow::Borrowed(stored),
            Objects::InVersion(api_version) => {
                return match crate::kinds::custom::in_api_version(stored, api_version) {
                    Some(converted) => Cow::Owned(converted.to_vec()),
                    None => Cow::Borrowed(stored),
                };
            }
            Objects::Table(include_object, columns) => (*include_object, columns),
        };
        let Ok(object) = serde_json::from_slice::<Value>(stored) else {
            return Cow::Borrowed(stored);
        };
        let revision = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let request = TableRequest {
            plural: info.plural,
            resource_version: &revision,
            continue_token: "",
            include_object,
        };
        let table = table::build_for(
            &request,
            columns.as_deref().map(Vec::as_slice),
            &[object],
            crate::object::now_timestamp(),
        );
        Cow::Owned(table.to_string().into_bytes())
    }
}

/// Starts a watch and answers with its stream.
pub(crate) async fn serve(
    rest: &RestState,
    info: &'static api::KindInfo,
    path: &ResourcePath,
    query: &Query,
    objects: Objects,
) -> Result<http::Response<Body>, ApiError> {
    let mut options = watch_options(path, query)?;
    let send_initial_events = match query.text("sendInitialEvents") {
        "" => None,
        _ => Some(query.flag("sendInitialEvents")?),
    };
    let match_rule = query.text("resourceVersionMatch");
    if send_initial_events.is_some() && match_rule != "NotOlderThan" {
        return Err(ApiError::BadRequest(
            "sendInitialEvents requires resourceVersionMatch=NotOlderThan".to_string(),
        ));
    }
    if send_initial_events == Some(true) {
        // The current state, whatever resourceVersion was given (it is
        // only a lower bound).
        options.resource_version.clear();
    } else if send_initial_events == Some(false) && options.resource_version.is_empty() {
        options.resource_version = rest.state.store.current_revision().to_string();
    }
    let timeout = query.timeout_seconds()?.unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let start = rest.state.watch(info.resource_key, &options).await?;
    let mut head = Vec::new();
    for item in &start.initial {
        push_event(&mut head, "ADDED", &objects.encode(info, &item.wire));
    }
    if send_initial_events == Some(true) {
        let revision = start
            .initial
            .iter()
            .map(|item| item.revision)
            .max()
            .unwrap_or_default()
            .max(start.handle.start_revision());
        let bookmark = bookmark_object(info, revision, true);
        push_event(&mut head, "BOOKMARK", bookmark.to_string().as_bytes());
    }
    let head = stream::iter((!head.is_empty()).then(|| Bytes::from(head)));
    let live = stream::unfold(Some(start.handle), move |handle| {
        let objects = objects.clone();
        async move {
            let mut handle = handle?;
            let mut chunk = Vec::new();
            match handle.next().await {
                WatchMessage::Events(events) => {
                    for event in events.iter() {
                        push_event(
                            &mut chunk,
                            event_type(event),
                            &objects.encode(info, &event.wire),
                        );
                    }
                }
                WatchMessage::Bookmark(revision) => {
                    let bookmark = bookmark_object(info, revision, false);
                    push_event(&mut chunk, "BOOKMARK", bookmark.to_string().as_bytes());
                }
                WatchMessage::TooOld(message) => {
                    let (_, status) = status_of(&ApiError::TooOld(message));
                    push_event(&mut chunk, "ERROR", status.to_string().as_bytes());
                    return Some((Bytes::from(chunk), None));
                }
            }
            Some((Bytes::from(chunk), Some(handle)))
        }
    });
    let mut shutting_down = rest.shutting_down.clone();
    let stopped = async move {
        tokio::select! {
            () = crate::rest::stopped(&mut shutting_down) => {}
            () = tokio::time::sleep(timeout) => {}
        }
    };
    let frames = head
        .chain(live)
        .take_until(stopped)
        .map(|chunk| Ok(Frame::data(chunk)));
    Ok(body::json_stream(BodyExt::boxed(StreamBody::new(frames))))
}

fn event_type(event: &CachedEvent) -> &'static str {
    match event.event_type {
        EventType::Added => "ADDED",
        EventType::Modified => "MODIFIED",
        EventType::Deleted => "DELETED",
    }
}

/// Appends one watch event line: `{"type":…,"object":…}\n`.
fn push_event(out: &mut Vec<u8>, event_type: &str, object: &[u8]) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(event_type.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
}

/// The object of a BOOKMARK event: only kind, apiVersion and the revision.
fn bookmark_object(info: &api::KindInfo, revision: store::Revision, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": metadata})
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::ApiObject;

    #[test]
    fn event_lines() {
        let mut out = Vec::new();
        push_event(&mut out, "ADDED", br#"{"a":1}"#);
        let bookmark = bookmark_object(&api::k8s_openapi::api::core::v1::Pod::INFO, 7, true);
        push_event(&mut out, "BOOKMARK", bookmark.to_string().as_bytes());
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines[0], json!({"type": "ADDED", "object": {"a": 1}}));
        assert_eq!(lines[1]["object"]["metadata"]["resourceVersion"], "7");
        assert_eq!(
            lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
            "true"
        );
        assert_eq!(lines[1]["object"]["kind"], "Pod");
    }
}
