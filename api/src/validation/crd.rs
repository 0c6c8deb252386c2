//! Validation of CustomResourceDefinitions as apiextensions-apiserver does
//! the essentials: the name is `<plural>.<group>`, the group a domain, the
//! names DNS labels, the scope known, the versions unique with exactly one
//! storage version, each with a structural schema (compiled by
//! [`crate::structural::Schema::compile`]), and the subresources and
//! printer columns well formed.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionNames, CustomResourceDefinitionVersion,
};

use super::{ValidateKind, validate_dns1035_label, validate_dns1123_subdomain};
use crate::structural::{Schema, SchemaType};
use crate::{FieldError, FieldErrors, FieldPath};

/// The column types `additionalPrinterColumns` may name.
const COLUMN_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
/// The column formats `additionalPrinterColumns` may name.
const COLUMN_FORMATS: &[&str] = &[
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
];

impl ValidateKind for CustomResourceDefinition {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let spec = &self.spec;
        let name = self.metadata.name.as_deref().unwrap_or("");
        let expected = format!("{}.{}", spec.names.plural, spec.group);
        if !name.is_empty() && name != expected {
            errors.push(FieldError::invalid(
                FieldPath::root("metadata").child("name"),
                name,
                "must be spec.names.plural+\".\"+spec.group",
            ));
        }
        let spec_path = FieldPath::root("spec");
        let group_path = spec_path.child("group");
        if spec.group.is_empty() {
            errors.push(FieldError::required(group_path, ""));
        } else {
            for problem in validate_dns1123_subdomain(&spec.group) {
                errors.push(FieldError::invalid(
                    group_path.clone(),
                    &spec.group,
                    problem,
                ));
            }
            if !spec.group.contains('.') {
                errors.push(FieldError::invalid(
                    group_path,
                    &spec.group,
                    "should be a domain with at least one dot",
                ));
            }
        }
        let scope_path = spec_path.child("scope");
        match spec.scope.as_str() {
            "Cluster" | "Namespaced" => {}
            "" => errors.push(FieldError::required(scope_path, "")),
            other => errors.push(FieldError::not_supported(
                scope_path,
                other,
                &["Cluster", "Namespaced"],
            )),
        }
        validate_names(&spec.names, &spec_path.child("names"), errors);
        validate_versions(&spec.versions, &spec_path.child("versions"), errors);
        // Conversion webhooks are not called, so only `None` (versions
        // differ in apiVersion alone) is accepted.
        if let Some(conversion) = &spec.conversion
            && conversion.strategy != "None"
        {
            errors.push(FieldError::not_supported(
                spec_path.child("conversion").child("strategy"),
                &conversion.strategy,
                &["None"],
            ));
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        if self.spec.scope != old.spec.scope {
            errors.push(FieldError::invalid(
                FieldPath::root("spec").child("scope"),
                &self.spec.scope,
                "field is immutable",
            ));
        }
    }
}

fn validate_names(
    names: &CustomResourceDefinitionNames,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let label = |value: &str, path: FieldPath, errors: &mut FieldErrors| {
        for problem in validate_dns1035_label(value) {
            errors.push(FieldError::invalid(path.clone(), value, problem));
        }
    };
    if names.plural.is_empty() {
        errors.push(FieldError::required(path.child("plural"), ""));
    } else {
        label(&names.plural, path.child("plural"), errors);
    }
    if let Some(singular) = names.singular.as_deref().filter(|s| !s.is_empty()) {
        label(singular, path.child("singular"), errors);
    }
    if names.kind.is_empty() {
        errors.push(FieldError::required(path.child("kind"), ""));
    } else {
        for problem in validate_dns1035_label(&names.kind.to_ascii_lowercase()) {
            errors.push(FieldError::invalid(
                path.child("kind"),
                &names.kind,
                problem,
            ));
        }
    }
    match names.list_kind.as_deref().unwrap_or("") {
        "" => errors.push(FieldError::required(path.child("listKind"), "")),
        list_kind => {
            if list_kind == names.kind {
                errors.push(FieldError::invalid(
                    path.child("listKind"),
                    list_kind,
                    "kind and listKind may not be the same or parsing become ambiguous",
                ));
            }
            for problem in validate_dns1035_label(&list_kind.to_ascii_lowercase()) {
                errors.push(FieldError::invalid(
                    path.child("listKind"),
                    list_kind,
                    problem,
                ));
            }
        }
    }
    for (index, short_name) in names.short_names.iter().flatten().enumerate() {
        label(short_name, path.child("shortNames").index(index), errors);
    }
    for (index, category) in names.categories.iter().flatten().enumerate() {
        label(category, path.child("categories").index(index), errors);
    }
}

