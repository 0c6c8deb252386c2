//! NodeRestriction: a kubelet (user `system:node:<name>` in group
//! `system:nodes`) may write only what its node needs: its own Node (not
//! setting or changing `node-restriction.kubernetes.io/` labels), its own
//! Lease in `kube-node-lease`, mirror pods bound to it, the status of pods
//! bound to it, and deletes (and so evictions) of pods bound to it. Other
//! users are not affected. Denials are 403s worded as Kubernetes words
//! them.

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{Node, Pod};

use crate::admission::{MIRROR_POD_ANNOTATION, forbidden, is_mirror_pod};
use crate::auth::identities::NODES_GROUP;
use crate::error::ApiError;
use crate::request::{Attributes, UserInfo, Verb};

/// Prefix of the names of kubelets' users.
const NODE_USER_PREFIX: &str = "system:node:";
/// The label namespace kubelets may not set on their node.
const RESTRICTED_LABEL_NAMESPACE: &str = "node-restriction.kubernetes.io";
/// The namespace of node leases.
const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The acting node of a kubelet's user: `Some("")` for a node user whose
/// name has no node part; `None` for every other user.
fn node_of(user: &UserInfo) -> Option<&str> {
    let node = user.name.strip_prefix(NODE_USER_PREFIX)?;
    user.in_group(NODES_GROUP).then_some(node)
}

/// The acting node, or `None` if the plugin does not apply; a node user
/// without a node name is refused.
fn acting_node<'a>(
    attributes: &'a Attributes,
    resource: &str,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match node_of(&attributes.user) {
        None => Ok(None),
        Some("") => Err(forbidden(
            resource,
            name,
            format_args!(
                "could not determine node from user {:?}",
                attributes.user.name
            ),
        )),
        Some(node) => Ok(Some(node)),
    }
}

/// Kubernetes' admission name of the request's operation.
fn operation(attributes: &Attributes) -> &'static str {
    match attributes.verb.as_str() {
        verb if verb == Verb::Create.as_str() => "CREATE",
        verb if verb == Verb::Delete.as_str() || verb == Verb::DeleteCollection.as_str() => {
            "DELETE"
        }
        _ => "UPDATE",
    }
}

fn bound_node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .unwrap_or("")
}

/// A pod create by a node: only mirror pods bound to it that reference no
/// other API objects, owned (if at all) by its Node.
pub(crate) fn admit_pod_create(attributes: &Attributes, pod: &Pod) -> Result<(), ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let Some(node) = acting_node(attributes, "pods", name)? else {
        return Ok(());
    };
    let deny = |why: String| Err(forbidden("pods", name, why));
    if !is_mirror_pod(pod) {
        return deny(format!(
            "pod does not have {MIRROR_POD_ANNOTATION:?} annotation, node {node:?} can only create mirror pods"
        ));
    }
    if bound_node(pod) != node {
        return deny(format!(
            "node {node:?} can only create pods with spec.nodeName set to itself"
        ));
    }
    let owners = pod.metadata.owner_references.as_deref().unwrap_or_default();
    if owners.len() > 1 {
        return deny(format!(
            "node {node:?} can only create pods with a single owner reference set to itself"
        ));
    }
    if let Some(owner) = owners.first() {
        if owner.api_version != "v1" || owner.kind != "Node" || owner.name != node {
            return deny(format!(
                "node {node:?} can only create pods with an owner reference set to itself"
            ));
        }
        if owner.controller != Some(true) {
            return deny(format!(
                "node {node:?} can only create pods with a controller owner reference set to itself"
            ));
        }
        if owner.block_owner_deletion == Some(true) {
            return deny(format!(
                "node {node:?} must not set blockOwnerDeletion on an owner reference"
            ));
        }
    }
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(());
    };
    if spec
        .service_account_name
        .as_deref()
        .is_some_and(|account| !account.is_empty())
    {
        return deny(format!(
            "node {node:?} can not create pods that reference a service account"
        ));
    }
    let volumes = spec.volumes.iter().flatten();
    let containers = || {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
    };
    let env_sources = || containers().flat_map(|c| c.env_from.iter().flatten());
    let env_refs = || {
        containers()
            .flat_map(|c| c.env.iter().flatten())
            .filter_map(|env| env.value_from.as_ref())
    };
    let projected = || {
        spec.volumes
            .iter()
            .flatten()
            .filter_map(|v| v.projected.as_ref())
            .flat_map(|p| p.sources.iter().flatten())
    };
    let secrets = spec
        .image_pull_secrets
        .as_ref()
        .is_some_and(|s| !s.is_empty())
        || volumes.clone().any(|v| {
            v.secret.is_some()
                || v.azure_file.is_some()
                || v.cephfs.as_ref().is_some_and(|c| c.secret_ref.is_some())
                || v.cinder.as_ref().is_some_and(|c| c.secret_ref.is_some())
                || v.flex_volume
                    .as_ref()
                    .is_some_and(|f| f.secret_ref.is_some())
                || v.iscsi.as_ref().is_some_and(|i| i.secret_ref.is_some())
                || v.rbd.as_ref().is_some_and(|r| r.secret_ref.is_some())
                || v.scale_io.is_some()
                || v.storageos.as_ref().is_some_and(|s| s.secret_ref.is_some())
                || v.csi
                    .as_ref()
                    .is_some_and(|c| c.node_publish_secret_ref.is_some())
        })
        || projected().any(|source| source.secret.is_some())
        || env_sources().any(|source| source.secret_ref.is_some())
        || env_refs().any(|source| source.secret_key_ref.is_some());
    if secrets {
        return deny(format!(
            "node {node:?} can not create pods that reference secrets"
        ));
    }
    let config_maps = volumes.clone().any(|v| v.config_map.is_some())
        || projected().any(|source| source.config_map.is_some())
        || env_sources().any(|source| source.config_map_ref.is_some())
        || env_refs().any(|source| source.config_map_key_ref.is_some());
    if config_maps {
        return deny(format!(
            "node {node:?} can not create pods that reference configmaps"
        ));
    }
    if volumes.clone().any(|v| v.persistent_volume_claim.is_some()) {
        return deny(format!(
            "node {node:?} can not create pods that reference persistentvolumeclaims"
        ));
    }
    if volumes.clone().any(|v| v.ephemeral.is_some()) {
        return deny(format!(
            "node {node:?} can not create pods that use generic ephemeral volumes"
        ));
    }
    Ok(())
}

