//! The single writer of the node table.
//!
//! `ClusterState` applies cluster events to a working `Snapshot` (each event
//! costs in proportion to what it changes, thanks to copy-on-write chunks) and
//! publishes immutable generation-numbered snapshots through `arc-swap`.
//! Readers (`SnapshotReader`) never block the writer or each other.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::model::{NodeIdx, NodeInfo, PodDisruptionBudgetInfo, PodInfo};
use crate::table::snapshot::Snapshot;

/// Everything that changes the scheduler's view of the cluster.
#[derive(Clone, Debug)]
pub enum ClusterEvent {
    /// A node was added or changed.
    NodeUpserted(NodeInfo),
    /// A node was deleted.
    NodeDeleted { name: String },
    /// A pod was added or changed; bound pods count on their node, unbound
    /// pods with a nominated node reserve room there.
    PodUpserted(Arc<PodInfo>),
    /// A pod was deleted.
    PodDeleted { uid: String },
    /// A namespace was added or its labels changed.
    NamespaceUpserted {
        name: String,
        labels: BTreeMap<String, String>,
    },
    /// A namespace was deleted.
    NamespaceDeleted { name: String },
    /// A PodDisruptionBudget was added or changed.
    PdbUpserted(PodDisruptionBudgetInfo),
    /// A PodDisruptionBudget was deleted.
    PdbDeleted { namespace: String, name: String },
}

/// Where the writer last put a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PodLocation {
    Bound(NodeIdx),
    Nominated(NodeIdx),
}

/// The writer: owns the working snapshot and publishes copies of it.
pub struct ClusterState {
    /// The mutable copy events are applied to.
    working: Snapshot,
    /// Pod uid → where it is counted; writer-only bookkeeping.
    pod_locations: HashMap<String, PodLocation>,
    /// Bound pods whose node is not known yet, replayed when it appears.
    orphan_pods: HashMap<String, Arc<PodInfo>>,
    /// The latest published snapshot, shared with readers.
    published: Arc<ArcSwap<Snapshot>>,
}

/// A cheap handle readers use to load the latest snapshot.
#[derive(Clone)]
pub struct SnapshotReader {
    published: Arc<ArcSwap<Snapshot>>,
}

impl SnapshotReader {
    /// The latest published snapshot.
    pub fn load(&self) -> Arc<Snapshot> {
        self.published.load_full()
    }
}

impl Default for ClusterState {
    fn default() -> Self {
        ClusterState::new()
    }
}

impl ClusterState {
    /// An empty cluster with generation 0 published.
    pub fn new() -> Self {
        ClusterState {
            working: Snapshot::new(),
            pod_locations: HashMap::new(),
            orphan_pods: HashMap::new(),
            published: Arc::new(ArcSwap::from_pointee(Snapshot::new())),
        }
    }

    /// A handle for readers.
    pub fn reader(&self) -> SnapshotReader {
        SnapshotReader {
            published: self.published.clone(),
        }
    }

    /// The working (unpublished) snapshot.
    pub fn working(&self) -> &Snapshot {
        &self.working
    }

    /// Applies one event to the working snapshot.
    pub fn apply(&mut self, event: ClusterEvent) {
        match event {
            ClusterEvent::NodeUpserted(info) => {
                let name = info.name.clone();
                self.working.upsert_node(info);
                let waiting: Vec<Arc<PodInfo>> = self
                    .orphan_pods
                    .values()
                    .filter(|pod| pod.node_name.as_deref() == Some(name.as_str()))
                    .cloned()
                    .collect();
                for pod in waiting {
                    self.orphan_pods.remove(&pod.uid);
                    self.upsert_pod(pod);
                }
            }
            ClusterEvent::NodeDeleted { name } => {
                if let Some(node) = self.working.node_by_name(&name) {
                    self.pod_locations.retain(|_, location| {
                        !matches!(location, PodLocation::Bound(n) | PodLocation::Nominated(n) if *n == node)
                    });
                }
                self.working.remove_node(&name);
            }
            ClusterEvent::PodUpserted(pod) => self.upsert_pod(pod),
            ClusterEvent::PodDeleted { uid } => self.remove_pod(&uid),
            ClusterEvent::NamespaceUpserted { name, labels } => {
                self.working.upsert_namespace(&name, labels)
            }
            ClusterEvent::NamespaceDeleted { name } => self.working.remove_namespace(&name),
            ClusterEvent::PdbUpserted(pdb) => self.working.upsert_pdb(pdb),
            ClusterEvent::PdbDeleted { namespace, name } => {
                self.working.remove_pdb(&namespace, &name)
            }
        }
    }

    /// Records a scheduling decision before the bind is confirmed by a watch
    /// event (which then replaces it idempotently).
    pub fn assume(&mut self, pod: &PodInfo, node_name: &str) {
        let mut bound = pod.clone();
        bound.node_name = Some(node_name.to_string());
        bound.nominated_node_name = None;
        self.upsert_pod(Arc::new(bound));
    }

    /// Publishes the working snapshot as the next generation.
    pub fn publish(&mut self) -> Arc<Snapshot> {
        let generation = self.working.generation() + 1;
        self.working.set_generation(generation);
        let snapshot = Arc::new(self.working.clone());
        self.published.store(snapshot.clone());
        snapshot
    }

