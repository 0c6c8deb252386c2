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
    add_kind!(
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        CustomResourceDefinition,
        "customresourcedefinitions",
        true
    );

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

/// The documents served while custom resources exist: the built-in ones
/// with each custom resource version's schema (from its
/// `openAPIV3Schema`, with `apiVersion`, `kind` and `metadata` added and
/// `x-kubernetes-group-version-kind` set, so `kubectl explain` finds it)
/// added to `/openapi/v2`, one `/openapi/v3/apis/<group>/<version>`
/// document per custom group version, and the index listing them too.
#[derive(Debug)]
pub(crate) struct ServedDocuments {
    pub(crate) v2: prost::bytes::Bytes,
    pub(crate) v3_index: prost::bytes::Bytes,
    /// The custom group versions' documents, keyed as the index is.
    pub(crate) v3_custom: BTreeMap<String, prost::bytes::Bytes>,
}

impl ServedDocuments {
    /// The v3 document of `path`: a custom group version's, else the
    /// built-in one.
    pub(crate) fn v3_group_version(&self, path: &str) -> Option<prost::bytes::Bytes> {
        let path = path.trim_start_matches('/');
        if let Some(document) = self.v3_custom.get(path) {
            return Some(document.clone());
        }
        documents()
            .v3_group_version(path)
            .map(|document| prost::bytes::Bytes::from_static(&document.json))
    }
}

/// One custom resource version as the documents need it.
pub(crate) struct CustomSchema<'a> {
    pub(crate) info: &'a KindInfo,
    /// The version's `openAPIV3Schema` as JSON.
    pub(crate) schema: Value,
}

/// Kubernetes' definition name of a custom kind: the group reversed, then
/// version and kind (`com.example.v1.Widget`).
fn custom_definition_name(info: &KindInfo) -> String {
    let reversed: Vec<&str> = info.group.split('.').rev().collect();
    format!("{}.{}.{}", reversed.join("."), info.version, info.kind)
}

/// A custom kind's schema with the type and object metadata fields.
fn custom_definition(custom: &CustomSchema<'_>, metadata_ref: &str) -> Value {
    let mut schema = custom.schema.clone();
    if let Value::Object(map) = &mut schema {
        let properties = map
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(properties) = properties {
            properties.insert(
                "apiVersion".to_string(),
                json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}),
            );
            properties.insert(
                "kind".to_string(),
                json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}),
            );
            properties.insert(
                "metadata".to_string(),
                json!({"$ref": format!("{metadata_ref}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")}),
            );
        }
        map.insert(
            "x-kubernetes-group-version-kind".to_string(),
            json!([group_version_kind(custom.info)]),
        );
    }
    schema
}

/// The built-in v3 schemas of `meta/v1`, which custom documents reference.
fn meta_v1_schemas() -> &'static Map<String, Value> {
    static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let Some(core) = documents().v3_group_version("api/v1") else {
            return Map::new();
        };
        let parsed: Value = serde_json::from_slice(&core.json).unwrap_or(Value::Null);
        parsed
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .filter(|(name, _)| name.starts_with("io.k8s.apimachinery.pkg.apis.meta.v1."))
                    .map(|(name, schema)| (name.clone(), schema.clone()))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Builds the documents served with `customs` (at least one).
pub(crate) fn with_custom(customs: &[CustomSchema<'_>]) -> ServedDocuments {
    let built_in = documents();
    // `/openapi/v2`: the built-in document starts `{"definitions":{` (keys
    // are sorted); the custom definitions are spliced in after it.
    let mut extra = Vec::new();
    for custom in customs {
        let name = Value::String(custom_definition_name(custom.info)).to_string();
        extra.extend_from_slice(name.as_bytes());
        extra.push(b':');
        extra.extend_from_slice(
            custom_definition(custom, "#/definitions/")
                .to_string()
                .as_bytes(),
        );
        extra.push(b',');
    }
    const HEAD: &[u8] = b"{\"definitions\":{";
    let v2 = match built_in.v2.json.strip_prefix(HEAD) {
        Some(rest) if !rest.starts_with(b"}") => {
            let mut out = Vec::with_capacity(built_in.v2.json.len() + extra.len());
            out.extend_from_slice(HEAD);
            out.extend_from_slice(&extra);
            out.extend_from_slice(rest);
            out
        }
        _ => {
            let mut parsed: Value =
                serde_json::from_slice(&built_in.v2.json).unwrap_or(Value::Null);
            if let Some(Value::Object(definitions)) = parsed.get_mut("definitions") {
                for custom in customs {
                    definitions.insert(
                        custom_definition_name(custom.info),
                        custom_definition(custom, "#/definitions/"),
                    );
                }
            }
            serde_json::to_vec(&parsed).unwrap_or_default()
        }
    };
    let mut per_group_version: BTreeMap<String, Vec<&CustomSchema<'_>>> = BTreeMap::new();
    for custom in customs {
        per_group_version
            .entry(group_version_path(custom.info.group, custom.info.version))
            .or_default()
            .push(custom);
    }
    let mut v3_custom = BTreeMap::new();
    let mut index: Map<String, Value> = serde_json::from_slice::<Value>(&built_in.v3_index.json)
        .ok()
        .and_then(|index| index.get("paths").and_then(Value::as_object).cloned())
        .unwrap_or_default();
    for (path, kinds) in per_group_version {
        let mut schemas = meta_v1_schemas().clone();
        let mut paths = Map::new();
        for custom in kinds {
            let definition = custom_definition_name(custom.info);
            let mut item = patch_path_item(&definition, custom.info);
            // Custom resources take no strategic merge patch; kubectl reads
            // this to send merge patches instead.
            if let Some(Value::Object(content)) = item.pointer_mut("/patch/requestBody/content") {
                content.remove("application/strategic-merge-patch+json");
            }
            paths.insert(object_path(custom.info), item);
            schemas.insert(
                definition,
                custom_definition(custom, "#/components/schemas/"),
            );
        }
        let document = serialize(&json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
            "paths": paths,
            "components": {"schemas": schemas},
        }));
        let url = format!("/openapi/v3/{path}?hash={}", document.hash);
        index.insert(path.clone(), json!({"serverRelativeURL": url}));
        v3_custom.insert(path, prost::bytes::Bytes::from(document.json));
    }
    ServedDocuments {
        v2: prost::bytes::Bytes::from(v2),
        v3_index: prost::bytes::Bytes::from(serialize(&json!({"paths": index})).json),
        v3_custom,
    }
}
