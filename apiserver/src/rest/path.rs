//! Request paths → what they name, as kube-apiserver's `RequestInfoFactory`
//! reads them: `/api/v1/...` and `/apis/<group>/<version>/...`, then
//! optionally `namespaces/<ns>/`, a resource, a name and a subresource.
//! Every other path is a non-resource path (`/healthz`, `/version`, `/api`).

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathInfo {
    /// `/api`, `/apis`, `/healthz`, `/openapi/v2` … and every path that is
    /// not a resource path.
    NonResource,
    /// A group and version with no resource (`/api/v1`, `/apis/apps/v1`):
    /// its discovery document.
    GroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourcePath),
}

/// A path under a group and version that names a resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    /// "" for the core group.
    pub(crate) group: String,
    pub(crate) version: String,
    /// "" for cluster-scoped resources and all-namespace collections.
    pub(crate) namespace: String,
    pub(crate) resource: String,
    /// "" for a collection.
    pub(crate) name: String,
    pub(crate) subresource: String,
}

/// Subresources of a namespace that are not a namespaced resource
/// (`/api/v1/namespaces/<name>/status`).
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Reads a request path (without its query).
pub(crate) fn parse(path: &str) -> PathInfo {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return PathInfo::NonResource,
    };
    if version.is_empty() || parts.iter().any(|part| part.is_empty()) {
        return PathInfo::NonResource;
    }
    let mut info = ResourcePath {
        group: group.to_string(),
        version: version.to_string(),
        ..Default::default()
    };
    let rest = match rest {
        [] => {
            return PathInfo::GroupVersion {
                group: info.group,
                version: info.version,
            };
        }
        ["namespaces", namespace, resource, tail @ ..]
            if !NAMESPACE_SUBRESOURCES.contains(resource) =>
        {
            info.namespace = namespace.to_string();
            let mut rest = vec![*resource];
            rest.extend_from_slice(tail);
            rest
        }
        other => other.to_vec(),
    };
    match rest.as_slice() {
        [resource] => info.resource = resource.to_string(),
        [resource, name] => {
            info.resource = resource.to_string();
            info.name = name.to_string();
        }
        [resource, name, subresource, ..] => {
            info.resource = resource.to_string();
            info.name = name.to_string();
            info.subresource = subresource.to_string();
        }
        [] => return PathInfo::NonResource,
    }
    PathInfo::Resource(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Option<(&str, &str, &str, &str, &str, &str)>) {
        let actual = match parse(path) {
            PathInfo::Resource(info) => Some(info),
            _ => None,
        };
        let expected =
            expected.map(
                |(group, version, namespace, resource, name, subresource)| ResourcePath {
                    group: group.into(),
                    version: version.into(),
                    namespace: namespace.into(),
                    resource: resource.into(),
                    name: name.into(),
                    subresource: subresource.into(),
                },
            );
        assert_eq!(actual, expected, "{path}");
    }

    #[test]
    fn resource_paths() {
        check("/api/v1/pods", Some(("", "v1", "", "pods", "", "")));
        check(
            "/api/v1/namespaces/default/pods",
            Some(("", "v1", "default", "pods", "", "")),
        );
        check(
            "/api/v1/namespaces/default/pods/web-0",
            Some(("", "v1", "default", "pods", "web-0", "")),
        );
        check(
            "/api/v1/namespaces/default/pods/web-0/binding",
            Some(("", "v1", "default", "pods", "web-0", "binding")),
        );
        check(
            "/api/v1/namespaces/kube-system",
            Some(("", "v1", "", "namespaces", "kube-system", "")),
        );
        check(
            "/api/v1/namespaces/kube-system/status",
            Some(("", "v1", "", "namespaces", "kube-system", "status")),
        );
        check(
            "/api/v1/namespaces/kube-system/finalize",
            Some(("", "v1", "", "namespaces", "kube-system", "finalize")),
        );
        check(
            "/api/v1/namespaces",
            Some(("", "v1", "", "namespaces", "", "")),
        );
        check(
            "/apis/apps/v1/namespaces/ns/deployments/web/scale",
            Some(("apps", "v1", "ns", "deployments", "web", "scale")),
        );
        check(
            "/api/v1/nodes/n1/status",
            Some(("", "v1", "", "nodes", "n1", "status")),
        );
        check(
            "/apis/apps/v1/deployments",
            Some(("apps", "v1", "", "deployments", "", "")),
        );
    }

    #[test]
    fn other_paths() {
        assert_eq!(parse("/api"), PathInfo::NonResource);
        assert_eq!(parse("/apis"), PathInfo::NonResource);
        assert_eq!(parse("/apis/apps"), PathInfo::NonResource);
        assert_eq!(parse("/healthz"), PathInfo::NonResource);
        assert_eq!(parse("/api/v1/pods//x"), PathInfo::NonResource);
        assert_eq!(
            parse("/api/v1"),
            PathInfo::GroupVersion {
                group: String::new(),
                version: "v1".into()
            }
        );
        assert_eq!(
            parse("/apis/apps/v1/"),
            PathInfo::GroupVersion {
                group: "apps".into(),
                version: "v1".into()
            }
        );
    }
}
