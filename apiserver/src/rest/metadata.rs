//! The metadata-only representations metadata clients (garbage collector,
//! namespace controller, `kubectl get -o name`) ask for:
//! `meta.k8s.io/v1 PartialObjectMetadata` and `PartialObjectMetadataList`.

use serde_json::{Map, Value, json};

/// One object's metadata as a `PartialObjectMetadata`.
pub(crate) fn partial_object_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A list's metadata as a `PartialObjectMetadataList`; `resource_version`
/// and `continue_token` are the list's ("" for none).
pub(crate) fn partial_object_metadata_list(
    objects: &[Value],
    resource_version: &str,
    continue_token: &str,
) -> Value {
    let mut metadata = Map::new();
    if !resource_version.is_empty() {
        metadata.insert("resourceVersion".to_string(), json!(resource_version));
    }
    if !continue_token.is_empty() {
        metadata.insert("continue".to_string(), json!(continue_token));
    }
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "items": objects.iter().map(partial_object_metadata).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_replaces_the_object() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web", "uid": "u"}, "spec": {}});
        let expected_item = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                   "metadata": {"name": "web", "uid": "u"}});
        assert_eq!(partial_object_metadata(&pod), expected_item);
        assert_eq!(
            partial_object_metadata_list(&[pod], "12", ""),
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                   "metadata": {"resourceVersion": "12"}, "items": [expected_item]})
        );
        assert_eq!(partial_object_metadata(&json!({}))["metadata"], json!({}));
    }
}
