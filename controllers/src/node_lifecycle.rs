//! The node lifecycle controller's decisions (Kubernetes'
//! `pkg/controller/nodelifecycle`): a node whose kubelet stops renewing
//! its Lease and posting status for the grace period gets its conditions
//! set to Unknown; nodes get the NoSchedule taints their conditions call
//! for, and the NoExecute taint `not-ready` (Ready=False) or `unreachable`
//! (Ready=Unknown), which the taint eviction controller acts on. Adding a
//! NoExecute taint is rate-limited per zone, more slowly when much of a
//! zone is unhealthy, not at all when every zone is: then the fault is
//! more likely the control plane's than the nodes'.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Node, NodeCondition, NodeStatus, Pod, PodStatus, Taint};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use api::k8s_openapi::jiff::Timestamp;
use api::taints::{self, NO_EXECUTE, taint};

/// The controller's timers and eviction rates, named as
/// kube-controller-manager's flags.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--node-monitor-period`: how often every node's health is checked.
    pub monitor_period: Duration,
    /// `--node-monitor-grace-period`: how long a node may go without a
    /// heartbeat before it is Unknown.
    pub grace_period: Duration,
    /// `--node-startup-grace-period`: the same for a node that never
    /// posted a Ready condition.
    pub startup_grace_period: Duration,
    /// `--node-eviction-rate`: nodes a second that get a NoExecute taint
    /// in a healthy zone.
    pub eviction_rate: f64,
    /// `--secondary-node-eviction-rate`: the rate in a partly disrupted
    /// zone larger than `large_cluster_size_threshold`.
    pub secondary_eviction_rate: f64,
    /// `--unhealthy-zone-threshold`: the share of not-ready nodes (more
    /// than two) that makes a zone partly disrupted.
    pub unhealthy_zone_threshold: f64,
    /// `--large-cluster-size-threshold`: a partly disrupted zone this size
    /// or smaller gets no NoExecute taints at all.
    pub large_cluster_size_threshold: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            monitor_period: Duration::from_secs(5),
            grace_period: Duration::from_secs(50),
            startup_grace_period: Duration::from_secs(60),
            eviction_rate: 0.1,
            secondary_eviction_rate: 0.01,
            unhealthy_zone_threshold: 0.55,
            large_cluster_size_threshold: 50,
        }
    }
}

/// The conditions a kubelet posts that the controller sets to Unknown
/// when the kubelet goes silent.
const MONITORED_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// What the controller last saw of a node's heartbeats, and when it saw
/// one change (its probe time).
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub seen_at: Instant,
    heartbeat: Option<Timestamp>,
    renewed: Option<Timestamp>,
}

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == type_)
}

/// The node's probe after seeing `node` and its `lease` at `now`: a
/// heartbeat is a new `lastHeartbeatTime` of the Ready condition or a
/// later `renewTime` of the lease. A node seen for the first time counts
/// as heard from now.
pub fn observe(
    previous: Option<&Probe>,
    node: &Node,
    lease: Option<&Lease>,
    now: Instant,
) -> Probe {
    let heartbeat = condition(node, "Ready")
        .and_then(|ready| ready.last_heartbeat_time.as_ref())
        .map(|time| time.0);
    let renewed = lease
        .and_then(|lease| lease.spec.as_ref())
        .and_then(|spec| spec.renew_time.as_ref())
        .map(|time| time.0);
    let Some(previous) = previous else {
        return Probe {
            seen_at: now,
            heartbeat,
            renewed,
        };
    };
    let beat = heartbeat != previous.heartbeat;
    let renewal = renewed.is_some_and(|renewed| previous.renewed.is_none_or(|last| renewed > last));
    Probe {
        seen_at: if beat || renewal {
            now
        } else {
            previous.seen_at
        },
        heartbeat,
        renewed: if renewal { renewed } else { previous.renewed },
    }
}

/// How long after its probe time the node is Unknown.
pub fn grace_period(node: &Node, settings: &Settings) -> Duration {
    match condition(node, "Ready") {
        None => settings.startup_grace_period,
        Some(_) => settings.grace_period,
    }
}

