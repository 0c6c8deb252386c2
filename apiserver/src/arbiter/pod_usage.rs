//! [`PodUsage`]: what one pod adds to its node's record, read from the
//! typed pod with the scheduler's rules (requests as Kubernetes computes
//! them, host ports with their defaults, hostname anti-affinity terms
//! normalized to their namespaces).

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, PodSpec};
use api::quantity::{Quantity, pod_request_totals, pod_requests};
use api::selector::Selector;

use super::HOSTNAME_LABEL;

/// Native resources with their own columns; any other requested name is an
/// extended resource.
const NATIVE_RESOURCES: [&str; 4] = ["cpu", "memory", "ephemeral-storage", "pods"];

/// One host port a pod holds: protocol, host IP (`0.0.0.0` when unset) and
/// port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct HostPort {
    pub(crate) protocol: String,
    pub(crate) host_ip: String,
    pub(crate) port: u16,
}

/// The wildcard host IP: it conflicts with every IP on the same port.
pub(crate) const WILDCARD_HOST_IP: &str = "0.0.0.0";

impl HostPort {
    /// Kubernetes' host port conflict rule: same protocol and port, and the
    /// same IP or either side on the wildcard.
    pub(crate) fn conflicts_with(&self, used: &HostPort) -> bool {
        self.protocol == used.protocol
            && self.port == used.port
            && (self.host_ip == used.host_ip
                || self.host_ip == WILDCARD_HOST_IP
                || used.host_ip == WILDCARD_HOST_IP)
    }
}

/// A required anti-affinity term on `kubernetes.io/hostname`, normalized as
/// the scheduler does: with neither `namespaces` nor `namespaceSelector`,
/// `namespaces` holds the owner's namespace. Selectors are kept compiled and
/// in their canonical string form (which the record stores and which
/// decides equality).
#[derive(Clone, Debug)]
pub(crate) struct AntiAffinityTerm {
    pub(crate) selector_text: String,
    pub(crate) selector: Selector,
    /// Sorted, deduplicated.
    pub(crate) namespaces: Vec<String>,
    /// `Some` adds every namespace whose labels it selects (`{}` = all).
    pub(crate) namespace_selector: Option<(String, Selector)>,
}

impl PartialEq for AntiAffinityTerm {
    fn eq(&self, other: &Self) -> bool {
        self.selector_text == other.selector_text
            && self.namespaces == other.namespaces
            && self.namespace_selector.as_ref().map(|(text, _)| text)
                == other.namespace_selector.as_ref().map(|(text, _)| text)
    }
}

impl Eq for AntiAffinityTerm {}

impl AntiAffinityTerm {
    /// Whether this term selects a pod in `namespace` with `labels`;
    /// `namespace_labels` gives the labels of namespaces a namespace
    /// selector needs (absent = no labels).
    pub(crate) fn matches(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        namespace_labels: &NamespaceLabels,
    ) -> bool {
        let namespace_matches = self
            .namespaces
            .binary_search_by(|candidate| candidate.as_str().cmp(namespace))
            .is_ok()
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|(_, selector)| {
                    selector.matches(namespace_labels.get(namespace).unwrap_or(&NO_LABELS))
                });
        namespace_matches && self.selector.matches(labels)
    }

    /// Builds a term from its stored parts; `None` if a selector no longer
    /// parses (never for text this module wrote).
    pub(crate) fn from_parts(
        selector_text: String,
        namespaces: Vec<String>,
        namespace_selector_text: Option<String>,
    ) -> Option<AntiAffinityTerm> {
        let selector = Selector::parse(&selector_text).ok()?;
        let namespace_selector = match namespace_selector_text {
            Some(text) => {
                let selector = Selector::parse(&text).ok()?;
                Some((text, selector))
            }
            None => None,
        };
        Some(AntiAffinityTerm {
            selector_text,
            selector,
            namespaces,
            namespace_selector,
        })
    }
}

/// Labels of namespaces, by name, for namespace selectors.
pub(crate) type NamespaceLabels = BTreeMap<String, BTreeMap<String, String>>;

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// What one pod adds to its node's record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PodUsage {
    pub(crate) milli_cpu: i64,
    pub(crate) memory_bytes: i64,
    pub(crate) ephemeral_storage_bytes: i64,
    /// Positive extended resource requests, by name.
    pub(crate) extended: BTreeMap<String, i64>,
    pub(crate) host_ports: Vec<HostPort>,
    pub(crate) namespace: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) anti_affinity: Vec<AntiAffinityTerm>,
}

