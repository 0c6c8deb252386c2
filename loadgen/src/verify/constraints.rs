//! The rules a bind must satisfy, written from the Kubernetes documentation
//! (not from Skiff's scheduler): taints and tolerations, node selectors and
//! required node affinity, and matching pods against pod affinity terms.

use api::k8s_openapi::api::core::v1::{PodAffinityTerm, Taint};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use api::selector::{NodeSelectorMatcher, Operator, Requirement, Selector};
use api::taints::{self, tolerated};

use super::{NodeFacts, PodFacts};

/// Whether the pod tolerates every NoSchedule and NoExecute taint of the
/// node (PreferNoSchedule only affects scores).
pub(super) fn tolerates_hard_taints(pod: &PodFacts, node: &NodeFacts) -> bool {
    node.taints
        .iter()
        .filter(|taint| taint.effect == "NoSchedule" || taint.effect == "NoExecute")
        .all(|taint| tolerated(&pod.tolerations, taint))
}

/// Whether the node passes the pod's nodeSelector and required node
/// affinity; `Err` when the affinity cannot be compiled.
pub(super) fn matches_node_affinity(pod: &PodFacts, node: &NodeFacts) -> Result<bool, String> {
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|(key, value)| node.labels.get(key) == Some(value));
    if !selector_ok {
        return Ok(false);
    }
    let required = pod
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.node_affinity.as_ref())
        .and_then(|node_affinity| {
            node_affinity
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        None => Ok(true),
        Some(required) => NodeSelectorMatcher::new(required)
            .map(|matcher| matcher.matches(&node.labels, &node.name))
            .map_err(|error| format!("pod {}: required node affinity: {error}", pod.key())),
    }
}

/// Every node-local reason the pod may not be bound to the node: taints,
/// `spec.unschedulable`, nodeSelector and required node affinity.
pub(super) fn node_failures(pod: &PodFacts, node: &NodeFacts) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    if node.unschedulable {
        let taint = Taint {
            key: taints::UNSCHEDULABLE.to_string(),
            effect: "NoSchedule".to_string(),
            ..Taint::default()
        };
        if !tolerated(&pod.tolerations, &taint) {
            failures.push("node is unschedulable".to_string());
        }
    }
    for taint in &node.taints {
        let hard = taint.effect == "NoSchedule" || taint.effect == "NoExecute";
        if hard && !tolerated(&pod.tolerations, taint) {
            failures.push(format!(
                "untolerated taint {}={}:{}",
                taint.key,
                taint.value.as_deref().unwrap_or(""),
                taint.effect
            ));
        }
    }
    if !matches_node_affinity(pod, node)? {
        failures.push("nodeSelector / required node affinity not matched".to_string());
    }
    Ok(failures)
}

/// A pod affinity term compiled against the pod that owns it.
#[derive(Debug)]
pub(super) struct CompiledTerm {
    pub(super) topology_key: String,
    selector: Selector,
    /// `None` = every namespace.
    namespaces: Option<Vec<String>>,
}

impl CompiledTerm {
    /// Compiles `term` of `owner`; `Err` for what the checker cannot
    /// evaluate (a non-empty namespaceSelector: namespace labels are not
    /// recorded) or a malformed selector.
    pub(super) fn new(term: &PodAffinityTerm, owner: &PodFacts) -> Result<CompiledTerm, String> {
        let mut selector = Selector::from_optional(term.label_selector.as_ref())
            .map_err(|error| format!("pod {}: affinity term selector: {error}", owner.key()))?;
        let mut extra = Vec::new();
        for (keys, operator) in [
            (term.match_label_keys.as_ref(), Operator::In),
            (term.mismatch_label_keys.as_ref(), Operator::NotIn),
        ] {
            for key in keys.into_iter().flatten() {
                if let Some(value) = owner.labels.get(key) {
                    let requirement = Requirement::new(key, operator, std::slice::from_ref(value))
                        .map_err(|error| format!("pod {}: matchLabelKeys: {error}", owner.key()))?;
                    extra.push(requirement);
                }
            }
        }
        if !extra.is_empty() && term.label_selector.is_some() {
            selector = and_requirements(term.label_selector.as_ref(), extra)
                .map_err(|error| format!("pod {}: matchLabelKeys: {error}", owner.key()))?;
        }
        let listed = term.namespaces.clone().unwrap_or_default();
        let namespaces = match term.namespace_selector.as_ref() {
            Some(selector) if is_empty_selector(selector) => None,
            Some(_) => {
                return Err(format!(
                    "pod {}: affinity term with a namespaceSelector",
                    owner.key()
                ));
            }
            None if listed.is_empty() => Some(vec![owner.namespace.clone()]),
            None => Some(listed),
        };
        Ok(CompiledTerm {
            topology_key: term.topology_key.clone(),
            selector,
            namespaces,
        })
    }

    /// Whether `candidate` is a pod this term selects.
    pub(super) fn matches(&self, candidate: &PodFacts) -> bool {
        let namespace_ok = self
            .namespaces
            .as_ref()
            .is_none_or(|namespaces| namespaces.contains(&candidate.namespace));
        namespace_ok && self.selector.matches(&candidate.labels)
    }
}

fn is_empty_selector(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

/// The selector plus extra requirements, ANDed.
fn and_requirements(
    selector: Option<&LabelSelector>,
    extra: Vec<Requirement>,
) -> Result<Selector, api::selector::SelectorError> {
    let base = Selector::from_optional(selector)?;
    let text = base
        .requirements()
        .iter()
        .chain(extra.iter())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Selector::parse(&text)
}

/// The required pod affinity terms of a pod.
pub(super) fn required_affinity(pod: &PodFacts) -> &[PodAffinityTerm] {
    pod.affinity
        .as_ref()
        .and_then(|affinity| affinity.pod_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or(&[])
}

/// The required pod anti-affinity terms of a pod.
pub(super) fn required_anti_affinity(pod: &PodFacts) -> &[PodAffinityTerm] {
    pod.affinity
        .as_ref()
        .and_then(|affinity| affinity.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or(&[])
}
