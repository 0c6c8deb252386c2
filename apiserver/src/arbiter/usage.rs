//! [`NodeUsage`]: the committed pods of one node, aggregated (totals and
//! counted multisets), and [`NodeCapacity`]: what the Node object allows.

use std::collections::BTreeMap;

use api::quantity::Quantity;
use serde::Deserialize;

use super::HOSTNAME_LABEL;
use super::pod_usage::{AntiAffinityTerm, HostPort, PodUsage};

/// The committed pods of one node. Every multiset entry has a positive
/// count; removing the last one drops the entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeUsage {
    pub(crate) pods: i64,
    pub(crate) milli_cpu: i64,
    pub(crate) memory_bytes: i64,
    pub(crate) ephemeral_storage_bytes: i64,
    pub(crate) extended: BTreeMap<String, i64>,
    pub(crate) host_ports: BTreeMap<HostPort, u32>,
    /// Pods by (namespace, labels).
    pub(crate) label_sets: BTreeMap<(String, BTreeMap<String, String>), u32>,
    /// Hostname anti-affinity terms of the pods, with the number of pods
    /// carrying each.
    pub(crate) anti_affinity: Vec<(AntiAffinityTerm, u32)>,
}

impl NodeUsage {
    /// Counts one more pod.
    pub(crate) fn add(&mut self, pod: &PodUsage) {
        self.pods += 1;
        self.milli_cpu = self.milli_cpu.saturating_add(pod.milli_cpu);
        self.memory_bytes = self.memory_bytes.saturating_add(pod.memory_bytes);
        self.ephemeral_storage_bytes = self
            .ephemeral_storage_bytes
            .saturating_add(pod.ephemeral_storage_bytes);
        for (name, amount) in &pod.extended {
            let total = self.extended.entry(name.clone()).or_insert(0);
            *total = total.saturating_add(*amount);
        }
        for port in &pod.host_ports {
            *self.host_ports.entry(port.clone()).or_insert(0) += 1;
        }
        *self
            .label_sets
            .entry((pod.namespace.clone(), pod.labels.clone()))
            .or_insert(0) += 1;
        for term in &pod.anti_affinity {
            match self.anti_affinity.iter_mut().find(|(t, _)| t == term) {
                Some((_, count)) => *count += 1,
                None => self.anti_affinity.push((term.clone(), 1)),
            }
        }
    }

    /// Stops counting a pod added before. Totals never go below zero, so a
    /// record that missed a pod cannot drift negative.
    pub(crate) fn remove(&mut self, pod: &PodUsage) {
        self.pods = (self.pods - 1).max(0);
        self.milli_cpu = (self.milli_cpu - pod.milli_cpu).max(0);
        self.memory_bytes = (self.memory_bytes - pod.memory_bytes).max(0);
        self.ephemeral_storage_bytes =
            (self.ephemeral_storage_bytes - pod.ephemeral_storage_bytes).max(0);
        for (name, amount) in &pod.extended {
            if let Some(total) = self.extended.get_mut(name) {
                *total -= amount;
                if *total <= 0 {
                    self.extended.remove(name);
                }
            }
        }
        for port in &pod.host_ports {
            decrement(&mut self.host_ports, port);
        }
        decrement(
            &mut self.label_sets,
            &(pod.namespace.clone(), pod.labels.clone()),
        );
        for term in &pod.anti_affinity {
            if let Some(index) = self.anti_affinity.iter().position(|(t, _)| t == term) {
                self.anti_affinity[index].1 -= 1;
                if self.anti_affinity[index].1 == 0 {
                    self.anti_affinity.remove(index);
                }
            }
        }
    }
}

fn decrement<K: Ord>(counts: &mut BTreeMap<K, u32>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

/// A node's allocatable resources and whether it carries the hostname label
/// (without it, hostname anti-affinity has no domain there, as in the
/// scheduler).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeCapacity {
    pub(crate) pods: i64,
    pub(crate) milli_cpu: i64,
    pub(crate) memory_bytes: i64,
    pub(crate) ephemeral_storage_bytes: i64,
    pub(crate) extended: BTreeMap<String, i64>,
    pub(crate) has_hostname_label: bool,
}

