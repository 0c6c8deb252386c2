//! CustomResourceDefinitions: the apiserver writes their status itself
//! (`acceptedNames`, `storedVersions`, the `NamesAccepted` and
//! `Established` conditions) as it starts serving them, refuses names a
//! built-in resource or another definition of the group already serves,
//! starts serving a new definition as soon as it is stored, and deletes a
//! definition's custom objects in the transaction that deletes it.

use api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionStatus,
};
use api::{FieldError, FieldErrors, FieldPath};
use prost::bytes::Bytes;
use store::Op;

use super::Strategy;
use crate::error::ApiError;
use crate::keys;
use crate::request::Attributes;
use crate::state::ApiState;
use crate::verbs;

impl Strategy for CustomResourceDefinition {
    fn prepare_for_create(&mut self) {
        self.status = Some(served_status(self, None));
    }

    async fn admit_create(
        state: &ApiState,
        _attributes: &Attributes,
        _namespace: &crate::admission::NamespaceFacts,
        object: &mut Self,
    ) -> Result<(), ApiError> {
        match names_conflict(state, object) {
            Some(errors) => Err(ApiError::Invalid {
                kind: "CustomResourceDefinition",
                name: object.metadata.name.clone().unwrap_or_default(),
                errors,
            }),
            None => Ok(()),
        }
    }

    fn prepare_for_update(&mut self, old: &Self) -> Result<(), ApiError> {
        self.status = Some(served_status(self, old.status.as_ref()));
        Ok(())
    }

    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        object: &'a mut Self,
    ) -> Result<Bytes, ApiError> {
        let wire = verbs::store_new_plain(state, key, object).await?;
        // Served at once, so the resource may be used as soon as the
        // create returns (the definitions' watch would follow shortly).
        let revision = serde_json::from_slice::<serde_json::Value>(&wire)
            .ok()
            .and_then(|value| {
                value
                    .pointer("/metadata/resourceVersion")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|rv| rv.parse().ok())
            });
        if let Some(revision) = revision {
            state.kinds.custom.apply(object, revision);
        }
        Ok(wire)
    }

    fn release_ops(&self) -> Vec<Op> {
        let plural = &self.spec.names.plural;
        let group = &self.spec.group;
        vec![Op::DeletePrefix {
            prefix: keys::resource_prefix(&format!("{plural}.{group}")),
        }]
    }
}

/// The status the apiserver writes: the accepted names are the spec's,
/// the storage version joins the stored versions, and the definition is
/// established (it is served as soon as it is stored).
fn served_status(
    crd: &CustomResourceDefinition,
    old: Option<&CustomResourceDefinitionStatus>,
) -> CustomResourceDefinitionStatus {
    let now = crate::object::now_time();
    let mut stored_versions = old
        .and_then(|status| status.stored_versions.clone())
        .unwrap_or_default();
    if let Some(storage) = crd.spec.versions.iter().find(|version| version.storage)
        && !stored_versions.contains(&storage.name)
    {
        stored_versions.push(storage.name.clone());
    }
    let old_condition = |type_: &str| {
        old.and_then(|status| status.conditions.as_ref())
            .and_then(|conditions| {
                conditions
                    .iter()
                    .find(|c| c.type_ == type_ && c.status == "True")
            })
            .and_then(|condition| condition.last_transition_time.clone())
    };
    let condition = |type_: &str, reason: &str, message: &str| CustomResourceDefinitionCondition {
        last_transition_time: old_condition(type_).or_else(|| now.clone()),
        message: Some(message.to_string()),
        reason: Some(reason.to_string()),
        status: "True".to_string(),
        type_: type_.to_string(),
    };
    CustomResourceDefinitionStatus {
        accepted_names: Some(crd.spec.names.clone()),
        conditions: Some(vec![
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition(
                "Established",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        ]),
        stored_versions: Some(stored_versions),
    }
}

/// The errors of a definition whose plural, singular, kind or short names
/// a served resource of its group already uses (a built-in resource, or
/// another definition); `None` if its names are free.
fn names_conflict(state: &ApiState, crd: &CustomResourceDefinition) -> Option<FieldErrors> {
    let names = &crd.spec.names;
    let group = &crd.spec.group;
    let own_name = crd.metadata.name.as_deref().unwrap_or("");
    let path = FieldPath::root("spec").child("names");
    let mut errors = FieldErrors::default();
    let extras = state.kinds.custom.rows();
    for row in crate::rest::resources::all_resources(&extras) {
        if row.group != *group || format!("{}.{}", row.plural, row.group) == own_name {
            continue;
        }
        if row.plural == names.plural {
            errors.push(FieldError::invalid(
                path.child("plural"),
                &names.plural,
                "is already in use",
            ));
        }
        if row.kind == names.kind {
            errors.push(FieldError::invalid(
                path.child("kind"),
                &names.kind,
                "is already in use",
            ));
        }
    }
    errors.0.dedup();
    (!errors.is_empty()).then_some(errors)
}
