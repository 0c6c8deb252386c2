//! The OpenAPI documents of the REST face: `/openapi/v2` (Swagger 2.0),
//! the `/openapi/v3` index and one OpenAPI 3.0 document per group-version
//! (`/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`, …).
//!
//! The schemas are generated from the Rust types (`k8s-openapi`'s
//! `schemars` implementations, which carry Kubernetes' definition names
//! such as `io.k8s.api.core.v1.Pod`), not written by hand. Each served kind
//! gets `x-kubernetes-group-version-kind`, so `kubectl explain` finds it,
//! and the fields tagged in the strategic-merge table
//! ([`crate::patch::merge_keys`]) get `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key` and `x-kubernetes-list-type`, which
//! `kubectl apply` reads to build its patches. Each v3 document also lists
//! the patch operation of its kinds with the `fieldValidation` parameter,
//! which is how `kubectl` learns that the server validates fields and skips
//! its own validation (that would need the protobuf form of `/openapi/v2`,
//! not served). The documents are large, so
//! they are built once, on first use, and kept serialized.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use api::KindInfo;

use crate::patch::merge_keys::{self, ListStrategy};

/// One serialized document and the hash that versions its URL.
#[derive(Debug)]
pub(crate) struct OpenApiDocument {
    pub(crate) json: Vec<u8>,
    /// Upper-case hex of a 64-bit FNV-1a hash of `json`; it changes when
    /// the document does, as the `?hash=` of Kubernetes' index does.
    pub(crate) hash: String,
}

/// Every document, built together.
#[derive(Debug)]
pub(crate) struct OpenApiDocuments {
    pub(crate) v2: OpenApiDocument,
    pub(crate) v3_index: OpenApiDocument,
    /// Keyed by the index path: `api/v1`, `apis/apps/v1`.
    pub(crate) v3_group_versions: BTreeMap<String, OpenApiDocument>,
}

impl OpenApiDocuments {
    /// The v3 document of `path` (`api/v1`, `apis/apps/v1`; a leading `/`
    /// is accepted).
    pub(crate) fn v3_group_version(&self, path: &str) -> Option<&OpenApiDocument> {
        self.v3_group_versions.get(path.trim_start_matches('/'))
    }
}

/// The documents, built on first call.
pub(crate) fn documents() -> &'static OpenApiDocuments {
    static DOCUMENTS: OnceLock<OpenApiDocuments> = OnceLock::new();
    DOCUMENTS.get_or_init(build_documents)
}

/// The kubernetes version the documents claim, as `info.version`.
const KUBERNETES_VERSION: &str = "v1.34.0";

/// The schemas one generator collected, and the kinds among them.
struct SchemaCollection {
    generator: SchemaGenerator,
    /// Each served kind with its definition name.
    kinds: Vec<(String, KindInfo)>,
}

impl SchemaCollection {
    fn new(settings: SchemaSettings) -> SchemaCollection {
        SchemaCollection {
            generator: settings.into_generator(),
            kinds: Vec::new(),
        }
    }

    fn add<T: JsonSchema + api::ApiObject>(&mut self) {
        self.generator.subschema_for::<T>();
        self.kinds.push((T::schema_name().into_owned(), T::INFO));
    }

    /// The patch operation of each kind, with the query parameters
    /// `kubectl` looks for (`fieldValidation` tells it the server
    /// validates fields itself).
    fn patch_paths(&self) -> Map<String, Value> {
        self.kinds
            .iter()
            .map(|(definition, kind)| (object_path(kind), patch_path_item(definition, kind)))
            .collect()
    }

    /// The definitions, annotated with the Kubernetes extensions.
    fn into_definitions(mut self) -> Map<String, Value> {
        let mut definitions = self.generator.take_definitions(true);
        for (name, kind) in &self.kinds {
            if let Some(Value::Object(schema)) = definitions.get_mut(name) {
                schema.insert(
                    "x-kubernetes-group-version-kind".to_string(),
                    json!([group_version_kind(kind)]),
                );
            }
        }
        annotate_patch_metadata(&mut definitions);
        definitions
    }
}

/// Adds the strategic-merge tags to the properties they describe.
fn annotate_patch_metadata(definitions: &mut Map<String, Value>) {
    for type_schema in merge_keys::all_types() {
        let Some(Value::Object(properties)) = definitions
            .get_mut(type_schema.name)
            .and_then(|schema| schema.get_mut("properties"))
        else {
            continue;
        };
        for field in type_schema.fields {
            let Some(Value::Object(property)) = properties.get_mut(field.name) else {
                continue;
            };
            if let Some(strategy) = field.meta.patch_strategy_extension() {
                property.insert("x-kubernetes-patch-strategy".to_string(), json!(strategy));
            }
            match field.meta.list_strategy {
                ListStrategy::MergeByKey(key) => {
                    property.insert("x-kubernetes-patch-merge-key".to_string(), json!(key));
                    property.insert("x-kubernetes-list-type".to_string(), json!("map"));
                    property.insert("x-kubernetes-list-map-keys".to_string(), json!([key]));
                }
                ListStrategy::MergePrimitives => {
                    property.insert("x-kubernetes-list-type".to_string(), json!("set"));
                }
                ListStrategy::Replace => {}
            }
        }
    }
}

