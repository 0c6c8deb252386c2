//! Sets of field paths, the unit of server-side apply's ownership, and
//! their `FieldsV1` encoding in `metadata.managedFields`.
//!
//! A path is a list of path elements encoded as `FieldsV1` spells them:
//! `f:<field>` for a map field, `k:{"name":"nginx"}` for the item of a
//! keyed list, `v:"value"` for the member of a set of primitives. A set
//! holds the leaves a manager owns and the keyed items themselves (written
//! as `.` inside the item in `FieldsV1`); plain maps on the way to a leaf
//! are not members.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::PatchError;
use super::merge_keys::{ListStrategy, SchemaNode};

/// One owned path, as encoded path elements.
pub(crate) type FieldPath = Vec<String>;

/// The paths one manager owns.
pub(crate) type FieldSet = BTreeSet<FieldPath>;

/// The fields of an object that nobody owns: identity and server-set
/// metadata, which Kubernetes strips before tracking ownership.
const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// The set of fields `object` sets, walking `schema` for list types.
/// `status` is skipped when `skip_status` (a kind with a status
/// subresource, whose main resource does not own status).
pub(crate) fn fields_of_object(
    object: &Value,
    schema: SchemaNode,
    skip_status: bool,
) -> Result<FieldSet, PatchError> {
    let mut set = FieldSet::new();
    let Value::Object(map) = object else {
        return Ok(set);
    };
    for (key, value) in map {
        if key == "apiVersion" || key == "kind" || (skip_status && key == "status") {
            continue;
        }
        let (meta, child_schema) = schema.field(key);
        let path = vec![format!("f:{key}")];
        if key == "metadata" {
            if let Value::Object(metadata) = value {
                for (meta_key, meta_value) in metadata {
                    if UNTRACKED_METADATA.contains(&meta_key.as_str()) {
                        continue;
                    }
                    let (field_meta, field_schema) = child_schema.field(meta_key);
                    let mut meta_path = path.clone();
                    meta_path.push(format!("f:{meta_key}"));
                    collect(
                        meta_value,
                        field_schema,
                        field_meta.list_strategy,
                        meta_path,
                        &mut set,
                    )?;
                }
            }
            continue;
        }
        collect(value, child_schema, meta.list_strategy, path, &mut set)?;
    }
    Ok(set)
}

fn collect(
    value: &Value,
    schema: SchemaNode,
    list_strategy: ListStrategy,
    path: FieldPath,
    set: &mut FieldSet,
) -> Result<(), PatchError> {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let (meta, child_schema) = schema.field(key);
                let mut child_path = path.clone();
                child_path.push(format!("f:{key}"));
                collect(child, child_schema, meta.list_strategy, child_path, set)?;
            }
        }
        Value::Array(items) => match list_strategy {
            ListStrategy::Replace => {
                set.insert(path);
            }
            ListStrategy::MergePrimitives => {
                for item in items {
                    let mut item_path = path.clone();
                    item_path.push(format!("v:{item}"));
                    set.insert(item_path);
                }
            }
            ListStrategy::MergeByKey(merge_key) => {
                for item in items {
                    let Some(key_value) = item.get(merge_key) else {
                        return Err(PatchError::invalid(
                            &display_path(&path),
                            format!("list item does not contain the merge key {merge_key:?}"),
                        ));
                    };
                    let mut item_path = path.clone();
                    item_path.push(key_element(merge_key, key_value));
                    set.insert(item_path.clone());
                    collect(item, schema, ListStrategy::Replace, item_path, set)?;
                }
            }
        },
        _ => {
            set.insert(path);
        }
    }
    Ok(())
}

/// The `k:` element of the list item whose `merge_key` is `key_value`.
pub(crate) fn key_element(merge_key: &str, key_value: &Value) -> String {
    let mut key = Map::new();
    key.insert(merge_key.to_string(), key_value.clone());
    format!("k:{}", Value::Object(key))
}