/// An update (or patch) of the stored pod `old` by a node: only its status,
/// and only of pods bound to it.
pub(crate) fn admit_pod_update(attributes: &Attributes, old: &Pod) -> Result<(), ApiError> {
    let name = old.metadata.name.as_deref().unwrap_or("");
    let Some(node) = acting_node(attributes, "pods", name)? else {
        return Ok(());
    };
    if attributes.subresource != "status" {
        return Err(forbidden(
            "pods",
            name,
            format_args!(
                "unexpected operation {:?}, node {node:?} can only create and delete mirror pods",
                operation(attributes)
            ),
        ));
    }
    if bound_node(old) != node {
        return Err(forbidden(
            "pods",
            name,
            format_args!(
                "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
            ),
        ));
    }
    Ok(())
}

/// A delete (or eviction) of the stored pod by a node: only pods bound to it.
pub(crate) fn admit_pod_delete(attributes: &Attributes, pod: &Pod) -> Result<(), ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let Some(node) = acting_node(attributes, "pods", name)? else {
        return Ok(());
    };
    if bound_node(pod) != node {
        return Err(forbidden(
            "pods",
            name,
            format_args!("node {node:?} can only delete pods with spec.nodeName set to itself"),
        ));
    }
    Ok(())
}

/// A write of the Node `name` by a node: only its own, and not setting
/// (on create) or changing (on update, against `old`) restricted labels.
pub(crate) fn admit_node(
    attributes: &Attributes,
    name: &str,
    old: Option<&Node>,
    new: Option<&Node>,
) -> Result<(), ApiError> {
    let Some(node) = acting_node(attributes, "nodes", name)? else {
        return Ok(());
    };
    if name != node {
        return Err(forbidden(
            "nodes",
            name,
            format_args!("node {node:?} is not allowed to modify node {name:?}"),
        ));
    }
    let empty = BTreeMap::new();
    let Some(new) = new else {
        return Ok(());
    };
    let new_labels = new.metadata.labels.as_ref().unwrap_or(&empty);
    match old {
        None => {
            let restricted = restricted_labels(new_labels.keys());
            if !restricted.is_empty() {
                return Err(forbidden(
                    "nodes",
                    name,
                    format_args!(
                        "node {node:?} is not allowed to set the following labels: {}",
                        restricted.join(", ")
                    ),
                ));
            }
        }
        Some(old) => {
            let old_labels = old.metadata.labels.as_ref().unwrap_or(&empty);
            let modified = new_labels
                .iter()
                .filter(|(key, value)| old_labels.get(*key) != Some(*value))
                .map(|(key, _)| key)
                .chain(
                    old_labels
                        .keys()
                        .filter(|key| !new_labels.contains_key(*key)),
                );
            let restricted = restricted_labels(modified);
            if !restricted.is_empty() {
                return Err(forbidden(
                    "nodes",
                    name,
                    format_args!("is not allowed to modify labels: {}", restricted.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

/// The labels (sorted, once each) in the restricted namespace or one of
/// its subdomains.
fn restricted_labels<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut restricted: Vec<&str> = keys
        .map(String::as_str)
        .filter(|key| {
            key.split_once('/').is_some_and(|(namespace, _)| {
                namespace == RESTRICTED_LABEL_NAMESPACE
                    || namespace.ends_with(&format!(".{RESTRICTED_LABEL_NAMESPACE}"))
            })
        })
        .collect();
    restricted.sort_unstable();
    restricted.dedup();
    restricted
}

/// A write of the Lease `name` by a node: only its own, in `kube-node-lease`.
pub(crate) fn admit_lease(
    attributes: &Attributes,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    let Some(node) = acting_node(attributes, "leases", name)? else {
        return Ok(());
    };
    if namespace != NODE_LEASE_NAMESPACE {
        return Err(forbidden(
            "leases",
            name,
            format_args!("can only access leases in the {NODE_LEASE_NAMESPACE:?} system namespace"),
        ));
    }
    if name != node {
        return Err(forbidden(
            "leases",
            name,
            "can only access node lease with the same name as the requesting node",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
