//! Structural schemas: the `openAPIV3Schema` of a CustomResourceDefinition
//! version compiled once ([`Schema::compile`]) into what validating,
//! pruning and defaulting a custom object need, with its patterns compiled.
//!
//! The three passes work on the object as JSON, as kube-apiserver's
//! `apiextensions-apiserver` does for custom resources: [`Schema::prune`]
//! drops the fields the schema does not specify (and reports them, for
//! `fieldValidation`), [`Schema::apply_defaults`] fills in `default:`
//! values, and [`Schema::validate`] checks types, `required`, `enum`,
//! bounds, lengths, item counts, `pattern` and `nullable`, reporting each
//! problem with its field path in Kubernetes' words.
//!
//! `x-kubernetes-preserve-unknown-fields` keeps unspecified fields,
//! `x-kubernetes-int-or-string` accepts an integer or a string, and
//! `x-kubernetes-embedded-resource` keeps (and requires) `apiVersion`,
//! `kind` and `metadata` of the embedded object. `allOf`, `anyOf`,
//! `oneOf`, `not` and CEL rules (`x-kubernetes-validations`) are not
//! evaluated.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::{Map, Value};

use crate::{FieldError, FieldErrors, FieldPath};

/// The JSON type a schema node requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl SchemaType {
    fn parse(name: &str) -> Option<SchemaType> {
        Some(match name {
            "object" => SchemaType::Object,
            "array" => SchemaType::Array,
            "string" => SchemaType::String,
            "integer" => SchemaType::Integer,
            "number" => SchemaType::Number,
            "boolean" => SchemaType::Boolean,
            _ => return None,
        })
    }

    /// The name as a schema writes it.
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Object => "object",
            SchemaType::Array => "array",
            SchemaType::String => "string",
            SchemaType::Integer => "integer",
            SchemaType::Number => "number",
            SchemaType::Boolean => "boolean",
        }
    }

    fn admits(self, value: &Value) -> bool {
        match self {
            SchemaType::Object => value.is_object(),
            SchemaType::Array => value.is_array(),
            SchemaType::String => value.is_string(),
            SchemaType::Integer => is_integer(value),
            SchemaType::Number => value.is_number(),
            SchemaType::Boolean => value.is_boolean(),
        }
    }
}

/// What a map's values must be (`additionalProperties`).
#[derive(Clone, Debug)]
pub enum AdditionalProperties {
    /// Not given: only `properties` are specified.
    None,
    /// `true`: any value.
    Any,
    /// A schema for every value.
    Schema(Box<Schema>),
}

/// One compiled node of a structural schema.
#[derive(Clone, Debug)]
pub struct Schema {
    pub type_: Option<SchemaType>,
    pub properties: BTreeMap<String, Schema>,
    pub additional_properties: AdditionalProperties,
    pub items: Option<Box<Schema>>,
    pub required: Vec<String>,
    pub enum_values: Vec<Value>,
    pub minimum: Option<f64>,
    pub exclusive_minimum: bool,
    pub maximum: Option<f64>,
    pub exclusive_maximum: bool,
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub min_items: Option<i64>,
    pub max_items: Option<i64>,
    pub min_properties: Option<i64>,
    pub max_properties: Option<i64>,
    pub pattern: Option<regex::Regex>,
    pub nullable: bool,
    pub default: Option<Value>,
    pub preserve_unknown_fields: bool,
    pub int_or_string: bool,
    pub embedded_resource: bool,
}

/// What is wrong with a schema that is not structural, or does not compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaErrors(pub FieldErrors);

