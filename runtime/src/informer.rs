//! A shared informer: one list + watch of a kind for a whole process, a
//! [`Store`] every controller reads, and handlers called with each change
//! (typically to enqueue keys), as client-go's `SharedIndexInformer`.

use std::sync::Arc;

use api::ApiObject;
use client::{Client, ListParams};
use futures::StreamExt;

use crate::reflector::{Change, Store, Writer, store};
use crate::watcher::watcher;

type Handler<K> = Arc<dyn Fn(&Change<K>) + Send + Sync>;

/// Watches objects of kind `K` (all namespaces, or those `params` select)
/// into a cache; register handlers, then [`Informer::run`].
pub struct Informer<K> {
    client: Client,
    params: ListParams,
    writer: Writer<K>,
    store: Store<K>,
    handlers: Vec<Handler<K>>,
}

impl<K: ApiObject> Informer<K> {
    pub fn new(client: Client, params: ListParams) -> Informer<K> {
        let (writer, store) = store();
        Informer {
            client,
            params,
            writer,
            store,
            handlers: Vec::new(),
        }
    }

    /// The cache this informer fills.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Calls `handler` with every change, after the cache applied it.
    pub fn on_change(&mut self, handler: impl Fn(&Change<K>) + Send + Sync + 'static) {
        self.handlers.push(Arc::new(handler));
    }

    /// Lists and watches until the returned future is dropped; errors are
    /// logged and the watcher retries (relisting when too far behind).
    pub async fn run(mut self) {
        let stream = watcher::<K>(self.client.clone(), "", self.params.clone());
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    for change in self.writer.apply(event) {
                        for handler in &self.handlers {
                            handler(&change);
                        }
                    }
                }
                Err(error) => tracing::warn!(kind = K::KIND, "watch failed: {error}"),
            }
        }
    }
}
