//! Pod validation tests with Kubernetes' exact messages.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EphemeralContainer, Pod, PodSpec, Probe, ResourceRequirements,
    Toleration, TopologySpreadConstraint, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::ApiObject;

fn valid_pod() -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("nginx:1.27".into()),
                ..Container::default()
            }],
            restart_policy: Some("Always".into()),
            dns_policy: Some("ClusterFirst".into()),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

/// Applies `change` to a valid pod and checks the messages of `validate_create`.
fn check(change: impl FnOnce(&mut PodSpec), expected: &[&str]) {
    let mut pod = valid_pod();
    if let Some(spec) = pod.spec.as_mut() {
        change(spec);
    }
    let actual: Vec<String> = match pod.validate_create() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(actual, expected);
}

fn resources(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Option<ResourceRequirements> {
    let list = |pairs: &[(&str, &str)]| -> Option<BTreeMap<String, Quantity>> {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect()
        })
    };
    Some(ResourceRequirements {
        requests: list(requests),
        limits: list(limits),
        ..Default::default()
    })
}

#[test]
fn valid_pod_passes() {
    check(|_| {}, &[]);
}

#[test]
fn containers_required_and_unique() {
    check(
        |spec| spec.containers.clear(),
        &["spec.containers: Required value"],
    );
    check(
        |spec| {
            let mut second = spec.containers[0].clone();
            second.image = None;
            spec.containers.push(second);
        },
        &[
            "spec.containers[1].name: Duplicate value: \"app\"",
            "spec.containers[1].image: Required value",
        ],
    );
}

