//! Validation of the kinds that need little beyond their metadata: the
//! obvious required fields of RBAC, storage, networking, quota and config kinds.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    Binding, ConfigMap, Endpoints, LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim,
    ResourceQuota, Secret, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::pod::validate_resource_list;
use super::{NameRule, ValidateKind, one_of};
use crate::{FieldError, FieldErrors, FieldPath};

impl ValidateKind for Namespace {
    const NAME_RULE: NameRule = NameRule::Dns1123Label;
}

impl ValidateKind for Endpoints {}
impl ValidateKind for ServiceAccount {}

impl ValidateKind for EndpointSlice {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        one_of(
            Some(&self.address_type),
            &["IPv4", "IPv6", "FQDN"],
            true,
            &FieldPath::root("addressType"),
            errors,
        );
    }
}

impl ValidateKind for HorizontalPodAutoscaler {
    const NAME_RULE: NameRule = NameRule::PathSegment;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else {
            return errors.push(FieldError::required(path, ""));
        };
        let target = path.child("scaleTargetRef");
        if spec.scale_target_ref.kind.is_empty() {
            errors.push(FieldError::required(target.child("kind"), ""));
        }
        if spec.scale_target_ref.name.is_empty() {
            errors.push(FieldError::required(target.child("name"), ""));
        }
        let min = spec.min_replicas.unwrap_or(1);
        if min < 1 {
            errors.push(FieldError::invalid_raw(
                path.child("minReplicas"),
                min,
                "must be greater than or equal to 1",
            ));
        }
        if spec.max_replicas < 1 {
            errors.push(FieldError::invalid_raw(
                path.child("maxReplicas"),
                spec.max_replicas,
                "must be greater than 0",
            ));
        } else if spec.max_replicas < min {
            errors.push(FieldError::invalid_raw(
                path.child("maxReplicas"),
                spec.max_replicas,
                "must be greater than or equal to `minReplicas`",
            ));
        }
    }
}

impl ValidateKind for Binding {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        if self.target.name.as_deref().unwrap_or("").is_empty() {
            errors.push(FieldError::required(
                FieldPath::root("target").child("name"),
                "",
            ));
        }
        let kind = self.target.kind.as_deref().unwrap_or("Node");
        if kind != "Node" && !kind.is_empty() {
            errors.push(FieldError::not_supported(
                FieldPath::root("target").child("kind"),
                kind,
                &["Node", "<empty>"],
            ));
        }
    }
}

impl ValidateKind for Ingress {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else { return };
        let rules = spec.rules.as_deref().unwrap_or(&[]);
        if spec.default_backend.is_none() && rules.is_empty() {
            errors.push(FieldError::invalid(
                path.child("rules"),
                "[]",
                "either `defaultBackend` or `rules` must be specified",
            ));
        }
        for (i, rule) in rules.iter().enumerate() {
            let paths = rule
                .http
                .as_ref()
                .map(|h| h.paths.as_slice())
                .unwrap_or(&[]);
            for (j, http_path) in paths.iter().enumerate() {
                let item = path
                    .child("rules")
                    .index(i)
                    .child("http")
                    .child("paths")
                    .index(j);
                one_of(
                    Some(http_path.path_type.as_str()),
                    &["Exact", "ImplementationSpecific", "Prefix"],
                    true,
                    &item.child("pathType"),
                    errors,
                );
            }
        }
    }
}

impl ValidateKind for IngressClass {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let controller = self
            .spec
            .as_ref()
            .and_then(|s| s.controller.as_deref())
            .unwrap_or("");
        if controller.is_empty() {
            errors.push(FieldError::required(
                FieldPath::root("spec").child("controller"),
                "",
            ));
        }
    }
}

/// Checks the keys of a ConfigMap's or Secret's data: `[-._a-zA-Z0-9]+`.
fn validate_config_keys<'a>(
    keys: impl Iterator<Item = &'a String>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    for key in keys {
        let valid = !key.is_empty()
            && key.len() <= 253
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && key != "."
            && key != ".."
            && !key.starts_with("..");
        if !valid {
            errors.push(FieldError::invalid(
                path.clone(),
                key,
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ));
        }
    }
}

impl ValidateKind for ConfigMap {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_config_keys(
            self.data.iter().flatten().map(|(k, _)| k),
            &FieldPath::root("data"),
            errors,
        );
        validate_config_keys(
            self.binary_data.iter().flatten().map(|(k, _)| k),
            &FieldPath::root("binaryData"),
            errors,
        );
    }
}

impl ValidateKind for Secret {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_config_keys(
            self.data.iter().flatten().map(|(k, _)| k),
            &FieldPath::root("data"),
            errors,
        );
        validate_config_keys(
            self.string_data.iter().flatten().map(|(k, _)| k),
            &FieldPath::root("stringData"),
            errors,
        );
    }
}

