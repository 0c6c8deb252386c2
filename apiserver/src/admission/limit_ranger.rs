//! LimitRanger: the LimitRanges of a pod's namespace default its
//! containers' requests and limits (type `Container`: `defaultRequest`,
//! `default`) and bound them (`min`, `max`, `maxLimitRequestRatio` per
//! container; type `Pod`: `min` and `max` of the pod's sums). A violation
//! is a 403 with Kubernetes' messages. A namespace without LimitRanges
//! costs one cache lookup ([`NamespaceIndex`](super::namespace_index)).
//!
//! Defaulting runs before the pod's own API defaults here, so a container
//! with a limit but no request first gets the request from its limit, as
//! Kubernetes' defaulting (which runs before admission there) would give it.

use std::collections::{BTreeMap, BTreeSet};

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Container, LimitRange, LimitRangeItem, Pod};
use api::quantity::{Quantity, QuantityFormat, pod_limit, pod_request};

use crate::admission::forbidden;
use crate::admission::namespace_index::Tracked;
use crate::error::ApiError;
use crate::keys;
use crate::state::ApiState;
use crate::verbs::decode_stored;

/// The annotation naming what LimitRanger set.
const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";

type ResourceList = BTreeMap<String, api::k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

/// Defaults and checks the pod against its namespace's LimitRanges.
pub(crate) async fn admit_pod(
    state: &ApiState,
    namespace: &str,
    pod: &mut Pod,
) -> Result<(), ApiError> {
    if !state.namespace_index.has(Tracked::LimitRange, namespace) {
        return Ok(());
    }
    let ranges = limit_ranges(state, namespace).await?;
    if ranges.is_empty() {
        return Ok(());
    }
    apply_defaults(pod, &ranges);
    let violations = violations(pod, &ranges);
    if violations.is_empty() {
        return Ok(());
    }
    let name = pod.metadata.name.as_deref().unwrap_or("");
    Err(forbidden("pods", name, aggregate(&violations)))
}

/// The LimitRanges of `namespace`, in name order.
async fn limit_ranges(state: &ApiState, namespace: &str) -> Result<Vec<LimitRange>, ApiError> {
    let response = state
        .store
        .range(store::RangeRequest {
            prefix: keys::list_prefix(&LimitRange::INFO, namespace),
            ..Default::default()
        })
        .await?;
    response
        .kvs
        .iter()
        .map(decode_stored::<LimitRange>)
        .collect()
}

/// Kubernetes' aggregate error text: one message as is, several in
/// brackets (duplicates once).
fn aggregate(messages: &[String]) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = messages
        .iter()
        .filter(|message| seen.insert(message.as_str()))
        .map(String::as_str)
        .collect();
    match unique.as_slice() {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

fn items<'a>(ranges: &'a [LimitRange], kind: &'a str) -> impl Iterator<Item = &'a LimitRangeItem> {
    ranges
        .iter()
        .filter_map(|range| range.spec.as_ref())
        .flat_map(|spec| spec.limits.iter())
        .filter(move |item| item.type_ == kind)
}

/// Sets the default requests and limits of the Container items on every
/// container that lacks them (the first LimitRange that sets one wins),
/// and records what was set in the `kubernetes.io/limit-ranger`
/// annotation as Kubernetes does.
fn apply_defaults(pod: &mut Pod, ranges: &[LimitRange]) {
    let mut notes = Vec::new();
    for range in ranges {
        let Some(spec) = range.spec.as_ref() else {
            continue;
        };
        let mut default_requests = ResourceList::new();
        let mut default_limits = ResourceList::new();
        for item in spec.limits.iter().filter(|item| item.type_ == "Container") {
            default_requests.extend(item.default_request.clone().unwrap_or_default());
            default_limits.extend(item.default.clone().unwrap_or_default());
        }
        if default_requests.is_empty() && default_limits.is_empty() {
            continue;
        }
        let Some(pod_spec) = pod.spec.as_mut() else {
            return;
        };
        for container in &mut pod_spec.containers {
            merge(
                container,
                &default_requests,
                &default_limits,
                "container",
                &mut notes,
            );
        }
        for container in pod_spec.init_containers.iter_mut().flatten() {
            merge(
                container,
                &default_requests,
                &default_limits,
                "init container",
                &mut notes,
            );
        }
    }
    if !notes.is_empty() {
        pod.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                LIMIT_RANGER_ANNOTATION.to_string(),
                format!("LimitRanger plugin set: {}", notes.join("; ")),
            );
    }
}

