//! Server-side apply: merging an applied configuration into the live
//! object while tracking which manager owns which field.
//!
//! Ownership lives in `metadata.managedFields`, one entry per manager and
//! operation, each a [`FieldSet`] in `FieldsV1` form. An apply sets the
//! manager's `Apply` entry to exactly the fields of its configuration:
//! those fields are merged into the live object (keyed lists by the
//! strategic-merge keys, sets of primitives by union, other lists
//! replaced); the fields it applied before and no longer does are removed
//! unless another manager owns them; and a field it applies with a value
//! different from the live one, owned by another manager, is a conflict
//! unless forced, which moves the ownership. [`record_update`] gives
//! ordinary updates and patches their `Update` entry, so that apply
//! conflicts with them as Kubernetes' does.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, Time};
use serde_json::{Map, Value};

use api::KindInfo;

use super::PatchError;
use super::field_set::{self, FieldPath, FieldSet};
use super::merge_keys::{self, ListStrategy, SchemaNode};

/// The largest applied configuration accepted, as the apiserver's request
/// limit (3 MiB).
pub(crate) const MAX_APPLY_BYTES: usize = crate::yaml::MAX_SCALAR_BYTES;

/// One server-side apply request.
#[derive(Debug)]
pub(crate) struct ApplyRequest<'a> {
    pub(crate) kind: &'a KindInfo,
    /// The stored object, or `None` when the apply creates it.
    pub(crate) live: Option<&'a Value>,
    /// The request body: YAML (of which JSON is a subset).
    pub(crate) body: &'a [u8],
    pub(crate) field_manager: &'a str,
    /// `--force-conflicts`: take ownership instead of failing on conflicts.
    pub(crate) force: bool,
    pub(crate) now: &'a Time,
}

/// Applies the configuration in `request.body` and returns the new object,
/// its `metadata.managedFields` updated.
pub(crate) fn server_side_apply(request: &ApplyRequest<'_>) -> Result<Value, PatchError> {
    let applied = parse_applied_configuration(request.kind, request.body)?;
    let schema = merge_keys::root_schema(request.kind);
    let skip_status = request.kind.has_status;
    let applied_fields = field_set::fields_of_object(&applied, schema, skip_status)?;
    let empty = Value::Object(Map::new());
    let live = request.live.unwrap_or(&empty);
    let mut entries = managed_fields_of(live);
    let manager_index = entry_index(&entries, request.field_manager, "Apply");
    let previously_applied = manager_index
        .map(|index| entry_fields(&entries[index]))
        .unwrap_or_default();

    let conflicts = find_conflicts(&entries, manager_index, &applied_fields, &applied, live);
    if !conflicts.is_empty() {
        if !request.force {
            return Err(PatchError::Conflict {
                conflicts: conflicts
                    .iter()
                    .map(|(index, path)| {
                        (
                            describe_manager(&entries[*index]),
                            field_set::display_path(path),
                        )
                    })
                    .collect(),
            });
        }
        for (index, path) in &conflicts {
            let mut fields = entry_fields(&entries[*index]);
            fields.remove(path);
            set_entry_fields(&mut entries[*index], &fields);
        }
    }

    let mut result = live.clone();
    let mut applied_without_status = applied.clone();
    if skip_status && let Value::Object(map) = &mut applied_without_status {
        map.remove("status");
    }
    merge_applied(&mut result, &applied_without_status, schema);
    let others_fields: FieldSet = entries
        .iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != manager_index)
        .flat_map(|(_, entry)| entry_fields(entry))
        .collect();
    let still_owned = |path: &[String]| {
        applied_fields
            .iter()
            .chain(&others_fields)
            .any(|owned| owned.starts_with(path))
    };
    for path in previously_applied.difference(&applied_fields) {
        if others_fields.iter().any(|owned| owned.starts_with(path)) {
            continue;
        }
        field_set::remove_at(&mut result, path);
        prune_empty_parents(&mut result, path, &still_owned);
    }

    let api_version = request.kind.api_version();
    let entry = new_entry(
        request.field_manager,
        "Apply",
        &api_version,
        request.now,
        &applied_fields,
    );
    match manager_index {
        Some(index) => entries[index] = entry,
        None => entries.push(entry),
    }
    entries.retain(|entry| !entry_fields(entry).is_empty());
    set_managed_fields(&mut result, &entries)?;
    Ok(result)
}