impl Schema {
    /// Compiles (and checks) the root `openAPIV3Schema` of a version; `path`
    /// is where it sits in the CustomResourceDefinition, for the errors.
    pub fn compile(props: &JSONSchemaProps, path: &FieldPath) -> Result<Schema, SchemaErrors> {
        let mut errors = FieldErrors::default();
        let schema = compile_node(props, path, true, &mut errors);
        if props.type_.as_deref() != Some("object") {
            errors.push(FieldError::invalid(
                path.child("type"),
                props.type_.as_deref().unwrap_or(""),
                "must be object at the root",
            ));
        }
        errors.into_result().map_err(SchemaErrors)?;
        Ok(schema)
    }

    /// The node of a property, if specified.
    pub fn property(&self, name: &str) -> Option<&Schema> {
        self.properties
            .get(name)
            .or(match &self.additional_properties {
                AdditionalProperties::Schema(schema) => Some(schema),
                _ => None,
            })
    }

    /// The node a dotted path (`.spec.replicas`) leads to.
    pub fn at_path(&self, dotted: &str) -> Option<&Schema> {
        let mut node = self;
        for part in dotted.split('.').filter(|part| !part.is_empty()) {
            node = node.property(part)?;
        }
        Some(node)
    }

    /// Drops the fields the schema does not specify from a whole custom
    /// object (`apiVersion`, `kind` and `metadata` stay at the root);
    /// returns their paths, as `fieldValidation` reports them.
    pub fn prune(&self, object: &mut Value) -> Vec<String> {
        let mut pruned = Vec::new();
        self.prune_node(object, "", true, &mut pruned);
        pruned.sort();
        pruned
    }