/// The status of a node whose kubelet went silent, written at `now`:
/// every monitored condition Unknown (those never posted added as such),
/// or `None` when they all are already.
pub fn unknown_status(node: &Node, now: Timestamp) -> Option<NodeStatus> {
    let mut status = node.status.clone().unwrap_or_default();
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let mut changed = false;
    for type_ in MONITORED_CONDITIONS {
        match conditions
            .iter_mut()
            .find(|condition| condition.type_ == type_)
        {
            Some(condition) if condition.status == "Unknown" => {}
            Some(condition) => {
                condition.status = "Unknown".to_string();
                condition.reason = Some("NodeStatusUnknown".to_string());
                condition.message = Some("Kubelet stopped posting node status.".to_string());
                condition.last_transition_time = Some(Time(now));
                changed = true;
            }
            None => {
                let created = node.metadata.creation_timestamp.clone();
                conditions.push(NodeCondition {
                    type_: type_.to_string(),
                    status: "Unknown".to_string(),
                    reason: Some("NodeStatusNeverUpdated".to_string()),
                    message: Some("Kubelet never posted node status.".to_string()),
                    last_heartbeat_time: created,
                    last_transition_time: Some(Time(now)),
                });
                changed = true;
            }
        }
    }
    changed.then_some(status)
}

/// The node's Ready condition, as the controller reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    NotReady,
    Unknown,
}

/// `None` before the kubelet posted a Ready condition.
pub fn readiness(node: &Node) -> Option<Readiness> {
    condition(node, "Ready").map(|ready| match ready.status.as_str() {
        "True" => Readiness::Ready,
        "False" => Readiness::NotReady,
        _ => Readiness::Unknown,
    })
}

/// The NoExecute taint a node in this state should carry.
pub fn no_execute_taint(readiness: Option<Readiness>) -> Option<&'static str> {
    match readiness {
        Some(Readiness::NotReady) => Some(taints::NOT_READY),
        Some(Readiness::Unknown) => Some(taints::UNREACHABLE),
        Some(Readiness::Ready) | None => None,
    }
}

/// The NoSchedule taints the controller manages, by the condition (type,
/// status) that calls for each.
const NO_SCHEDULE_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", taints::NOT_READY),
    ("Ready", "Unknown", taints::UNREACHABLE),
    ("MemoryPressure", "True", taints::MEMORY_PRESSURE),
    ("DiskPressure", "True", taints::DISK_PRESSURE),
    ("NetworkUnavailable", "True", taints::NETWORK_UNAVAILABLE),
    ("PIDPressure", "True", taints::PID_PRESSURE),
];

/// The NoSchedule taint keys the node's conditions (and
/// `spec.unschedulable`) call for.
pub fn no_schedule_taints(node: &Node) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = NO_SCHEDULE_TAINTS
        .iter()
        .filter(|(type_, status, _)| condition(node, type_).is_some_and(|c| c.status == *status))
        .map(|(_, _, key)| *key)
        .collect();
    if node
        .spec
        .as_ref()
        .and_then(|spec| spec.unschedulable)
        .unwrap_or(false)
    {
        keys.push(taints::UNSCHEDULABLE);
    }
    keys
}

fn is_managed(taint: &Taint, effect: &str, keys: &[&str]) -> bool {
    taint.effect == effect && keys.contains(&taint.key.as_str())
}

/// The node's taints with the controller's taints of `effect` among
/// `managed` made exactly `wanted` (added ones stamped `now`, others kept
/// as they are), or `None` when they already are.
pub fn with_taints(
    node: &Node,
    effect: &str,
    managed: &[&str],
    wanted: &[&str],
    now: Timestamp,
) -> Option<Vec<Taint>> {
    let current: &[Taint] = node
        .spec
        .as_ref()
        .and_then(|spec| spec.taints.as_deref())
        .unwrap_or(&[]);
    let stale = current
        .iter()
        .any(|taint| is_managed(taint, effect, managed) && !wanted.contains(&taint.key.as_str()));
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|key| {
            !current
                .iter()
                .any(|taint| taint.key == *key && taint.effect == effect)
        })
        .collect();
    if !stale && missing.is_empty() {
        return None;
    }
    let mut taints: Vec<Taint> = current
        .iter()
        .filter(|taint| !is_managed(taint, effect, managed) || wanted.contains(&taint.key.as_str()))
        .cloned()
        .collect();
    taints.extend(missing.into_iter().map(|key| Taint {
        time_added: Some(Time(now)),
        ..taint(key, effect)
    }));
    Some(taints)
}

