//! Nodes keep the status they are created with: the kubelet registers its
//! node with capacity, conditions and addresses in one create.

use api::k8s_openapi::api::core::v1::Node;

use crate::kinds::Strategy;

impl Strategy for Node {
    fn prepare_for_create(&mut self) {}
}