    fn upsert_pod(&mut self, pod: Arc<PodInfo>) {
        // A new version of a pod already counted on its node (the bind
        // confirming an assumption, the kubelet's status updates) usually
        // changes nothing the table counts.
        if let Some(&PodLocation::Bound(node)) = self.pod_locations.get(&pod.uid)
            && pod.node_name.as_deref() == Some(self.working.node_name(node))
            && self.working.refresh_pod(node, &pod)
        {
            return;
        }
        self.remove_pod(&pod.uid);
        if let Some(node_name) = pod.node_name.as_deref() {
            match self.working.node_by_name(node_name) {
                Some(node) => {
                    self.working.add_pod(node, pod.clone());
                    self.pod_locations
                        .insert(pod.uid.clone(), PodLocation::Bound(node));
                }
                None => {
                    self.orphan_pods.insert(pod.uid.clone(), pod);
                }
            }
        } else if let Some(nominated) = pod.nominated_node_name.as_deref()
            && let Some(node) = self.working.node_by_name(nominated)
        {
            self.working.add_nominated_pod(node, &pod);
            self.pod_locations
                .insert(pod.uid.clone(), PodLocation::Nominated(node));
        }
    }

    fn remove_pod(&mut self, uid: &str) {
        self.orphan_pods.remove(uid);
        match self.pod_locations.remove(uid) {
            Some(PodLocation::Bound(node)) => {
                self.working.remove_pod(node, uid);
            }
            Some(PodLocation::Nominated(node)) => self.working.remove_nominated_pod(node, uid),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceAmounts;
    use crate::table::snapshot::RESOURCE_CPU;

    fn node(name: &str) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            allocatable: ResourceAmounts {
                milli_cpu: 4000,
                ..ResourceAmounts::default()
            },
            allocatable_pods: 110,
            ..NodeInfo::default()
        }
    }

    fn pod(uid: &str, node: &str, milli_cpu: i64) -> PodInfo {
        PodInfo {
            uid: uid.into(),
            name: uid.into(),
            namespace: "default".into(),
            requests: ResourceAmounts {
                milli_cpu,
                ..ResourceAmounts::default()
            },
            node_name: Some(node.into()),
            ..PodInfo::default()
        }
    }

    fn state() -> ClusterState {
        let mut state = ClusterState::new();
        state.apply(ClusterEvent::NodeUpserted(node("a")));
        state.apply(ClusterEvent::NodeUpserted(node("b")));
        state
    }

    /// (cpu requested, version, recorded start time of `uid`) on `node`.
    fn on_node(state: &ClusterState, node: &str, uid: &str) -> (i64, u64, Option<i64>) {
        let snapshot = state.working();
        let idx = snapshot.node_by_name(node).unwrap();
        let start = snapshot
            .record(idx)
            .unwrap()
            .pods
            .iter()
            .find(|pod| pod.uid == uid)
            .and_then(|pod| pod.start_time_unix_seconds);
        (
            snapshot.requested(RESOURCE_CPU, idx),
            snapshot.node_version(idx),
            start,
        )
    }

    #[test]
    fn a_new_version_that_changes_nothing_counted_keeps_the_node_as_is() {
        let mut state = state();
        state.assume(&pod("p", "", 500), "a");
        let before = on_node(&state, "a", "p");
        assert_eq!(before.0, 500);
        // The bind's watch event confirms the assumption.
        state.apply(ClusterEvent::PodUpserted(Arc::new(pod("p", "a", 500))));
        assert_eq!(on_node(&state, "a", "p"), before);
        // The kubelet's Running status sets the start time, which
        // preemption reads from the recorded pod.
        let mut running = pod("p", "a", 500);
        running.start_time_unix_seconds = Some(1_700_000_000);
        state.apply(ClusterEvent::PodUpserted(Arc::new(running)));
        assert_eq!(
            on_node(&state, "a", "p"),
            (500, before.1, Some(1_700_000_000))
        );
        assert_eq!(
            state
                .working()
                .record(state.working().node_by_name("a").unwrap())
                .unwrap()
                .pods
                .len(),
            1
        );
    }

    #[test]
    fn a_new_version_that_changes_what_is_counted_is_moved_or_recounted() {
        let mut state = state();
        state.apply(ClusterEvent::PodUpserted(Arc::new(pod("p", "a", 500))));
        let before = on_node(&state, "a", "p");
        state.apply(ClusterEvent::PodUpserted(Arc::new(pod("p", "a", 700))));
        let after = on_node(&state, "a", "p");
        assert_eq!(after.0, 700);
        assert!(
            after.1 > before.1,
            "the node's version moves: {before:?} → {after:?}"
        );
        state.apply(ClusterEvent::PodUpserted(Arc::new(pod("p", "b", 700))));
        assert_eq!(on_node(&state, "a", "p").0, 0);
        assert_eq!(on_node(&state, "b", "p").0, 700);
        let mut terminating = pod("p", "b", 700);
        terminating.terminating = true;
        state.apply(ClusterEvent::PodUpserted(Arc::new(terminating)));
        let b = state.working().node_by_name("b").unwrap();
        assert!(state.working().record(b).unwrap().pods[0].terminating);
    }
}
