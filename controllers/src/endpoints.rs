//! The Endpoints controller's decisions (Kubernetes'
//! `pkg/controller/endpoint`), and what it shares with the EndpointSlice
//! controller: which pods back a Service (those its selector matches that
//! have an IP and are not finished), each pod's ports (a named
//! `targetPort` resolved against the pod's container ports), and
//! readiness. A Service without a selector is left alone: its Endpoints
//! are the user's.

use std::collections::BTreeMap;

use api::k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use api::selector::Selector;

use crate::pods::is_ready;

/// The most addresses one Endpoints object carries; the rest are cut and
/// the object says so ([`OVER_CAPACITY_ANNOTATION`]).
pub const MAX_ADDRESSES: usize = 1000;
pub const OVER_CAPACITY_ANNOTATION: &str = "endpoints.kubernetes.io/over-capacity";
/// On Endpoints the controller manages: the EndpointSlice mirroring
/// controller leaves them alone (their slices come from the selector).
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";

/// The Service's pod selector; `None` for a Service without one.
pub fn service_selector(service: &Service) -> Option<Selector> {
    let labels = service.spec.as_ref()?.selector.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Selector::from_map(labels).ok()
}

/// Whether the Service selects `pod` (by labels, in its namespace).
pub fn selects(service: &Service, selector: &Selector, pod: &Pod) -> bool {
    service.metadata.namespace == pod.metadata.namespace
        && selector.matches(pod.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()))
}

/// The pod's IP, once it has one.
pub fn pod_ip(pod: &Pod) -> Option<&str> {
    let status = pod.status.as_ref()?;
    status
        .pod_ip
        .as_deref()
        .filter(|ip| !ip.is_empty())
        .or_else(|| {
            status
                .pod_ips
                .as_ref()?
                .first()
                .map(|ip| ip.ip.as_str())
                .filter(|ip| !ip.is_empty())
        })
}

/// Kubernetes' `ShouldPodBeInEndpoints`: not finished (Succeeded or
/// Failed), an IP, and (unless `include_terminating`) not being deleted.
pub fn backs(pod: &Pod, include_terminating: bool) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) || pod_ip(pod).is_none() {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// A Service port as one pod serves it: the port's name, protocol and
/// app protocol, and the pod's port number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolvedPort {
    pub name: String,
    pub port: i32,
    pub protocol: String,
    pub app_protocol: Option<String>,
}

/// The Service's ports on `pod`: a numeric `targetPort` as is (the port
/// itself when unset), a named one looked up among the pod's container
/// ports of the same protocol; a port the pod does not name is left out.
pub fn resolve_ports(service: &Service, pod: &Pod) -> Vec<ResolvedPort> {
    let Some(ports) = service.spec.as_ref().and_then(|spec| spec.ports.as_ref()) else {
        return Vec::new();
    };
    ports
        .iter()
        .filter_map(|port| {
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            let number = match &port.target_port {
                None => port.port,
                Some(IntOrString::Int(number)) if *number == 0 => port.port,
                Some(IntOrString::Int(number)) => *number,
                Some(IntOrString::String(name)) => match name.parse::<i32>() {
                    Ok(number) => number,
                    Err(_) => container_port(pod, name, &protocol)?,
                },
            };
            Some(ResolvedPort {
                name: port.name.clone().unwrap_or_default(),
                port: number,
                protocol,
                app_protocol: port.app_protocol.clone(),
            })
        })
        .collect()
}

fn container_port(pod: &Pod, name: &str, protocol: &str) -> Option<i32> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|container| container.ports.iter().flatten())
        .find(|port| {
            port.name.as_deref() == Some(name)
                && port.protocol.as_deref().unwrap_or("TCP") == protocol
        })
        .map(|port| port.container_port)
}

/// The pod as an endpoint address of `service`: its IP, node, a reference
/// to it, and its hostname when it sets one under the Service's name as
/// subdomain (a headless Service's stable DNS names).
pub fn address(service: &Service, pod: &Pod) -> Option<EndpointAddress> {
    let ip = pod_ip(pod)?.to_string();
    let spec = pod.spec.as_ref();
    let hostname = spec
        .and_then(|spec| spec.hostname.clone())
        .filter(|hostname| !hostname.is_empty())
        .filter(|_| {
            spec.and_then(|spec| spec.subdomain.as_deref()) == service.metadata.name.as_deref()
        });
    Some(EndpointAddress {
        ip,
        hostname,
        node_name: spec.and_then(|spec| spec.node_name.clone()),
        target_ref: Some(pod_reference(pod)),
    })
}

