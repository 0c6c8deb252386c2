//! Validation of Service, Node, PriorityClass, Lease, Event and
//! PodDisruptionBudget.

use std::collections::BTreeSet;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::apps::validate_int_or_percent;
use super::pod::validate_label_selector;
use super::{
    NameRule, ValidateKind, one_of, port_number, validate_labels, validate_qualified_name,
};
use crate::{FieldError, FieldErrors, FieldPath};

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
/// The default `--service-node-port-range`.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;
/// The highest priority a user-defined PriorityClass may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

impl ValidateKind for Service {
    const NAME_RULE: NameRule = NameRule::Dns1035Label;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else {
            return errors.push(FieldError::required(path, ""));
        };
        let service_type = spec.type_.as_deref().unwrap_or("ClusterIP");
        one_of(
            Some(service_type),
            SERVICE_TYPES,
            false,
            &path.child("type"),
            errors,
        );
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let ports = spec.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() && service_type != "ExternalName" && !headless {
            errors.push(FieldError::required(path.child("ports"), ""));
        }
        let mut names = BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            let port_path = path.child("ports").index(i);
            let name = port.name.as_deref().unwrap_or("");
            if name.is_empty() {
                if ports.len() > 1 {
                    errors.push(FieldError::required(port_path.child("name"), ""));
                }
            } else {
                for problem in super::validate_dns1123_label(name) {
                    errors.push(FieldError::invalid(port_path.child("name"), name, problem));
                }
                if !names.insert(name) {
                    errors.push(FieldError::duplicate(port_path.child("name"), name));
                }
            }
            port_number(port.port, &port_path.child("port"), errors);
            one_of(
                port.protocol.as_deref(),
                PROTOCOLS,
                false,
                &port_path.child("protocol"),
                errors,
            );
            match &port.target_port {
                Some(IntOrString::Int(target)) if *target != 0 => {
                    port_number(*target, &port_path.child("targetPort"), errors);
                }
                Some(IntOrString::String(target)) if target.is_empty() || target.len() > 15 => {
                    errors.push(FieldError::invalid(
                        port_path.child("targetPort"),
                        target,
                        "must contain at least one letter and be no more than 15 characters",
                    ));
                }
                _ => {}
            }
            if let Some(node_port) = port.node_port.filter(|p| *p != 0) {
                if service_type == "ClusterIP" {
                    errors.push(FieldError::forbidden(
                        port_path.child("nodePort"),
                        "may not be used when `type` is 'ClusterIP'",
                    ));
                } else if !NODE_PORT_RANGE.contains(&node_port) {
                    errors.push(FieldError::invalid_raw(
                        port_path.child("nodePort"),
                        node_port,
                        "provided port is not in the valid range. The range of valid ports is 30000-32767",
                    ));
                }
            }
        }
        if let Some(selector) = &spec.selector {
            validate_labels(selector, &path.child("selector"), errors);
        }
        one_of(
            spec.session_affinity.as_deref(),
            &["ClientIP", "None"],
            false,
            &path.child("sessionAffinity"),
            errors,
        );
        one_of(
            spec.internal_traffic_policy.as_deref(),
            &["Cluster", "Local"],
            false,
            &path.child("internalTrafficPolicy"),
            errors,
        );
        if service_type == "ExternalName" {
            let name = spec.external_name.as_deref().unwrap_or("");
            if name.is_empty() {
                errors.push(FieldError::required(path.child("externalName"), ""));
            }
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        let old_ip = old
            .spec
            .as_ref()
            .and_then(|s| s.cluster_ip.as_deref())
            .unwrap_or("");
        let new_ip = self
            .spec
            .as_ref()
            .and_then(|s| s.cluster_ip.as_deref())
            .unwrap_or("");
        let old_type = old
            .spec
            .as_ref()
            .and_then(|s| s.type_.as_deref())
            .unwrap_or("ClusterIP");
        if !old_ip.is_empty() && old_type != "ExternalName" && new_ip != old_ip {
            errors.push(FieldError::invalid(
                FieldPath::root("spec").child("clusterIP"),
                new_ip,
                "field is immutable",
            ));
        }
    }
}

impl ValidateKind for Node {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec").child("taints");
        let taints = self
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[]);
        let mut seen = BTreeSet::new();
        for (i, taint) in taints.iter().enumerate() {
            let taint_path = path.index(i);
            if taint.key.is_empty() {
                errors.push(FieldError::required(taint_path.child("key"), ""));
            }
            for problem in validate_qualified_name(&taint.key)
                .into_iter()
                .filter(|_| !taint.key.is_empty())
            {
                errors.push(FieldError::invalid(
                    taint_path.child("key"),
                    &taint.key,
                    problem,
                ));
            }
            one_of(
                Some(&taint.effect),
                TAINT_EFFECTS,
                true,
                &taint_path.child("effect"),
                errors,
            );
            if !seen.insert((taint.key.as_str(), taint.effect.as_str())) {
                errors.push(FieldError::duplicate(
                    taint_path,
                    &format!("{}:{}", taint.key, taint.effect),
                ));
            }
        }
    }
}

