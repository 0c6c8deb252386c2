//! The node table: a struct-of-arrays view of all nodes and their pods.
//!
//! A `Snapshot` is immutable once published; cloning one clones only `Arc`
//! pointers, and every write copies just the chunk, record or index entry it
//! touches (see `column`). Resources are dense columns indexed by
//! `ResourceIdx`; labels, taints, images and resource names are interned;
//! each label key has a value → node-slot index so node selectors become
//! bitset operations. Existing pods are grouped into classes (same namespace,
//! labels and affinity terms) with per-node counts, so inter-pod affinity and
//! spread count topology domains without scanning pods.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use crate::model::{HostPort, NodeIdx, NodeInfo, PodDisruptionBudgetInfo, PodInfo, Taint};
use crate::table::bitset::NodeBitset;
use crate::table::column::Column;
use crate::table::intern::{FastMap, Interner, StrId};

/// Index of a resource column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceIdx(pub u16);

impl ResourceIdx {
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// Milli-CPU column.
pub const RESOURCE_CPU: ResourceIdx = ResourceIdx(0);
/// Memory bytes column.
pub const RESOURCE_MEMORY: ResourceIdx = ResourceIdx(1);
/// Ephemeral storage bytes column.
pub const RESOURCE_EPHEMERAL_STORAGE: ResourceIdx = ResourceIdx(2);
/// Pod count column.
pub const RESOURCE_PODS: ResourceIdx = ResourceIdx(3);
const BUILTIN_RESOURCE_NAMES: [&str; 4] = ["cpu", "memory", "ephemeral-storage", "pods"];

/// An interned taint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaintId(pub u32);

/// Taints seen on any node, by id.
#[derive(Clone, Debug, Default)]
pub struct TaintTable {
    ids: HashMap<Taint, TaintId>,
    taints: Vec<Taint>,
}

impl TaintTable {
    pub(crate) fn intern(&mut self, taint: &Taint) -> TaintId {
        if let Some(id) = self.ids.get(taint) {
            return *id;
        }
        let id = TaintId(self.taints.len() as u32);
        self.taints.push(taint.clone());
        self.ids.insert(taint.clone(), id);
        id
    }

