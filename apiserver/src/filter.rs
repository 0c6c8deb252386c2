//! Which objects a list or watch returns: namespace, label selector and
//! field selector, evaluated on an [`ObjectView`] of any kind.
//!
//! Parsing is `api::selector`'s (Kubernetes' string syntax); this module
//! decides which fields each resource supports: `metadata.name` and
//! `metadata.namespace` everywhere, for pods `spec.nodeName`,
//! `spec.schedulerName` and `status.phase`, and for events
//! `involvedObject.name`, `involvedObject.kind` and `reason`.

use api::selector::{FieldOperator, FieldSelector, Selector};

use crate::error::ApiError;
use crate::view::ObjectView;

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
    field: Field,
    value: String,
    equal: bool,
}

/// A selectable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Namespace,
    NodeName,
    Phase,
    SchedulerName,
    InvolvedName,
    InvolvedKind,
    Reason,
}

impl Field {
    fn read(self, view: &ObjectView) -> &str {
        match self {
            Field::Name => &view.name,
            Field::Namespace => &view.namespace,
            Field::NodeName => &view.node_name,
            Field::Phase => &view.phase,
            Field::SchedulerName => &view.scheduler_name,
            Field::InvolvedName => &view.involved_name,
            Field::InvolvedKind => &view.involved_kind,
            Field::Reason => &view.reason,
        }
    }
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
                    field: selectable_field(plural, &requirement.field)?,
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

    pub(crate) fn matches(&self, view: &ObjectView) -> bool {
        if !self.namespace.is_empty() && view.namespace != self.namespace {
            return false;
        }
        let label = |key: &str| view.labels.get(key).map(String::as_str);
        self.labels
            .requirements()
            .iter()
            .all(|requirement| requirement.matches_value(label(requirement.key())))
            && self.fields.iter().all(|requirement| {
                (requirement.field.read(view) == requirement.value) == requirement.equal
            })
    }
}

/// The selectable field a field selector names, or an error for an
/// unsupported one.
fn selectable_field(plural: &str, field: &str) -> Result<Field, ApiError> {
    Ok(match (plural, field) {
        (_, "metadata.name") => Field::Name,
        (_, "metadata.namespace") => Field::Namespace,
        ("pods", "spec.nodeName") => Field::NodeName,
        ("pods", "status.phase") => Field::Phase,
        ("pods", "spec.schedulerName") => Field::SchedulerName,
        ("events", "involvedObject.name") => Field::InvolvedName,
        ("events", "involvedObject.kind") => Field::InvolvedKind,
        ("events", "reason") => Field::Reason,
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
    use serde_json::{Value, json};

    fn check(labels: &str, fields: &str, object: Value, expected: bool) {
        let filter = Filter::parse("pods", "", labels, fields).unwrap();
        let view = ObjectView::from_value(&object);
        assert_eq!(filter.matches(&view), expected, "{labels:?} {fields:?}");
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
