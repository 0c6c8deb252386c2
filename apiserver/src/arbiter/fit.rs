//! Whether one more pod fits a node's record: resources against
//! allocatable (NodeResourcesFit), host ports (NodePorts), and required
//! anti-affinity on `kubernetes.io/hostname` in both directions
//! (InterPodAffinity), with the scheduler's semantics and kube-like
//! messages.

use std::fmt;

use api::quantity::{Quantity, QuantityFormat};

use super::pod_usage::{HostPort, NamespaceLabels, PodUsage};
use super::usage::{NodeCapacity, NodeUsage};

/// Why a pod does not fit; `Display` gives the message clients see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UnfitReason {
    Insufficient {
        resource: String,
        requested: String,
        free: String,
    },
    TooManyPods {
        allocatable: i64,
    },
    HostPortInUse(HostPort),
    /// The incoming pod's anti-affinity selects a pod on the node.
    AntiAffinity,
    /// A pod on the node has anti-affinity that selects the incoming pod.
    ExistingAntiAffinity,
}

impl fmt::Display for UnfitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnfitReason::Insufficient {
                resource,
                requested,
                free,
            } => write!(
                f,
                "node(s) didn't have enough {resource}: pod requests {requested}, node has {free} free"
            ),
            UnfitReason::TooManyPods { allocatable } => write!(
                f,
                "node(s) had too many pods: all {allocatable} allocatable pods are in use"
            ),
            UnfitReason::HostPortInUse(port) => write!(
                f,
                "node(s) didn't have free ports for the requested pod ports: {} {}:{} is in use",
                port.protocol, port.host_ip, port.port
            ),
            UnfitReason::AntiAffinity => {
                f.write_str("node(s) didn't match pod anti-affinity rules")
            }
            UnfitReason::ExistingAntiAffinity => {
                f.write_str("node(s) didn't satisfy existing pods anti-affinity rules")
            }
        }
    }
}

/// Every reason a pod does not fit, in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unfit(pub(crate) Vec<UnfitReason>);

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, reason) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{reason}")?;
        }
        Ok(())
    }
}

/// Namespaces whose labels [`check_fit`] needs for namespace selectors:
/// those of the node's pods if the incoming pod has a term with a
/// namespace selector, and the incoming pod's own if a term on the node
/// has one. Empty in the common case, so nothing is read.
pub(crate) fn namespaces_to_resolve(
    capacity: Option<&NodeCapacity>,
    usage: &NodeUsage,
    pod: &PodUsage,
) -> Vec<String> {
    if !capacity.is_some_and(|capacity| capacity.has_hostname_label) {
        return Vec::new();
    }
    let mut names = Vec::new();
    if pod
        .anti_affinity
        .iter()
        .any(|term| term.namespace_selector.is_some())
    {
        names.extend(
            usage
                .label_sets
                .keys()
                .map(|(namespace, _)| namespace.clone()),
        );
    }
    if usage
        .anti_affinity
        .iter()
        .any(|(term, _)| term.namespace_selector.is_some())
    {
        names.push(pod.namespace.clone());
    }
    names.sort();
    names.dedup();
    names
}

/// Checks one more pod against a node's record. `capacity` is `None` when
/// the Node object does not exist (a pod created with `nodeName` ahead of
/// its node): only host ports are checked then.
pub(crate) fn check_fit(
    capacity: Option<&NodeCapacity>,
    usage: &NodeUsage,
    pod: &PodUsage,
    namespace_labels: &NamespaceLabels,
) -> Result<(), Unfit> {
    let mut reasons = Vec::new();
    if let Some(capacity) = capacity {
        check_resources(capacity, usage, pod, &mut reasons);
    }
    for wanted in &pod.host_ports {
        if let Some(used) = usage
            .host_ports
            .keys()
            .find(|used| wanted.conflicts_with(used))
        {
            reasons.push(UnfitReason::HostPortInUse(used.clone()));
        }
    }
    if capacity.is_some_and(|capacity| capacity.has_hostname_label) {
        let incoming_rejects = pod.anti_affinity.iter().any(|term| {
            usage
                .label_sets
                .keys()
                .any(|(namespace, labels)| term.matches(namespace, labels, namespace_labels))
        });
        if incoming_rejects {
            reasons.push(UnfitReason::AntiAffinity);
        }
        let existing_rejects = usage
            .anti_affinity
            .iter()
            .any(|(term, _)| term.matches(&pod.namespace, &pod.labels, namespace_labels));
        if existing_rejects {
            reasons.push(UnfitReason::ExistingAntiAffinity);
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Unfit(reasons))
    }
}