fn merge(
    container: &mut Container,
    default_requests: &ResourceList,
    default_limits: &ResourceList,
    prefix: &str,
    notes: &mut Vec<String>,
) {
    let resources = container.resources.get_or_insert_with(Default::default);
    // Kubernetes' defaulting: a resource with a limit and no request
    // requests its limit.
    if let Some(limits) = &resources.limits {
        let requests = resources.requests.get_or_insert_with(Default::default);
        for (name, value) in limits {
            requests
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
    }
    let mut set_limits = Vec::new();
    let limits = resources.limits.get_or_insert_with(Default::default);
    for (name, value) in default_limits {
        if !limits.contains_key(name) {
            limits.insert(name.clone(), value.clone());
            set_limits.push(name.as_str());
        }
    }
    let mut set_requests = Vec::new();
    let requests = resources.requests.get_or_insert_with(Default::default);
    for (name, value) in default_requests {
        if !requests.contains_key(name) {
            requests.insert(name.clone(), value.clone());
            set_requests.push(name.as_str());
        }
    }
    if resources.limits.as_ref().is_some_and(BTreeMap::is_empty) {
        resources.limits = None;
    }
    if resources.requests.as_ref().is_some_and(BTreeMap::is_empty) {
        resources.requests = None;
    }
    if !set_requests.is_empty() {
        notes.push(format!(
            "{} request for {prefix} {}",
            set_requests.join(", "),
            container.name
        ));
    }
    if !set_limits.is_empty() {
        notes.push(format!(
            "{} limit for {prefix} {}",
            set_limits.join(", "),
            container.name
        ));
    }
}

/// Every violation of the Container and Pod items, in Kubernetes' words.
fn violations(pod: &Pod, ranges: &[LimitRange]) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return errors;
    };
    let empty = ResourceList::new();
    for item in items(ranges, "Container") {
        let containers = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten());
        for container in containers {
            let resources = container.resources.as_ref();
            let requests = resources
                .and_then(|r| r.requests.as_ref())
                .unwrap_or(&empty);
            let limits = resources.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
            check_item(
                item,
                "Container",
                &requests_of(requests),
                &requests_of(limits),
                &mut errors,
            );
        }
    }
    for item in items(ranges, "Pod") {
        let mut requests = BTreeMap::new();
        let mut limits = BTreeMap::new();
        let named = item
            .min
            .iter()
            .chain(item.max.iter())
            .chain(item.max_limit_request_ratio.iter())
            .flat_map(|list| list.keys());
        for name in named {
            let containers = || {
                spec.containers
                    .iter()
                    .chain(spec.init_containers.iter().flatten())
            };
            let has = |pick: fn(
                &api::k8s_openapi::api::core::v1::ResourceRequirements,
            ) -> Option<&ResourceList>| {
                containers().any(|c| {
                    c.resources
                        .as_ref()
                        .and_then(pick)
                        .is_some_and(|list| list.contains_key(name))
                })
            };
            if has(|r| r.requests.as_ref()) {
                requests.insert(
                    name.clone(),
                    pod_request(spec, name, QuantityFormat::DecimalSi),
                );
            }
            if has(|r| r.limits.as_ref()) {
                limits.insert(
                    name.clone(),
                    pod_limit(spec, name, QuantityFormat::DecimalSi),
                );
            }
        }
        check_item(item, "Pod", &requests, &limits, &mut errors);
    }
    errors
}

/// Parsed quantities of a resource list (malformed ones are left out:
/// validation reports them).
fn requests_of(list: &ResourceList) -> BTreeMap<String, Quantity> {
    list.iter()
        .filter_map(|(name, value)| Some((name.clone(), Quantity::parse(&value.0).ok()?)))
        .collect()
}

fn parsed(list: Option<&ResourceList>) -> BTreeMap<String, Quantity> {
    list.map(requests_of).unwrap_or_default()
}

