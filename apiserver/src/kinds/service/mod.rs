//! Services: a cluster IP and nodePorts allocated in the create's
//! transaction (`allocator`), kept across updates that leave them empty,
//! and released in the transaction that deletes the service for good;
//! charged to its namespace's quotas in the create's transaction.

mod allocator;

use api::k8s_openapi::api::core::v1::Service;
use prost::bytes::Bytes;
use store::{Compare, CompareTarget, Op, Txn};

use crate::admission::resource_quota::{self, QuotaCharge, Usage, lock_for};
use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{encode_for_store, to_wire};

impl Strategy for Service {
    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        service: &'a mut Service,
    ) -> Result<Bytes, ApiError> {
        let name = service.metadata.name.clone().unwrap_or_default();
        let charge = QuotaCharge::create(state, service);
        let _quota_lock = lock_for(state, charge.as_ref()).await;
        for _ in 0..CAS_RETRIES {
            // Allocations change the object: each attempt starts afresh.
            let mut attempt = service.clone();
            let mut txn = Txn {
                compares: vec![Compare {
                    key: key.to_string(),
                    target: CompareTarget::ModRevision(0),
                }],
                ..Default::default()
            };
            allocator::allocate(state, &mut attempt, &mut txn).await?;
            if let Some(charge) = &charge {
                charge.stage(state, &mut txn).await?;
            }
            let bytes = encode_for_store(&mut attempt)?;
            txn.success.push(Op::Put {
                key: key.to_string(),
                value: bytes.clone(),
                lease: 0,
            });
            let response = state.txn(txn).await?;
            if response.succeeded {
                *service = attempt;
                return to_wire(&bytes, response.revision, service);
            }
            if state.get_kv(key).await?.is_some() {
                return Err(ApiError::already_exists("services", &name));
            }
            // An allocation was taken concurrently (or the key was deleted
            // again in between): try again.
        }
        Err(ApiError::modified("services", &name))
    }

    /// An update keeps the allocated cluster IP and nodePorts when the
    /// client leaves them empty, and may not change the cluster IP.
    fn prepare_for_update(&mut self, old: &Service) -> Result<(), ApiError> {
        let old_spec = old.spec.clone().unwrap_or_default();
        let spec = self.spec.get_or_insert_with(Default::default);
        let old_ip = old_spec.cluster_ip.clone().unwrap_or_default();
        let new_ip = spec.cluster_ip.clone().unwrap_or_default();
        if new_ip.is_empty() {
            spec.cluster_ip.clone_from(&old_spec.cluster_ip);
            spec.cluster_ips.clone_from(&old_spec.cluster_ips);
        } else if new_ip != old_ip {
            let mut errors = api::FieldErrors::default();
            errors.push(api::FieldError::invalid(
                api::FieldPath::root("spec").child("clusterIPs").index(0),
                &new_ip,
                "may not change once set",
            ));
            return Err(ApiError::Invalid {
                kind: "Service",
                name: old.metadata.name.clone().unwrap_or_default(),
                errors,
            });
        }
        let old_ports = old_spec.ports.unwrap_or_default();
        for port in spec.ports.iter_mut().flatten() {
            if port.node_port.unwrap_or(0) != 0 {
                continue;
            }
            let same = old_ports
                .iter()
                .find(|old_port| old_port.port == port.port && old_port.name == port.name);
            if let Some(node_port) = same.and_then(|old_port| old_port.node_port) {
                port.node_port = Some(node_port);
            }
        }
        Ok(())
    }

    fn release_ops(&self) -> Vec<Op> {
        allocator::release_ops(self)
    }

    fn quota_usage(&self) -> Usage {
        resource_quota::service_usage(self)
    }
}
