//! Kubernetes protobuf request bodies → the JSON the REST handler already
//! reads. Since Kubernetes 1.31 client-go's typed clients (and so `kubectl
//! create namespace`, `create deployment`, `auth can-i`, `auth whoami`,
//! `create token`, the DELETE of `drain --disable-eviction`, …) send
//! `application/vnd.kubernetes.protobuf` (kubectl 1.32 still posts an
//! Eviction as JSON): the magic
//! `k8s\0`, then a `runtime.Unknown` {typeMeta = 1 {apiVersion = 1,
//! kind = 2}, raw = 2, contentEncoding = 3, contentType = 4} whose `raw`
//! is the object's own message (`staging/src/k8s.io/apimachinery/pkg/
//! runtime/generated.proto`, and the serializer in `runtime/serializer/
//! protobuf/protobuf.go`).
//!
//! `wire` reads the wire format, `schema` holds the field tables (one file
//! per API group, from the groups' `generated.proto` and the JSON tags of
//! their `types.go`), `decode` walks a message by its table into JSON.
//! The JSON is what Go's JSON encoding of the same object would be, with
//! one deliberate difference: go-to-protobuf writes a Go non-pointer
//! string, number or bool even when it is zero, so a zero value of a field
//! whose JSON tag says `omitempty` is dropped (and a zero Time, empty
//! Quantity or IntOrString 0 in a non-pointer field too, which Go holds as
//! "unset"); pointers keep zero values (`replicas: 0`), and nested
//! non-pointer messages appear even when empty (`resources: {}`), as in
//! Go's JSON. Map keys and repeated fields keep their wire order.
//!
//! Left out: kinds outside `schema::ROOTS` (an unknown kind is an error
//! naming it), `metav1.Duration` and floating-point fields (none occur in
//! the covered messages), and bodies whose envelope names a content
//! encoding (client-go sends none).

mod decode;
mod schema;
mod wire;

#[cfg(test)]
mod tests;

use serde_json::Value;

use decode::FieldPath;
use wire::{WireReader, WireValue};

/// The media type of Kubernetes protobuf bodies.
pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Why a protobuf body could not become JSON; each is the client's fault
/// (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProtobufError {
    #[error("the body is not Kubernetes protobuf: it does not start with the magic \"k8s\\0\"")]
    MissingMagic,
    #[error("the protobuf body ends early, inside {field}")]
    Truncated { field: String },
    #[error("the protobuf body has a varint longer than ten bytes in {field}")]
    VarintTooLong { field: String },
    #[error("the protobuf body has field number {number} in {field}")]
    BadFieldNumber { field: String, number: u64 },
    #[error("the protobuf body has unsupported wire type {wire_type} in {field}")]
    UnsupportedWireType { field: String, wire_type: u8 },
    #[error("field {field} has wire type {found} where {expected} was expected")]
    BadWireType {
        field: String,
        expected: u8,
        found: u8,
    },
    #[error("no protobuf decoding is known for kind {kind:?} of apiVersion {api_version:?}")]
    UnknownKind { api_version: String, kind: String },
    #[error("the protobuf body nests messages deeper than {limit}, at {field} ({message})")]
    TooDeep {
        field: String,
        message: &'static str,
        limit: usize,
    },
    #[error("field {field} is not valid UTF-8")]
    InvalidUtf8 { field: String },
    #[error("field {field} does not hold valid JSON: {reason}")]
    InvalidEmbeddedJson { field: String, reason: String },
    #[error("field {field} holds a time out of range ({seconds} seconds since 1970)")]
    TimeOutOfRange { field: String, seconds: i64 },
    #[error("the protobuf envelope's content encoding {0:?} is not supported")]
    UnsupportedContentEncoding(String),
    #[error("the protobuf envelope's content type {0:?} is not supported")]
    UnsupportedContentType(String),
}

/// The magic that starts every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

/// Decodes a whole request body into the object as JSON, `apiVersion` and
/// `kind` (from the envelope) included.
pub(crate) fn decode_request(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = bytes
        .strip_prefix(MAGIC)
        .ok_or(ProtobufError::MissingMagic)?;
    let unknown = read_envelope(envelope)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedContentEncoding(
            unknown.content_encoding,
        ));
    }
    if !matches!(unknown.content_type.as_str(), "" | MEDIA_TYPE) {
        return Err(ProtobufError::UnsupportedContentType(unknown.content_type));
    }
    let message = schema::root_message(&unknown.api_version, &unknown.kind).ok_or_else(|| {
        ProtobufError::UnknownKind {
            api_version: unknown.api_version.clone(),
            kind: unknown.kind.clone(),
        }
    })?;
    let path = FieldPath::root(&unknown.kind);
    let fields = decode::decode_message(unknown.raw, message, &path, 1)?;
    let mut object = serde_json::Map::new();
    object.insert("apiVersion".into(), Value::String(unknown.api_version));
    object.insert("kind".into(), Value::String(unknown.kind));
    object.extend(fields);
    Ok(Value::Object(object))
}

/// The fields of `runtime.Unknown` the decoder uses.
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

fn read_envelope(bytes: &[u8]) -> Result<Envelope<'_>, ProtobufError> {
    let path = FieldPath::root("Unknown");
    let mut envelope = Envelope {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
        content_encoding: String::new(),
        content_type: String::new(),
    };
    let mut reader = WireReader::new(bytes);
    while let Some((number, wire_value)) = reader
        .next_field()
        .map_err(|error| decode::wire_error(error, &path))?
    {
        match number {
            1 => {
                let type_meta_path = FieldPath::root("Unknown.typeMeta");
                let type_meta = envelope_bytes(wire_value, &type_meta_path)?;
                let mut type_meta_reader = WireReader::new(type_meta);
                while let Some((number, wire_value)) = type_meta_reader
                    .next_field()
                    .map_err(|error| decode::wire_error(error, &type_meta_path))?
                {
                    match number {
                        1 => {
                            envelope.api_version =
                                envelope_string(wire_value, "Unknown.typeMeta.apiVersion")?
                        }
                        2 => envelope.kind = envelope_string(wire_value, "Unknown.typeMeta.kind")?,
                        _ => {}
                    }
                }
            }
            2 => envelope.raw = envelope_bytes(wire_value, &FieldPath::root("Unknown.raw"))?,
            3 => {
                envelope.content_encoding = envelope_string(wire_value, "Unknown.contentEncoding")?
            }
            4 => envelope.content_type = envelope_string(wire_value, "Unknown.contentType")?,
            _ => {}
        }
    }
    Ok(envelope)
}

fn envelope_bytes<'a>(
    wire_value: WireValue<'a>,
    path: &FieldPath<'_>,
) -> Result<&'a [u8], ProtobufError> {
    match wire_value {
        WireValue::LengthDelimited(bytes) => Ok(bytes),
        other => Err(ProtobufError::BadWireType {
            field: path.render(),
            expected: wire::WireType::LengthDelimited.number(),
            found: other.wire_type().number(),
        }),
    }
}

fn envelope_string(wire_value: WireValue<'_>, field: &str) -> Result<String, ProtobufError> {
    let bytes = envelope_bytes(wire_value, &FieldPath::root(field))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
        field: field.to_string(),
    })
}
