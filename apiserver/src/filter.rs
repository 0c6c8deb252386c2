//! Which objects a list or watch returns: namespace, label selector and
//! field selector, evaluated on the JSON form of any kind.
//!
//! Label selectors follow Kubernetes' string syntax (`a=b`, `a==b`, `a!=b`,
//! `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND). Field selectors
//! support `metadata.name`, `metadata.namespace`, and for pods
//! `spec.nodeName` and `status.phase`, with `=`, `==` and `!=`.

use serde_json::Value;

use crate::error::ApiError;
use crate::object;

/// A parsed list/watch filter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// Only this namespace; "" = all.
    pub(crate) namespace: String,
    labels: Vec<LabelRequirement>,
    fields: Vec<FieldRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelRequirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldRequirement {
    /// JSON pointer of the field, e.g. `/spec/nodeName`.
    pointer: String,
    value: String,
    equal: bool,
}

impl Filter {
    pub(crate) fn parse(
        plural: &str,
        namespace: &str,
        labels: &str,
        fields: &str,
    ) -> Result<Filter, ApiError> {
        Ok(Filter {
            namespace: namespace.to_string(),
            labels: parse_labels(labels)?,
            fields: parse_fields(plural, fields)?,
        })
    }

    pub(crate) fn matches(&self, value: &Value) -> bool {
        if !self.namespace.is_empty() && object::namespace(value) != self.namespace {
            return false;
        }
        let labels = value.get("metadata").and_then(|meta| meta.get("labels"));
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        let labels_match = self.labels.iter().all(|requirement| match requirement {
            LabelRequirement::In(key, values) => {
                label(key).is_some_and(|v| values.iter().any(|w| w == v))
            }
            LabelRequirement::NotIn(key, values) => {
                label(key).is_none_or(|v| values.iter().all(|w| w != v))
            }
            LabelRequirement::Exists(key) => label(key).is_some(),
            LabelRequirement::DoesNotExist(key) => label(key).is_none(),
        });
        labels_match
            && self.fields.iter().all(|requirement| {
                (object::field_string(value, &requirement.pointer) == requirement.value)
                    == requirement.equal
            })
    }
}

fn bad_labels(selector: &str, detail: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "unable to parse requirement: invalid label selector {selector:?}: {detail}"
    ))
}

