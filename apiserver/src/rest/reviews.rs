//! The review resources, which are not stored: a POST is answered with
//! the request's own object and a computed status.
//!
//! `authorization.k8s.io/v1`: SelfSubjectAccessReview (`kubectl auth
//! can-i`), SubjectAccessReview and LocalSubjectAccessReview (for another
//! user), SelfSubjectRulesReview (`kubectl auth can-i --list`), all
//! decided by the same authorizer that enforces requests, so can-i agrees
//! with enforcement. `authentication.k8s.io/v1`: TokenReview (is a token
//! valid, and whose is it) and SelfSubjectReview (`kubectl auth whoami`).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::rbac::authorizer::Decision;
use crate::error::ApiError;
use crate::request::{Attributes, UserInfo};
use crate::rest::RestState;

/// The review resources by group and plural.
pub(crate) fn is_review(group: &str, resource: &str) -> bool {
    matches!(
        (group, resource),
        (
            "authorization.k8s.io",
            "selfsubjectaccessreviews"
                | "subjectaccessreviews"
                | "localsubjectaccessreviews"
                | "selfsubjectrulesreviews"
        ) | (
            "authentication.k8s.io",
            "tokenreviews" | "selfsubjectreviews"
        )
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ReviewBody {
    #[serde(default)]
    spec: ReviewSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ReviewSpec {
    resource_attributes: Option<ResourceAttributes>,
    non_resource_attributes: Option<NonResourceAttributes>,
    user: Option<String>,
    uid: Option<String>,
    groups: Option<Vec<String>>,
    namespace: Option<String>,
    token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceAttributes {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    verb: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    subresource: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NonResourceAttributes {
    #[serde(default)]
    path: String,
    #[serde(default)]
    verb: String,
}

/// Answers one review POST from `user` with `body`; `namespace` is the
/// path's (LocalSubjectAccessReview).
pub(crate) fn review(
    rest: &RestState,
    resource: &str,
    namespace: &str,
    user: &Arc<UserInfo>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut object: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("invalid review: {error}")))?;
    let parsed: ReviewBody = serde_json::from_value(object.clone())
        .map_err(|error| ApiError::BadRequest(format!("invalid review: {error}")))?;
    let spec = parsed.spec;
    let status = match resource {
        "selfsubjectaccessreviews" => access_status(rest, user.clone(), &spec, None)?,
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let subject = Arc::new(UserInfo {
                name: spec.user.clone().unwrap_or_default(),
                uid: spec.uid.clone().unwrap_or_default(),
                groups: spec.groups.clone().unwrap_or_default(),
            });
            let forced_namespace = (resource == "localsubjectaccessreviews").then_some(namespace);
            access_status(rest, subject, &spec, forced_namespace)?
        }
        "selfsubjectrulesreviews" => rules_status(rest, user, spec.namespace.as_deref()),
        "tokenreviews" => token_status(rest, spec.token.as_deref().unwrap_or("")),
        "selfsubjectreviews" => json!({"userInfo": user_json(user)}),
        other => return Err(ApiError::not_found_path(other)),
    };
    object["status"] = status;
    Ok(object)
}

fn access_status(
    rest: &RestState,
    user: Arc<UserInfo>,
    spec: &ReviewSpec,
    forced_namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let attributes = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(resource), _) => Attributes {
            user,
            verb: resource.verb.clone(),
            resource_request: true,
            group: resource.group.clone(),
            version: resource.version.clone(),
            resource: resource.resource.clone(),
            subresource: resource.subresource.clone(),
            namespace: forced_namespace.unwrap_or(&resource.namespace).to_string(),
            name: resource.name.clone(),
            path: String::new(),
        },
        (None, Some(non_resource)) => {
            Attributes::non_resource(user, &non_resource.verb, &non_resource.path)
        }
        (None, None) => {
            return Err(ApiError::BadRequest(
                "spec: exactly one of resourceAttributes and nonResourceAttributes must be set"
                    .to_string(),
            ));
        }
    };
    Ok(match rest.state.authorizer.decide(&attributes) {
        Decision::Allow => json!({"allowed": true, "reason": "allowed by RBAC"}),
        Decision::Deny(_) => json!({"allowed": false}),
    })
}

fn rules_status(rest: &RestState, user: &UserInfo, namespace: Option<&str>) -> Value {
    let rules = rest
        .state
        .authorizer
        .policy()
        .rules_for(user, namespace.unwrap_or(""));
    json!({
        "resourceRules": rules.resource_rules,
        "nonResourceRules": rules.non_resource_rules,
        "incomplete": !rules.evaluation_errors.is_empty(),
        "evaluationError": rules.evaluation_errors.join("; "),
    })
}

fn token_status(rest: &RestState, token: &str) -> Value {
    let Some(authenticator) = &rest.authenticator else {
        return json!({"authenticated": false, "error": "token authentication is not configured"});
    };
    let now = crate::object::now_timestamp().as_second();
    match authenticator.authenticate(Some(token), None, now) {
        Ok(authenticated) => json!({
            "authenticated": true,
            "user": user_json(&authenticated.user),
        }),
        Err(error) => json!({"authenticated": false, "error": error.to_string()}),
    }
}

fn user_json(user: &UserInfo) -> Value {
    json!({"username": user.name, "uid": user.uid, "groups": user.groups})
}
