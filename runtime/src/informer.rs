//! A shared informer: one list + watch of a kind for a whole process, a
//! [`Store`] every controller reads, and handlers called with each change
//! (typically to enqueue keys), as client-go's `SharedIndexInformer`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use api::ApiObject;
use client::{Client, ListParams};
use futures::StreamExt;
use futures::future::BoxFuture;

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

/// An [`Informer`] whose kind is forgotten, so one map holds every kind.
trait AnyInformer: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    fn run(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl<K: ApiObject> AnyInformer for Informer<K> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn run(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(Informer::run(*self))
    }
}

/// One [`Informer`] per kind for a whole process, made on first use, as
/// client-go's `SharedInformerFactory`: components ask for the kinds they
/// read, and only those are listed and watched.
pub struct Informers {
    client: Client,
    informers: HashMap<TypeId, Box<dyn AnyInformer>>,
}

impl Informers {
    pub fn new(client: Client) -> Informers {
        Informers {
            client,
            informers: HashMap::new(),
        }
    }

    /// The process's informer of kind `K`.
    pub fn informer<K: ApiObject>(&mut self) -> &mut Informer<K> {
        let client = &self.client;
        let informer = self
            .informers
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(Informer::<K>::new(client.clone(), ListParams::default())));
        match informer.as_any().downcast_mut::<Informer<K>>() {
            Some(informer) => informer,
            None => unreachable!("the informer under K's TypeId is an Informer<K>"),
        }
    }

    /// Runs every informer asked for, until the returned futures are
    /// dropped.
    pub fn run(self) -> Vec<BoxFuture<'static, ()>> {
        self.informers
            .into_values()
            .map(|informer| informer.run())
            .collect()
    }
}