/// Splits on commas that are not inside parentheses.
fn split_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, ch) in selector.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&selector[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn valid_label_part(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_label_value(text: &str) -> bool {
    text.is_empty() || valid_label_part(text) && !text.contains('/')
}

fn parse_labels(selector: &str) -> Result<Vec<LabelRequirement>, ApiError> {
    let mut requirements = Vec::new();
    if selector.trim().is_empty() {
        return Ok(requirements);
    }
    for term in split_terms(selector) {
        let term = term.trim();
        if term.is_empty() {
            return Err(bad_labels(selector, "empty requirement"));
        }
        requirements.push(parse_label_term(selector, term)?);
    }
    Ok(requirements)
}

fn parse_label_term(selector: &str, term: &str) -> Result<LabelRequirement, ApiError> {
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        return if valid_label_part(key) {
            Ok(LabelRequirement::DoesNotExist(key.to_string()))
        } else {
            Err(bad_labels(selector, "invalid key"))
        };
    }
    for (operator, equal) in [("!=", false), ("==", true), ("=", true)] {
        if let Some((key, value)) = term.split_once(operator) {
            let (key, value) = (key.trim(), value.trim());
            if !valid_label_part(key) || !valid_label_value(value) {
                return Err(bad_labels(selector, "invalid key or value"));
            }
            let values = vec![value.to_string()];
            return Ok(if equal {
                LabelRequirement::In(key.to_string(), values)
            } else {
                LabelRequirement::NotIn(key.to_string(), values)
            });
        }
    }
    if let Some(open) = term.find('(') {
        let head: Vec<&str> = term[..open].split_whitespace().collect();
        let Some(list) = term[open + 1..].strip_suffix(')') else {
            return Err(bad_labels(selector, "missing ')'"));
        };
        let values: Vec<String> = list.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(|v| !valid_label_value(v)) {
            return Err(bad_labels(selector, "invalid value"));
        }
        return match head.as_slice() {
            [key, "in"] if valid_label_part(key) => {
                Ok(LabelRequirement::In(key.to_string(), values))
            }
            [key, "notin"] if valid_label_part(key) => {
                Ok(LabelRequirement::NotIn(key.to_string(), values))
            }
            _ => Err(bad_labels(
                selector,
                "expected 'key in (...)' or 'key notin (...)'",
            )),
        };
    }
    if valid_label_part(term) {
        return Ok(LabelRequirement::Exists(term.to_string()));
    }
    Err(bad_labels(selector, "invalid requirement"))
}

fn parse_fields(plural: &str, selector: &str) -> Result<Vec<FieldRequirement>, ApiError> {
    let mut requirements = Vec::new();
    if selector.trim().is_empty() {
        return Ok(requirements);
    }
    for term in selector.split(',') {
        let term = term.trim();
        let parsed =
            [("!=", false), ("==", true), ("=", true)]
                .iter()
                .find_map(|(operator, equal)| {
                    term.split_once(operator)
                        .map(|(k, v)| (k.trim(), v.trim(), *equal))
                });
        let Some((field, value, equal)) = parsed else {
            return Err(ApiError::BadRequest(format!(
                "invalid field selector {selector:?}: {term:?} is not field=value"
            )));
        };
        let pointer = match (plural, field) {
            (_, "metadata.name") => "/metadata/name",
            (_, "metadata.namespace") => "/metadata/namespace",
            ("pods", "spec.nodeName") => "/spec/nodeName",
            ("pods", "status.phase") => "/status/phase",
            ("pods", "spec.schedulerName") => "/spec/schedulerName",
            ("events", "involvedObject.name") => "/involvedObject/name",
            ("events", "involvedObject.kind") => "/involvedObject/kind",
            ("events", "reason") => "/reason",
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {field:?} for resource {plural:?}"
                )));
            }
        };
        requirements.push(FieldRequirement {
            pointer: pointer.to_string(),
            value: value.to_string(),
            equal,
        });
    }
    Ok(requirements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(labels: &str, fields: &str, object: Value, expected: bool) {
        let filter = Filter::parse("pods", "", labels, fields).unwrap();
        assert_eq!(filter.matches(&object), expected, "{labels:?} {fields:?}");
    }

    #[test]
    fn label_and_field_selectors() {
        let pod = json!({"metadata": {"name": "p", "namespace": "a", "labels": {"app": "web", "tier": "x"}},
                         "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        check("app=web", "", pod.clone(), true);
        check("app==web,tier in (x, y)", "", pod.clone(), true);
        check("app!=web", "", pod.clone(), false);
        check("tier notin (x)", "", pod.clone(), false);
        check("app,!missing", "", pod.clone(), true);
        check("missing", "", pod.clone(), false);
        check(
            "",
            "spec.nodeName=n1,status.phase!=Pending",
            pod.clone(),
            true,
        );
        check("", "spec.nodeName=", pod.clone(), false);
        check("", "metadata.namespace=b", pod, false);
    }

    #[test]
    fn malformed_selectors_are_rejected() {
        assert!(Filter::parse("pods", "", "app in (x", "").is_err());
        assert!(Filter::parse("pods", "", "a b c", "").is_err());
        assert!(Filter::parse("pods", "", ",", "").is_err());
        assert!(Filter::parse("pods", "", "", "spec.foo=x").is_err());
        assert!(Filter::parse("nodes", "", "", "spec.nodeName=x").is_err());
        assert!(Filter::parse("pods", "", "", "nonsense").is_err());
    }
}
