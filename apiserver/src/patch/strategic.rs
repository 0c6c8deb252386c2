//! Strategic merge patch, Kubernetes' own patch format.
//!
//! No maintained Rust crate implements it, so it is written here from the
//! semantics of `k8s.io/apimachinery/pkg/util/strategicpatch`: maps merge
//! recursively and `null` deletes a field; lists are replaced unless the
//! schema ([`super::merge_keys`]) tags them to merge by a key or as a set of
//! primitives. The directives are `$patch: replace | merge | delete` (on a
//! map, or as a list item), `$retainKeys`, `$deleteFromPrimitiveList/<field>`
//! and `$setElementOrder/<field>`, which orders the merged list as the
//! patch's author saw it, with server-only items kept near their original
//! neighbours.

use serde_json::{Map, Value};

use super::PatchError;
use super::merge_keys::{FieldPatchMeta, ListStrategy, SchemaNode};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Applies a strategic merge patch (already parsed; it must be an object)
/// to `original`, walking `schema` for the list strategies.
pub(crate) fn strategic_merge(
    original: &Value,
    patch: &Map<String, Value>,
    schema: SchemaNode,
) -> Result<Value, PatchError> {
    let original_map = match original {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    merge_map(original_map, patch, schema, "").map(Value::Object)
}

/// The metadata of a list item or of a field the schema does not tag.
const UNTAGGED: FieldPatchMeta = FieldPatchMeta {
    list_strategy: ListStrategy::Replace,
    retain_keys: false,
};

fn child_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    schema: SchemaNode,
    path: &str,
) -> Result<Map<String, Value>, PatchError> {
    match patch.get(DIRECTIVE) {
        None => {}
        Some(Value::String(directive)) if directive == "replace" => {
            return clean_map(patch, schema, path);
        }
        Some(Value::String(directive)) if directive == "delete" => return Ok(Map::new()),
        Some(Value::String(directive)) if directive == "merge" => {}
        Some(other) => {
            return Err(PatchError::invalid(
                path,
                format!("unknown $patch directive {other}"),
            ));
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Value::Array(retained) = retain else {
            return Err(PatchError::invalid(
                path,
                "$retainKeys must be a list of field names",
            ));
        };
        let keep: Vec<&str> = retained.iter().filter_map(Value::as_str).collect();
        if keep.len() != retained.len() {
            return Err(PatchError::invalid(
                path,
                "$retainKeys must be a list of field names",
            ));
        }
        original.retain(|key, _| keep.contains(&key.as_str()));
    }
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let Value::Array(removed) = value else {
                return Err(PatchError::invalid(
                    &child_path(path, field),
                    "$deleteFromPrimitiveList must be a list",
                ));
            };
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|item| !removed.contains(item));
            }
        }
    }
    for (key, value) in patch {
        if key == DIRECTIVE || key == RETAIN_KEYS || key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            continue;
        }
        if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            if !patch.contains_key(field) {
                let (field_meta, _) = schema.field(field);
                if let Some(Value::Array(items)) = original.get(field) {
                    let ordered = order_list(
                        items.clone(),
                        items,
                        value,
                        field_meta,
                        &child_path(path, field),
                    )?;
                    original.insert(field.to_string(), Value::Array(ordered));
                }
            }
            continue;
        }
        let field_path = child_path(path, key);
        if value.is_null() {
            original.remove(key);
            continue;
        }
        let (field_meta, field_schema) = schema.field(key);
        let existing = original.remove(key);
        let order = patch.get(&format!("{SET_ELEMENT_ORDER}{key}"));
        let server_items = match (&existing, order) {
            (Some(Value::Array(server_items)), Some(_)) => server_items.clone(),
            _ => Vec::new(),
        };
        let merged = merge_value(existing, value, field_schema, field_meta, &field_path)?;
        let merged = match (merged, order) {
            (Value::Array(items), Some(order)) => Value::Array(order_list(
                items,
                &server_items,
                order,
                field_meta,
                &field_path,
            )?),
            (merged, _) => merged,
        };
        original.insert(key.clone(), merged);
    }
    Ok(original)
}

fn merge_value(
    original: Option<Value>,
    patch: &Value,
    schema: SchemaNode,
    meta: FieldPatchMeta,
    path: &str,
) -> Result<Value, PatchError> {
    match (original, patch) {
        (Some(Value::Object(original)), Value::Object(patch)) => {
            merge_map(original, patch, schema, path).map(Value::Object)
        }
        (Some(Value::Array(original)), Value::Array(patch)) => {
            merge_list(original, patch, schema, meta, path).map(Value::Array)
        }
        (_, Value::Object(patch)) => merge_map(Map::new(), patch, schema, path).map(Value::Object),
        (_, Value::Array(patch)) => {
            merge_list(Vec::new(), patch, schema, meta, path).map(Value::Array)
        }
        (_, scalar) => Ok(scalar.clone()),
    }
}

