//! Typed watch streams: batches of events decoded into the watched kind.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tonic::Streaming;

use crate::Error;
use crate::proto;

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
    inner: Streaming<proto::WatchBatch>,
    kind: PhantomData<fn() -> K>,
}

impl<K> WatchStream<K> {
    pub(crate) fn new(inner: Streaming<proto::WatchBatch>) -> Self {
        WatchStream {
            inner,
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
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(status))) => Poll::Ready(Some(Err(Error::from(status)))),
            Poll::Ready(Some(Ok(batch))) => {
                let events: Result<Vec<_>, Error> =
                    batch.events.into_iter().map(decode_event).collect();
                Poll::Ready(Some(events))
            }
        }
    }
}
