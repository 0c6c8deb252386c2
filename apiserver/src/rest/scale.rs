//! The `scale` subresource of Deployments, ReplicaSets, StatefulSets and
//! ReplicationControllers: an `autoscaling/v1 Scale` read from the object
//! (`spec.replicas`, `status.replicas`, the selector as a string), and
//! writes (PUT of a Scale, or a patch of it) that change only the object's
//! `spec.replicas`, through the same patch verb as every other write.
//! Custom resources that declare a `scale` subresource are served the same
//! way at their declared paths (`specReplicasPath`, `statusReplicasPath`,
//! `labelSelectorPath`, the last a string field).

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
        .get(info.resource_key, &attributes.namespace, &attributes.name)
        .await?;
    let object: Value = serde_json::from_slice(&stored).map_err(ApiError::internal)?;
    let paths = ScalePaths::of(kind);
    let current = paths.scale_of(&object);
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
    let spec_replicas = paths.spec_replicas.clone();
    let set_replicas = move |stored: &Value| {
        let mut patched = stored.clone();
        if let Some(version) = &pinned {
            patched["metadata"]["resourceVersion"] = json!(version);
        }
        set_at(&mut patched, &spec_replicas, json!(replicas));
        Ok(patched)
    };
    let updated = kind
        .patch(&rest.state, attributes, &set_replicas, options)
        .await?;
    let updated: Value = serde_json::from_slice(&updated).map_err(ApiError::internal)?;
    Ok(paths.scale_of(&updated))
}

/// Where an object keeps what its Scale shows, as dotted paths.
struct ScalePaths {
    spec_replicas: Vec<String>,
    status_replicas: Vec<String>,
    /// A custom resource's selector string; built-in workloads have their
    /// label selector at `spec.selector`.
    selector_text: Option<Vec<String>>,
    /// The replicas shown when the field is absent (workloads default to 1).
    default_replicas: i64,
}

impl ScalePaths {
    fn of(kind: &dyn KindOps) -> ScalePaths {
        let split = |dotted: &str| -> Vec<String> {
            dotted
                .split('.')
                .filter(|part| !part.is_empty())
                .map(str::to_string)
                .collect()
        };
        match kind.custom().and_then(|custom| custom.scale.as_ref()) {
            Some(scale) => ScalePaths {
                spec_replicas: split(&scale.spec_replicas_path),
                status_replicas: split(&scale.status_replicas_path),
                selector_text: Some(split(scale.label_selector_path.as_deref().unwrap_or(""))),
                default_replicas: 0,
            },
            None => ScalePaths {
                spec_replicas: split("spec.replicas"),
                status_replicas: split("status.replicas"),
                selector_text: None,
                default_replicas: 1,
            },
        }
    }

    fn scale_of(&self, object: &Value) -> Value {
        let mut scale = scale_of(object);
        scale["spec"]["replicas"] = get_at(object, &self.spec_replicas)
            .cloned()
            .unwrap_or(json!(self.default_replicas));
        scale["status"]["replicas"] = get_at(object, &self.status_replicas)
            .cloned()
            .unwrap_or(json!(0));
        if let Some(path) = &self.selector_text {
            let text = if path.is_empty() {
                ""
            } else {
                get_at(object, path).and_then(Value::as_str).unwrap_or("")
            };
            scale["status"]["selector"] = json!(text);
        }
        scale
    }
}

fn get_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |node, part| node.get(part))
}

/// Sets the field at `path`, creating the objects on the way.
fn set_at(object: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = object;
    for part in parents {
        node = crate::object::as_map(node)
            .entry(part.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    crate::object::as_map(node).insert(last.clone(), value);
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