    /// Fills in `default:` values where a field is absent (or null and not
    /// nullable), after pruning.
    pub fn apply_defaults(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, property) in &self.properties {
                    if let Some(default) = &property.default {
                        let absent = match map.get(name) {
                            None => true,
                            Some(Value::Null) => !property.nullable,
                            Some(_) => false,
                        };
                        if absent {
                            map.insert(name.clone(), default.clone());
                        }
                    }
                }
                for (name, field) in map.iter_mut() {
                    if let Some(property) = self.property(name) {
                        property.apply_defaults(field);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for item in items {
                        schema.apply_defaults(item);
                    }
                }
            }
            _ => {}
        }
    }

    /// Validates a whole custom object (below its root `metadata`, which
    /// the caller validates as ObjectMeta).
    pub fn validate(&self, object: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        self.validate_node(object, &FieldPath::default(), true, &mut errors);
        errors.into_result()
    }

    fn prune_node(&self, value: &mut Value, path: &str, root: bool, pruned: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let keep_meta = root || self.embedded_resource;
                let unknown: Vec<String> = map
                    .keys()
                    .filter(|key| {
                        !(self.properties.contains_key(*key)
                            || !matches!(self.additional_properties, AdditionalProperties::None)
                            || self.preserve_unknown_fields
                            || (keep_meta
                                && matches!(key.as_str(), "apiVersion" | "kind" | "metadata")))
                    })
                    .cloned()
                    .collect();
                for key in unknown {
                    map.remove(&key);
                    pruned.push(join(path, &key));
                }
                for (key, field) in map.iter_mut() {
                    if keep_meta && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                        continue;
                    }
                    if let Some(property) = self.property(key) {
                        property.prune_node(field, &join(path, key), false, pruned);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for (index, item) in items.iter_mut().enumerate() {
                        schema.prune_node(item, &format!("{path}[{index}]"), false, pruned);
                    }
                }
            }
            _ => {}
        }
    }

    fn validate_node(&self, value: &Value, path: &FieldPath, root: bool, errors: &mut FieldErrors) {
        if value.is_null() {
            if !self.nullable && (self.type_.is_some() || self.int_or_string) {
                let expected = self.type_.map_or("string", SchemaType::name);
                errors.push(type_error(path, value, expected));
            }
            return;
        }
        if self.int_or_string {
            if !(is_integer(value) || value.is_string()) {
                errors.push(type_error(path, value, "integer-or-string"));
                return;
            }
        } else if let Some(type_) = self.type_
            && !type_.admits(value)
        {
            errors.push(type_error(path, value, type_.name()));
            return;
        }
        if !self.enum_values.is_empty() && !self.enum_values.contains(value) {
            let supported: Vec<String> = self.enum_values.iter().map(Value::to_string).collect();
            errors.push(FieldError {
                kind: crate::field::FieldErrorType::NotSupported,
                path: path.clone(),
                value: Some(value.to_string()),
                detail: format!("supported values: {}", supported.join(", ")),
            });
        }
        match value {
            Value::Number(number) => self.validate_number(number, path, errors),
            Value::String(text) => self.validate_string(text, path, errors),
            Value::Array(items) => {
                let count = i64::try_from(items.len()).unwrap_or(i64::MAX);
                if let Some(min) = self.min_items.filter(|min| count < *min) {
                    errors.push(invalid_in_body(
                        path,
                        value,
                        format!("should have at least {min} items"),
                    ));
                }
                if let Some(max) = self.max_items.filter(|max| count > *max) {
                    errors.push(FieldError {
                        kind: crate::field::FieldErrorType::TooMany,
                        path: path.clone(),
                        value: Some(count.to_string()),
                        detail: format!("must have at most {max} items"),
                    });
                }
                if let Some(schema) = &self.items {
                    for (index, item) in items.iter().enumerate() {
                        schema.validate_node(item, &path.index(index), false, errors);
                    }
                }
            }
            Value::Object(map) => self.validate_object(map, path, root, errors),
            _ => {}
        }
    }

    fn validate_object(
        &self,
        map: &Map<String, Value>,
        path: &FieldPath,
        root: bool,
        errors: &mut FieldErrors,
    ) {
        for name in &self.required {
            if !map.contains_key(name) {
                errors.push(FieldError::required(child(path, name), ""));
            }
        }
        let count = i64::try_from(map.len()).unwrap_or(i64::MAX);
        if let Some(min) = self.min_properties.filter(|min| count < *min) {
            errors.push(invalid_in_body(
                path,
                &Value::from(count),
                format!("should have at least {min} properties"),
            ));
        }
        if let Some(max) = self.max_properties.filter(|max| count > *max) {
            errors.push(FieldError {
                kind: crate::field::FieldErrorType::TooMany,
                path: path.clone(),
                value: Some(count.to_string()),
                detail: format!("must have at most {max} items"),
            });
        }
        if self.embedded_resource {
            for name in ["apiVersion", "kind"] {
                if map
                    .get(name)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    errors.push(FieldError::required(child(path, name), "must not be empty"));
                }
            }
        }
        for (name, field) in map {
            if (root || self.embedded_resource) && name == "metadata" {
                continue;
            }
            if let Some(property) = self.property(name) {
                property.validate_node(field, &child(path, name), false, errors);
            }
        }
    }

    fn validate_number(
        &self,
        number: &serde_json::Number,
        path: &FieldPath,
        errors: &mut FieldErrors,
    ) {
        let Some(actual) = number.as_f64() else {
            return;
        };
        let value = Value::Number(number.clone());
        if let Some(min) = self.minimum {
            if self.exclusive_minimum && actual <= min {
                errors.push(invalid_in_body(
                    path,
                    &value,
                    format!("should be greater than {}", show(min)),
                ));
            } else if actual < min {
                errors.push(invalid_in_body(
                    path,
                    &value,
                    format!("should be greater than or equal to {}", show(min)),
                ));
            }
        }
        if let Some(max) = self.maximum {
            if self.exclusive_maximum && actual >= max {
                errors.push(invalid_in_body(
                    path,
                    &value,
                    format!("should be less than {}", show(max)),
                ));
            } else if actual > max {
                errors.push(invalid_in_body(
                    path,
                    &value,
                    format!("should be less than or equal to {}", show(max)),
                ));
            }
        }
    }

    fn validate_string(&self, text: &str, path: &FieldPath, errors: &mut FieldErrors) {
        let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
        let value = Value::String(text.to_string());
        if let Some(min) = self.min_length.filter(|min| length < *min) {
            errors.push(invalid_in_body(
                path,
                &value,
                format!("should be at least {min} chars long"),
            ));
        }
        if let Some(max) = self.max_length.filter(|max| length > *max) {
            errors.push(FieldError {
                kind: crate::field::FieldErrorType::TooLong,
                path: path.clone(),
                value: None,
                detail: format!("may not be more than {max} bytes"),
            });
        }
        if let Some(pattern) = &self.pattern
            && !self.int_or_string
            && !pattern.is_match(text)
        {
            errors.push(invalid_in_body(
                path,
                &value,
                format!("should match '{}'", pattern.as_str()),
            ));
        }
    }
}

