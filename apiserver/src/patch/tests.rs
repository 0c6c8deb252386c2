//! Table tests of the patch engine: each case is an original object, a
//! patch body and the expected result.

use serde_json::{Value, json};

use super::*;

fn kind(name: &str) -> &'static KindInfo {
    api::ALL_KINDS
        .iter()
        .find(|info| info.kind == name)
        .unwrap()
}

fn check(kind_name: &str, patch_type: PatchType, original: Value, patch: Value, expected: Value) {
    let patched = apply_patch(
        kind(kind_name),
        &original,
        patch_type,
        patch.to_string().as_bytes(),
    )
    .unwrap_or_else(|error| panic!("patch {patch} failed: {error}"));
    assert_eq!(patched, expected, "patch {patch}");
}

fn check_smp(kind_name: &str, original: Value, patch: Value, expected: Value) {
    check(
        kind_name,
        PatchType::StrategicMerge,
        original,
        patch,
        expected,
    );
}

fn check_error(kind_name: &str, patch_type: PatchType, body: &str, expected_message: &str) {
    let error = apply_patch(kind(kind_name), &json!({}), patch_type, body.as_bytes()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(expected_message),
        "{message:?} lacks {expected_message:?}"
    );
}

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn content_types_parse() {
    let cases = [
        ("application/json-patch+json", Some(PatchType::Json)),
        (
            "application/merge-patch+json; charset=utf-8",
            Some(PatchType::Merge),
        ),
        (
            "application/strategic-merge-patch+json",
            Some(PatchType::StrategicMerge),
        ),
        ("application/apply-patch+yaml", Some(PatchType::Apply)),
        ("application/apply-patch+json", None),
        ("application/apply-patch+cbor", None),
        ("application/json", None),
    ];
    for (content_type, expected) in cases {
        assert_eq!(
            PatchType::from_content_type(content_type).ok(),
            expected,
            "{content_type}"
        );
    }
    let error = PatchType::from_content_type("application/apply-patch+cbor").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unsupported apply content type \"application/apply-patch+cbor\": server-side apply accepts application/apply-patch+yaml (of which JSON is a subset)"
    );
    let error = PatchType::from_content_type("text/plain").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unsupported patch content type \"text/plain\""),
        "{error}"
    );
}

#[test]
fn json_patch_applies_and_names_the_failing_operation() {
    check(
        "ConfigMap",
        PatchType::Json,
        json!({"data": {"a": "1"}}),
        json!([{"op": "replace", "path": "/data/a", "value": "2"}, {"op": "add", "path": "/data/b", "value": "3"}]),
        json!({"data": {"a": "2", "b": "3"}}),
    );
    check_error(
        "ConfigMap",
        PatchType::Json,
        r#"[{"op": "remove", "path": "/data/missing"}]"#,
        "operation 0 at \"/data/missing\"",
    );
    check_error(
        "ConfigMap",
        PatchType::Json,
        r#"{"op": "add"}"#,
        "must be a JSON array",
    );
    check_error("ConfigMap", PatchType::Json, "[{", "not valid JSON");
    let error = apply_patch(kind("Pod"), &json!({}), PatchType::Json, b"{}").unwrap_err();
    assert_eq!(error.reason(), PatchErrorReason::BadRequest);
}

#[test]
fn json_patch_copies_are_bounded_in_all() {
    // Each copy doubles the document: 40 of them would copy 2^40 times
    // the first one's size.
    let doubling: Vec<Value> = (0..40)
        .map(|index| json!({"op": "copy", "from": "/data", "path": format!("/data/x{index}")}))
        .collect();
    let error = apply_patch(
        kind("ConfigMap"),
        &json!({"data": {"a": "0123456789"}}),
        PatchType::Json,
        Value::Array(doubling).to_string().as_bytes(),
    )
    .unwrap_err();
    assert!(
        matches!(error, PatchError::CopiesTooLarge { operation, .. } if operation < 40),
        "{error}"
    );
    assert_eq!(error.reason(), PatchErrorReason::Invalid);
    // Copies within the limit apply, in order, and a failure later names
    // its own operation.
    check(
        "ConfigMap",
        PatchType::Json,
        json!({"data": {"a": "1"}}),
        json!([{"op": "copy", "from": "/data/a", "path": "/data/b"},
               {"op": "copy", "from": "/data/b", "path": "/data/c"}]),
        json!({"data": {"a": "1", "b": "1", "c": "1"}}),
    );
    check_error(
        "ConfigMap",
        PatchType::Json,
        r#"[{"op": "add", "path": "/a", "value": 1}, {"op": "copy", "from": "/a", "path": "/b"},
            {"op": "remove", "path": "/gone"}]"#,
        "operation 2 at \"/gone\"",
    );
}

