//! FailedScheduling reports: a Warning Event with kube-scheduler's message
//! and the pod's `PodScheduled` condition set False/Unschedulable.
//!
//! Rate-limited per pod: at most one report per `interval`; a report that
//! arrives sooner replaces the pod's pending one, written when the interval
//! ends (unless the pod was bound or deleted meanwhile). Events of one round
//! go to the backend per namespace (one `batch_create` on Skiff's
//! apiserver); condition updates run a few at a time.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Event, Pod, PodCondition};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::backend::ClusterApi;
use crate::event::{PodRef, Report, Unschedulable};

/// Condition updates running at once.
const CONDITION_CONCURRENCY: usize = 16;
/// Attempts of an optimistic status update before giving up.
const STATUS_RETRIES: usize = 3;

struct PodReports {
    last_written: Instant,
    pending: Option<Unschedulable>,
}

/// Runs until the loop drops its sender or `stop` turns true.
pub(crate) async fn run<B: ClusterApi>(
    backend: B,
    mut reports: UnboundedReceiver<Report>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut pods: HashMap<String, PodReports> = HashMap::new();
    let tick_period = (interval / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut tick = tokio::time::interval(tick_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut due: Vec<Unschedulable> = Vec::new();
        tokio::select! {
            report = reports.recv() => {
                let Some(report) = report else { return };
                let now = Instant::now();
                accept(&mut pods, report, now, interval, &mut due);
                while let Ok(report) = reports.try_recv() {
                    accept(&mut pods, report, now, interval, &mut due);
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                for state in pods.values_mut() {
                    if state.pending.is_some() && now >= state.last_written + interval {
                        state.last_written = now;
                        due.extend(state.pending.take());
                    }
                }
                pods.retain(|_, state| {
                    state.pending.is_some() || now < state.last_written + interval * 4
                });
            }
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        if !due.is_empty() {
            write(&backend, due).await;
        }
    }
}

fn accept(
    pods: &mut HashMap<String, PodReports>,
    report: Report,
    now: Instant,
    interval: Duration,
    due: &mut Vec<Unschedulable>,
) {
    match report {
        Report::Forget { uid } => {
            pods.remove(&uid);
            due.retain(|report| report.uid != uid);
        }
        Report::Unschedulable(report) => match pods.get_mut(&report.uid) {
            Some(state) if now < state.last_written + interval => state.pending = Some(report),
            _ => {
                due.retain(|queued| queued.uid != report.uid);
                pods.insert(
                    report.uid.clone(),
                    PodReports {
                        last_written: now,
                        pending: None,
                    },
                );
                due.push(report);
            }
        },
    }
}

async fn write<B: ClusterApi>(backend: &B, reports: Vec<Unschedulable>) {
    let mut by_namespace: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for report in &reports {
        match failed_scheduling_event(report) {
            Ok(event) => by_namespace
                .entry(report.namespace.as_str())
                .or_default()
                .push(event),
            Err(error) => tracing::warn!(%error, "cannot build FailedScheduling event"),
        }
    }
    for (namespace, events) in by_namespace {
        for result in backend.create_events(namespace, events).await {
            if let Err(error) = result {
                tracing::debug!(%error, "FailedScheduling event not written");
            }
        }
    }
    futures::stream::iter(reports)
        .map(|report| async move { set_unschedulable_condition(backend, &report).await })
        .buffer_unordered(CONDITION_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

/// A core/v1 Event about `pod`.
pub(crate) fn pod_event(
    pod: &PodRef,
    component: &str,
    event_type: &str,
    reason: &str,
    action: &str,
    message: &str,
) -> Result<Event, serde_json::Error> {
    let now = now_time();
    let (namespace, name, uid) = (&pod.namespace, &pod.name, &pod.uid);
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name(name), "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": name, "uid": uid},
        "reason": reason,
        "message": message,
        "type": event_type,
        "action": action,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }))
}

/// kube's event name: `<object>.<hex nanoseconds>`, made unique within
/// this process by a counter.
fn event_name(object: &str) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = runtime::clock::now().as_nanosecond();
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!(
        "{object}.{:x}",
        nanos.unsigned_abs().wrapping_add(u128::from(sequence))
    )
}