#[test]
fn resources_are_checked() {
    check(
        |spec| spec.containers[0].resources = resources(&[("cpu", "-1")], &[]),
        &[
            "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
        ],
    );
    check(
        |spec| spec.containers[0].resources = resources(&[("cpu", "2")], &[("cpu", "1")]),
        &[
            "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        ],
    );
    check(
        |spec| spec.containers[0].resources = resources(&[("memory", "1K")], &[]),
        &[
            "spec.containers[0].resources.requests[memory]: Invalid value: \"1K\": unable to parse quantity's suffix",
        ],
    );
    check(
        |spec| spec.containers[0].resources = resources(&[("cpu", "500m")], &[("cpu", "1")]),
        &[],
    );
}

#[test]
fn ports_and_enums() {
    check(
        |spec| {
            spec.containers[0].ports = Some(vec![ContainerPort {
                container_port: 0,
                protocol: Some("HTTP".into()),
                host_port: Some(70000),
                ..ContainerPort::default()
            }]);
            spec.restart_policy = Some("Sometimes".into());
        },
        &[
            "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
        ],
    );
    check(
        |spec| spec.termination_grace_period_seconds = Some(-1),
        &[
            "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
        ],
    );
}

fn toleration(
    key: &str,
    operator: &str,
    value: &str,
    effect: &str,
    seconds: Option<i64>,
) -> Toleration {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Toleration {
        key: some(key),
        operator: some(operator),
        value: some(value),
        effect: some(effect),
        toleration_seconds: seconds,
    }
}

#[test]
fn tolerations_are_checked() {
    check(
        |spec| {
            spec.tolerations = Some(vec![
                toleration("", "Equal", "x", "", None),
                toleration("gpu", "Exists", "x", "NoSchedule", None),
                toleration("gpu", "Equal", "x", "NoSchedule", Some(30)),
                toleration("gpu", "", "", "Never", None),
                toleration("", "Exists", "", "", None),
            ])
        },
        &[
            "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            "spec.tolerations[1].operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'",
            "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            "spec.tolerations[3].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
        ],
    );
}

#[test]
fn topology_spread_and_volumes() {
    check(
        |spec| {
            spec.topology_spread_constraints = Some(vec![TopologySpreadConstraint {
                max_skew: 0,
                topology_key: String::new(),
                when_unsatisfiable: "ScheduleAnyway".into(),
                min_domains: Some(2),
                ..TopologySpreadConstraint::default()
            }]);
            spec.volumes = Some(vec![
                Volume {
                    name: "data".into(),
                    ..Volume::default()
                },
                Volume {
                    name: "data".into(),
                    ..Volume::default()
                },
            ]);
        },
        &[
            "spec.volumes[1].name: Duplicate value: \"data\"",
            "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
            "spec.topologySpreadConstraints[0].topologyKey: Required value: can not be empty",
            "spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway",
        ],
    );
}

fn check_update(change: impl FnOnce(&mut PodSpec), expected: &[&str]) {
    let old = valid_pod();
    let mut new = old.clone();
    if let Some(spec) = new.spec.as_mut() {
        change(spec);
    }
    let actual: Vec<String> = match new.validate_update(&old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(actual, expected);
}

#[test]
fn pod_updates_are_narrow() {
    check_update(
        |spec| spec.containers[0].image = Some("nginx:1.28".into()),
        &[],
    );
    check_update(|spec| spec.active_deadline_seconds = Some(60), &[]);
    check_update(
        |spec| spec.tolerations = Some(vec![toleration("a", "Exists", "", "", None)]),
        &[],
    );
    check_update(
        |spec| spec.node_name = Some("n1".into()),
        &[&format!("spec: Forbidden: {}", super::POD_UPDATE_FORBIDDEN)],
    );
}

fn debugger(name: &str) -> EphemeralContainer {
    EphemeralContainer {
        name: name.into(),
        image: Some("busybox:1.36".into()),
        target_container_name: Some("app".into()),
        ..EphemeralContainer::default()
    }
}

/// The messages of a `pods/ephemeralcontainers` write from `old`'s
/// ephemeral containers to `new`'s.
fn check_ephemeral(old: Vec<EphemeralContainer>, new: Vec<EphemeralContainer>, expected: &[&str]) {
    let with = |containers: Vec<EphemeralContainer>| {
        let mut pod = valid_pod();
        if let Some(spec) = pod.spec.as_mut() {
            spec.ephemeral_containers = (!containers.is_empty()).then_some(containers);
        }
        pod
    };
    let actual: Vec<String> =
        match super::validate_ephemeral_containers_update(&with(new), &with(old)) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        };
    assert_eq!(actual, expected);
}

#[test]
fn ephemeral_containers_are_added_only_through_their_subresource() {
    check(
        |spec| spec.ephemeral_containers = Some(vec![debugger("dbg")]),
        &["spec.ephemeralContainers: Forbidden: cannot be set on create"],
    );
    // A plain update may not add one either.
    check_update(
        |spec| spec.ephemeral_containers = Some(vec![debugger("dbg")]),
        &[&format!("spec: Forbidden: {}", super::POD_UPDATE_FORBIDDEN)],
    );
    check_ephemeral(vec![], vec![debugger("dbg")], &[]);
    check_ephemeral(
        vec![debugger("dbg")],
        vec![debugger("dbg"), debugger("dbg2")],
        &[],
    );
}

#[test]
fn ephemeral_containers_may_not_be_removed_or_changed() {
    check_ephemeral(
        vec![debugger("dbg")],
        vec![],
        &[
            r#"spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed"#,
        ],
    );
    let mut changed = debugger("dbg");
    changed.image = Some("busybox:1.37".into());
    check_ephemeral(
        vec![debugger("dbg")],
        vec![changed],
        &[
            r#"spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "dbg" may not be changed"#,
        ],
    );
}

#[test]
fn ephemeral_containers_are_checked_like_containers_and_more() {
    let mut bad = debugger("app");
    bad.image = None;
    bad.target_container_name = Some("nope".into());
    bad.ports = Some(vec![ContainerPort {
        container_port: 80,
        ..ContainerPort::default()
    }]);
    bad.readiness_probe = Some(Probe::default());
    bad.resources = resources(&[("cpu", "1")], &[]);
    check_ephemeral(
        vec![],
        vec![bad],
        &[
            r#"spec.ephemeralContainers[0].name: Duplicate value: "app""#,
            "spec.ephemeralContainers[0].image: Required value",
            r#"spec.ephemeralContainers[0].targetContainerName: Not found: "nope""#,
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container",
        ],
    );
}
