//! DefaultTolerationSeconds: every pod tolerates the not-ready and
//! unreachable NoExecute taints for 300 s unless it already tolerates them.

use api::k8s_openapi::api::core::v1::{Pod, Toleration};

/// Tolerations every pod gets unless it already tolerates the taint.
const DEFAULT_TOLERATION_KEYS: [&str; 2] = [api::taints::NOT_READY, api::taints::UNREACHABLE];
const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// Adds the default tolerations the pod lacks.
pub(crate) fn admit_pod(pod: &mut Pod) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_tolerations_added_once() {
        let mut pod: Pod = serde_json::from_value(json!({"spec": {"containers": [], "tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        ]}}))
        .unwrap();
        admit_pod(&mut pod);
        let list = pod.spec.as_ref().unwrap().tolerations.clone().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].toleration_seconds, Some(10));
        assert_eq!(list[1].key.as_deref(), Some("node.kubernetes.io/not-ready"));
        assert_eq!(list[1].toleration_seconds, Some(300));
        admit_pod(&mut pod);
        assert_eq!(pod.spec.unwrap().tolerations.unwrap().len(), 2);
    }

    #[test]
    fn a_wildcard_toleration_covers_both() {
        let mut pod: Pod = serde_json::from_value(
            json!({"spec": {"containers": [], "tolerations": [{"operator": "Exists"}]}}),
        )
        .unwrap();
        admit_pod(&mut pod);
        assert_eq!(pod.spec.unwrap().tolerations.unwrap().len(), 1);
    }
}
