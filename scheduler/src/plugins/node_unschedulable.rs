//! NodeUnschedulable: `spec.unschedulable` nodes reject pods that do not
//! tolerate `node.kubernetes.io/unschedulable:NoSchedule`.

use crate::model::{PodInfo, Taint, TaintEffect};
use crate::status::RejectReason;

/// The taint key kube uses for unschedulable nodes.
pub const UNSCHEDULABLE_TAINT_KEY: &str = "node.kubernetes.io/unschedulable";

/// Whether the pod tolerates unschedulable nodes.
pub fn prepare(pod: &PodInfo) -> bool {
    let taint = Taint {
        key: UNSCHEDULABLE_TAINT_KEY.to_string(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    };
    pod.tolerations
        .iter()
        .any(|toleration| toleration.tolerates(&taint))
}

#[inline]
pub fn filter(tolerates_unschedulable: bool, node_unschedulable: bool) -> Result<(), RejectReason> {
    if node_unschedulable && !tolerates_unschedulable {
        Err(RejectReason::NodeUnschedulable)
    } else {
        Ok(())
    }
}
