//! The discovery documents kubectl and client libraries read before anything
//! else: `/api`, `/apis`, `/apis/{group}`, `/api/v1` and
//! `/apis/{group}/{version}` (as k8s-openapi types), the aggregated
//! `apidiscovery.k8s.io/v2` documents for `/api` and `/apis` (small serde
//! structs, since k8s-openapi lacks them) and `/version`.
//!
//! Every builder takes the resources added at runtime (`extras`) next to the
//! static table, so CustomResourceDefinitions show up without a rebuild.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
    ServerAddressByClientCIDR,
};
use serde::{Deserialize, Serialize};

use super::resources::{self, GroupVersions, ResourceRow, ResponseKind};

/// The Kubernetes minor version Skiff speaks.
pub(crate) const KUBERNETES_MINOR: &str = "34";
/// What `/version` reports as `gitVersion`.
pub(crate) const GIT_VERSION: &str = "v1.34.0-skiff";

/// `/api`: the core group's versions and where clients reach the server.
pub(crate) fn api_versions(server_address: &str) -> APIVersions {
    APIVersions {
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".to_string(),
            server_address: server_address.to_string(),
        }],
        versions: vec!["v1".to_string()],
    }
}

/// `/apis`: every named group with its versions and preferred version.
pub(crate) fn api_group_list(extras: &[ResourceRow]) -> APIGroupList {
    APIGroupList {
        groups: resources::groups(extras)
            .iter()
            .filter(|entry| !entry.group.is_empty())
            .map(api_group_of)
            .collect(),
    }
}

/// `/apis/{group}`, or `None` if the group is not served.
pub(crate) fn api_group(extras: &[ResourceRow], group: &str) -> Option<APIGroup> {
    resources::groups(extras)
        .iter()
        .find(|entry| entry.group == group && !group.is_empty())
        .map(api_group_of)
}

/// `/api/v1` or `/apis/{group}/{version}`: the resources and subresources of
/// one group version, sorted by name as Kubernetes lists them; `None` if the
/// group version is not served.
pub(crate) fn api_resource_list(
    extras: &[ResourceRow],
    group: &str,
    version: &str,
) -> Option<APIResourceList> {
    let rows = resources::resources_in_group_version(extras, group, version);
    if rows.is_empty() {
        return None;
    }
    let mut entries: Vec<APIResource> = Vec::new();
    for row in rows {
        entries.push(APIResource {
            categories: non_empty(&row.categories),
            group: None,
            kind: row.kind.clone(),
            name: row.plural.clone(),
            namespaced: row.namespaced,
            short_names: non_empty(&row.short_names),
            singular_name: row.singular.clone(),
            storage_version_hash: None,
            verbs: row.verbs.clone(),
            version: None,
        });
        for subresource in &row.subresources {
            let kind = &subresource.response_kind;
            entries.push(APIResource {
                categories: None,
                group: (!kind.group.is_empty()).then(|| kind.group.clone()),
                kind: kind.kind.clone(),
                name: format!("{}/{}", row.plural, subresource.name),
                namespaced: row.namespaced,
                short_names: None,
                singular_name: String::new(),
                storage_version_hash: None,
                verbs: subresource.verbs.clone(),
                version: (!kind.version.is_empty()).then(|| kind.version.clone()),
            });
        }
    }
    entries.sort_by(|left, right| left.name.cmp(&right.name));
    Some(APIResourceList {
        group_version: resources::group_version(group, version),
        resources: entries,
    })
}

/// The aggregated document for `/api`: the core group only.
pub(crate) fn aggregated_core(extras: &[ResourceRow]) -> APIGroupDiscoveryList {
    aggregated(extras, |group| group.is_empty())
}

/// The aggregated document for `/apis`: every named group, in priority order.
pub(crate) fn aggregated_groups(extras: &[ResourceRow]) -> APIGroupDiscoveryList {
    aggregated(extras, |group| !group.is_empty())
}

/// `/version`.
pub(crate) fn version_info() -> VersionInfo {
    VersionInfo {
        major: "1".to_string(),
        minor: KUBERNETES_MINOR.to_string(),
        git_version: GIT_VERSION.to_string(),
        git_commit: String::new(),
        git_tree_state: "clean".to_string(),
        build_date: String::new(),
        go_version: "rust".to_string(),
        compiler: "rustc".to_string(),
        platform: format!(
            "{}/{}",
            std::env::consts::OS,
            go_arch(std::env::consts::ARCH)
        ),
    }
}

/// `apidiscovery.k8s.io/v2 APIGroupDiscoveryList`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct APIGroupDiscoveryList {
    pub(crate) kind: String,
    pub(crate) api_version: String,
    /// Always empty: the document has no resource version.
    pub(crate) metadata: EmptyMeta,
    pub(crate) items: Vec<APIGroupDiscovery>,
}

