//! Writes to the node table: node and pod add/update/delete, namespaces,
//! PodDisruptionBudgets and nominations. Each write copies only the chunks,
//! records and index entries it touches, so a published `Snapshot` sharing
//! them is never affected.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::model::{NodeIdx, NodeInfo, PodDisruptionBudgetInfo, PodInfo, TaintEffect};
use crate::table::column::Column;
use crate::table::intern::{FastHasher, FastMap, StrId};
use crate::table::snapshot::{
    NodeRecord, NominatedPod, PodClass, RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_MEMORY,
    RESOURCE_PODS, ResourceIdx, Snapshot,
};

impl Snapshot {
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
        self.set_nominated(node, Vec::new());
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

    /// Takes `pod` as the new version of a pod already on `node` when it
    /// changes nothing the table counts (a bind confirming an assumption, a
    /// status update setting the start time), so neither the node's totals
    /// nor its version change. False when the pod is not on `node` or
    /// something counted changed: remove and add it then.
    pub fn refresh_pod(&mut self, node: NodeIdx, pod: &Arc<PodInfo>) -> bool {
        let slot = node.get();
        let Some(record) = self.records.get(slot).as_ref() else {
            return false;
        };
        let Some(position) = record.pods.iter().position(|p| p.uid == pod.uid) else {
            return false;
        };
        let recorded = &record.pods[position];
        if **recorded == **pod {
            return true;
        }
        if !counts_the_same(recorded, pod) {
            return false;
        }
        if let Some(record) = self.records.get_mut(slot).as_mut() {
            Arc::make_mut(record).pods[position] = pod.clone();
        }
        true
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
        let mut list = self.nominated_except(node, &pod.uid);
        list.push(NominatedPod {
            uid: pod.uid.clone(),
            priority: pod.priority,
            requests,
        });
        self.set_nominated(node, list);
        self.bump_version(node);
    }

    /// Removes the nomination of the pod with `uid` from `node`.
    pub fn remove_nominated_pod(&mut self, node: NodeIdx, uid: &str) {
        let list = self.nominated_except(node, uid);
        self.set_nominated(node, list);
        self.bump_version(node);
    }

    /// The pods nominated to `node` other than the one with `uid`.
    fn nominated_except(&self, node: NodeIdx, uid: &str) -> Vec<NominatedPod> {
        self.nominated_pods(node)
            .iter()
            .filter(|existing| existing.uid != uid)
            .cloned()
            .collect()
    }

    /// Replaces the list of pods nominated to `node` (empty is none).
    fn set_nominated(&mut self, node: NodeIdx, list: Vec<NominatedPod>) {
        let list = (!list.is_empty()).then(|| Arc::new(list));
        let was = self.nominated.get(node.get()).is_some();
        match (was, list.is_some()) {
            (false, true) => self.nominated_nodes += 1,
            (true, false) => self.nominated_nodes -= 1,
            _ => {}
        }
        self.nominated.set(node.get(), list);
    }
}

impl NodeInfo {
    /// Extended allocatable resources by name.
    pub fn extended_allocatable(&self) -> Vec<(String, i64)> {
        self.allocatable.extended.clone()
    }
}

/// A fingerprint of the fields `same_class` compares (equal fingerprints
/// are confirmed with `same_class`). Runs on every commit, so it uses the
/// word-at-a-time `FastHasher` rather than SipHash.
fn class_fingerprint(pod: &PodInfo) -> u64 {
    let mut hasher = FastHasher::default();
    pod.namespace.hash(&mut hasher);
    pod.labels.hash(&mut hasher);
    pod.terminating.hash(&mut hasher);
    pod.required_affinity.hash(&mut hasher);
    pod.required_anti_affinity.hash(&mut hasher);
    pod.preferred_affinity.hash(&mut hasher);
    pod.preferred_anti_affinity.hash(&mut hasher);
    // Fold the well-mixed high bits into the low ones the map indexes by.
    let hash = hasher.finish();
    hash ^ (hash >> 29)
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

/// Whether two versions of a pod count the same on its node: the same
/// requests (the node's totals), host ports and class (the pod-affinity
/// counts). Anything else, such as the start time or the priority, is read
/// from the recorded pod itself.
fn counts_the_same(left: &PodInfo, right: &PodInfo) -> bool {
    left.requests == right.requests
        && left.nonzero_milli_cpu == right.nonzero_milli_cpu
        && left.nonzero_memory_bytes == right.nonzero_memory_bytes
        && left.host_ports == right.host_ports
        && same_class(left, right)
}
