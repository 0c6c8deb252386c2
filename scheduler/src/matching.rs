//! Label selector and pod affinity term matching against a pod's labels, as
//! the fast path uses it on pod classes (one match per class, not per pod).

use std::collections::BTreeMap;

use crate::model::{LabelRequirement, LabelSelector, PodAffinityTerm, SelectorOperator};

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// Whether a label selector selects a label set.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    !selector.matches_nothing
        && selector
            .requirements
            .iter()
            .all(|requirement| requirement_matches(requirement, labels.get(&requirement.key)))
}

/// Whether one requirement holds for a label value (`None` = label absent).
pub fn requirement_matches(requirement: &LabelRequirement, value: Option<&String>) -> bool {
    match requirement.operator {
        SelectorOperator::In => value.is_some_and(|value| requirement.values.contains(value)),
        SelectorOperator::NotIn => value.is_none_or(|value| !requirement.values.contains(value)),
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
        SelectorOperator::Gt | SelectorOperator::Lt => {
            let (Some(value), [bound]) = (value, requirement.values.as_slice()) else {
                return false;
            };
            match (value.parse::<i64>(), bound.parse::<i64>()) {
                (Ok(value), Ok(bound)) => {
                    if requirement.operator == SelectorOperator::Gt {
                        value > bound
                    } else {
                        value < bound
                    }
                }
                _ => false,
            }
        }
    }
}

/// Whether a pod (by namespace and labels) matches an affinity term; the
/// namespace's labels are used for `namespaceSelector` (absent = none).
pub fn term_matches_pod(
    term: &PodAffinityTerm,
    pod_namespace: &str,
    pod_labels: &BTreeMap<String, String>,
    namespace_labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let namespace_matches = term.namespaces.contains(pod_namespace)
        || term.namespace_selector.as_ref().is_some_and(|selector| {
            selector_matches(selector, namespace_labels.unwrap_or(&NO_LABELS))
        });
    namespace_matches && selector_matches(&term.selector, pod_labels)
}
