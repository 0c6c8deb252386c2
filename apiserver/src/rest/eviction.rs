//! POST `pods/<name>/eviction` (`kubectl drain`): deletes the pod unless
//! that would break a PodDisruptionBudget selecting it, which answers 429
//! as Kubernetes does, so the client retries later.
//!
//! A budget's allowed disruptions come from its status when the status is
//! current (`observedGeneration` = `generation`, written by a disruption
//! controller); otherwise they are computed here from the pods it selects,
//! as that controller computes them: healthy (Ready, not deleting) pods
//! minus those `minAvailable` needs, or `maxUnavailable` minus the pods
//! already unhealthy.

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use api::selector::Selector;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::kinds::KindOps;
use crate::request::{Attributes, Verb};
use crate::rest::RestState;
use crate::verbs::{DeleteOptions, ListOptions};

/// The body of an Eviction: only its delete options matter.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EvictionBody {
    delete_options: Option<EvictionDeleteOptions>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EvictionDeleteOptions {
    grace_period_seconds: Option<i64>,
    preconditions: Option<Preconditions>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Preconditions {
    uid: Option<String>,
    resource_version: Option<String>,
}

/// Evicts the pod `attributes` name (already authorized as a create of
/// `pods/eviction`).
pub(crate) async fn evict(
    rest: &RestState,
    pods: &dyn KindOps,
    attributes: &Attributes,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    let eviction: EvictionBody = if body.is_empty() {
        EvictionBody::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|error| ApiError::BadRequest(format!("cannot decode Eviction: {error}")))?
    };
    let namespace = attributes.namespace.as_str();
    let stored = rest.state.get("pods", namespace, &attributes.name).await?;
    let pod: Pod = serde_json::from_slice(&stored).map_err(ApiError::internal)?;
    let finished = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .is_some_and(|phase| phase == "Succeeded" || phase == "Failed");
    if !finished && pod.metadata.deletion_timestamp.is_none() {
        for budget in budgets_selecting(rest, namespace, &pod).await? {
            let (expected, healthy) = count_pods(rest, namespace, &budget).await?;
            let required = required_healthy(&budget, expected);
            if disruptions_allowed(&budget, healthy - required) <= 0 {
                return Err(ApiError::TooManyRequests(format!(
                    "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget {} needs {required} healthy pods and has {healthy} currently",
                    budget.metadata.name.as_deref().unwrap_or(""),
                )));
            }
        }
    }
    let delete_options = eviction.delete_options.unwrap_or_default();
    let preconditions = delete_options.preconditions.unwrap_or_default();
    let options = DeleteOptions {
        grace_period_seconds: delete_options.grace_period_seconds,
        precondition_uid: preconditions.uid.unwrap_or_default(),
        precondition_resource_version: preconditions.resource_version.unwrap_or_default(),
        ..Default::default()
    };
    let mut delete = attributes.clone();
    delete.verb = Verb::Delete.as_str().to_string();
    delete.subresource.clear();
    pods.delete(&rest.state, &delete, &options).await?;
    Ok(crate::rest::status::success(json!({})))
}

async fn budgets_selecting(
    rest: &RestState,
    namespace: &str,
    pod: &Pod,
) -> Result<Vec<PodDisruptionBudget>, ApiError> {
    let options = ListOptions {
        namespace: namespace.to_string(),
        ..Default::default()
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let mut selecting = Vec::new();
    for item in rest
        .state
        .list("poddisruptionbudgets", &options)
        .await?
        .items
    {
        let budget: PodDisruptionBudget =
            serde_json::from_slice(&item.wire).map_err(ApiError::internal)?;
        if selector_of(&budget).is_some_and(|selector| selector.matches(&labels)) {
            selecting.push(budget);
        }
    }
    Ok(selecting)
}

/// A budget's selector; an empty one selects every pod of its namespace
/// (policy/v1), an unparsable one nothing.
fn selector_of(budget: &PodDisruptionBudget) -> Option<Selector> {
    let selector = budget.spec.as_ref()?.selector.as_ref();
    Selector::from_optional(selector).ok()
}

/// (expected, healthy) pods of a budget.
async fn count_pods(
    rest: &RestState,
    namespace: &str,
    budget: &PodDisruptionBudget,
) -> Result<(i32, i32), ApiError> {
    let Some(selector) = selector_of(budget) else {
        return Ok((0, 0));
    };
    let options = ListOptions {
        namespace: namespace.to_string(),
        ..Default::default()
    };
    let (mut expected, mut healthy) = (0, 0);
    for item in rest.state.list("pods", &options).await?.items {
        let pod: Pod = serde_json::from_slice(&item.wire).map_err(ApiError::internal)?;
        let labels: BTreeMap<String, String> = pod.metadata.labels.clone().unwrap_or_default();
        if !selector.matches(&labels) {
            continue;
        }
        expected += 1;
        let ready = pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|condition| condition.type_ == "Ready" && condition.status == "True")
            });
        if ready && pod.metadata.deletion_timestamp.is_none() {
            healthy += 1;
        }
    }
    Ok((expected, healthy))
}

/// Healthy pods the budget needs when `expected` pods are selected.
fn required_healthy(budget: &PodDisruptionBudget, expected: i32) -> i32 {
    let Some(spec) = budget.spec.as_ref() else {
        return 0;
    };
    match (&spec.min_available, &spec.max_unavailable) {
        (Some(min_available), _) => scaled(min_available, expected, true),
        (None, Some(max_unavailable)) => expected - scaled(max_unavailable, expected, false),
        (None, None) => 0,
    }
}

/// An int-or-percent against `total`: percentages round up for
/// minAvailable and down for maxUnavailable, as Kubernetes rounds them.
fn scaled(value: &IntOrString, total: i32, round_up: bool) -> i32 {
    match value {
        IntOrString::Int(count) => *count,
        IntOrString::String(text) => {
            let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
            let product = i64::from(total) * percent;
            let result = if round_up {
                (product + 99) / 100
            } else {
                product / 100
            };
            i32::try_from(result).unwrap_or(i32::MAX)
        }
    }
}

/// The budget's allowed disruptions: its status when a controller keeps
/// it current, else `computed`.
fn disruptions_allowed(budget: &PodDisruptionBudget, computed: i32) -> i32 {
    match &budget.status {
        Some(status)
            if status.observed_generation.is_some()
                && status.observed_generation == budget.metadata.generation =>
        {
            status.disruptions_allowed
        }
        _ => computed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(
        min_available: Option<IntOrString>,
        max_unavailable: Option<IntOrString>,
    ) -> PodDisruptionBudget {
        PodDisruptionBudget {
            spec: Some(api::k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec {
                min_available,
                max_unavailable,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn required_healthy_pods_round_as_kubernetes() {
        let percent = |text: &str| Some(IntOrString::String(text.to_string()));
        assert_eq!(
            required_healthy(&budget(Some(IntOrString::Int(2)), None), 5),
            2
        );
        assert_eq!(required_healthy(&budget(percent("50%"), None), 5), 3);
        assert_eq!(
            required_healthy(&budget(None, Some(IntOrString::Int(1))), 5),
            4
        );
        assert_eq!(required_healthy(&budget(None, percent("30%")), 5), 4);
        assert_eq!(required_healthy(&budget(None, None), 5), 0);
    }
}
