//! The node lease: one `coordination.k8s.io/v1` Lease per node in
//! `kube-node-lease`, named after the node and owned by it, whose
//! `renewTime` the kubelet moves forward every renew interval. The node
//! lifecycle controller reads it as the node's heartbeat.
//!
//! Renewal is an update guarded by the lease's resourceVersion, as the
//! kubelet's lease controller does; a conflict re-reads the lease and tries
//! once more, a missing lease is created again.

use std::time::SystemTime;

use api::k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use api::k8s_openapi::api::core::v1::Node;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use client::Client;

use crate::clock;

/// Where node leases live.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The lease of `node` as the kubelet writes it at `now`: held by the node,
/// owned by the Node object (so it goes when the node is deleted).
pub fn node_lease(node: &Node, duration_seconds: i32, now: SystemTime) -> Lease {
    let name = node.metadata.name.clone().unwrap_or_default();
    let owner = node.metadata.uid.clone().map(|uid| OwnerReference {
        api_version: "v1".to_string(),
        kind: "Node".to_string(),
        name: name.clone(),
        uid,
        ..Default::default()
    });
    Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(NODE_LEASE_NAMESPACE.to_string()),
            owner_references: owner.map(|owner| vec![owner]),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(name),
            lease_duration_seconds: Some(duration_seconds),
            renew_time: Some(clock::micro_time_at(now)),
            ..Default::default()
        }),
    }
}

/// `current` renewed at `now` by `holder`: same object (resourceVersion
/// included, so the update is guarded), new renew time.
pub fn renewed(current: &Lease, holder: &str, duration_seconds: i32, now: SystemTime) -> Lease {
    let mut lease = current.clone();
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    spec.holder_identity = Some(holder.to_string());
    spec.lease_duration_seconds = Some(duration_seconds);
    spec.renew_time = Some(clock::micro_time_at(now));
    lease
}

/// Renews `current` through the API and returns the stored lease. A
/// conflict re-reads the lease and retries once; a lease that was deleted is
/// created again from `node`.
pub async fn renew(
    client: &Client,
    current: &Lease,
    node: &Node,
    duration_seconds: i32,
) -> Result<Lease, client::Error> {
    let holder = node.metadata.name.as_deref().unwrap_or("");
    let now = SystemTime::now();
    match client
        .update(&renewed(current, holder, duration_seconds, now))
        .await
    {
        Ok(lease) => Ok(lease),
        Err(error) if error.is_conflict() => {
            let fresh: Lease = client.get(NODE_LEASE_NAMESPACE, holder).await?;
            client
                .update(&renewed(&fresh, holder, duration_seconds, now))
                .await
        }
        Err(error) if error.is_not_found() => {
            client
                .create(
                    NODE_LEASE_NAMESPACE,
                    &node_lease(node, duration_seconds, now),
                )
                .await
        }
        Err(error) => Err(error),
    }
}

/// When `lease` was last renewed.
pub fn renew_time(lease: &Lease) -> Option<SystemTime> {
    let micro = lease.spec.as_ref()?.renew_time.as_ref()?;
    let since_epoch = u64::try_from(micro.0.as_microsecond()).ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(since_epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_is_held_and_owned_by_its_node() {
        let mut node = Node::default();
        node.metadata.name = Some("n-0".to_string());
        node.metadata.uid = Some("u-1".to_string());
        let now = SystemTime::now();
        let lease = node_lease(&node, 40, now);
        assert_eq!(
            lease.metadata.namespace.as_deref(),
            Some(NODE_LEASE_NAMESPACE)
        );
        let owner = &lease.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "u-1"));
        let spec = lease.spec.as_ref().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("n-0"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        let later = now + std::time::Duration::from_secs(10);
        let renewed = renewed(&lease, "n-0", 40, later);
        let elapsed = renew_time(&renewed)
            .unwrap()
            .duration_since(renew_time(&lease).unwrap())
            .unwrap();
        assert!(elapsed.as_millis().abs_diff(10_000) <= 1, "{elapsed:?}");
    }
}
