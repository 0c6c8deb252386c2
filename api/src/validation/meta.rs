//! Names, labels, annotations and `metadata` as a whole, with the exact
//! messages of `k8s.io/apimachinery/pkg/util/validation`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::{FieldError, FieldErrors, FieldPath};

/// How a kind's `metadata.name` is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (Namespace).
    Dns1123Label,
    /// RFC 1035 label (Service).
    Dns1035Label,
    /// Anything usable as one URL path segment (RBAC kinds, HPA).
    PathSegment,
}

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const LABEL_VALUE_MAX: usize = 63;
const QUALIFIED_NAME_MAX: usize = 63;
/// Kubernetes caps the total size of all annotations of one object.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_PART_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn max_len_msg(max: usize) -> String {
    format!("must be no more than {max} characters")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first)
                && is_lower_alnum(last)
                && bytes.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

fn is_dns1123_subdomain(value: &str) -> bool {
    value.split('.').all(is_dns1123_label)
}

/// Problems with `value` as an RFC 1123 label; empty if valid.
pub fn validate_dns1123_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        problems.push(max_len_msg(DNS1123_LABEL_MAX));
    }
    if !is_dns1123_label(value) {
        problems.push(DNS1123_LABEL_MSG.to_string());
    }
    problems
}

/// Problems with `value` as an RFC 1123 subdomain; empty if valid.
pub fn validate_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        problems.push(max_len_msg(DNS1123_SUBDOMAIN_MAX));
    }
    if !is_dns1123_subdomain(value) {
        problems.push(DNS1123_SUBDOMAIN_MSG.to_string());
    }
    problems
}

/// Problems with `value` as an RFC 1035 label; empty if valid.
pub fn validate_dns1035_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        problems.push(max_len_msg(DNS1123_LABEL_MAX));
    }
    let starts_alpha = value.as_bytes().first().is_some_and(u8::is_ascii_lowercase);
    if !(starts_alpha && is_dns1123_label(value)) {
        problems.push(DNS1035_LABEL_MSG.to_string());
    }
    problems
}

fn validate_path_segment_name(value: &str) -> Vec<String> {
    if value == "." || value == ".." {
        return vec![format!("may not be '{value}'")];
    }
    let mut problems = Vec::new();
    for forbidden in ["/", "%"] {
        if value.contains(forbidden) {
            problems.push(format!("may not contain '{forbidden}'"));
        }
    }
    problems
}

fn is_qualified_name_part(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Problems with `value` as a qualified name (`prefix/name` or `name`), the
/// form of label and annotation keys; empty if valid.
pub fn validate_qualified_name(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                problems.push("prefix part must be non-empty".to_string());
            } else {
                for problem in validate_dns1123_subdomain(prefix) {
                    problems.push(format!("prefix part {problem}"));
                }
            }
            *name
        }
        _ => {
            problems.push(format!(
                "a qualified name {QUALIFIED_NAME_PART_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
            return problems;
        }
    };
    if name.is_empty() {
        problems.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX {
        problems.push(format!("name part {}", max_len_msg(QUALIFIED_NAME_MAX)));
    }
    if !name.is_empty() && !is_qualified_name_part(name) {
        problems.push(format!("name part {QUALIFIED_NAME_PART_MSG}"));
    }
    problems
}

/// Problems with `value` as a label value; empty if valid.
pub fn validate_label_value(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        problems.push(max_len_msg(LABEL_VALUE_MAX));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        problems.push(LABEL_VALUE_MSG.to_string());
    }
    problems
}

fn push_all(errors: &mut FieldErrors, path: &FieldPath, value: &str, problems: Vec<String>) {
    for problem in problems {
        errors.push(FieldError::invalid(path.clone(), value, problem));
    }
}

/// Checks label keys and values; errors are reported at `path` (`metadata.labels`).
pub fn validate_labels(
    labels: &BTreeMap<String, String>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    for (key, value) in labels {
        push_all(errors, path, key, validate_qualified_name(key));
        push_all(errors, path, value, validate_label_value(value));
    }
}

fn validate_annotations(
    annotations: &BTreeMap<String, String>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let mut total = 0usize;
    for (key, value) in annotations {
        push_all(
            errors,
            path,
            key,
            validate_qualified_name(&key.to_lowercase()),
        );
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errors.push(FieldError {
            kind: crate::field::FieldErrorType::TooLong,
            path: path.clone(),
            value: None,
            detail: format!("must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
        });
    }
}

fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => validate_dns1123_subdomain(name),
        NameRule::Dns1123Label => validate_dns1123_label(name),
        NameRule::Dns1035Label => validate_dns1035_label(name),
        NameRule::PathSegment => validate_path_segment_name(name),
    }
}

/// The part of a `generateName` prefix that is checked: Kubernetes masks one
/// trailing dash, since a random suffix follows it.
fn mask_trailing_dash(prefix: &str) -> String {
    match prefix.strip_suffix('-') {
        Some(stripped) if !stripped.is_empty() => format!("{stripped}a"),
        _ => prefix.to_string(),
    }
}