#[test]
fn json_patch_operations_are_bounded() {
    let test_root = json!({"op": "test", "path": "/data", "value": {}});
    let within = Value::Array(vec![test_root.clone(); MAX_JSON_PATCH_OPERATIONS]);
    check(
        "ConfigMap",
        PatchType::Json,
        json!({"data": {}}),
        within,
        json!({"data": {}}),
    );
    let over = Value::Array(vec![test_root; MAX_JSON_PATCH_OPERATIONS + 1]);
    check_error(
        "ConfigMap",
        PatchType::Json,
        &over.to_string(),
        "maximum operations in a JSON patch is 10000, got 10001",
    );
}

#[test]
fn merge_patch_replaces_lists_and_deletes_nulls() {
    check(
        "Pod",
        PatchType::Merge,
        json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
        json!({"metadata": {"labels": {"a": null}}, "spec": {"containers": [{"name": "c"}]}}),
        json!({"metadata": {"labels": {"b": "2"}}, "spec": {"containers": [{"name": "c"}]}}),
    );
    check_error("Pod", PatchType::Merge, "[1]", "must be a JSON object");
    check_error(
        "Pod",
        PatchType::StrategicMerge,
        "\"x\"",
        "must be a JSON object",
    );
    check_error("Pod", PatchType::Apply, "{}", "field manager");
}

#[test]
fn strategic_merge_containers_by_name() {
    let original = pod(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let cases = [
        (
            "replace one container's image",
            json!({"spec": {"containers": [{"name": "b", "image": "b:2"}]}}),
            json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]),
        ),
        (
            // Without `$setElementOrder`, Kubernetes puts an item the server
            // does not have before the server-only items.
            "add a container",
            json!({"spec": {"containers": [{"name": "c", "image": "c:1"}]}}),
            json!([{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]),
        ),
        (
            "add a container at the end with $setElementOrder",
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
                "containers": [{"name": "c", "image": "c:1"}]
            }}),
            json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}, {"name": "c", "image": "c:1"}]),
        ),
        (
            "delete a container with $patch: delete",
            json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}),
            json!([{"name": "b", "image": "b:1"}]),
        ),
        (
            "replace the list with $patch: replace",
            json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "z", "image": "z:1"}]}}),
            json!([{"name": "z", "image": "z:1"}]),
        ),
        (
            "patched items come in the patch's order",
            json!({"spec": {"containers": [{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:2"}]}}),
            json!([{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:2"}]),
        ),
        (
            "a server-only item stays before the patched item that followed it",
            json!({"spec": {"containers": [{"name": "c", "image": "c:1"}, {"name": "b", "image": "b:2"}]}}),
            json!([{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]),
        ),
        (
            "delete a field of a container with null",
            json!({"spec": {"containers": [{"name": "a", "image": null}]}}),
            json!([{"name": "a"}, {"name": "b", "image": "b:1"}]),
        ),
        (
            "reorder with $setElementOrder",
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
            json!([{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:1"}]),
        ),
        (
            "a new item placed by $setElementOrder",
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
                "containers": [{"name": "c", "image": "c:1"}]
            }}),
            json!([{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]),
        ),
        (
            "server-only items keep their place beside $setElementOrder items",
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "b"}],
                "containers": [{"name": "b", "image": "b:2"}]
            }}),
            json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]),
        ),
    ];
    for (name, patch, expected_containers) in cases {
        let patched = apply_patch(
            kind("Pod"),
            &original,
            PatchType::StrategicMerge,
            patch.to_string().as_bytes(),
        )
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(patched["spec"]["containers"], expected_containers, "{name}");
    }
}

#[test]
fn strategic_merge_one_env_var() {
    check_smp(
        "Pod",
        pod(
            json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]),
        ),
        json!({"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}}),
        pod(
            json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]}]),
        ),
    );
}