/// Succeeded and Failed pods hold no resources.
pub(crate) fn is_finished_phase(phase: Option<&str>) -> bool {
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// The pod's contribution to its node's record. Terms whose selectors do
/// not compile are left out (validation rejects them on create), the same
/// way whenever the pod is read, so adding and removing stay symmetric.
pub(crate) fn pod_usage(pod: &Pod) -> PodUsage {
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let Some(spec) = &pod.spec else {
        return PodUsage {
            namespace,
            labels,
            ..PodUsage::default()
        };
    };
    let totals = pod_request_totals(spec);
    PodUsage {
        milli_cpu: totals.milli_cpu.0,
        memory_bytes: totals.memory.0,
        ephemeral_storage_bytes: totals.ephemeral_storage.0,
        extended: extended_requests(spec),
        host_ports: host_ports(spec),
        anti_affinity: hostname_anti_affinity(spec, &namespace),
        namespace,
        labels,
    }
}

/// Requests of resources other than the native ones (only computed when
/// some container, init container or the overhead names one).
fn extended_requests(spec: &PodSpec) -> BTreeMap<String, i64> {
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut names = containers
        .filter_map(|c| c.resources.as_ref().and_then(|r| r.requests.as_ref()))
        .flat_map(|requests| requests.keys())
        .chain(spec.overhead.iter().flat_map(|overhead| overhead.keys()));
    if !names.any(|name| !NATIVE_RESOURCES.contains(&name.as_str())) {
        return BTreeMap::new();
    }
    pod_requests(spec)
        .into_iter()
        .filter(|(name, _)| !NATIVE_RESOURCES.contains(&name.as_str()))
        .filter_map(|(name, quantity)| {
            let value = Quantity::parse(&quantity.0).ok()?.value();
            (value > 0).then_some((name, value))
        })
        .collect()
}

fn host_ports(spec: &PodSpec) -> Vec<HostPort> {
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut ports = Vec::new();
    for port in containers.flat_map(|c| c.ports.iter().flatten()) {
        let Some(host_port) = port
            .host_port
            .and_then(|port| u16::try_from(port).ok())
            .filter(|port| *port > 0)
        else {
            continue;
        };
        ports.push(HostPort {
            protocol: port.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
            host_ip: port
                .host_ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| WILDCARD_HOST_IP.to_string()),
            port: host_port,
        });
    }
    ports
}

fn hostname_anti_affinity(spec: &PodSpec, namespace: &str) -> Vec<AntiAffinityTerm> {
    let terms = spec
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.pod_anti_affinity.as_ref())
        .and_then(|anti| {
            anti.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default();
    terms
        .iter()
        .filter(|term| term.topology_key == HOSTNAME_LABEL)
        .filter_map(|term| normalize_term(term, namespace))
        .collect()
}

/// A nil label selector selects nothing, so such a term never rejects
/// anything and is left out.
fn normalize_term(term: &PodAffinityTerm, namespace: &str) -> Option<AntiAffinityTerm> {
    let selector = Selector::from_label_selector(term.label_selector.as_ref()?).ok()?;
    let namespace_selector = match &term.namespace_selector {
        Some(selector) => {
            let selector = Selector::from_label_selector(selector).ok()?;
            Some((selector.to_string(), selector))
        }
        None => None,
    };
    let mut namespaces: Vec<String> = term.namespaces.clone().unwrap_or_default();
    if namespaces.is_empty() && namespace_selector.is_none() {
        namespaces.push(namespace.to_string());
    }
    namespaces.sort();
    namespaces.dedup();
    Some(AntiAffinityTerm {
        selector_text: selector.to_string(),
        selector,
        namespaces,
        namespace_selector,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn requests_follow_the_init_container_rule_and_overhead() {
        let usage = pod_usage(&pod(json!({
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "a"}},
            "spec": {
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi", "example.com/gpu": "1"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "200m"}}}
                ],
                "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1", "example.com/gpu": "2"}}}],
                "overhead": {"cpu": "10m"}
            }
        })));
        assert_eq!(usage.milli_cpu, 1010);
        assert_eq!(usage.memory_bytes, 1 << 30);
        assert_eq!(usage.extended.get("example.com/gpu"), Some(&2));
        assert_eq!(usage.namespace, "ns");
    }

    #[test]
    fn host_ports_default_protocol_and_ip() {
        let usage = pod_usage(&pod(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "ports": [
                {"containerPort": 80, "hostPort": 8080},
                {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"},
                {"containerPort": 9090}
            ]}]}
        })));
        assert_eq!(
            usage.host_ports,
            vec![
                HostPort {
                    protocol: "TCP".into(),
                    host_ip: "0.0.0.0".into(),
                    port: 8080
                },
                HostPort {
                    protocol: "UDP".into(),
                    host_ip: "10.0.0.1".into(),
                    port: 53
                },
            ]
        );
        let wildcard = &usage.host_ports[0];
        let other_ip = HostPort {
            host_ip: "10.0.0.2".into(),
            ..wildcard.clone()
        };
        assert!(other_ip.conflicts_with(wildcard));
        assert!(!usage.host_ports[1].conflicts_with(&HostPort {
            host_ip: "10.0.0.2".into(),
            ..usage.host_ports[1].clone()
        }));
    }

    #[test]
    fn only_hostname_terms_are_kept_and_namespaces_normalized() {
        let usage = pod_usage(&pod(json!({
            "metadata": {"name": "p", "namespace": "team"},
            "spec": {"containers": [{"name": "a"}], "affinity": {"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"},
                    {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "topology.kubernetes.io/zone"},
                    {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "kubernetes.io/hostname",
                     "namespaceSelector": {}},
                    {"topologyKey": "kubernetes.io/hostname"}
                ]}}}
        })));
        assert_eq!(usage.anti_affinity.len(), 2);
        let first = &usage.anti_affinity[0];
        assert_eq!(first.namespaces, vec!["team".to_string()]);
        let labels = BTreeMap::from([("app".to_string(), "db".to_string())]);
        assert!(first.matches("team", &labels, &NamespaceLabels::new()));
        assert!(!first.matches("other", &labels, &NamespaceLabels::new()));
        let second = &usage.anti_affinity[1];
        assert!(second.namespaces.is_empty());
        let x = BTreeMap::from([("app".to_string(), "x".to_string())]);
        assert!(second.matches("anywhere", &x, &NamespaceLabels::new()));
    }
}
