//! Server-side apply scenarios: ownership on create, changed and removed
//! fields, conflicts with an update's manager, forcing, keyed lists.

use serde_json::{Value, json};

use super::*;

fn deployment_kind() -> &'static KindInfo {
    api::ALL_KINDS
        .iter()
        .find(|info| info.kind == "Deployment")
        .unwrap()
}

fn now() -> Time {
    Time("2026-01-02T03:04:05Z".parse().unwrap())
}

fn apply(
    live: Option<&Value>,
    body: &str,
    manager: &str,
    force: bool,
) -> Result<Value, PatchError> {
    let now = now();
    server_side_apply(&ApplyRequest {
        kind: deployment_kind(),
        live,
        body: body.as_bytes(),
        field_manager: manager,
        force,
        now: &now,
    })
}

fn manifest(replicas: u32, image: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
{labels}spec:
  replicas: {replicas}
  template:
    spec:
      containers:
      - name: nginx
        image: {image}
"
    )
}

fn fields_of(object: &Value, manager: &str) -> Value {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["manager"] == manager)
        .map(|entry| entry["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

fn check_fields(object: &Value, manager: &str, expected: Value) {
    assert_eq!(
        fields_of(object, manager),
        expected,
        "fields of {manager} in {object:#}"
    );
}

#[test]
fn first_apply_creates_the_object_and_its_ownership() {
    let created = apply(
        None,
        &manifest(2, "nginx:1.24", "  labels:\n    app: web\n"),
        "kubectl",
        false,
    )
    .unwrap();
    assert_eq!(created["spec"]["replicas"], 2);
    assert_eq!(created["metadata"]["labels"]["app"], "web");
    check_fields(
        &created,
        "kubectl",
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}
                }}}
            }
        }),
    );
    let entry = &created["metadata"]["managedFields"][0];
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["apiVersion"], "apps/v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["time"], "2026-01-02T03:04:05Z");
}

#[test]
fn second_apply_changes_a_field_and_removing_a_field_removes_it() {
    let first = apply(
        None,
        &manifest(2, "nginx:1.24", "  labels:\n    app: web\n"),
        "kubectl",
        false,
    )
    .unwrap();
    let second = apply(
        Some(&first),
        &manifest(3, "nginx:1.25", "  labels:\n    app: web\n"),
        "kubectl",
        false,
    )
    .unwrap();
    assert_eq!(second["spec"]["replicas"], 3);
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    let third = apply(
        Some(&second),
        &manifest(3, "nginx:1.25", ""),
        "kubectl",
        false,
    )
    .unwrap();
    assert_eq!(third["metadata"].get("labels"), None);
    assert_eq!(
        third["metadata"]["managedFields"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn conflict_with_an_update_manager_and_force_takes_over() {
    let first = apply(None, &manifest(2, "nginx:1.24", ""), "kubectl", false).unwrap();
    let mut scaled = first.clone();
    scaled["spec"]["replicas"] = json!(5);
    let entries =
        record_update(deployment_kind(), &first, &scaled, "kubectl-scale", &now()).unwrap();
    scaled["metadata"]["managedFields"] = serde_json::to_value(&entries).unwrap();
    check_fields(
        &scaled,
        "kubectl-scale",
        json!({"f:spec": {"f:replicas": {}}}),
    );
    assert!(
        fields_of(&scaled, "kubectl")["f:spec"]
            .get("f:replicas")
            .is_none()
    );

    let error = apply(
        Some(&scaled),
        &manifest(3, "nginx:1.24", ""),
        "kubectl",
        false,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1 at 2026-01-02T03:04:05Z: .spec.replicas"
    );
    // Applying the live value is shared ownership, not a conflict.
    let shared = apply(
        Some(&scaled),
        &manifest(5, "nginx:1.24", ""),
        "kubectl",
        false,
    )
    .unwrap();
    assert_eq!(shared["spec"]["replicas"], 5);

    let forced = apply(
        Some(&scaled),
        &manifest(3, "nginx:1.24", ""),
        "kubectl",
        true,
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(fields_of(&forced, "kubectl-scale").is_null());
    assert!(
        fields_of(&forced, "kubectl")["f:spec"]
            .get("f:replicas")
            .is_some()
    );
}

#[test]
fn keyed_list_items_are_owned_per_manager() {
    let first = apply(None, &manifest(1, "nginx:1.24", ""), "kubectl", false).unwrap();
    let sidecar = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: envoy
";
    let both = apply(Some(&first), sidecar, "mesh", false).unwrap();
    let names: Vec<&Value> = both["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|container| &container["name"])
        .collect();
    assert_eq!(names, [&json!("nginx"), &json!("sidecar")]);
    check_fields(
        &both,
        "mesh",
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
        }}}}}),
    );
    // Dropping the sidecar from mesh's configuration removes only it.
    let dropped = apply(
        Some(&both),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        "mesh",
        false,
    )
    .unwrap();
    let containers = dropped["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "nginx");
}

