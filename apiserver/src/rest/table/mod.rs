//! Server-side printing: objects (as JSON) become a `meta.k8s.io/v1 Table`
//! with the columns and cell values kube-apiserver's printers produce, so
//! `kubectl get` (and `-o wide`, whose columns have priority 1) prints what
//! it prints against Kubernetes. Kinds without a printer get Kubernetes'
//! default table: `Name` and `Created At`.
//!
//! The printers live one file per group of kinds (`pods`, `core`,
//! `workloads`, `cluster`, and `metrics` for metrics.k8s.io); `age` holds `duration.HumanDuration`, `fields`
//! the JSON accessors and Kubernetes' label and selector formatting.
//! **Invariant:** no clock is read here; `now` is an argument.

pub(crate) mod age;
mod cluster;
mod core;
pub(crate) mod custom;
mod descriptions;
mod fields;
pub(crate) mod metrics;
mod pods;
mod workloads;

use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

/// What each row carries besides its cells (the `includeObject` parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    /// No object.
    None,
    /// The object's metadata as a `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

/// An `includeObject` value Kubernetes does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid includeObject {value:?}: expected None, Metadata or Object")]
pub(crate) struct IncludeObjectError {
    pub(crate) value: String,
}

impl IncludeObject {
    /// Reads the `includeObject` query parameter; absent or empty means
    /// `Metadata`.
    pub(crate) fn parse(value: Option<&str>) -> Result<IncludeObject, IncludeObjectError> {
        match value.unwrap_or_default() {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(IncludeObjectError {
                value: other.to_string(),
            }),
        }
    }
}

/// What a Table is built for: the resource and the list it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableRequest<'a> {
    /// The resource plural, e.g. `pods`; it picks the printer.
    pub(crate) plural: &'a str,
    /// The list's `metadata.resourceVersion` ("" for none).
    pub(crate) resource_version: &'a str,
    /// The list's `metadata.continue` ("" for none).
    pub(crate) continue_token: &'a str,
    pub(crate) include_object: IncludeObject,
}

/// Prints `objects` (full JSON objects of `request.plural`) as a
/// `meta.k8s.io/v1 Table`, with ages measured at `now`.
pub(crate) fn build_table(request: &TableRequest<'_>, objects: &[Value], now: Timestamp) -> Value {
    let printer = printer_for(request.plural);
    let columns = printer
        .columns
        .iter()
        .copied()
        .map(Column::to_json)
        .collect();
    assemble(request, columns, objects, |object| {
        let cells = (printer.cells)(object, now);
        let conditions = printer.conditions.and_then(|conditions| conditions(object));
        (cells, conditions)
    })
}

/// A Table of built-in objects by their printer, or of custom objects by
/// their version's printer columns (`Some`).
pub(crate) fn build_for(
    request: &TableRequest<'_>,
    custom_columns: Option<&[custom::PrinterColumn]>,
    objects: &[Value],
    now: Timestamp,
) -> Value {
    match custom_columns {
        Some(columns) => custom::build_custom_table(request, columns, objects, now),
        None => build_table(request, objects, now),
    }
}

/// A Table of `objects` with `columns` (as JSON), each row's cells and
/// conditions from `row_of`.
fn assemble(
    request: &TableRequest<'_>,
    columns: Vec<Value>,
    objects: &[Value],
    row_of: impl Fn(&Value) -> (Vec<Value>, Option<Value>),
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let (cells, conditions) = row_of(object);
            let mut row = Map::new();
            row.insert("cells".to_string(), Value::Array(cells));
            if let Some(conditions) = conditions {
                row.insert("conditions".to_string(), conditions);
            }
            if let Some(embedded) = embedded_object(object, request.include_object) {
                row.insert("object".to_string(), embedded);
            }
            Value::Object(row)
        })
        .collect();
    let mut metadata = Map::new();
    if !request.resource_version.is_empty() {
        metadata.insert(
            "resourceVersion".to_string(),
            json!(request.resource_version),
        );
    }
    if !request.continue_token.is_empty() {
        metadata.insert("continue".to_string(), json!(request.continue_token));
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// One column of a Table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    /// `string`, `integer`, `boolean`, `date`…
    pub(crate) type_name: &'static str,
    /// `name` for the object-name column, else "".
    pub(crate) format: &'static str,
    pub(crate) description: &'static str,
    /// 0 for default columns, 1 for the `-o wide` ones.
    pub(crate) priority: i32,
}

impl Column {
    /// A default column.
    pub(super) const fn new(
        name: &'static str,
        type_name: &'static str,
        description: &'static str,
    ) -> Column {
        Column {
            name,
            type_name,
            format: "",
            description,
            priority: 0,
        }
    }

    /// The `Name` column.
    pub(super) const fn name() -> Column {
        Column {
            format: "name",
            ..Column::new("Name", "string", descriptions::NAME)
        }
    }

    /// The `Age` column.
    pub(super) const fn age() -> Column {
        Column::new("Age", "string", descriptions::CREATION_TIMESTAMP)
    }

    /// The same column shown only with `-o wide`.
    pub(super) const fn wide(self) -> Column {
        Column {
            priority: 1,
            ..self
        }
    }

    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_name,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// How one kind is printed: its columns and the cells of one object (every
/// column, wide ones included, as the server always prints wide).
pub(super) struct Printer {
    pub(super) columns: &'static [Column],
    pub(super) cells: fn(&Value, Timestamp) -> Vec<Value>,
    /// Row conditions (pods mark completed rows).
    pub(super) conditions: Option<fn(&Value) -> Option<Value>>,
}

impl Printer {
    pub(super) const fn new(
        columns: &'static [Column],
        cells: fn(&Value, Timestamp) -> Vec<Value>,
    ) -> Printer {
        Printer {
            columns,
            cells,
            conditions: None,
        }
    }
}

/// The printer of a resource plural, or the default table.
fn printer_for(plural: &str) -> &'static Printer {
    pods::printer(plural)
        .or_else(|| core::printer(plural))
        .or_else(|| workloads::printer(plural))
        .or_else(|| cluster::printer(plural))
        .unwrap_or(&DEFAULT_PRINTER)
}

const DEFAULT_COLUMNS: &[Column] = &[
    Column::name(),
    Column::new("Created At", "date", descriptions::CREATION_TIMESTAMP),
];

/// Kubernetes' default table convertor: the name and the creation time in
/// RFC 3339 (UTC, seconds), Go's zero time when unset.
const DEFAULT_PRINTER: Printer = Printer::new(DEFAULT_COLUMNS, |object, _now| {
    let created = age::parse_time(&object["metadata"]["creationTimestamp"])
        .map(|time| time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    vec![json!(fields::name(object)), json!(created)]
});

/// What a row carries as `object` for `include`.
fn embedded_object(object: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(object.clone()),
        IncludeObject::Metadata => Some(super::metadata::partial_object_metadata(object)),
    }
}

#[cfg(test)]
mod tests;
