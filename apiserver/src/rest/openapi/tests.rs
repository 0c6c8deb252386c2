//! Shape checks of the generated documents, as `kubectl explain` and
//! `kubectl apply` read them.

use serde_json::Value;

use super::*;

fn parse(document: &OpenApiDocument) -> Value {
    serde_json::from_slice(&document.json).unwrap()
}

/// Follows a property's schema to its definition: `$ref`, or the first
/// `allOf` entry's `$ref`, or the inline schema.
fn resolve<'doc>(definitions: &'doc Value, schema: &'doc Value, prefix: &str) -> &'doc Value {
    let reference = schema.get("$ref").or_else(|| {
        schema
            .get("allOf")
            .and_then(|all| all.get(0))
            .and_then(|first| first.get("$ref"))
    });
    match reference.and_then(Value::as_str) {
        Some(reference) => &definitions[reference.strip_prefix(prefix).unwrap()],
        None => schema,
    }
}

fn check_pod_reaches_affinity_and_merge_key(definitions: &Value, prefix: &str) {
    let pod = &definitions["io.k8s.api.core.v1.Pod"];
    assert_eq!(
        pod["x-kubernetes-group-version-kind"],
        serde_json::json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    let pod_spec = resolve(definitions, &pod["properties"]["spec"], prefix);
    let affinity = resolve(definitions, &pod_spec["properties"]["affinity"], prefix);
    assert!(
        affinity["properties"].get("nodeAffinity").is_some(),
        "{affinity}"
    );
    let containers = &pod_spec["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    let finalizers =
        &definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"];
    assert_eq!(finalizers["x-kubernetes-list-type"], "set");
}

#[test]
fn v2_has_pod_with_group_version_kind_and_patch_metadata() {
    let v2 = parse(&documents().v2);
    assert_eq!(v2["swagger"], "2.0");
    check_pod_reaches_affinity_and_merge_key(&v2["definitions"], "#/definitions/");
    let deployment = &v2["definitions"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"][0]["group"],
        "apps"
    );
}

#[test]
fn v3_index_lists_every_group_version_and_each_document_parses() {
    let index = parse(&documents().v3_index);
    let paths = index["paths"].as_object().unwrap();
    assert!(paths.contains_key("api/v1"), "{paths:?}");
    assert!(paths.contains_key("apis/apps/v1"), "{paths:?}");
    for (path, entry) in paths {
        let url = entry["serverRelativeURL"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("/openapi/v3/{path}?hash=")),
            "{url}"
        );
        let document = parse(documents().v3_group_version(path).unwrap());
        assert_eq!(document["openapi"], "3.0.0");
        assert!(
            document["components"]["schemas"].as_object().unwrap().len() > 1,
            "{path}"
        );
    }
    let core = parse(documents().v3_group_version("/api/v1").unwrap());
    check_pod_reaches_affinity_and_merge_key(
        &core["components"]["schemas"],
        "#/components/schemas/",
    );
    let apps = parse(documents().v3_group_version("apis/apps/v1").unwrap());
    let schemas = &apps["components"]["schemas"];
    assert_eq!(
        schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"],
        "Deployment"
    );
    // A pod template's PodSpec is in the apps document; Pod itself is not.
    assert!(schemas.get("io.k8s.api.core.v1.PodSpec").is_some());
    assert!(schemas.get("io.k8s.api.core.v1.Pod").is_none());
}

#[test]
fn v3_documents_advertise_field_validation_on_patch() {
    let check = |group_version: &str, path: &str, kind: &str| {
        let document = parse(documents().v3_group_version(group_version).unwrap());
        let patch = &document["paths"][path]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"], kind,
            "{path}"
        );
        let parameters: Vec<&str> = patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|parameter| parameter["name"].as_str())
            .collect();
        assert!(parameters.contains(&"fieldValidation"), "{parameters:?}");
    };
    check(
        "api/v1",
        "/api/v1/namespaces/{namespace}/pods/{name}",
        "Pod",
    );
    check("api/v1", "/api/v1/nodes/{name}", "Node");
    check(
        "apis/apps/v1",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "Deployment",
    );
}
