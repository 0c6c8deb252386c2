//! `--verify`: an independent checker of a run. It replays a recording of
//! every pod and node watch event from the start of the run, plus the final
//! state, and reports each broken invariant:
//!
//! - every pod is bound at most once and never moves (no rebind, no double
//!   bind), and the final state agrees with the replay;
//! - no node is ever over its allocatable cpu, memory, ephemeral storage,
//!   pods or extended resources;
//! - every required constraint holds at bind time: nodeSelector and required
//!   node affinity, NoSchedule/NoExecute taints and `spec.unschedulable`,
//!   required pod affinity and anti-affinity (both directions, any
//!   topologyKey), and DoNotSchedule topology spread;
//! - every preemption victim had a lower priority than its preemptor.
//!
//! **Invariant:** depends on `api` only, never on scheduler code: it is a
//! second implementation of the rules, so a shared bug cannot hide itself.

mod constraints;
mod facts;
mod replay;
mod spread;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use serde::{Deserialize, Serialize};

pub use facts::{NodeFacts, PodFacts, PodState};

/// Added, modified or deleted, as the watch said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change to one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Change {
    Pod { event: EventType, state: PodState },
    Node { event: EventType, node: NodeFacts },
}

/// One watch event as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// The store revision of the change (the object's resourceVersion);
    /// replay orders pod and node events by it.
    pub revision: u64,
    /// Milliseconds since the recording started.
    pub at_ms: u64,
    pub change: Change,
}

/// Everything the checker reads: the immutable facts of every pod seen, the
/// events in order, and the final state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Recording {
    /// Facts of every pod seen, by uid.
    pub pods: BTreeMap<String, PodFacts>,
    pub events: Vec<RecordedEvent>,
    /// Pods as listed after the run, if taken.
    #[serde(default)]
    pub final_pods: Option<Vec<PodState>>,
    /// The store revision of that listing. The watch records on after it
    /// (pods created last are still being bound), so the replay compares
    /// the listing with its state as of this revision; `None` compares with
    /// the end of the recording.
    #[serde(default)]
    pub final_revision: Option<u64>,
    /// Uids of pods the load driver deleted itself (churn); any other
    /// deletion of a bound pod is taken as a preemption.
    #[serde(default)]
    pub driver_deleted: BTreeSet<String>,
    /// How often a watch had to relist: each one is a gap in the history.
    #[serde(default)]
    pub relists: u32,
    /// The last state recorded per pod and node, to skip events that change
    /// nothing the checker reads (status heartbeats).
    #[serde(skip)]
    last_pod: HashMap<String, PodState>,
    #[serde(skip)]
    last_node: HashMap<String, NodeFacts>,
    /// The highest revision the watch delivered per pod uid, skipped
    /// events included.
    #[serde(skip)]
    seen_pod_revision: HashMap<String, u64>,
}

impl Recording {
    /// Records a pod watch event; returns whether it changed anything the
    /// checker reads.
    pub fn record_pod(&mut self, event: EventType, at_ms: u64, pod: &Pod) -> bool {
        let state = PodState::from_pod(pod);
        let revision = revision_of(pod.metadata.resource_version.as_deref());
        let seen = self.seen_pod_revision.entry(state.uid.clone()).or_default();
        *seen = (*seen).max(revision);
        if event == EventType::Modified && self.last_pod.get(&state.uid) == Some(&state) {
            return false;
        }
        if !self.pods.contains_key(&state.uid) {
            self.pods.insert(state.uid.clone(), PodFacts::from_pod(pod));
        }
        if event == EventType::Deleted {
            self.last_pod.remove(&state.uid);
        } else {
            self.last_pod.insert(state.uid.clone(), state.clone());
        }
        self.events.push(RecordedEvent {
            revision,
            at_ms,
            change: Change::Pod { event, state },
        });
        true
    }

    /// Records a node watch event; heartbeats that change none of the
    /// node's facts are skipped.
    pub fn record_node(&mut self, event: EventType, at_ms: u64, node: &Node) -> bool {
        let facts = NodeFacts::from_node(node);
        if event == EventType::Modified && self.last_node.get(&facts.name) == Some(&facts) {
            return false;
        }
        if event == EventType::Deleted {
            self.last_node.remove(&facts.name);
        } else {
            self.last_node.insert(facts.name.clone(), facts.clone());
        }
        self.events.push(RecordedEvent {
            revision: revision_of(node.metadata.resource_version.as_deref()),
            at_ms,
            change: Change::Node { event, node: facts },
        });
        true
    }