/// Validates `metadata` of a new or updated object.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    rule: NameRule,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let name = meta.name.as_deref().unwrap_or("");
    let generate_name = meta.generate_name.as_deref().unwrap_or("");
    if !generate_name.is_empty() {
        let problems = name_problems(rule, &mask_trailing_dash(generate_name));
        push_all(errors, &path.child("generateName"), generate_name, problems);
    }
    if name.is_empty() {
        if generate_name.is_empty() {
            errors.push(FieldError::required(
                path.child("name"),
                "name or generateName is required",
            ));
        }
    } else {
        push_all(errors, &path.child("name"), name, name_problems(rule, name));
    }
    let namespace = meta.namespace.as_deref().unwrap_or("");
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required(path.child("namespace"), ""));
        } else {
            push_all(
                errors,
                &path.child("namespace"),
                namespace,
                validate_dns1123_label(namespace),
            );
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(labels) = &meta.labels {
        validate_labels(labels, &path.child("labels"), errors);
    }
    if let Some(annotations) = &meta.annotations {
        validate_annotations(annotations, &path.child("annotations"), errors);
    }
}

/// Checks the metadata fields an update may not change.
pub fn validate_object_meta_update(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    immutable(
        new.name.as_deref(),
        old.name.as_deref(),
        &path.child("name"),
        errors,
    );
    immutable(
        new.namespace.as_deref(),
        old.namespace.as_deref(),
        &path.child("namespace"),
        errors,
    );
    immutable(
        new.uid.as_deref(),
        old.uid.as_deref(),
        &path.child("uid"),
        errors,
    );
    let new_created = new.creation_timestamp.as_ref().map(|t| t.0.to_string());
    let old_created = old.creation_timestamp.as_ref().map(|t| t.0.to_string());
    immutable(
        new_created.as_deref(),
        old_created.as_deref(),
        &path.child("creationTimestamp"),
        errors,
    );
}

/// Reports `field is immutable` when a string field changed. An unset new
/// value counts as "keep the old one" only where the caller fills it in, so
/// here any difference is an error.
pub(crate) fn immutable(
    new: Option<&str>,
    old: Option<&str>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if new != old {
        errors.push(FieldError::invalid(
            path.clone(),
            new.unwrap_or(""),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, namespace: &str) -> ObjectMeta {
        ObjectMeta {
            name: (!name.is_empty()).then(|| name.to_string()),
            namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
            ..ObjectMeta::default()
        }
    }

    fn check(meta: &ObjectMeta, namespaced: bool, rule: NameRule, expected: &[&str]) {
        let mut errors = FieldErrors::default();
        validate_object_meta(
            meta,
            namespaced,
            rule,
            &FieldPath::root("metadata"),
            &mut errors,
        );
        let actual: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn valid_names_pass() {
        check(
            &meta("web-1.example", "default"),
            true,
            NameRule::Subdomain,
            &[],
        );
        check(&meta("kube-system", ""), false, NameRule::Dns1123Label, &[]);
        check(
            &meta("system:controller", ""),
            false,
            NameRule::PathSegment,
            &[],
        );
    }

    #[test]
    fn missing_name_and_namespace() {
        check(
            &meta("", ""),
            true,
            NameRule::Subdomain,
            &[
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value",
            ],
        );
        let generated = ObjectMeta {
            generate_name: Some("web-".into()),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        };
        check(&generated, true, NameRule::Subdomain, &[]);
    }

    #[test]
    fn invalid_names_use_kubernetes_messages() {
        check(
            &meta("Web", "default"),
            true,
            NameRule::Subdomain,
            &[&format!(
                "metadata.name: Invalid value: \"Web\": {DNS1123_SUBDOMAIN_MSG}"
            )],
        );
        check(
            &meta("1web", "default"),
            true,
            NameRule::Dns1035Label,
            &[&format!(
                "metadata.name: Invalid value: \"1web\": {DNS1035_LABEL_MSG}"
            )],
        );
        check(
            &meta("a", "default"),
            false,
            NameRule::Subdomain,
            &["metadata.namespace: Forbidden: not allowed on this type"],
        );
    }

    #[test]
    fn labels_are_checked() {
        let mut object = meta("a", "");
        object.labels = Some(BTreeMap::from([
            ("app".to_string(), "web".to_string()),
            ("example.com/tier".to_string(), "front_end".to_string()),
            ("bad key".to_string(), "x".to_string()),
            ("ok".to_string(), "-bad".to_string()),
        ]));
        check(
            &object,
            false,
            NameRule::Subdomain,
            &[
                &format!(
                    "metadata.labels: Invalid value: \"bad key\": name part {QUALIFIED_NAME_PART_MSG}"
                ),
                &format!("metadata.labels: Invalid value: \"-bad\": {LABEL_VALUE_MSG}"),
            ],
        );
    }

    #[test]
    fn immutable_name_on_update() {
        let mut errors = FieldErrors::default();
        validate_object_meta_update(
            &meta("b", "ns"),
            &meta("a", "ns"),
            &FieldPath::root("metadata"),
            &mut errors,
        );
        assert_eq!(
            errors.to_string(),
            "metadata.name: Invalid value: \"b\": field is immutable"
        );
    }
}
