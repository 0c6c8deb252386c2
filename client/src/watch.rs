//! Typed watch streams: batches of events decoded into the watched kind.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tonic::Streaming;

use crate::Error;
use crate::proto;
use crate::rest::watch::{EventLines, decode_line};

/// One change to an object of kind `K`.
#[derive(Clone, Debug)]
pub enum WatchEvent<K> {
    Added(K),
    Modified(K),
    Deleted(K),
    /// Progress marker: every change up to this resourceVersion has been sent.
    Bookmark {
        resource_version: String,
    },
}

impl<K> WatchEvent<K> {
    /// The object of an Added/Modified/Deleted event.
    pub fn object(&self) -> Option<&K> {
        match self {
            WatchEvent::Added(k) | WatchEvent::Modified(k) | WatchEvent::Deleted(k) => Some(k),
            WatchEvent::Bookmark { .. } => None,
        }
    }
}

/// A stream of event batches, in resourceVersion order. It yields
/// `Err(Error::TooOld)` when the watcher fell behind or started too far back;
/// the caller then relists and watches again.
pub struct WatchStream<K> {
    inner: Inner,
    kind: PhantomData<fn() -> K>,
}

enum Inner {
    /// gRPC frames of many events each.
    Grpc(Streaming<proto::WatchBatch>),
    /// `?watch=1` lines, batched per chunk.
    Rest(EventLines),
}

impl<K> WatchStream<K> {
    pub(crate) fn grpc(inner: Streaming<proto::WatchBatch>) -> Self {
        WatchStream {
            inner: Inner::Grpc(inner),
            kind: PhantomData,
        }
    }

    pub(crate) fn rest(inner: EventLines) -> Self {
        WatchStream {
            inner: Inner::Rest(inner),
            kind: PhantomData,
        }
    }
}

fn decode_event<K: serde::de::DeserializeOwned>(
    event: proto::WatchEvent,
) -> Result<WatchEvent<K>, Error> {
    let kind = proto::EventType::try_from(event.r#type).unwrap_or(proto::EventType::Bookmark);
    if kind == proto::EventType::Bookmark {
        return Ok(WatchEvent::Bookmark {
            resource_version: event.resource_version,
        });
    }
    let object: K = serde_json::from_slice(&event.object)?;
    Ok(match kind {
        proto::EventType::Added => WatchEvent::Added(object),
        proto::EventType::Modified => WatchEvent::Modified(object),
        _ => WatchEvent::Deleted(object),
    })
}

impl<K: serde::de::DeserializeOwned> Stream for WatchStream<K> {
    type Item = Result<Vec<WatchEvent<K>>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.inner {
            Inner::Grpc(frames) => match Pin::new(frames).poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(status))) => Poll::Ready(Some(Err(Error::from(status)))),
                Poll::Ready(Some(Ok(batch))) => {
                    let events: Result<Vec<_>, Error> =
                        batch.events.into_iter().map(decode_event).collect();
                    Poll::Ready(Some(events))
                }
            },
            Inner::Rest(lines) => match Pin::new(lines).poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(lines))) => {
                    let events: Result<Vec<_>, Error> =
                        lines.iter().map(|line| decode_line(line)).collect();
                    Poll::Ready(Some(events))
                }
            },
        }
    }
}