/// A reference to `pod`, as endpoints carry it.
pub fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

fn is_headless(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.cluster_ip.as_deref())
        == Some("None")
}

fn publishes_not_ready(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// The subsets of the Service's Endpoints over the pods of its namespace:
/// ready pods (all pods with `publishNotReadyAddresses`) as addresses, the
/// others as not-ready addresses, grouped by the ports they serve and
/// sorted as Kubernetes repacks them. Returns the subsets and whether
/// addresses were cut at [`MAX_ADDRESSES`].
pub fn subsets<'a>(
    service: &Service,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> (Vec<EndpointSubset>, bool) {
    let Some(selector) = service_selector(service) else {
        return (Vec::new(), false);
    };
    let publish = publishes_not_ready(service);
    let has_ports = service
        .spec
        .as_ref()
        .and_then(|spec| spec.ports.as_ref())
        .is_some_and(|ports| !ports.is_empty());
    // Port set → (ready, not ready) addresses.
    let mut groups: BTreeMap<Vec<ResolvedPort>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for pod in pods {
        if !selects(service, &selector, pod) || !backs(pod, publish) {
            continue;
        }
        let Some(address) = address(service, pod) else {
            continue;
        };
        let mut ports = resolve_ports(service, pod);
        if has_ports && ports.is_empty() {
            // None of the Service's ports is served by this pod.
            continue;
        }
        if !has_ports && !is_headless(service) {
            continue;
        }
        ports.sort();
        let group = groups.entry(ports).or_default();
        if publish || is_ready(pod) {
            group.0.push(address);
        } else {
            group.1.push(address);
        }
    }
    let mut budget = MAX_ADDRESSES;
    let mut truncated = false;
    let mut subsets = Vec::new();
    for (ports, (mut ready, mut not_ready)) in groups {
        let by_ip = |a: &EndpointAddress, b: &EndpointAddress| {
            a.ip.cmp(&b.ip).then_with(|| {
                let uid = |address: &EndpointAddress| {
                    address.target_ref.as_ref().and_then(|r| r.uid.clone())
                };
                uid(a).cmp(&uid(b))
            })
        };
        ready.sort_by(by_ip);
        not_ready.sort_by(by_ip);
        let total = ready.len() + not_ready.len();
        if total > budget {
            truncated = true;
            ready.truncate(budget);
            not_ready.truncate(budget - ready.len());
        }
        budget -= ready.len() + not_ready.len();
        if ready.is_empty() && not_ready.is_empty() {
            continue;
        }
        subsets.push(EndpointSubset {
            addresses: (!ready.is_empty()).then_some(ready),
            not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
            ports: (!ports.is_empty()).then(|| {
                ports
                    .into_iter()
                    .map(|port| EndpointPort {
                        name: (!port.name.is_empty()).then_some(port.name),
                        port: port.port,
                        protocol: Some(port.protocol),
                        app_protocol: port.app_protocol,
                    })
                    .collect()
            }),
        });
    }
    (subsets, truncated)
}

/// The Endpoints the Service should have, kept as `current` where only
/// server-owned metadata differs; `None` when `current` already is it.
pub fn desired<'a>(
    service: &Service,
    current: Option<&Endpoints>,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> Option<Endpoints> {
    let (subsets, truncated) = subsets(service, pods);
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.insert(SKIP_MIRROR_LABEL.to_string(), "true".to_string());
    let mut endpoints = current.cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            ..ObjectMeta::default()
        },
        ..Endpoints::default()
    });
    let mut annotations = endpoints.metadata.annotations.clone().unwrap_or_default();
    if truncated {
        annotations.insert(
            OVER_CAPACITY_ANNOTATION.to_string(),
            "truncated".to_string(),
        );
    } else {
        annotations.remove(OVER_CAPACITY_ANNOTATION);
    }
    let subsets = (!subsets.is_empty()).then_some(subsets);
    let same = current.is_some_and(|current| {
        current.subsets == subsets
            && current.metadata.labels.as_ref() == Some(&labels)
            && current.metadata.annotations.clone().unwrap_or_default() == annotations
    });
    if same {
        return None;
    }
    endpoints.subsets = subsets;
    endpoints.metadata.labels = Some(labels);
    endpoints.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    Some(endpoints)
}

#[cfg(test)]
mod tests;