    /// All interned taints; a `TaintId` indexes this slice.
    pub fn all(&self) -> &[Taint] {
        &self.taints
    }
}

/// Per-node data that is not columnar.
#[derive(Clone, Debug)]
pub struct NodeRecord {
    pub info: Arc<NodeInfo>,
    /// Interned labels sorted by key.
    pub labels: Vec<(StrId, StrId)>,
    /// NoSchedule and NoExecute taints, in node order.
    pub filtering_taints: Vec<TaintId>,
    pub prefer_no_schedule_taints: Vec<TaintId>,
    pub pods: Vec<Arc<PodInfo>>,
    pub used_ports: Vec<HostPort>,
    /// Interned image names with sizes, sorted by name.
    pub images: Vec<(StrId, i64)>,
}

impl NodeRecord {
    /// The value of label `key` on this node.
    #[inline]
    pub fn label(&self, key: StrId) -> Option<StrId> {
        self.labels
            .binary_search_by(|(existing, _)| existing.cmp(&key))
            .ok()
            .map(|pos| self.labels[pos].1)
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }
}

/// Which node slots carry a label key, and which carry each value.
#[derive(Clone, Debug, Default)]
pub struct KeyIndex {
    pub exists: NodeBitset,
    pub by_value: FastMap<StrId, Vec<u32>>,
    /// Values carried by more than one node; 0 means every value names a
    /// single node (a hostname-like key), so per-node counts are domain counts.
    pub shared_values: usize,
}

impl KeyIndex {
    /// Whether each value of this key is carried by one node only.
    pub fn is_unique_per_node(&self) -> bool {
        self.shared_values == 0
    }
}

/// Existing pods sharing namespace, labels, termination state and affinity
/// terms, with how many sit on each node.
#[derive(Clone, Debug)]
pub struct PodClass {
    pub representative: Arc<PodInfo>,
    pub node_counts: FastMap<u32, u32>,
    /// Per label key, per value: pods of the class on nodes carrying that
    /// label (the class's counts per topology domain).
    pub domain_counts: FastMap<StrId, FastMap<StrId, u32>>,
    pub total: u32,
}

/// A pod nominated to a node by preemption, whose resources later
/// decisions keep free for it.
#[derive(Clone, Debug)]
pub struct NominatedPod {
    pub uid: String,
    pub priority: i32,
    pub requests: Vec<(ResourceIdx, i64)>,
}

/// What the pods of `nominated` (pods nominated to one node) reserve of
/// `resource` against a pod of `priority` with `uid`: those of at least its
/// priority, other than itself, as kube-scheduler counts them.
pub fn nominated_reservation(
    nominated: &[NominatedPod],
    priority: i32,
    uid: &str,
    resource: ResourceIdx,
) -> i64 {
    nominated
        .iter()
        .filter(|pod| pod.priority >= priority && pod.uid != uid)
        .flat_map(|pod| pod.requests.iter())
        .filter(|(column, _)| *column == resource)
        .map(|(_, amount)| *amount)
        .sum()
}

/// An immutable, generation-numbered view of the cluster for scheduling.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub(crate) generation: u64,
    pub(crate) strings: Arc<Interner>,
    pub(crate) taints: Arc<TaintTable>,
    pub(crate) resource_names: Arc<Vec<String>>,
    pub(crate) slot_count: usize,
    pub(crate) live: Arc<NodeBitset>,
    pub(crate) node_order: Arc<Vec<NodeIdx>>,
    pub(crate) node_by_name: Arc<HashMap<String, NodeIdx>>,
    pub(crate) free_slots: Vec<u32>,
    pub(crate) allocatable: Vec<Column<i64>>,
    pub(crate) requested: Vec<Column<i64>>,
    pub(crate) nonzero_milli_cpu: Column<i64>,
    pub(crate) nonzero_memory_bytes: Column<i64>,
    pub(crate) versions: Column<u64>,
    /// Per node: `spec.unschedulable`.
    pub(crate) unschedulable: Column<bool>,
    /// Per node: whether it has NoSchedule/NoExecute taints.
    pub(crate) has_filtering_taints: Column<bool>,
    pub(crate) records: Column<Option<Arc<NodeRecord>>>,
    pub(crate) label_index: Arc<FastMap<StrId, Arc<KeyIndex>>>,
    pub(crate) image_node_counts: Arc<FastMap<StrId, u32>>,
    pub(crate) prefer_no_schedule_nodes: usize,
    pub(crate) classes: Arc<Vec<Arc<PodClass>>>,
    pub(crate) class_by_fingerprint: Arc<FastMap<u64, Vec<u32>>>,
    pub(crate) namespace_labels: Arc<HashMap<String, BTreeMap<String, String>>>,
    pub(crate) pdbs: Arc<Vec<PodDisruptionBudgetInfo>>,
    /// Per node: the pods nominated to it (a column, so publishing after
    /// each nomination copies one chunk, not every node's list).
    pub(crate) nominated: Column<Option<Arc<Vec<NominatedPod>>>>,
    /// Nodes with a nominated pod.
    pub(crate) nominated_nodes: usize,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot::new()
    }
}

