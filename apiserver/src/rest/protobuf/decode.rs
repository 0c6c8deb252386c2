//! One message's bytes → a JSON object, walking the schema: known fields
//! become JSON by their value type and shape, unknown fields are skipped
//! as protobuf readers do, a later occurrence of a singular scalar
//! replaces an earlier one and of a message merges into it. Nesting is
//! limited to [`MAX_DEPTH`] messages.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::ProtobufError;
use super::schema::{Field, FieldShape, Message, ValueType};
use super::wire::{WireError, WireReader, WireType, WireValue};

/// The deepest nesting of messages accepted.
pub(crate) const MAX_DEPTH: usize = 100;

/// Where in the object a value sits, as a chain of JSON names, so errors
/// can name the field (`Pod.spec.containers.image`).
#[derive(Clone, Copy)]
pub(crate) struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: &'a str,
}

impl<'a> FieldPath<'a> {
    pub(crate) fn root(segment: &'a str) -> Self {
        FieldPath {
            parent: None,
            segment,
        }
    }

    fn child(&'a self, segment: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment,
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut segments = vec![self.segment];
        let mut current = self.parent;
        while let Some(path) = current {
            segments.push(path.segment);
            current = path.parent;
        }
        segments.retain(|segment| !segment.is_empty());
        segments.reverse();
        segments.join(".")
    }
}

/// Decodes `bytes` as `message` at nesting `depth` (the top object is 1).
pub(crate) fn decode_message(
    bytes: &[u8],
    message: &'static Message,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    let mut object = Map::new();
    decode_fields_into(&mut object, bytes, message, path, depth)?;
    Ok(object)
}

fn decode_fields_into(
    object: &mut Map<String, Value>,
    bytes: &[u8],
    message: &'static Message,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<(), ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep {
            field: path.render(),
            message: message.name,
            limit: MAX_DEPTH,
        });
    }
    let mut reader = WireReader::new(bytes);
    while let Some((number, wire_value)) = reader
        .next_field()
        .map_err(|error| wire_error(error, path))?
    {
        let Some(field) = message.field(number) else {
            continue;
        };
        let field_path = path.child(field.json_name);
        decode_field_into(object, field, wire_value, &field_path, depth)?;
    }
    Ok(())
}

fn decode_field_into(
    object: &mut Map<String, Value>,
    field: &'static Field,
    wire_value: WireValue<'_>,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<(), ProtobufError> {
    let json_name = field.json_name.to_string();
    match (field.shape, field.value_type) {
        (FieldShape::Inline, ValueType::Message(inner)) => {
            let bytes = length_delimited(wire_value, path)?;
            decode_fields_into(object, bytes, inner, path, depth + 1)
        }
        (FieldShape::Repeated, value_type) => {
            let slot = object
                .entry(json_name)
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = slot else {
                return Ok(());
            };
            match (wire_value, value_type) {
                (
                    WireValue::LengthDelimited(packed),
                    ValueType::Int32 | ValueType::Int64 | ValueType::Bool,
                ) => {
                    let mut reader = WireReader::new(packed);
                    while !reader.is_empty() {
                        let varint = reader.varint().map_err(|error| wire_error(error, path))?;
                        items.push(
                            decode_value(WireValue::Varint(varint), value_type, path, depth)?.value,
                        );
                    }
                }
                _ => items.push(decode_value(wire_value, value_type, path, depth)?.value),
            }
            Ok(())
        }
        (FieldShape::Map, value_type) => {
            let entry = length_delimited(wire_value, path)?;
            let (key, value) = decode_map_entry(entry, value_type, path, depth)?;
            let slot = object
                .entry(json_name)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(entries) = slot {
                entries.insert(key, value);
            }
            Ok(())
        }
        (FieldShape::OmitEmpty, value_type) => {
            let decoded = decode_value(wire_value, value_type, path, depth)?;
            if decoded.zero {
                object.remove(&json_name);
            } else {
                object.insert(json_name, decoded.value);
            }
            Ok(())
        }
        (_, ValueType::Message(inner))
            if matches!(object.get(&json_name), Some(Value::Object(_))) =>
        {
            // A message seen again merges into the first, as protobuf
            // readers (and Go's) do.
            let bytes = length_delimited(wire_value, path)?;
            match object.get_mut(&json_name) {
                Some(Value::Object(existing)) => {
                    decode_fields_into(existing, bytes, inner, path, depth + 1)
                }
                _ => Ok(()),
            }
        }
        (_, value_type) => {
            // A null (a zero Time, an empty RawExtension) is Go's JSON for
            // an unset value, so it is left out like one.
            let decoded = decode_value(wire_value, value_type, path, depth)?;
            if decoded.value.is_null() {
                object.remove(&json_name);
            } else {
                object.insert(json_name, decoded.value);
            }
            Ok(())
        }
    }
}

