//! [`RbacPolicy`]: Kubernetes' RBAC authorizer over a snapshot of Roles,
//! ClusterRoles, RoleBindings and ClusterRoleBindings.
//!
//! ClusterRole aggregation is resolved when the policy is built: a
//! ClusterRole with an `aggregationRule` has, instead of its own rules, the
//! rules of every other ClusterRole matching one of its selectors (through
//! aggregated roles in turn, so `admin` gets `edit`'s and `view`'s), as
//! Kubernetes' aggregation controller converges to.
//!
//! A request is allowed when a rule reached through a binding that applies
//! to the user allows it: ClusterRoleBindings everywhere, RoleBindings of
//! the request's namespace there only (also when they reference a
//! ClusterRole). Members of `system:masters` are always allowed. A denial
//! carries Kubernetes' forbidden message, with the `RBAC:` reason listing
//! bindings whose role does not exist.

use std::collections::{BTreeMap, HashMap, HashSet};

use api::selector::Selector;
use k8s_openapi::api::authorization::v1::{NonResourceRule, ResourceRule};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::rules::rule_allows;
use crate::auth::service_account::SERVICE_ACCOUNT_USER_PREFIX;
use crate::request::{Attributes, MASTERS_GROUP, UserInfo};

/// The outcome of authorizing one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Allow,
    /// The message is Kubernetes' forbidden message for the request.
    Deny(String),
}

/// The rules that apply to a user in a namespace, as a
/// SelfSubjectRulesReview reports them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SubjectRules {
    pub(crate) resource_rules: Vec<ResourceRule>,
    pub(crate) non_resource_rules: Vec<NonResourceRule>,
    /// Bindings whose role is missing; the review is then incomplete.
    pub(crate) evaluation_errors: Vec<String>,
}

/// An immutable RBAC policy; rebuild it from new snapshots when RBAC
/// objects change.
#[derive(Clone, Debug, Default)]
pub(crate) struct RbacPolicy {
    /// Rules of each Role, by namespace and name.
    role_rules: HashMap<(String, String), Vec<PolicyRule>>,
    /// Rules of each ClusterRole by name, aggregation resolved.
    cluster_role_rules: HashMap<String, Vec<PolicyRule>>,
    /// RoleBindings by their namespace.
    role_bindings_by_namespace: HashMap<String, Vec<RoleBinding>>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
}

impl RbacPolicy {
    pub(crate) fn new(
        roles: Vec<Role>,
        cluster_roles: Vec<ClusterRole>,
        role_bindings: Vec<RoleBinding>,
        cluster_role_bindings: Vec<ClusterRoleBinding>,
    ) -> RbacPolicy {
        let role_rules = roles
            .into_iter()
            .filter_map(|role| {
                let namespace = role.metadata.namespace?;
                let name = role.metadata.name?;
                Some(((namespace, name), role.rules.unwrap_or_default()))
            })
            .collect();
        let mut role_bindings_by_namespace: HashMap<String, Vec<RoleBinding>> = HashMap::new();
        for binding in role_bindings {
            if let Some(namespace) = binding.metadata.namespace.clone() {
                role_bindings_by_namespace
                    .entry(namespace)
                    .or_default()
                    .push(binding);
            }
        }
        RbacPolicy {
            role_rules,
            cluster_role_rules: resolve_aggregation(&cluster_roles),
            role_bindings_by_namespace,
            cluster_role_bindings,
        }
    }

    /// Authorizes one request.
    pub(crate) fn authorize(&self, attributes: &Attributes) -> Decision {
        if attributes.user.in_group(MASTERS_GROUP) {
            return Decision::Allow;
        }
        let mut allowed = false;
        let mut errors: Vec<String> = Vec::new();
        self.visit_rules(&attributes.user, &attributes.namespace, |rule| match rule {
            Ok(rule) => {
                allowed = rule_allows(rule, attributes);
                allowed
            }
            Err(error) => {
                if !errors.contains(&error) {
                    errors.push(error);
                }
                false
            }
        });
        if allowed {
            return Decision::Allow;
        }
        let reason = match errors.as_slice() {
            [] => String::new(),
            [error] => format!("RBAC: {error}"),
            errors => format!("RBAC: [{}]", errors.join(", ")),
        };
        Decision::Deny(forbidden_message(attributes, &reason))
    }