#[test]
fn bad_bodies_are_rejected() {
    let alias_bomb = "apiVersion: apps/v1\nkind: Deployment\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf2: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf3: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf4: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf5: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf6: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf7: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf8: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf9: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf10: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nf11: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert!(matches!(
        apply(None, alias_bomb, "kubectl", false),
        Err(PatchError::NotYaml { .. })
    ));
    assert!(matches!(
        apply(None, "[1, 2]", "kubectl", false),
        Err(PatchError::WrongShape { .. })
    ));
    let wrong_kind = apply(None, "apiVersion: v1\nkind: Pod\n", "kubectl", false).unwrap_err();
    assert_eq!(
        wrong_kind.to_string(),
        "invalid patch at \"apiVersion\": is \"v1\", expected \"apps/v1\""
    );
    let json_body = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 1}}"#;
    assert_eq!(
        apply(None, json_body, "kubectl", false).unwrap()["spec"]["replicas"],
        1
    );
    let huge = "a".repeat(MAX_APPLY_BYTES + 1);
    assert!(matches!(
        apply(None, &huge, "kubectl", false),
        Err(PatchError::TooLarge { .. })
    ));
}

#[test]
fn record_update_takes_changed_fields_and_drops_removed_ones() {
    let first = apply(
        None,
        &manifest(2, "nginx:1.24", "  labels:\n    app: web\n"),
        "kubectl",
        false,
    )
    .unwrap();
    let mut edited = first.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    edited["metadata"]["labels"] = json!({});
    let entries =
        record_update(deployment_kind(), &first, &edited, "kubectl-edit", &now()).unwrap();
    set_managed_fields(&mut edited, &entries).unwrap();
    // An empty map is a value of its own, owned by whoever set it.
    check_fields(
        &edited,
        "kubectl-edit",
        json!({
            "f:metadata": {"f:labels": {}},
            "f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"nginx\"}": {"f:image": {}}
            }}}}
        }),
    );
    // The applier keeps the container item and its name, loses the image
    // it no longer set, and the removed label leaves its set.
    check_fields(
        &edited,
        "kubectl",
        json!({
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:name": {}}
                }}}
            }
        }),
    );
    let entry = edited["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["manager"] == "kubectl-edit")
        .unwrap();
    assert_eq!(entry["operation"], "Update");
    // Applying the old image now conflicts on the keyed item's field.
    let error = apply(
        Some(&edited),
        &manifest(2, "nginx:1.24", ""),
        "kubectl",
        false,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1 at 2026-01-02T03:04:05Z: .spec.template.spec.containers[name=\"nginx\"].image"
    );
}

#[test]
fn applied_managed_fields_are_rejected() {
    let body = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  managedFields:\n  - manager: x\n";
    let error = apply(None, body, "kubectl", false).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid patch at \"metadata.managedFields\": must be empty in an applied configuration"
    );
}

/// The body `kubectl apply --server-side` (v1.32) sent, a JSON document
/// under the YAML content type, applied to an object nobody owns yet.
#[test]
fn captured_server_side_apply_body() {
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.24"}]}}}});
    let body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"},{"image":"envoy:1","name":"sidecar"}]}}}}
"#;
    let applied = apply(Some(&live), body, "kubectl", false).unwrap();
    let containers = &applied["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers[0],
        json!({"name": "nginx", "image": "nginx:1.25"})
    );
    assert_eq!(
        containers[1],
        json!({"name": "sidecar", "image": "envoy:1"})
    );
    assert_eq!(
        applied["metadata"]["managedFields"][0]["manager"],
        "kubectl"
    );
}

#[test]
fn applying_the_same_configuration_twice_changes_nothing() {
    let body = manifest(2, "nginx:1.24", "  labels:\n    app: web\n");
    let first = apply(None, &body, "kubectl", false).unwrap();
    let second = apply(Some(&first), &body, "kubectl", false).unwrap();
    assert_eq!(second, first);
    let unchanged =
        record_update(deployment_kind(), &first, &first, "kubectl-edit", &now()).unwrap();
    assert_eq!(
        serde_json::to_value(&unchanged).unwrap(),
        first["metadata"]["managedFields"]
    );
}
