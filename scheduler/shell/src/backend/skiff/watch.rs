//! List+watch of nodes, pods, PodDisruptionBudgets and namespaces through
//! `client::watcher` (resume, relist on too-old), sent to the scheduling
//! loop in the batches the apiserver sent them.

use std::sync::mpsc::Sender;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use client::{Client, ListParams, WatchEvent};
use futures::StreamExt;
use runtime::WatcherEvent;
use tokio::sync::watch;

use crate::event::{Changes, LoopEvent};
use crate::informer::{Convert, Observed, namespace_change, node_change, pdb_change, pod_change};

/// Starts one watcher task per kind; each ends when `stop` turns true or
/// the loop is gone.
pub(crate) fn spawn_all(
    client: &Client,
    loop_tx: &Sender<LoopEvent>,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(run::<Node, _>(
            client.clone(),
            loop_tx.clone(),
            stop.clone(),
            node_change,
            LoopEvent::Nodes,
        )),
        tokio::spawn(run::<Pod, _>(
            client.clone(),
            loop_tx.clone(),
            stop.clone(),
            pod_change,
            LoopEvent::Pods,
        )),
        tokio::spawn(run::<PodDisruptionBudget, _>(
            client.clone(),
            loop_tx.clone(),
            stop.clone(),
            pdb_change,
            LoopEvent::Pdbs,
        )),
        tokio::spawn(run::<Namespace, _>(
            client.clone(),
            loop_tx.clone(),
            stop.clone(),
            namespace_change,
            LoopEvent::Namespaces,
        )),
    ]
}

/// The object of a watch event; bookmarks carry none.
fn observed<K>(event: WatchEvent<K>) -> Option<Observed<K>> {
    match event {
        WatchEvent::Added(object) | WatchEvent::Modified(object) => Some(Observed::Present(object)),
        WatchEvent::Deleted(object) => Some(Observed::Gone(object)),
        WatchEvent::Bookmark { .. } => None,
    }
}

async fn run<K: ApiObject, T>(
    client: Client,
    loop_tx: Sender<LoopEvent>,
    mut stop: watch::Receiver<bool>,
    convert: Convert<K, T>,
    wrap: fn(Changes<T>) -> LoopEvent,
) {
    let stream = runtime::watcher::<K>(client, "", ListParams::default());
    futures::pin_mut!(stream);
    loop {
        let item = tokio::select! {
            item = stream.next() => item,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let Some(item) = item else { return };
        let changes = match item {
            Ok(WatcherEvent::Restarted { objects, .. }) => Changes {
                restart: true,
                changes: objects
                    .into_iter()
                    .filter_map(|object| convert(Observed::Present(object)))
                    .collect(),
            },
            Ok(WatcherEvent::Applied(events)) => Changes {
                restart: false,
                changes: events
                    .into_iter()
                    .filter_map(observed)
                    .filter_map(convert)
                    .collect(),
            },
            Err(error) => {
                tracing::warn!(kind = K::INFO.kind, %error, "watch failed; retrying");
                continue;
            }
        };
        if changes.changes.is_empty() && !changes.restart {
            continue;
        }
        if loop_tx.send(wrap(changes)).is_err() {
            return;
        }
    }
}