    /// The rules that apply to `user` in `namespace` ("" for cluster-wide
    /// bindings only).
    pub(crate) fn rules_for(&self, user: &UserInfo, namespace: &str) -> SubjectRules {
        let mut rules = SubjectRules::default();
        self.visit_rules(user, namespace, |rule| {
            match rule {
                Ok(rule)
                    if rule
                        .non_resource_urls
                        .as_ref()
                        .is_some_and(|urls| !urls.is_empty()) =>
                {
                    rules.non_resource_rules.push(NonResourceRule {
                        verbs: rule.verbs.clone(),
                        non_resource_urls: rule.non_resource_urls.clone(),
                    });
                }
                Ok(rule) => rules.resource_rules.push(ResourceRule {
                    verbs: rule.verbs.clone(),
                    api_groups: rule.api_groups.clone(),
                    resources: rule.resources.clone(),
                    resource_names: rule.resource_names.clone(),
                }),
                Err(error) => rules.evaluation_errors.push(error),
            }
            false
        });
        rules
    }

    /// Calls `visit` with every rule that applies to `user` in `namespace`
    /// (or the error of a binding whose role is missing) until it returns
    /// true.
    fn visit_rules(
        &self,
        user: &UserInfo,
        namespace: &str,
        mut visit: impl FnMut(Result<&PolicyRule, String>) -> bool,
    ) {
        for binding in &self.cluster_role_bindings {
            if !applies_to_user(binding.subjects.as_deref(), user, "") {
                continue;
            }
            if visit_role_rules(self.rules_of(&binding.role_ref, ""), &mut visit) {
                return;
            }
        }
        if namespace.is_empty() {
            return;
        }
        for binding in self
            .role_bindings_by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
        {
            if !applies_to_user(binding.subjects.as_deref(), user, namespace) {
                continue;
            }
            if visit_role_rules(self.rules_of(&binding.role_ref, namespace), &mut visit) {
                return;
            }
        }
    }

    /// The rules a binding's roleRef names; `namespace` is the binding's
    /// ("" for ClusterRoleBindings, which may only name ClusterRoles).
    fn rules_of(&self, role_ref: &RoleRef, namespace: &str) -> Result<&[PolicyRule], String> {
        match role_ref.kind.as_str() {
            "ClusterRole" => self
                .cluster_role_rules
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    format!(
                        "clusterrole.rbac.authorization.k8s.io {:?} not found",
                        role_ref.name
                    )
                }),
            "Role" if !namespace.is_empty() => self
                .role_rules
                .get(&(namespace.to_string(), role_ref.name.clone()))
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    format!(
                        "role.rbac.authorization.k8s.io {:?} not found",
                        role_ref.name
                    )
                }),
            other => Err(format!("unsupported role reference kind: {other:?}")),
        }
    }
}

fn visit_role_rules(
    rules: Result<&[PolicyRule], String>,
    visit: &mut impl FnMut(Result<&PolicyRule, String>) -> bool,
) -> bool {
    match rules {
        Ok(rules) => rules.iter().any(|rule| visit(Ok(rule))),
        Err(error) => visit(Err(error)),
    }
}

