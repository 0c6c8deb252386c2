//! Pod statuses as the kubelet writes them: running (all containers started
//! and ready), finished (containers terminated, phase Succeeded or Failed),
//! and rejected at admission. Built from a [`PodShape`], the few facts of a
//! pod the status depends on, so a kubelet tracking many pods keeps that
//! instead of whole Pod objects.

use std::net::Ipv4Addr;
use std::time::SystemTime;

use api::k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus, HostIP, Pod,
    PodCondition, PodIP, PodStatus,
};
use api::quantity::{PodRequests, pod_request_totals};

use crate::clock;
use crate::mix;

/// Condition types the kubelet owns; others (PodScheduled, DisruptionTarget)
/// are carried over as found.
const KUBELET_CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

/// What a pod's status is built from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodShape {
    pub uid: String,
    pub containers: Vec<ContainerShape>,
    pub init_containers: Vec<ContainerShape>,
    /// `Always`, `OnFailure` or `Never`.
    pub restart_policy: String,
    /// The pod shares its node's network: its IP is the node's.
    pub host_network: bool,
    pub requests: PodRequests,
    /// Status fields others wrote that the kubelet keeps.
    pub qos_class: Option<String>,
    pub other_conditions: Vec<PodCondition>,
}

/// One container of a [`PodShape`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerShape {
    pub name: String,
    pub image: String,
    /// An init container with `restartPolicy: Always`: it keeps running.
    pub sidecar: bool,
    /// Its CPU request in millicores (0 if none).
    pub request_milli_cpu: i64,
    /// Its memory request in bytes (0 if none).
    pub request_memory_bytes: i64,
}