impl ValidateKind for PriorityClass {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let name = self.metadata.name.as_deref().unwrap_or("");
        let is_system = matches!(name, "system-cluster-critical" | "system-node-critical");
        if name.starts_with("system-") && !is_system {
            errors.push(FieldError::forbidden(
                FieldPath::root("metadata").child("name"),
                "priority class names with 'system-' prefix are reserved",
            ));
        }
        if self.value > HIGHEST_USER_DEFINABLE_PRIORITY && !is_system {
            errors.push(FieldError::forbidden(
                FieldPath::root("value"),
                format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
            ));
        }
        one_of(
            self.preemption_policy.as_deref(),
            &["Never", "PreemptLowerPriority"],
            false,
            &FieldPath::root("preemptionPolicy"),
            errors,
        );
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        if self.value != old.value {
            errors.push(FieldError::forbidden(
                FieldPath::root("value"),
                "may not be changed in an update.",
            ));
        }
        if self.preemption_policy != old.preemption_policy {
            let value = self.preemption_policy.as_deref().unwrap_or("");
            errors.push(FieldError::invalid(
                FieldPath::root("preemptionPolicy"),
                value,
                "field is immutable",
            ));
        }
    }
}

impl ValidateKind for Lease {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else { return };
        if let Some(duration) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
            errors.push(FieldError::invalid_raw(
                path.child("leaseDurationSeconds"),
                duration,
                "must be greater than 0",
            ));
        }
        if let Some(transitions) = spec.lease_transitions.filter(|t| *t < 0) {
            errors.push(FieldError::invalid_raw(
                path.child("leaseTransitions"),
                transitions,
                "must be greater than or equal to 0",
            ));
        }
    }
}

impl ValidateKind for Event {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let namespace = self.metadata.namespace.as_deref().unwrap_or("");
        let involved = self.involved_object.namespace.as_deref().unwrap_or("");
        if !involved.is_empty() && involved != namespace {
            errors.push(FieldError::invalid(
                FieldPath::root("involvedObject").child("namespace"),
                involved,
                "does not match event.namespace",
            ));
        }
        one_of(
            self.type_.as_deref(),
            &["Normal", "Warning"],
            false,
            &FieldPath::root("type"),
            errors,
        );
    }
}

impl ValidateKind for PodDisruptionBudget {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else { return };
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            errors.push(FieldError::invalid(
                path.clone(),
                "minAvailable and maxUnavailable",
                "minAvailable and maxUnavailable cannot be both set",
            ));
        }
        validate_int_or_percent(
            spec.min_available.as_ref(),
            &path.child("minAvailable"),
            errors,
        );
        validate_int_or_percent(
            spec.max_unavailable.as_ref(),
            &path.child("maxUnavailable"),
            errors,
        );
        if let Some(selector) = &spec.selector {
            validate_label_selector(selector, &path.child("selector"), errors);
        }
        one_of(
            spec.unhealthy_pod_eviction_policy.as_deref(),
            &["AlwaysAllow", "IfHealthyBudget"],
            false,
            &path.child("unhealthyPodEvictionPolicy"),
            errors,
        );
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::ApiObject;

    fn check<T: ApiObject>(object: &T, expected: &[&str]) {
        let actual: Vec<String> = match object.validate_create() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(actual, expected);
    }

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..ObjectMeta::default()
        }
    }

    fn service(type_: &str, ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: meta("web", Some("default")),
            spec: Some(ServiceSpec {
                type_: Some(type_.into()),
                ports: Some(ports),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    #[test]
    fn service_ports() {
        let port = |port, node_port| ServicePort {
            port,
            node_port,
            ..ServicePort::default()
        };
        check(&service("NodePort", vec![port(80, Some(30080))]), &[]);
        check(
            &service("NodePort", vec![port(80, Some(80))]),
            &[
                "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
            ],
        );
        check(
            &service("ClusterIP", vec![port(0, None), port(81, None)]),
            &[
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
            ],
        );
        check(
            &service("Magic", vec![]),
            &[
                "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                "spec.ports: Required value",
            ],
        );
    }

    #[test]
    fn service_cluster_ip_is_immutable() {
        let mut old = service(
            "ClusterIP",
            vec![ServicePort {
                port: 80,
                ..ServicePort::default()
            }],
        );
        if let Some(spec) = old.spec.as_mut() {
            spec.cluster_ip = Some("10.0.0.10".into());
        }
        let mut new = old.clone();
        if let Some(spec) = new.spec.as_mut() {
            spec.cluster_ip = Some("10.0.0.11".into());
        }
        let errors = new.validate_update(&old).map_err(|e| e.to_string());
        assert_eq!(
            errors,
            Err("spec.clusterIP: Invalid value: \"10.0.0.11\": field is immutable".to_string())
        );
    }

    #[test]
    fn priority_class_value_is_capped() {
        let class = PriorityClass {
            metadata: meta("high", None),
            value: 2_000_000_000,
            ..PriorityClass::default()
        };
        check(
            &class,
            &["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
        );
        let class = PriorityClass {
            metadata: meta("system-node-critical", None),
            value: 2_000_001_000,
            ..PriorityClass::default()
        };
        check(&class, &[]);
    }

    #[test]
    fn pdb_min_and_max_are_exclusive() {
        let pdb = PodDisruptionBudget {
            metadata: meta("web", Some("default")),
            spec: Some(k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec {
                min_available: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::String("120%".into())),
                ..Default::default()
            }),
            ..PodDisruptionBudget::default()
        };
        check(
            &pdb,
            &[
                "spec: Invalid value: \"minAvailable and maxUnavailable\": minAvailable and maxUnavailable cannot be both set",
                "spec.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%",
            ],
        );
    }
}
