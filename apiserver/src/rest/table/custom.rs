//! Tables of custom objects, as apiextensions-apiserver's table convertor
//! prints them: `Name`, then the version's `additionalPrinterColumns`
//! (or, when it declares none, `Age`), each cell read at the column's
//! JSONPath and typed by the column's type (`date` cells as ages).
//!
//! JSONPaths are the simple form every printer column uses: fields and
//! list indexes (`.spec.replicas`, `.status.conditions[0].type`,
//! optionally inside `{}`); a path that finds nothing prints as none.

use api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceColumnDefinition;
use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{TableRequest, age, assemble, descriptions, fields};

/// One printer column of a custom resource version.
pub(crate) type PrinterColumn = CustomResourceColumnDefinition;

/// Prints custom objects with the version's printer columns.
pub(crate) fn build_custom_table(
    request: &TableRequest<'_>,
    columns: &[CustomResourceColumnDefinition],
    objects: &[Value],
    now: Timestamp,
) -> Value {
    let default_age;
    let columns = if columns.is_empty() {
        default_age = [CustomResourceColumnDefinition {
            name: "Age".to_string(),
            type_: "date".to_string(),
            description: Some(descriptions::CREATION_TIMESTAMP.to_string()),
            json_path: ".metadata.creationTimestamp".to_string(),
            ..Default::default()
        }];
        &default_age[..]
    } else {
        columns
    };
    let mut definitions = vec![json!({
        "name": "Name", "type": "string", "format": "name",
        "description": descriptions::NAME, "priority": 0,
    })];
    definitions.extend(columns.iter().map(|column| {
        json!({
            "name": column.name,
            "type": column.type_,
            "format": column.format.clone().unwrap_or_default(),
            "description": column.description.clone().unwrap_or_default(),
            "priority": column.priority.unwrap_or(0),
        })
    }));
    assemble(request, definitions, objects, |object| {
        let mut cells = vec![json!(fields::name(object))];
        cells.extend(columns.iter().map(|column| cell(column, object, now)));
        (cells, None)
    })
}

/// The cell of one column for one object.
fn cell(column: &CustomResourceColumnDefinition, object: &Value, now: Timestamp) -> Value {
    let Some(found) = find(object, &column.json_path) else {
        return Value::Null;
    };
    match column.type_.as_str() {
        "date" => match age::parse_time(found) {
            Some(_) => json!(age::since(found, now)),
            None => Value::Null,
        },
        "integer" => match found {
            Value::Number(number) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|float| float as i64))
                .map_or(Value::Null, |integer| json!(integer)),
            _ => Value::Null,
        },
        "number" => match found {
            Value::Number(_) => found.clone(),
            _ => Value::Null,
        },
        "boolean" => match found {
            Value::Bool(_) => found.clone(),
            _ => Value::Null,
        },
        _ => match found {
            Value::String(text) => json!(text),
            Value::Null => Value::Null,
            other => json!(other.to_string()),
        },
    }
}

/// The value at a simple JSONPath (`.a.b[0].c`, optionally in `{}`).
fn find<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
        .unwrap_or(path);
    let mut node = object;
    for segment in path.split('.').filter(|segment| !segment.is_empty()) {
        let (field, mut rest) = match segment.find('[') {
            Some(open) => (&segment[..open], &segment[open..]),
            None => (segment, ""),
        };
        if !field.is_empty() {
            node = node.get(field)?;
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped.find(']')?;
            let index: usize = stripped[..close].parse().ok()?;
            node = node.get(index)?;
            rest = &stripped[close + 1..];
        }
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::table::IncludeObject;

    fn column(name: &str, type_: &str, path: &str) -> CustomResourceColumnDefinition {
        CustomResourceColumnDefinition {
            name: name.to_string(),
            type_: type_.to_string(),
            json_path: path.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn columns_read_their_paths_and_types() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let object = json!({"metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"size": 3.0, "on": true, "items": [{"name": "first"}]},
            "status": {"ratio": 0.5}});
        let request = TableRequest {
            plural: "widgets",
            resource_version: "7",
            continue_token: "",
            include_object: IncludeObject::None,
        };
        let columns = [
            column("Size", "integer", ".spec.size"),
            column("On", "boolean", ".spec.on"),
            column("First", "string", "{.spec.items[0].name}"),
            column("Ratio", "number", ".status.ratio"),
            column("Missing", "string", ".status.nothing"),
            column("Created", "date", ".metadata.creationTimestamp"),
        ];
        let table = build_custom_table(&request, &columns, std::slice::from_ref(&object), now);
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["w", 3, true, "first", 0.5, null, "10m"])
        );
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Name", "Size", "On", "First", "Ratio", "Missing", "Created"]
        );
        // Without printer columns: Name and Age.
        let table = build_custom_table(&request, &[], &[object], now);
        assert_eq!(table["rows"][0]["cells"], json!(["w", "10m"]));
        assert_eq!(table["columnDefinitions"][1]["name"], "Age");
    }
}
