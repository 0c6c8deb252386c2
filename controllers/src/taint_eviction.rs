//! The taint eviction controller's decision (Kubernetes'
//! `pkg/controller/tainteviction`): a pod bound to a node with NoExecute
//! taints is deleted at once when some taint is not tolerated, after the
//! shortest `tolerationSeconds` of the tolerations used when all are, and
//! never when one of those tolerates forever. The timer runs from when the
//! pod was first seen under tolerated NoExecute taints and is cancelled
//! when they go.

use std::time::{Duration, Instant};

use api::k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus, Taint};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use api::k8s_openapi::jiff::Timestamp;
use api::taints::{NO_EXECUTE, tolerates};

/// What to do about one pod under its node's taints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// No NoExecute taint, or one tolerated forever.
    Never,
    Now,
    /// After this long under the taints.
    After(Duration),
}

/// The NoExecute taints of a node's taint list.
pub fn no_execute(taints: &[Taint]) -> Vec<&Taint> {
    taints
        .iter()
        .filter(|taint| taint.effect == NO_EXECUTE)
        .collect()
}

/// Kubernetes' `GetMatchingTolerations` and `getMinTolerationTime`: each
/// taint is matched by the first toleration that tolerates it, and the
/// shortest time among those decides.
pub fn eviction(pod: &Pod, taints: &[&Taint]) -> Eviction {
    if taints.is_empty() {
        return Eviction::Never;
    }
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.tolerations.as_deref())
        .unwrap_or(&[]);
    let mut shortest: Option<i64> = None;
    for taint in taints {
        let Some(used) = tolerations
            .iter()
            .find(|toleration| tolerates(toleration, taint))
        else {
            return Eviction::Now;
        };
        if let Some(seconds) = used.toleration_seconds {
            shortest = Some(shortest.map_or(seconds, |shortest| shortest.min(seconds)));
        }
    }
    match shortest {
        None => Eviction::Never,
        Some(seconds) if seconds <= 0 => Eviction::Now,
        Some(seconds) => Eviction::After(Duration::from_secs(seconds.unsigned_abs())),
    }
}

/// When the pod goes, given when its timer started (`None`: not running
/// yet, so it starts `now`); `None` when it never does. Returns the timer's
/// start to keep and the deadline.
pub fn deadline(
    eviction: Eviction,
    started: Option<Instant>,
    now: Instant,
) -> Option<(Instant, Instant)> {
    let start = started.unwrap_or(now);
    match eviction {
        Eviction::Never => None,
        Eviction::Now => Some((start, now)),
        Eviction::After(wait) => Some((start, start + wait)),
    }
}

/// The pod's status with the `DisruptionTarget` condition the controller
/// sets before deleting it, so its owner can tell why it went; `None` when
/// it already has it.
pub fn disruption_target(pod: &Pod, now: Timestamp) -> Option<PodStatus> {
    let mut status = pod.status.clone().unwrap_or_default();
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if conditions
        .iter()
        .any(|condition| condition.type_ == "DisruptionTarget" && condition.status == "True")
    {
        return None;
    }
    conditions.retain(|condition| condition.type_ != "DisruptionTarget");
    conditions.push(PodCondition {
        type_: "DisruptionTarget".to_string(),
        status: "True".to_string(),
        reason: Some("DeletionByTaintManager".to_string()),
        message: Some("Taint manager: deleting due to NoExecute taint".to_string()),
        last_transition_time: Some(Time(now)),
        ..PodCondition::default()
    });
    Some(status)
}

#[cfg(test)]
mod tests;
