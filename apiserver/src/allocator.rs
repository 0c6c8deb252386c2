//! Service cluster IP and nodePort allocation through the store.
//!
//! Each allocated IP or port is a key (`/registry/ranges/serviceips/<ip>`,
//! `/registry/ranges/servicenodeports/<port>`) created-if-absent in the same
//! transaction as the service, and deleted in the same transaction as its
//! delete — so several apiservers sharing a store never hand out one
//! address twice, and a failed create leaks nothing.

use std::net::Ipv4Addr;

use api::{FieldError, FieldErrors, FieldPath};
use serde_json::{Value, json};
use store::{Bytes, Compare, CompareTarget, Op, Txn};

use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::state::ApiState;

/// Random probes for a free IP or port before the range counts as full.
const PROBES: usize = 64;

impl ApiState {
    /// Fills in `spec.clusterIP(s)` and nodePorts of a new service, adding
    /// the allocation keys' compares and puts to `txn`.
    pub(crate) async fn allocate_service(
        &self,
        service: &mut Value,
        txn: &mut Txn,
    ) -> Result<(), ApiError> {
        let owner = Bytes::from(
            format!("{}/{}", object::namespace(service), object::name(service)).into_bytes(),
        );
        let service_type = object::field_string(service, "/spec/type");
        let requested_ip = object::field_string(service, "/spec/clusterIP");
        if service_type != "ExternalName" && requested_ip != "None" {
            let ip = self.allocate_ip(service, &requested_ip).await?;
            reserve(txn, keys::service_ip_key(ip), &owner);
            let spec = object::as_map(object::as_map(service).entry("spec").or_insert(Value::Null));
            spec.insert("clusterIP".to_string(), Value::String(ip.to_string()));
            spec.insert("clusterIPs".to_string(), json!([ip.to_string()]));
        }
        if service_type == "NodePort" || service_type == "LoadBalancer" {
            let port_count = service
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let mut taken = Vec::new();
            for index in 0..port_count {
                let pointer = format!("/spec/ports/{index}/nodePort");
                let requested = service
                    .pointer(&pointer)
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let port = self.allocate_node_port(index, requested, &taken).await?;
                taken.push(port);
                reserve(txn, keys::node_port_key(port), &owner);
                if let Some(slot) = service.pointer_mut(&format!("/spec/ports/{index}")) {
                    object::as_map(slot).insert("nodePort".to_string(), Value::from(port));
                }
            }
        }
        Ok(())
    }

    async fn allocate_ip(&self, service: &Value, requested: &str) -> Result<Ipv4Addr, ApiError> {
        let range = self.config.service_cluster_ip_range;
        if !requested.is_empty() {
            let invalid = |detail: &str| {
                let path = FieldPath::root("spec").child("clusterIPs").index(0);
                let mut errors = FieldErrors::default();
                errors.push(FieldError::invalid(path, requested, detail));
                ApiError::Invalid {
                    kind: "Service",
                    name: object::name(service).to_string(),
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
            if self.get_kv(&keys::service_ip_key(ip)).await?.is_some() {
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
            if self.get_kv(&keys::service_ip_key(ip)).await?.is_none() {
                return Ok(ip);
            }
        }
        Err(ApiError::RangeFull(
            "no free cluster IP found in the service range".to_string(),
        ))
    }

    async fn allocate_node_port(
        &self,
        index: usize,
        requested: u64,
        taken: &[u16],
    ) -> Result<u16, ApiError> {
        let (low, high) = self.config.service_node_port_range;
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
            if taken.contains(&port) || self.get_kv(&keys::node_port_key(port)).await?.is_some() {
                return Err(invalid("provided port is already allocated".to_string()));
            }
            return Ok(port);
        }
        for _ in 0..PROBES {
            let port = rand::random_range(low..=high);
            if !taken.contains(&port) && self.get_kv(&keys::node_port_key(port)).await?.is_none() {
                return Ok(port);
            }
        }
        Err(ApiError::RangeFull(
            "no free nodePort found in the range".to_string(),
        ))
    }
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
pub(crate) fn release_ops(service: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    if let Ok(ip) = object::field_string(service, "/spec/clusterIP").parse::<Ipv4Addr>() {
        ops.push(Op::Delete {
            key: keys::service_ip_key(ip),
        });
    }
    for port in service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(node_port) = port
            .get("nodePort")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
        {
            ops.push(Op::Delete {
                key: keys::node_port_key(node_port),
            });
        }
    }
    ops
}
