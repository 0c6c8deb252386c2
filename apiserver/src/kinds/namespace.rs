//! Namespaces start Active, whatever status the request carried.

use api::k8s_openapi::api::core::v1::{Namespace, NamespaceStatus};

use crate::kinds::Strategy;

impl Strategy for Namespace {
    fn prepare_for_create(&mut self) {
        self.status = Some(NamespaceStatus {
            phase: Some("Active".to_string()),
            ..Default::default()
        });
    }
}
