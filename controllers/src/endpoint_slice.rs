//! The EndpointSlice controller's decisions (Kubernetes'
//! `pkg/controller/endpointslice`): the endpoints of a Service with a
//! selector, one per backing pod (terminating ones included, with their
//! conditions), in slices of at most `--max-endpoints-per-slice` grouped
//! by address type and the ports the pods serve, written with as little
//! churn as Kubernetes' reconciler: endpoints are updated in place, new
//! ones fill slices already being written before any other, and a slice is
//! created only for what fits nowhere.

use std::collections::{BTreeMap, HashMap};

use api::k8s_openapi::api::core::v1::{Pod, Service};
use api::k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort, EndpointSlice,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::endpoints::{
    ResolvedPort, backs, pod_ip, pod_reference, resolve_ports, selects, service_selector,
};
use crate::owner::controller_reference;
use crate::pods::is_ready;

/// The label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label naming who manages a slice, and this controller's value.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Kubernetes' `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// What slices are grouped by: address type and the sorted ports.
pub type SliceKey = (String, Vec<ResolvedPort>);

fn address_type(ip: &str) -> &'static str {
    if ip.contains(':') { "IPv6" } else { "IPv4" }
}

fn is_headless(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.cluster_ip.as_deref())
        == Some("None")
}

/// The Service's endpoints by slice key, each group sorted by address.
/// `zone` gives a node's zone label.
pub fn desired_endpoints<'a>(
    service: &Service,
    pods: impl IntoIterator<Item = &'a Pod>,
    zone: impl Fn(&str) -> Option<String>,
) -> BTreeMap<SliceKey, Vec<Endpoint>> {
    let mut groups: BTreeMap<SliceKey, Vec<Endpoint>> = BTreeMap::new();
    let Some(selector) = service_selector(service) else {
        return groups;
    };
    let spec = service.spec.as_ref();
    let publish = spec
        .and_then(|spec| spec.publish_not_ready_addresses)
        .unwrap_or(false);
    let has_ports = spec
        .and_then(|spec| spec.ports.as_ref())
        .is_some_and(|ports| !ports.is_empty());
    for pod in pods {
        if !selects(service, &selector, pod) || !backs(pod, true) {
            continue;
        }
        let Some(ip) = pod_ip(pod) else { continue };
        let mut ports = resolve_ports(service, pod);
        if (has_ports && ports.is_empty()) || (!has_ports && !is_headless(service)) {
            continue;
        }
        ports.sort();
        let serving = is_ready(pod);
        let terminating = pod.metadata.deletion_timestamp.is_some();
        let pod_spec = pod.spec.as_ref();
        let node = pod_spec.and_then(|spec| spec.node_name.clone());
        let hostname = pod_spec
            .and_then(|spec| spec.hostname.clone())
            .filter(|hostname| !hostname.is_empty())
            .filter(|_| {
                pod_spec.and_then(|spec| spec.subdomain.as_deref())
                    == service.metadata.name.as_deref()
            });
        groups
            .entry((address_type(ip).to_string(), ports))
            .or_default()
            .push(Endpoint {
                addresses: vec![ip.to_string()],
                conditions: Some(EndpointConditions {
                    ready: Some(publish || (serving && !terminating)),
                    serving: Some(serving),
                    terminating: Some(terminating),
                }),
                hostname,
                zone: node.as_deref().and_then(&zone),
                node_name: node,
                target_ref: Some(pod_reference(pod)),
                ..Endpoint::default()
            });
    }
    for endpoints in groups.values_mut() {
        endpoints.sort_by(|a, b| a.addresses.cmp(&b.addresses));
    }
    groups
}

/// What to write for one Service.
#[derive(Debug, Default)]
pub struct SlicePlan<'a> {
    /// New slices (named by the server from `generateName`).
    pub create: Vec<EndpointSlice>,
    /// Existing slices with new contents.
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<&'a EndpointSlice>,
}

fn slice_ports(slice: &EndpointSlice) -> Vec<ResolvedPort> {
    let mut ports: Vec<ResolvedPort> = slice
        .ports
        .iter()
        .flatten()
        .map(|port| ResolvedPort {
            name: port.name.clone().unwrap_or_default(),
            port: port.port.unwrap_or(0),
            protocol: port.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
            app_protocol: port.app_protocol.clone(),
        })
        .collect();
    ports.sort();
    ports
}

fn wire_ports(ports: &[ResolvedPort]) -> Option<Vec<EndpointPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|port| EndpointPort {
                name: Some(port.name.clone()),
                port: Some(port.port),
                protocol: Some(port.protocol.clone()),
                app_protocol: port.app_protocol.clone(),
            })
            .collect()
    })
}

