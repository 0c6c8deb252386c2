//! `?watch=1` streams: one JSON event per line (`{"type":…,"object":…}`).
//!
//! The body's chunks are split into lines as they arrive; every complete
//! line of a chunk goes out in one batch, as the gRPC face sends a batch
//! per frame. An `ERROR` event carries a `Status` (410 Expired when the
//! watch started too far back or fell behind) and becomes the error its
//! reason names.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use hyper::body::{Body, Incoming};
use prost::bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::rest::{StatusBody, error_from_reason};
use crate::{Error, WatchEvent};

/// The lines of a watch response body, in batches.
pub(crate) struct EventLines {
    body: Incoming,
    /// Bytes after the last newline seen.
    partial: BytesMut,
}

impl EventLines {
    pub(crate) fn new(body: Incoming) -> EventLines {
        EventLines {
            body,
            partial: BytesMut::new(),
        }
    }
}

impl Stream for EventLines {
    type Item = Result<Vec<Bytes>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    if self.partial.iter().any(|byte| !byte.is_ascii_whitespace()) {
                        self.partial.clear();
                        return Poll::Ready(Some(Err(Error::Unavailable(
                            "the watch stream ended inside an event".into(),
                        ))));
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(Error::Unavailable(format!(
                        "watch stream: {error}"
                    )))));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.partial.extend_from_slice(&data);
            let mut lines = Vec::new();
            while let Some(end) = self.partial.iter().position(|byte| *byte == b'\n') {
                let line = self.partial.split_to(end + 1).freeze();
                if line.iter().any(|byte| !byte.is_ascii_whitespace()) {
                    lines.push(line);
                }
            }
            if !lines.is_empty() {
                return Poll::Ready(Some(Ok(lines)));
            }
        }
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    object: &'a RawValue,
}

#[derive(Deserialize)]
struct Bookmark {
    #[serde(default)]
    metadata: BookmarkMeta,
}

#[derive(Default, Deserialize)]
struct BookmarkMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
}

/// Decodes one event line.
pub(crate) fn decode_line<K: serde::de::DeserializeOwned>(
    line: &[u8],
) -> Result<WatchEvent<K>, Error> {
    let line: Line<'_> = serde_json::from_slice(line)?;
    let object = line.object.get();
    Ok(match line.kind {
        "ADDED" => WatchEvent::Added(serde_json::from_str(object)?),
        "MODIFIED" => WatchEvent::Modified(serde_json::from_str(object)?),
        "DELETED" => WatchEvent::Deleted(serde_json::from_str(object)?),
        "BOOKMARK" => {
            let bookmark: Bookmark = serde_json::from_str(object)?;
            WatchEvent::Bookmark {
                resource_version: bookmark.metadata.resource_version,
            }
        }
        "ERROR" => {
            let status: StatusBody = serde_json::from_str(object)?;
            return Err(error_from_reason(
                status.code,
                &status.reason,
                status.message,
            ));
        }
        other => {
            return Err(Error::Invalid(format!(
                "watch event of unknown type {other:?}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::api::core::v1::Pod;

    #[test]
    fn event_lines_decode_by_type() {
        let added: WatchEvent<Pod> = decode_line(
            br#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","resourceVersion":"7"}}}"#,
        )
        .unwrap();
        assert!(
            matches!(&added, WatchEvent::Added(pod) if pod.metadata.name.as_deref() == Some("a"))
        );
        let bookmark: WatchEvent<Pod> = decode_line(
            br#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"42"}}}"#,
        )
        .unwrap();
        assert!(
            matches!(bookmark, WatchEvent::Bookmark { resource_version } if resource_version == "42")
        );
        let expired = decode_line::<Pod>(
            br#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (50)","reason":"Expired","code":410}}"#,
        )
        .unwrap_err();
        assert!(expired.is_too_old(), "{expired}");
        assert!(decode_line::<Pod>(br#"{"type":"SOMETHING","object":{}}"#).is_err());
        assert!(decode_line::<Pod>(b"not json").is_err());
    }
}
