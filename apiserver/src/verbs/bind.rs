//! Bind (`pods/binding`): set `spec.nodeName` of unbound pods, arbitrated
//! against the node's usage record (see `arbiter`).
//!
//! Pods bound to one node in one request are checked in order against the
//! record (each seeing the ones accepted before it) and written in one
//! transaction: a compare on each pod's mod revision, on the record and on
//! the Node, the pods' puts and one record put. A pod that does not fit
//! gets its own conflict while the others proceed; a lost race re-reads
//! and retries, a bounded number of times.

use api::k8s_openapi::api::core::v1::Pod;
use store::{Compare, CompareTarget, LeaseId, Op, Revision, Txn};

use crate::arbiter::{PodUsage, pod_usage};
use crate::error::ApiError;
use crate::keys;
use crate::state::{ApiState, CAS_RETRIES};

/// One pod to bind, by namespace and name.
#[derive(Clone, Debug)]
pub(crate) struct BindTarget {
    pub(crate) namespace: String,
    pub(crate) pod: String,
}

/// A pod read for binding, with `spec.nodeName` already set.
struct PreparedBind {
    key: String,
    mod_revision: Revision,
    lease: LeaseId,
    pod: Pod,
    usage: PodUsage,
}

impl ApiState {
    /// Binds one pod; returns it as stored.
    pub(crate) async fn bind(
        &self,
        namespace: &str,
        pod_name: &str,
        node_name: &str,
    ) -> Result<Pod, ApiError> {
        let target = BindTarget {
            namespace: namespace.to_string(),
            pod: pod_name.to_string(),
        };
        self.bind_to_node(node_name, std::slice::from_ref(&target))
            .await
            .pop()
            .unwrap_or_else(|| Err(ApiError::Internal("bind returned no result".to_string())))
    }

    /// Binds pods to one node, one result per target in order: the bound
    /// pod (with its resourceVersion) or why not.
    pub(crate) async fn bind_to_node(
        &self,
        node: &str,
        targets: &[BindTarget],
    ) -> Vec<Result<Pod, ApiError>> {
        let mut results: Vec<Option<Result<Pod, ApiError>>> = vec![None; targets.len()];
        if node.is_empty() {
            let error = ApiError::BadRequest("binding target node name is required".to_string());
            return vec![Err(error); targets.len()];
        }
        let mut pending = Vec::new();
        for (index, target) in targets.iter().enumerate() {
            let seen = targets[..index]
                .iter()
                .any(|t| t.namespace == target.namespace && t.pod == target.pod);
            if seen {
                results[index] = Some(Err(ApiError::conflict(
                    "pods/binding",
                    &target.pod,
                    format!("pod {} is bound more than once in one request", target.pod),
                )));
            } else {
                pending.push(index);
            }
        }
        for _ in 0..CAS_RETRIES {
            if pending.is_empty() {
                break;
            }
            pending = self
                .bind_attempt(node, targets, &pending, &mut results)
                .await;
        }
        results
            .into_iter()
            .zip(targets)
            .map(|(result, target)| {
                result.unwrap_or_else(|| Err(ApiError::modified("pods/binding", &target.pod)))
            })
            .collect()
    }

