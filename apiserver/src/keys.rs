//! Store key layout: `/registry/<plural>/<namespace>/<name>` for namespaced
//! kinds, `/registry/<plural>/<name>` for cluster-scoped ones, and
//! `/registry/ranges/...` for service IP and nodePort allocations.

use std::net::Ipv4Addr;

use api::KindInfo;

/// Key of one object.
pub(crate) fn object_key(info: &KindInfo, namespace: &str, name: &str) -> String {
    if info.namespaced {
        format!("/registry/{}/{}/{}", info.resource_key, namespace, name)
    } else {
        format!("/registry/{}/{}", info.resource_key, name)
    }
}

/// Prefix of every object of a kind in `namespace` ("" = all namespaces).
pub(crate) fn list_prefix(info: &KindInfo, namespace: &str) -> String {
    if info.namespaced && !namespace.is_empty() {
        format!("/registry/{}/{}/", info.resource_key, namespace)
    } else {
        resource_prefix(info.resource_key)
    }
}

/// Prefix of every object of a resource.
pub(crate) fn resource_prefix(plural: &str) -> String {
    format!("/registry/{plural}/")
}

/// Allocation key of a service cluster IP.
pub(crate) fn service_ip_key(ip: Ipv4Addr) -> String {
    format!("/registry/ranges/serviceips/{ip}")
}

/// Allocation key of a service nodePort.
pub(crate) fn node_port_key(port: u16) -> String {
    format!("/registry/ranges/servicenodeports/{port}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::ApiObject;
    use api::k8s_openapi::api::core::v1::{Node, Pod};

    #[test]
    fn key_layout() {
        assert_eq!(
            object_key(&Pod::INFO, "default", "p"),
            "/registry/pods/default/p"
        );
        assert_eq!(object_key(&Node::INFO, "", "n1"), "/registry/nodes/n1");
        assert_eq!(list_prefix(&Pod::INFO, ""), "/registry/pods/");
        assert_eq!(list_prefix(&Pod::INFO, "a"), "/registry/pods/a/");
        assert_eq!(list_prefix(&Node::INFO, "a"), "/registry/nodes/");
    }
}
