//! The `scale` subresource of Deployments, ReplicaSets, StatefulSets and
//! ReplicationControllers: an `autoscaling/v1 Scale` read from the object
//! (`spec.replicas`, `status.replicas`, the selector as a string), and
//! writes (PUT of a Scale, or a patch of it) that change only the object's
//! `spec.replicas`, through the same patch verb as every other write.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::kinds::KindOps;
use crate::patch::{self, PatchType};
use crate::request::Attributes;
use crate::rest::RestState;
use crate::verbs::WriteOptions;

/// Serves GET, PUT or PATCH on `<resource>/<name>/scale`; `attributes`
/// name the object and the verb.
pub(crate) async fn serve(
    rest: &RestState,
    kind: &dyn KindOps,
    attributes: &Attributes,
    content_type: &str,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    let info = kind.info();
    let stored = rest
        .state
        .get(info.plural, &attributes.namespace, &attributes.name)
        .await?;
    let object: Value = serde_json::from_slice(&stored).map_err(ApiError::internal)?;
    let current = scale_of(&object);
    let wanted = match attributes.verb.as_str() {
        "get" => return Ok(current),
        "update" => serde_json::from_slice::<Value>(body)
            .map_err(|error| ApiError::BadRequest(format!("cannot decode Scale: {error}")))?,
        _ => {
            let patch_type = PatchType::from_content_type(content_type)?;
            let scale_kind = api::kind_by_plural(info.plural).unwrap_or(info);
            patch::apply_patch(scale_kind, &current, patch_type, body)?
        }
    };
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::BadRequest("Scale spec.replicas is required".to_string()))?;
    if replicas < 0 {
        let mut errors = api::FieldErrors::default();
        errors.push(api::FieldError::invalid_raw(
            api::FieldPath::root("spec").child("replicas"),
            replicas,
            "must be greater than or equal to 0",
        ));
        return Err(ApiError::Invalid {
            kind: "Scale",
            name: attributes.name.clone(),
            errors,
        });
    }
    let pinned = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let set_replicas = move |stored: &Value| {
        let mut patched = stored.clone();
        if let Some(version) = &pinned {
            patched["metadata"]["resourceVersion"] = json!(version);
        }
        patched["spec"]["replicas"] = json!(replicas);
        Ok(patched)
    };
    let updated = kind
        .patch(&rest.state, attributes, &set_replicas, options)
        .await?;
    let updated: Value = serde_json::from_slice(&updated).map_err(ApiError::internal)?;
    Ok(scale_of(&updated))
}

/// The Scale of a workload object.
fn scale_of(object: &Value) -> Value {
    let metadata = &object["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "creationTimestamp": metadata["creationTimestamp"],
        },
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector_text(object.pointer("/spec/selector")),
        },
    })
}

/// A label selector as `a=b,c in (d)` text (ReplicationControllers have a
/// plain map).
fn selector_text(selector: Option<&Value>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let labels = selector.get("matchLabels").unwrap_or(selector);
    let mut parts: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some(format!("{key}={}", value.as_str()?)))
        .collect();
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or("");
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match expression["operator"].as_str().unwrap_or("") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reads_replicas_and_selector() {
        let deployment = json!({"metadata": {"name": "web", "namespace": "ns", "uid": "u", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2}});
        let scale = scale_of(&deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(scale["status"]["replicas"], 2);
        assert_eq!(scale["status"]["selector"], "app=web,tier in (a,b)");
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
        let controller = json!({"metadata": {"name": "rc"}, "spec": {"selector": {"app": "x"}}});
        assert_eq!(scale_of(&controller)["status"]["selector"], "app=x");
    }
}
