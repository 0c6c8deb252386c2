//! Whether one RBAC `PolicyRule` allows one request, with Kubernetes'
//! matching rules (`RuleAllows` and the `*Matches` helpers of its RBAC
//! authorizer):
//!
//! - verbs and API groups match exactly or through `*`;
//! - resources match `*`, the exact `resource` or `resource/subresource`
//!   the request names, or `*/subresource`; `pods/*` is not a wildcard;
//! - resource names: an empty list matches every name, a non-empty one
//!   only a request naming one of them (so never `list`, `watch` of a
//!   collection or `create`, whose name is empty);
//! - non-resource URLs match `*`, exactly, or by prefix when the rule ends
//!   in `*`; resource rules never match non-resource requests and the other
//!   way round, because each leaves the other's fields empty.

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::request::Attributes;

/// The wildcard of verbs, API groups, resources and non-resource URLs.
pub(crate) const WILDCARD: &str = "*";

/// Whether `rule` allows the request `attributes`.
pub(crate) fn rule_allows(rule: &PolicyRule, attributes: &Attributes) -> bool {
    if attributes.resource_request {
        verb_matches(rule, &attributes.verb)
            && api_group_matches(rule, &attributes.group)
            && resource_matches(
                rule,
                &attributes.resource_with_subresource(),
                &attributes.subresource,
            )
            && resource_name_matches(rule, &attributes.name)
    } else {
        verb_matches(rule, &attributes.verb) && non_resource_url_matches(rule, &attributes.path)
    }
}

pub(crate) fn verb_matches(rule: &PolicyRule, requested_verb: &str) -> bool {
    rule.verbs
        .iter()
        .any(|verb| verb == WILDCARD || verb == requested_verb)
}

pub(crate) fn api_group_matches(rule: &PolicyRule, requested_group: &str) -> bool {
    rule.api_groups
        .iter()
        .flatten()
        .any(|group| group == WILDCARD || group == requested_group)
}

/// `combined_resource` is `resource` or `resource/subresource`.
pub(crate) fn resource_matches(
    rule: &PolicyRule,
    combined_resource: &str,
    requested_subresource: &str,
) -> bool {
    rule.resources.iter().flatten().any(|resource| {
        resource == WILDCARD
            || resource == combined_resource
            || (!requested_subresource.is_empty()
                && resource
                    .strip_prefix("*/")
                    .is_some_and(|subresource| subresource == requested_subresource))
    })
}

pub(crate) fn resource_name_matches(rule: &PolicyRule, requested_name: &str) -> bool {
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => names.iter().any(|name| name == requested_name),
    }
}