/// List metadata with nothing set, serialized as `{}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmptyMeta {}

/// One group and its versions, most preferred first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct APIGroupDiscovery {
    pub(crate) metadata: GroupMeta,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) versions: Vec<APIVersionDiscovery>,
}

/// The group's name ("" for the core group, then omitted as Kubernetes does).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupMeta {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) name: String,
}

/// The resources of one version of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct APIVersionDiscovery {
    pub(crate) version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) resources: Vec<APIResourceDiscovery>,
    /// `Current`: Skiff serves every group itself, so none is stale.
    pub(crate) freshness: String,
}

/// One resource of a group version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct APIResourceDiscovery {
    pub(crate) resource: String,
    pub(crate) response_kind: GroupVersionKind,
    /// `Namespaced` or `Cluster`.
    pub(crate) scope: String,
    pub(crate) singular_resource: String,
    pub(crate) verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) short_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) subresources: Vec<APISubresourceDiscovery>,
}

/// One subresource of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct APISubresourceDiscovery {
    pub(crate) subresource: String,
    pub(crate) response_kind: GroupVersionKind,
    pub(crate) verbs: Vec<String>,
}

/// `meta/v1 GroupVersionKind`; group and version are empty when they are
/// those of the enclosing group version, as Kubernetes publishes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupVersionKind {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
}

/// The body of `/version`, as `k8s.io/apimachinery/pkg/version.Info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionInfo {
    pub(crate) major: String,
    pub(crate) minor: String,
    pub(crate) git_version: String,
    pub(crate) git_commit: String,
    pub(crate) git_tree_state: String,
    pub(crate) build_date: String,
    pub(crate) go_version: String,
    pub(crate) compiler: String,
    pub(crate) platform: String,
}

fn api_group_of(entry: &GroupVersions) -> APIGroup {
    let discovery_of = |version: &String| GroupVersionForDiscovery {
        group_version: resources::group_version(&entry.group, version),
        version: version.clone(),
    };
    APIGroup {
        name: entry.group.clone(),
        preferred_version: entry.versions.first().map(discovery_of),
        server_address_by_client_cidrs: None,
        versions: entry.versions.iter().map(discovery_of).collect(),
    }
}

fn aggregated(
    extras: &[ResourceRow],
    include_group: impl Fn(&str) -> bool,
) -> APIGroupDiscoveryList {
    let items = resources::groups(extras)
        .iter()
        .filter(|entry| include_group(&entry.group))
        .map(|entry| APIGroupDiscovery {
            metadata: GroupMeta {
                name: entry.group.clone(),
            },
            versions: entry
                .versions
                .iter()
                .map(|version| APIVersionDiscovery {
                    version: version.clone(),
                    resources: aggregated_resources(extras, &entry.group, version),
                    freshness: "Current".to_string(),
                })
                .collect(),
        })
        .collect();
    APIGroupDiscoveryList {
        kind: "APIGroupDiscoveryList".to_string(),
        api_version: "apidiscovery.k8s.io/v2".to_string(),
        metadata: EmptyMeta {},
        items,
    }
}

fn aggregated_resources(
    extras: &[ResourceRow],
    group: &str,
    version: &str,
) -> Vec<APIResourceDiscovery> {
    let mut entries: Vec<APIResourceDiscovery> =
        resources::resources_in_group_version(extras, group, version)
            .into_iter()
            .map(|row| {
                let mut subresources: Vec<APISubresourceDiscovery> = row
                    .subresources
                    .iter()
                    .map(|subresource| APISubresourceDiscovery {
                        subresource: subresource.name.clone(),
                        response_kind: gvk_of(&subresource.response_kind),
                        verbs: subresource.verbs.clone(),
                    })
                    .collect();
                subresources.sort_by(|left, right| left.subresource.cmp(&right.subresource));
                APIResourceDiscovery {
                    resource: row.plural.clone(),
                    response_kind: gvk_of(&ResponseKind::same_group(&row.kind)),
                    scope: if row.namespaced {
                        "Namespaced"
                    } else {
                        "Cluster"
                    }
                    .to_string(),
                    singular_resource: row.singular.clone(),
                    verbs: row.verbs.clone(),
                    short_names: row.short_names.clone(),
                    categories: row.categories.clone(),
                    subresources,
                }
            })
            .collect();
    entries.sort_by(|left, right| left.resource.cmp(&right.resource));
    entries
}

fn gvk_of(kind: &ResponseKind) -> GroupVersionKind {
    GroupVersionKind {
        group: kind.group.clone(),
        version: kind.version.clone(),
        kind: kind.kind.clone(),
    }
}

fn non_empty(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// Go's name for a CPU architecture (`amd64` for `x86_64`).
fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

#[cfg(test)]
mod tests;