/// NodeResourcesFit: one more pod slot, and every positive request within
/// allocatable minus what committed pods request.
fn check_resources(
    capacity: &NodeCapacity,
    usage: &NodeUsage,
    pod: &PodUsage,
    reasons: &mut Vec<UnfitReason>,
) {
    if usage.pods + 1 > capacity.pods {
        reasons.push(UnfitReason::TooManyPods {
            allocatable: capacity.pods,
        });
    }
    let cpu = |milli: i64| Quantity::from_milli(milli).to_string();
    let bytes = |units: i64| Quantity::from_units(units, QuantityFormat::BinarySi).to_string();
    let units = |units: i64| Quantity::from_units(units, QuantityFormat::DecimalSi).to_string();
    let mut check = |resource: &str,
                     requested: i64,
                     allocatable: i64,
                     used: i64,
                     format: &dyn Fn(i64) -> String| {
        let free = allocatable.saturating_sub(used);
        if requested > 0 && requested > free {
            reasons.push(UnfitReason::Insufficient {
                resource: resource.to_string(),
                requested: format(requested),
                free: format(free.max(0)),
            });
        }
    };
    check(
        "cpu",
        pod.milli_cpu,
        capacity.milli_cpu,
        usage.milli_cpu,
        &cpu,
    );
    check(
        "memory",
        pod.memory_bytes,
        capacity.memory_bytes,
        usage.memory_bytes,
        &bytes,
    );
    check(
        "ephemeral-storage",
        pod.ephemeral_storage_bytes,
        capacity.ephemeral_storage_bytes,
        usage.ephemeral_storage_bytes,
        &bytes,
    );
    for (name, requested) in &pod.extended {
        let allocatable = capacity.extended.get(name).copied().unwrap_or(0);
        let used = usage.extended.get(name).copied().unwrap_or(0);
        check(name, *requested, allocatable, used, &units);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::arbiter::pod_usage::pod_usage;
    use serde_json::{Value, json};

    fn pod(namespace: &str, labels: Value, spec: Value) -> PodUsage {
        pod_usage(
            &serde_json::from_value(json!({
                "metadata": {"name": "p", "namespace": namespace, "labels": labels},
                "spec": spec
            }))
            .unwrap(),
        )
    }

    fn requests(cpu: &str, memory: &str) -> Value {
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]})
    }

    fn capacity(cpu: i64, memory: i64, pods: i64) -> NodeCapacity {
        NodeCapacity {
            pods,
            milli_cpu: cpu,
            memory_bytes: memory,
            has_hostname_label: true,
            ..NodeCapacity::default()
        }
    }

    fn check(
        capacity: Option<&NodeCapacity>,
        existing: &[&PodUsage],
        incoming: &PodUsage,
    ) -> Result<(), String> {
        let mut usage = NodeUsage::default();
        for pod in existing {
            usage.add(pod);
        }
        check_fit(capacity, &usage, incoming, &NamespaceLabels::new()).map_err(|u| u.to_string())
    }

    #[test]
    fn resources_and_pod_count() {
        let node = capacity(1000, 1 << 30, 2);
        let small = pod("default", json!({}), requests("300m", "100Mi"));
        let big = pod("default", json!({}), requests("500m", "1Gi"));
        assert_eq!(
            check(Some(&node), &[&small], &big),
            Err(
                "node(s) didn't have enough memory: pod requests 1Gi, node has 924Mi free"
                    .to_string()
            )
        );
        assert_eq!(
            check(Some(&node), &[&big], &big),
            Err("node(s) didn't have enough memory: pod requests 1Gi, node has 0 free".to_string())
        );
        assert_eq!(
            check(Some(&node), &[&small, &small], &small),
            Err("node(s) had too many pods: all 2 allocatable pods are in use".to_string())
        );
        assert_eq!(check(Some(&node), &[&small], &small), Ok(()));
        // Without a Node object only ports are checked.
        assert_eq!(check(None, &[&big, &big], &big), Ok(()));
        // Zero requests fit an overcommitted node.
        let empty = pod("default", json!({}), json!({"containers": [{"name": "c"}]}));
        assert_eq!(
            check(Some(&capacity(100, 100, 10)), &[&big], &empty),
            Ok(())
        );
    }

    #[test]
    fn insufficient_cpu_message() {
        let node = capacity(700, 1 << 30, 10);
        let running = pod("default", json!({}), requests("500m", "0"));
        let incoming = pod("default", json!({}), requests("500m", "0"));
        assert_eq!(
            check(Some(&node), &[&running], &incoming),
            Err(
                "node(s) didn't have enough cpu: pod requests 500m, node has 200m free".to_string()
            )
        );
    }

    #[test]
    fn extended_resources_must_be_allocatable() {
        let gpu = pod(
            "default",
            json!({}),
            json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "1"}}}]}),
        );
        let mut node = capacity(1000, 1000, 10);
        assert_eq!(
            check(Some(&node), &[], &gpu),
            Err(
                "node(s) didn't have enough example.com/gpu: pod requests 1, node has 0 free"
                    .to_string()
            )
        );
        node.extended.insert("example.com/gpu".to_string(), 1);
        assert_eq!(check(Some(&node), &[], &gpu), Ok(()));
        assert!(check(Some(&node), &[&gpu], &gpu).is_err());
    }

    #[test]
    fn host_ports_conflict_on_protocol_ip_and_port() {
        let with_port = |protocol: &str, ip: &str, port: u16| {
            pod(
                "default",
                json!({}),
                json!({"containers": [{"name": "c", "ports": [
                    {"containerPort": 80, "hostPort": port, "protocol": protocol, "hostIP": ip}]}]}),
            )
        };
        let node = capacity(1000, 1000, 10);
        let wildcard = with_port("TCP", "", 8080);
        assert_eq!(
            check(Some(&node), &[&wildcard], &with_port("TCP", "10.0.0.1", 8080)),
            Err("node(s) didn't have free ports for the requested pod ports: TCP 0.0.0.0:8080 is in use".to_string())
        );
        assert_eq!(
            check(Some(&node), &[&wildcard], &with_port("UDP", "", 8080)),
            Ok(())
        );
        assert_eq!(
            check(Some(&node), &[&wildcard], &with_port("TCP", "", 8081)),
            Ok(())
        );
        let specific = with_port("TCP", "10.0.0.1", 8080);
        assert!(check(Some(&node), &[&specific], &with_port("TCP", "", 8080)).is_err());
        assert_eq!(
            check(
                Some(&node),
                &[&specific],
                &with_port("TCP", "10.0.0.2", 8080)
            ),
            Ok(())
        );
    }

    fn anti(selector: Value, extra: Value) -> Value {
        let mut term = json!({"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"});
        for (key, value) in extra.as_object().unwrap() {
            term[key] = value.clone();
        }
        json!({"containers": [{"name": "c"}], "affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term]}}})
    }

    #[test]
    fn hostname_anti_affinity_both_directions() {
        let node = capacity(1000, 1000, 10);
        let db = pod(
            "default",
            json!({"app": "db"}),
            json!({"containers": [{"name": "c"}]}),
        );
        let avoids_db = pod(
            "default",
            json!({"app": "web"}),
            anti(json!({"matchLabels": {"app": "db"}}), json!({})),
        );
        assert_eq!(
            check(Some(&node), &[&db], &avoids_db),
            Err("node(s) didn't match pod anti-affinity rules".to_string())
        );
        assert_eq!(
            check(Some(&node), &[&avoids_db], &db),
            Err("node(s) didn't satisfy existing pods anti-affinity rules".to_string())
        );
        // Another namespace is out of the term's default namespace.
        let other_db = pod(
            "other",
            json!({"app": "db"}),
            json!({"containers": [{"name": "c"}]}),
        );
        assert_eq!(check(Some(&node), &[&other_db], &avoids_db), Ok(()));
        assert_eq!(check(Some(&node), &[&avoids_db], &other_db), Ok(()));
        // Without the hostname label the term has no domain on this node.
        let unlabelled = NodeCapacity {
            has_hostname_label: false,
            ..node.clone()
        };
        assert_eq!(check(Some(&unlabelled), &[&db], &avoids_db), Ok(()));
    }

    #[test]
    fn namespace_selector_reads_namespace_labels() {
        let node = capacity(1000, 1000, 10);
        let avoids_prod_db = pod(
            "default",
            json!({}),
            anti(
                json!({"matchLabels": {"app": "db"}}),
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
            ),
        );
        let db_in_a = pod(
            "a",
            json!({"app": "db"}),
            json!({"containers": [{"name": "c"}]}),
        );
        let mut usage = NodeUsage::default();
        usage.add(&db_in_a);
        assert_eq!(
            namespaces_to_resolve(Some(&node), &usage, &avoids_prod_db),
            vec!["a".to_string()]
        );
        let prod = NamespaceLabels::from([(
            "a".to_string(),
            BTreeMap::from([("env".to_string(), "prod".to_string())]),
        )]);
        assert!(check_fit(Some(&node), &usage, &avoids_prod_db, &prod).is_err());
        assert!(
            check_fit(
                Some(&node),
                &usage,
                &avoids_prod_db,
                &NamespaceLabels::new()
            )
            .is_ok()
        );
        // The other direction needs the incoming pod's namespace.
        let mut usage = NodeUsage::default();
        usage.add(&avoids_prod_db);
        assert_eq!(
            namespaces_to_resolve(Some(&node), &usage, &db_in_a),
            vec!["a".to_string()]
        );
        assert!(check_fit(Some(&node), &usage, &db_in_a, &prod).is_err());
        assert!(check_fit(Some(&node), &usage, &db_in_a, &NamespaceLabels::new()).is_ok());
    }
}
