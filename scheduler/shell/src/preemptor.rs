//! Carries out the loop's preemption decisions (several at once, each
//! reported back to the loop when done): the preemptor's
//! `status.nominatedNodeName` is set, and only if it is, each victim gets
//! the `DisruptionTarget` condition and a `Preempted` event and is deleted
//! with its own grace period (guarded by its uid). Deletions free room only
//! when their watch events reach the loop, which then retries the preemptor
//! at once.

use std::sync::mpsc::Sender;

use api::k8s_openapi::api::core::v1::PodCondition;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::backend::ClusterApi;
use crate::event::{LoopEvent, PodRef, Preemption};
use crate::reporter::pod_event;

/// Victims handled at once, per preemption.
const VICTIM_CONCURRENCY: usize = 16;
/// Preemptions carried out at once.
const PREEMPTION_CONCURRENCY: usize = 256;
/// Attempts of an optimistic status update before giving up.
const STATUS_RETRIES: usize = 3;
/// Attempts to nominate the preemptor: more, since the reporter writes its
/// status too, and no victim goes until it is nominated.
const NOMINATE_RETRIES: usize = 10;

/// Runs until the loop drops its sender; tells the loop when each
/// preemption is done.
pub(crate) async fn run<B: ClusterApi>(
    backend: B,
    preemptions: UnboundedReceiver<Preemption>,
    done: Sender<LoopEvent>,
) {
    let backend = &backend;
    futures::stream::unfold(preemptions, |mut receiver| async move {
        let preemption = receiver.recv().await?;
        Some((preemption, receiver))
    })
    .map(|preemption| async move {
        let not_deleted = carry_out(backend, &preemption).await;
        (preemption.preemptor.uid, not_deleted)
    })
    .buffer_unordered(PREEMPTION_CONCURRENCY)
    .for_each(|(preemptor, not_deleted)| {
        let _ = done.send(LoopEvent::Preempted {
            preemptor,
            not_deleted,
        });
        std::future::ready(())
    })
    .await;
}

/// Returns the uids of the victims not deleted (nor already gone).
async fn carry_out<B: ClusterApi>(backend: &B, preemption: &Preemption) -> Vec<String> {
    let message = format!(
        "Preempted by pod {} on node {}",
        preemption.preemptor.uid, preemption.node
    );
    let (component, message) = (&preemption.scheduler_name, &message);
    // Nominate first: once the victims are gone the preemptor may be
    // bound at once, and the nomination tells other schedulers the room
    // is taken.
    if !nominate(backend, &preemption.preemptor, &preemption.node).await {
        // No victim goes for a preemptor that is not nominated (bound,
        // replaced or deleted meanwhile, or the write kept failing).
        return preemption.victims.iter().map(|v| v.uid.clone()).collect();
    }
    futures::stream::iter(preemption.victims.clone())
        .map(|victim| async move {
            let gone = evict(backend, &victim, component, message).await;
            (!gone).then_some(victim.uid)
        })
        .buffer_unordered(VICTIM_CONCURRENCY)
        .filter_map(std::future::ready)
        .collect()
        .await
}

/// Whether the victim is gone (deleted now or before). The `Preempted`
/// event is written alongside, off the path to the deletion.
async fn evict<B: ClusterApi>(
    backend: &B,
    victim: &PodRef,
    component: &str,
    message: &str,
) -> bool {
    let record = async {
        match pod_event(
            victim,
            component,
            "Normal",
            "Preempted",
            "Preempting",
            message,
        ) {
            Ok(event) => {
                for result in backend.create_events(&victim.namespace, vec![event]).await {
                    if let Err(error) = result {
                        tracing::debug!(%error, victim = %victim.name, "Preempted event not written");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot build Preempted event"),
        }
    };
    let delete = async {
        mark_disruption_target(backend, victim).await;
        match backend
            .delete_pod(&victim.namespace, &victim.name, &victim.uid)
            .await
        {
            Ok(()) => true,
            // Gone, or replaced by a pod with another uid.
            Err(error) if error.is_not_found() || error.is_conflict() => true,
            Err(error) => {
                tracing::warn!(%error, victim = %victim.name, "cannot delete preemption victim");
                false
            }
        }
    };
    let ((), gone) = futures::join!(record, delete);
    gone
}

/// Sets `DisruptionTarget=True, reason PreemptionByScheduler` on a victim.
async fn mark_disruption_target<B: ClusterApi>(backend: &B, victim: &PodRef) {
    for _ in 0..STATUS_RETRIES {
        let Ok(mut pod) = backend.get_pod(&victim.namespace, &victim.name).await else {
            return;
        };
        if pod.metadata.uid.as_deref() != Some(victim.uid.as_str()) {
            return;
        }
        let conditions = pod
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new);
        conditions.retain(|condition| condition.type_ != "DisruptionTarget");
        conditions.push(PodCondition {
            type_: "DisruptionTarget".to_string(),
            status: "True".to_string(),
            reason: Some("PreemptionByScheduler".to_string()),
            message: Some("Preempted by a higher-priority pod".to_string()),
            last_transition_time: Some(Time(runtime::clock::now())),
            ..Default::default()
        });
        match backend.update_pod_status(&pod).await {
            Err(error) if error.is_conflict() => continue,
            _ => return,
        }
    }
}

/// Sets the preemptor's `status.nominatedNodeName`; false if it was bound,
/// replaced or deleted meanwhile, or the write failed.
async fn nominate<B: ClusterApi>(backend: &B, preemptor: &PodRef, node: &str) -> bool {
    for _ in 0..NOMINATE_RETRIES {
        let Ok(mut pod) = backend.get_pod(&preemptor.namespace, &preemptor.name).await else {
            return false;
        };
        let bound = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref())
            .is_some_and(|name| !name.is_empty());
        if bound || pod.metadata.uid.as_deref() != Some(preemptor.uid.as_str()) {
            return false;
        }
        let status = pod.status.get_or_insert_with(Default::default);
        if status.nominated_node_name.as_deref() == Some(node) {
            return true;
        }
        status.nominated_node_name = Some(node.to_string());
        match backend.update_pod_status(&pod).await {
            Ok(()) => return true,
            Err(error) if error.is_conflict() => continue,
            Err(error) => {
                tracing::debug!(%error, pod = %preemptor.name, "cannot set nominatedNodeName");
                return false;
            }
        }
    }
    tracing::debug!(pod = %preemptor.name, "nominatedNodeName kept conflicting");
    false
}