/// Kubernetes' forbidden message for a denied request: the
/// `responsewriters.forbiddenMessage` detail inside `NewForbidden`'s
/// wording, with `reason` appended when there is one.
pub(crate) fn forbidden_message(attributes: &Attributes, reason: &str) -> String {
    let user = &attributes.user.name;
    let verb = &attributes.verb;
    let mut detail = if !attributes.resource_request {
        format!("User {user:?} cannot {verb} path {:?}", attributes.path)
    } else if !attributes.namespace.is_empty() {
        format!(
            "User {user:?} cannot {verb} resource {:?} in API group {:?} in the namespace {:?}",
            attributes.resource_with_subresource(),
            attributes.group,
            attributes.namespace
        )
    } else {
        format!(
            "User {user:?} cannot {verb} resource {:?} in API group {:?} at the cluster scope",
            attributes.resource_with_subresource(),
            attributes.group
        )
    };
    if !reason.is_empty() {
        detail.push_str(": ");
        detail.push_str(reason);
    }
    if !attributes.resource_request
        || (attributes.resource.is_empty() && attributes.group.is_empty())
    {
        return format!("forbidden: {detail}");
    }
    let qualified_resource = if attributes.group.is_empty() {
        attributes.resource.clone()
    } else {
        format!("{}.{}", attributes.resource, attributes.group)
    };
    if attributes.name.is_empty() {
        format!("{qualified_resource} is forbidden: {detail}")
    } else {
        format!(
            "{qualified_resource} {:?} is forbidden: {detail}",
            attributes.name
        )
    }
}

/// Whether any of a binding's subjects is `user`. `binding_namespace`
/// defaults the namespace of ServiceAccount subjects of RoleBindings.
fn applies_to_user(subjects: Option<&[Subject]>, user: &UserInfo, binding_namespace: &str) -> bool {
    subjects
        .into_iter()
        .flatten()
        .any(|subject| subject_is_user(subject, user, binding_namespace))
}

fn subject_is_user(subject: &Subject, user: &UserInfo, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let namespace = subject
                .namespace
                .as_deref()
                .filter(|namespace| !namespace.is_empty())
                .unwrap_or(binding_namespace);
            !namespace.is_empty()
                && user
                    .name
                    .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
                    .and_then(|rest| rest.strip_prefix(namespace))
                    .and_then(|rest| rest.strip_prefix(':'))
                    == Some(subject.name.as_str())
        }
        _ => false,
    }
}

/// The effective rules of every ClusterRole, by name.
fn resolve_aggregation(cluster_roles: &[ClusterRole]) -> HashMap<String, Vec<PolicyRule>> {
    let mut sorted: Vec<&ClusterRole> = cluster_roles
        .iter()
        .filter(|role| role.metadata.name.is_some())
        .collect();
    sorted.sort_by(|left, right| left.metadata.name.cmp(&right.metadata.name));
    let mut resolved = HashMap::new();
    for role in &sorted {
        let mut in_progress = HashSet::new();
        effective_rules(role, &sorted, &mut resolved, &mut in_progress);
    }
    resolved
}

fn role_name(role: &ClusterRole) -> &str {
    role.metadata.name.as_deref().unwrap_or_default()
}

fn effective_rules(
    role: &ClusterRole,
    all_roles: &[&ClusterRole],
    resolved: &mut HashMap<String, Vec<PolicyRule>>,
    in_progress: &mut HashSet<String>,
) -> Vec<PolicyRule> {
    let name = role_name(role);
    if let Some(rules) = resolved.get(name) {
        return rules.clone();
    }
    let selectors = role
        .aggregation_rule
        .as_ref()
        .and_then(|rule| rule.cluster_role_selectors.as_deref())
        .unwrap_or_default();
    if role.aggregation_rule.is_none() {
        let rules = role.rules.clone().unwrap_or_default();
        resolved.insert(name.to_string(), rules.clone());
        return rules;
    }
    if !in_progress.insert(name.to_string()) {
        // A cycle of aggregated roles: the inner occurrence contributes
        // nothing more than what is being collected.
        return Vec::new();
    }
    // Invalid selectors select nothing, as the aggregation controller
    // skips them.
    let selectors: Vec<Selector> = selectors
        .iter()
        .filter_map(|selector| Selector::from_label_selector(selector).ok())
        .collect();
    let no_labels = BTreeMap::new();
    let mut rules: Vec<PolicyRule> = Vec::new();
    for candidate in all_roles {
        if role_name(candidate) == name {
            continue;
        }
        let labels = candidate.metadata.labels.as_ref().unwrap_or(&no_labels);
        if !selectors.iter().any(|selector| selector.matches(labels)) {
            continue;
        }
        for rule in effective_rules(candidate, all_roles, resolved, in_progress) {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    in_progress.remove(name);
    resolved.insert(name.to_string(), rules.clone());
    rules
}
