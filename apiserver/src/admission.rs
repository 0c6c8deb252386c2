//! Admission, run before anything is stored: namespace lifecycle, pod
//! priority from its PriorityClass, default NoExecute tolerations, and at
//! most one globalDefault PriorityClass.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::object;
use crate::state::ApiState;

/// Namespaces created at startup if absent.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Tolerations every pod gets unless it already tolerates the taint.
const DEFAULT_TOLERATION_KEYS: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];
const DEFAULT_TOLERATION_SECONDS: i64 = 300;

impl ApiState {
    pub(crate) async fn admit_create(
        &self,
        info: &api::KindInfo,
        value: &mut Value,
    ) -> Result<(), ApiError> {
        if info.namespaced {
            self.check_namespace_open(object::namespace(value)).await?;
        }
        match info.plural {
            "pods" => {
                self.resolve_priority(value).await?;
                add_default_tolerations(value);
            }
            "priorityclasses" => self.check_single_global_default(value).await?,
            _ => {}
        }
        Ok(())
    }

    pub(crate) async fn admit_update(
        &self,
        info: &api::KindInfo,
        value: &Value,
    ) -> Result<(), ApiError> {
        if info.plural == "priorityclasses" {
            self.check_single_global_default(value).await?;
        }
        Ok(())
    }

    /// The namespace exists and is not terminating.
    async fn check_namespace_open(&self, namespace: &str) -> Result<(), ApiError> {
        let key = format!("/registry/namespaces/{namespace}");
        let Some(kv) = self.get_kv(&key).await? else {
            return Err(ApiError::not_found("namespaces", namespace));
        };
        let stored = object::from_store(&kv)?;
        if object::is_deleting(&stored)
            || object::field_string(&stored, "/status/phase") == "Terminating"
        {
            return Err(ApiError::Forbidden(format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            )));
        }
        Ok(())
    }

    /// Sets `spec.priority` (and `preemptionPolicy`) from the pod's
    /// PriorityClass, or from the globalDefault class, else 0.
    async fn resolve_priority(&self, pod: &mut Value) -> Result<(), ApiError> {
        let class_name = object::field_string(pod, "/spec/priorityClassName");
        let class = if class_name.is_empty() {
            self.global_default_priority_class().await?
        } else {
            let key = format!("/registry/priorityclasses/{class_name}");
            match self.get_kv(&key).await? {
                Some(kv) => Some(object::from_store(&kv)?),
                None => {
                    return Err(ApiError::Forbidden(format!(
                        "pods {:?} is forbidden: no PriorityClass with name {class_name} was found",
                        object::name(pod)
                    )));
                }
            }
        };
        let priority = class
            .as_ref()
            .and_then(|c| c.get("value"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let given = pod.pointer("/spec/priority").and_then(Value::as_i64);
        if let Some(given) = given
            && given != priority
        {
            return Err(ApiError::Forbidden(format!(
                "pods {:?} is forbidden: the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name",
                object::name(pod)
            )));
        }
        let spec = object::as_map(object::as_map(pod).entry("spec").or_insert(Value::Null));
        spec.insert("priority".to_string(), Value::from(priority));
        if let Some(class) = &class {
            spec.insert(
                "priorityClassName".to_string(),
                Value::String(object::name(class).to_string()),
            );
            let policy = class
                .get("preemptionPolicy")
                .and_then(Value::as_str)
                .unwrap_or("PreemptLowerPriority");
            spec.insert(
                "preemptionPolicy".to_string(),
                Value::String(policy.to_string()),
            );
        }
        Ok(())
    }

    async fn global_default_priority_class(&self) -> Result<Option<Value>, ApiError> {
        let classes = self.store.range(store::RangeRequest {
            prefix: "/registry/priorityclasses/".to_string(),
            ..Default::default()
        });
        for kv in classes.await?.kvs {
            let class = object::from_store(&kv)?;
            if class.get("globalDefault").and_then(Value::as_bool) == Some(true) {
                return Ok(Some(class));
            }
        }
        Ok(None)
    }

    /// At most one PriorityClass may be the global default.
    async fn check_single_global_default(&self, class: &Value) -> Result<(), ApiError> {
        if class.get("globalDefault").and_then(Value::as_bool) != Some(true) {
            return Ok(());
        }
        if let Some(existing) = self.global_default_priority_class().await?
            && object::name(&existing) != object::name(class)
        {
            return Err(ApiError::Forbidden(format!(
                "PriorityClass {} is already marked as default. Only one default can exist",
                object::name(&existing)
            )));
        }
        Ok(())
    }
}

/// Adds the not-ready/unreachable NoExecute tolerations (300 s) unless the
/// pod already tolerates those taints.
fn add_default_tolerations(pod: &mut Value) {
    let spec = object::as_map(object::as_map(pod).entry("spec").or_insert(Value::Null));
    let tolerations = spec
        .entry("tolerations")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !tolerations.is_array() {
        *tolerations = Value::Array(Vec::new());
    }
    let Value::Array(list) = tolerations else {
        return;
    };
    for key in DEFAULT_TOLERATION_KEYS {
        let tolerated = list.iter().any(|toleration| {
            let effect = toleration
                .get("effect")
                .and_then(Value::as_str)
                .unwrap_or("");
            let operator = toleration
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or("Equal");
            let tol_key = toleration.get("key").and_then(Value::as_str).unwrap_or("");
            let key_matches = tol_key == key || (tol_key.is_empty() && operator == "Exists");
            key_matches && (effect.is_empty() || effect == "NoExecute")
        });
        if !tolerated {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tolerations_added_once() {
        let mut pod = json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        ]}});
        add_default_tolerations(&mut pod);
        let list = pod
            .pointer("/spec/tolerations")
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1]["key"], "node.kubernetes.io/not-ready");
        assert_eq!(list[1]["tolerationSeconds"], 300);
        add_default_tolerations(&mut pod);
        assert_eq!(
            pod.pointer("/spec/tolerations")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
