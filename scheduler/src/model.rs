//! The compact, scheduling-relevant views of pods and nodes.
//!
//! A `PodInfo` or `NodeInfo` is parsed once from the Kubernetes object (see
//! `convert`) and then shared behind an `Arc`. These types are independent of
//! any snapshot: strings stay strings here, and the node table interns them.

use std::collections::{BTreeMap, BTreeSet};

/// Index of a node slot in a snapshot's node table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeIdx(pub u32);

impl NodeIdx {
    /// The slot as a `usize` for indexing.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// CPU in thousandths of a core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MilliCpu(pub i64);

/// A quantity of bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub i64);

/// Default CPU request used for scoring when a container sets none.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Default memory request used for scoring when a container sets none (200 MiB).
pub const DEFAULT_MEMORY_REQUEST_BYTES: i64 = 200 * 1024 * 1024;

/// Resource amounts of a pod request or a node's allocatable.
///
/// Extended resources are kept sorted by name; a name appears at most once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceAmounts {
    pub milli_cpu: i64,
    pub memory_bytes: i64,
    pub ephemeral_storage_bytes: i64,
    pub extended: Vec<(String, i64)>,
}

impl ResourceAmounts {
    /// Adds `amount` of the extended resource `name`, keeping the list sorted.
    pub fn add_extended(&mut self, name: &str, amount: i64) {
        match self
            .extended
            .binary_search_by(|(existing, _)| existing.as_str().cmp(name))
        {
            Ok(pos) => self.extended[pos].1 += amount,
            Err(pos) => self.extended.insert(pos, (name.to_string(), amount)),
        }
    }

    /// The amount of extended resource `name`, zero if absent.
    pub fn extended_amount(&self, name: &str) -> i64 {
        self.extended
            .binary_search_by(|(existing, _)| existing.as_str().cmp(name))
            .map(|pos| self.extended[pos].1)
            .unwrap_or(0)
    }
}

/// Label selector operators (label selectors use the first four; node
/// selector requirements may also use `Gt` and `Lt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

/// One requirement of a label or node selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

/// A compiled label selector: `matchLabels` become `In` requirements.
///
/// `matches_nothing` is set for an absent (nil) selector, which Kubernetes
/// treats as selecting nothing; an empty selector selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    pub requirements: Vec<LabelRequirement>,
    pub matches_nothing: bool,
}

impl LabelSelector {
    /// A selector that selects nothing (a nil selector).
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            matches_nothing: true,
        }
    }
}

/// A `matchFields` requirement; only `metadata.name` exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeNameRequirement {
    /// `In` or `NotIn`.
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

/// One node selector term: expressions and fields are ANDed; a term with
/// neither matches no node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<LabelRequirement>,
    pub match_fields: Vec<NodeNameRequirement>,
}

/// A preferred node affinity term with its weight (1–100).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PreferredNodeTerm {
    pub weight: i64,
    pub term: NodeSelectorTerm,
}

/// Taint effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    /// Whether filters consider this effect (NoSchedule and NoExecute).
    pub fn is_filtering(self) -> bool {
        matches!(self, TaintEffect::NoSchedule | TaintEffect::NoExecute)
    }
}

/// A node taint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

/// Toleration operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

/// A pod toleration. An empty `key` with `Exists` tolerates every taint; an
/// absent `effect` matches all effects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Toleration {
    pub key: String,
    pub operator: TolerationOperator,
    pub value: String,
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// Kubernetes' `Toleration.ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(effect) = self.effect
            && effect != taint.effect
        {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// Host port protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// A wanted or used host port; an empty host IP is stored as `0.0.0.0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    pub host_ip: String,
    pub protocol: Protocol,
    pub port: i32,
}

/// The wildcard host IP.
pub const WILDCARD_HOST_IP: &str = "0.0.0.0";

impl HostPort {
    /// Kubernetes' `HostPortInfo.CheckConflict` for one wanted port against
    /// one used port.
    pub fn conflicts_with(&self, used: &HostPort) -> bool {
        if self.protocol != used.protocol || self.port != used.port {
            return false;
        }
        self.host_ip == WILDCARD_HOST_IP
            || used.host_ip == WILDCARD_HOST_IP
            || self.host_ip == used.host_ip
    }
}

