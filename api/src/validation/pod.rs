//! Pod validation: the pod spec (also used by every workload template),
//! containers, resources, tolerations, affinity, topology spread, and the
//! narrow set of fields a pod update may change.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    Affinity, Container, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTerm, PodSpec,
    PodTemplateSpec, ResourceRequirements, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{
    ValidateKind, non_negative, one_of, port_number, validate_dns1123_label, validate_label_value,
    validate_labels, validate_qualified_name,
};
use crate::quantity::Quantity;
use crate::{ApiObject, FieldError, FieldErrors, FieldPath};

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
const PREEMPTION_POLICIES: &[&str] = &["Never", "PreemptLowerPriority"];
const NODE_SELECTOR_OPERATORS: &[&str] = &["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"];
const LABEL_SELECTOR_OPERATORS: &[&str] = &["DoesNotExist", "Exists", "In", "NotIn"];
const WHEN_UNSATISFIABLE: &[&str] = &["DoNotSchedule", "ScheduleAnyway"];
const IMAGE_PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];

impl ValidateKind for Pod {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_pod(self, errors);
        if let Some(spec) = &self.spec
            && spec
                .ephemeral_containers
                .as_ref()
                .is_some_and(|c| !c.is_empty())
        {
            // They are added later, through `pods/ephemeralcontainers`.
            errors.push(FieldError::forbidden(
                FieldPath::root("spec").child("ephemeralContainers"),
                "cannot be set on create",
            ));
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        validate_pod(self, errors);
        if let (Some(new), Some(old)) = (&self.spec, &old.spec) {
            validate_pod_spec_update(new, old, errors);
        }
    }
}

/// The checks of a pod's create and update: its spec, ephemeral
/// containers included.
fn validate_pod(pod: &Pod, errors: &mut FieldErrors) {
    match &pod.spec {
        Some(spec) => {
            let path = FieldPath::root("spec");
            validate_pod_spec(spec, &path, errors);
            validate_ephemeral_containers(spec, &path.child("ephemeralContainers"), errors);
        }
        None => errors.push(FieldError::required(FieldPath::root("spec"), "")),
    }
}

