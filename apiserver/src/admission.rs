//! Admission, run before anything is stored: namespace lifecycle, pod
//! priority from its PriorityClass, default NoExecute tolerations, and at
//! most one globalDefault PriorityClass.

use api::k8s_openapi::api::core::v1::{PodSpec, Toleration};
use serde::Deserialize;
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
    pub(crate) async fn check_namespace_open(&self, namespace: &str) -> Result<(), ApiError> {
        let key = format!("/registry/namespaces/{namespace}");
        let Some(kv) = self.get_kv(&key).await? else {
            return Err(ApiError::not_found("namespaces", namespace));
        };
        let stored: NamespaceState = decode_stored(&kv)?;
        let deleting = stored
            .metadata
            .and_then(|meta| meta.deletion_timestamp)
            .is_some_and(|time| !time.is_empty());
        let terminating =
            stored.status.and_then(|status| status.phase).as_deref() == Some("Terminating");
        if deleting || terminating {
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
        let given = pod.pointer("/spec/priority").and_then(Value::as_i64);
        let resolved = self
            .pod_priority(object::name(pod), &class_name, given)
            .await?;
        let spec = object::as_map(object::as_map(pod).entry("spec").or_insert(Value::Null));
        spec.insert("priority".to_string(), Value::from(resolved.priority));
        if let Some((class, policy)) = resolved.class {
            spec.insert("priorityClassName".to_string(), Value::String(class));
            spec.insert("preemptionPolicy".to_string(), Value::String(policy));
        }
        Ok(())
    }

    /// The priority a pod gets from its PriorityClass (`class_name`, or the
    /// globalDefault class when empty), checked against the priority it
    /// was sent with (`given`).
    pub(crate) async fn pod_priority(
        &self,
        pod_name: &str,
        class_name: &str,
        given: Option<i64>,
    ) -> Result<ResolvedPriority, ApiError> {
        let class = if class_name.is_empty() {
            self.global_default_priority_class().await?
        } else {
            let key = format!("/registry/priorityclasses/{class_name}");
            match self.get_kv(&key).await? {
                Some(kv) => Some(decode_stored::<PriorityClassInfo>(&kv)?),
                None => {
                    return Err(ApiError::Forbidden(format!(
                        "pods {pod_name:?} is forbidden: no PriorityClass with name {class_name} was found"
                    )));
                }
            }
        };
        let priority = class.as_ref().and_then(|c| c.value).unwrap_or(0);
        if let Some(given) = given
            && given != priority
        {
            return Err(ApiError::Forbidden(format!(
                "pods {pod_name:?} is forbidden: the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
            )));
        }
        Ok(ResolvedPriority {
            priority,
            class: class.map(|class| {
                let name = class.name();
                let policy = class
                    .preemption_policy
                    .unwrap_or_else(|| "PreemptLowerPriority".to_string());
                (name, policy)
            }),
        })
    }

    async fn global_default_priority_class(&self) -> Result<Option<PriorityClassInfo>, ApiError> {
        let classes = self.store.range(store::RangeRequest {
            prefix: "/registry/priorityclasses/".to_string(),
            ..Default::default()
        });
        for kv in classes.await?.kvs {
            let class: PriorityClassInfo = decode_stored(&kv)?;
            if class.global_default == Some(true) {
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
            && existing.name() != object::name(class)
        {
            return Err(ApiError::Forbidden(format!(
                "PriorityClass {} is already marked as default. Only one default can exist",
                existing.name()
            )));
        }
        Ok(())
    }
}

/// What priority admission decided for a pod.
pub(crate) struct ResolvedPriority {
    pub(crate) priority: i64,
    /// The class's name and preemption policy, if the pod has a class.
    pub(crate) class: Option<(String, String)>,
}

/// The fields of a stored PriorityClass admission reads.
#[derive(Deserialize)]
struct PriorityClassInfo {
    metadata: Option<NameOnly>,
    value: Option<i64>,
    #[serde(rename = "preemptionPolicy")]
    preemption_policy: Option<String>,
    #[serde(rename = "globalDefault")]
    global_default: Option<bool>,
}

impl PriorityClassInfo {
    fn name(&self) -> String {
        self.metadata
            .as_ref()
            .and_then(|meta| meta.name.clone())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct NameOnly {
    name: Option<String>,
}

/// The fields of a stored Namespace admission reads.
#[derive(Deserialize)]
struct NamespaceState {
    metadata: Option<DeletionOnly>,
    status: Option<PhaseOnly>,
}

#[derive(Deserialize)]
struct DeletionOnly {
    #[serde(rename = "deletionTimestamp")]
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct PhaseOnly {
    phase: Option<String>,
}

/// Decodes the parts `T` names of a stored object.
fn decode_stored<T: serde::de::DeserializeOwned>(kv: &store::KeyValue) -> Result<T, ApiError> {
    serde_json::from_slice(&kv.value)
        .map_err(|error| ApiError::Internal(format!("corrupt object at {}: {error}", kv.key)))
}

/// Adds the not-ready/unreachable NoExecute tolerations (300 s) unless a
/// typed pod already tolerates those taints.
pub(crate) fn add_default_tolerations_typed(spec: &mut PodSpec) {
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    for key in DEFAULT_TOLERATION_KEYS {
        let tolerated = list.iter().any(|toleration| {
            let effect = toleration.effect.as_deref().unwrap_or("");
            let operator = toleration.operator.as_deref().unwrap_or("Equal");
            let tol_key = toleration.key.as_deref().unwrap_or("");
            let key_matches = tol_key == key || (tol_key.is_empty() && operator == "Exists");
            key_matches && (effect.is_empty() || effect == "NoExecute")
        });
        if !tolerated {
            list.push(Toleration {
                key: Some(key.to_string()),
                operator: Some("Exists".to_string()),
                effect: Some("NoExecute".to_string()),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                value: None,
            });
        }
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