/// A pod (anti-)affinity term, normalized: when the object had neither
/// `namespaces` nor `namespaceSelector`, `namespaces` holds the owner's
/// namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodAffinityTerm {
    pub selector: LabelSelector,
    pub namespaces: BTreeSet<String>,
    /// `Some(empty)` selects every namespace; `None` adds none.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
}

/// A preferred pod (anti-)affinity term with its weight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WeightedPodAffinityTerm {
    pub weight: i64,
    pub term: PodAffinityTerm,
}

/// `whenUnsatisfiable` of a spread constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnsatisfiableAction {
    DoNotSchedule,
    ScheduleAnyway,
}

/// `nodeAffinityPolicy` / `nodeTaintsPolicy` of a spread constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InclusionPolicy {
    Honor,
    Ignore,
}

/// A topology spread constraint; `selector` already includes the
/// `matchLabelKeys` requirements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopologySpreadConstraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub when_unsatisfiable: UnsatisfiableAction,
    pub selector: LabelSelector,
    pub min_domains: i64,
    pub node_affinity_policy: InclusionPolicy,
    pub node_taints_policy: InclusionPolicy,
}

/// `preemptionPolicy` of a pod.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PreemptionPolicy {
    #[default]
    PreemptLowerPriority,
    Never,
}

/// The scheduling-relevant view of a pod, parsed once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodInfo {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub priority: i32,
    /// Effective requests: max(Σ containers, max init) + overhead.
    pub requests: ResourceAmounts,
    /// CPU request for scoring, with 100m per container that sets none.
    pub nonzero_milli_cpu: i64,
    /// Memory request for scoring, with 200 MiB per container that sets none.
    pub nonzero_memory_bytes: i64,
    pub host_ports: Vec<HostPort>,
    pub node_selector: BTreeMap<String, String>,
    /// `None` when the pod has no required node affinity.
    pub required_node_terms: Option<Vec<NodeSelectorTerm>>,
    pub preferred_node_terms: Vec<PreferredNodeTerm>,
    pub tolerations: Vec<Toleration>,
    pub required_affinity: Vec<PodAffinityTerm>,
    pub required_anti_affinity: Vec<PodAffinityTerm>,
    pub preferred_affinity: Vec<WeightedPodAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedPodAffinityTerm>,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    /// Selector of the pod's owning Services/ReplicaSets/StatefulSets, used
    /// for the system default spread constraints (score only); the shell fills it.
    pub default_spread_selector: Option<LabelSelector>,
    pub scheduler_name: String,
    /// `spec.nodeName` (set for bound pods and for pods asking for a node).
    pub node_name: Option<String>,
    pub nominated_node_name: Option<String>,
    pub preemption_policy: PreemptionPolicy,
    /// Normalized image names (`:latest` added to untagged names).
    pub images: Vec<String>,
    /// Number of init plus regular containers.
    pub container_count: usize,
    /// `status.startTime` in seconds since the Unix epoch, when known.
    pub start_time_unix_seconds: Option<i64>,
    /// Whether the pod has a deletion timestamp.
    pub terminating: bool,
}

impl PodInfo {
    /// Whether the pod carries any inter-pod (anti-)affinity term.
    pub fn has_pod_affinity_terms(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.required_anti_affinity.is_empty()
            || !self.preferred_affinity.is_empty()
            || !self.preferred_anti_affinity.is_empty()
    }
}

/// An image present on a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeImage {
    /// Normalized names of the image.
    pub names: Vec<String>,
    pub size_bytes: i64,
}

/// The scheduling-relevant view of a node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: ResourceAmounts,
    pub allocatable_pods: i64,
    pub images: Vec<NodeImage>,
}

/// A PodDisruptionBudget as preemption sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct PodDisruptionBudgetInfo {
    pub namespace: String,
    pub name: String,
    pub selector: LabelSelector,
    pub disruptions_allowed: i64,
    /// Names of pods already counted as disrupted.
    pub disrupted_pods: BTreeSet<String>,
}

/// Adds `:latest` to an image name without a tag or digest.
pub fn normalize_image_name(image: &str) -> String {
    let last_segment = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last_segment.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}
