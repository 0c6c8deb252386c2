//! Pod bookkeeping of the loop: watch events into the cluster state and the
//! queue, bind results, and shard ownership.
//!
//! A pod this process placed is *assumed*: counted on its node before the
//! apiserver confirms. The watch event of the bound pod settles it (it is
//! skipped when it says exactly what was assumed); a failed bind of an
//! unsettled pod restores the pod's unbound view (forgetting the
//! assumption) and requeues it with backoff.

use std::collections::HashSet;
use std::sync::Arc;

use scheduler::queue::QueueEvent;
use scheduler::{ClusterEvent, PodInfo};

use super::SchedulingLoop;
use crate::event::{BindOutcome, Change, Changes, Report};
use crate::metrics::AttemptResult;
use crate::rendezvous;

impl SchedulingLoop {
    pub(super) fn apply_pods(&mut self, changes: Changes<Arc<PodInfo>>) {
        if changes.restart {
            let present: HashSet<&str> = changes
                .changes
                .iter()
                .filter_map(|change| match change {
                    Change::Upsert(pod) => Some(pod.uid.as_str()),
                    Change::Delete(_) => None,
                })
                .collect();
            let gone: Vec<String> = self
                .pods
                .keys()
                .filter(|uid| !present.contains(uid.as_str()))
                .cloned()
                .collect();
            for uid in gone {
                self.delete_pod(&uid);
            }
            self.synced.pods = true;
        }
        for change in changes.changes {
            match change {
                Change::Upsert(pod) => self.upsert_pod(pod),
                Change::Delete(uid) => self.delete_pod(&uid),
            }
        }
    }

    fn upsert_pod(&mut self, mut pod: Arc<PodInfo>) {
        let uid = pod.uid.clone();
        if pod.node_name.is_none()
            && pod.nominated_node_name.is_none()
            && let Some(node) = self.preemptions.nominated_node(&uid)
        {
            // Written before the nomination reached the store: keep
            // holding the room.
            let mut nominated = PodInfo::clone(&pod);
            nominated.nominated_node_name = Some(node.to_string());
            pod = Arc::new(nominated);
        }
        let previous = self.pods.insert(uid.clone(), pod.clone());
        if pod.node_name.is_some() {
            self.queue.delete(&uid);
            self.preemptions.forget(&uid);
            if self.reported.remove(&uid) {
                let _ = self
                    .outputs
                    .reporter
                    .send(Report::Forget { uid: uid.clone() });
            }
            let was_bound = previous.as_ref().is_some_and(|p| p.node_name.is_some());
            if let Some(binding) = self.binding.get_mut(&uid)
                && !binding.settled
            {
                binding.settled = true;
                if *binding.assumed == *pod {
                    // The bind this process sent, exactly as assumed.
                    self.note(QueueEvent::AssignedPodAdded);
                    return;
                }
            } else if was_bound && previous.as_deref() == Some(&*pod) {
                // A status-only change.
                return;
            }
            self.note(if was_bound {
                QueueEvent::AssignedPodUpdated
            } else {
                QueueEvent::AssignedPodAdded
            });
            self.apply(ClusterEvent::PodUpserted(pod));
            return;
        }
        if previous.as_deref() == Some(&*pod) {
            // Nothing the scheduler reads changed (conditions, for one).
            return;
        }
        let assumed = self
            .binding
            .get(&uid)
            .is_some_and(|binding| !binding.settled);
        let nominated = pod.nominated_node_name.is_some()
            || previous
                .as_ref()
                .is_some_and(|p| p.nominated_node_name.is_some());
        if !assumed && nominated {
            // Reserve (or release) room on the nominated node.
            self.apply(ClusterEvent::PodUpserted(pod.clone()));
        }
        if self.wants(&pod) {
            self.queue.add(pod, self.now());
        } else {
            self.queue.delete(&uid);
        }
    }

