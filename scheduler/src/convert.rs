//! Conversion from Kubernetes objects (`k8s_openapi` Pod, Node,
//! PodDisruptionBudget) to the compact scheduling views in `model`.
//!
//! This is the only place that reads Kubernetes field shapes; everything
//! downstream sees `PodInfo` and `NodeInfo`.

use std::collections::{BTreeMap, BTreeSet};

use api::k8s_openapi::api::core::v1 as core;
use api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use crate::error::ConvertError;
use crate::model::{
    DEFAULT_MEMORY_REQUEST_BYTES, DEFAULT_MILLI_CPU_REQUEST, HostPort, InclusionPolicy,
    LabelRequirement, LabelSelector, NodeImage, NodeInfo, NodeNameRequirement, NodeSelectorTerm,
    PodAffinityTerm, PodDisruptionBudgetInfo, PodInfo, PreemptionPolicy, PreferredNodeTerm,
    Protocol, ResourceAmounts, SelectorOperator, Taint, TaintEffect, Toleration,
    TolerationOperator, TopologySpreadConstraint, UnsatisfiableAction, WILDCARD_HOST_IP,
    WeightedPodAffinityTerm, normalize_image_name,
};
use crate::quantity::{parse_milli_value, parse_value};

const RESOURCE_CPU: &str = "cpu";
const RESOURCE_MEMORY: &str = "memory";
const RESOURCE_EPHEMERAL_STORAGE: &str = "ephemeral-storage";
const RESOURCE_PODS: &str = "pods";