/// A path as Kubernetes prints it in conflicts: `.spec.replicas`,
/// `.spec.containers[name="nginx"].image`, `.metadata.finalizers[="a"]`.
pub(crate) fn display_path(path: &[String]) -> String {
    let mut printed = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            printed.push('.');
            printed.push_str(field);
        } else if let Some(key) = element.strip_prefix("k:") {
            let parts: Vec<String> = match serde_json::from_str::<Map<String, Value>>(key) {
                Ok(fields) => fields
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect(),
                Err(_) => vec![key.to_string()],
            };
            printed.push('[');
            printed.push_str(&parts.join(","));
            printed.push(']');
        } else if let Some(value) = element.strip_prefix("v:") {
            printed.push_str(&format!("[={value}]"));
        } else {
            printed.push_str(element);
        }
    }
    printed
}

/// The value at one path element below `value`.
pub(crate) fn child<'value>(value: &'value Value, element: &str) -> Option<&'value Value> {
    if let Some(field) = element.strip_prefix("f:") {
        return value.as_object()?.get(field);
    }
    if let Some(key) = element.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(key).ok()?;
        return value.as_array()?.iter().find(|item| {
            key.iter()
                .all(|(name, expected)| item.get(name) == Some(expected))
        });
    }
    let member: Value = serde_json::from_str(element.strip_prefix("v:")?).ok()?;
    value.as_array()?.iter().find(|item| **item == member)
}

/// The value at `path` in `object`.
pub(crate) fn value_at<'value>(object: &'value Value, path: &[String]) -> Option<&'value Value> {
    path.iter()
        .try_fold(object, |value, element| child(value, element))
}

/// Removes the value at `path` from `object`, if it is there.
pub(crate) fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut parent = object;
    for element in parent_path {
        let Some(next) = child_mut(parent, element) else {
            return;
        };
        parent = next;
    }
    if let Some(field) = last.strip_prefix("f:") {
        if let Some(map) = parent.as_object_mut() {
            map.remove(field);
        }
        return;
    }
    let Some(found) = child(parent, last).cloned() else {
        return;
    };
    if let Some(items) = parent.as_array_mut() {
        items.retain(|item| *item != found);
    }
}

fn child_mut<'value>(value: &'value mut Value, element: &str) -> Option<&'value mut Value> {
    if let Some(field) = element.strip_prefix("f:") {
        return value.as_object_mut()?.get_mut(field);
    }
    let found = child(value, element)?.clone();
    value
        .as_array_mut()?
        .iter_mut()
        .find(|item| **item == found)
}

/// Encodes a set as a `FieldsV1` object.
pub(crate) fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for element in path {
            let entry = node
                .entry(element.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else {
                return Value::Object(root);
            };
            node = next;
        }
    }
    // A member with children says it is itself a member with ".".
    fn mark_members(node: &mut Map<String, Value>, prefix: &mut FieldPath, set: &FieldSet) {
        for (element, child) in node.iter_mut() {
            prefix.push(element.clone());
            if let Value::Object(child_map) = child
                && !child_map.is_empty()
            {
                mark_members(child_map, prefix, set);
                if set.contains(prefix) {
                    child_map.insert(".".to_string(), Value::Object(Map::new()));
                }
            }
            prefix.pop();
        }
    }
    mark_members(&mut root, &mut Vec::new(), set);
    Value::Object(root)
}

/// Decodes a `FieldsV1` object; a malformed one yields the paths it can.
pub(crate) fn from_fields_v1(fields: &Value) -> FieldSet {
    fn walk(node: &Map<String, Value>, prefix: &mut FieldPath, set: &mut FieldSet) {
        for (element, child) in node {
            if element == "." {
                set.insert(prefix.clone());
                continue;
            }
            prefix.push(element.clone());
            match child {
                Value::Object(child_map) if !child_map.is_empty() => walk(child_map, prefix, set),
                _ => {
                    set.insert(prefix.clone());
                }
            }
            prefix.pop();
        }
    }
    let mut set = FieldSet::new();
    if let Value::Object(root) = fields {
        walk(root, &mut Vec::new(), &mut set);
    }
    set
}
