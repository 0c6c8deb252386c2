//! What a kubelet reports about its node: the Node it registers (template
//! plus the per-node identity) and the status it posts — capacity,
//! allocatable, the four conditions, addresses, daemon endpoint, nodeInfo
//! and images. Shared by every mode; hollow nodes simply never change their
//! inputs.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use api::k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::clock;
use crate::ipam::Ipv4Cidr;
use crate::mix;
use crate::template::NodeTemplate;

pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The kubelet's port, reported as the daemon endpoint.
pub const KUBELET_PORT: i32 = 10250;

/// What sets one node apart from the others built from the same template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeIdentity {
    pub name: String,
    /// The InternalIP address; pods' `status.hostIP`.
    pub internal_ip: Ipv4Addr,
    /// The node's pod CIDR (`spec.podCIDR`); pod IPs come from it.
    pub pod_cidr: Ipv4Cidr,
    /// `topology.kubernetes.io/zone`, if zones are used.
    pub zone: Option<String>,
    /// Stable per machine (derived from the name).
    pub machine_id: String,
    /// New on every kubelet start.
    pub boot_id: String,
}

impl NodeIdentity {
    /// The identity of `name`; `boot_seed` differs per kubelet start.
    pub fn new(
        name: String,
        internal_ip: Ipv4Addr,
        pod_cidr: Ipv4Cidr,
        zone: Option<String>,
        boot_seed: u64,
    ) -> NodeIdentity {
        let machine_id = mix::hex128(&name, 0x6d61_6368);
        let boot_id = uuid_form(&mix::hex128(&name, boot_seed));
        NodeIdentity {
            name,
            internal_ip,
            pod_cidr,
            zone,
            machine_id,
            boot_id,
        }
    }
}

