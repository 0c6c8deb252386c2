//! The ReplicaSet controller's decisions (also ReplicationController's,
//! which differs only in its map selector): keep `spec.replicas` active pods
//! matching the selector, created from the template, as Kubernetes'
//! `ReplicaSetController.syncReplicaSet` does.
//!
//! One [`plan`] per sync: claim the namespace's pods (adopt matching
//! orphans, release owned pods that stopped matching), then, when the
//! controller's expectations are satisfied, create the missing pods (at
//! most [`BURST_REPLICAS`] per sync, in [`slow_start_batches`]) or delete
//! the surplus in [`crate::pods::pods_to_delete`] order, and compute the
//! status from the active pods it controls.

use std::time::Duration;

use api::ApiObject;
use api::k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use api::k8s_openapi::api::core::v1::{
    Pod, PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use api::k8s_openapi::jiff::Timestamp;
use api::selector::Selector;

use crate::owner::{Claim, claim, controller_reference, controller_selector};
use crate::pods::{is_active, is_available, is_ready, pods_to_delete};

/// A kind the ReplicaSet logic runs for: ReplicaSet itself, and
/// ReplicationController through Kubernetes' conversion to a ReplicaSet
/// (its map selector becomes `matchLabels`).
pub trait Replicated: ApiObject {
    /// The object as a ReplicaSet, status included.
    fn as_replica_set(&self) -> ReplicaSet;
    /// The object with `status` (computed on the ReplicaSet view).
    fn with_status(&self, status: ReplicaSetStatus) -> Self;
}

impl Replicated for ReplicaSet {
    fn as_replica_set(&self) -> ReplicaSet {
        self.clone()
    }

    fn with_status(&self, status: ReplicaSetStatus) -> ReplicaSet {
        ReplicaSet {
            status: Some(status),
            ..self.clone()
        }
    }
}

impl Replicated for ReplicationController {
    fn as_replica_set(&self) -> ReplicaSet {
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().map(|status| ReplicaSetStatus {
            replicas: status.replicas,
            fully_labeled_replicas: status.fully_labeled_replicas,
            ready_replicas: status.ready_replicas,
            available_replicas: status.available_replicas,
            observed_generation: status.observed_generation,
            conditions: status.conditions.map(|conditions| {
                conditions
                    .into_iter()
                    .map(|c| ReplicaSetCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
            terminating_replicas: None,
        });
        ReplicaSet {
            metadata: self.metadata.clone(),
            spec: Some(ReplicaSetSpec {
                replicas: spec.replicas,
                min_ready_seconds: spec.min_ready_seconds,
                selector: LabelSelector {
                    match_labels: spec.selector,
                    match_expressions: None,
                },
                template: spec.template,
            }),
            status,
        }
    }

    fn with_status(&self, status: ReplicaSetStatus) -> ReplicationController {
        ReplicationController {
            status: Some(ReplicationControllerStatus {
                replicas: status.replicas,
                fully_labeled_replicas: status.fully_labeled_replicas,
                ready_replicas: status.ready_replicas,
                available_replicas: status.available_replicas,
                observed_generation: status.observed_generation,
                conditions: status.conditions.map(|conditions| {
                    conditions
                        .into_iter()
                        .map(|c| ReplicationControllerCondition {
                            type_: c.type_,
                            status: c.status,
                            reason: c.reason,
                            message: c.message,
                            last_transition_time: c.last_transition_time,
                        })
                        .collect()
                }),
            }),
            ..self.clone()
        }
    }
}

/// At most this many pods are created or deleted in one sync (Kubernetes'
/// `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// The condition type set while creating or deleting pods fails.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Why a ReplicaSet cannot be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ReplicaSet {0} has an invalid selector: {1}")]
    InvalidSelector(String, String),
}

/// What to do about the number of pods.
#[derive(Debug, PartialEq)]
pub enum Scale<'a> {
    /// The count matches, or the controller waits for its own writes.
    Hold,
    /// Create this many pods from the template.
    Create(usize),
    /// Delete these pods.
    Delete(Vec<&'a Pod>),
}

/// One sync's decisions for one ReplicaSet.
#[derive(Debug)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    pub scale: Scale<'a>,
    /// The status the active pods give (written if it changed); the
    /// runner adds the [`REPLICA_FAILURE`] condition when a write of
    /// `scale` failed ([`with_failure`]).
    pub status: ReplicaSetStatus,
    /// Sync again after this long: ready pods become available once
    /// they were ready for `minReadySeconds`.
    pub requeue_after: Option<Duration>,
}

/// The ReplicaSet's selector.
pub fn selector(rs: &ReplicaSet) -> Result<Selector, Error> {
    let Some(spec) = &rs.spec else {
        return Ok(Selector::nothing());
    };
    controller_selector(&spec.selector).map_err(|error| {
        Error::InvalidSelector(rs.metadata.name.clone().unwrap_or_default(), error)
    })
}

/// Decides one sync of `rs` over the pods of its namespace; `related`
/// are the pods that count as neighbours when choosing which to delete
/// (the ReplicaSet's own, or a Deployment's across its ReplicaSets),
/// `expectations_satisfied` whether the controller's own earlier creates
/// and deletes were all observed.
pub fn plan<'a>(
    rs: &ReplicaSet,
    pods: impl IntoIterator<Item = &'a Pod>,
    related: &[&Pod],
    expectations_satisfied: bool,
    now: Timestamp,
) -> Result<Plan<'a>, Error> {
    let selector = selector(rs)?;
    let uid = rs.metadata.uid.as_deref().unwrap_or("");
    let deleting = rs.metadata.deletion_timestamp.is_some();
    let Claim {
        owned,
        adopt,
        release,
    } = claim(uid, deleting, &selector, pods);
    let active: Vec<&Pod> = owned
        .iter()
        .chain(&adopt)
        .copied()
        .filter(|pod| is_active(pod))
        .collect();
    let desired = desired_replicas(rs);
    let scale = if !expectations_satisfied || deleting {
        Scale::Hold
    } else if active.len() < desired {
        Scale::Create((desired - active.len()).min(BURST_REPLICAS))
    } else if active.len() > desired {
        let count = (active.len() - desired).min(BURST_REPLICAS);
        Scale::Delete(pods_to_delete(&active, related, count, now))
    } else {
        Scale::Hold
    };
    let status = status(rs, &active, now);
    let min_ready = min_ready_seconds(rs);
    let requeue_after = (min_ready > 0
        && status.ready_replicas.unwrap_or(0) == i32::try_from(desired).unwrap_or(i32::MAX)
        && status.available_replicas.unwrap_or(0) != status.ready_replicas.unwrap_or(0))
    .then(|| Duration::from_secs(u64::try_from(min_ready).unwrap_or(0)));
    Ok(Plan {
        adopt,
        release,
        scale,
        status,
        requeue_after,
    })
}

