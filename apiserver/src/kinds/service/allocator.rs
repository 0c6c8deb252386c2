//! Service cluster IP and nodePort allocation through the store.
//!
//! Each allocated IP or port is a key (`/registry/ranges/serviceips/<ip>`,
//! `/registry/ranges/servicenodeports/<port>`) created-if-absent in the same
//! transaction as the service, and deleted in the same transaction as its
//! delete — so several apiservers sharing a store never hand out one
//! address twice, and a failed create leaks nothing.

use std::net::Ipv4Addr;

use api::k8s_openapi::api::core::v1::Service;
use api::{FieldError, FieldErrors, FieldPath};
use store::{Bytes, Compare, CompareTarget, Op, Txn};

use crate::error::ApiError;
use crate::keys;
use crate::state::ApiState;

/// Random probes for a free IP or port before the range counts as full.
const PROBES: usize = 64;

/// Fills in `spec.clusterIP(s)` and nodePorts of a new service, adding
/// the allocation keys' compares and puts to `txn`.
pub(crate) async fn allocate(
    state: &ApiState,
    service: &mut Service,
    txn: &mut Txn,
) -> Result<(), ApiError> {
    let name = service.metadata.name.clone().unwrap_or_default();
    let namespace = service.metadata.namespace.clone().unwrap_or_default();
    let owner = Bytes::from(format!("{namespace}/{name}").into_bytes());
    let spec = service.spec.get_or_insert_with(Default::default);
    let service_type = spec.type_.clone().unwrap_or_default();
    let requested_ip = spec.cluster_ip.clone().unwrap_or_default();
    if service_type != "ExternalName" && requested_ip != "None" {
        let ip = allocate_ip(state, &name, &requested_ip).await?;
        reserve(txn, keys::service_ip_key(ip), &owner);
        spec.cluster_ip = Some(ip.to_string());
        spec.cluster_ips = Some(vec![ip.to_string()]);
    }
    if service_type == "NodePort" || service_type == "LoadBalancer" {
        let mut taken = Vec::new();
        for (index, port) in spec.ports.iter_mut().flatten().enumerate() {
            let requested = port.node_port.unwrap_or(0);
            let allocated = allocate_node_port(state, index, requested, &taken).await?;
            taken.push(allocated);
            reserve(txn, keys::node_port_key(allocated), &owner);
            port.node_port = Some(i32::from(allocated));
        }
    }
    Ok(())
}

async fn allocate_ip(state: &ApiState, name: &str, requested: &str) -> Result<Ipv4Addr, ApiError> {
    let range = state.config.service_cluster_ip_range;
    if !requested.is_empty() {
        let invalid = |detail: &str| {
            let path = FieldPath::root("spec").child("clusterIPs").index(0);
            let mut errors = FieldErrors::default();
            errors.push(FieldError::invalid(path, requested, detail));
            ApiError::Invalid {
                kind: "Service",
                name: name.to_string(),
                errors,
            }
        };
        let ip: Ipv4Addr = requested
            .parse()
            .map_err(|_| invalid("must be a valid IP address"))?;
        if !range.contains(ip) {
            return Err(invalid(&format!(
                "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}/{}",
                range.addr, range.prefix_len
            )));
        }
        if state.get_kv(&keys::service_ip_key(ip)).await?.is_some() {
            return Err(invalid(&format!(
                "failed to allocate IP {ip}: provided IP is already allocated"
            )));
        }
        return Ok(ip);
    }
    // Skip the network address (and the broadcast address at the top).
    let usable = range.size().saturating_sub(2).max(1);
    for _ in 0..PROBES {
        let ip = range.nth(1 + rand::random_range(0..usable));
        if state.get_kv(&keys::service_ip_key(ip)).await?.is_none() {
            return Ok(ip);
        }
    }
    Err(ApiError::RangeFull(
        "no free cluster IP found in the service range".to_string(),
    ))
}

async fn allocate_node_port(
    state: &ApiState,
    index: usize,
    requested: i32,
    taken: &[u16],
) -> Result<u16, ApiError> {
    let (low, high) = state.config.service_node_port_range;
    if requested != 0 {
        let invalid = |detail: String| {
            let path = FieldPath::root("spec")
                .child("ports")
                .index(index)
                .child("nodePort");
            let mut errors = FieldErrors::default();
            errors.push(FieldError::invalid_raw(path, requested, detail));
            ApiError::Invalid {
                kind: "Service",
                name: String::new(),
                errors,
            }
        };
        let port = u16::try_from(requested)
            .ok()
            .filter(|port| (low..=high).contains(port))
            .ok_or_else(|| invalid(format!("provided port is not in the valid range. The range of valid ports is {low}-{high}")))?;
        if taken.contains(&port) || state.get_kv(&keys::node_port_key(port)).await?.is_some() {
            return Err(invalid("provided port is already allocated".to_string()));
        }
        return Ok(port);
    }
    for _ in 0..PROBES {
        let port = rand::random_range(low..=high);
        if !taken.contains(&port) && state.get_kv(&keys::node_port_key(port)).await?.is_none() {
            return Ok(port);
        }
    }
    Err(ApiError::RangeFull(
        "no free nodePort found in the range".to_string(),
    ))
}

fn reserve(txn: &mut Txn, key: String, owner: &Bytes) {
    txn.compares.push(Compare {
        key: key.clone(),
        target: CompareTarget::ModRevision(0),
    });
    txn.success.push(Op::Put {
        key,
        value: owner.clone(),
        lease: 0,
    });
}

/// Delete ops releasing every allocation a stored service holds.
pub(crate) fn release_ops(service: &Service) -> Vec<Op> {
    let mut ops = Vec::new();
    let Some(spec) = service.spec.as_ref() else {
        return ops;
    };
    if let Some(ip) = spec
        .cluster_ip
        .as_deref()
        .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
    {
        ops.push(Op::Delete {
            key: keys::service_ip_key(ip),
        });
    }
    for port in spec.ports.iter().flatten() {
        if let Some(node_port) = port.node_port.and_then(|p| u16::try_from(p).ok()) {
            ops.push(Op::Delete {
                key: keys::node_port_key(node_port),
            });
        }
    }
    ops
}
