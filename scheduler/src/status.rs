//! Filter outcomes as values: why a node was rejected, and the
//! FailedScheduling message kube-scheduler would print for a pod.

use std::collections::BTreeMap;

use crate::model::NodeIdx;
use crate::table::snapshot::{ResourceIdx, Snapshot, TaintId};

/// Why one plugin rejected a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    NodeNameMismatch,
    NodeUnschedulable,
    UntoleratedTaint(TaintId),
    NodeAffinityMismatch,
    NodePortsConflict,
    PodAffinityMismatch,
    PodAntiAffinityMismatch,
    ExistingPodsAntiAffinityMismatch,
    SpreadConstraintMismatch,
    SpreadMissingLabel,
}

impl RejectReason {
    /// Whether preemption could help (kube's `Unschedulable` as opposed to
    /// `UnschedulableAndUnresolvable`).
    pub fn is_resolvable(self) -> bool {
        matches!(
            self,
            RejectReason::NodePortsConflict
                | RejectReason::PodAntiAffinityMismatch
                | RejectReason::ExistingPodsAntiAffinityMismatch
                | RejectReason::SpreadConstraintMismatch
        )
    }

    /// The kube-scheduler reason text.
    pub fn message(self, snapshot: &Snapshot) -> String {
        match self {
            RejectReason::NodeNameMismatch => "node(s) didn't match the requested node name".into(),
            RejectReason::NodeUnschedulable => "node(s) were unschedulable".into(),
            RejectReason::UntoleratedTaint(id) => {
                let taint = snapshot.taint_table().all().get(id.0 as usize);
                let (key, value) = taint
                    .map(|taint| (taint.key.as_str(), taint.value.as_str()))
                    .unwrap_or(("", ""));
                format!("node(s) had untolerated taint {{{key}: {value}}}")
            }
            RejectReason::NodeAffinityMismatch => {
                "node(s) didn't match Pod's node affinity/selector".into()
            }
            RejectReason::NodePortsConflict => {
                "node(s) didn't have free ports for the requested pod ports".into()
            }
            RejectReason::PodAffinityMismatch => "node(s) didn't match pod affinity rules".into(),
            RejectReason::PodAntiAffinityMismatch => {
                "node(s) didn't match pod anti-affinity rules".into()
            }
            RejectReason::ExistingPodsAntiAffinityMismatch => {
                "node(s) didn't satisfy existing pods anti-affinity rules".into()
            }
            RejectReason::SpreadConstraintMismatch => {
                "node(s) didn't match pod topology spread constraints".into()
            }
            RejectReason::SpreadMissingLabel => {
                "node(s) didn't match pod topology spread constraints (missing required label)"
                    .into()
            }
        }
    }
}

/// Bit of the resource mask used for extended resources no node has; the
/// `i`-th unknown name of the pod uses bit `UNKNOWN_RESOURCE_BIT + i`.
pub const UNKNOWN_RESOURCE_BIT: u32 = 48;

/// Why a node was rejected: one plugin reason, or the set of resources
/// NodeResourcesFit found insufficient (all of them are reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    Plugin(RejectReason),
    /// Bit `r` set: resource column `r` is insufficient (the pods column
    /// means "Too many pods").
    Resources(u64),
}

impl Rejection {
    /// Whether removing pods could make the node fit.
    pub fn is_resolvable(self) -> bool {
        match self {
            Rejection::Plugin(reason) => reason.is_resolvable(),
            Rejection::Resources(_) => true,
        }
    }

    /// Each reason text of this rejection.
    pub fn messages(self, snapshot: &Snapshot, unknown_resources: &[String]) -> Vec<String> {
        match self {
            Rejection::Plugin(reason) => vec![reason.message(snapshot)],
            Rejection::Resources(mask) => {
                let mut messages = Vec::new();
                for bit in 0..64u32 {
                    if mask & (1u64 << bit) == 0 {
                        continue;
                    }
                    if bit >= UNKNOWN_RESOURCE_BIT {
                        let name = unknown_resources
                            .get((bit - UNKNOWN_RESOURCE_BIT) as usize)
                            .map(|s| s.as_str())
                            .unwrap_or("");
                        messages.push(format!("Insufficient {name}"));
                    } else if bit == u32::from(crate::table::snapshot::RESOURCE_PODS.0) {
                        messages.push("Too many pods".into());
                    } else {
                        messages.push(format!(
                            "Insufficient {}",
                            snapshot.resource_name(ResourceIdx(bit as u16))
                        ));
                    }
                }
                messages
            }
        }
    }
}

/// The pod fits no node: per-node rejections and the summary message.
#[derive(Clone, Debug, PartialEq)]
pub struct FitError {
    /// Number of nodes in the snapshot.
    pub num_all_nodes: usize,
    /// Reason text → number of nodes rejected for it.
    pub reason_counts: BTreeMap<String, u32>,
    /// Every rejected node with its rejection (used by preemption).
    pub node_rejections: Vec<(NodeIdx, Rejection)>,
}

impl FitError {
    /// Builds the histogram from per-node rejections.
    pub fn new(
        snapshot: &Snapshot,
        node_rejections: Vec<(NodeIdx, Rejection)>,
        unknown_resources: &[String],
    ) -> Self {
        let mut by_rejection: BTreeMap<RejectionKey, u32> = BTreeMap::new();
        for (_, rejection) in &node_rejections {
            *by_rejection.entry(RejectionKey(*rejection)).or_default() += 1;
        }
        let mut reason_counts = BTreeMap::new();
        for (rejection, count) in by_rejection {
            for message in rejection.0.messages(snapshot, unknown_resources) {
                *reason_counts.entry(message).or_default() += count;
            }
        }
        FitError {
            num_all_nodes: snapshot.node_count(),
            reason_counts,
            node_rejections,
        }
    }

    /// kube-scheduler's message: `0/N nodes are available: <count> <reason>,
    /// ...` with the entries sorted as strings.
    pub fn message(&self) -> String {
        format_fit_message(self.num_all_nodes, &self.reason_counts)
    }
}

/// Formats `0/N nodes are available: ...` from reason counts.
pub fn format_fit_message(num_all_nodes: usize, reason_counts: &BTreeMap<String, u32>) -> String {
    if reason_counts.is_empty() {
        if num_all_nodes == 0 {
            return "no nodes available to schedule pods".into();
        }
        return format!("0/{num_all_nodes} nodes are available.");
    }
    let mut entries: Vec<String> = reason_counts
        .iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    entries.sort();
    format!(
        "0/{num_all_nodes} nodes are available: {}.",
        entries.join(", ")
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct RejectionKey(Rejection);

impl PartialOrd for RejectionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RejectionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |rejection: &Rejection| match rejection {
            Rejection::Plugin(reason) => (0, Some(*reason), 0),
            Rejection::Resources(mask) => (1, None, *mask),
        };
        rank(&self.0).cmp(&rank(&other.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_sorts_entries_as_strings() {
        let mut counts = BTreeMap::new();
        counts.insert("Insufficient cpu".to_string(), 4990);
        counts.insert("node(s) had untolerated taint {k: v}".to_string(), 10);
        assert_eq!(
            format_fit_message(5000, &counts),
            "0/5000 nodes are available: 10 node(s) had untolerated taint {k: v}, 4990 Insufficient cpu."
        );
    }
}
