//! Reading printed fields out of JSON objects (absent fields read as Go's
//! zero values, as in the typed printers) and Kubernetes' formatting of
//! labels, label selectors and container lists.

use serde_json::{Map, Value};

/// A string field, "" when absent.
pub(super) fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// An integer field, 0 when absent.
pub(super) fn integer(value: &Value) -> i64 {
    value.as_i64().unwrap_or_default()
}

/// A boolean field, false when absent.
pub(super) fn boolean(value: &Value) -> bool {
    value.as_bool().unwrap_or_default()
}

/// An array field, empty when absent.
pub(super) fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// An object field's length, 0 when absent.
pub(super) fn entry_count(value: &Value) -> usize {
    value.as_object().map(Map::len).unwrap_or_default()
}

/// `metadata.name`.
pub(super) fn name(object: &Value) -> &str {
    text(&object["metadata"]["name"])
}

/// Whether `metadata.deletionTimestamp` is set.
pub(super) fn is_deleting(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null()
}

/// A string field, or `fallback` when it is absent or empty.
pub(super) fn text_or<'a>(value: &'a Value, fallback: &'a str) -> &'a str {
    match text(value) {
        "" => fallback,
        present => present,
    }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty.
pub(super) fn format_labels(labels: &Value) -> String {
    let Some(map) = labels.as_object().filter(|map| !map.is_empty()) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(key, value)| format!("{key}={}", text(value)))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// `metav1.FormatLabelSelector`: the selector as text, `<none>` when it
/// selects everything or is unset, `<error>` when it is invalid.
pub(super) fn format_label_selector(selector: &Value) -> String {
    match label_selector_text(selector) {
        Some(text) if text.is_empty() => "<none>".to_string(),
        Some(text) => text,
        None => "<error>".to_string(),
    }
}

/// The `String()` of `metav1.LabelSelectorAsSelector`: requirements sorted
/// by key (`a=b`, `k in (x,y)`, `k notin (x)`, `k`, `!k`); `None` when an
/// operator is unknown.
pub(super) fn label_selector_text(selector: &Value) -> Option<String> {
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(match_labels) = selector["matchLabels"].as_object() {
        for (key, value) in match_labels {
            requirements.push((key.clone(), format!("{key}={}", text(value))));
        }
    }
    for expression in items(&selector["matchExpressions"]) {
        let key = text(&expression["key"]);
        let mut values: Vec<&str> = items(&expression["values"]).iter().map(text).collect();
        values.sort_unstable();
        let requirement = match text(&expression["operator"]) {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key.to_string(), requirement));
    }
    requirements.sort_by(|left, right| left.0.cmp(&right.0));
    let texts: Vec<String> = requirements.into_iter().map(|(_, text)| text).collect();
    Some(texts.join(","))
}

/// The printers' `layoutContainerCells`: container names and images, each
/// comma-joined.
pub(super) fn container_cells(containers: &Value) -> (String, String) {
    let list = items(containers);
    let names: Vec<&str> = list
        .iter()
        .map(|container| text(&container["name"]))
        .collect();
    let images: Vec<&str> = list
        .iter()
        .map(|container| text(&container["image"]))
        .collect();
    (names.join(","), images.join(","))
}

/// `helper.GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order, for the
/// modes present.
pub(super) fn access_modes(modes: &Value) -> String {
    let present: Vec<&str> = items(modes).iter().map(text).collect();
    let abbreviations = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let shown: Vec<&str> = abbreviations
        .iter()
        .filter(|(mode, _)| present.contains(mode))
        .map(|(_, abbreviation)| *abbreviation)
        .collect();
    shown.join(",")
}

/// A quantity field as written (the store keeps canonical quantities), "0"
/// when absent, as Go prints a zero `resource.Quantity`.
pub(super) fn quantity(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => "0".to_string(),
    }
}

/// An `IntOrString` field as text ("" when absent).
pub(super) fn int_or_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check_selector(selector: Value, expected: &str) {
        assert_eq!(format_label_selector(&selector), expected, "{selector}");
    }

    #[test]
    fn selectors_format_like_kubernetes() {
        check_selector(Value::Null, "<none>");
        check_selector(json!({}), "<none>");
        check_selector(json!({"matchLabels": {"b": "2", "a": "1"}}), "a=1,b=2");
        check_selector(
            json!({
                "matchLabels": {"tier": "web"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "zone", "operator": "NotIn", "values": ["b"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "Exists"},
                ],
            }),
            "app,!canary,env in (dev,prod),tier=web,zone notin (b)",
        );
        check_selector(
            json!({"matchExpressions": [{"key": "a", "operator": "Near"}]}),
            "<error>",
        );
    }

    #[test]
    fn labels_and_modes_format_like_kubernetes() {
        assert_eq!(
            format_labels(&json!({"z": "1", "app": "web"})),
            "app=web,z=1"
        );
        assert_eq!(format_labels(&json!({})), "<none>");
        assert_eq!(format_labels(&Value::Null), "<none>");
        assert_eq!(
            access_modes(&json!(["ReadWriteMany", "ReadWriteOnce"])),
            "RWO,RWX"
        );
        assert_eq!(access_modes(&Value::Null), "");
    }
}
