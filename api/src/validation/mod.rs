//! Validation of objects as the Kubernetes apiserver performs it, reporting
//! every problem with its field path (`spec.containers[0].image: Required value`).
//! This module owns the generic entry points; one submodule per kind group
//! owns that group's rules, and `meta` owns names, labels and metadata.

mod apps;
mod crd;
mod meta;
mod other;
mod pod;
mod services;

pub use meta::{
    NameRule, TOTAL_ANNOTATION_SIZE_LIMIT, validate_dns1035_label, validate_dns1123_label,
    validate_dns1123_subdomain, validate_label_value, validate_labels, validate_object_meta,
    validate_object_meta_update, validate_qualified_name,
};
pub use pod::{validate_ephemeral_containers_update, validate_pod_spec, validate_pod_template};
pub use services::{HIGHEST_USER_DEFINABLE_PRIORITY, NODE_PORT_RANGE};

use crate::{ApiObject, FieldErrors, FieldPath};

/// The per-kind part of validation. Metadata is validated generically from
/// [`ApiObject::INFO`] and [`ValidateKind::NAME_RULE`].
pub(crate) trait ValidateKind: ApiObject {
    /// How `metadata.name` is checked for this kind.
    const NAME_RULE: NameRule = NameRule::Subdomain;

    /// Checks of a new object beyond its metadata.
    fn validate_kind(&self, _errors: &mut FieldErrors) {}

    /// Checks of an update beyond its metadata; by default the new object must
    /// be valid on its own.
    fn validate_kind_update(&self, _old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
    }
}

/// Validates a new object: metadata, then the kind's own rules.
pub(crate) fn validate_create<T: ValidateKind>(object: &T) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    validate_object_meta(
        k8s_openapi::Metadata::metadata(object),
        T::INFO.namespaced,
        T::NAME_RULE,
        &FieldPath::root("metadata"),
        &mut errors,
    );
    object.validate_kind(&mut errors);
    errors.into_result()
}

/// Validates an update: metadata (with its immutable fields), then the
/// kind's own update rules.
pub(crate) fn validate_update<T: ValidateKind>(object: &T, old: &T) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    let path = FieldPath::root("metadata");
    validate_object_meta(
        k8s_openapi::Metadata::metadata(object),
        T::INFO.namespaced,
        T::NAME_RULE,
        &path,
        &mut errors,
    );
    validate_object_meta_update(
        k8s_openapi::Metadata::metadata(object),
        k8s_openapi::Metadata::metadata(old),
        &path,
        &mut errors,
    );
    object.validate_kind_update(old, &mut errors);
    errors.into_result()
}

/// Reports a negative integer field with Kubernetes' wording.
pub(crate) fn non_negative(value: Option<i64>, path: &FieldPath, errors: &mut FieldErrors) {
    if let Some(value) = value.filter(|v| *v < 0) {
        errors.push(crate::FieldError::invalid_raw(
            path.clone(),
            value,
            "must be greater than or equal to 0",
        ));
    }
}

/// Reports a port number outside 1–65535.
pub(crate) fn port_number(value: i32, path: &FieldPath, errors: &mut FieldErrors) {
    if !(1..=65535).contains(&value) {
        errors.push(crate::FieldError::invalid_raw(
            path.clone(),
            value,
            "must be between 1 and 65535, inclusive",
        ));
    }
}

/// Reports a value outside an enum; `None` is allowed only when `required` is false.
pub(crate) fn one_of(
    value: Option<&str>,
    supported: &[&str],
    required: bool,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    match value {
        None | Some("") if required => errors.push(crate::FieldError::required(path.clone(), "")),
        None | Some("") => {}
        Some(value) if supported.contains(&value) => {}
        Some(value) => errors.push(crate::FieldError::not_supported(
            path.clone(),
            value,
            supported,
        )),
    }
}

/// Formats labels the way Go prints a `map[string]string` in field errors.
pub(crate) fn go_map(labels: &std::collections::BTreeMap<String, String>) -> String {
    let entries: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", entries.join(", "))
}
