//! The DaemonSet controller's decisions, as Kubernetes' `DaemonSetsController`:
//! one daemon pod on every node that should run one (the template's
//! nodeSelector and required node affinity match it, and its pods
//! tolerate the node's NoSchedule and NoExecute taints, with the
//! tolerations Kubernetes adds to daemon pods), none elsewhere; failed
//! daemon pods and surplus ones (the oldest stays) are deleted; a
//! `RollingUpdate` replaces pods of an older template at most
//! `maxUnavailable` unavailable at a time, unavailable ones first
//! (`maxSurge` is not supported yet: old pods go before new ones come);
//! `OnDelete` only replaces pods the user deleted.
//!
//! A daemon pod is pinned to its node by required node affinity on
//! `metadata.name` and placed by the scheduler, as Kubernetes does.

use std::collections::{BTreeMap, HashMap};

use api::k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use api::k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    Toleration,
};
use api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use api::k8s_openapi::jiff::Timestamp;
use api::selector::{NodeSelectorMatcher, Selector};
use api::taints::{self, NO_EXECUTE, NO_SCHEDULE, exists, tolerated};

use crate::deployment::{pod_template_hash, scaled_value};
use crate::owner::{Claim, claim, controller_selector};
use crate::pods::{is_available, is_ready};
use crate::replica_set::pod_from_template;

/// The label with the hash of the template a daemon pod was made from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// Why a DaemonSet cannot be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("DaemonSet {0} has an invalid selector: {1}")]
    InvalidSelector(String, String),
}

/// One sync's decisions for one DaemonSet.
#[derive(Debug)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    /// Daemon pods to create, ready to send.
    pub create: Vec<Pod>,
    pub delete: Vec<&'a Pod>,
    pub status: DaemonSetStatus,
}

/// The tolerations Kubernetes adds to every daemon pod (and, with host
/// networking, `network-unavailable`).
pub fn daemon_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut tolerations = vec![
        exists(taints::NOT_READY, NO_EXECUTE),
        exists(taints::UNREACHABLE, NO_EXECUTE),
        exists(taints::DISK_PRESSURE, NO_SCHEDULE),
        exists(taints::MEMORY_PRESSURE, NO_SCHEDULE),
        exists(taints::PID_PRESSURE, NO_SCHEDULE),
        exists(taints::UNSCHEDULABLE, NO_SCHEDULE),
    ];
    if host_network {
        tolerations.push(exists(taints::NETWORK_UNAVAILABLE, NO_SCHEDULE));
    }
    tolerations
}

/// The DaemonSet's selector (an empty one selects nothing).
pub fn selector(ds: &DaemonSet) -> Result<Selector, Error> {
    let Some(spec) = &ds.spec else {
        return Ok(Selector::nothing());
    };
    controller_selector(&spec.selector).map_err(|error| {
        Error::InvalidSelector(ds.metadata.name.clone().unwrap_or_default(), error)
    })
}

/// The hash of the DaemonSet's current template.
pub fn template_hash(ds: &DaemonSet) -> String {
    let template = ds
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    pod_template_hash(
        &template,
        ds.status.as_ref().and_then(|status| status.collision_count),
    )
}

/// Whether a daemon pod of `ds` should run on `node`, and whether one
/// already there may go on running (Kubernetes' `NodeShouldRunDaemonPod`):
/// a NoSchedule taint keeps new pods off but leaves a running one; an
/// untolerated NoExecute taint, or a selector or affinity that no longer
/// matches, removes it.
pub fn should_run(ds: &DaemonSet, node: &Node) -> (bool, bool) {
    let Some(pod_spec) = ds
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
    else {
        return (false, false);
    };
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or("");
    let selected = pod_spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let required = pod_spec
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.node_affinity.as_ref())
        .and_then(|affinity| {
            affinity
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affine = match required {
        None => true,
        Some(selector) => {
            NodeSelectorMatcher::new(selector).is_ok_and(|m| m.matches(&labels, name))
        }
    };
    let host_network = pod_spec.host_network.unwrap_or(false);
    let mut tolerations = pod_spec.tolerations.clone().unwrap_or_default();
    tolerations.extend(daemon_tolerations(host_network));
    let tolerated = |effects: &[&str]| {
        node.spec
            .as_ref()
            .and_then(|spec| spec.taints.as_ref())
            .into_iter()
            .flatten()
            .filter(|taint| effects.contains(&taint.effect.as_str()))
            .all(|taint| tolerated(&tolerations, taint))
    };
    if !(selected && affine) {
        return (false, false);
    }
    (
        tolerated(&["NoSchedule", "NoExecute"]),
        tolerated(&["NoExecute"]),
    )
}

/// The node a daemon pod is for: where it is bound, else the node its
/// `metadata.name` affinity names.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(node) = spec.node_name.as_ref().filter(|node| !node.is_empty()) {
        return Some(node.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|term| {
        term.match_fields.iter().flatten().find_map(|field| {
            (field.key == "metadata.name" && field.operator == "In")
                .then(|| field.values.as_ref()?.first().cloned())
                .flatten()
        })
    })
}