/// Compiles one node, checking the structural rules Kubernetes checks.
fn compile_node(
    props: &JSONSchemaProps,
    path: &FieldPath,
    root: bool,
    errors: &mut FieldErrors,
) -> Schema {
    let preserve_unknown_fields = props.x_kubernetes_preserve_unknown_fields == Some(true);
    let int_or_string = props.x_kubernetes_int_or_string == Some(true);
    let embedded_resource = props.x_kubernetes_embedded_resource == Some(true);
    if props.x_kubernetes_preserve_unknown_fields == Some(false) {
        errors.push(FieldError::invalid_raw(
            path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    let type_ = match props.type_.as_deref() {
        None | Some("") => {
            if !(preserve_unknown_fields || int_or_string) {
                errors.push(FieldError::required(
                    path.child("type"),
                    if root {
                        "must not be empty at the root"
                    } else {
                        "must not be empty for specified object fields"
                    },
                ));
            }
            None
        }
        Some(name) => match SchemaType::parse(name) {
            Some(type_) => Some(type_),
            None => {
                errors.push(FieldError::not_supported(
                    path.child("type"),
                    name,
                    &["array", "boolean", "integer", "number", "object", "string"],
                ));
                None
            }
        },
    };
    if int_or_string && type_.is_some() {
        errors.push(FieldError::forbidden(
            path.child("type"),
            "must be empty if x-kubernetes-int-or-string is true",
        ));
    }
    if embedded_resource && type_ != Some(SchemaType::Object) {
        errors.push(FieldError::required(
            path.child("type"),
            "must be object if x-kubernetes-embedded-resource is true",
        ));
    }
    if props.ref_path.is_some() {
        errors.push(FieldError::forbidden(
            path.child("$ref"),
            "$ref is not supported",
        ));
    }
    let mut properties = BTreeMap::new();
    for (name, property) in props.properties.iter().flatten() {
        let property_path = path.child("properties").key(name);
        properties.insert(
            name.clone(),
            compile_node(property, &property_path, false, errors),
        );
    }
    let additional_properties = match &props.additional_properties {
        None => AdditionalProperties::None,
        Some(JSONSchemaPropsOrBool::Bool(true)) => AdditionalProperties::Any,
        Some(JSONSchemaPropsOrBool::Bool(false)) => AdditionalProperties::None,
        Some(JSONSchemaPropsOrBool::Schema(schema)) => {
            if !properties.is_empty() {
                errors.push(FieldError::forbidden(
                    path.child("additionalProperties"),
                    "additionalProperties and properties are mutual exclusive",
                ));
            }
            AdditionalProperties::Schema(Box::new(compile_node(
                schema,
                &path.child("additionalProperties"),
                false,
                errors,
            )))
        }
    };
    let items = match &props.items {
        None => {
            if type_ == Some(SchemaType::Array) {
                errors.push(FieldError::required(
                    path.child("items"),
                    "must be specified",
                ));
            }
            None
        }
        Some(JSONSchemaPropsOrArray::Schema(schema)) => Some(Box::new(compile_node(
            schema,
            &path.child("items"),
            false,
            errors,
        ))),
        Some(JSONSchemaPropsOrArray::Schemas(_)) => {
            errors.push(FieldError::forbidden(
                path.child("items"),
                "items must be a schema object and not an array",
            ));
            None
        }
    };
    let pattern = props
        .pattern
        .as_deref()
        .and_then(|pattern| match regex::Regex::new(pattern) {
            Ok(compiled) => Some(compiled),
            Err(error) => {
                errors.push(FieldError::invalid(
                    path.child("pattern"),
                    pattern,
                    format!("must be a valid regular expression, but isn't: {error}"),
                ));
                None
            }
        });
    let schema = Schema {
        type_,
        properties,
        additional_properties,
        items,
        required: props.required.clone().unwrap_or_default(),
        enum_values: props
            .enum_
            .iter()
            .flatten()
            .map(|value| value.0.clone())
            .collect(),
        minimum: props.minimum,
        exclusive_minimum: props.exclusive_minimum == Some(true),
        maximum: props.maximum,
        exclusive_maximum: props.exclusive_maximum == Some(true),
        min_length: props.min_length,
        max_length: props.max_length,
        min_items: props.min_items,
        max_items: props.max_items,
        min_properties: props.min_properties,
        max_properties: props.max_properties,
        pattern,
        nullable: props.nullable == Some(true),
        default: props.default.as_ref().map(|default| default.0.clone()),
        preserve_unknown_fields,
        int_or_string,
        embedded_resource,
    };
    if let Some(default) = &schema.default {
        if root {
            errors.push(FieldError::forbidden(
                path.child("default"),
                "must not be set at the root",
            ));
        } else {
            let mut pruned_default = default.clone();
            if !schema.prune(&mut pruned_default).is_empty() || pruned_default != *default {
                errors.push(FieldError::invalid(
                    path.child("default"),
                    &default.to_string(),
                    "must not have unknown fields",
                ));
            }
            let mut default_errors = FieldErrors::default();
            schema.validate_node(default, &path.child("default"), false, &mut default_errors);
            errors.extend(default_errors);
        }
    }
    schema
}

/// Whether a JSON number is an integer (`3`, or `3.0` as Go decodes it).
fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(number) => {
            number.is_i64()
                || number.is_u64()
                || number.as_f64().is_some_and(|float| float.fract() == 0.0)
        }
        _ => false,
    }
}

/// The type Kubernetes names for a JSON value in a type error.
fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_integer(value) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `spec.replicas: Invalid value: "string": spec.replicas in body must be
/// of type integer: "string"`.
fn type_error(path: &FieldPath, value: &Value, expected: &str) -> FieldError {
    let actual = json_type_name(value);
    FieldError {
        kind: crate::field::FieldErrorType::Invalid,
        path: path.clone(),
        value: Some(format!("{actual:?}")),
        detail: format!(
            "{} in body must be of type {expected}: {actual:?}",
            body_path(path)
        ),
    }
}

/// `spec.replicas: Invalid value: 11: spec.replicas in body should be …`.
fn invalid_in_body(path: &FieldPath, value: &Value, detail: String) -> FieldError {
    FieldError {
        kind: crate::field::FieldErrorType::Invalid,
        path: path.clone(),
        value: Some(value.to_string()),
        detail: format!("{} in body {detail}", body_path(path)),
    }
}

fn body_path(path: &FieldPath) -> &str {
    if path.as_str().is_empty() {
        "body"
    } else {
        path.as_str()
    }
}

fn child(path: &FieldPath, name: &str) -> FieldPath {
    path.child(name)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A bound as Go's `%v` prints a float64: `10`, `0.5`.
fn show(bound: f64) -> String {
    if bound.fract() == 0.0 && bound.abs() < 1e15 {
        format!("{bound:.0}")
    } else {
        bound.to_string()
    }
}

#[cfg(test)]
mod tests;