/// Validates a write of the `pods/ephemeralcontainers` subresource: `new`
/// is the stored pod `old` with the request's ephemeral containers, which
/// may only add to the old ones.
pub fn validate_ephemeral_containers_update(new: &Pod, old: &Pod) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    let path = FieldPath::root("metadata");
    super::validate_object_meta(
        &new.metadata,
        Pod::INFO.namespaced,
        <Pod as ValidateKind>::NAME_RULE,
        &path,
        &mut errors,
    );
    super::validate_object_meta_update(&new.metadata, &old.metadata, &path, &mut errors);
    validate_pod(new, &mut errors);
    let path = FieldPath::root("spec").child("ephemeralContainers");
    let empty = Vec::new();
    let ephemeral = |pod: &'_ Pod| {
        pod.spec
            .as_ref()
            .and_then(|spec| spec.ephemeral_containers.as_ref())
            .unwrap_or(&empty)
            .clone()
    };
    let (new_containers, old_containers) = (ephemeral(new), ephemeral(old));
    for old_container in &old_containers {
        match new_containers
            .iter()
            .position(|container| container.name == old_container.name)
        {
            None => errors.push(FieldError::forbidden(
                path.clone(),
                format!(
                    "existing ephemeral containers {:?} may not be removed",
                    old_container.name
                ),
            )),
            Some(i) if new_containers[i] != *old_container => {
                errors.push(FieldError::forbidden(
                    path.index(i),
                    format!(
                        "existing ephemeral containers {:?} may not be changed",
                        old_container.name
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    errors.into_result()
}

/// Ephemeral containers: names unique among all of the pod's containers,
/// an image, a target that is one of the pod's containers, and none of
/// the fields only regular containers may set (ports, probes, lifecycle,
/// resources, restart and resize policies).
fn validate_ephemeral_containers(spec: &PodSpec, path: &FieldPath, errors: &mut FieldErrors) {
    let regular: BTreeSet<&str> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .map(|container| container.name.as_str())
        .collect();
    let mut names: BTreeSet<String> = regular.iter().map(|name| name.to_string()).collect();
    for (i, container) in spec.ephemeral_containers.iter().flatten().enumerate() {
        let container_path = path.index(i);
        let as_container = Container {
            name: container.name.clone(),
            image: container.image.clone(),
            image_pull_policy: container.image_pull_policy.clone(),
            ..Default::default()
        };
        validate_container(&as_container, &container_path, &mut names, errors);
        if let Some(target) = container.target_container_name.as_deref()
            && !regular.contains(target)
        {
            errors.push(FieldError::not_found(
                container_path.child("targetContainerName"),
                target,
            ));
        }
        let set = [
            (
                "ports",
                container.ports.as_ref().is_some_and(|p| !p.is_empty()),
            ),
            ("lifecycle", container.lifecycle.is_some()),
            ("livenessProbe", container.liveness_probe.is_some()),
            ("readinessProbe", container.readiness_probe.is_some()),
            ("startupProbe", container.startup_probe.is_some()),
            (
                "resources",
                container
                    .resources
                    .as_ref()
                    .is_some_and(|r| *r != Default::default()),
            ),
            (
                "resizePolicy",
                container
                    .resize_policy
                    .as_ref()
                    .is_some_and(|p| !p.is_empty()),
            ),
            ("restartPolicy", container.restart_policy.is_some()),
        ];
        for (field, _) in set.iter().filter(|(_, set)| *set) {
            errors.push(FieldError::forbidden(
                container_path.child(field),
                "cannot be set for an Ephemeral Container",
            ));
        }
    }
}

/// Validates a pod template: its labels and its pod spec.
pub fn validate_pod_template(
    template: &PodTemplateSpec,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if let Some(labels) = template.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
        validate_labels(labels, &path.child("metadata").child("labels"), errors);
    }
    match &template.spec {
        Some(spec) => {
            validate_pod_spec(spec, &path.child("spec"), errors);
            if spec
                .ephemeral_containers
                .as_ref()
                .is_some_and(|c| !c.is_empty())
            {
                errors.push(FieldError::forbidden(
                    path.child("spec").child("ephemeralContainers"),
                    "ephemeral containers not allowed in pod template",
                ));
            }
        }
        None => errors.push(FieldError::required(path.child("spec"), "")),
    }
}

/// Validates a pod spec at `path` (`spec`, or `spec.template.spec`).
pub fn validate_pod_spec(spec: &PodSpec, path: &FieldPath, errors: &mut FieldErrors) {
    let mut names = BTreeSet::new();
    if spec.containers.is_empty() {
        errors.push(FieldError::required(path.child("containers"), ""));
    }
    for (i, container) in spec.containers.iter().enumerate() {
        validate_container(
            container,
            &path.child("containers").index(i),
            &mut names,
            errors,
        );
    }
    for (i, container) in spec.init_containers.iter().flatten().enumerate() {
        let container_path = path.child("initContainers").index(i);
        validate_container(container, &container_path, &mut names, errors);
        if let Some(policy) = container.restart_policy.as_deref() {
            one_of(
                Some(policy),
                &["Always"],
                false,
                &container_path.child("restartPolicy"),
                errors,
            );
        }
    }
    one_of(
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
        true,
        &path.child("restartPolicy"),
        errors,
    );
    one_of(
        spec.dns_policy.as_deref(),
        DNS_POLICIES,
        true,
        &path.child("dnsPolicy"),
        errors,
    );
    one_of(
        spec.preemption_policy.as_deref(),
        PREEMPTION_POLICIES,
        false,
        &path.child("preemptionPolicy"),
        errors,
    );
    non_negative(
        spec.termination_grace_period_seconds,
        &path.child("terminationGracePeriodSeconds"),
        errors,
    );
    if let Some(deadline) = spec
        .active_deadline_seconds
        .filter(|d| !(1..=i64::from(i32::MAX)).contains(d))
    {
        errors.push(FieldError::invalid_raw(
            path.child("activeDeadlineSeconds"),
            deadline,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    if let Some(node_selector) = &spec.node_selector {
        validate_labels(node_selector, &path.child("nodeSelector"), errors);
    }
    let mut volume_names = BTreeSet::new();
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        let name_path = path.child("volumes").index(i).child("name");
        if volume.name.is_empty() {
            errors.push(FieldError::required(name_path, ""));
        } else {
            for problem in validate_dns1123_label(&volume.name) {
                errors.push(FieldError::invalid(
                    name_path.clone(),
                    &volume.name,
                    problem,
                ));
            }
            if !volume_names.insert(volume.name.as_str()) {
                errors.push(FieldError::duplicate(name_path, &volume.name));
            }
        }
    }
    for (i, toleration) in spec.tolerations.iter().flatten().enumerate() {
        validate_toleration(toleration, &path.child("tolerations").index(i), errors);
    }
    if let Some(affinity) = &spec.affinity {
        validate_affinity(affinity, &path.child("affinity"), errors);
    }
    let mut spread_pairs = BTreeSet::new();
    for (i, constraint) in spec
        .topology_spread_constraints
        .iter()
        .flatten()
        .enumerate()
    {
        let constraint_path = path.child("topologySpreadConstraints").index(i);
        validate_topology_spread(constraint, &constraint_path, errors);
        let pair = (
            constraint.topology_key.as_str(),
            constraint.when_unsatisfiable.as_str(),
        );
        if !spread_pairs.insert(pair) {
            errors.push(FieldError::duplicate(
                constraint_path.child("{topologyKey, whenUnsatisfiable}"),
                &format!("{{{}, {}}}", pair.0, pair.1),
            ));
        }
    }
}

fn validate_container(
    container: &Container,
    path: &FieldPath,
    names: &mut BTreeSet<String>,
    errors: &mut FieldErrors,
) {
    let name_path = path.child("name");
    if container.name.is_empty() {
        errors.push(FieldError::required(name_path, ""));
    } else {
        for problem in validate_dns1123_label(&container.name) {
            errors.push(FieldError::invalid(
                name_path.clone(),
                &container.name,
                problem,
            ));
        }
        if !names.insert(container.name.clone()) {
            errors.push(FieldError::duplicate(name_path, &container.name));
        }
    }
    if container
        .image
        .as_deref()
        .is_none_or(|image| image.trim().is_empty())
    {
        errors.push(FieldError::required(path.child("image"), ""));
    }
    one_of(
        container.image_pull_policy.as_deref(),
        IMAGE_PULL_POLICIES,
        false,
        &path.child("imagePullPolicy"),
        errors,
    );
    for (i, port) in container.ports.iter().flatten().enumerate() {
        let port_path = path.child("ports").index(i);
        port_number(
            port.container_port,
            &port_path.child("containerPort"),
            errors,
        );
        if let Some(host_port) = port.host_port.filter(|p| *p != 0) {
            port_number(host_port, &port_path.child("hostPort"), errors);
        }
        one_of(
            port.protocol.as_deref(),
            PROTOCOLS,
            false,
            &port_path.child("protocol"),
            errors,
        );
    }
    if let Some(resources) = &container.resources {
        validate_resources(resources, &path.child("resources"), errors);
    }
}

/// Parses every quantity of a resource list, reporting malformed and
/// negative ones at `path[name]`.
fn parse_resource_list<'a>(
    list: Option<&'a BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) -> Vec<(&'a str, Quantity)> {
    let mut parsed = Vec::new();
    for (name, quantity) in list.into_iter().flatten() {
        let item_path = path.key(name);
        match Quantity::parse(&quantity.0) {
            Ok(value) if value.is_negative() => errors.push(FieldError::invalid(
                item_path,
                &value.to_string(),
                "must be greater than or equal to 0",
            )),
            Ok(value) => parsed.push((name.as_str(), value)),
            Err(error) => errors.push(FieldError::invalid(item_path, &quantity.0, error.detail())),
        }
    }
    parsed
}

/// Validates one resource list (`ResourceQuota.spec.hard` and the like).
pub(crate) fn validate_resource_list(
    list: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    parse_resource_list(list, path, errors);
}

fn validate_resources(
    resources: &ResourceRequirements,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let limits = parse_resource_list(resources.limits.as_ref(), &path.child("limits"), errors);
    let requests =
        parse_resource_list(resources.requests.as_ref(), &path.child("requests"), errors);
    for (name, request) in &requests {
        let limit = limits.iter().find(|(limit_name, _)| limit_name == name);
        if let Some((_, limit)) = limit.filter(|(_, limit)| request > limit) {
            errors.push(FieldError::invalid(
                path.child("requests").key(name),
                &request.to_string(),
                format!("must be less than or equal to {name} limit of {limit}"),
            ));
        }
    }
}

fn validate_toleration(toleration: &Toleration, path: &FieldPath, errors: &mut FieldErrors) {
    let key = toleration.key.as_deref().unwrap_or("");
    let operator = toleration.operator.as_deref().unwrap_or("");
    let value = toleration.value.as_deref().unwrap_or("");
    if !key.is_empty() {
        for problem in validate_qualified_name(key) {
            errors.push(FieldError::invalid(path.child("key"), key, problem));
        }
    } else if operator != "Exists" {
        errors.push(FieldError::invalid(
            path.child("operator"),
            operator,
            "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
        ));
    }
    match operator {
        "" | "Equal" => {
            for problem in validate_label_value(value) {
                errors.push(FieldError::invalid(path.child("value"), value, problem));
            }
        }
        "Exists" if !value.is_empty() => errors.push(FieldError::invalid(
            path.child("operator"),
            operator,
            "value must be empty when `operator` is 'Exists'",
        )),
        "Exists" => {}
        other => errors.push(FieldError::not_supported(
            path.child("operator"),
            other,
            &["Equal", "Exists"],
        )),
    }
    let effect = toleration.effect.as_deref().unwrap_or("");
    one_of(
        Some(effect),
        TAINT_EFFECTS,
        false,
        &path.child("effect"),
        errors,
    );
    if toleration.toleration_seconds.is_some() && effect != "NoExecute" {
        errors.push(FieldError::invalid(
            path.child("effect"),
            effect,
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ));
    }
}

fn validate_affinity(affinity: &Affinity, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(node) = &affinity.node_affinity {
        let node_path = path.child("nodeAffinity");
        if let Some(required) = &node.required_during_scheduling_ignored_during_execution {
            let terms_path = node_path
                .child("requiredDuringSchedulingIgnoredDuringExecution")
                .child("nodeSelectorTerms");
            if required.node_selector_terms.is_empty() {
                errors.push(FieldError::required(
                    terms_path.clone(),
                    "must have at least one node selector term",
                ));
            }
            for (i, term) in required.node_selector_terms.iter().enumerate() {
                validate_node_selector_term(term, &terms_path.index(i), errors);
            }
        }
        let preferred_path = node_path.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, preferred) in node
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let item_path = preferred_path.index(i);
            validate_weight(preferred.weight, &item_path.child("weight"), errors);
            validate_node_selector_term(
                &preferred.preference,
                &item_path.child("preference"),
                errors,
            );
        }
    }
    let pod_affinities = [
        (
            "podAffinity",
            affinity.pod_affinity.as_ref().map(|a| {
                (
                    &a.required_during_scheduling_ignored_during_execution,
                    &a.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
        (
            "podAntiAffinity",
            affinity.pod_anti_affinity.as_ref().map(|a| {
                (
                    &a.required_during_scheduling_ignored_during_execution,
                    &a.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
    ];
    for (name, terms) in pod_affinities {
        let Some((required, preferred)) = terms else {
            continue;
        };
        let kind_path = path.child(name);
        for (i, term) in required.iter().flatten().enumerate() {
            let term_path = kind_path
                .child("requiredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            validate_pod_affinity_term(term, &term_path, errors);
        }
        for (i, weighted) in preferred.iter().flatten().enumerate() {
            let item_path = kind_path
                .child("preferredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            validate_weight(weighted.weight, &item_path.child("weight"), errors);
            validate_pod_affinity_term(
                &weighted.pod_affinity_term,
                &item_path.child("podAffinityTerm"),
                errors,
            );
        }
    }
}

fn validate_weight(weight: i32, path: &FieldPath, errors: &mut FieldErrors) {
    if !(1..=100).contains(&weight) {
        errors.push(FieldError::invalid_raw(
            path.clone(),
            weight,
            "must be in the range 1-100",
        ));
    }
}

fn validate_node_selector_term(
    term: &NodeSelectorTerm,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    for (i, requirement) in term.match_expressions.iter().flatten().enumerate() {
        let item_path = path.child("matchExpressions").index(i);
        validate_node_selector_requirement(requirement, &item_path, errors);
        for problem in validate_qualified_name(&requirement.key) {
            errors.push(FieldError::invalid(
                item_path.child("key"),
                &requirement.key,
                problem,
            ));
        }
    }
    for (i, requirement) in term.match_fields.iter().flatten().enumerate() {
        let item_path = path.child("matchFields").index(i);
        validate_node_selector_requirement(requirement, &item_path, errors);
        if requirement.key != "metadata.name" {
            errors.push(FieldError::not_supported(
                item_path.child("key"),
                &requirement.key,
                &["metadata.name"],
            ));
        }
        if !matches!(requirement.operator.as_str(), "In" | "NotIn") {
            errors.push(FieldError::not_supported(
                item_path.child("operator"),
                &requirement.operator,
                &["In", "NotIn"],
            ));
        } else if requirement.values.as_ref().is_none_or(|v| v.len() != 1) {
            errors.push(FieldError::required(
                item_path.child("values"),
                "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
            ));
        }
    }
}

fn validate_node_selector_requirement(
    requirement: &NodeSelectorRequirement,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let values = requirement.values.as_deref().unwrap_or(&[]);
    match requirement.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required(
            path.child("values"),
            "must be specified when `operator` is 'In' or 'NotIn'",
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::forbidden(
            path.child("values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )),
        "Gt" | "Lt" => match values {
            [value] => {
                if value.parse::<i64>().is_err() {
                    errors.push(FieldError::invalid(
                        path.child("values").index(0),
                        value,
                        "must be an integer",
                    ));
                }
            }
            _ => errors.push(FieldError::required(
                path.child("values"),
                "must be specified single value when `operator` is 'Lt' or 'Gt'",
            )),
        },
        operator if !NODE_SELECTOR_OPERATORS.contains(&operator) => {
            errors.push(FieldError::invalid(
                path.child("operator"),
                operator,
                "not a valid selector operator",
            ));
        }
        _ => {}
    }
}

/// Validates a `LabelSelector` at `path`: operators and values per operator.
pub(crate) fn validate_label_selector(
    selector: &LabelSelector,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if let Some(labels) = &selector.match_labels {
        validate_labels(labels, &path.child("matchLabels"), errors);
    }
    for (i, requirement) in selector.match_expressions.iter().flatten().enumerate() {
        let item_path = path.child("matchExpressions").index(i);
        let values = requirement.values.as_deref().unwrap_or(&[]);
        match requirement.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required(
                item_path.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::forbidden(
                item_path.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            operator if !LABEL_SELECTOR_OPERATORS.contains(&operator) => {
                errors.push(FieldError::invalid(
                    item_path.child("operator"),
                    operator,
                    "not a valid selector operator",
                ));
            }
            _ => {}
        }
        for problem in validate_qualified_name(&requirement.key) {
            errors.push(FieldError::invalid(
                item_path.child("key"),
                &requirement.key,
                problem,
            ));
        }
    }
}

fn validate_pod_affinity_term(term: &PodAffinityTerm, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(selector) = &term.label_selector {
        validate_label_selector(selector, &path.child("labelSelector"), errors);
    }
    if term.topology_key.is_empty() {
        errors.push(FieldError::required(
            path.child("topologyKey"),
            "can not be empty",
        ));
    } else {
        for problem in validate_qualified_name(&term.topology_key) {
            errors.push(FieldError::invalid(
                path.child("topologyKey"),
                &term.topology_key,
                problem,
            ));
        }
    }
}

fn validate_topology_spread(
    constraint: &TopologySpreadConstraint,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if constraint.max_skew <= 0 {
        errors.push(FieldError::invalid_raw(
            path.child("maxSkew"),
            constraint.max_skew,
            "must be greater than zero",
        ));
    }
    if constraint.topology_key.is_empty() {
        errors.push(FieldError::required(
            path.child("topologyKey"),
            "can not be empty",
        ));
    }
    one_of(
        Some(&constraint.when_unsatisfiable),
        WHEN_UNSATISFIABLE,
        true,
        &path.child("whenUnsatisfiable"),
        errors,
    );
    if let Some(min_domains) = constraint.min_domains {
        if min_domains <= 0 {
            errors.push(FieldError::invalid_raw(
                path.child("minDomains"),
                min_domains,
                "must be greater than zero",
            ));
        } else if constraint.when_unsatisfiable != "DoNotSchedule" {
            errors.push(FieldError::invalid_raw(
                path.child("minDomains"),
                min_domains,
                format!(
                    "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}",
                    constraint.when_unsatisfiable
                ),
            ));
        }
    }
    if let Some(selector) = &constraint.label_selector {
        validate_label_selector(selector, &path.child("labelSelector"), errors);
    }
}

const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// A pod update may change only images, `activeDeadlineSeconds`,
/// `terminationGracePeriodSeconds` and add tolerations.
fn validate_pod_spec_update(new: &PodSpec, old: &PodSpec, errors: &mut FieldErrors) {
    let old_tolerations = old.tolerations.as_deref().unwrap_or(&[]);
    let new_tolerations = new.tolerations.as_deref().unwrap_or(&[]);
    if old_tolerations.iter().any(|t| !new_tolerations.contains(t)) {
        errors.push(FieldError::forbidden(
            FieldPath::root("spec").child("tolerations"),
            "existing toleration can not be modified except its tolerationSeconds",
        ));
    }
    let mut masked = new.clone();
    if masked.containers.len() == old.containers.len() {
        for (container, old_container) in masked.containers.iter_mut().zip(&old.containers) {
            container.image.clone_from(&old_container.image);
        }
    }
    if let (Some(init), Some(old_init)) = (&mut masked.init_containers, &old.init_containers)
        && init.len() == old_init.len()
    {
        for (container, old_container) in init.iter_mut().zip(old_init) {
            container.image.clone_from(&old_container.image);
        }
    }
    masked.active_deadline_seconds = old.active_deadline_seconds;
    masked.termination_grace_period_seconds = old.termination_grace_period_seconds;
    masked.tolerations.clone_from(&old.tolerations);
    if masked != *old {
        errors.push(FieldError::forbidden(
            FieldPath::root("spec"),
            POD_UPDATE_FORBIDDEN,
        ));
    }
}

#[cfg(test)]
mod tests;
