//! Strategic merge patch, Kubernetes' own patch format.
//!
//! No maintained Rust crate implements it, so it is written here from the
//! semantics of `k8s.io/apimachinery/pkg/util/strategicpatch`: maps merge
//! recursively and `null` deletes a field; lists are replaced unless the
//! schema ([`super::merge_keys`]) tags them to merge by a key or as a set of
//! primitives. The directives are `$patch: replace | merge | delete` (on a
//! map, or as a list item), `$retainKeys`, `$deleteFromPrimitiveList/<field>`
//! and `$setElementOrder/<field>`.
//!
//! Merged lists are ordered as Kubernetes orders them: the items the patch
//! names come in the patch's order (or the `$setElementOrder` list's), and
//! each server-only item keeps its place before the first patched item
//! that followed it on the server; an item new to the server goes before
//! the server-only items that remain. One deliberate difference: a patch
//! value with nothing to merge into lands with its directives and `null`s
//! removed, where Kubernetes stores it as written and leaves the typed
//! decoding to drop them.

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
        let unretained = patch.iter().find(|(key, value)| {
            !value.is_null() && !key.starts_with('$') && !keep.contains(&key.as_str())
        });
        if let Some((key, _)) = unretained {
            return Err(PatchError::invalid(
                path,
                format!("{key:?} is patched but not listed in $retainKeys"),
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
        // A replaced list is taken as written, as RFC 7386 and Kubernetes
        // take it.
        ListStrategy::Replace => Ok(patch.to_vec()),
        ListStrategy::MergePrimitives => {
            let mut merged = original.clone();
            for item in patch {
                if item.is_object() || item.is_array() {
                    return Err(PatchError::invalid(path, "expected a list of primitives"));
                }
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Ok(order_items(merged, &original, patch, meta))
        }
        ListStrategy::MergeByKey(merge_key) => {
            merge_keyed_list(original, patch, schema, meta, merge_key, path)
        }
    }
}

/// Merges a keyed list as Kubernetes' `mergeSlice` does: the special items
/// (`$patch: delete` and `$patch: replace`) apply first, then each other
/// patch item merges into the original item with its key or is appended,
/// and the result is ordered by the patch, server-only items interleaved.
fn merge_keyed_list(
    mut original: Vec<Value>,
    patch: &[Value],
    schema: SchemaNode,
    meta: FieldPatchMeta,
    merge_key: &str,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let mut replace_all = false;
    let mut plain_items = Vec::with_capacity(patch.len());
    for item in patch {
        let Value::Object(item_patch) = item else {
            return Err(PatchError::invalid(
                path,
                format!("list item {item} is not an object"),
            ));
        };
        let key_value = item_patch.get(merge_key);
        match item_patch.get(DIRECTIVE) {
            None => {
                if key_value.is_none() {
                    return Err(missing_merge_key(path, merge_key));
                }
                plain_items.push(item.clone());
            }
            Some(Value::String(directive)) if directive == "delete" => {
                let Some(key_value) = key_value else {
                    return Err(missing_merge_key(path, merge_key));
                };
                original.retain(|existing| existing.get(merge_key) != Some(key_value));
            }
            Some(Value::String(directive)) if directive == "replace" => replace_all = true,
            Some(Value::String(directive)) if directive == "merge" => {
                return Err(PatchError::invalid(
                    path,
                    "$patch: merge cannot be given as a list item",
                ));
            }
            Some(other) => {
                return Err(PatchError::invalid(
                    path,
                    format!("unknown $patch directive {other}"),
                ));
            }
        }
    }
    if replace_all {
        return plain_items
            .iter()
            .map(|item| merge_value(None, item, schema, UNTAGGED, path))
            .collect();
    }
    let mut merged = original.clone();
    for item in &plain_items {
        let key_value = item.get(merge_key);
        let item_path = match key_value {
            Some(key_value) => format!("{path}[{merge_key}={key_value}]"),
            None => path.to_string(),
        };
        match merged
            .iter()
            .position(|existing| existing.get(merge_key) == key_value)
        {
            Some(index) => {
                let existing = std::mem::take(&mut merged[index]);
                merged[index] = merge_value(Some(existing), item, schema, UNTAGGED, &item_path)?;
            }
            None => merged.push(merge_value(None, item, schema, UNTAGGED, &item_path)?),
        }
    }
    Ok(order_items(merged, &original, &plain_items, meta))
}

fn missing_merge_key(path: &str, merge_key: &str) -> PatchError {
    PatchError::invalid(
        path,
        format!("list item does not contain the merge key {merge_key:?}"),
    )
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
    Ok(order_items(merged, server, order, meta))
}

/// Orders `merged`: the items named in `order` come in its order, and the
/// others keep their order in `server`, each placed before the first
/// ordered item that follows it on the server (`mergeSortedSlice`).
fn order_items(
    merged: Vec<Value>,
    server: &[Value],
    order: &[Value],
    meta: FieldPatchMeta,
) -> Vec<Value> {
    let identity = |item: &Value| -> Value {
        match meta.list_strategy {
            ListStrategy::MergeByKey(key) => item.get(key).cloned().unwrap_or(Value::Null),
            _ => item.clone(),
        }
    };
    let order_ids: Vec<Value> = order.iter().map(identity).collect();
    let server_ids: Vec<Value> = server.iter().map(identity).collect();
    let server_index = |id: &Value| server_ids.iter().position(|candidate| candidate == id);
    let (mut in_order, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| order_ids.contains(&identity(item)));
    in_order.sort_by_key(|item| order_ids.iter().position(|id| *id == identity(item)));
    server_only.sort_by_key(|item| server_index(&identity(item)));
    let mut result = Vec::with_capacity(in_order.len() + server_only.len());
    let mut ordered = in_order.into_iter().peekable();
    let mut remaining = server_only.into_iter().peekable();
    loop {
        let take_server_only = match (ordered.peek(), remaining.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some(ordered_item), Some(server_item)) => matches!(
                (server_index(&identity(server_item)), server_index(&identity(ordered_item))),
                (Some(server_only_index), Some(ordered_index)) if server_only_index < ordered_index
            ),
        };
        let next = if take_server_only {
            remaining.next()
        } else {
            ordered.next()
        };
        result.extend(next);
    }
    result
}
