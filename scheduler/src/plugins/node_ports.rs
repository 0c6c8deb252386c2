//! NodePorts: a wanted host port conflicts with one in use on the node.

use crate::model::PodInfo;
use crate::status::RejectReason;
use crate::table::snapshot::NodeRecord;

#[inline]
pub fn filter(pod: &PodInfo, record: &NodeRecord) -> Result<(), RejectReason> {
    for wanted in &pod.host_ports {
        if record
            .used_ports
            .iter()
            .any(|used| wanted.conflicts_with(used))
        {
            return Err(RejectReason::NodePortsConflict);
        }
    }
    Ok(())
}