    fn delete_pod(&mut self, uid: &str) {
        let Some(previous) = self.pods.remove(uid) else {
            return;
        };
        self.queue.delete(uid);
        for preemptor in self.preemptions.pod_gone(uid) {
            // Room on the node it is nominated to is free.
            self.queue.activate(&preemptor);
        }
        if self.reported.remove(uid) {
            let _ = self.outputs.reporter.send(Report::Forget {
                uid: uid.to_string(),
            });
        }
        if let Some(binding) = self.binding.get_mut(uid) {
            binding.settled = true;
        }
        if previous.node_name.is_some() {
            self.note(QueueEvent::AssignedPodDeleted);
        }
        self.apply(ClusterEvent::PodDeleted {
            uid: uid.to_string(),
        });
    }

    /// Results of one `batch_bind` request.
    pub(super) fn bound(&mut self, outcomes: Vec<BindOutcome>) {
        let now = self.now();
        let mut scheduled: Vec<(String, f64, u32)> = Vec::new();
        let mut failed: Vec<(String, f64)> = Vec::new();
        for outcome in outcomes {
            let Some(binding) = self.binding.remove(&outcome.uid) else {
                continue;
            };
            let seconds = binding.started.elapsed().as_secs_f64();
            let profile = binding.assumed.scheduler_name.clone();
            match outcome.result {
                Ok(()) => {
                    self.queue.done(&outcome.uid);
                    if self.reported.remove(&outcome.uid) {
                        let _ = self.outputs.reporter.send(Report::Forget {
                            uid: outcome.uid.clone(),
                        });
                    }
                    scheduled.push((profile, seconds, binding.attempts));
                }
                Err(message) => {
                    tracing::debug!(uid = %outcome.uid, %message, "bind failed; requeueing");
                    failed.push((profile, seconds));
                    let pending = self
                        .pods
                        .get(&outcome.uid)
                        .filter(|pod| pod.node_name.is_none())
                        .cloned();
                    if !binding.settled
                        && let Some(pod) = &pending
                    {
                        // Forget the assumption: back to the unbound view
                        // (which may hold a nomination).
                        self.apply(ClusterEvent::PodUpserted(pod.clone()));
                    }
                    if self.queue.contains(&outcome.uid) {
                        self.queue.requeue_error(&outcome.uid, now);
                    } else if let Some(pod) = pending
                        && self.wants(&pod)
                    {
                        self.queue.add(pod, now);
                    }
                }
            }
        }
        self.metrics.record(|recorder| {
            for (profile, seconds, attempts) in &scheduled {
                recorder.attempts(profile, AttemptResult::Scheduled, *seconds, 1);
                recorder.scheduled_after(*attempts);
            }
            for (profile, seconds) in &failed {
                recorder.attempts(profile, AttemptResult::Error, *seconds, 1);
            }
        });
    }

    /// After the live shards changed: queue pods this shard now owns, drop
    /// the ones it no longer does.
    pub(super) fn reconcile_ownership(&mut self) {
        let now = self.now();
        let mut to_add = Vec::new();
        let mut to_drop = Vec::new();
        for (uid, pod) in &self.pods {
            if pod.node_name.is_some() || self.binding.contains_key(uid) {
                continue;
            }
            let wanted = self.wants(pod);
            let queued = self.queue.contains(uid);
            if wanted && !queued {
                to_add.push(pod.clone());
            } else if !wanted && queued {
                to_drop.push(uid.clone());
            }
        }
        for uid in to_drop {
            self.queue.delete(&uid);
        }
        for pod in to_add {
            self.queue.add(pod, now);
        }
    }

    /// Whether this shard owns a pending pod.
    fn owns(&self, uid: &str) -> bool {
        self.settings.shard_count <= 1
            || rendezvous::owner(uid, &self.membership.live_shards)
                == Some(self.settings.shard_index)
    }

    /// Whether the pod is pending, served by a profile and owned here.
    pub(super) fn wants(&self, pod: &PodInfo) -> bool {
        pod.node_name.is_none()
            && !pod.terminating
            && self.profiles.get(&pod.scheduler_name).is_some()
            && self.owns(&pod.uid)
    }
}
