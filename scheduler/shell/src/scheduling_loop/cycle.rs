//! One scheduling round: pop a batch, decide every pod on the published
//! snapshot (`schedule_batch`, or round-robin for the noop algorithm),
//! assume the placements, hand the bindings to the binder in one message,
//! and handle the pods no node fits (preemption, requeue, report).

use std::sync::Arc;
use std::time::Instant;

use scheduler::preemption::{PreemptionOutcome, preempt};
use scheduler::queue::PluginMask;
use scheduler::{ClusterEvent, Decision, FitError, Placement, PodInfo, Snapshot, schedule_batch};

use super::{Binding, SchedulingLoop};
use crate::config::Algorithm;
use crate::event::{BindRequest, PodRef, Preemption, Report, Unschedulable};
use crate::metrics::AttemptResult;

impl SchedulingLoop {
    /// Schedules one batch; `true` when the batch was full (more may wait).
    pub(super) fn schedule_batch(&mut self) -> bool {
        if !self.membership.active || !self.synced.all() {
            return false;
        }
        let now = self.now();
        let batch = self.queue.pop_batch(now, self.settings.batch_size);
        if batch.is_empty() {
            return false;
        }
        let full = batch.len() == self.settings.batch_size;
        let started = Instant::now();
        let snapshot = self.snapshot();
        let pods: Vec<Arc<PodInfo>> = batch.iter().map(|queued| queued.pod.clone()).collect();
        let (decisions, working) = match self.settings.algorithm {
            Algorithm::Default => {
                let (profiles, context) = (&self.profiles, &mut self.context);
                let outcome = self
                    .pool
                    .install(|| schedule_batch(&snapshot, &pods, profiles, context));
                (outcome.decisions, Some(outcome.working))
            }
            Algorithm::Noop => (self.round_robin(&snapshot, &pods), None),
        };
        let view: &Snapshot = working.as_ref().unwrap_or(&snapshot);
        let decided_seconds = started.elapsed().as_secs_f64();
        let mut bindings = Vec::new();
        let mut unschedulable: Vec<String> = Vec::new();
        // A nomination made for one pod of the batch must be seen by the
        // next one's preemption, or two preemptors pick the same victim.
        let mut latest: Option<Arc<Snapshot>> = None;
        let mut nominated_since = false;
        for ((queued, pod), decision) in batch.iter().zip(&pods).zip(decisions) {
            match decision {
                None => self.queue.delete(&pod.uid),
                Some(Decision::Scheduled(placement)) => {
                    let node = view.node_name(placement.node).to_string();
                    self.assume(pod, &node, started, queued.attempts);
                    bindings.push(BindRequest {
                        uid: pod.uid.clone(),
                        namespace: pod.namespace.clone(),
                        name: pod.name.clone(),
                        node,
                    });
                }
                Some(Decision::Unschedulable(fit_error)) => {
                    if std::mem::take(&mut nominated_since) {
                        latest = Some(self.snapshot());
                    }
                    let current = latest.as_deref().unwrap_or(view);
                    nominated_since = self.unschedulable(pod, &fit_error, current);
                    unschedulable.push(pod.scheduler_name.clone());
                }
            }
        }
        self.metrics.record(|recorder| {
            recorder.batch();
            for profile in &unschedulable {
                recorder.attempts(profile, AttemptResult::Unschedulable, decided_seconds, 1);
            }
        });
        if !bindings.is_empty() {
            // The binder only stops after the loop does.
            let _ = self.outputs.binder.send(bindings);
        }
        full
    }

    /// Counts `pod` on `node` until the bind's result comes back.
    fn assume(&mut self, pod: &Arc<PodInfo>, node: &str, started: Instant, attempts: u32) {
        let mut bound = PodInfo::clone(pod);
        bound.node_name = Some(node.to_string());
        bound.nominated_node_name = None;
        let bound = Arc::new(bound);
        self.apply(ClusterEvent::PodUpserted(bound.clone()));
        self.binding.insert(
            pod.uid.clone(),
            Binding {
                assumed: bound,
                settled: false,
                started,
                attempts,
            },
        );
    }