impl PodShape {
    pub fn of(pod: &Pod) -> PodShape {
        let spec = pod.spec.as_ref();
        let shape_of = |container: &api::k8s_openapi::api::core::v1::Container| {
            let request = |resource: &str| {
                container
                    .resources
                    .as_ref()
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|requests| requests.get(resource))
                    .and_then(|q| api::quantity::Quantity::parse(&q.0).ok())
            };
            ContainerShape {
                name: container.name.clone(),
                image: container.image.clone().unwrap_or_default(),
                sidecar: container.restart_policy.as_deref() == Some("Always"),
                request_milli_cpu: request("cpu").map_or(0, |q| q.milli_value()),
                request_memory_bytes: request("memory").map_or(0, |q| q.value()),
            }
        };
        let status = pod.status.as_ref();
        PodShape {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            containers: spec
                .map(|s| s.containers.iter().map(shape_of).collect())
                .unwrap_or_default(),
            init_containers: spec
                .and_then(|s| s.init_containers.as_ref())
                .map(|list| list.iter().map(shape_of).collect())
                .unwrap_or_default(),
            restart_policy: spec
                .and_then(|s| s.restart_policy.clone())
                .unwrap_or_else(|| "Always".to_string()),
            host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
            requests: spec.map(pod_request_totals).unwrap_or_default(),
            qos_class: status.and_then(|s| s.qos_class.clone()),
            other_conditions: status
                .and_then(|s| s.conditions.as_ref())
                .map(|list| {
                    list.iter()
                        .filter(|c| !KUBELET_CONDITIONS.contains(&c.type_.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Where a pod runs: its node's address and its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodAddresses {
    pub host_ip: Ipv4Addr,
    pub pod_ip: Ipv4Addr,
}

/// The status of a pod whose containers all started at `started` and are
/// ready: phase Running, Ready.
pub fn running_status(shape: &PodShape, addresses: PodAddresses, started: SystemTime) -> PodStatus {
    let started_at = clock::time_at(started);
    let running = |container: &ContainerShape| ContainerStatus {
        name: container.name.clone(),
        image: container.image.clone(),
        image_id: image_id(&container.image),
        container_id: Some(container_id(&shape.uid, &container.name)),
        ready: true,
        started: Some(true),
        restart_count: 0,
        state: Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(started_at.clone()),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let init = shape
        .init_containers
        .iter()
        .map(|container| {
            if container.sidecar {
                running(container)
            } else {
                terminated(shape, container, started, started, 0, "Completed")
            }
        })
        .collect::<Vec<_>>();
    PodStatus {
        phase: Some("Running".to_string()),
        conditions: Some(conditions(shape, [true, true, true, true], None, started)),
        container_statuses: Some(shape.containers.iter().map(running).collect()),
        init_container_statuses: (!init.is_empty()).then_some(init),
        start_time: Some(started_at),
        ..addressed(shape, addresses)
    }
}

/// The status of a pod whose containers all exited with `exit_code` at
/// `finished`: phase Succeeded for 0, Failed otherwise; not ready.
pub fn finished_status(
    shape: &PodShape,
    addresses: Option<PodAddresses>,
    started: Option<SystemTime>,
    finished: SystemTime,
    exit_code: i32,
) -> PodStatus {
    let reason = if exit_code == 0 { "Completed" } else { "Error" };
    let started = started.unwrap_or(finished);
    let all_terminated = |list: &[ContainerShape]| -> Vec<ContainerStatus> {
        list.iter()
            .map(|c| terminated(shape, c, started, finished, exit_code, reason))
            .collect()
    };
    let init = all_terminated(&shape.init_containers);
    let base = match addresses {
        Some(addresses) => addressed(shape, addresses),
        None => carried(shape),
    };
    PodStatus {
        phase: Some(
            if exit_code == 0 {
                "Succeeded"
            } else {
                "Failed"
            }
            .to_string(),
        ),
        conditions: Some(conditions(
            shape,
            [false, true, false, false],
            Some("PodCompleted"),
            finished,
        )),
        container_statuses: Some(all_terminated(&shape.containers)),
        init_container_statuses: (!init.is_empty()).then_some(init),
        start_time: Some(clock::time_at(started)),
        ..base
    }
}

/// The status of a pod the kubelet refused to run (admission): phase
/// Failed with `reason` and `message`, nothing started.
pub fn rejected_status(shape: &PodShape, reason: &str, message: &str) -> PodStatus {
    PodStatus {
        phase: Some("Failed".to_string()),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        conditions: Some(shape.other_conditions.clone()),
        ..carried(shape)
    }
}

/// The fields kept from the pod's current status.
fn carried(shape: &PodShape) -> PodStatus {
    PodStatus {
        qos_class: shape.qos_class.clone(),
        ..Default::default()
    }
}

fn addressed(shape: &PodShape, addresses: PodAddresses) -> PodStatus {
    let host_ip = addresses.host_ip.to_string();
    let pod_ip = addresses.pod_ip.to_string();
    PodStatus {
        host_ip: Some(host_ip.clone()),
        host_ips: Some(vec![HostIP { ip: host_ip }]),
        pod_ip: Some(pod_ip.clone()),
        pod_ips: Some(vec![PodIP { ip: pod_ip }]),
        ..carried(shape)
    }
}

/// The kubelet's four conditions with the given statuses, in the kubelet's
/// order, then the carried ones (PodScheduled added if missing).
fn conditions(
    shape: &PodShape,
    statuses: [bool; 4],
    false_reason: Option<&str>,
    at: SystemTime,
) -> Vec<PodCondition> {
    let at = clock::time_at(at);
    let mut list: Vec<PodCondition> = KUBELET_CONDITIONS
        .iter()
        .zip(statuses)
        .map(|(type_, status)| PodCondition {
            type_: (*type_).to_string(),
            status: if status { "True" } else { "False" }.to_string(),
            reason: (!status && *type_ != "PodReadyToStartContainers")
                .then(|| false_reason.map(str::to_string))
                .flatten(),
            last_transition_time: Some(at.clone()),
            ..Default::default()
        })
        .collect();
    list.extend(shape.other_conditions.iter().cloned());
    // The kubelet adds PodScheduled when the binder did not.
    if !list.iter().any(|c| c.type_ == "PodScheduled") {
        list.push(PodCondition {
            type_: "PodScheduled".to_string(),
            status: "True".to_string(),
            last_transition_time: Some(at),
            ..Default::default()
        });
    }
    list
}

fn terminated(
    shape: &PodShape,
    container: &ContainerShape,
    started: SystemTime,
    finished: SystemTime,
    exit_code: i32,
    reason: &str,
) -> ContainerStatus {
    let id = container_id(&shape.uid, &container.name);
    ContainerStatus {
        name: container.name.clone(),
        image: container.image.clone(),
        image_id: image_id(&container.image),
        container_id: Some(id.clone()),
        ready: false,
        started: Some(false),
        restart_count: 0,
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                container_id: Some(id),
                exit_code,
                reason: Some(reason.to_string()),
                started_at: Some(clock::time_at(started)),
                finished_at: Some(clock::time_at(finished)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `containerd://<64 hex>`, stable per pod uid and container name.
fn container_id(uid: &str, name: &str) -> String {
    let key = format!("{uid}/{name}");
    format!(
        "containerd://{}{}",
        mix::hex128(&key, 1),
        mix::hex128(&key, 3)
    )
}

/// `<repository>@sha256:<64 hex>` for an image reference, as the runtime
/// reports the image a container runs.
fn image_id(image: &str) -> String {
    let repository = match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => image,
    };
    let repository = repository.split('@').next().unwrap_or(repository);
    format!(
        "{repository}@sha256:{}{}",
        mix::hex128(image, 5),
        mix::hex128(image, 7)
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
            "spec": {
                "initContainers": [{"name": "init", "image": "busybox:1.37"},
                                   {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}],
                "containers": [{"name": "app", "image": "nginx:1.27",
                                "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]},
            "status": {"phase": "Pending", "qosClass": "Burstable",
                       "conditions": [{"type": "PodScheduled", "status": "True"}]}
        }))
        .unwrap()
    }

    fn addresses() -> PodAddresses {
        PodAddresses {
            host_ip: Ipv4Addr::new(172, 16, 0, 1),
            pod_ip: Ipv4Addr::new(10, 0, 0, 2),
        }
    }

    #[test]
    fn shape_keeps_what_status_needs() {
        let shape = PodShape::of(&pod());
        assert_eq!(shape.containers[0].request_milli_cpu, 250);
        assert_eq!(shape.containers[0].request_memory_bytes, 64 << 20);
        assert!(shape.init_containers[1].sidecar);
        assert_eq!(shape.restart_policy, "Always");
        assert_eq!(shape.other_conditions.len(), 1);
    }

    #[test]
    fn running_status_is_ready_with_addresses() {
        let shape = PodShape::of(&pod());
        let status = running_status(&shape, addresses(), SystemTime::now());
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.pod_ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(status.host_ip.as_deref(), Some("172.16.0.1"));
        assert_eq!(status.qos_class.as_deref(), Some("Burstable"));
        let types: Vec<(&str, &str)> = status
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("PodReadyToStartContainers", "True"),
                ("Initialized", "True"),
                ("Ready", "True"),
                ("ContainersReady", "True"),
                ("PodScheduled", "True")
            ]
        );
        let app = &status.container_statuses.as_ref().unwrap()[0];
        assert!(app.ready && app.started == Some(true) && app.restart_count == 0);
        assert!(app.state.as_ref().unwrap().running.is_some());
        assert!(
            app.image_id.starts_with("nginx@sha256:"),
            "{}",
            app.image_id
        );
        let init = status.init_container_statuses.as_ref().unwrap();
        assert!(init[0].state.as_ref().unwrap().terminated.is_some());
        assert!(
            init[1].state.as_ref().unwrap().running.is_some(),
            "sidecar runs"
        );
    }

    #[test]
    fn finished_and_rejected_statuses() {
        let shape = PodShape::of(&pod());
        let start = SystemTime::now();
        let status = finished_status(
            &shape,
            Some(addresses()),
            Some(start),
            start + Duration::from_secs(5),
            0,
        );
        assert_eq!(status.phase.as_deref(), Some("Succeeded"));
        let ready = status
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("False", Some("PodCompleted"))
        );
        let terminated = status.container_statuses.as_ref().unwrap()[0]
            .state
            .as_ref()
            .unwrap()
            .terminated
            .clone()
            .unwrap();
        assert_eq!(
            (terminated.exit_code, terminated.reason.as_deref()),
            (0, Some("Completed"))
        );
        let failed = finished_status(&shape, None, None, start, 1);
        assert_eq!(failed.phase.as_deref(), Some("Failed"));
        assert_eq!(failed.pod_ip, None);
        let rejected = rejected_status(&shape, "OutOfcpu", "no room");
        assert_eq!(rejected.phase.as_deref(), Some("Failed"));
        assert_eq!(rejected.reason.as_deref(), Some("OutOfcpu"));
    }
}