/// Every NoSchedule taint key the controller manages.
pub fn managed_no_schedule() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = NO_SCHEDULE_TAINTS.iter().map(|(_, _, key)| *key).collect();
    keys.push(taints::UNSCHEDULABLE);
    keys
}

/// The NoExecute taint keys the controller manages.
pub const MANAGED_NO_EXECUTE: [&str; 2] = [taints::NOT_READY, taints::UNREACHABLE];

/// Whether the node carries the NoExecute taint `key`.
pub fn has_no_execute(node: &Node, key: &str) -> bool {
    node.spec
        .as_ref()
        .and_then(|spec| spec.taints.as_ref())
        .is_some_and(|taints| {
            taints
                .iter()
                .any(|taint| taint.key == key && taint.effect == NO_EXECUTE)
        })
}

/// The zone a node is in, for eviction rate limits: its region and zone
/// labels (the deprecated `failure-domain` ones as a fallback), as
/// Kubernetes' `GetZoneKey`; "" when it has neither.
pub fn zone_of(node: &Node) -> String {
    let labels = node.metadata.labels.as_ref();
    let label = |key: &str, old: &str| {
        labels
            .and_then(|labels| labels.get(key).or_else(|| labels.get(old)))
            .cloned()
            .unwrap_or_default()
    };
    let region = label(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    let zone = label(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\u{0}:{zone}")
}

/// A zone's health, from how many of its nodes are ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneState {
    Normal,
    /// More than two nodes and at least the unhealthy threshold not ready.
    PartialDisruption,
    /// No node ready.
    FullDisruption,
}

/// Kubernetes' `ComputeZoneState`: a node without a Ready=True condition
/// counts as not ready.
pub fn zone_state(ready: usize, not_ready: usize, settings: &Settings) -> ZoneState {
    let total = ready + not_ready;
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / total as f64 >= settings.unhealthy_zone_threshold
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// Nodes a second that may get a NoExecute taint in a zone of `size`
/// nodes in `state`.
pub fn eviction_rate(state: ZoneState, size: usize, settings: &Settings) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::FullDisruption => settings.eviction_rate,
        ZoneState::PartialDisruption if size > settings.large_cluster_size_threshold => {
            settings.secondary_eviction_rate
        }
        ZoneState::PartialDisruption => 0.0,
    }
}

/// The state of every zone, with its size, from the nodes.
pub fn zone_states<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    settings: &Settings,
) -> BTreeMap<String, (ZoneState, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for node in nodes {
        let (ready, not_ready) = counts.entry(zone_of(node)).or_default();
        if readiness(node) == Some(Readiness::Ready) {
            *ready += 1;
        } else {
            *not_ready += 1;
        }
    }
    counts
        .into_iter()
        .map(|(zone, (ready, not_ready))| {
            (
                zone,
                (zone_state(ready, not_ready, settings), ready + not_ready),
            )
        })
        .collect()
}

/// Every zone is fully disrupted: the controller then adds no NoExecute
/// taints and removes those it added, as Kubernetes does when it cannot
/// tell dead nodes from its own lost connectivity.
pub fn all_disrupted(zones: &BTreeMap<String, (ZoneState, usize)>) -> bool {
    !zones.is_empty()
        && zones
            .values()
            .all(|(state, _)| *state == ZoneState::FullDisruption)
}

/// The status of a pod on a node that went Unknown: its Ready condition
/// False (Kubernetes' `MarkPodsNotReady`), so Services stop sending it
/// traffic; `None` when it is not Ready=True now.
pub fn not_ready_status(pod: &Pod, now: Timestamp) -> Option<PodStatus> {
    let mut status = pod.status.clone()?;
    let ready = status
        .conditions
        .as_mut()?
        .iter_mut()
        .find(|condition| condition.type_ == "Ready" && condition.status == "True")?;
    ready.status = "False".to_string();
    ready.reason = Some("NodeNotReady".to_string());
    ready.message = Some("Node is not ready".to_string());
    ready.last_transition_time = Some(Time(now));
    Some(status)
}

#[cfg(test)]
mod tests;