fn group_version_kind(kind: &KindInfo) -> Value {
    json!({"group": kind.group, "kind": kind.kind, "version": kind.version})
}

/// `/api/v1/namespaces/{namespace}/pods/{name}`, `/apis/apps/v1/…`.
fn object_path(kind: &KindInfo) -> String {
    let prefix = group_version_path(kind.group, kind.version);
    if kind.namespaced {
        format!(
            "/{prefix}/namespaces/{{namespace}}/{}/{{name}}",
            kind.plural
        )
    } else {
        format!("/{prefix}/{}/{{name}}", kind.plural)
    }
}

fn patch_path_item(definition: &str, kind: &KindInfo) -> Value {
    let string_parameter = |name: &str, place: &str| json!({"name": name, "in": place, "required": place == "path", "schema": {"type": "string"}});
    let mut path_parameters = vec![string_parameter("name", "path")];
    if kind.namespaced {
        path_parameters.push(string_parameter("namespace", "path"));
    }
    let object_schema = json!({"schema": {"$ref": format!("#/components/schemas/{definition}")}});
    let patch_body = json!({"schema": {"type": "object"}});
    json!({
        "parameters": path_parameters,
        "patch": {
            "operationId": format!("patch{}", kind.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": group_version_kind(kind),
            "parameters": [
                string_parameter("dryRun", "query"),
                string_parameter("fieldManager", "query"),
                string_parameter("fieldValidation", "query"),
                {"name": "force", "in": "query", "schema": {"type": "boolean"}},
            ],
            "requestBody": {"content": {
                "application/json-patch+json": patch_body,
                "application/merge-patch+json": patch_body,
                "application/strategic-merge-patch+json": patch_body,
                "application/apply-patch+yaml": patch_body,
            }},
            "responses": {
                "200": {"description": "OK", "content": {"application/json": object_schema}},
                "201": {"description": "Created", "content": {"application/json": object_schema}},
            },
        },
    })
}

fn build_documents() -> OpenApiDocuments {
    let mut all_kinds = SchemaCollection::new(swagger2_settings());
    let mut per_group_version: BTreeMap<String, SchemaCollection> = BTreeMap::new();
    macro_rules! add_kind {
        ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
            all_kinds.add::<$t>();
            per_group_version
                .entry(group_version_path(
                    <$t as k8s_openapi::Resource>::GROUP,
                    <$t as k8s_openapi::Resource>::VERSION,
                ))
                .or_insert_with(|| SchemaCollection::new(SchemaSettings::openapi3()))
                .add::<$t>();
        };
    }
    api::for_each_kind!(add_kind);

    let v2 = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": {},
        "definitions": all_kinds.into_definitions(),
    });
    let v3_group_versions: BTreeMap<String, OpenApiDocument> = per_group_version
        .into_iter()
        .map(|(path, collection)| {
            let paths = collection.patch_paths();
            let document = json!({
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
                "paths": paths,
                "components": {"schemas": collection.into_definitions()},
            });
            (path, serialize(&document))
        })
        .collect();
    let index_paths: Map<String, Value> = v3_group_versions
        .iter()
        .map(|(path, document)| {
            let url = format!("/openapi/v3/{path}?hash={}", document.hash);
            (path.clone(), json!({"serverRelativeURL": url}))
        })
        .collect();
    OpenApiDocuments {
        v2: serialize(&v2),
        v3_index: serialize(&json!({"paths": index_paths})),
        v3_group_versions,
    }
}

/// Swagger 2.0 keeps its schemas under `definitions` and allows
/// `description` beside `$ref`, as Kubernetes' own v2 document has it.
fn swagger2_settings() -> SchemaSettings {
    SchemaSettings::draft07().with(|settings| {
        settings.meta_schema = None;
        settings.transforms.clear();
    })
}

/// `api/v1` for the core group, `apis/<group>/<version>` otherwise.
fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn serialize(document: &Value) -> OpenApiDocument {
    // Serializing a `Value` cannot fail: its keys are strings.
    let json = serde_json::to_vec(document).unwrap_or_default();
    let hash = format!("{:016X}", fnv1a_64(&json));
    OpenApiDocument { json, hash }
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
