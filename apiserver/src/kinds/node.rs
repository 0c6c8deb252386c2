//! Nodes keep the status they are created with: the kubelet registers its
//! node with capacity, conditions and addresses in one create. A kubelet
//! writes only its own Node (NodeRestriction).

use api::k8s_openapi::api::core::v1::Node;

use crate::admission::{NamespaceFacts, node_restriction};
use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::request::Attributes;
use crate::state::ApiState;

impl Strategy for Node {
    fn prepare_for_create(&mut self) {}

    async fn admit_create(
        _state: &ApiState,
        attributes: &Attributes,
        _namespace: &NamespaceFacts,
        node: &mut Node,
    ) -> Result<(), ApiError> {
        let name = node.metadata.name.clone().unwrap_or_default();
        node_restriction::admit_node(attributes, &name, None, Some(node))
    }

    async fn admit_update(
        _state: &ApiState,
        attributes: &Attributes,
        old: &Node,
        node: &mut Node,
    ) -> Result<(), ApiError> {
        let name = old.metadata.name.clone().unwrap_or_default();
        node_restriction::admit_node(attributes, &name, Some(old), Some(node))
    }

    async fn admit_delete(
        _state: &ApiState,
        attributes: &Attributes,
        node: &Node,
    ) -> Result<(), ApiError> {
        let name = node.metadata.name.clone().unwrap_or_default();
        node_restriction::admit_node(attributes, &name, None, None)
    }
}
