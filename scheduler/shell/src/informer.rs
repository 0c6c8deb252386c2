//! List+watch of nodes, pods, PodDisruptionBudgets and namespaces through
//! `client::watcher` (resume, relist on too-old), converted to the core's
//! scheduling views on the tokio workers and sent to the scheduling loop in
//! the batches the apiserver sent them. Conversion happens here so the loop
//! thread only applies changes.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use client::{Client, ListParams, WatchEvent, WatcherEvent};
use futures::StreamExt;
use scheduler::convert::{node_info_from_node, pdb_info_from_pdb, pod_info_from_pod};
use tokio::sync::watch;

use crate::event::{Change, Changes, LoopEvent, NamespaceInfo};

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

/// One object's change, or `None` when it cannot be read (logged).
type Convert<K, T> = fn(WatchEvent<K>) -> Option<Change<T>>;

async fn run<K: ApiObject, T>(
    client: Client,
    loop_tx: Sender<LoopEvent>,
    mut stop: watch::Receiver<bool>,
    convert: Convert<K, T>,
    wrap: fn(Changes<T>) -> LoopEvent,
) {
    let stream = client::watcher::<K>(client, "", ListParams::default());
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
                    .filter_map(|object| convert(WatchEvent::Added(object)))
                    .collect(),
            },
            Ok(WatcherEvent::Applied(events)) => Changes {
                restart: false,
                changes: events.into_iter().filter_map(convert).collect(),
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

fn node_change(event: WatchEvent<Node>) -> Option<Change<scheduler::NodeInfo>> {
    match event {
        WatchEvent::Added(node) | WatchEvent::Modified(node) => match node_info_from_node(&node) {
            Ok(info) => Some(Change::Upsert(info)),
            Err(error) => {
                tracing::warn!(node = ?node.metadata.name, %error, "ignoring unreadable node");
                None
            }
        },
        WatchEvent::Deleted(node) => Some(Change::Delete(node.metadata.name.unwrap_or_default())),
        WatchEvent::Bookmark { .. } => None,
    }
}

/// Pods in a terminal phase hold no resources: they count as deleted.
fn pod_change(event: WatchEvent<Pod>) -> Option<Change<Arc<scheduler::PodInfo>>> {
    match event {
        WatchEvent::Added(pod) | WatchEvent::Modified(pod) => {
            let phase = pod
                .status
                .as_ref()
                .and_then(|status| status.phase.as_deref());
            if matches!(phase, Some("Succeeded" | "Failed")) {
                return Some(Change::Delete(pod.metadata.uid.unwrap_or_default()));
            }
            match pod_info_from_pod(&pod) {
                Ok(info) => Some(Change::Upsert(Arc::new(info))),
                Err(error) => {
                    tracing::warn!(
                        namespace = ?pod.metadata.namespace,
                        pod = ?pod.metadata.name,
                        %error,
                        "ignoring unreadable pod"
                    );
                    None
                }
            }
        }
        WatchEvent::Deleted(pod) => Some(Change::Delete(pod.metadata.uid.unwrap_or_default())),
        WatchEvent::Bookmark { .. } => None,
    }
}

fn pdb_change(
    event: WatchEvent<PodDisruptionBudget>,
) -> Option<Change<scheduler::model::PodDisruptionBudgetInfo>> {
    match event {
        WatchEvent::Added(pdb) | WatchEvent::Modified(pdb) => match pdb_info_from_pdb(&pdb) {
            Ok(info) => Some(Change::Upsert(info)),
            Err(error) => {
                tracing::warn!(pdb = ?pdb.metadata.name, %error, "ignoring unreadable PodDisruptionBudget");
                None
            }
        },
        WatchEvent::Deleted(pdb) => Some(Change::Delete(format!(
            "{}/{}",
            pdb.metadata.namespace.unwrap_or_default(),
            pdb.metadata.name.unwrap_or_default()
        ))),
        WatchEvent::Bookmark { .. } => None,
    }
}

fn namespace_change(event: WatchEvent<Namespace>) -> Option<Change<NamespaceInfo>> {
    match event {
        WatchEvent::Added(namespace) | WatchEvent::Modified(namespace) => {
            Some(Change::Upsert(NamespaceInfo {
                name: namespace.metadata.name.unwrap_or_default(),
                labels: namespace.metadata.labels.unwrap_or_default(),
            }))
        }
        WatchEvent::Deleted(namespace) => {
            Some(Change::Delete(namespace.metadata.name.unwrap_or_default()))
        }
        WatchEvent::Bookmark { .. } => None,
    }
}
