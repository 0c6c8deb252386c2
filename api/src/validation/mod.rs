//! Validation of objects as the Kubernetes apiserver performs it, reporting
//! every problem with its field path (`spec.containers[0].image: Required value`).
//! This module owns the generic entry points; one submodule per kind group
//! owns that group's rules, and `meta` owns names, labels and metadata.

mod meta;
mod other;

pub use meta::{
    NameRule, TOTAL_ANNOTATION_SIZE_LIMIT, validate_dns1035_label, validate_dns1123_label,
    validate_dns1123_subdomain, validate_label_value, validate_labels, validate_object_meta,
    validate_object_meta_update, validate_qualified_name,
};

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
