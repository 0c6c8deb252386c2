//! What the checker keeps of each pod and node: the scheduling-relevant
//! fields, taken from the API objects once, in a form that serializes into a
//! recording file.

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{
    Affinity, Node, Pod, Taint, Toleration, TopologySpreadConstraint,
};
use api::quantity::{Quantity, pod_requests};
use serde::{Deserialize, Serialize};

/// The fields of a pod that decide where it may run; they do not change
/// while the pod exists (Kubernetes forbids updating them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodFacts {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `spec.priority` as admission resolved it; 0 when unset.
    #[serde(default)]
    pub priority: i32,
    /// Effective requests (Kubernetes' container/init/overhead rule), in
    /// nano-units per resource name.
    #[serde(default)]
    pub requests_nanos: BTreeMap<String, i128>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub affinity: Option<Affinity>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    #[serde(default)]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
}

/// The fields of a node that decide what may run on it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `status.allocatable` in nano-units per resource name.
    #[serde(default)]
    pub allocatable_nanos: BTreeMap<String, i128>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(default)]
    pub unschedulable: bool,
}

/// The fields of a pod that change during its life, as one watch event saw
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    pub uid: String,
    /// `spec.nodeName`; `None` while unbound.
    #[serde(default)]
    pub node_name: Option<String>,
    /// `status.nominatedNodeName`.
    #[serde(default)]
    pub nominated_node_name: Option<String>,
    /// `status.phase`.
    #[serde(default)]
    pub phase: Option<String>,
    /// Whether `metadata.deletionTimestamp` is set.
    #[serde(default)]
    pub terminating: bool,
}

impl PodFacts {
    pub fn from_pod(pod: &Pod) -> PodFacts {
        let metadata = &pod.metadata;
        let spec = pod.spec.as_ref();
        let requests_nanos = spec
            .map(|spec| {
                pod_requests(spec)
                    .into_iter()
                    .filter_map(|(name, quantity)| {
                        Quantity::parse(&quantity.0).ok().map(|q| (name, q.nanos()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        PodFacts {
            uid: metadata.uid.clone().unwrap_or_default(),
            namespace: metadata.namespace.clone().unwrap_or_default(),
            name: metadata.name.clone().unwrap_or_default(),
            labels: metadata.labels.clone().unwrap_or_default(),
            priority: spec.and_then(|spec| spec.priority).unwrap_or(0),
            requests_nanos,
            node_selector: spec
                .and_then(|spec| spec.node_selector.clone())
                .unwrap_or_default(),
            affinity: spec.and_then(|spec| spec.affinity.clone()),
            tolerations: spec
                .and_then(|spec| spec.tolerations.clone())
                .unwrap_or_default(),
            topology_spread_constraints: spec
                .and_then(|spec| spec.topology_spread_constraints.clone())
                .unwrap_or_default(),
        }
    }

    /// `namespace/name`, how violations name the pod.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

impl PodState {
    pub fn from_pod(pod: &Pod) -> PodState {
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        PodState {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            node_name: spec
                .and_then(|spec| spec.node_name.clone())
                .filter(|name| !name.is_empty()),
            nominated_node_name: status
                .and_then(|status| status.nominated_node_name.clone())
                .filter(|name| !name.is_empty()),
            phase: status.and_then(|status| status.phase.clone()),
            terminating: pod.metadata.deletion_timestamp.is_some(),
        }
    }
}

impl NodeFacts {
    pub fn from_node(node: &Node) -> NodeFacts {
        let spec = node.spec.as_ref();
        let allocatable_nanos = node
            .status
            .as_ref()
            .and_then(|status| status.allocatable.as_ref())
            .map(|allocatable| {
                allocatable
                    .iter()
                    .filter_map(|(name, quantity)| {
                        Quantity::parse(&quantity.0)
                            .ok()
                            .map(|q| (name.clone(), q.nanos()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        NodeFacts {
            name: node.metadata.name.clone().unwrap_or_default(),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            allocatable_nanos,
            taints: spec
                .and_then(|spec| spec.taints.clone())
                .unwrap_or_default(),
            unschedulable: spec.and_then(|spec| spec.unschedulable).unwrap_or(false),
        }
    }
}