/// One map entry {key = 1, value = 2}; an absent value is the type's zero.
fn decode_map_entry(
    entry: &[u8],
    value_type: ValueType,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<(String, Value), ProtobufError> {
    let mut key = String::new();
    let mut value = None;
    let mut reader = WireReader::new(entry);
    while let Some((number, wire_value)) = reader
        .next_field()
        .map_err(|error| wire_error(error, path))?
    {
        match number {
            1 => key = decode_string(wire_value, path)?,
            2 => value = Some(decode_value(wire_value, value_type, path, depth)?.value),
            _ => {}
        }
    }
    let value = match value {
        Some(value) => value,
        None => zero_value(value_type, path, depth)?,
    };
    Ok((key, value))
}

fn zero_value(
    value_type: ValueType,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<Value, ProtobufError> {
    let wire_value = match expected_wire_type(value_type) {
        WireType::Varint => WireValue::Varint(0),
        _ => WireValue::LengthDelimited(&[]),
    };
    Ok(decode_value(wire_value, value_type, path, depth)?.value)
}

/// A decoded value and whether it is its type's zero (for `omitempty`).
struct Decoded {
    value: Value,
    zero: bool,
}

impl Decoded {
    fn new(value: Value, zero: bool) -> Self {
        Decoded { value, zero }
    }
}

fn decode_value(
    wire_value: WireValue<'_>,
    value_type: ValueType,
    path: &FieldPath<'_>,
    depth: usize,
) -> Result<Decoded, ProtobufError> {
    let expected = expected_wire_type(value_type);
    if wire_value.wire_type() != expected {
        return Err(ProtobufError::BadWireType {
            field: path.render(),
            expected: expected.number(),
            found: wire_value.wire_type().number(),
        });
    }
    let varint = match wire_value {
        WireValue::Varint(varint) => varint,
        _ => 0,
    };
    let bytes = match wire_value {
        WireValue::LengthDelimited(bytes) => bytes,
        _ => &[],
    };
    Ok(match value_type {
        ValueType::String => {
            let text = decode_string(wire_value, path)?;
            let zero = text.is_empty();
            Decoded::new(Value::String(text), zero)
        }
        // Protobuf's int32 is the low 32 bits of a sign-extended varint.
        ValueType::Int32 => Decoded::new(Value::from(varint as i64 as i32), varint as i32 == 0),
        ValueType::Int64 => Decoded::new(Value::from(varint as i64), varint == 0),
        ValueType::Bool => Decoded::new(Value::Bool(varint != 0), varint == 0),
        ValueType::Bytes => Decoded::new(Value::String(STANDARD.encode(bytes)), bytes.is_empty()),
        ValueType::Message(message) => {
            let object = decode_message(bytes, message, path, depth + 1)?;
            Decoded::new(Value::Object(object), false)
        }
        ValueType::Time => decode_time(bytes, path, false)?,
        ValueType::MicroTime => decode_time(bytes, path, true)?,
        ValueType::Quantity => {
            let mut text = String::new();
            for_each_field(bytes, path, |number, wire_value| {
                if number == 1 {
                    text = decode_string(wire_value, path)?;
                }
                Ok(())
            })?;
            let zero = text.is_empty();
            Decoded::new(Value::String(text), zero)
        }
        ValueType::IntOrString => decode_int_or_string(bytes, path)?,
        ValueType::RawJson => {
            let mut raw: &[u8] = &[];
            for_each_field(bytes, path, |number, wire_value| {
                if number == 1 {
                    raw = length_delimited(wire_value, path)?;
                }
                Ok(())
            })?;
            if raw.is_empty() {
                Decoded::new(Value::Null, true)
            } else {
                let value = serde_json::from_slice(raw).map_err(|error| {
                    ProtobufError::InvalidEmbeddedJson {
                        field: path.render(),
                        reason: error.to_string(),
                    }
                })?;
                Decoded::new(value, false)
            }
        }
        ValueType::StringList => {
            let mut items = Vec::new();
            for_each_field(bytes, path, |number, wire_value| {
                if number == 1 {
                    items.push(Value::String(decode_string(wire_value, path)?));
                }
                Ok(())
            })?;
            let zero = items.is_empty();
            Decoded::new(Value::Array(items), zero)
        }
    })
}

fn expected_wire_type(value_type: ValueType) -> WireType {
    match value_type {
        ValueType::Int32 | ValueType::Int64 | ValueType::Bool => WireType::Varint,
        _ => WireType::LengthDelimited,
    }
}

/// Calls `visit` with every field of a small fixed message.
fn for_each_field<'a>(
    bytes: &'a [u8],
    path: &FieldPath<'_>,
    mut visit: impl FnMut(u32, WireValue<'a>) -> Result<(), ProtobufError>,
) -> Result<(), ProtobufError> {
    let mut reader = WireReader::new(bytes);
    while let Some((number, wire_value)) = reader
        .next_field()
        .map_err(|error| wire_error(error, path))?
    {
        visit(number, wire_value)?;
    }
    Ok(())
}

/// `intstr.IntOrString`: type 1 is a string, anything else an int.
fn decode_int_or_string(bytes: &[u8], path: &FieldPath<'_>) -> Result<Decoded, ProtobufError> {
    let mut is_string = false;
    let mut int_value: i32 = 0;
    let mut string_value = String::new();
    for_each_field(bytes, path, |number, wire_value| {
        match (number, wire_value) {
            (1, WireValue::Varint(kind)) => is_string = kind == 1,
            (2, WireValue::Varint(varint)) => int_value = varint as i64 as i32,
            (3, _) => string_value = decode_string(wire_value, path)?,
            (1 | 2, other) => {
                return Err(ProtobufError::BadWireType {
                    field: path.render(),
                    expected: WireType::Varint.number(),
                    found: other.wire_type().number(),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(if is_string {
        Decoded::new(Value::String(string_value), false)
    } else {
        Decoded::new(Value::from(int_value), int_value == 0)
    })
}

/// `metav1.Time` and `MicroTime` {seconds = 1, nanos = 2}, as Kubernetes
/// writes them in JSON: UTC, RFC 3339, to the second or the microsecond.
/// The zero time is Go's `null`, so it counts as empty.
fn decode_time(bytes: &[u8], path: &FieldPath<'_>, micro: bool) -> Result<Decoded, ProtobufError> {
    let mut seconds: i64 = 0;
    let mut nanos: i64 = 0;
    for_each_field(bytes, path, |number, wire_value| {
        match (number, wire_value) {
            (1, WireValue::Varint(varint)) => seconds = varint as i64,
            (2, WireValue::Varint(varint)) => nanos = i64::from(varint as i64 as i32),
            (1 | 2, other) => {
                return Err(ProtobufError::BadWireType {
                    field: path.render(),
                    expected: WireType::Varint.number(),
                    found: other.wire_type().number(),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    if seconds == 0 && nanos == 0 {
        return Ok(Decoded::new(Value::Null, true));
    }
    let out_of_range = || ProtobufError::TimeOutOfRange {
        field: path.render(),
        seconds,
    };
    let instant = time::OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| out_of_range())?;
    if !(0..=9999).contains(&instant.year()) || !(0..1_000_000_000).contains(&nanos) {
        return Err(out_of_range());
    }
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second()
    );
    if micro {
        text.push_str(&format!(".{:06}", nanos / 1000));
    }
    text.push('Z');
    Ok(Decoded::new(Value::String(text), false))
}

fn decode_string(wire_value: WireValue<'_>, path: &FieldPath<'_>) -> Result<String, ProtobufError> {
    let bytes = length_delimited(wire_value, path)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
        field: path.render(),
    })
}

fn length_delimited<'a>(
    wire_value: WireValue<'a>,
    path: &FieldPath<'_>,
) -> Result<&'a [u8], ProtobufError> {
    match wire_value {
        WireValue::LengthDelimited(bytes) => Ok(bytes),
        other => Err(ProtobufError::BadWireType {
            field: path.render(),
            expected: WireType::LengthDelimited.number(),
            found: other.wire_type().number(),
        }),
    }
}

pub(crate) fn wire_error(error: WireError, path: &FieldPath<'_>) -> ProtobufError {
    let field = path.render();
    match error {
        WireError::Truncated => ProtobufError::Truncated { field },
        WireError::VarintTooLong => ProtobufError::VarintTooLong { field },
        WireError::BadFieldNumber(number) => ProtobufError::BadFieldNumber { field, number },
        WireError::UnsupportedWireType(wire_type) => {
            ProtobufError::UnsupportedWireType { field, wire_type }
        }
    }
}