/// The parts of a stored Node the arbiter reads; everything else is skipped
/// while decoding.
#[derive(Deserialize)]
struct NodeView {
    #[serde(default)]
    metadata: NodeMetaView,
    #[serde(default)]
    status: Option<NodeStatusView>,
}

#[derive(Default, Deserialize)]
struct NodeMetaView {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct NodeStatusView {
    #[serde(default)]
    allocatable: Option<BTreeMap<String, String>>,
}

impl NodeCapacity {
    /// Reads allocatable and labels from a stored Node's JSON. Missing
    /// allocatable means nothing fits; a malformed quantity (validation
    /// rejects them) counts as zero.
    pub(crate) fn from_node_json(bytes: &[u8]) -> Result<NodeCapacity, serde_json::Error> {
        let view: NodeView = serde_json::from_slice(bytes)?;
        let has_hostname_label = view
            .metadata
            .labels
            .is_some_and(|labels| labels.contains_key(HOSTNAME_LABEL));
        let mut capacity = NodeCapacity {
            has_hostname_label,
            ..NodeCapacity::default()
        };
        let allocatable = view.status.and_then(|status| status.allocatable);
        for (name, quantity) in allocatable.into_iter().flatten() {
            let quantity = Quantity::parse(&quantity).unwrap_or(Quantity::ZERO);
            match name.as_str() {
                "cpu" => capacity.milli_cpu = quantity.milli_value(),
                "memory" => capacity.memory_bytes = quantity.value(),
                "ephemeral-storage" => capacity.ephemeral_storage_bytes = quantity.value(),
                "pods" => capacity.pods = quantity.value(),
                _ => {
                    capacity.extended.insert(name, quantity.value());
                }
            }
        }
        Ok(capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arbiter::pod_usage::pod_usage;
    use serde_json::json;

    fn usage_of(value: serde_json::Value) -> PodUsage {
        pod_usage(&serde_json::from_value(value).unwrap())
    }

    #[test]
    fn add_then_remove_returns_to_empty() {
        let pod = usage_of(json!({
            "metadata": {"name": "p", "labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c",
                "resources": {"requests": {"cpu": "1", "example.com/gpu": "1"}},
                "ports": [{"containerPort": 80, "hostPort": 80}]}],
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": "kubernetes.io/hostname"}]}}}
        }));
        let mut usage = NodeUsage::default();
        usage.add(&pod);
        usage.add(&pod);
        assert_eq!(usage.pods, 2);
        assert_eq!(usage.milli_cpu, 2000);
        assert_eq!(usage.extended["example.com/gpu"], 2);
        assert_eq!(usage.label_sets.len(), 1);
        assert_eq!(usage.anti_affinity[0].1, 2);
        usage.remove(&pod);
        usage.remove(&pod);
        assert_eq!(usage, NodeUsage::default());
        usage.remove(&pod);
        assert_eq!(usage, NodeUsage::default());
    }

    #[test]
    fn capacity_reads_allocatable_and_hostname_label() {
        let node = json!({"metadata": {"name": "n", "labels": {"kubernetes.io/hostname": "n"}},
            "status": {"allocatable": {"cpu": "3500m", "memory": "1Gi", "pods": "110",
                                       "ephemeral-storage": "10G", "example.com/gpu": "2"},
                       "images": [{"names": ["a"], "sizeBytes": 1}]}});
        let capacity = NodeCapacity::from_node_json(&serde_json::to_vec(&node).unwrap()).unwrap();
        assert_eq!(
            capacity,
            NodeCapacity {
                pods: 110,
                milli_cpu: 3500,
                memory_bytes: 1 << 30,
                ephemeral_storage_bytes: 10_000_000_000,
                extended: BTreeMap::from([("example.com/gpu".to_string(), 2)]),
                has_hostname_label: true,
            }
        );
        let bare = NodeCapacity::from_node_json(br#"{"metadata":{"name":"n"}}"#).unwrap();
        assert_eq!(bare, NodeCapacity::default());
    }
}