/// `8-4-4-4-12` form of 32 hex digits.
fn uuid_form(hex: &str) -> String {
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// The labels the kubelet owns on its node: set at registration and put
/// back on an adopted node.
pub fn owned_labels(template: &NodeTemplate, identity: &NodeIdentity) -> BTreeMap<String, String> {
    let mut labels = template.node().metadata.labels.clone().unwrap_or_default();
    labels.insert(HOSTNAME_LABEL.to_string(), identity.name.clone());
    if let Some(zone) = &identity.zone {
        labels.insert(ZONE_LABEL.to_string(), zone.clone());
    }
    labels
}

/// The Node to create when registering: the template named and labelled
/// for this node, its pod CIDR, and the status it starts with.
pub fn registration_node(
    template: &NodeTemplate,
    identity: &NodeIdentity,
    now: SystemTime,
) -> Node {
    let mut node = template.node().clone();
    node.metadata = ObjectMeta {
        name: Some(identity.name.clone()),
        labels: Some(owned_labels(template, identity)),
        annotations: template.node().metadata.annotations.clone(),
        ..Default::default()
    };
    let spec = node.spec.get_or_insert_with(NodeSpec::default);
    spec.pod_cidr = Some(identity.pod_cidr.to_string());
    spec.pod_cidrs = Some(vec![identity.pod_cidr.to_string()]);
    if spec.taints.as_ref().is_some_and(Vec::is_empty) {
        spec.taints = None;
    }
    node.status = Some(desired_status(template, identity, None, now));
    node
}

/// The status the kubelet posts at `now`. A condition whose status is the
/// same as in `previous` keeps its transition time; heartbeat times are `now`.
pub fn desired_status(
    template: &NodeTemplate,
    identity: &NodeIdentity,
    previous: Option<&NodeStatus>,
    now: SystemTime,
) -> NodeStatus {
    let mut status = template.node().status.clone().unwrap_or_default();
    let now_time = clock::time_at(now);
    let conditions = CONDITIONS
        .iter()
        .map(|spec| {
            let status_value = spec.status.to_string();
            let transition = previous
                .and_then(|p| p.conditions.as_ref())
                .and_then(|list| list.iter().find(|c| c.type_ == spec.type_))
                .filter(|c| c.status == status_value)
                .and_then(|c| c.last_transition_time.clone())
                .unwrap_or_else(|| now_time.clone());
            NodeCondition {
                type_: spec.type_.to_string(),
                status: status_value,
                reason: Some(spec.reason.to_string()),
                message: Some(spec.message.to_string()),
                last_heartbeat_time: Some(now_time.clone()),
                last_transition_time: Some(transition),
            }
        })
        .collect();
    status.conditions = Some(conditions);
    status.addresses = Some(vec![
        NodeAddress {
            type_: "InternalIP".to_string(),
            address: identity.internal_ip.to_string(),
        },
        NodeAddress {
            type_: "Hostname".to_string(),
            address: identity.name.clone(),
        },
    ]);
    status.daemon_endpoints = Some(NodeDaemonEndpoints {
        kubelet_endpoint: Some(DaemonEndpoint { port: KUBELET_PORT }),
    });
    if let Some(info) = status.node_info.as_mut() {
        info.machine_id.clone_from(&identity.machine_id);
        info.system_uuid = uuid_form(&identity.machine_id);
        info.boot_id.clone_from(&identity.boot_id);
    }
    status
}

/// True when `stored` differs from `desired` in anything but heartbeat
/// times: the kubelet then posts its status without waiting for the report
/// period (as when the node lifecycle controller marked it not ready).
pub fn status_differs(stored: Option<&NodeStatus>, desired: &NodeStatus) -> bool {
    let Some(stored) = stored else { return true };
    let without_heartbeats = |status: &NodeStatus| {
        let mut status = status.clone();
        for condition in status.conditions.iter_mut().flatten() {
            condition.last_heartbeat_time = None;
            condition.last_transition_time = None;
        }
        status
    };
    without_heartbeats(stored) != without_heartbeats(desired)
}

/// One node condition as the kubelet reports it while healthy.
struct ConditionSpec {
    type_: &'static str,
    status: &'static str,
    reason: &'static str,
    message: &'static str,
}

/// The conditions of a healthy node, with the kubelet's reasons and messages.
const CONDITIONS: [ConditionSpec; 4] = [
    ConditionSpec {
        type_: "MemoryPressure",
        status: "False",
        reason: "KubeletHasSufficientMemory",
        message: "kubelet has sufficient memory available",
    },
    ConditionSpec {
        type_: "DiskPressure",
        status: "False",
        reason: "KubeletHasNoDiskPressure",
        message: "kubelet has no disk pressure",
    },
    ConditionSpec {
        type_: "PIDPressure",
        status: "False",
        reason: "KubeletHasSufficientPID",
        message: "kubelet has sufficient PID available",
    },
    ConditionSpec {
        type_: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
    },
];

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn identity() -> NodeIdentity {
        NodeIdentity::new(
            "n-1".to_string(),
            Ipv4Addr::new(172, 16, 0, 2),
            "10.0.1.0/24".parse().unwrap(),
            Some("zone-1".to_string()),
            42,
        )
    }

    #[test]
    fn registration_node_carries_template_and_identity() {
        let template = NodeTemplate::built_in().unwrap();
        let node = registration_node(&template, &identity(), SystemTime::now());
        let labels = node.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[HOSTNAME_LABEL], "n-1");
        assert_eq!(labels[ZONE_LABEL], "zone-1");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(
            node.spec.as_ref().unwrap().pod_cidr.as_deref(),
            Some("10.0.1.0/24")
        );
        let status = node.status.unwrap();
        assert_eq!(status.capacity.as_ref().unwrap()["cpu"].0, "32");
        let ready = status
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready");
        assert_eq!(ready.unwrap().status, "True");
        assert_eq!(status.addresses.as_ref().unwrap()[0].address, "172.16.0.2");
        let info = status.node_info.unwrap();
        assert_eq!(info.machine_id.len(), 32);
        assert_eq!(info.boot_id.len(), 36);
    }

    #[test]
    fn heartbeats_alone_are_no_change() {
        let template = NodeTemplate::built_in().unwrap();
        let start = SystemTime::now();
        let first = desired_status(&template, &identity(), None, start);
        let later = start + Duration::from_secs(60);
        let second = desired_status(&template, &identity(), Some(&first), later);
        assert!(!status_differs(Some(&first), &second));
        let conditions = second.conditions.as_ref().unwrap();
        assert_eq!(
            conditions[3].last_transition_time,
            Some(clock::time_at(start)),
            "transition time kept"
        );
        assert_eq!(
            conditions[3].last_heartbeat_time,
            Some(clock::time_at(later))
        );
        let mut not_ready = first.clone();
        not_ready.conditions.as_mut().unwrap()[3].status = "Unknown".to_string();
        assert!(status_differs(Some(&not_ready), &second));
        assert!(status_differs(None, &second));
    }
}
