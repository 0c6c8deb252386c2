//! Bind (`pods/binding`): set `spec.nodeName` of an unbound pod, guarded by
//! a compare on the pod's mod revision.
//!
//! The transaction is built as a [`BindPlan`] so more keys can join it
//! (per-node resource accounting compares and puts on a node key).

use serde_json::Value;
use store::{Compare, CompareTarget, Op, Txn};

use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::state::{ApiState, CAS_RETRIES};

/// The writes of one bind, all in one transaction.
pub(crate) struct BindPlan {
    pub(crate) compares: Vec<Compare>,
    pub(crate) ops: Vec<Op>,
}

impl ApiState {
    pub(crate) async fn bind(
        &self,
        namespace: &str,
        pod_name: &str,
        node_name: &str,
    ) -> Result<Value, ApiError> {
        let pods = self.kinds.get("pods")?.info();
        let nodes = self.kinds.get("nodes")?.info();
        if node_name.is_empty() {
            return Err(ApiError::BadRequest(
                "binding target node name is required".to_string(),
            ));
        }
        if self
            .get_kv(&keys::object_key(nodes, "", node_name))
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("nodes", node_name));
        }
        let key = keys::object_key(pods, namespace, pod_name);
        for _ in 0..CAS_RETRIES {
            let Some(current) = self.get_kv(&key).await? else {
                return Err(ApiError::not_found("pods", pod_name));
            };
            let mut pod = object::from_store(&current)?;
            let bound_to = object::field_string(&pod, "/spec/nodeName");
            if !bound_to.is_empty() {
                return Err(ApiError::conflict(
                    "pods/binding",
                    pod_name,
                    format!("pod {pod_name} is already assigned to node {bound_to:?}"),
                ));
            }
            if object::is_deleting(&pod) {
                return Err(ApiError::conflict(
                    "pods/binding",
                    pod_name,
                    format!("pod {pod_name} is being deleted"),
                ));
            }
            let spec = object::as_map(
                object::as_map(&mut pod)
                    .entry("spec")
                    .or_insert(Value::Null),
            );
            spec.insert("nodeName".to_string(), Value::String(node_name.to_string()));
            let plan = BindPlan {
                compares: vec![Compare {
                    key: key.clone(),
                    target: CompareTarget::ModRevision(current.mod_revision),
                }],
                ops: vec![Op::Put {
                    key: key.clone(),
                    value: object::to_store(&mut pod)?,
                    lease: current.lease,
                }],
            };
            let response = self
                .txn(Txn {
                    compares: plan.compares,
                    success: plan.ops,
                    failure: vec![],
                })
                .await?;
            if response.succeeded {
                object::set_resource_version(&mut pod, response.revision);
                return Ok(pod);
            }
            // The pod changed (status, labels, or a concurrent bind): re-read.
        }
        Err(ApiError::modified("pods/binding", pod_name))
    }
}
