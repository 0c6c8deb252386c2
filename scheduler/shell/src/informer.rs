//! Conversion of watched objects to the core's scheduling views, shared by
//! every backend's list+watch: each backend turns its own watch events into
//! [`Observed`] objects, and these functions turn them into the loop's
//! [`Change`]s. Conversion happens on the tokio workers so the loop thread
//! only applies changes.

use std::sync::Arc;

use api::k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use scheduler::convert::{node_info_from_node, pdb_info_from_pdb, pod_info_from_pod};

use crate::event::{Change, NamespaceInfo};

/// An object as a watch reports it: present (added, modified or listed) or
/// gone (deleted).
#[derive(Debug)]
pub(crate) enum Observed<K> {
    Present(K),
    Gone(K),
}

/// One object's change, or `None` when it cannot be read (logged).
pub(crate) type Convert<K, T> = fn(Observed<K>) -> Option<Change<T>>;

pub(crate) fn node_change(event: Observed<Node>) -> Option<Change<scheduler::NodeInfo>> {
    match event {
        Observed::Present(node) => match node_info_from_node(&node) {
            Ok(info) => Some(Change::Upsert(info)),
            Err(error) => {
                tracing::warn!(node = ?node.metadata.name, %error, "ignoring unreadable node");
                None
            }
        },
        Observed::Gone(node) => Some(Change::Delete(node.metadata.name.unwrap_or_default())),
    }
}

/// Pods in a terminal phase hold no resources: they count as deleted.
pub(crate) fn pod_change(event: Observed<Pod>) -> Option<Change<Arc<scheduler::PodInfo>>> {
    match event {
        Observed::Present(pod) => {
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
        Observed::Gone(pod) => Some(Change::Delete(pod.metadata.uid.unwrap_or_default())),
    }
}

pub(crate) fn pdb_change(
    event: Observed<PodDisruptionBudget>,
) -> Option<Change<scheduler::model::PodDisruptionBudgetInfo>> {
    match event {
        Observed::Present(pdb) => match pdb_info_from_pdb(&pdb) {
            Ok(info) => Some(Change::Upsert(info)),
            Err(error) => {
                tracing::warn!(pdb = ?pdb.metadata.name, %error, "ignoring unreadable PodDisruptionBudget");
                None
            }
        },
        Observed::Gone(pdb) => Some(Change::Delete(format!(
            "{}/{}",
            pdb.metadata.namespace.unwrap_or_default(),
            pdb.metadata.name.unwrap_or_default()
        ))),
    }
}

pub(crate) fn namespace_change(event: Observed<Namespace>) -> Option<Change<NamespaceInfo>> {
    match event {
        Observed::Present(namespace) => Some(Change::Upsert(NamespaceInfo {
            name: namespace.metadata.name.unwrap_or_default(),
            labels: namespace.metadata.labels.unwrap_or_default(),
        })),
        Observed::Gone(namespace) => {
            Some(Change::Delete(namespace.metadata.name.unwrap_or_default()))
        }
    }
}
