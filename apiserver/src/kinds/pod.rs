//! Pods: LimitRanger, ServiceAccount, NodeRestriction, PodSecurity,
//! Priority and DefaultTolerationSeconds at admission (in that order; the
//! ResourceQuota charge is staged with the write), Pending status
//! with the QoS class on create, creates that arrive bound checked and
//! counted against the node's usage record (the bind arbiter), every write
//! that changes what a node holds counted in the same transaction, and a
//! grace period on delete while the kubelet stops the pod.

use api::k8s_openapi::api::core::v1::{Pod, PodStatus};
use prost::bytes::Bytes;
use store::Revision;

use crate::admission::resource_quota::{self, QuotaCharge, Usage, lock_for};
use crate::admission::{self, NamespaceFacts};
use crate::arbiter::{CountChange, PodUsage, pod_usage};
use crate::error::ApiError;
use crate::kinds::{PartUpdate, Strategy};
use crate::request::Attributes;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{encode_for_store, put_if_absent, store_new_plain, to_wire};

/// The subresource that adds ephemeral (debugging) containers to a pod.
const EPHEMERAL_CONTAINERS: &str = "ephemeralcontainers";

/// Pods' default `terminationGracePeriodSeconds`.
const DEFAULT_POD_GRACE_SECONDS: i64 = 30;

impl Strategy for Pod {
    fn prepare_for_create(&mut self) {
        let qos_class = self
            .spec
            .as_ref()
            .map_or("BestEffort", api::defaults::qos_class);
        self.status = Some(PodStatus {
            phase: Some("Pending".to_string()),
            qos_class: Some(qos_class.to_string()),
            ..Default::default()
        });
    }

    async fn admit_create(
        state: &ApiState,
        attributes: &Attributes,
        namespace: &NamespaceFacts,
        pod: &mut Pod,
    ) -> Result<(), ApiError> {
        let namespace_name = pod.metadata.namespace.clone().unwrap_or_default();
        admission::limit_ranger::admit_pod(state, &namespace_name, pod).await?;
        admission::service_account::admit_pod(state, &namespace_name, pod).await?;
        admission::node_restriction::admit_pod_create(attributes, pod)?;
        admission::pod_security::admit_pod(namespace.pod_security_enforce.as_deref(), pod)?;
        if let Some(warning) =
            admission::pod_security::warning(namespace.pod_security_warn.as_deref(), pod)
        {
            crate::warnings::add(warning);
        }
        admission::priority::admit_pod(state, pod).await?;
        admission::default_toleration_seconds::admit_pod(pod);
        Ok(())
    }

    async fn admit_update(
        state: &ApiState,
        attributes: &Attributes,
        old: &Pod,
        pod: &mut Pod,
    ) -> Result<(), ApiError> {
        admission::node_restriction::admit_pod_update(attributes, old)?;
        if attributes.subresource == EPHEMERAL_CONTAINERS {
            // A debugging container must meet the namespace's level too.
            let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
            let facts = admission::namespace_lifecycle::facts(state, namespace).await?;
            let checked = admission::pod_security::with_ephemeral_containers(pod);
            admission::pod_security::admit_pod(facts.pod_security_enforce.as_deref(), &checked)?;
            if let Some(warning) =
                admission::pod_security::warning(facts.pod_security_warn.as_deref(), &checked)
            {
                crate::warnings::add(warning);
            }
        }
        Ok(())
    }

    fn part_update(subresource: &str) -> Option<PartUpdate<Pod>> {
        (subresource == EPHEMERAL_CONTAINERS).then_some(PartUpdate {
            take: |stored, request| {
                let containers = request
                    .spec
                    .as_mut()
                    .and_then(|spec| spec.ephemeral_containers.take());
                if let Some(spec) = stored.spec.as_mut() {
                    spec.ephemeral_containers = containers;
                }
            },
            validate: api::validation::validate_ephemeral_containers_update,
        })
    }

    async fn admit_delete(
        _state: &ApiState,
        attributes: &Attributes,
        pod: &Pod,
    ) -> Result<(), ApiError> {
        admission::node_restriction::admit_pod_delete(attributes, pod)
    }

    fn quota_usage(&self) -> Usage {
        resource_quota::pod_usage(self)
    }

    fn as_pod(&self) -> Option<&Pod> {
        Some(self)
    }

    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        pod: &'a mut Pod,
    ) -> Result<Bytes, ApiError> {
        let node = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.clone())
            .unwrap_or_default();
        if node.is_empty() {
            return store_new_plain(state, key, pod).await;
        }
        let usage = pod_usage(pod);
        let bytes = encode_for_store(pod)?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        let charge = QuotaCharge::create(state, pod);
        let revision = put_new_bound_pod(
            state,
            key,
            &name,
            bytes.clone(),
            &usage,
            &node,
            charge.as_ref(),
        )
        .await?;
        to_wire(&bytes, revision, pod)
    }

    fn count_change(old: &Pod, new: Option<&Pod>) -> Option<CountChange> {
        CountChange::between(old, new)
    }

    /// Only a pod bound to a node waits for its kubelet; an unbound (or
    /// already finished) pod goes at once. A pending grace period may be
    /// shortened, never extended.
    fn delete_grace_seconds(&self, requested: Option<i64>) -> i64 {
        let spec = self.spec.as_ref();
        if spec
            .and_then(|spec| spec.node_name.as_deref())
            .is_none_or(str::is_empty)
        {
            return 0;
        }
        let phase = self
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            return 0;
        }
        let requested = requested
            .or_else(|| spec.and_then(|spec| spec.termination_grace_period_seconds))
            .unwrap_or(DEFAULT_POD_GRACE_SECONDS);
        match self.metadata.deletion_grace_period_seconds {
            Some(current) if self.metadata.deletion_timestamp.is_some() => requested.min(current),
            _ => requested,
        }
    }
}

/// Writes the encoded pod `bytes` at the free `key`, checked against and
/// counted on `node`'s usage record like a bind (capacity only if the Node
/// exists) and charged to its namespace's quotas; returns the revision.
pub(crate) async fn put_new_bound_pod(
    state: &ApiState,
    key: &str,
    name: &str,
    bytes: store::Bytes,
    usage: &PodUsage,
    node: &str,
    charge: Option<&QuotaCharge>,
) -> Result<Revision, ApiError> {
    let _quota_lock = lock_for(state, charge).await;
    for _ in 0..CAS_RETRIES {
        let account = state.open_account(node).await?;
        let capacity = account.loaded().capacity.clone();
        let mut node_usage = account.loaded().usage.clone();
        let verdict = state
            .check_pod_fits(capacity.as_ref(), &node_usage, usage)
            .await?;
        if let Err(unfit) = verdict {
            if account.is_fresh() || state.account_is_current(&account).await? {
                account.close();
                return Err(ApiError::conflict(
                    "pods",
                    name,
                    format!("node {node}: {unfit}"),
                ));
            }
            // Checked against a stale cached record: read it again.
            continue;
        }
        node_usage.add(usage);
        let mut txn = put_if_absent(key, bytes.clone());
        if let Some(charge) = charge
            && let Err(error) = charge.stage(state, &mut txn).await
        {
            account.close();
            return Err(error);
        }
        account.stage(&node_usage, true, &mut txn);
        let response = state.txn(txn).await?;
        account.finish(node_usage, &response);
        if response.succeeded {
            return Ok(response.revision);
        }
        if state.get_kv(key).await?.is_some() {
            return Err(ApiError::already_exists("pods", name));
        }
    }
    Err(ApiError::modified("pods", name))
}