fn desired_replicas(rs: &ReplicaSet) -> usize {
    let replicas = rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1);
    usize::try_from(replicas).unwrap_or(0)
}

fn min_ready_seconds(rs: &ReplicaSet) -> i32 {
    rs.spec
        .as_ref()
        .and_then(|spec| spec.min_ready_seconds)
        .unwrap_or(0)
}

fn count(n: usize) -> Option<i32> {
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

/// The status `active` (the controlled, active pods) give, keeping the
/// conditions already there; `observedGeneration` is the spec's
/// generation.
pub fn status(rs: &ReplicaSet, active: &[&Pod], now: Timestamp) -> ReplicaSetStatus {
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|spec| spec.template.as_ref())
        .and_then(|template| template.metadata.as_ref())
        .and_then(|meta| meta.labels.clone())
        .unwrap_or_default();
    let fully_labeled = active
        .iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(key, value)| labels.and_then(|labels| labels.get(key)) == Some(value))
        })
        .count();
    let ready = active.iter().filter(|pod| is_ready(pod)).count();
    let min_ready = min_ready_seconds(rs);
    let available = active
        .iter()
        .filter(|pod| is_available(pod, min_ready, now))
        .count();
    let previous = rs.status.clone().unwrap_or_default();
    ReplicaSetStatus {
        replicas: i32::try_from(active.len()).unwrap_or(i32::MAX),
        fully_labeled_replicas: count(fully_labeled),
        ready_replicas: count(ready),
        available_replicas: count(available),
        observed_generation: rs.metadata.generation,
        ..previous
    }
}

/// `status` with the ReplicaFailure condition set (a create or delete
/// failed: `failure` is its reason, `FailedCreate` or `FailedDelete`, and
/// message) or cleared (`None`); an existing condition keeps its time.
pub fn with_failure(
    mut status: ReplicaSetStatus,
    failure: Option<(&str, &str)>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut conditions = status.conditions.take().unwrap_or_default();
    let existing = conditions
        .iter()
        .position(|condition| condition.type_ == REPLICA_FAILURE);
    match (failure, existing) {
        (Some((reason, message)), None) => conditions.push(ReplicaSetCondition {
            type_: REPLICA_FAILURE.to_string(),
            status: "True".to_string(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            last_transition_time: Some(Time(now)),
        }),
        (None, Some(index)) => {
            conditions.remove(index);
        }
        _ => {}
    }
    status.conditions = (!conditions.is_empty()).then_some(conditions);
    status
}

/// The sizes of the batches `count` creations go out in: 1, 2, 4, …,
/// the last one what remains. A batch with a failure stops the rest (the
/// runner's part), so a quota or an admission error costs one request,
/// not `count`.
pub fn slow_start_batches(count: usize) -> Vec<usize> {
    let mut batches = Vec::new();
    let (mut remaining, mut size) = (count, 1);
    while remaining > 0 {
        let batch = size.min(remaining);
        batches.push(batch);
        remaining -= batch;
        size *= 2;
    }
    batches
}

/// A new pod from `template` for the controller `owner` (kind
/// `owner_kind` of `owner_api_version`): its labels, annotations and
/// finalizers, `generateName` `<owner>-`, the controller reference and the
/// template's spec.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    owner_api_version: &str,
    owner_kind: &str,
    owner: &ObjectMeta,
) -> Pod {
    let template_meta = template.metadata.clone().unwrap_or_default();
    let name = owner.name.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: owner.namespace.clone(),
            labels: template_meta.labels,
            annotations: template_meta.annotations,
            finalizers: template_meta.finalizers,
            owner_references: controller_reference(owner_api_version, owner_kind, owner)
                .map(|reference| vec![reference]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

#[cfg(test)]
mod tests;