    /// Records the pods listed after the run, and the listing's
    /// resourceVersion.
    pub fn set_final_pods(&mut self, pods: &[Pod], resource_version: &str) {
        self.final_pods = Some(pods.iter().map(PodState::from_pod).collect());
        self.final_revision = Some(revision_of(Some(resource_version))).filter(|r| *r > 0);
    }

    /// How many of `pods` (a listing) the watch has not yet delivered at
    /// their listed resourceVersion or later. At 0 the recording holds every
    /// change the listing reflects: the watch delivers each pod's changes
    /// in order.
    pub fn not_yet_seen(&self, pods: &[Pod]) -> usize {
        pods.iter()
            .filter(|pod| {
                let uid = pod.metadata.uid.as_deref().unwrap_or_default();
                let listed = revision_of(pod.metadata.resource_version.as_deref());
                self.seen_pod_revision
                    .get(uid)
                    .is_none_or(|seen| *seen < listed)
            })
            .count()
    }
}

fn revision_of(resource_version: Option<&str>) -> u64 {
    resource_version.and_then(|rv| rv.parse().ok()).unwrap_or(0)
}

/// One broken invariant, naming the objects involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Violation {
    /// A bound pod's node changed, or it was bound again.
    Rebound {
        pod: String,
        first_node: String,
        second_node: String,
        revision: u64,
    },
    /// A pod was bound to a node the replay does not know.
    UnknownNode {
        pod: String,
        node: String,
        revision: u64,
    },
    /// A node's bound pods requested more than its allocatable.
    Overcommit {
        node: String,
        resource: String,
        requested: String,
        allocatable: String,
        pod: String,
        revision: u64,
    },
    /// A required constraint did not hold when the pod was bound.
    Constraint {
        pod: String,
        node: String,
        constraint: String,
        revision: u64,
    },
    /// A preemption victim's priority was not below its preemptor's.
    PriorityInversion {
        victim: String,
        victim_priority: i32,
        preemptor: String,
        preemptor_priority: i32,
        node: String,
        revision: u64,
    },
    /// A bound pod was deleted by someone other than the load driver while
    /// no pod was nominated to its node.
    UnexplainedDeletion {
        pod: String,
        node: String,
        revision: u64,
    },
    /// The final state disagrees with the replayed history.
    FinalStateMismatch { pod: String, detail: String },
    /// The recording has gaps (a watch relisted), so it cannot prove the
    /// invariants.
    IncompleteRecording { relists: u32 },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Rebound {
                pod,
                first_node,
                second_node,
                revision,
            } => write!(
                f,
                "double bind: pod {pod} bound to {first_node}, then to {second_node} (revision {revision})"
            ),
            Violation::UnknownNode {
                pod,
                node,
                revision,
            } => {
                write!(
                    f,
                    "pod {pod} bound to unknown node {node} (revision {revision})"
                )
            }
            Violation::Overcommit {
                node,
                resource,
                requested,
                allocatable,
                pod,
                revision,
            } => write!(
                f,
                "overcommit: node {node} {resource} requested {requested} > allocatable {allocatable} after binding {pod} (revision {revision})"
            ),
            Violation::Constraint {
                pod,
                node,
                constraint,
                revision,
            } => write!(
                f,
                "constraint: pod {pod} on node {node}: {constraint} (revision {revision})"
            ),
            Violation::PriorityInversion {
                victim,
                victim_priority,
                preemptor,
                preemptor_priority,
                node,
                revision,
            } => write!(
                f,
                "priority inversion: victim {victim} (priority {victim_priority}) preempted on node {node} for {preemptor} (priority {preemptor_priority}) (revision {revision})"
            ),
            Violation::UnexplainedDeletion {
                pod,
                node,
                revision,
            } => write!(
                f,
                "pod {pod} on node {node} deleted with no preemptor nominated there (revision {revision})"
            ),
            Violation::FinalStateMismatch { pod, detail } => {
                write!(f, "final state: pod {pod}: {detail}")
            }
            Violation::IncompleteRecording { relists } => write!(
                f,
                "recording incomplete: the watch relisted {relists} time(s)"
            ),
        }
    }
}

/// What the checker found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VerifyReport {
    pub events_replayed: usize,
    pub pods_seen: usize,
    pub binds: usize,
    pub preemption_victims: usize,
    pub violations: Vec<Violation>,
    /// Constraints the checker could not evaluate (e.g. a namespaceSelector,
    /// whose namespace labels are not recorded).
    pub unchecked: Vec<String>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Replays `recording` and returns every violation found.
pub fn verify(recording: &Recording) -> VerifyReport {
    replay::Replay::new(recording).run()
}
