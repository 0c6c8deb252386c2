//! Which objects a list or watch returns: namespace, label selector and
//! field selector, evaluated on the JSON form of any kind.
//!
//! Parsing is `api::selector`'s (Kubernetes' string syntax); this module
//! decides which fields each resource supports and reads them from JSON:
//! `metadata.name` and `metadata.namespace` everywhere, and for pods
//! `spec.nodeName`, `spec.schedulerName` and `status.phase`.

use api::selector::{FieldOperator, FieldSelector, Selector};
use serde_json::Value;

use crate::error::ApiError;
use crate::object;

/// A parsed list/watch filter.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    /// Only this namespace; "" = all.
    namespace: String,
    labels: Selector,
    fields: Vec<FieldRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldRequirement {
    /// JSON pointer of the field, e.g. `/spec/nodeName`.
    pointer: &'static str,
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
        let labels = Selector::parse(labels)
            .map_err(|error| ApiError::BadRequest(format!("invalid label selector: {error}")))?;
        let parsed = FieldSelector::parse(fields)
            .map_err(|error| ApiError::BadRequest(format!("invalid field selector: {error}")))?;
        let fields = parsed
            .requirements
            .into_iter()
            .map(|requirement| {
                Ok(FieldRequirement {
                    pointer: field_pointer(plural, &requirement.field)?,
                    value: requirement.value,
                    equal: requirement.operator == FieldOperator::Equals,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Filter {
            namespace: namespace.to_string(),
            labels,
            fields,
        })
    }

    pub(crate) fn matches(&self, value: &Value) -> bool {
        if !self.namespace.is_empty() && object::namespace(value) != self.namespace {
            return false;
        }
        let labels = value.get("metadata").and_then(|meta| meta.get("labels"));
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.labels
            .requirements()
            .iter()
            .all(|requirement| requirement.matches_value(label(requirement.key())))
            && self.fields.iter().all(|requirement| {
                (object::field_string(value, requirement.pointer) == requirement.value)
                    == requirement.equal
            })
    }
}

/// Fields a filter may read: everything else of an object can be dropped
/// before it is kept for filtering (the watch cache's window).
const FILTER_FIELDS: [&str; 8] = [
    "/metadata/name",
    "/metadata/namespace",
    "/spec/nodeName",
    "/status/phase",
    "/spec/schedulerName",
    "/involvedObject/name",
    "/involvedObject/kind",
    "/reason",
];

/// The part of `value` that [`Filter::matches`] reads: the labels and the
/// selectable fields.
pub(crate) fn filter_view(value: &Value) -> Value {
    let mut view = Value::Null;
    for pointer in FILTER_FIELDS {
        if let Some(field) = value.pointer(pointer) {
            let mut slot = &mut view;
            for part in pointer.split('/').skip(1) {
                slot = object::as_map(slot).entry(part).or_insert(Value::Null);
            }
            *slot = field.clone();
        }
    }
    if let Some(labels) = value.pointer("/metadata/labels") {
        object::meta_mut(&mut view).insert("labels".to_string(), labels.clone());
    }
    view
}

/// The JSON pointer of a selectable field, or an error for an unsupported one.
fn field_pointer(plural: &str, field: &str) -> Result<&'static str, ApiError> {
    Ok(match (plural, field) {
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
    })
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
    fn filter_view_keeps_what_filters_read() {
        let pod = json!({"metadata": {"name": "p", "namespace": "a", "labels": {"app": "web"},
                                      "annotations": {"big": "x"}},
                         "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"}});
        let view = filter_view(&pod);
        assert_eq!(
            view,
            json!({"metadata": {"name": "p", "namespace": "a", "labels": {"app": "web"}},
                                "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
        );
        check(
            "app=web",
            "spec.nodeName=n1,status.phase=Running",
            view,
            true,
        );
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