/// A patch value with its directives and `null`s removed, as it lands when
/// there is nothing to merge it into.
fn clean_map(
    patch: &Map<String, Value>,
    schema: SchemaNode,
    path: &str,
) -> Result<Map<String, Value>, PatchError> {
    let mut without_directive = patch.clone();
    without_directive.remove(DIRECTIVE);
    merge_map(Map::new(), &without_directive, schema, path)
}

fn merge_list(
    original: Vec<Value>,
    patch: &[Value],
    schema: SchemaNode,
    meta: FieldPatchMeta,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    match meta.list_strategy {
        ListStrategy::Replace => patch
            .iter()
            .map(|item| merge_value(None, item, schema, UNTAGGED, path))
            .collect(),
        ListStrategy::MergePrimitives => {
            let mut merged = original;
            for item in patch {
                if item.is_object() || item.is_array() {
                    return Err(PatchError::invalid(path, "expected a list of primitives"));
                }
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Ok(merged)
        }
        ListStrategy::MergeByKey(merge_key) => {
            merge_keyed_list(original, patch, schema, merge_key, path)
        }
    }
}

fn merge_keyed_list(
    original: Vec<Value>,
    patch: &[Value],
    schema: SchemaNode,
    merge_key: &str,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let replace_all = patch
        .iter()
        .any(|item| directive_of(item) == Some("replace"));
    let mut merged = if replace_all { Vec::new() } else { original };
    for item in patch {
        let Value::Object(item_patch) = item else {
            return Err(PatchError::invalid(
                path,
                format!("list item {item} is not an object"),
            ));
        };
        let directive = directive_of(item);
        if directive == Some("replace") {
            continue;
        }
        let Some(key_value) = item_patch.get(merge_key) else {
            return Err(PatchError::invalid(
                path,
                format!("list item does not contain the merge key {merge_key:?}"),
            ));
        };
        let position = merged
            .iter()
            .position(|existing| existing.get(merge_key) == Some(key_value));
        if directive == Some("delete") {
            merged.retain(|existing| existing.get(merge_key) != Some(key_value));
            continue;
        }
        let item_path = format!("{path}[{merge_key}={key_value}]");
        match position {
            Some(index) => {
                let existing = std::mem::take(&mut merged[index]);
                merged[index] = merge_value(Some(existing), item, schema, UNTAGGED, &item_path)?;
            }
            None => merged.push(merge_value(None, item, schema, UNTAGGED, &item_path)?),
        }
    }
    Ok(merged)
}

fn directive_of(item: &Value) -> Option<&str> {
    item.get(DIRECTIVE).and_then(Value::as_str)
}

/// Orders `merged` by a `$setElementOrder` list: the items it names come in
/// its order, and items only the server had keep their place relative to
/// the server's order, as Kubernetes' `normalizeElementOrder` does.
fn order_list(
    merged: Vec<Value>,
    server: &[Value],
    order: &Value,
    meta: FieldPatchMeta,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let Value::Array(order) = order else {
        return Err(PatchError::invalid(path, "$setElementOrder must be a list"));
    };
    let identity = |item: &Value| -> Value {
        match meta.list_strategy {
            ListStrategy::MergeByKey(key) => item.get(key).cloned().unwrap_or(Value::Null),
            _ => item.clone(),
        }
    };
    let order_ids: Vec<Value> = order.iter().map(&identity).collect();
    let server_ids: Vec<Value> = server.iter().map(&identity).collect();
    let server_index = |id: &Value| server_ids.iter().position(|candidate| candidate == id);
    let (mut in_order, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| order_ids.contains(&identity(item)));
    in_order.sort_by_key(|item| order_ids.iter().position(|id| *id == identity(item)));
    server_only.sort_by_key(|item| server_index(&identity(item)));
    let mut result = Vec::with_capacity(in_order.len() + server_only.len());
    let mut left = in_order.into_iter().peekable();
    let mut right = server_only.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some(left_item), Some(right_item)) => {
                match (
                    server_index(&identity(left_item)),
                    server_index(&identity(right_item)),
                ) {
                    (Some(left_index), Some(right_index)) => right_index < left_index,
                    _ => false,
                }
            }
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        result.extend(next);
    }
    Ok(result)
}