    /// One try at binding `pending` (indexes into `targets`); fills in the
    /// results that are final and returns the indexes to try again.
    async fn bind_attempt(
        &self,
        node: &str,
        targets: &[BindTarget],
        pending: &[usize],
        results: &mut [Option<Result<Pod, ApiError>>],
    ) -> Vec<usize> {
        let mut prepared = Vec::with_capacity(pending.len());
        for &index in pending {
            match self.prepare_bind(&targets[index], node).await {
                Ok(bind) => prepared.push((index, bind)),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        if prepared.is_empty() {
            return Vec::new();
        }
        let fail_all = |results: &mut [Option<Result<Pod, ApiError>>], error: ApiError| {
            for (index, _) in &prepared {
                results[*index] = Some(Err(error.clone()));
            }
        };
        let account = match self.open_account(node).await {
            Ok(account) => account,
            Err(error) => {
                fail_all(results, error);
                return Vec::new();
            }
        };
        let retry_all: Vec<usize> = prepared.iter().map(|(index, _)| *index).collect();
        let loaded = account.loaded();
        let Some(capacity) = loaded.capacity.clone() else {
            // Confirm the Node is really gone before failing on it.
            if !account.is_fresh() {
                return retry_all;
            }
            account.close();
            self.accounts.forget(node);
            fail_all(results, ApiError::not_found("nodes", node));
            return Vec::new();
        };
        let mut usage = loaded.usage.clone();
        let mut accepted = Vec::with_capacity(prepared.len());
        let mut rejected = Vec::new();
        for (index, bind) in prepared {
            let verdict = match self
                .check_pod_fits(Some(&capacity), &usage, &bind.usage)
                .await
            {
                Ok(verdict) => verdict,
                Err(error) => {
                    results[index] = Some(Err(error));
                    continue;
                }
            };
            match verdict {
                Ok(()) => {
                    usage.add(&bind.usage);
                    accepted.push((index, bind));
                }
                Err(unfit) => rejected.push((
                    index,
                    ApiError::conflict(
                        "pods/binding",
                        &targets[index].pod,
                        format!("node {node}: {unfit}"),
                    ),
                )),
            }
        }
        if accepted.is_empty() {
            // Nothing to write: the rejections stand only against the
            // stored record.
            let current =
                account.is_fresh() || self.account_is_current(&account).await.unwrap_or(false);
            if !current {
                return rejected.into_iter().map(|(index, _)| index).collect();
            }
            account.close();
            for (index, error) in rejected {
                results[index] = Some(Err(error));
            }
            return Vec::new();
        }
        let mut txn = Txn::default();
        for (index, bind) in &accepted {
            let value = match serde_json::to_vec(&bind.pod) {
                Ok(value) => value,
                Err(error) => {
                    results[*index] = Some(Err(ApiError::Internal(error.to_string())));
                    return Vec::new();
                }
            };
            txn.compares.push(Compare {
                key: bind.key.clone(),
                target: CompareTarget::ModRevision(bind.mod_revision),
            });
            txn.success.push(Op::Put {
                key: bind.key.clone(),
                value: store::Bytes::from(value),
                lease: bind.lease,
            });
        }
        account.stage(&usage, true, &mut txn);
        let response = match self.txn(txn).await {
            Ok(response) => response,
            Err(error) => {
                for (index, _) in &accepted {
                    results[*index] = Some(Err(error.clone()));
                }
                for (index, error) in rejected {
                    results[index] = Some(Err(error));
                }
                return Vec::new();
            }
        };
        account.finish(usage, &response);
        if !response.succeeded {
            // A pod, the record or the Node changed: try everything again.
            let mut again: Vec<usize> = accepted.iter().map(|(index, _)| *index).collect();
            again.extend(rejected.iter().map(|(index, _)| *index));
            again.sort_unstable();
            return again;
        }
        let revision = response.revision.to_string();
        for (index, mut bind) in accepted {
            bind.pod.metadata.resource_version = Some(revision.clone());
            results[index] = Some(Ok(bind.pod));
        }
        for (index, error) in rejected {
            results[index] = Some(Err(error));
        }
        Vec::new()
    }

    /// Reads an unbound pod and sets its node.
    async fn prepare_bind(
        &self,
        target: &BindTarget,
        node: &str,
    ) -> Result<PreparedBind, ApiError> {
        let info = self.kinds.get("pods")?.info();
        let key = keys::object_key(info, &target.namespace, &target.pod);
        let Some(current) = self.get_kv(&key).await? else {
            return Err(ApiError::not_found("pods", &target.pod));
        };
        let mut pod: Pod = serde_json::from_slice(&current.value)
            .map_err(|error| ApiError::Internal(format!("corrupt object at {key}: {error}")))?;
        let spec = pod.spec.get_or_insert_with(Default::default);
        if let Some(bound_to) = spec.node_name.as_deref().filter(|name| !name.is_empty()) {
            return Err(ApiError::conflict(
                "pods/binding",
                &target.pod,
                format!(
                    "pod {} is already assigned to node {bound_to:?}",
                    target.pod
                ),
            ));
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::conflict(
                "pods/binding",
                &target.pod,
                format!("pod {} is being deleted", target.pod),
            ));
        }
        spec.node_name = Some(node.to_string());
        let usage = pod_usage(&pod);
        Ok(PreparedBind {
            key,
            mod_revision: current.mod_revision,
            lease: current.lease,
            pod,
            usage,
        })
    }
}
