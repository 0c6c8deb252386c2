//! Leases: a kubelet writes only its own node lease in `kube-node-lease`
//! (NodeRestriction).

use api::k8s_openapi::api::coordination::v1::Lease;

use crate::admission::{NamespaceFacts, node_restriction};
use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::request::Attributes;
use crate::state::ApiState;

fn admit(attributes: &Attributes, lease: &Lease) -> Result<(), ApiError> {
    let meta = &lease.metadata;
    node_restriction::admit_lease(
        attributes,
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

impl Strategy for Lease {
    async fn admit_create(
        _state: &ApiState,
        attributes: &Attributes,
        _namespace: &NamespaceFacts,
        lease: &mut Lease,
    ) -> Result<(), ApiError> {
        admit(attributes, lease)
    }

    async fn admit_update(
        _state: &ApiState,
        attributes: &Attributes,
        old: &Lease,
        _lease: &mut Lease,
    ) -> Result<(), ApiError> {
        admit(attributes, old)
    }

    async fn admit_delete(
        _state: &ApiState,
        attributes: &Attributes,
        lease: &Lease,
    ) -> Result<(), ApiError> {
        admit(attributes, lease)
    }
}