/// The `managedFields` after an update or non-apply patch by `manager`:
/// the manager's `Update` entry gains the fields it changed, which other
/// managers stop owning, and removed fields leave every entry. The caller
/// stores them in `live_after` with [`set_managed_fields`].
pub(crate) fn record_update(
    kind: &KindInfo,
    live_before: &Value,
    live_after: &Value,
    manager: &str,
    now: &Time,
) -> Result<Vec<ManagedFieldsEntry>, PatchError> {
    let schema = merge_keys::root_schema(kind);
    let before_fields = field_set::fields_of_object(live_before, schema, kind.has_status)?;
    let after_fields = field_set::fields_of_object(live_after, schema, kind.has_status)?;
    let changed: FieldSet = after_fields
        .iter()
        .filter(|path| {
            !before_fields.contains(*path)
                || !is_item_node(path)
                    && field_set::value_at(live_before, path)
                        != field_set::value_at(live_after, path)
        })
        .cloned()
        .collect();
    let removed: FieldSet = before_fields.difference(&after_fields).cloned().collect();
    let mut entries = managed_fields_of(live_before);
    let manager_index = entry_index(&entries, manager, "Update");
    for (index, entry) in entries.iter_mut().enumerate() {
        let mut fields = entry_fields(entry);
        fields.retain(|path| !removed.contains(path));
        if Some(index) != manager_index {
            fields.retain(|path| !changed.contains(path));
        }
        set_entry_fields(entry, &fields);
    }
    if !changed.is_empty() {
        let mut fields = manager_index
            .map(|index| entry_fields(&entries[index]))
            .unwrap_or_default();
        fields.extend(changed);
        let entry = new_entry(manager, "Update", &kind.api_version(), now, &fields);
        match manager_index {
            Some(index) => entries[index] = entry,
            None => entries.push(entry),
        }
    }
    entries.retain(|entry| !entry_fields(entry).is_empty());
    Ok(entries)
}

/// Removes the maps left empty above a removed field, up to the first one
/// still holding or owning something, so dropping the last label drops
/// `labels` too.
fn prune_empty_parents(
    object: &mut Value,
    removed: &[String],
    still_owned: &dyn Fn(&[String]) -> bool,
) {
    for length in (1..removed.len()).rev() {
        let parent = &removed[..length];
        let is_empty_map = field_set::value_at(object, parent)
            .is_some_and(|value| value.as_object().is_some_and(Map::is_empty));
        let is_field = parent
            .last()
            .is_some_and(|element| element.starts_with("f:"));
        if !is_empty_map || !is_field || still_owned(parent) {
            return;
        }
        field_set::remove_at(object, parent);
    }
}

/// Parses the body as YAML within a budget, and checks it is an object of
/// the request's kind.
fn parse_applied_configuration(kind: &KindInfo, body: &[u8]) -> Result<Value, PatchError> {
    if body.len() > MAX_APPLY_BYTES {
        return Err(PatchError::TooLarge {
            size: body.len(),
            limit: MAX_APPLY_BYTES,
        });
    }
    let applied = crate::yaml::to_json_value(body).map_err(|error| PatchError::NotYaml {
        reason: error.reason,
    })?;
    if !applied.is_object() {
        return Err(PatchError::WrongShape {
            patch_type: "applied configuration",
            expected: "an object",
        });
    }
    let managed_fields = applied.pointer("/metadata/managedFields");
    if managed_fields.is_some_and(|fields| !fields.is_null()) {
        return Err(PatchError::invalid(
            "metadata.managedFields",
            "must be empty in an applied configuration",
        ));
    }
    let api_version = kind.api_version();
    for (field, expected) in [("apiVersion", api_version.as_str()), ("kind", kind.kind)] {
        match applied.get(field).and_then(Value::as_str) {
            Some(actual) if actual == expected => {}
            Some(actual) => {
                return Err(PatchError::invalid(
                    field,
                    format!("is {actual:?}, expected {expected:?}"),
                ));
            }
            None => {
                return Err(PatchError::invalid(
                    field,
                    "must be set in an applied configuration",
                ));
            }
        }
    }
    Ok(applied)
}

/// The (entry index, path) of every applied field another manager owns
/// with a live value different from the applied one.
fn find_conflicts(
    entries: &[ManagedFieldsEntry],
    manager_index: Option<usize>,
    applied_fields: &FieldSet,
    applied: &Value,
    live: &Value,
) -> Vec<(usize, FieldPath)> {
    let mut conflicts = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if Some(index) == manager_index {
            continue;
        }
        for path in entry_fields(entry).intersection(applied_fields) {
            if is_item_node(path) {
                continue;
            }
            let live_value = field_set::value_at(live, path);
            if live_value.is_some() && live_value != field_set::value_at(applied, path) {
                conflicts.push((index, path.clone()));
            }
        }
    }
    conflicts
}