fn validate_versions(
    versions: &[CustomResourceDefinitionVersion],
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    if versions.is_empty() {
        errors.push(FieldError::required(
            path.clone(),
            "must have exactly one version marked as storage version",
        ));
        return;
    }
    let storage = versions.iter().filter(|version| version.storage).count();
    if storage != 1 {
        errors.push(FieldError::invalid_raw(
            path.clone(),
            storage,
            "must have exactly one version marked as storage version",
        ));
    }
    for (index, version) in versions.iter().enumerate() {
        let version_path = path.index(index);
        if versions[..index]
            .iter()
            .any(|other| other.name == version.name)
        {
            errors.push(FieldError::duplicate(
                version_path.child("name"),
                &version.name,
            ));
        }
        if version.name.is_empty() {
            errors.push(FieldError::required(version_path.child("name"), ""));
        } else {
            for problem in validate_dns1035_label(&version.name) {
                errors.push(FieldError::invalid(
                    version_path.child("name"),
                    &version.name,
                    problem,
                ));
            }
        }
        validate_version(version, &version_path, errors);
    }
}

fn validate_version(
    version: &CustomResourceDefinitionVersion,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    let schema_path = path.child("schema").child("openAPIV3Schema");
    let schema = match version
        .schema
        .as_ref()
        .and_then(|schema| schema.open_api_v3_schema.as_ref())
    {
        None => {
            errors.push(FieldError::required(schema_path, "schemas are required"));
            None
        }
        Some(props) => match Schema::compile(props, &schema_path) {
            Ok(schema) => Some(schema),
            Err(problems) => {
                errors.extend(problems.0);
                None
            }
        },
    };
    if let Some(scale) = version.subresources.as_ref().and_then(|s| s.scale.as_ref()) {
        let scale_path = path.child("subresources").child("scale");
        let check = |value: &str, field: &str, prefixes: &[&str], errors: &mut FieldErrors| {
            let field_path = scale_path.child(field);
            if value.is_empty() {
                errors.push(FieldError::required(field_path, ""));
            } else if !prefixes.iter().any(|prefix| value.starts_with(prefix)) {
                let under = prefixes
                    .iter()
                    .map(|p| p.trim_end_matches('.'))
                    .collect::<Vec<_>>()
                    .join(" or ");
                errors.push(FieldError::invalid(
                    field_path,
                    value,
                    format!("should be a json path under {under}"),
                ));
            } else if let Some(schema) = &schema
                && field != "labelSelectorPath"
                && let Some(node) = schema.at_path(value)
                && node.type_.is_some_and(|type_| type_ != SchemaType::Integer)
            {
                errors.push(FieldError::invalid(
                    field_path,
                    value,
                    "should be a path to an integer field",
                ));
            }
        };
        check(
            &scale.spec_replicas_path,
            "specReplicasPath",
            &[".spec."],
            errors,
        );
        check(
            &scale.status_replicas_path,
            "statusReplicasPath",
            &[".status."],
            errors,
        );
        if let Some(selector) = scale.label_selector_path.as_deref() {
            check(
                selector,
                "labelSelectorPath",
                &[".spec.", ".status."],
                errors,
            );
        }
    }
    for (index, column) in version
        .additional_printer_columns
        .iter()
        .flatten()
        .enumerate()
    {
        let column_path = path.child("additionalPrinterColumns").index(index);
        if column.name.is_empty() {
            errors.push(FieldError::required(column_path.child("name"), ""));
        }
        if !COLUMN_TYPES.contains(&column.type_.as_str()) {
            errors.push(FieldError::not_supported(
                column_path.child("type"),
                &column.type_,
                COLUMN_TYPES,
            ));
        }
        if let Some(format) = column.format.as_deref().filter(|f| !f.is_empty())
            && !COLUMN_FORMATS.contains(&format)
        {
            errors.push(FieldError::not_supported(
                column_path.child("format"),
                format,
                COLUMN_FORMATS,
            ));
        }
        if column.json_path.is_empty() {
            errors.push(FieldError::required(column_path.child("jsonPath"), ""));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::ApiObject;

    fn crd(edit: impl FnOnce(&mut Value)) -> CustomResourceDefinition {
        let mut value = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object"}}}]}
        });
        edit(&mut value);
        let mut crd: CustomResourceDefinition = serde_json::from_value(value).unwrap();
        crd.apply_defaults();
        crd
    }

    /// A change to the valid definition.
    type Edit = dyn FnOnce(&mut Value);

    /// The errors of a definition, as printed.
    fn check(edit: impl FnOnce(&mut Value)) -> Vec<String> {
        match crd(edit).validate_create() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_well_formed_definition_is_valid_and_defaulted() {
        assert_eq!(check(|_| {}), Vec::<String>::new());
        let defaulted = crd(|_| {});
        assert_eq!(defaulted.spec.names.singular.as_deref(), Some("widget"));
        assert_eq!(
            defaulted.spec.names.list_kind.as_deref(),
            Some("WidgetList")
        );
        assert_eq!(
            defaulted
                .spec
                .conversion
                .map(|conversion| conversion.strategy),
            Some("None".to_string())
        );
    }

    #[test]
    fn each_essential_rule_names_its_field() {
        let cases: Vec<(Box<Edit>, &[&str])> = vec![
            (
                Box::new(|v| v["metadata"]["name"] = json!("gadgets.example.com")),
                &[
                    r#"metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group"#,
                ],
            ),
            (
                Box::new(|v| {
                    v["spec"]["group"] = json!("example");
                    v["metadata"]["name"] = json!("widgets.example");
                }),
                &[
                    r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
                ],
            ),
            (
                Box::new(|v| v["spec"]["conversion"] = json!({"strategy": "Webhook"})),
                &[
                    r#"spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None""#,
                ],
            ),
            (
                Box::new(|v| v["spec"]["scope"] = json!("Global")),
                &[
                    r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
                ],
            ),
            (
                Box::new(|v| v["spec"]["versions"][0]["storage"] = json!(false)),
                &[
                    "spec.versions: Invalid value: 0: must have exactly one version marked as storage version",
                ],
            ),
            (
                Box::new(|v| {
                    let version = v["spec"]["versions"][0].clone();
                    v["spec"]["versions"].as_array_mut().unwrap().push(version);
                }),
                &[
                    "spec.versions: Invalid value: 2: must have exactly one version marked as storage version",
                    r#"spec.versions[1].name: Duplicate value: "v1""#,
                ],
            ),
            (
                Box::new(|v| v["spec"]["versions"][0]["schema"] = json!({})),
                &["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"],
            ),
            (
                Box::new(
                    |v| v["spec"]["versions"][0]["subresources"] = json!({"scale": {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".status.replicas"}}),
                ),
                &[
                    r#"spec.versions[0].subresources.scale.specReplicasPath: Invalid value: "spec.replicas": should be a json path under .spec"#,
                ],
            ),
            (
                Box::new(|v| {
                    v["spec"]["versions"][0]["additionalPrinterColumns"] =
                        json!([{"name": "X", "type": "text", "jsonPath": ".spec.x"}])
                }),
                &[
                    r#"spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "text": supported values: "boolean", "date", "integer", "number", "string""#,
                ],
            ),
        ];
        for (edit, expected) in cases {
            assert_eq!(check(edit), expected);
        }
    }
}
