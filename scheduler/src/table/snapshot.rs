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
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use crate::model::{
    HostPort, NodeIdx, NodeInfo, PodDisruptionBudgetInfo, PodInfo, Taint, TaintEffect,
};
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
    fn intern(&mut self, taint: &Taint) -> TaintId {
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
    pub(crate) nominated: Arc<FastMap<u32, Vec<NominatedPod>>>,
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
            nominated: Arc::default(),
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
            .get(&node.0)
            .map(|pods| pods.as_slice())
            .unwrap_or(&[])
    }

    /// Whether any pod is nominated anywhere.
    pub fn has_nominated_pods(&self) -> bool {
        !self.nominated.is_empty()
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

    // ---- Writes (only on the writer's working copy or a batch's copy) ----

    pub(crate) fn set_generation(&mut self, generation: u64) {
        self.generation = generation;
    }

    fn resource_column(&mut self, name: &str) -> ResourceIdx {
        if let Some(resource) = self.resource_by_name(name) {
            return resource;
        }
        Arc::make_mut(&mut self.resource_names).push(name.to_string());
        self.allocatable.push(Column::new(0));
        self.requested.push(Column::new(0));
        ResourceIdx((self.resource_names.len() - 1) as u16)
    }

    fn intern(&mut self, text: &str) -> StrId {
        match self.strings.get(text) {
            Some(id) => id,
            None => Arc::make_mut(&mut self.strings).intern(text),
        }
    }

    fn bump_version(&mut self, node: NodeIdx) {
        *self.versions.get_mut(node.get()) += 1;
    }

    /// Adds a node or replaces its static data, keeping its pods.
    pub fn upsert_node(&mut self, info: NodeInfo) -> NodeIdx {
        let info = Arc::new(info);
        let existing = self.node_by_name(&info.name);
        let mut readd = Vec::new();
        let node = match existing {
            Some(node) => {
                if let Some(record) = self.records.get(node.get()).clone() {
                    // Pods are taken off and put back so class domain counts
                    // follow the node's new labels.
                    for pod in &record.pods {
                        self.remove_pod(node, &pod.uid);
                    }
                    self.unindex_node_static(node, &record);
                    readd = record.pods.clone();
                }
                node
            }
            None => {
                let slot = match self.free_slots.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slot_count += 1;
                        (self.slot_count - 1) as u32
                    }
                };
                let node = NodeIdx(slot);
                Arc::make_mut(&mut self.node_by_name).insert(info.name.clone(), node);
                Arc::make_mut(&mut self.node_order).push(node);
                Arc::make_mut(&mut self.live).insert(node.get());
                node
            }
        };
        let mut labels: Vec<(StrId, StrId)> = info
            .labels
            .iter()
            .map(|(key, value)| (self.intern(key), self.intern(value)))
            .collect();
        labels.sort_unstable();
        let mut filtering_taints = Vec::new();
        let mut prefer_no_schedule_taints = Vec::new();
        for taint in &info.taints {
            let id = Arc::make_mut(&mut self.taints).intern(taint);
            if taint.effect == TaintEffect::PreferNoSchedule {
                prefer_no_schedule_taints.push(id);
            } else {
                filtering_taints.push(id);
            }
        }
        let mut images: Vec<(StrId, i64)> = Vec::new();
        for image in &info.images {
            for name in &image.names {
                let id = self.intern(name);
                images.push((id, image.size_bytes));
            }
        }
        images.sort_unstable();
        images.dedup_by_key(|(id, _)| *id);

        let slot = node.get();
        let amounts = [
            (RESOURCE_CPU, info.allocatable.milli_cpu),
            (RESOURCE_MEMORY, info.allocatable.memory_bytes),
            (
                RESOURCE_EPHEMERAL_STORAGE,
                info.allocatable.ephemeral_storage_bytes,
            ),
            (RESOURCE_PODS, info.allocatable_pods),
        ];
        for column in &mut self.allocatable {
            if *column.get(slot) != 0 {
                column.set(slot, 0);
            }
        }
        for (resource, amount) in amounts {
            self.allocatable[resource.get()].set(slot, amount);
        }
        for (name, amount) in &info.extended_allocatable() {
            let resource = self.resource_column(name);
            self.allocatable[resource.get()].set(slot, *amount);
        }
        let record = NodeRecord {
            info,
            labels,
            filtering_taints,
            prefer_no_schedule_taints,
            pods: Vec::new(),
            used_ports: Vec::new(),
            images,
        };
        self.index_node_static(node, &record);
        self.unschedulable.set(slot, record.info.unschedulable);
        self.has_filtering_taints
            .set(slot, !record.filtering_taints.is_empty());
        self.records.set(slot, Some(Arc::new(record)));
        for pod in readd {
            self.add_pod(node, pod);
        }
        self.bump_version(node);
        node
    }

    /// Removes a node and the pods bound to it from all indexes.
    pub fn remove_node(&mut self, name: &str) -> Option<NodeIdx> {
        let node = self.node_by_name(name)?;
        let record = self.records.get(node.get()).clone()?;
        for pod in &record.pods {
            self.remove_pod(node, &pod.uid);
        }
        self.unindex_node_static(node, &record);
        let slot = node.get();
        for column in self.allocatable.iter_mut().chain(self.requested.iter_mut()) {
            column.set(slot, 0);
        }
        self.nonzero_milli_cpu.set(slot, 0);
        self.nonzero_memory_bytes.set(slot, 0);
        self.records.set(slot, None);
        self.unschedulable.set(slot, false);
        self.has_filtering_taints.set(slot, false);
        self.bump_version(node);
        Arc::make_mut(&mut self.node_by_name).remove(name);
        Arc::make_mut(&mut self.node_order).retain(|existing| *existing != node);
        Arc::make_mut(&mut self.live).remove(slot);
        Arc::make_mut(&mut self.nominated).remove(&node.0);
        self.free_slots.push(node.0);
        Some(node)
    }

    fn index_node_static(&mut self, node: NodeIdx, record: &NodeRecord) {
        let slot = node.get();
        let index = Arc::make_mut(&mut self.label_index);
        for (key, value) in &record.labels {
            let entry = Arc::make_mut(index.entry(*key).or_default());
            entry.exists.insert(slot);
            let posting = entry.by_value.entry(*value).or_default();
            posting.push(node.0);
            if posting.len() == 2 {
                entry.shared_values += 1;
            }
        }
        if !record.images.is_empty() {
            let counts = Arc::make_mut(&mut self.image_node_counts);
            for (image, _) in &record.images {
                *counts.entry(*image).or_default() += 1;
            }
        }
        if !record.prefer_no_schedule_taints.is_empty() {
            self.prefer_no_schedule_nodes += 1;
        }
    }

    fn unindex_node_static(&mut self, node: NodeIdx, record: &NodeRecord) {
        let slot = node.get();
        let index = Arc::make_mut(&mut self.label_index);
        for (key, value) in &record.labels {
            if let Some(entry) = index.get_mut(key) {
                let entry = Arc::make_mut(entry);
                entry.exists.remove(slot);
                if let Some(posting) = entry.by_value.get_mut(value) {
                    let was_shared = posting.len() >= 2;
                    posting.retain(|existing| *existing != node.0);
                    if was_shared && posting.len() < 2 {
                        entry.shared_values -= 1;
                    }
                    if posting.is_empty() {
                        entry.by_value.remove(value);
                    }
                }
            }
        }
        if !record.images.is_empty() {
            let counts = Arc::make_mut(&mut self.image_node_counts);
            for (image, _) in &record.images {
                if let Some(count) = counts.get_mut(image) {
                    *count = count.saturating_sub(1);
                }
            }
        }
        if !record.prefer_no_schedule_taints.is_empty() {
            self.prefer_no_schedule_nodes = self.prefer_no_schedule_nodes.saturating_sub(1);
        }
    }

    /// Records `pod` as running on `node` (bound or assumed).
    pub fn add_pod(&mut self, node: NodeIdx, pod: Arc<PodInfo>) {
        let slot = node.get();
        let Some(record) = self.records.get_mut(slot).as_mut() else {
            return;
        };
        let record = Arc::make_mut(record);
        record.used_ports.extend(pod.host_ports.iter().cloned());
        record.pods.push(pod.clone());
        self.adjust_requests(node, &pod, 1);
        self.adjust_class(node, &pod, 1);
        self.bump_version(node);
    }

    /// Removes the pod with `uid` from `node`; returns it if it was there.
    pub fn remove_pod(&mut self, node: NodeIdx, uid: &str) -> Option<Arc<PodInfo>> {
        let slot = node.get();
        let record = Arc::make_mut(self.records.get_mut(slot).as_mut()?);
        let position = record.pods.iter().position(|pod| pod.uid == uid)?;
        let pod = record.pods.swap_remove(position);
        if !pod.host_ports.is_empty() {
            record.used_ports = record
                .pods
                .iter()
                .flat_map(|pod| pod.host_ports.iter().cloned())
                .collect();
        }
        self.adjust_requests(node, &pod, -1);
        self.adjust_class(node, &pod, -1);
        self.bump_version(node);
        Some(pod)
    }

    fn adjust_requests(&mut self, node: NodeIdx, pod: &PodInfo, sign: i64) {
        let slot = node.get();
        let builtin = [
            (RESOURCE_CPU, pod.requests.milli_cpu),
            (RESOURCE_MEMORY, pod.requests.memory_bytes),
            (
                RESOURCE_EPHEMERAL_STORAGE,
                pod.requests.ephemeral_storage_bytes,
            ),
            (RESOURCE_PODS, 1),
        ];
        for (resource, amount) in builtin {
            if amount != 0 {
                *self.requested[resource.get()].get_mut(slot) += sign * amount;
            }
        }
        for (name, amount) in &pod.requests.extended {
            let resource = self.resource_column(name);
            *self.requested[resource.get()].get_mut(slot) += sign * amount;
        }
        *self.nonzero_milli_cpu.get_mut(slot) += sign * pod.nonzero_milli_cpu;
        *self.nonzero_memory_bytes.get_mut(slot) += sign * pod.nonzero_memory_bytes;
    }

    fn adjust_class(&mut self, node: NodeIdx, pod: &Arc<PodInfo>, sign: i64) {
        let fingerprint = class_fingerprint(pod);
        let existing = self.class_by_fingerprint.get(&fingerprint).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|id| same_class(&self.classes[*id as usize].representative, pod))
        });
        let class_id = match existing {
            Some(id) => id,
            None => {
                if sign < 0 {
                    return;
                }
                let classes = Arc::make_mut(&mut self.classes);
                let id = classes.len() as u32;
                classes.push(Arc::new(PodClass {
                    representative: pod.clone(),
                    node_counts: FastMap::default(),
                    domain_counts: FastMap::default(),
                    total: 0,
                }));
                Arc::make_mut(&mut self.class_by_fingerprint)
                    .entry(fingerprint)
                    .or_default()
                    .push(id);
                id
            }
        };
        let labels: &[(StrId, StrId)] = match self.records.get(node.get()) {
            Some(record) => &record.labels,
            None => &[],
        };
        let classes = Arc::make_mut(&mut self.classes);
        let class = Arc::make_mut(&mut classes[class_id as usize]);
        if sign > 0 {
            *class.node_counts.entry(node.0).or_default() += 1;
            class.total += 1;
            for (key, value) in labels {
                *class
                    .domain_counts
                    .entry(*key)
                    .or_default()
                    .entry(*value)
                    .or_default() += 1;
            }
        } else if let Some(count) = class.node_counts.get_mut(&node.0) {
            *count -= 1;
            if *count == 0 {
                class.node_counts.remove(&node.0);
            }
            class.total = class.total.saturating_sub(1);
            for (key, value) in labels {
                if let Some(values) = class.domain_counts.get_mut(key) {
                    if let Some(count) = values.get_mut(value) {
                        *count -= 1;
                        if *count == 0 {
                            values.remove(value);
                        }
                    }
                    if values.is_empty() {
                        class.domain_counts.remove(key);
                    }
                }
            }
        }
    }

    /// Sets or replaces a namespace's labels.
    pub fn upsert_namespace(&mut self, name: &str, labels: BTreeMap<String, String>) {
        Arc::make_mut(&mut self.namespace_labels).insert(name.to_string(), labels);
    }

    /// Forgets a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        Arc::make_mut(&mut self.namespace_labels).remove(name);
    }

    /// Sets or replaces a PodDisruptionBudget.
    pub fn upsert_pdb(&mut self, pdb: PodDisruptionBudgetInfo) {
        let pdbs = Arc::make_mut(&mut self.pdbs);
        pdbs.retain(|existing| !(existing.namespace == pdb.namespace && existing.name == pdb.name));
        pdbs.push(pdb);
    }

    /// Forgets a PodDisruptionBudget.
    pub fn remove_pdb(&mut self, namespace: &str, name: &str) {
        Arc::make_mut(&mut self.pdbs)
            .retain(|existing| !(existing.namespace == namespace && existing.name == name));
    }

    /// Records that `pod` is nominated to `node`.
    pub fn add_nominated_pod(&mut self, node: NodeIdx, pod: &PodInfo) {
        let mut requests = Vec::new();
        let builtin = [
            (RESOURCE_CPU, pod.requests.milli_cpu),
            (RESOURCE_MEMORY, pod.requests.memory_bytes),
            (
                RESOURCE_EPHEMERAL_STORAGE,
                pod.requests.ephemeral_storage_bytes,
            ),
            (RESOURCE_PODS, 1),
        ];
        requests.extend(builtin.into_iter().filter(|(_, amount)| *amount != 0));
        for (name, amount) in &pod.requests.extended {
            let resource = self.resource_column(name);
            requests.push((resource, *amount));
        }
        let nominated = Arc::make_mut(&mut self.nominated);
        let list = nominated.entry(node.0).or_default();
        list.retain(|existing| existing.uid != pod.uid);
        list.push(NominatedPod {
            uid: pod.uid.clone(),
            priority: pod.priority,
            requests,
        });
        self.bump_version(node);
    }

    /// Removes the nomination of the pod with `uid` from `node`.
    pub fn remove_nominated_pod(&mut self, node: NodeIdx, uid: &str) {
        let nominated = Arc::make_mut(&mut self.nominated);
        if let Some(list) = nominated.get_mut(&node.0) {
            list.retain(|existing| existing.uid != uid);
            if list.is_empty() {
                nominated.remove(&node.0);
            }
        }
        self.bump_version(node);
    }
}

impl NodeInfo {
    /// Extended allocatable resources by name.
    pub fn extended_allocatable(&self) -> Vec<(String, i64)> {
        self.allocatable.extended.clone()
    }
}

fn class_fingerprint(pod: &PodInfo) -> u64 {
    let mut hasher = DefaultHasher::new();
    pod.namespace.hash(&mut hasher);
    pod.labels.hash(&mut hasher);
    pod.terminating.hash(&mut hasher);
    pod.required_affinity.hash(&mut hasher);
    pod.required_anti_affinity.hash(&mut hasher);
    pod.preferred_affinity.hash(&mut hasher);
    pod.preferred_anti_affinity.hash(&mut hasher);
    hasher.finish()
}

fn same_class(left: &PodInfo, right: &PodInfo) -> bool {
    left.namespace == right.namespace
        && left.labels == right.labels
        && left.terminating == right.terminating
        && left.required_affinity == right.required_affinity
        && left.required_anti_affinity == right.required_anti_affinity
        && left.preferred_affinity == right.preferred_affinity
        && left.preferred_anti_affinity == right.preferred_anti_affinity
}