/// Merges an applied configuration into `target`: maps recursively, keyed
/// lists item by item, sets by union, everything else replaced.
fn merge_applied(target: &mut Value, applied: &Value, schema: SchemaNode) {
    let (Value::Object(target_map), Value::Object(applied_map)) = (&mut *target, applied) else {
        *target = applied.clone();
        return;
    };
    for (key, applied_value) in applied_map {
        if applied_value.is_null() {
            target_map.remove(key);
            continue;
        }
        let (meta, child_schema) = schema.field(key);
        let Some(existing) = target_map.get_mut(key) else {
            target_map.insert(key.clone(), applied_value.clone());
            continue;
        };
        match (meta.list_strategy, &mut *existing, applied_value) {
            (_, Value::Object(_), Value::Object(_)) => {
                merge_applied(existing, applied_value, child_schema)
            }
            (
                ListStrategy::MergePrimitives,
                Value::Array(existing_items),
                Value::Array(applied_items),
            ) => {
                for item in applied_items {
                    if !existing_items.contains(item) {
                        existing_items.push(item.clone());
                    }
                }
            }
            (
                ListStrategy::MergeByKey(merge_key),
                Value::Array(existing_items),
                Value::Array(applied_items),
            ) => {
                for item in applied_items {
                    let key_value = item.get(merge_key);
                    match existing_items.iter_mut().find(|existing_item| {
                        key_value.is_some() && existing_item.get(merge_key) == key_value
                    }) {
                        Some(existing_item) => merge_applied(existing_item, item, child_schema),
                        None => existing_items.push(item.clone()),
                    }
                }
            }
            _ => *existing = applied_value.clone(),
        }
    }
}

/// Whether `path` names a keyed list item itself, whose "value" is not
/// compared: its fields are, one by one.
fn is_item_node(path: &[String]) -> bool {
    path.last().is_some_and(|element| element.starts_with("k:"))
}

fn managed_fields_of(object: &Value) -> Vec<ManagedFieldsEntry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(|entries| serde_json::from_value(entries.clone()).ok())
        .unwrap_or_default()
}

pub(crate) fn set_managed_fields(
    object: &mut Value,
    entries: &[ManagedFieldsEntry],
) -> Result<(), PatchError> {
    let encoded = serde_json::to_value(entries)
        .map_err(|error| PatchError::invalid("metadata.managedFields", error.to_string()))?;
    let Value::Object(map) = object else {
        return Err(PatchError::invalid("", "the object is not a map"));
    };
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(metadata) = metadata else {
        return Err(PatchError::invalid("metadata", "is not a map"));
    };
    metadata.insert("managedFields".to_string(), encoded);
    Ok(())
}

fn entry_index(entries: &[ManagedFieldsEntry], manager: &str, operation: &str) -> Option<usize> {
    entries.iter().position(|entry| {
        entry.manager.as_deref() == Some(manager)
            && entry.operation.as_deref() == Some(operation)
            && entry.subresource.is_none()
    })
}

fn entry_fields(entry: &ManagedFieldsEntry) -> FieldSet {
    entry
        .fields_v1
        .as_ref()
        .map(|fields| field_set::from_fields_v1(&fields.0))
        .unwrap_or_default()
}

fn set_entry_fields(entry: &mut ManagedFieldsEntry, fields: &FieldSet) {
    entry.fields_v1 = Some(FieldsV1(field_set::to_fields_v1(fields)));
}

fn new_entry(
    manager: &str,
    operation: &str,
    api_version: &str,
    now: &Time,
    fields: &FieldSet,
) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        api_version: Some(api_version.to_string()),
        fields_type: Some("FieldsV1".to_string()),
        fields_v1: Some(FieldsV1(field_set::to_fields_v1(fields))),
        manager: Some(manager.to_string()),
        operation: Some(operation.to_string()),
        subresource: None,
        time: Some(now.clone()),
    }
}

/// A manager as Kubernetes' `printManager` words it in conflicts.
fn describe_manager(entry: &ManagedFieldsEntry) -> String {
    let mut described = format!("{:?}", entry.manager.as_deref().unwrap_or_default());
    if let Some(subresource) = &entry.subresource {
        described.push_str(&format!(" with subresource {subresource:?}"));
    }
    if entry.operation.as_deref() == Some("Update") {
        described.push_str(&format!(
            " using {}",
            entry.api_version.as_deref().unwrap_or_default()
        ));
        if let Some(time) = &entry.time {
            described.push_str(&format!(" at {}", time.0.strftime("%Y-%m-%dT%H:%M:%SZ")));
        }
    }
    described
}

#[cfg(test)]
mod tests;
