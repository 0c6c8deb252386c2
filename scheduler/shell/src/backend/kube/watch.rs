//! List+watch of nodes, all pods, PodDisruptionBudgets and namespaces
//! through `kube::runtime::watcher`, which relists after a too-old
//! resourceVersion (410 Gone) or a broken watch, retried with backoff.
//!
//! A [`Batcher`] turns the watcher's object-at-a-time events back into the
//! loop's batches: a relist (`Init` … `InitDone`) becomes one `restart`
//! batch, and the live events that are ready at once become one batch.

use std::fmt::Debug;
use std::sync::mpsc::Sender;

use api::k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use futures::{FutureExt, StreamExt};
use kube::Resource;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::event::{Change, Changes, LoopEvent};
use crate::informer::{Convert, Observed, namespace_change, node_change, pdb_change, pod_change};

/// Watch events gathered into one batch at most, when they are ready at
/// once.
const MAX_LIVE_BATCH: usize = 4096;

/// Starts one watcher task per kind, cluster-wide.
pub(super) fn spawn_all(
    client: &kube::Client,
    loop_tx: &Sender<LoopEvent>,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(run::<Node, _>(
            Api::all(client.clone()),
            loop_tx.clone(),
            stop.clone(),
            node_change,
            LoopEvent::Nodes,
        )),
        tokio::spawn(run::<Pod, _>(
            Api::all(client.clone()),
            loop_tx.clone(),
            stop.clone(),
            pod_change,
            LoopEvent::Pods,
        )),
        tokio::spawn(run::<PodDisruptionBudget, _>(
            Api::all(client.clone()),
            loop_tx.clone(),
            stop.clone(),
            pdb_change,
            LoopEvent::Pdbs,
        )),
        tokio::spawn(run::<Namespace, _>(
            Api::all(client.clone()),
            loop_tx.clone(),
            stop.clone(),
            namespace_change,
            LoopEvent::Namespaces,
        )),
    ]
}

async fn run<K, T>(
    api: Api<K>,
    loop_tx: Sender<LoopEvent>,
    mut stop: watch::Receiver<bool>,
    convert: Convert<K, T>,
    wrap: fn(Changes<T>) -> LoopEvent,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let kind = std::any::type_name::<K>();
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut batcher = Batcher::new(convert);
    loop {
        let item = tokio::select! {
            item = stream.next() => item,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let Some(item) = item else { return };
        let mut received = 1;
        accept(&mut batcher, item, kind);
        while received < MAX_LIVE_BATCH {
            let Some(Some(item)) = stream.next().now_or_never() else {
                break;
            };
            received += 1;
            accept(&mut batcher, item, kind);
        }
        for changes in batcher.take() {
            if loop_tx.send(wrap(changes)).is_err() {
                return;
            }
        }
    }
}

fn accept<K, T>(batcher: &mut Batcher<K, T>, item: Result<Event<K>, watcher::Error>, kind: &str) {
    match item {
        Ok(event) => batcher.push(event),
        // The watcher relists by itself after the backoff.
        Err(error) => tracing::warn!(kind, %error, "watch failed; retrying"),
    }
}

/// Gathers watcher events into the loop's batches.
pub(crate) struct Batcher<K, T> {
    convert: Convert<K, T>,
    /// The relist under way (`Init` seen, `InitDone` not yet).
    relist: Option<Vec<Change<T>>>,
    /// Live changes since the last batch.
    live: Vec<Change<T>>,
    /// Batches complete and not yet taken, in order.
    ready: Vec<Changes<T>>,
}

impl<K, T> Batcher<K, T> {
    pub(crate) fn new(convert: Convert<K, T>) -> Batcher<K, T> {
        Batcher {
            convert,
            relist: None,
            live: Vec::new(),
            ready: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, event: Event<K>) {
        let convert = self.convert;
        match event {
            Event::Init => {
                self.flush_live();
                self.relist = Some(Vec::new());
            }
            Event::InitApply(object) => {
                let change = convert(Observed::Present(object));
                match &mut self.relist {
                    Some(relist) => relist.extend(change),
                    None => self.live.extend(change),
                }
            }
            Event::InitDone => {
                let changes = self.relist.take().unwrap_or_default();
                self.flush_live();
                self.ready.push(Changes {
                    restart: true,
                    changes,
                });
            }
            Event::Apply(object) => self.live.extend(convert(Observed::Present(object))),
            Event::Delete(object) => self.live.extend(convert(Observed::Gone(object))),
        }
    }

    /// The complete batches, in order; a relist under way stays buffered.
    pub(crate) fn take(&mut self) -> Vec<Changes<T>> {
        self.flush_live();
        std::mem::take(&mut self.ready)
    }

    fn flush_live(&mut self) {
        if !self.live.is_empty() {
            self.ready.push(Changes {
                restart: false,
                changes: std::mem::take(&mut self.live),
            });
        }
    }
}