impl Snapshot {
    /// An empty cluster.
    pub fn new() -> Self {
        let resource_count = BUILTIN_RESOURCE_NAMES.len();
        Snapshot {
            generation: 0,
            strings: Arc::default(),
            taints: Arc::default(),
            resource_names: Arc::new(
                BUILTIN_RESOURCE_NAMES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            slot_count: 0,
            live: Arc::default(),
            node_order: Arc::default(),
            node_by_name: Arc::default(),
            free_slots: Vec::new(),
            allocatable: vec![Column::new(0); resource_count],
            requested: vec![Column::new(0); resource_count],
            nonzero_milli_cpu: Column::new(0),
            nonzero_memory_bytes: Column::new(0),
            versions: Column::new(0),
            unschedulable: Column::new(false),
            has_filtering_taints: Column::new(false),
            records: Column::new(None),
            label_index: Arc::default(),
            image_node_counts: Arc::default(),
            prefer_no_schedule_nodes: 0,
            classes: Arc::default(),
            class_by_fingerprint: Arc::default(),
            namespace_labels: Arc::default(),
            pdbs: Arc::default(),
            nominated: Column::new(None),
            nominated_nodes: 0,
        }
    }

    // ---- Reads ----

    /// The generation this snapshot was published as.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of live nodes.
    pub fn node_count(&self) -> usize {
        self.node_order.len()
    }

    /// Live nodes in scheduling order.
    pub fn node_order(&self) -> &[NodeIdx] {
        &self.node_order
    }

    /// The slot of the node called `name`.
    pub fn node_by_name(&self, name: &str) -> Option<NodeIdx> {
        self.node_by_name.get(name).copied()
    }

    /// The record of a live node.
    #[inline]
    pub fn record(&self, node: NodeIdx) -> Option<&NodeRecord> {
        self.records.get(node.get()).as_deref()
    }

    /// The name of a node (empty for a dead slot).
    pub fn node_name(&self, node: NodeIdx) -> &str {
        self.record(node).map(|record| record.name()).unwrap_or("")
    }

    /// Allocatable amount of `resource` on `node`.
    #[inline]
    pub fn allocatable(&self, resource: ResourceIdx, node: NodeIdx) -> i64 {
        self.allocatable
            .get(resource.get())
            .map(|column| *column.get(node.get()))
            .unwrap_or(0)
    }

    /// Requested amount of `resource` on `node` by its pods.
    #[inline]
    pub fn requested(&self, resource: ResourceIdx, node: NodeIdx) -> i64 {
        self.requested
            .get(resource.get())
            .map(|column| *column.get(node.get()))
            .unwrap_or(0)
    }

    /// Non-zero (scoring) CPU request sum on `node`.
    #[inline]
    pub fn nonzero_requested_milli_cpu(&self, node: NodeIdx) -> i64 {
        *self.nonzero_milli_cpu.get(node.get())
    }

    /// Non-zero (scoring) memory request sum on `node`.
    #[inline]
    pub fn nonzero_requested_memory_bytes(&self, node: NodeIdx) -> i64 {
        *self.nonzero_memory_bytes.get(node.get())
    }

    /// Whether `node` is cordoned (`spec.unschedulable`).
    #[inline]
    pub fn is_unschedulable(&self, node: NodeIdx) -> bool {
        *self.unschedulable.get(node.get())
    }

    /// Whether `node` has NoSchedule or NoExecute taints.
    #[inline]
    pub fn has_filtering_taints(&self, node: NodeIdx) -> bool {
        *self.has_filtering_taints.get(node.get())
    }

    /// The version of `node`, bumped on every change to it.
    #[inline]
    pub fn node_version(&self, node: NodeIdx) -> u64 {
        *self.versions.get(node.get())
    }

    /// The string table.
    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    /// The taint table.
    pub fn taint_table(&self) -> &TaintTable {
        &self.taints
    }

    /// Name of a resource column.
    pub fn resource_name(&self, resource: ResourceIdx) -> &str {
        self.resource_names
            .get(resource.get())
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    /// The column of a resource by name.
    pub fn resource_by_name(&self, name: &str) -> Option<ResourceIdx> {
        self.resource_names
            .iter()
            .position(|existing| existing == name)
            .map(|pos| ResourceIdx(pos as u16))
    }

    /// The label index entry of a key.
    pub fn key_index(&self, key: StrId) -> Option<&KeyIndex> {
        self.label_index.get(&key).map(|index| &**index)
    }

    /// Live node slots as a bitset.
    pub fn live_nodes(&self) -> &NodeBitset {
        &self.live
    }

    /// Total slots ever allocated (live or free).
    pub fn slot_count(&self) -> usize {
        self.slot_count
    }

    /// How many nodes hold the image.
    pub fn image_node_count(&self, image: StrId) -> u32 {
        self.image_node_counts.get(&image).copied().unwrap_or(0)
    }

    /// Whether any node has a PreferNoSchedule taint.
    pub fn has_prefer_no_schedule_taints(&self) -> bool {
        self.prefer_no_schedule_nodes > 0
    }

    /// Classes of existing pods (some may be empty).
    pub fn pod_classes(&self) -> &[Arc<PodClass>] {
        &self.classes
    }

    /// Labels of a namespace (empty if unknown).
    pub fn namespace_labels(&self, namespace: &str) -> Option<&BTreeMap<String, String>> {
        self.namespace_labels.get(namespace)
    }

    /// PodDisruptionBudgets.
    pub fn pdbs(&self) -> &[PodDisruptionBudgetInfo] {
        &self.pdbs
    }

    /// Pods nominated to `node`.
    pub fn nominated_pods(&self, node: NodeIdx) -> &[NominatedPod] {
        self.nominated
            .get(node.get())
            .as_deref()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether any pod is nominated anywhere.
    pub fn has_nominated_pods(&self) -> bool {
        self.nominated_nodes > 0
    }

    /// A pod's requests as resource columns; extended resources no node has
    /// are returned by name in the second list.
    pub fn pod_request_vector(&self, pod: &PodInfo) -> (Vec<(ResourceIdx, i64)>, Vec<String>) {
        let mut vector = Vec::with_capacity(4 + pod.requests.extended.len());
        let mut unknown = Vec::new();
        vector.push((RESOURCE_CPU, pod.requests.milli_cpu));
        vector.push((RESOURCE_MEMORY, pod.requests.memory_bytes));
        vector.push((
            RESOURCE_EPHEMERAL_STORAGE,
            pod.requests.ephemeral_storage_bytes,
        ));
        for (name, amount) in &pod.requests.extended {
            match self.resource_by_name(name) {
                Some(resource) => vector.push((resource, *amount)),
                None if *amount > 0 => unknown.push(name.clone()),
                None => {}
            }
        }
        (vector, unknown)
    }
}