/// Builds the scheduling view of a pod.
pub fn pod_info_from_pod(pod: &core::Pod) -> Result<PodInfo, ConvertError> {
    let metadata = &pod.metadata;
    let namespace = metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let spec = pod.spec.as_ref().ok_or(ConvertError::MissingField {
        field: "spec".to_string(),
    })?;
    let labels = metadata.labels.clone().unwrap_or_default();
    let (requests, nonzero_requests) = pod_requests(spec)?;

    let mut host_ports = Vec::new();
    let init_containers = spec.init_containers.as_deref().unwrap_or_default();
    for container in spec.containers.iter().chain(init_containers.iter()) {
        for port in container.ports.as_deref().unwrap_or_default() {
            let host_port = port.host_port.unwrap_or(0);
            if host_port <= 0 {
                continue;
            }
            host_ports.push(HostPort {
                host_ip: match port.host_ip.as_deref() {
                    None | Some("") => WILDCARD_HOST_IP.to_string(),
                    Some(ip) => ip.to_string(),
                },
                protocol: parse_protocol(port.protocol.as_deref())?,
                port: host_port,
            });
        }
    }

    let mut required_node_terms = None;
    let mut preferred_node_terms = Vec::new();
    let mut required_affinity = Vec::new();
    let mut required_anti_affinity = Vec::new();
    let mut preferred_affinity = Vec::new();
    let mut preferred_anti_affinity = Vec::new();
    if let Some(affinity) = &spec.affinity {
        if let Some(node_affinity) = &affinity.node_affinity {
            if let Some(required) =
                &node_affinity.required_during_scheduling_ignored_during_execution
            {
                required_node_terms = Some(
                    required
                        .node_selector_terms
                        .iter()
                        .map(node_selector_term)
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            for preferred in node_affinity
                .preferred_during_scheduling_ignored_during_execution
                .as_deref()
                .unwrap_or_default()
            {
                preferred_node_terms.push(PreferredNodeTerm {
                    weight: i64::from(preferred.weight),
                    term: node_selector_term(&preferred.preference)?,
                });
            }
        }
        if let Some(pod_affinity) = &affinity.pod_affinity {
            required_affinity = required_terms(
                pod_affinity
                    .required_during_scheduling_ignored_during_execution
                    .as_deref(),
                &namespace,
            )?;
            preferred_affinity = weighted_terms(
                pod_affinity
                    .preferred_during_scheduling_ignored_during_execution
                    .as_deref(),
                &namespace,
            )?;
        }
        if let Some(anti_affinity) = &affinity.pod_anti_affinity {
            required_anti_affinity = required_terms(
                anti_affinity
                    .required_during_scheduling_ignored_during_execution
                    .as_deref(),
                &namespace,
            )?;
            preferred_anti_affinity = weighted_terms(
                anti_affinity
                    .preferred_during_scheduling_ignored_during_execution
                    .as_deref(),
                &namespace,
            )?;
        }
    }

    let tolerations = spec
        .tolerations
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(toleration)
        .collect::<Result<Vec<_>, _>>()?;

    let topology_spread = spec
        .topology_spread_constraints
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|constraint| spread_constraint(constraint, &labels))
        .collect::<Result<Vec<_>, _>>()?;

    let images: Vec<String> = init_containers
        .iter()
        .chain(spec.containers.iter())
        .filter_map(|container| container.image.as_deref())
        .map(normalize_image_name)
        .collect();

    let status = pod.status.as_ref();
    Ok(PodInfo {
        uid: metadata.uid.clone().unwrap_or_default(),
        name: metadata.name.clone().unwrap_or_default(),
        namespace,
        labels,
        priority: spec.priority.unwrap_or(0),
        requests,
        nonzero_milli_cpu: nonzero_requests.milli_cpu,
        nonzero_memory_bytes: nonzero_requests.memory_bytes,
        host_ports,
        node_selector: spec.node_selector.clone().unwrap_or_default(),
        required_node_terms,
        preferred_node_terms,
        tolerations,
        required_affinity,
        required_anti_affinity,
        preferred_affinity,
        preferred_anti_affinity,
        topology_spread,
        default_spread_selector: None,
        scheduler_name: spec
            .scheduler_name
            .clone()
            .unwrap_or_else(|| "default-scheduler".to_string()),
        node_name: spec.node_name.clone().filter(|name| !name.is_empty()),
        nominated_node_name: status
            .and_then(|status| status.nominated_node_name.clone())
            .filter(|name| !name.is_empty()),
        preemption_policy: match spec.preemption_policy.as_deref() {
            Some("Never") => PreemptionPolicy::Never,
            _ => PreemptionPolicy::PreemptLowerPriority,
        },
        container_count: init_containers.len() + spec.containers.len(),
        images,
        start_time_unix_seconds: status
            .and_then(|status| status.start_time.as_ref())
            .map(|time| time.0.as_second()),
        terminating: metadata.deletion_timestamp.is_some(),
    })
}

/// Builds the scheduling view of a node.
pub fn node_info_from_node(node: &core::Node) -> Result<NodeInfo, ConvertError> {
    let spec = node.spec.as_ref();
    let status = node.status.as_ref();
    let mut allocatable = ResourceAmounts::default();
    let mut allocatable_pods = 0;
    if let Some(map) = status.and_then(|status| status.allocatable.as_ref()) {
        for (name, quantity) in map {
            match name.as_str() {
                RESOURCE_CPU => allocatable.milli_cpu = parse_milli_value(&quantity.0)?,
                RESOURCE_MEMORY => allocatable.memory_bytes = parse_value(&quantity.0)?,
                RESOURCE_EPHEMERAL_STORAGE => {
                    allocatable.ephemeral_storage_bytes = parse_value(&quantity.0)?
                }
                RESOURCE_PODS => allocatable_pods = parse_value(&quantity.0)?,
                other => allocatable.add_extended(other, parse_value(&quantity.0)?),
            }
        }
    }
    let taints = spec
        .and_then(|spec| spec.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|taint| {
            Ok(Taint {
                key: taint.key.clone(),
                value: taint.value.clone().unwrap_or_default(),
                effect: parse_taint_effect(&taint.effect)?,
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    let images = status
        .and_then(|status| status.images.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|image| NodeImage {
            names: image
                .names
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|name| normalize_image_name(name))
                .collect(),
            size_bytes: image.size_bytes.unwrap_or(0),
        })
        .collect();
    Ok(NodeInfo {
        name: node.metadata.name.clone().unwrap_or_default(),
        labels: node.metadata.labels.clone().unwrap_or_default(),
        taints,
        unschedulable: spec.and_then(|spec| spec.unschedulable).unwrap_or(false),
        allocatable,
        allocatable_pods,
        images,
    })
}

/// Builds the preemption view of a PodDisruptionBudget.
pub fn pdb_info_from_pdb(
    pdb: &PodDisruptionBudget,
) -> Result<PodDisruptionBudgetInfo, ConvertError> {
    let spec_selector = pdb.spec.as_ref().and_then(|spec| spec.selector.as_ref());
    // A PDB with an empty or absent selector matches no pod for preemption.
    let selector = match spec_selector {
        Some(selector) if !is_empty_selector(selector) => label_selector(Some(selector))?,
        _ => LabelSelector::nothing(),
    };
    let status = pdb.status.as_ref();
    Ok(PodDisruptionBudgetInfo {
        namespace: pdb
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        name: pdb.metadata.name.clone().unwrap_or_default(),
        selector,
        disruptions_allowed: i64::from(
            status.map(|status| status.disruptions_allowed).unwrap_or(0),
        ),
        disrupted_pods: status
            .and_then(|status| status.disrupted_pods.as_ref())
            .map(|pods| pods.keys().cloned().collect())
            .unwrap_or_default(),
    })
}

fn is_empty_selector(selector: &meta::LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

/// Effective requests and non-zero (scoring) requests of a pod spec:
/// max(Σ containers + sidecars, max over init containers) + overhead.
fn pod_requests(spec: &core::PodSpec) -> Result<(ResourceAmounts, ResourceAmounts), ConvertError> {
    let mut total = [ResourceAmounts::default(), ResourceAmounts::default()];
    for container in &spec.containers {
        let amounts = container_requests(container)?;
        for (kind, amount) in amounts.iter().enumerate() {
            add_amounts(&mut total[kind], amount);
        }
    }
    let mut sidecars = [ResourceAmounts::default(), ResourceAmounts::default()];
    let mut init_max = [ResourceAmounts::default(), ResourceAmounts::default()];
    for container in spec.init_containers.as_deref().unwrap_or_default() {
        let amounts = container_requests(container)?;
        let is_sidecar = container.restart_policy.as_deref() == Some("Always");
        for (kind, amount) in amounts.iter().enumerate() {
            let effective = if is_sidecar {
                add_amounts(&mut total[kind], amount);
                add_amounts(&mut sidecars[kind], amount);
                sidecars[kind].clone()
            } else {
                let mut effective = amount.clone();
                add_amounts(&mut effective, &sidecars[kind]);
                effective
            };
            max_amounts(&mut init_max[kind], &effective);
        }
    }
    let mut overhead = ResourceAmounts::default();
    if let Some(map) = &spec.overhead {
        overhead = amounts_from_map(map)?;
    }
    for kind in 0..2 {
        max_amounts(&mut total[kind], &init_max[kind]);
        add_amounts(&mut total[kind], &overhead);
    }
    let [requests, nonzero] = total;
    Ok((requests, nonzero))
}

/// A container's requests and its non-zero variant (100m / 200Mi when unset).
fn container_requests(container: &core::Container) -> Result<[ResourceAmounts; 2], ConvertError> {
    let requests_map = container
        .resources
        .as_ref()
        .and_then(|resources| resources.requests.as_ref());
    let requests = match requests_map {
        Some(map) => amounts_from_map(map)?,
        None => ResourceAmounts::default(),
    };
    let mut nonzero = requests.clone();
    if requests_map.is_none_or(|map| !map.contains_key(RESOURCE_CPU)) {
        nonzero.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if requests_map.is_none_or(|map| !map.contains_key(RESOURCE_MEMORY)) {
        nonzero.memory_bytes = DEFAULT_MEMORY_REQUEST_BYTES;
    }
    Ok([requests, nonzero])
}

fn amounts_from_map(
    map: &BTreeMap<String, api::k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> Result<ResourceAmounts, ConvertError> {
    let mut amounts = ResourceAmounts::default();
    for (name, quantity) in map {
        match name.as_str() {
            RESOURCE_CPU => amounts.milli_cpu = parse_milli_value(&quantity.0)?,
            RESOURCE_MEMORY => amounts.memory_bytes = parse_value(&quantity.0)?,
            RESOURCE_EPHEMERAL_STORAGE => {
                amounts.ephemeral_storage_bytes = parse_value(&quantity.0)?
            }
            RESOURCE_PODS => {}
            other => amounts.add_extended(other, parse_value(&quantity.0)?),
        }
    }
    Ok(amounts)
}

fn add_amounts(into: &mut ResourceAmounts, other: &ResourceAmounts) {
    into.milli_cpu += other.milli_cpu;
    into.memory_bytes += other.memory_bytes;
    into.ephemeral_storage_bytes += other.ephemeral_storage_bytes;
    for (name, amount) in &other.extended {
        into.add_extended(name, *amount);
    }
}

fn max_amounts(into: &mut ResourceAmounts, other: &ResourceAmounts) {
    into.milli_cpu = into.milli_cpu.max(other.milli_cpu);
    into.memory_bytes = into.memory_bytes.max(other.memory_bytes);
    into.ephemeral_storage_bytes = into
        .ephemeral_storage_bytes
        .max(other.ephemeral_storage_bytes);
    for (name, amount) in &other.extended {
        let current = into.extended_amount(name);
        if *amount > current {
            into.add_extended(name, amount - current);
        }
    }
}

fn parse_protocol(protocol: Option<&str>) -> Result<Protocol, ConvertError> {
    match protocol {
        None | Some("") | Some("TCP") => Ok(Protocol::Tcp),
        Some("UDP") => Ok(Protocol::Udp),
        Some("SCTP") => Ok(Protocol::Sctp),
        Some(other) => Err(ConvertError::InvalidValue {
            field: "protocol".to_string(),
            value: other.to_string(),
        }),
    }
}

fn parse_taint_effect(effect: &str) -> Result<TaintEffect, ConvertError> {
    match effect {
        "NoSchedule" => Ok(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
        "NoExecute" => Ok(TaintEffect::NoExecute),
        other => Err(ConvertError::InvalidValue {
            field: "effect".to_string(),
            value: other.to_string(),
        }),
    }
}

fn toleration(toleration: &core::Toleration) -> Result<Toleration, ConvertError> {
    Ok(Toleration {
        key: toleration.key.clone().unwrap_or_default(),
        operator: match toleration.operator.as_deref() {
            Some("Exists") => TolerationOperator::Exists,
            None | Some("") | Some("Equal") => TolerationOperator::Equal,
            Some(other) => {
                return Err(ConvertError::InvalidValue {
                    field: "operator".to_string(),
                    value: other.to_string(),
                });
            }
        },
        value: toleration.value.clone().unwrap_or_default(),
        effect: match toleration.effect.as_deref() {
            None | Some("") => None,
            Some(effect) => Some(parse_taint_effect(effect)?),
        },
    })
}

fn parse_operator(operator: &str, allow_numeric: bool) -> Result<SelectorOperator, ConvertError> {
    match operator {
        "In" => Ok(SelectorOperator::In),
        "NotIn" => Ok(SelectorOperator::NotIn),
        "Exists" => Ok(SelectorOperator::Exists),
        "DoesNotExist" => Ok(SelectorOperator::DoesNotExist),
        "Gt" if allow_numeric => Ok(SelectorOperator::Gt),
        "Lt" if allow_numeric => Ok(SelectorOperator::Lt),
        other => Err(ConvertError::InvalidValue {
            field: "operator".to_string(),
            value: other.to_string(),
        }),
    }
}

fn node_selector_term(term: &core::NodeSelectorTerm) -> Result<NodeSelectorTerm, ConvertError> {
    let match_expressions = term
        .match_expressions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|requirement| {
            Ok(LabelRequirement {
                key: requirement.key.clone(),
                operator: parse_operator(&requirement.operator, true)?,
                values: requirement.values.clone().unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    let match_fields = term
        .match_fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|requirement| {
            if requirement.key != "metadata.name" {
                return Err(ConvertError::InvalidValue {
                    field: "matchFields.key".to_string(),
                    value: requirement.key.clone(),
                });
            }
            let operator = parse_operator(&requirement.operator, false)?;
            if !matches!(operator, SelectorOperator::In | SelectorOperator::NotIn) {
                return Err(ConvertError::InvalidValue {
                    field: "matchFields.operator".to_string(),
                    value: requirement.operator.clone(),
                });
            }
            Ok(NodeNameRequirement {
                operator,
                values: requirement.values.clone().unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(NodeSelectorTerm {
        match_expressions,
        match_fields,
    })
}

/// Compiles a label selector; `None` selects nothing.
pub fn label_selector(
    selector: Option<&meta::LabelSelector>,
) -> Result<LabelSelector, ConvertError> {
    let Some(selector) = selector else {
        return Ok(LabelSelector::nothing());
    };
    let mut requirements = Vec::new();
    for (key, value) in selector.match_labels.as_ref().into_iter().flatten() {
        requirements.push(LabelRequirement {
            key: key.clone(),
            operator: SelectorOperator::In,
            values: vec![value.clone()],
        });
    }
    for requirement in selector.match_expressions.as_deref().unwrap_or_default() {
        requirements.push(LabelRequirement {
            key: requirement.key.clone(),
            operator: parse_operator(&requirement.operator, false)?,
            values: requirement.values.clone().unwrap_or_default(),
        });
    }
    Ok(LabelSelector {
        requirements,
        matches_nothing: false,
    })
}

fn pod_affinity_term(
    term: &core::PodAffinityTerm,
    namespace: &str,
) -> Result<PodAffinityTerm, ConvertError> {
    let mut namespaces: BTreeSet<String> = term.namespaces.iter().flatten().cloned().collect();
    let namespace_selector = match &term.namespace_selector {
        Some(selector) => Some(label_selector(Some(selector))?),
        None => None,
    };
    if namespaces.is_empty() && namespace_selector.is_none() {
        namespaces.insert(namespace.to_string());
    }
    Ok(PodAffinityTerm {
        selector: label_selector(term.label_selector.as_ref())?,
        namespaces,
        namespace_selector,
        topology_key: term.topology_key.clone(),
    })
}

fn required_terms(
    terms: Option<&[core::PodAffinityTerm]>,
    namespace: &str,
) -> Result<Vec<PodAffinityTerm>, ConvertError> {
    terms
        .unwrap_or_default()
        .iter()
        .map(|term| pod_affinity_term(term, namespace))
        .collect()
}

fn weighted_terms(
    terms: Option<&[core::WeightedPodAffinityTerm]>,
    namespace: &str,
) -> Result<Vec<WeightedPodAffinityTerm>, ConvertError> {
    terms
        .unwrap_or_default()
        .iter()
        .map(|term| {
            Ok(WeightedPodAffinityTerm {
                weight: i64::from(term.weight),
                term: pod_affinity_term(&term.pod_affinity_term, namespace)?,
            })
        })
        .collect()
}

fn spread_constraint(
    constraint: &core::TopologySpreadConstraint,
    pod_labels: &BTreeMap<String, String>,
) -> Result<TopologySpreadConstraint, ConvertError> {
    let mut selector = label_selector(constraint.label_selector.as_ref())?;
    if !selector.matches_nothing {
        for key in constraint.match_label_keys.iter().flatten() {
            if let Some(value) = pod_labels.get(key) {
                selector.requirements.push(LabelRequirement {
                    key: key.clone(),
                    operator: SelectorOperator::In,
                    values: vec![value.clone()],
                });
            }
        }
    }
    let policy = |value: Option<&str>, default: InclusionPolicy| match value {
        Some("Honor") => Ok(InclusionPolicy::Honor),
        Some("Ignore") => Ok(InclusionPolicy::Ignore),
        None | Some("") => Ok(default),
        Some(other) => Err(ConvertError::InvalidValue {
            field: "inclusionPolicy".to_string(),
            value: other.to_string(),
        }),
    };
    Ok(TopologySpreadConstraint {
        max_skew: i64::from(constraint.max_skew),
        topology_key: constraint.topology_key.clone(),
        when_unsatisfiable: match constraint.when_unsatisfiable.as_str() {
            "DoNotSchedule" => UnsatisfiableAction::DoNotSchedule,
            "ScheduleAnyway" => UnsatisfiableAction::ScheduleAnyway,
            other => {
                return Err(ConvertError::InvalidValue {
                    field: "whenUnsatisfiable".to_string(),
                    value: other.to_string(),
                });
            }
        },
        selector,
        min_domains: i64::from(constraint.min_domains.unwrap_or(1)),
        node_affinity_policy: policy(
            constraint.node_affinity_policy.as_deref(),
            InclusionPolicy::Honor,
        )?,
        node_taints_policy: policy(
            constraint.node_taints_policy.as_deref(),
            InclusionPolicy::Ignore,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_from_json(value: serde_json::Value) -> core::Pod {
        serde_json::from_value(value).expect("valid pod")
    }

    #[test]
    fn requests_follow_the_init_container_rule() {
        // The reference example: inits {2, 1G}, {2, 3G}; containers {2, 1G}, {1, 1G} ⇒ 3 CPU, 3G.
        let container = |name: &str, cpu: &str, memory: &str| serde_json::json!({"name": name, "image": "busybox", "resources": {"requests": {"cpu": cpu, "memory": memory}}});
        let pod = pod_from_json(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {
                "initContainers": [container("i1", "2", "1G"), container("i2", "2", "3G")],
                "containers": [container("c1", "2", "1G"), container("c2", "1", "1G")],
                "overhead": {"cpu": "250m"}
            }
        }));
        let info = pod_info_from_pod(&pod).expect("converts");
        assert_eq!(info.requests.milli_cpu, 3250);
        assert_eq!(info.requests.memory_bytes, 3_000_000_000);
        assert_eq!(info.container_count, 4);
        assert_eq!(info.images, vec!["busybox:latest"; 4]);
    }

    #[test]
    fn unset_requests_use_scoring_defaults_and_sidecars_add_up() {
        let pod = pod_from_json(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {
                "initContainers": [{"name": "sidecar", "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "100m"}}}],
                "containers": [{"name": "app", "image": "nginx:1.27",
                    "resources": {"requests": {"memory": "64Mi", "example.com/gpu": "1"}},
                    "ports": [{"containerPort": 80, "hostPort": 8080}]}],
                "priority": 7,
                "preemptionPolicy": "Never"
            }
        }));
        let info = pod_info_from_pod(&pod).expect("converts");
        assert_eq!(info.namespace, "default");
        assert_eq!(info.requests.milli_cpu, 100);
        assert_eq!(info.requests.extended_amount("example.com/gpu"), 1);
        // The app container sets no CPU (100m default), the sidecar no memory (200Mi).
        assert_eq!(info.nonzero_milli_cpu, 200);
        assert_eq!(
            info.nonzero_memory_bytes,
            64 * 1024 * 1024 + 200 * 1024 * 1024
        );
        assert_eq!(info.host_ports[0].host_ip, "0.0.0.0");
        assert_eq!(info.host_ports[0].port, 8080);
        assert_eq!(info.priority, 7);
        assert_eq!(info.preemption_policy, PreemptionPolicy::Never);
        assert_eq!(info.images, vec!["nginx:1.27"]);
    }

    #[test]
    fn affinity_terms_are_normalized() {
        let pod = pod_from_json(serde_json::json!({
            "metadata": {"name": "p", "namespace": "team-a", "labels": {"app": "web", "pod-template-hash": "abc"}},
            "spec": {
                "containers": [{"name": "c"}],
                "affinity": {
                    "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "num", "operator": "Gt", "values": ["3"]}],
                         "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}},
                    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}
                },
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                    "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}},
                    "matchLabelKeys": ["pod-template-hash"]}],
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
            }
        }));
        let info = pod_info_from_pod(&pod).expect("converts");
        let terms = info.required_node_terms.as_ref().expect("required terms");
        assert_eq!(terms[0].match_expressions[0].operator, SelectorOperator::Gt);
        assert_eq!(terms[0].match_fields[0].values, vec!["n1"]);
        let anti = &info.required_anti_affinity[0];
        assert_eq!(anti.namespaces, BTreeSet::from(["team-a".to_string()]));
        assert!(anti.namespace_selector.is_none());
        let spread = &info.topology_spread[0];
        assert_eq!(spread.selector.requirements.len(), 2);
        assert_eq!(spread.node_affinity_policy, InclusionPolicy::Honor);
        assert_eq!(spread.node_taints_policy, InclusionPolicy::Ignore);
        assert_eq!(info.tolerations[0].effect, Some(TaintEffect::NoSchedule));
    }

    #[test]
    fn invalid_input_is_a_typed_error() {
        let pod = pod_from_json(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "lots"}}}]}
        }));
        assert!(matches!(
            pod_info_from_pod(&pod),
            Err(ConvertError::InvalidQuantity { .. })
        ));
        let no_spec = core::Pod::default();
        assert_eq!(
            pod_info_from_pod(&no_spec),
            Err(ConvertError::MissingField {
                field: "spec".into()
            })
        );
    }

    #[test]
    fn node_view_reads_allocatable_taints_and_images() {
        let node: core::Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1", "labels": {"zone": "a"}},
            "spec": {"unschedulable": true, "taints": [{"key": "k", "value": "v", "effect": "NoExecute"}]},
            "status": {
                "allocatable": {"cpu": "3500m", "memory": "15Gi", "pods": "110", "nvidia.com/gpu": "2"},
                "images": [{"names": ["registry/app@sha256:1", "registry/app"], "sizeBytes": 1000}]
            }
        }))
        .expect("valid node");
        let info = node_info_from_node(&node).expect("converts");
        assert_eq!(info.allocatable.milli_cpu, 3500);
        assert_eq!(info.allocatable.memory_bytes, 15 * 1024 * 1024 * 1024);
        assert_eq!(info.allocatable_pods, 110);
        assert_eq!(info.allocatable.extended_amount("nvidia.com/gpu"), 2);
        assert!(info.unschedulable);
        assert_eq!(info.taints[0].effect, TaintEffect::NoExecute);
        assert_eq!(
            info.images[0].names,
            vec!["registry/app@sha256:1", "registry/app:latest"]
        );
    }
}
