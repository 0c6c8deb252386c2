//! The one place an [`ApiError`] becomes a Kubernetes `Status` body with
//! its HTTP code: the reason and code from [`ApiError::reason`], the same
//! message text the gRPC face sends, and `details` (name, kind, and for
//! validation errors one cause per field with its path).

use serde_json::{Value, json};

use crate::error::ApiError;

/// The `Status` body and HTTP code of an error.
pub(crate) fn status_of(error: &ApiError) -> (u16, Value) {
    if error.is_server_error() {
        tracing::warn!(%error, "request failed");
    } else {
        tracing::debug!(%error, "request rejected");
    }
    let reason = error.reason();
    let code = reason.http_code();
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": error.to_string(),
        "reason": reason.as_str(),
        "code": code,
    });
    if let Some(details) = details(error) {
        body["details"] = details;
    }
    (code, body)
}

/// A `Status` of success, as a delete of a collection answers.
pub(crate) fn success(details: Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

fn details(error: &ApiError) -> Option<Value> {
    Some(match error {
        ApiError::Invalid { kind, name, errors } => {
            let causes: Vec<Value> = errors
                .0
                .iter()
                .map(|cause| {
                    let text = cause.to_string();
                    let prefix = format!("{}: ", cause.path);
                    let message = text.strip_prefix(&prefix).unwrap_or(&text);
                    json!({
                        "reason": cause.kind.reason(),
                        "message": message,
                        "field": cause.path.as_str(),
                    })
                })
                .collect();
            json!({"name": name, "kind": kind, "causes": causes})
        }
        ApiError::NotFound { plural, name }
        | ApiError::AlreadyExists { plural, name }
        | ApiError::Conflict { plural, name, .. } => {
            let (resource, group) = split_resource(plural);
            json!({"name": name, "group": group, "kind": resource})
        }
        ApiError::TooOld(_) | ApiError::TooManyRequests(_) => {
            json!({"retryAfterSeconds": 1})
        }
        _ => return None,
    })
}

/// `pods` or `pods/binding` → the resource and its group ("" for core);
/// a resource named with its group (`widgets.example.com`,
/// `nodemetrics.metrics.k8s.io`) → the plural and that group, as
/// Kubernetes' details carry them.
fn split_resource(plural: &str) -> (&str, &str) {
    let resource = plural.split('/').next().unwrap_or(plural);
    if let Some(info) = api::kind_by_plural(resource) {
        return (resource, info.group);
    }
    resource.split_once('.').unwrap_or((resource, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_objects_name_each_field() {
        let mut errors = api::FieldErrors::default();
        errors.push(api::FieldError::invalid(
            api::FieldPath::root("metadata").child("name"),
            "Bad_Name",
            "a lowercase RFC 1123 subdomain",
        ));
        let error = ApiError::Invalid {
            kind: "Pod",
            name: "Bad_Name".into(),
            errors,
        };
        let (code, body) = status_of(&error);
        assert_eq!(code, 422);
        assert_eq!(body["reason"], "Invalid");
        assert_eq!(body["message"], error.to_string());
        assert_eq!(body["details"]["kind"], "Pod");
        let cause = &body["details"]["causes"][0];
        assert_eq!(cause["field"], "metadata.name");
        assert_eq!(cause["reason"], "FieldValueInvalid");
        assert_eq!(
            cause["message"],
            "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
        );
    }

    #[test]
    fn codes_and_details() {
        let (code, body) = status_of(&ApiError::not_found("deployments", "web"));
        assert_eq!(code, 404);
        assert_eq!(body["message"], "deployments \"web\" not found");
        assert_eq!(body["details"]["group"], "apps");
        assert_eq!(body["details"]["kind"], "deployments");
        let (_, body) = status_of(&ApiError::not_found("nodemetrics.metrics.k8s.io", "n"));
        assert_eq!(
            body["message"],
            "nodemetrics.metrics.k8s.io \"n\" not found"
        );
        assert_eq!(body["details"]["group"], "metrics.k8s.io");
        assert_eq!(body["details"]["kind"], "nodemetrics");
        let (code, body) = status_of(&ApiError::modified("pods", "p"));
        assert_eq!((code, body["reason"].as_str()), (409, Some("Conflict")));
        let (code, _) = status_of(&ApiError::TooOld("old".into()));
        assert_eq!(code, 410);
        let (code, _) = status_of(&ApiError::TooLarge { size: 5, limit: 4 });
        assert_eq!(code, 413);
    }
}
