//! Stored objects as bytes: what is sent to clients is the stored JSON with
//! `metadata.resourceVersion` spliced in, so reads and watch events never
//! decode and re-encode the whole object.
//!
//! The scanner here only finds the extent of a top-level member of a JSON
//! object; it relies on the bytes being JSON the apiserver itself wrote
//! (every stored object is), and returns `None` on anything unexpected so
//! callers can fall back to the decoding path.

use std::ops::Range;

use store::{KeyValue, Revision};

use crate::error::ApiError;
use crate::object;

/// The stored object `kv` as sent to clients: its JSON with
/// `metadata.resourceVersion` set to the key's mod revision.
pub(crate) fn stored_to_wire(kv: &KeyValue) -> Result<prost::bytes::Bytes, ApiError> {
    match with_resource_version(&kv.value, kv.mod_revision) {
        Some(bytes) => Ok(bytes),
        None => object::to_wire(&object::from_store(kv)?),
    }
}

/// `json` (an object without `metadata.resourceVersion`) with
/// `metadata.resourceVersion` = `revision`, or `None` if `json` is not a
/// well-formed object.
pub(crate) fn with_resource_version(
    json: &[u8],
    revision: Revision,
) -> Option<prost::bytes::Bytes> {
    let version = format!("\"resourceVersion\":\"{revision}\"");
    let mut out = Vec::with_capacity(json.len() + version.len() + 16);
    match top_level_member(json, "metadata")? {
        Some(range) => {
            let open = range.start;
            if json.get(open) != Some(&b'{') {
                return None;
            }
            let empty = json.get(skip_ws(json, open + 1)?) == Some(&b'}');
            out.extend_from_slice(&json[..=open]);
            out.extend_from_slice(version.as_bytes());
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(&json[open + 1..]);
        }
        None => {
            let open = skip_ws(json, 0)?;
            let empty = json.get(skip_ws(json, open + 1)?) == Some(&b'}');
            out.extend_from_slice(&json[..=open]);
            out.extend_from_slice(b"\"metadata\":{");
            out.extend_from_slice(version.as_bytes());
            out.push(b'}');
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(&json[open + 1..]);
        }
    }
    Some(prost::bytes::Bytes::from(out))
}

/// The byte range of the value of the top-level member `key` of the JSON
/// object `json`: `Some(None)` if the object has no such member, `None` if
/// `json` is not a well-formed object.
pub(crate) fn top_level_member(json: &[u8], key: &str) -> Option<Option<Range<usize>>> {
    let mut at = skip_ws(json, 0)?;
    if json.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_ws(json, at + 1)?;
    if json.get(at) == Some(&b'}') {
        return Some(None);
    }
    loop {
        if json.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = skip_string(json, at)?;
        let name = &json[at + 1..key_end - 1];
        at = skip_ws(json, key_end)?;
        if json.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_ws(json, at + 1)?;
        let end = skip_value(json, start)?;
        if name == key.as_bytes() {
            return Some(Some(start..end));
        }
        at = skip_ws(json, end)?;
        match json.get(at) {
            Some(b',') => at = skip_ws(json, at + 1)?,
            Some(b'}') => return Some(None),
            _ => return None,
        }
    }
}

/// The first non-whitespace position at or after `at` (may be `len`).
fn skip_ws(json: &[u8], mut at: usize) -> Option<usize> {
    while let Some(byte) = json.get(at) {
        if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            return Some(at);
        }
        at += 1;
    }
    Some(at)
}

/// The position after the string starting at `at` (a `"`).
fn skip_string(json: &[u8], at: usize) -> Option<usize> {
    let mut index = at + 1;
    loop {
        match json.get(index)? {
            b'"' => return Some(index + 1),
            b'\\' => index += 2,
            _ => index += 1,
        }
    }
}

/// The position after the value starting at `at`.
fn skip_value(json: &[u8], at: usize) -> Option<usize> {
    match json.get(at)? {
        b'"' => skip_string(json, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut index = at;
            loop {
                match json.get(index)? {
                    b'"' => {
                        index = skip_string(json, index)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(index + 1);
                        }
                    }
                    _ => {}
                }
                index += 1;
            }
        }
        _ => {
            let mut index = at;
            while let Some(byte) = json.get(index) {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                index += 1;
            }
            (index > at).then_some(index)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn splice(text: &str, revision: Revision) -> Value {
        let bytes = with_resource_version(text.as_bytes(), revision).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn splices_the_resource_version_into_metadata() {
        assert_eq!(
            splice(r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{}}"#, 7),
            json!({"kind": "Pod", "metadata": {"name": "a", "resourceVersion": "7"}, "spec": {}})
        );
        assert_eq!(
            splice(r#"{"metadata":{},"x":1}"#, 3),
            json!({"metadata": {"resourceVersion": "3"}, "x": 1})
        );
        assert_eq!(
            splice(r#"{"kind":"X"}"#, 3),
            json!({"kind": "X", "metadata": {"resourceVersion": "3"}})
        );
        assert_eq!(
            splice("{}", 3),
            json!({"metadata": {"resourceVersion": "3"}})
        );
        assert_eq!(
            splice(
                r#" { "a" : "me\"tadata}" , "b":[1,{"metadata":{}}], "metadata" : { "n" : 1 } } "#,
                9
            ),
            json!({"a": "me\"tadata}", "b": [1, {"metadata": {}}],
                   "metadata": {"n": 1, "resourceVersion": "9"}})
        );
    }

    #[test]
    fn finds_top_level_members_only() {
        let text = br#"{"spec":{"nodeName":"n"},"status":{"phase":"Running"},"n":-1.5e3,"t":true}"#;
        let range = top_level_member(text, "status").unwrap().unwrap();
        assert_eq!(&text[range], br#"{"phase":"Running"}"#);
        let range = top_level_member(text, "n").unwrap().unwrap();
        assert_eq!(&text[range], b"-1.5e3");
        assert_eq!(top_level_member(text, "nodeName"), Some(None));
        let range = top_level_member(text, "t").unwrap().unwrap();
        assert_eq!(&text[range], b"true");
    }

    #[test]
    fn malformed_input_is_refused() {
        for text in [
            "",
            "[]",
            "{",
            r#"{"a""#,
            r#"{"a":"x"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a":}"#,
        ] {
            assert_eq!(top_level_member(text.as_bytes(), "z"), None, "{text:?}");
            assert!(
                with_resource_version(text.as_bytes(), 1).is_none(),
                "{text:?}"
            );
        }
    }
}
