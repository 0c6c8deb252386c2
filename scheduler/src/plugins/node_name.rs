//! NodeName: a pod with `spec.nodeName` fits only that node.

use crate::model::{NodeIdx, PodInfo};
use crate::status::RejectReason;
use crate::table::snapshot::Snapshot;

/// The node the pod asks for, if any (`Some(None)`: a node that does not exist).
pub fn prepare(snapshot: &Snapshot, pod: &PodInfo) -> Option<Option<NodeIdx>> {
    pod.node_name
        .as_deref()
        .map(|name| snapshot.node_by_name(name))
}

#[inline]
pub fn filter(wanted: Option<NodeIdx>, node: NodeIdx) -> Result<(), RejectReason> {
    if wanted == Some(node) {
        Ok(())
    } else {
        Err(RejectReason::NodeNameMismatch)
    }
}