/// A new daemon pod of `ds` for `node`: the template, the revision hash
/// label, the daemon tolerations, and required affinity to the node
/// (Kubernetes replaces the template's required node affinity so).
pub fn daemon_pod(ds: &DaemonSet, node: &str, hash: &str) -> Pod {
    let template = ds
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    let mut pod = pod_from_template(&template, "apps/v1", "DaemonSet", &ds.metadata);
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_HASH_LABEL.to_string(), hash.to_string());
    if let Some(spec) = pod.spec.as_mut() {
        let host_network = spec.host_network.unwrap_or(false);
        let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
        for toleration in daemon_tolerations(host_network) {
            if !tolerations.contains(&toleration) {
                tolerations.push(toleration);
            }
        }
        let affinity = spec.affinity.get_or_insert_with(Affinity::default);
        let node_affinity = affinity
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: None,
                match_fields: Some(vec![NodeSelectorRequirement {
                    key: "metadata.name".to_string(),
                    operator: "In".to_string(),
                    values: Some(vec![node.to_string()]),
                }]),
            }],
        });
    }
    pod
}

fn min_ready_seconds(ds: &DaemonSet) -> i32 {
    ds.spec
        .as_ref()
        .and_then(|spec| spec.min_ready_seconds)
        .unwrap_or(0)
}

fn rolling_max_unavailable(ds: &DaemonSet, desired: i32) -> Option<i32> {
    let strategy = ds.spec.as_ref()?.update_strategy.as_ref();
    if strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return None;
    }
    let value = strategy
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or(IntOrString::Int(1));
    Some(scaled_value(&value, desired, true).max(1))
}

/// Decides one sync of `ds` over the cluster's nodes and the pods of its
/// namespace.
pub fn plan<'a>(
    ds: &DaemonSet,
    nodes: &[&Node],
    pods: impl IntoIterator<Item = &'a Pod>,
    now: Timestamp,
) -> Result<Plan<'a>, Error> {
    let selector = selector(ds)?;
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    let deleting = ds.metadata.deletion_timestamp.is_some();
    let Claim {
        owned,
        adopt,
        release,
    } = claim(uid, deleting, &selector, pods);
    let hash = template_hash(ds);
    let min_ready = min_ready_seconds(ds);
    let mut by_node: HashMap<String, Vec<&'a Pod>> = HashMap::new();
    for pod in owned.iter().chain(&adopt).copied() {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if let Some(node) = target_node(pod) {
            by_node.entry(node).or_default().push(pod);
        }
    }
    let mut create = Vec::new();
    let mut delete: Vec<&'a Pod> = Vec::new();
    let (mut desired, mut scheduled, mut misscheduled) = (0, 0, 0);
    let (mut ready, mut available, mut updated) = (0, 0, 0);
    // Old pods per node that a rolling update may replace: (pod, available).
    let mut old: Vec<(&'a Pod, bool)> = Vec::new();
    let mut unavailable = 0;
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut pods = by_node.remove(&name).unwrap_or_default();
        let (wanted, may_stay) = should_run(ds, node);
        if !wanted {
            if !pods.is_empty() {
                misscheduled += 1;
            }
            if !deleting && !may_stay {
                delete.extend(pods);
            }
            continue;
        }
        desired += 1;
        // Failed daemon pods are replaced.
        let (failed, mut running): (Vec<&Pod>, Vec<&Pod>) = pods.drain(..).partition(|pod| {
            pod.status
                .as_ref()
                .and_then(|status| status.phase.as_deref())
                == Some("Failed")
        });
        delete.extend(failed);
        if running.is_empty() {
            unavailable += 1;
            if !deleting {
                create.push(daemon_pod(ds, &name, &hash));
            }
            continue;
        }
        scheduled += 1;
        // One per node: the oldest stays.
        running.sort_by_key(|pod| pod.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let keep = running.remove(0);
        delete.extend(running);
        let is_available = is_available(keep, min_ready, now);
        if is_ready(keep) {
            ready += 1;
        }
        if is_available {
            available += 1;
        } else {
            unavailable += 1;
        }
        let current = keep
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(REVISION_HASH_LABEL))
            == Some(&hash);
        if current {
            updated += 1;
        } else {
            old.push((keep, is_available));
        }
    }
    // Pods for nodes that are gone.
    if !deleting {
        for (_, pods) in by_node {
            delete.extend(pods);
        }
    }
    if !deleting && let Some(max_unavailable) = rolling_max_unavailable(ds, desired) {
        // Unavailable old pods cost nothing; available ones only while the
        // budget lasts.
        for (pod, pod_available) in &old {
            if !pod_available {
                delete.push(pod);
            }
        }
        let mut budget = max_unavailable - unavailable;
        for (pod, pod_available) in old {
            if pod_available && budget > 0 {
                delete.push(pod);
                budget -= 1;
            }
        }
    }
    let previous = ds.status.clone().unwrap_or_default();
    let status = DaemonSetStatus {
        desired_number_scheduled: desired,
        current_number_scheduled: scheduled,
        number_misscheduled: misscheduled,
        number_ready: ready,
        number_available: Some(available),
        number_unavailable: Some(desired - available),
        updated_number_scheduled: Some(updated),
        observed_generation: ds.metadata.generation,
        ..previous
    };
    Ok(Plan {
        adopt,
        release,
        create,
        delete,
        status,
    })
}

#[cfg(test)]
mod tests;
