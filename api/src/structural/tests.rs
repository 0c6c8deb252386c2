//! Table tests of compiling, pruning, defaulting and validating custom
//! objects against structural schemas.

use serde_json::{Value, json};

use super::*;

fn compile(schema: Value) -> Result<Schema, Vec<String>> {
    let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
    Schema::compile(&props, &FieldPath::root("schema"))
        .map_err(|errors| errors.0.0.iter().map(ToString::to_string).collect())
}

fn widget_schema() -> Schema {
    compile(json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                    "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                    "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                    "tags": {"type": "array", "maxItems": 2, "minItems": 1, "items": {"type": "string"}},
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                        "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}},
                    "items": {"type": "array", "items": {"type": "object",
                        "properties": {"name": {"type": "string"}, "weight": {"type": "integer", "default": 1}}}}
                }
            },
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}
        }
    }))
    .unwrap()
}

/// Validates `spec` as a Widget's spec; returns the errors as printed.
fn check_spec(spec: Value) -> Vec<String> {
    let object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
    match widget_schema().validate(&object) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn valid_objects_pass() {
    assert_eq!(check_spec(json!({"size": 3})), Vec::<String>::new());
    assert_eq!(
        check_spec(
            json!({"size": 10, "color": "blue", "name": "ab", "tags": ["a"], "port": "http",
            "note": null, "extra": {"anything": [1, 2]}, "labels": {"a": "b"}, "ratio": 0.5,
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}})
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        check_spec(json!({"size": 3, "port": 8080})),
        Vec::<String>::new()
    );
    assert_eq!(check_spec(json!({"size": 3.0})), Vec::<String>::new());
}

#[test]
fn violations_are_reported_with_kubernetes_paths_and_words() {
    let cases: &[(Value, &[&str])] = &[
        (json!({}), &["spec.size: Required value"]),
        (
            json!({"size": "big"}),
            &[
                r#"spec.size: Invalid value: "string": spec.size in body must be of type integer: "string""#,
            ],
        ),
        (
            json!({"size": 11}),
            &["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"],
        ),
        (
            json!({"size": 0}),
            &[
                "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1",
            ],
        ),
        (
            json!({"size": 1, "color": "pink"}),
            &[r#"spec.color: Unsupported value: "pink": supported values: "red", "blue""#],
        ),
        (
            json!({"size": 1, "name": "a"}),
            &[
                r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#,
            ],
        ),
        (
            json!({"size": 1, "name": "abcdef"}),
            &["spec.name: Too long: may not be more than 5 bytes"],
        ),
        (
            json!({"size": 1, "name": "AB"}),
            &[r#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#],
        ),
        (
            json!({"size": 1, "tags": []}),
            &["spec.tags: Invalid value: []: spec.tags in body should have at least 1 items"],
        ),
        (
            json!({"size": 1, "tags": ["a", "b", "c"]}),
            &["spec.tags: Too many: 3: must have at most 2 items"],
        ),
        (
            json!({"size": 1, "tags": ["a", 2]}),
            &[
                r#"spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer""#,
            ],
        ),
        (
            json!({"size": 1, "port": true}),
            &[
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer-or-string: "boolean""#,
            ],
        ),
        (
            json!({"size": 1, "color": null}),
            &[
                r#"spec.color: Invalid value: "null": spec.color in body must be of type string: "null""#,
            ],
        ),
        (
            json!({"size": 1, "labels": {"a": 1}}),
            &[
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#,
            ],
        ),
        (
            json!({"size": 1, "ratio": 1}),
            &["spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1"],
        ),
        (
            json!({"size": 1, "template": {"metadata": {}}}),
            &[
                "spec.template.apiVersion: Required value: must not be empty",
                "spec.template.kind: Required value: must not be empty",
            ],
        ),
        (
            json!({"size": 1, "items": [{"name": 3}]}),
            &[
                r#"spec.items[0].name: Invalid value: "integer": spec.items[0].name in body must be of type string: "integer""#,
            ],
        ),
    ];
    for (spec, expected) in cases {
        assert_eq!(check_spec(spec.clone()), *expected, "spec {spec}");
    }
}

#[test]
fn pruning_drops_unspecified_fields_and_names_them() {
    let mut object = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"size": 1, "bogus": 1, "extra": {"kept": true}, "labels": {"any": "x"},
                 "items": [{"name": "a", "junk": 2}],
                 "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": "y", "z": 1}}},
        "status": {"replicas": 1, "phase": "x"},
        "top": 1
    });
    let pruned = widget_schema().prune(&mut object);
    assert_eq!(
        pruned,
        vec![
            "spec.bogus",
            "spec.items[0].junk",
            "spec.template.spec.z",
            "status.phase",
            "top"
        ]
    );
    assert_eq!(
        object,
        json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {"size": 1, "extra": {"kept": true}, "labels": {"any": "x"}, "items": [{"name": "a"}],
                     "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": "y"}}},
            "status": {"replicas": 1}
        })
    );
}

#[test]
fn defaults_fill_absent_fields_at_every_depth() {
    let mut object =
        json!({"spec": {"size": 1, "items": [{"name": "a"}, {"name": "b", "weight": 5}]}});
    widget_schema().apply_defaults(&mut object);
    assert_eq!(
        object,
        json!({"spec": {"size": 1, "color": "red", "items": [{"name": "a", "weight": 1}, {"name": "b", "weight": 5}]}})
    );
    // A given value is kept.
    let mut object = json!({"spec": {"size": 1, "color": "blue"}});
    widget_schema().apply_defaults(&mut object);
    assert_eq!(object["spec"]["color"], "blue");
}

#[test]
fn schemas_that_are_not_structural_are_rejected() {
    let cases: &[(Value, &[&str])] = &[
        (
            json!({"type": "object", "properties": {"spec": {"properties": {}}}}),
            &[
                "schema.properties[spec].type: Required value: must not be empty for specified object fields",
            ],
        ),
        (
            json!({"type": "string"}),
            &[r#"schema.type: Invalid value: "string": must be object at the root"#],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "array"}}}),
            &["schema.properties[a].items: Required value: must be specified"],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "strin"}}}),
            &[
                r#"schema.properties[a].type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string""#,
            ],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}),
            &[
                "schema.properties[a].pattern: Invalid value: \"(\": must be a valid regular expression, but isn't: regex parse error:\n    (\n    ^\nerror: unclosed group",
            ],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer", "default": "x"}}}),
            &[
                r#"schema.properties[a].default: Invalid value: "string": schema.properties[a].default in body must be of type integer: "string""#,
            ],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}, "default": {"c": 1}}}}),
            &[
                r#"schema.properties[a].default: Invalid value: "{\"c\":1}": must not have unknown fields"#,
            ],
        ),
    ];
    for (schema, expected) in cases {
        assert_eq!(
            compile(schema.clone()).err().unwrap_or_default(),
            *expected,
            "schema {schema}"
        );
    }
    assert!(
        compile(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})).is_ok()
    );
}

#[test]
fn dotted_paths_find_nodes() {
    let schema = widget_schema();
    assert_eq!(
        schema.at_path(".spec.size").and_then(|node| node.type_),
        Some(SchemaType::Integer)
    );
    assert_eq!(
        schema
            .at_path(".status.replicas")
            .and_then(|node| node.type_),
        Some(SchemaType::Integer)
    );
    assert!(schema.at_path(".spec.nothing").is_none());
}