    /// No node fits: try preemption, requeue until a helpful event, report.
    /// Returns whether the pod was nominated to a node.
    fn unschedulable(&mut self, pod: &Arc<PodInfo>, fit_error: &FitError, view: &Snapshot) -> bool {
        let now = self.now();
        let mut nominated_now = false;
        let mut message = fit_error.message();
        if let Some(config) = self.preemption.get(&pod.scheduler_name)
            && let Some(profile) = self.profiles.get(&pod.scheduler_name)
            && self.preemptions.may_preempt(&pod.uid)
        {
            let outcome = preempt(view, pod, profile, fit_error, config, &mut self.context.rng);
            match outcome {
                PreemptionOutcome::NotEligible => {
                    self.metrics.record(|recorder| recorder.preemption(None));
                }
                PreemptionOutcome::NoCandidate { message: suffix } => {
                    self.metrics.record(|recorder| recorder.preemption(None));
                    message = format!("{message} {suffix}");
                }
                PreemptionOutcome::Nominate(candidate) => {
                    let victims = candidate.victims.len();
                    self.metrics
                        .record(|recorder| recorder.preemption(Some(victims)));
                    let node = view.node_name(candidate.node).to_string();
                    tracing::debug!(pod = %pod.name, %node, victims = ?candidate.victims.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), "preempting");
                    // Not scheduled until the preemptor task is done: it
                    // must not be bound elsewhere while victims are deleted
                    // for it here.
                    self.queue.gate(&pod.uid);
                    self.preemptions.start(
                        &pod.uid,
                        &node,
                        candidate.victims.iter().map(|victim| victim.uid.clone()),
                    );
                    let _ = self.outputs.preemptor.send(Preemption {
                        preemptor: PodRef::of(pod),
                        node: node.clone(),
                        victims: candidate
                            .victims
                            .iter()
                            .map(|victim| PodRef::of(victim))
                            .collect(),
                        scheduler_name: pod.scheduler_name.clone(),
                    });
                    let mut nominated = PodInfo::clone(pod);
                    nominated.nominated_node_name = Some(node);
                    let nominated = Arc::new(nominated);
                    self.apply(ClusterEvent::PodUpserted(nominated.clone()));
                    self.pods.insert(pod.uid.clone(), nominated.clone());
                    // In flight, so this only updates the queued view.
                    self.queue.add(nominated, now);
                    nominated_now = true;
                }
            }
        }
        self.queue
            .requeue_unschedulable(&pod.uid, PluginMask::from_fit_error(fit_error), now);
        self.reported.insert(pod.uid.clone());
        let _ = self
            .outputs
            .reporter
            .send(Report::Unschedulable(Unschedulable {
                uid: pod.uid.clone(),
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                scheduler_name: pod.scheduler_name.clone(),
                message,
            }));
        nominated_now
    }

    /// The noop algorithm: the next node in order, no check at all.
    fn round_robin(&mut self, snapshot: &Snapshot, pods: &[Arc<PodInfo>]) -> Vec<Option<Decision>> {
        let order = snapshot.node_order();
        pods.iter()
            .map(|_| {
                if order.is_empty() {
                    return Some(Decision::Unschedulable(FitError::new(
                        snapshot,
                        Vec::new(),
                        &[],
                    )));
                }
                let node = order[self.next_round_robin % order.len()];
                self.next_round_robin = self.next_round_robin.wrapping_add(1);
                Some(Decision::Scheduled(Placement {
                    node,
                    score: 0,
                    feasible_nodes: 1,
                    evaluated_nodes: 1,
                    node_version: snapshot.node_version(node),
                }))
            })
            .collect()
    }
}