fn failed_scheduling_event(report: &Unschedulable) -> Result<Event, serde_json::Error> {
    let pod = PodRef {
        uid: report.uid.clone(),
        namespace: report.namespace.clone(),
        name: report.name.clone(),
    };
    pod_event(
        &pod,
        &report.scheduler_name,
        "Warning",
        "FailedScheduling",
        "Scheduling",
        &report.message,
    )
}

fn now_time() -> Time {
    Time(runtime::clock::now())
}

/// Sets `PodScheduled=False, reason Unschedulable` with the message, unless
/// the pod was bound, replaced or deleted meanwhile.
async fn set_unschedulable_condition<B: ClusterApi>(backend: &B, report: &Unschedulable) {
    for _ in 0..STATUS_RETRIES {
        let mut pod: Pod = match backend.get_pod(&report.namespace, &report.name).await {
            Ok(pod) => pod,
            Err(error) if error.is_not_found() => return,
            Err(error) => {
                tracing::debug!(%error, pod = %report.name, "cannot read pod for its condition");
                return;
            }
        };
        if pod.metadata.uid.as_deref() != Some(report.uid.as_str())
            || pod
                .spec
                .as_ref()
                .and_then(|spec| spec.node_name.as_deref())
                .is_some_and(|node| !node.is_empty())
        {
            return;
        }
        let status = pod.status.get_or_insert_with(Default::default);
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        let existing = conditions
            .iter()
            .position(|condition| condition.type_ == "PodScheduled");
        let unchanged = existing.is_some_and(|index| {
            let condition = &conditions[index];
            condition.status == "False"
                && condition.reason.as_deref() == Some("Unschedulable")
                && condition.message.as_deref() == Some(report.message.as_str())
        });
        if unchanged {
            return;
        }
        let transition = match existing {
            Some(index) if conditions[index].status == "False" => {
                conditions[index].last_transition_time.clone()
            }
            _ => Some(now_time()),
        };
        let condition = PodCondition {
            type_: "PodScheduled".to_string(),
            status: "False".to_string(),
            reason: Some("Unschedulable".to_string()),
            message: Some(report.message.clone()),
            last_transition_time: transition,
            ..Default::default()
        };
        match existing {
            Some(index) => conditions[index] = condition,
            None => conditions.push(condition),
        }
        match backend.update_pod_status(&pod).await {
            Ok(()) => return,
            Err(error) if error.is_conflict() => continue,
            Err(error) if error.is_not_found() => return,
            Err(error) => {
                tracing::debug!(%error, pod = %report.name, "cannot set PodScheduled condition");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::failed_scheduling_event;
    use crate::event::Unschedulable;

    #[test]
    fn failed_scheduling_event_carries_the_cores_message() {
        let report = Unschedulable {
            uid: "uid-3".to_string(),
            namespace: "team".to_string(),
            name: "big".to_string(),
            scheduler_name: "skiff-scheduler".to_string(),
            message: "0/3 nodes are available: 3 Insufficient cpu.".to_string(),
        };
        let event = serde_json::to_value(failed_scheduling_event(&report).unwrap()).unwrap();
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["reason"], "FailedScheduling");
        assert_eq!(event["action"], "Scheduling");
        assert_eq!(
            event["message"],
            "0/3 nodes are available: 3 Insufficient cpu."
        );
        assert_eq!(event["involvedObject"]["uid"], "uid-3");
        assert_eq!(event["involvedObject"]["kind"], "Pod");
        assert_eq!(event["metadata"]["namespace"], "team");
        assert_eq!(event["source"]["component"], "skiff-scheduler");
    }
}
