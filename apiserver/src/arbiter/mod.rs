//! The bind arbiter: per-node accounting of committed pods, kept in the
//! store and updated in the same transaction as every pod write that
//! changes it, so no node is overcommitted however many schedulers (or
//! apiservers over one store) bind at once.
//!
//! Each node has one record at `/skiff/nodeusage/<node>` ([`NodeUsage`]):
//! the summed requests and pod count of the pods bound to it, the host
//! ports they hold, their (namespace, labels) sets and their required
//! anti-affinity terms on `kubernetes.io/hostname`, each with a count.
//! A pod is counted from the write that gives it a node (bind, or a create
//! with `spec.nodeName`) until it is deleted for good or reaches phase
//! Succeeded/Failed. Every such write compares the record's mod revision
//! (create-if-absent when missing) and puts the new record in the same
//! transaction; a bind also compares the Node's mod revision, so the
//! allocatable it was checked against is the one in force when it commits.
//!
//! The record aggregates instead of listing pods, so its size follows the
//! number of distinct label sets and terms on the node, not the number of
//! pods: a bind writes a few hundred bytes however full the node is.
//!
//! Within one apiserver, writes touching one node take that node's async
//! lock and reuse the decoded record from the previous write (a cache keyed
//! by mod revision); a lost compare drops the cached record and the write
//! retries from a fresh read.

mod accounts;
mod codec;
mod fit;
mod pod_usage;
mod usage;

pub(crate) use accounts::{CountChange, NodeAccounts};
pub(crate) use pod_usage::{PodUsage, pod_usage};

/// Store key prefix of the per-node usage records.
pub(crate) const USAGE_PREFIX: &str = "/skiff/nodeusage/";

/// The node label required pod anti-affinity is arbitrated on.
pub(crate) const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Store key of one node's usage record.
pub(crate) fn usage_key(node: &str) -> String {
    format!("{USAGE_PREFIX}{node}")
}