#[test]
fn strategic_merge_metadata() {
    let original =
        json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "finalizers": ["a"]}});
    let cases = [
        (
            "a label removed with null",
            json!({"metadata": {"labels": {"tier": null}}}),
            json!({"metadata": {"labels": {"app": "web"}, "finalizers": ["a"]}}),
        ),
        (
            "a finalizer added by union",
            json!({"metadata": {"finalizers": ["b"]}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "finalizers": ["b", "a"]}}),
        ),
        (
            "a finalizer already present is not repeated",
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "finalizers": ["a"]}}),
        ),
        (
            "a finalizer appended with $setElementOrder",
            json!({"metadata": {"$setElementOrder/finalizers": ["a", "b"], "finalizers": ["b"]}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "finalizers": ["a", "b"]}}),
        ),
        (
            "a finalizer removed with $deleteFromPrimitiveList",
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "finalizers": []}}),
        ),
        (
            "labels replaced with $patch: replace",
            json!({"metadata": {"labels": {"$patch": "replace", "new": "1"}}}),
            json!({"metadata": {"labels": {"new": "1"}, "finalizers": ["a"]}}),
        ),
        (
            "labels deleted with $patch: delete",
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!({"metadata": {"labels": {}, "finalizers": ["a"]}}),
        ),
    ];
    for (name, patch, expected) in cases {
        let patched = apply_patch(
            kind("Pod"),
            &original,
            PatchType::StrategicMerge,
            patch.to_string().as_bytes(),
        )
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(patched, expected, "{name}");
    }
}

#[test]
fn strategic_merge_tolerations_are_replaced() {
    check_smp(
        "Pod",
        json!({"spec": {"tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]}}),
        json!({"spec": {"tolerations": [{"key": "c", "operator": "Exists"}]}}),
        json!({"spec": {"tolerations": [{"key": "c", "operator": "Exists"}]}}),
    );
}

#[test]
fn strategic_merge_retain_keys() {
    check_smp(
        "Deployment",
        json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        json!({"spec": {"strategy": {"type": "Recreate"}}}),
    );
    check_smp(
        "Pod",
        json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}),
        json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}),
        json!({"spec": {"volumes": [{"name": "v", "configMap": {"name": "c"}}]}}),
    );
}

#[test]
fn strategic_merge_nested_template_containers() {
    let deployment = |containers: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}})
    };
    check_smp(
        "Deployment",
        deployment(
            json!([{"name": "web", "image": "nginx:1.24"}, {"name": "sidecar", "image": "envoy"}]),
        ),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy:2"}]}}}}),
        deployment(
            json!([{"name": "web", "image": "nginx:1.24"}, {"name": "sidecar", "image": "envoy:2"}]),
        ),
    );
    // The two-way patch `kubectl apply` sends after an image change.
    check_smp(
        "Deployment",
        deployment(
            json!([{"name": "nginx", "image": "nginx:1.24", "ports": [{"containerPort": 80}]}]),
        ),
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [{"image": "nginx:1.25", "name": "nginx"}]
        }}}}),
        deployment(
            json!([{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]),
        ),
    );
    check_smp(
        "CronJob",
        json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}}}}}}),
        json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}]}}}}}}),
        json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}, {"name": "b"}]}}}}}}),
    );
}

#[test]
fn strategic_merge_unknown_paths_replace_lists() {
    check_smp(
        "ConfigMap",
        json!({"spec": {"items": [{"name": "a"}]}}),
        json!({"spec": {"items": [{"name": "b"}]}}),
        json!({"spec": {"items": [{"name": "b"}]}}),
    );
}

