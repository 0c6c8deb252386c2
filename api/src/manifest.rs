//! Reading and writing manifests: YAML (several documents) or JSON (one
//! object or a `List`) into typed objects of any served kind, dispatched by
//! `apiVersion` and `kind`. Unknown fields are ignored on read, as
//! `k8s-openapi` ignores them, so what Skiff models round-trips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::{ApiObject, FieldErrors, KindInfo};

/// A manifest that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_saphyr::Error),
    #[error("cannot write YAML: {0}")]
    YamlWrite(#[from] serde_saphyr::SerializeError),
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("document {document} is not an object with `apiVersion` and `kind`")]
    MissingTypeMeta { document: usize },
    #[error("document {document}: unknown kind {kind:?} in apiVersion {api_version:?}")]
    UnknownKind {
        document: usize,
        api_version: String,
        kind: String,
    },
    #[error("document {document}: cannot decode {kind}: {source}")]
    Decode {
        document: usize,
        kind: String,
        #[source]
        source: serde_json::Error,
    },
}

macro_rules! any_object {
    ($( ($t:ty, $variant:ident, $plural:literal, $status:literal) ),*) => {
        /// One object of any kind Skiff serves.
        // Objects are built once per document and rarely moved, so unboxed
        // variants keep matching simple at no measurable cost.
        #[allow(clippy::large_enum_variant, reason = "objects are rarely moved")]
        #[derive(Clone, Debug, PartialEq)]
        pub enum AnyObject {
            $( $variant($t), )*
        }

        impl AnyObject {
            /// The kind's static facts.
            pub fn info(&self) -> &'static KindInfo {
                match self {
                    $( AnyObject::$variant(_) => &<$t as ApiObject>::INFO, )*
                }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $( AnyObject::$variant(object) => k8s_openapi::Metadata::metadata(object), )*
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $( AnyObject::$variant(object) => k8s_openapi::Metadata::metadata_mut(object), )*
                }
            }

            /// Applies the kind's defaults.
            pub fn apply_defaults(&mut self) {
                match self {
                    $( AnyObject::$variant(object) => object.apply_defaults(), )*
                }
            }

            /// Validates the object as new.
            pub fn validate_create(&self) -> Result<(), FieldErrors> {
                match self {
                    $( AnyObject::$variant(object) => object.validate_create(), )*
                }
            }

            /// The object as a JSON value (with `apiVersion` and `kind`).
            pub fn to_value(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $( AnyObject::$variant(object) => serde_json::to_value(object), )*
                }
            }

            /// Decodes a JSON value whose `apiVersion` and `kind` name a served kind.
            pub fn from_value(value: Value) -> Result<AnyObject, ManifestError> {
                decode(0, value)
            }

            fn decode_known(
                document: usize,
                api_version: &str,
                kind: &str,
                value: Value,
            ) -> Result<AnyObject, ManifestError> {
                $(
                    if <$t as k8s_openapi::Resource>::API_VERSION == api_version
                        && <$t as k8s_openapi::Resource>::KIND == kind
                    {
                        return serde_json::from_value::<$t>(value)
                            .map(AnyObject::$variant)
                            .map_err(|source| ManifestError::Decode {
                                document,
                                kind: kind.to_string(),
                                source,
                            });
                    }
                )*
                Err(ManifestError::UnknownKind {
                    document,
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                })
            }
        }

        impl serde::Serialize for AnyObject {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( AnyObject::$variant(object) => object.serialize(serializer), )*
                }
            }
        }
    };
}

crate::with_all_kinds!(any_object);

fn decode(document: usize, value: Value) -> Result<AnyObject, ManifestError> {
    let type_meta = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
    let (Some(api_version), Some(kind)) = (type_meta("apiVersion"), type_meta("kind")) else {
        return Err(ManifestError::MissingTypeMeta { document });
    };
    AnyObject::decode_known(document, &api_version, &kind, value)
}

/// Decodes parsed documents, expanding `List` kinds (`kind: List`,
/// `PodList`, ...) into their items; `null` documents are skipped.
fn decode_documents(documents: Vec<Value>) -> Result<Vec<AnyObject>, ManifestError> {
    let mut objects = Vec::new();
    for (document, value) in documents.into_iter().enumerate() {
        if value.is_null() {
            continue;
        }
        let is_list = value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array);
        if !is_list {
            objects.push(decode(document, value)?);
        } else if let Value::Object(mut map) = value
            && let Some(Value::Array(items)) = map.remove("items")
        {
            for item in items {
                objects.push(decode(document, item)?);
            }
        }
    }
    Ok(objects)
}

/// Parses a YAML or JSON manifest (JSON when it starts with `{` or `[`).
pub fn parse_manifest(text: &str) -> Result<Vec<AnyObject>, ManifestError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let value: Value = serde_json::from_str(trimmed).map_err(ManifestError::Json)?;
        return match value {
            Value::Array(items) => decode_documents(items),
            other => decode_documents(vec![other]),
        };
    }
    let documents: Vec<Value> = serde_saphyr::from_multiple(text)?;
    decode_documents(documents)
}

/// Writes objects as YAML documents separated by `---`.
pub fn to_yaml(objects: &[AnyObject]) -> Result<String, ManifestError> {
    let mut out = String::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_saphyr::to_string(object)?);
    }
    Ok(out)
}

/// Writes one object as pretty JSON, or several as a `v1` `List`.
pub fn to_json(objects: &[AnyObject]) -> Result<String, ManifestError> {
    let result = match objects {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(&serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": many,
        })),
    };
    result.map_err(ManifestError::Json)
}
