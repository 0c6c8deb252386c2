//! [`watcher()`]: list, then watch, relisting whenever the server says the
//! watch is too old — the loop every cache-keeping component needs.
//!
//! An explicit state machine: `Empty` (must list) → `Listed` (have a
//! resourceVersion, must start a watch) → `Watching`. A too-old error is a
//! transition back to `Empty`, not a failure; other errors are yielded and
//! the watch is retried from the last resourceVersion after a short pause.

use std::time::Duration;

use api::ApiObject;
use futures::{Stream, StreamExt};

use client::{Client, Error, ListParams, WatchEvent, WatchParams, WatchStream};

/// Pause before retrying after an error other than "too old".
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// What a [`watcher`] yields.
#[derive(Clone, Debug)]
pub enum WatcherEvent<K> {
    /// A full list: replace everything known with these objects.
    Restarted {
        objects: Vec<K>,
        resource_version: String,
    },
    /// Changes since the previous item, in order.
    Applied(Vec<WatchEvent<K>>),
}

enum State<K> {
    Empty,
    Listed {
        resource_version: String,
    },
    /// Boxed: the stream is large next to the other states.
    Watching {
        stream: Box<WatchStream<K>>,
        resource_version: String,
    },
}

/// Lists objects of kind `K` in `namespace` ("" = all) matching the
/// selectors of `params`, then streams changes, relisting when needed.
/// Bookmarks keep the resume point fresh and are not yielded.
pub fn watcher<K: ApiObject>(
    client: Client,
    namespace: impl Into<String>,
    params: ListParams,
) -> impl Stream<Item = Result<WatcherEvent<K>, Error>> + Send {
    let namespace = namespace.into();
    futures::stream::unfold(State::<K>::Empty, move |mut state| {
        let (client, namespace, params) = (client.clone(), namespace.clone(), params.clone());
        async move {
            loop {
                let (item, next) = step(&client, &namespace, &params, state).await;
                state = next;
                if let Some(item) = item {
                    return Some((item, state));
                }
            }
        }
    })
}

async fn step<K: ApiObject>(
    client: &Client,
    namespace: &str,
    params: &ListParams,
    state: State<K>,
) -> (Option<Result<WatcherEvent<K>, Error>>, State<K>) {
    match state {
        State::Empty => {
            let list_params = ListParams {
                continue_token: String::new(),
                ..params.clone()
            };
            match client.list_all::<K>(namespace, &list_params).await {
                Ok(list) => {
                    let resource_version = list.resource_version.clone();
                    let event = WatcherEvent::Restarted {
                        objects: list.items,
                        resource_version: list.resource_version,
                    };
                    (Some(Ok(event)), State::Listed { resource_version })
                }
                Err(error) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    (Some(Err(error)), State::Empty)
                }
            }
        }
        State::Listed { resource_version } => {
            let watch_params = WatchParams {
                label_selector: params.label_selector.clone(),
                field_selector: params.field_selector.clone(),
                resource_version: resource_version.clone(),
                allow_bookmarks: true,
            };
            match client.watch::<K>(namespace, &watch_params).await {
                Ok(stream) => (
                    None,
                    State::Watching {
                        stream: Box::new(stream),
                        resource_version,
                    },
                ),
                Err(error) if error.is_too_old() => (None, State::Empty),
                Err(error) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    (Some(Err(error)), State::Listed { resource_version })
                }
            }
        }
        State::Watching {
            mut stream,
            mut resource_version,
        } => match stream.next().await {
            Some(Ok(events)) => {
                for event in &events {
                    match event {
                        WatchEvent::Bookmark {
                            resource_version: rv,
                        } => resource_version.clone_from(rv),
                        other => {
                            if let Some(rv) = other
                                .object()
                                .and_then(|o| o.metadata().resource_version.clone())
                            {
                                resource_version = rv;
                            }
                        }
                    }
                }
                let events: Vec<WatchEvent<K>> = events
                    .into_iter()
                    .filter(|e| !matches!(e, WatchEvent::Bookmark { .. }))
                    .collect();
                let item = (!events.is_empty()).then(|| Ok(WatcherEvent::Applied(events)));
                (
                    item,
                    State::Watching {
                        stream,
                        resource_version,
                    },
                )
            }
            Some(Err(error)) if error.is_too_old() => (None, State::Empty),
            Some(Err(error)) => {
                tokio::time::sleep(RETRY_PAUSE).await;
                (Some(Err(error)), State::Listed { resource_version })
            }
            None => (None, State::Listed { resource_version }),
        },
    }
}