#[test]
fn strategic_merge_errors_name_the_field() {
    let error = apply_patch(
        kind("Pod"),
        &pod(json!([{"name": "a"}])),
        PatchType::StrategicMerge,
        br#"{"spec": {"containers": [{"image": "x"}]}}"#,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid patch at \"spec.containers\": list item does not contain the merge key \"name\""
    );
    check_error(
        "Deployment",
        PatchType::StrategicMerge,
        r#"{"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}"#,
        "not listed in $retainKeys",
    );
    check_error(
        "Pod",
        PatchType::StrategicMerge,
        r#"{"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}"#,
        "cannot be given as a list item",
    );
    check_error(
        "Pod",
        PatchType::StrategicMerge,
        r#"{"metadata": {"$patch": "explode"}}"#,
        "unknown $patch directive",
    );
}

#[test]
fn conflict_messages_match_kubernetes() {
    let one = PatchError::Conflict {
        conflicts: vec![(
            "\"kubectl-client-side-apply\" using apps/v1".into(),
            ".spec.replicas".into(),
        )],
    };
    assert_eq!(
        one.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    let two = PatchError::Conflict {
        conflicts: vec![
            ("\"b\"".into(), ".spec.replicas".into()),
            ("\"a\"".into(), ".metadata.labels.x".into()),
        ],
    };
    assert_eq!(
        two.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .metadata.labels.x\nconflicts with \"b\":\n- .spec.replicas"
    );
}

/// A small deterministic generator of JSON documents for the oracle test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }

    fn value(&mut self, depth: u32, allow_null: bool) -> Value {
        let choices = if depth == 0 { 3 } else { 5 };
        let choice = self.next(choices + u64::from(allow_null));
        if choice == choices {
            return Value::Null;
        }
        match choice {
            0 => json!(self.next(3)),
            1 => json!(["a", "b", "c"][self.next(3) as usize]),
            2 => json!(self.next(2) == 0),
            3 => {
                let length = self.next(3);
                Value::Array((0..length).map(|_| self.value(depth - 1, false)).collect())
            }
            _ => self.object(depth - 1, allow_null),
        }
    }

    fn object(&mut self, depth: u32, allow_null: bool) -> Value {
        let mut map = serde_json::Map::new();
        for _ in 0..self.next(4) {
            let key = ["x", "y", "z", "w"][self.next(4) as usize];
            map.insert(key.to_string(), self.value(depth, allow_null));
        }
        Value::Object(map)
    }
}

/// Where the schema tags nothing and the patch has no directives, a
/// strategic merge patch is a JSON merge patch.
#[test]
fn strategic_merge_without_tags_matches_merge_patch() {
    let mut generator = XorShift(0x5eed_cafe);
    for case in 0..2000 {
        let original = json!({"data": generator.object(3, false)});
        let patch = json!({"data": generator.object(3, true)});
        let mut expected = original.clone();
        json_patch::merge(&mut expected, &patch);
        let actual = apply_patch(
            kind("ConfigMap"),
            &original,
            PatchType::StrategicMerge,
            patch.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            actual, expected,
            "case {case}: {original} patched with {patch}"
        );
    }
}

/// The body `kubectl apply` (v1.32) sent for an image change of one of two
/// containers, captured from a run against these OpenAPI documents.
#[test]
fn strategic_merge_of_a_captured_kubectl_apply_patch() {
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "old"}},
    "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "nginx", "image": "nginx:1.24", "imagePullPolicy": "IfNotPresent"},
        {"name": "sidecar", "image": "envoy:1"}
    ]}}}});
    let body = r#"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new\n"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}}"#;
    let patched = apply_patch(
        kind("Deployment"),
        &live,
        PatchType::StrategicMerge,
        body.as_bytes(),
    )
    .unwrap();
    let mut expected = live.clone();
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!("new\n");
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.25");
    assert_eq!(patched, expected);
}