/// The labels every slice of the Service carries: the Service's own, its
/// name, and this controller as manager.
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.insert(
        SERVICE_NAME_LABEL.to_string(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(MANAGED_BY_LABEL.to_string(), CONTROLLER_NAME.to_string());
    labels
}

fn new_slice(service: &Service, key: &SliceKey, endpoints: Vec<Endpoint>) -> EndpointSlice {
    let name = service.metadata.name.clone().unwrap_or_default();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: service.metadata.namespace.clone(),
            labels: Some(slice_labels(service)),
            owner_references: controller_reference("v1", "Service", &service.metadata)
                .map(|reference| vec![reference]),
            ..ObjectMeta::default()
        },
        address_type: key.0.clone(),
        endpoints,
        ports: wire_ports(&key.1),
    }
}

/// One existing slice being reconciled.
struct Working<'a> {
    slice: &'a EndpointSlice,
    endpoints: Vec<Endpoint>,
    changed: bool,
}

/// The writes that take the Service's `existing` slices (those it
/// controls) to `desired`, with at most `max` endpoints a slice.
pub fn reconcile<'a>(
    service: &Service,
    existing: &[&'a EndpointSlice],
    desired: BTreeMap<SliceKey, Vec<Endpoint>>,
    max: usize,
) -> SlicePlan<'a> {
    let max = max.max(1);
    let labels = slice_labels(service);
    let mut plan = SlicePlan::default();
    if desired.is_empty() {
        return placeholder(service, existing, labels);
    }
    let mut by_key: HashMap<SliceKey, Vec<&'a EndpointSlice>> = HashMap::new();
    for slice in existing {
        let key = (slice.address_type.clone(), slice_ports(slice));
        if desired.contains_key(&key) {
            by_key.entry(key).or_default().push(slice);
        } else {
            plan.delete.push(slice);
        }
    }
    for (key, wanted) in desired {
        let mut wanted: BTreeMap<Vec<String>, Endpoint> = wanted
            .into_iter()
            .map(|endpoint| (endpoint.addresses.clone(), endpoint))
            .collect();
        // 1. Endpoints still wanted stay where they are, updated.
        let mut working: Vec<Working<'a>> = by_key
            .remove(&key)
            .unwrap_or_default()
            .into_iter()
            .map(|slice| {
                let endpoints: Vec<Endpoint> = slice
                    .endpoints
                    .iter()
                    .filter_map(|endpoint| wanted.remove(&endpoint.addresses))
                    .collect();
                let changed =
                    endpoints != slice.endpoints || slice.metadata.labels.as_ref() != Some(&labels);
                Working {
                    slice,
                    endpoints,
                    changed,
                }
            })
            .collect();
        let mut rest: Vec<Endpoint> = wanted.into_values().collect();
        // 2. New endpoints fill the slices being written anyway.
        for work in working.iter_mut().filter(|work| work.changed) {
            let room = max.saturating_sub(work.endpoints.len());
            let take = room.min(rest.len());
            work.endpoints.extend(rest.drain(..take));
        }
        // 3. Full new slices for what is left; a remainder goes into the
        // fullest untouched slice it fits in, or a slice of its own.
        while rest.len() >= max {
            let chunk: Vec<Endpoint> = rest.drain(..max).collect();
            plan.create.push(new_slice(service, &key, chunk));
        }
        if !rest.is_empty() {
            let fits = working
                .iter_mut()
                .filter(|work| !work.changed && work.endpoints.len() + rest.len() <= max)
                .max_by_key(|work| work.endpoints.len());
            match fits {
                Some(work) => {
                    work.endpoints.append(&mut rest);
                    work.changed = true;
                }
                None => plan
                    .create
                    .push(new_slice(service, &key, std::mem::take(&mut rest))),
            }
        }
        for work in working {
            if work.endpoints.is_empty() {
                plan.delete.push(work.slice);
            } else if work.changed {
                let mut slice = work.slice.clone();
                slice.endpoints = work.endpoints;
                slice.metadata.labels = Some(labels.clone());
                plan.update.push(slice);
            }
        }
    }
    plan
}

/// A Service with no endpoints keeps one empty slice, so watchers can
/// tell "none" from "not synced"; every other slice goes.
fn placeholder<'a>(
    service: &Service,
    existing: &[&'a EndpointSlice],
    labels: BTreeMap<String, String>,
) -> SlicePlan<'a> {
    let mut plan = SlicePlan::default();
    let kept = existing
        .iter()
        .position(|slice| slice.endpoints.is_empty() && slice.ports.is_none());
    for (index, slice) in existing.iter().enumerate() {
        if Some(index) != kept {
            plan.delete.push(slice);
        }
    }
    match kept.map(|index| existing[index]) {
        Some(slice) if slice.metadata.labels.as_ref() != Some(&labels) => {
            let mut slice = slice.clone();
            slice.metadata.labels = Some(labels);
            plan.update.push(slice);
        }
        Some(_) => {}
        None => plan.create.push(new_slice(
            service,
            &("IPv4".to_string(), Vec::new()),
            Vec::new(),
        )),
    }
    plan
}

#[cfg(test)]
mod tests;