/// Checks one item's min, max and ratio against observed requests and
/// limits (Kubernetes' `minConstraint`, `maxConstraint` and
/// `limitRequestRatioConstraint`).
fn check_item(
    item: &LimitRangeItem,
    kind: &str,
    requests: &BTreeMap<String, Quantity>,
    limits: &BTreeMap<String, Quantity>,
    errors: &mut Vec<String>,
) {
    for (name, min) in parsed(item.min.as_ref()) {
        match (requests.get(&name), limits.get(&name)) {
            (None, _) => errors.push(format!(
                "minimum {name} usage per {kind} is {min}.  No request is specified"
            )),
            (Some(request), _) if *request < min => errors.push(format!(
                "minimum {name} usage per {kind} is {min}, but request is {request}"
            )),
            (_, Some(limit)) if *limit < min => errors.push(format!(
                "minimum {name} usage per {kind} is {min}, but limit is {limit}"
            )),
            _ => {}
        }
    }
    for (name, max) in parsed(item.max.as_ref()) {
        match (requests.get(&name), limits.get(&name)) {
            (_, None) => errors.push(format!(
                "maximum {name} usage per {kind} is {max}.  No limit is specified"
            )),
            (_, Some(limit)) if *limit > max => errors.push(format!(
                "maximum {name} usage per {kind} is {max}, but limit is {limit}"
            )),
            (Some(request), _) if *request > max => errors.push(format!(
                "maximum {name} usage per {kind} is {max}, but request is {request}"
            )),
            _ => {}
        }
    }
    for (name, ratio) in parsed(item.max_limit_request_ratio.as_ref()) {
        let request = requests.get(&name).filter(|q| !q.is_zero());
        let limit = limits.get(&name).filter(|q| !q.is_zero());
        let Some(request) = request else {
            errors.push(format!(
                "{name} max limit to request ratio per {kind} is {ratio}, but no request is specified or request is 0"
            ));
            continue;
        };
        let Some(limit) = limit else {
            errors.push(format!(
                "{name} max limit to request ratio per {kind} is {ratio}, but no limit is specified or limit is 0"
            ));
            continue;
        };
        // Compared in thousandths, as Kubernetes does.
        #[allow(clippy::cast_precision_loss)]
        let observed = limit.milli_value() as f64 / request.milli_value() as f64;
        #[allow(clippy::cast_precision_loss)]
        let allowed = ratio.milli_value() as f64;
        if observed * 1000.0 > allowed {
            errors.push(format!(
                "{name} max limit to request ratio per {kind} is {ratio}, but provided ratio is {observed:.6}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn range(limits: Value) -> LimitRange {
        let mut range: LimitRange =
            serde_json::from_value(json!({"metadata": {"name": "lr"}, "spec": {"limits": limits}}))
                .unwrap();
        api::ApiObject::apply_defaults(&mut range);
        range
    }

    fn pod(resources: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]}}))
        .unwrap()
    }

    fn resources_of(pod: &Pod) -> Value {
        serde_json::to_value(pod.spec.as_ref().unwrap().containers[0].resources.clone()).unwrap()
    }

    #[test]
    fn defaults_fill_what_containers_lack() {
        let ranges = [range(json!([{"type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"}}]))];
        let mut bare = pod(json!({}));
        apply_defaults(&mut bare, &ranges);
        assert_eq!(
            resources_of(&bare),
            json!({"limits": {"cpu": "500m", "memory": "256Mi"},
                   "requests": {"cpu": "100m", "memory": "256Mi"}})
        );
        assert_eq!(
            bare.metadata.annotations.unwrap()[LIMIT_RANGER_ANNOTATION],
            "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
        );
        // A given limit is kept and requests itself, as defaulting would.
        let mut limited = pod(json!({"limits": {"cpu": "2"}}));
        apply_defaults(&mut limited, &ranges);
        assert_eq!(
            resources_of(&limited),
            json!({"limits": {"cpu": "2", "memory": "256Mi"},
                   "requests": {"cpu": "2", "memory": "256Mi"}})
        );
    }

    #[test]
    fn max_defaults_the_limit_and_min_the_request() {
        let ranges = [range(json!([{"type": "Container",
            "max": {"cpu": "1"}, "min": {"memory": "64Mi"}}]))];
        let mut bare = pod(json!({}));
        apply_defaults(&mut bare, &ranges);
        assert_eq!(
            resources_of(&bare),
            json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1", "memory": "64Mi"}})
        );
        assert!(violations(&bare, &ranges).is_empty());
    }

    #[test]
    fn violations_are_worded_as_kubernetes_words_them() {
        let container = [range(json!([{"type": "Container",
            "min": {"cpu": "100m"}, "max": {"cpu": "1", "memory": "1Gi"},
            "maxLimitRequestRatio": {"cpu": "2"}}]))];
        let cases = [
            (
                json!({"requests": {"cpu": "500m"}, "limits": {"cpu": "800m", "memory": "1Gi"}}),
                vec![],
            ),
            (
                json!({"requests": {"cpu": "500m"}, "limits": {"cpu": "2", "memory": "1Gi"}}),
                vec![
                    "maximum cpu usage per Container is 1, but limit is 2",
                    "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
                ],
            ),
            (
                json!({"requests": {"cpu": "50m"}, "limits": {"cpu": "60m"}}),
                vec![
                    "minimum cpu usage per Container is 100m, but request is 50m",
                    "maximum memory usage per Container is 1Gi.  No limit is specified",
                ],
            ),
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}}),
                vec![
                    "minimum cpu usage per Container is 100m.  No request is specified",
                    "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0",
                ],
            ),
        ];
        for (resources, expected) in cases {
            assert_eq!(
                violations(&pod(resources.clone()), &container),
                expected,
                "{resources}"
            );
        }
    }

    #[test]
    fn pod_items_bound_the_sums() {
        let ranges = [range(json!([{"type": "Pod", "max": {"cpu": "1"}}]))];
        let mut two: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "i", "resources": {"limits": {"cpu": "600m"}}},
            {"name": "b", "image": "i", "resources": {"limits": {"cpu": "600m"}}}]}}))
            .unwrap();
        assert_eq!(
            violations(&two, &ranges),
            ["maximum cpu usage per Pod is 1, but limit is 1200m"]
        );
        two.spec.as_mut().unwrap().containers.pop();
        assert!(violations(&two, &ranges).is_empty());
    }

    #[test]
    fn aggregates_read_as_kubernetes_prints_them() {
        assert_eq!(aggregate(&["a".to_string()]), "a");
        assert_eq!(
            aggregate(&["a".to_string(), "b".to_string(), "a".to_string()]),
            "[a, b]"
        );
    }
}