fn validate_rules(rules: Option<&Vec<PolicyRule>>, errors: &mut FieldErrors) {
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        if rule.verbs.is_empty() {
            errors.push(FieldError::required(
                FieldPath::root("rules").index(i).child("verbs"),
                "verbs must contain at least one value",
            ));
        }
    }
}

fn validate_role_ref(role_ref: &RoleRef, cluster_only: bool, errors: &mut FieldErrors) {
    let path = FieldPath::root("roleRef");
    let kinds: &[&str] = if cluster_only {
        &["ClusterRole"]
    } else {
        &["Role", "ClusterRole"]
    };
    one_of(
        Some(&role_ref.kind),
        kinds,
        true,
        &path.child("kind"),
        errors,
    );
    one_of(
        Some(&role_ref.api_group),
        &["rbac.authorization.k8s.io"],
        true,
        &path.child("apiGroup"),
        errors,
    );
    if role_ref.name.is_empty() {
        errors.push(FieldError::required(path.child("name"), ""));
    }
}

fn validate_subjects(subjects: Option<&Vec<Subject>>, errors: &mut FieldErrors) {
    for (i, subject) in subjects.into_iter().flatten().enumerate() {
        let path = FieldPath::root("subjects").index(i);
        one_of(
            Some(&subject.kind),
            &["ServiceAccount", "User", "Group"],
            true,
            &path.child("kind"),
            errors,
        );
        if subject.name.is_empty() {
            errors.push(FieldError::required(path.child("name"), ""));
        }
    }
}

fn role_ref_immutable(new: &RoleRef, old: &RoleRef, errors: &mut FieldErrors) {
    if new != old {
        errors.push(FieldError::invalid(
            FieldPath::root("roleRef"),
            &new.name,
            "cannot change roleRef",
        ));
    }
}

impl ValidateKind for Role {
    const NAME_RULE: NameRule = NameRule::PathSegment;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_rules(self.rules.as_ref(), errors);
    }
}

impl ValidateKind for ClusterRole {
    const NAME_RULE: NameRule = NameRule::PathSegment;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_rules(self.rules.as_ref(), errors);
    }
}

impl ValidateKind for RoleBinding {
    const NAME_RULE: NameRule = NameRule::PathSegment;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_role_ref(&self.role_ref, false, errors);
        validate_subjects(self.subjects.as_ref(), errors);
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        role_ref_immutable(&self.role_ref, &old.role_ref, errors);
    }
}

impl ValidateKind for ClusterRoleBinding {
    const NAME_RULE: NameRule = NameRule::PathSegment;

    fn validate_kind(&self, errors: &mut FieldErrors) {
        validate_role_ref(&self.role_ref, true, errors);
        validate_subjects(self.subjects.as_ref(), errors);
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        role_ref_immutable(&self.role_ref, &old.role_ref, errors);
    }
}

impl ValidateKind for ResourceQuota {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let hard = self.spec.as_ref().and_then(|s| s.hard.as_ref());
        validate_resource_list(hard, &FieldPath::root("spec").child("hard"), errors);
    }
}

impl ValidateKind for LimitRange {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else { return };
        for (i, limit) in spec.limits.iter().enumerate() {
            let path = FieldPath::root("spec").child("limits").index(i);
            if limit.type_.is_empty() {
                errors.push(FieldError::required(path.child("type"), ""));
            }
            validate_resource_list(limit.max.as_ref(), &path.child("max"), errors);
            validate_resource_list(limit.min.as_ref(), &path.child("min"), errors);
            validate_resource_list(limit.default.as_ref(), &path.child("default"), errors);
            validate_resource_list(
                limit.default_request.as_ref(),
                &path.child("defaultRequest"),
                errors,
            );
        }
    }
}

impl ValidateKind for PersistentVolume {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else {
            return errors.push(FieldError::required(path, ""));
        };
        if spec.access_modes.as_ref().is_none_or(Vec::is_empty) {
            errors.push(FieldError::required(path.child("accessModes"), ""));
        }
        let capacity = spec.capacity.as_ref();
        if capacity.is_none_or(|c| !c.contains_key("storage")) {
            errors.push(FieldError::required(path.child("capacity"), ""));
        }
        validate_resource_list(capacity, &path.child("capacity"), errors);
    }
}

impl ValidateKind for PersistentVolumeClaim {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let path = FieldPath::root("spec");
        let Some(spec) = &self.spec else {
            return errors.push(FieldError::required(path, ""));
        };
        if spec.access_modes.as_ref().is_none_or(Vec::is_empty) {
            errors.push(FieldError::required(
                path.child("accessModes"),
                "at least 1 access mode is required",
            ));
        }
        let requests = spec.resources.as_ref().and_then(|r| r.requests.as_ref());
        if requests.is_none_or(|r| !r.contains_key("storage")) {
            errors.push(FieldError::required(
                path.child("resources").key("storage"),
                "",
            ));
        }
        validate_resource_list(requests, &path.child("resources").child("requests"), errors);
    }
}