pub(crate) fn non_resource_url_matches(rule: &PolicyRule, requested_path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|url| {
        url == WILDCARD
            || url == requested_path
            || url
                .strip_suffix('*')
                .is_some_and(|prefix| requested_path.starts_with(prefix))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::request::UserInfo;

    fn strings(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|value| value.to_string()).collect())
    }

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs).unwrap_or_default(),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: if names.is_empty() {
                None
            } else {
                strings(names)
            },
            non_resource_urls: None,
        }
    }

    fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs).unwrap_or_default(),
            non_resource_urls: strings(urls),
            ..PolicyRule::default()
        }
    }

    /// A resource request: `verb group resource/subresource name`.
    fn request(verb: &str, group: &str, resource: &str, name: &str) -> Attributes {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Attributes {
            user: Arc::new(UserInfo::anonymous()),
            verb: verb.to_string(),
            resource_request: true,
            group: group.to_string(),
            version: "v1".to_string(),
            resource: resource.to_string(),
            subresource: subresource.to_string(),
            namespace: "default".to_string(),
            name: name.to_string(),
            path: String::new(),
        }
    }

    fn check(rule: &PolicyRule, cases: &[(&str, &str, &str, &str, bool)]) {
        for &(verb, group, resource, name, expected) in cases {
            assert_eq!(
                rule_allows(rule, &request(verb, group, resource, name)),
                expected,
                "{verb} {group:?} {resource} {name:?} against {rule:?}"
            );
        }
    }

    #[test]
    fn verbs_and_groups() {
        check(
            &rule(&["get", "list"], &[""], &["pods"], &[]),
            &[
                ("get", "", "pods", "p", true),
                ("list", "", "pods", "", true),
                ("watch", "", "pods", "", false),
                ("get", "apps", "pods", "p", false),
            ],
        );
        check(
            &rule(&["*"], &["*"], &["deployments"], &[]),
            &[
                ("delete", "apps", "deployments", "d", true),
                ("deletecollection", "extensions", "deployments", "", true),
                ("get", "apps", "replicasets", "r", false),
            ],
        );
    }

    #[test]
    fn subresources() {
        check(
            &rule(&["get"], &[""], &["pods"], &[]),
            &[
                ("get", "", "pods", "p", true),
                ("get", "", "pods/status", "p", false),
            ],
        );
        check(
            &rule(&["get"], &[""], &["pods/status"], &[]),
            &[
                ("get", "", "pods/status", "p", true),
                ("get", "", "pods", "p", false),
            ],
        );
        // `pods/*` is no wildcard in Kubernetes: it only matches itself.
        check(
            &rule(&["get"], &[""], &["pods/*"], &[]),
            &[
                ("get", "", "pods/status", "p", false),
                ("get", "", "pods/log", "p", false),
            ],
        );
        check(
            &rule(&["update"], &["*"], &["*/scale"], &[]),
            &[
                ("update", "apps", "deployments/scale", "d", true),
                ("update", "", "replicationcontrollers/scale", "r", true),
                ("update", "apps", "deployments/status", "d", false),
                ("update", "apps", "deployments", "d", false),
            ],
        );
        check(
            &rule(&["get"], &[""], &["*"], &[]),
            &[
                ("get", "", "pods", "p", true),
                ("get", "", "pods/log", "p", true),
            ],
        );
    }

    #[test]
    fn resource_names() {
        check(
            &rule(
                &["get", "update", "list", "create"],
                &["coordination.k8s.io"],
                &["leases"],
                &["kube-scheduler"],
            ),
            &[
                (
                    "get",
                    "coordination.k8s.io",
                    "leases",
                    "kube-scheduler",
                    true,
                ),
                (
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-scheduler",
                    true,
                ),
                ("get", "coordination.k8s.io", "leases", "other", false),
                ("list", "coordination.k8s.io", "leases", "", false),
                ("create", "coordination.k8s.io", "leases", "", false),
            ],
        );
    }

    #[test]
    fn non_resource_urls() {
        let rule = url_rule(&["get"], &["/healthz", "/api", "/api/*", "/openapi/*"]);
        for (path, expected) in [
            ("/healthz", true),
            ("/healthz/etcd", false),
            ("/api", true),
            ("/api/v1", true),
            ("/apis", false),
            ("/openapi/v2", true),
            ("/openapi", false),
        ] {
            let attributes = Attributes::non_resource(Arc::new(UserInfo::anonymous()), "get", path);
            assert_eq!(rule_allows(&rule, &attributes), expected, "{path}");
        }
        let post = Attributes::non_resource(Arc::new(UserInfo::anonymous()), "POST", "/api");
        assert!(!rule_allows(&rule, &post));
        assert!(rule_allows(&url_rule(&["*"], &["*"]), &post));
    }

    #[test]
    fn resource_and_non_resource_rules_never_cross() {
        let everything_resources = rule(&["*"], &["*"], &["*"], &[]);
        let everything_urls = url_rule(&["*"], &["*"]);
        let path = Attributes::non_resource(Arc::new(UserInfo::anonymous()), "get", "/healthz");
        assert!(!rule_allows(&everything_resources, &path));
        assert!(!rule_allows(
            &everything_urls,
            &request("get", "", "pods", "p")
        ));
    }
}
