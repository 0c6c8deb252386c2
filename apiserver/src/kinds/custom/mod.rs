//! Custom resources: the kinds CustomResourceDefinitions add at runtime.
//!
//! Each served version of a CustomResourceDefinition becomes one
//! [`CustomKind`], a [`KindOps`] over JSON values with a runtime
//! [`KindInfo`] and the version's compiled structural schema, so requests
//! take the same path (handler, verbs' helpers, store keys, watch cache)
//! as built-in kinds. The served set ([`CustomResources`]) is an immutable
//! map swapped whole (`arc-swap`) when a definition changes, so looking a
//! kind up costs one atomic load and built-in kinds (found first, in the
//! static table) pay nothing.
//!
//! The set follows the store: [`keep_current`] lists every definition at
//! start and on each change (so restarts and other apiservers see the same
//! set), and a create applies its definition at once, so a client may use
//! the resource as soon as the create returns.
//!
//! A `KindInfo` has `&'static str` fields (built-in kinds' are constants);
//! a custom kind's is leaked once per distinct value ([`intern_info`]), so
//! re-registering a definition reuses it and the leak is bounded by the
//! distinct definitions ever served.

mod verbs;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use api::KindInfo;
use api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceSubresourceScale,
};
use api::structural::Schema;
use arc_swap::ArcSwap;
use prost::bytes::Bytes;
use serde_json::Value;
use store::Revision;

use super::{BoxFuture, KindOps};
use crate::error::ApiError;
use crate::request::Attributes;
use crate::rest::openapi::{self, CustomSchema, ServedDocuments};
use crate::rest::resources::{ResourceRow, ResponseKind};
use crate::state::ApiState;
use crate::verbs::{DeleteOptions, Deleted, ListOptions, Patcher, WriteOptions};
use crate::watch_cache::WatchMessage;

/// The plural of CustomResourceDefinitions, their resource in the store.
pub(crate) const CRD_PLURAL: &str = "customresourcedefinitions";

/// One served version of a custom resource.
pub(crate) struct CustomKind {
    info: &'static KindInfo,
    /// The version's compiled `openAPIV3Schema`.
    pub(crate) schema: Schema,
    /// The schema as written, for the OpenAPI documents.
    raw_schema: Value,
    /// The `scale` subresource, if declared.
    pub(crate) scale: Option<CustomResourceSubresourceScale>,
    /// `additionalPrinterColumns`.
    pub(crate) columns: Vec<CustomResourceColumnDefinition>,
    /// This version's `group/version`.
    pub(crate) api_version: String,
    /// The `group/version` objects are stored in; with the conversion
    /// strategy `None`, only `apiVersion` differs between versions.
    pub(crate) storage_api_version: String,
}

impl CustomKind {
    /// A stored object (as sent to clients) in this version: its
    /// `apiVersion` set to this version's when it was stored in another.
    pub(crate) fn in_version(&self, wire: Bytes) -> Result<Bytes, ApiError> {
        match in_api_version(&wire, &self.api_version) {
            Some(converted) => Ok(converted),
            None => Ok(wire),
        }
    }

    /// `value` (an object about to be stored) in the storage version.
    fn to_storage(&self, value: &mut Value) {
        crate::object::as_map(value).insert(
            "apiVersion".to_string(),
            Value::String(self.storage_api_version.clone()),
        );
    }
}

/// `wire` (an object's JSON) with `apiVersion` set to `api_version`, or
/// `None` if it has it already. Objects are encoded with sorted keys, so
/// `apiVersion` comes first and the check reads only the head.
pub(crate) fn in_api_version(wire: &[u8], api_version: &str) -> Option<Bytes> {
    let needle = format!("\"apiVersion\":\"{api_version}\"");
    let head = wire.get(..needle.len() + 16).unwrap_or(wire);
    if head
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
    {
        return None;
    }
    let mut value: Value = serde_json::from_slice(wire).ok()?;
    if value.get("apiVersion").and_then(Value::as_str) == Some(api_version) {
        return None;
    }
    crate::object::as_map(&mut value).insert(
        "apiVersion".to_string(),
        Value::String(api_version.to_string()),
    );
    crate::object::to_wire(&value).ok()
}

/// Everything one CustomResourceDefinition serves.
struct Definition {
    /// The definition's mod revision when it was applied.
    revision: Revision,
    /// Served versions by name.
    versions: HashMap<String, Arc<CustomKind>>,
    /// The storage version's kind (also served or not, it names the keys).
    storage: Arc<CustomKind>,
    /// Discovery rows, one per served version.
    rows: Vec<ResourceRow>,
}

/// One immutable generation of the served set.
#[derive(Default)]
struct Served {
    /// Definitions by resource key (`<plural>.<group>` = the CRD's name).
    by_key: HashMap<String, Arc<Definition>>,
    /// Every served version's discovery row.
    rows: Arc<Vec<ResourceRow>>,
    /// The OpenAPI documents with these resources, built on first request.
    openapi: OnceLock<Arc<ServedDocuments>>,
}

/// The custom resources this apiserver serves.
pub(crate) struct CustomResources {
    served: ArcSwap<Served>,
    /// Serializes writers of `served` (readers never take it). std mutex:
    /// held only to build and swap a generation, never across an await.
    writer: Mutex<Tombstones>,
}

/// Definitions removed, by name, with the revision of their removal, so a
/// late event cannot bring one back.
#[derive(Default)]
struct Tombstones(HashMap<String, Revision>);

impl Default for CustomResources {
    fn default() -> Self {
        CustomResources {
            served: ArcSwap::from_pointee(Served::default()),
            writer: Mutex::new(Tombstones::default()),
        }
    }
}

impl CustomResources {
    /// The kind stored under `resource_key` (`<plural>.<group>`): the
    /// definition's storage version.
    pub(crate) fn get(&self, resource_key: &str) -> Option<Arc<dyn KindOps>> {
        let served = self.served.load();
        let definition = served.by_key.get(resource_key)?;
        Some(definition.storage.clone() as Arc<dyn KindOps>)
    }

    /// The kind served at `/apis/<group>/<version>/<plural>`.
    pub(crate) fn resolve(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<dyn KindOps>> {
        let served = self.served.load();
        let definition = served.by_key.get(&format!("{plural}.{group}"))?;
        let kind = definition.versions.get(version)?;
        Some(kind.clone() as Arc<dyn KindOps>)
    }

    /// The discovery rows of every served version.
    pub(crate) fn rows(&self) -> Arc<Vec<ResourceRow>> {
        self.served.load().rows.clone()
    }

    /// The OpenAPI documents with the served custom resources; `None`
    /// while there are none (the built-in documents are then served).
    pub(crate) fn openapi(&self) -> Option<Arc<ServedDocuments>> {
        let served = self.served.load_full();
        if served.by_key.is_empty() {
            return None;
        }
        let documents = served.openapi.get_or_init(|| {
            let mut kinds: Vec<&Arc<CustomKind>> = served
                .by_key
                .values()
                .flat_map(|definition| definition.versions.values())
                .collect();
            kinds.sort_by_key(|kind| (kind.info.resource_key, kind.info.version));
            let schemas: Vec<CustomSchema<'_>> = kinds
                .iter()
                .map(|kind| CustomSchema {
                    info: kind.info,
                    schema: kind.raw_schema.clone(),
                })
                .collect();
            Arc::new(openapi::with_custom(&schemas))
        });
        Some(documents.clone())
    }

    /// Serves `crd` as stored at `revision` (a no-op if a newer state of it
    /// is already applied, or it was removed later).
    pub(crate) fn apply(&self, crd: &CustomResourceDefinition, revision: Revision) {
        let Some(name) = crd.metadata.name.clone() else {
            return;
        };
        let mut tombstones = self.lock_writer();
        if tombstones
            .0
            .get(&name)
            .is_some_and(|removed| *removed >= revision)
        {
            return;
        }
        tombstones.0.remove(&name);
        let current = self.served.load();
        if current
            .by_key
            .get(&name)
            .is_some_and(|definition| definition.revision >= revision)
        {
            return;
        }
        let mut by_key = current.by_key.clone();
        match build_definition(crd, revision) {
            Some(definition) => {
                by_key.insert(name, Arc::new(definition));
            }
            None => {
                by_key.remove(&name);
            }
        }
        self.served.store(Arc::new(served_from(by_key)));
    }

    /// Replaces the served set by the definitions listed at `revision`;
    /// definitions applied after it are kept.
    fn rebuild(&self, listed: &[(CustomResourceDefinition, Revision)], revision: Revision) {
        let mut tombstones = self.lock_writer();
        let current = self.served.load();
        let listed_names: HashSet<&str> = listed
            .iter()
            .filter_map(|(crd, _)| crd.metadata.name.as_deref())
            .collect();
        let mut by_key: HashMap<String, Arc<Definition>> = current
            .by_key
            .iter()
            .filter(|(name, definition)| {
                listed_names.contains(name.as_str()) || definition.revision > revision
            })
            .map(|(name, definition)| (name.clone(), definition.clone()))
            .collect();
        for name in current.by_key.keys() {
            if !by_key.contains_key(name) {
                tombstones.0.insert(name.clone(), revision);
            }
        }
        for (crd, crd_revision) in listed {
            let Some(name) = crd.metadata.name.clone() else {
                continue;
            };
            if by_key
                .get(&name)
                .is_some_and(|definition| definition.revision >= *crd_revision)
            {
                continue;
            }
            match build_definition(crd, *crd_revision) {
                Some(definition) => {
                    by_key.insert(name, Arc::new(definition));
                }
                None => {
                    by_key.remove(&name);
                }
            }
        }
        self.served.store(Arc::new(served_from(by_key)));
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Tombstones> {
        // A panic while holding the lock leaves the tombstones usable.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn served_from(by_key: HashMap<String, Arc<Definition>>) -> Served {
    let mut rows: Vec<ResourceRow> = by_key
        .values()
        .flat_map(|definition| definition.rows.iter().cloned())
        .collect();
    rows.sort_by(|left, right| {
        (&left.group, &left.plural, &left.version).cmp(&(
            &right.group,
            &right.plural,
            &right.version,
        ))
    });
    Served {
        by_key,
        rows: Arc::new(rows),
        openapi: OnceLock::new(),
    }
}

/// The served versions of a definition, or `None` if it serves nothing
/// (no served version, or its schemas do not compile, which validation
/// prevents for stored definitions).
fn build_definition(crd: &CustomResourceDefinition, revision: Revision) -> Option<Definition> {
    let spec = &crd.spec;
    let names = &spec.names;
    let namespaced = spec.scope == "Namespaced";
    let storage_version = spec.versions.iter().find(|version| version.storage)?;
    let storage_api_version = format!("{}/{}", spec.group, storage_version.name);
    let mut versions = HashMap::new();
    let mut rows = Vec::new();
    let mut storage = None;
    for version in &spec.versions {
        let props = version
            .schema
            .as_ref()
            .and_then(|schema| schema.open_api_v3_schema.as_ref())?;
        let schema = Schema::compile(props, &api::FieldPath::root("schema")).ok()?;
        let subresources = version.subresources.as_ref();
        let has_status = subresources.is_some_and(|s| s.status.is_some());
        let scale = subresources.and_then(|s| s.scale.clone());
        let info = intern_info(KindInfo {
            group: leak(&spec.group),
            version: leak(&version.name),
            kind: leak(&names.kind),
            plural: leak(&names.plural),
            resource_key: leak(&format!("{}.{}", names.plural, spec.group)),
            namespaced,
            has_status,
        });
        let kind = Arc::new(CustomKind {
            info,
            schema,
            raw_schema: serde_json::to_value(props).unwrap_or(Value::Null),
            scale: scale.clone(),
            columns: version
                .additional_printer_columns
                .clone()
                .unwrap_or_default(),
            api_version: format!("{}/{}", spec.group, version.name),
            storage_api_version: storage_api_version.clone(),
        });
        if version.storage {
            storage = Some(kind.clone());
        }
        if !version.served {
            continue;
        }
        let mut row = ResourceRow::stored(
            &spec.group,
            &version.name,
            &names.plural,
            &names.kind,
            namespaced,
        );
        if let Some(singular) = names.singular.as_deref().filter(|s| !s.is_empty()) {
            row.singular = singular.to_string();
        }
        row.short_names = names.short_names.clone().unwrap_or_default();
        row.categories = names.categories.clone().unwrap_or_default();
        if has_status {
            row.subresources
                .push(crate::rest::resources::SubresourceRow {
                    name: "status".to_string(),
                    response_kind: ResponseKind::same_group(&names.kind),
                    verbs: vec!["get".to_string(), "patch".to_string(), "update".to_string()],
                });
        }
        if scale.is_some() {
            row.subresources
                .push(crate::rest::resources::SubresourceRow {
                    name: "scale".to_string(),
                    response_kind: ResponseKind::other_group("autoscaling", "v1", "Scale"),
                    verbs: vec!["get".to_string(), "patch".to_string(), "update".to_string()],
                });
        }
        rows.push(row);
        versions.insert(version.name.clone(), kind);
    }
    if versions.is_empty() {
        return None;
    }
    Some(Definition {
        revision,
        versions,
        storage: storage?,
        rows,
    })
}

/// The one leaked copy of a string.
fn leak(text: &str) -> &'static str {
    static STRINGS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    // std mutex: held only for the lookup and insert.
    let mut strings = STRINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let strings = strings.get_or_insert_with(HashSet::new);
    if let Some(found) = strings.get(text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    strings.insert(leaked);
    leaked
}

/// The one leaked copy of a `KindInfo` (its strings already interned).
fn intern_info(info: KindInfo) -> &'static KindInfo {
    static INFOS: Mutex<Vec<&'static KindInfo>> = Mutex::new(Vec::new());
    // std mutex: held only for the lookup and insert.
    let mut infos = INFOS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = infos.iter().find(|known| ***known == info) {
        return found;
    }
    let leaked: &'static KindInfo = Box::leak(Box::new(info));
    infos.push(leaked);
    leaked
}

impl KindOps for CustomKind {
    fn info(&self) -> &'static KindInfo {
        self.info
    }

    fn custom(&self) -> Option<&CustomKind> {
        Some(self)
    }

    /// Custom objects count toward no quota yet (their writes charge none,
    /// so `status.used` leaves them out too and stays consistent).
    fn quota_usage(
        &self,
        _stored: &[u8],
        _quota: &api::k8s_openapi::api::core::v1::ResourceQuota,
    ) -> Result<Option<crate::admission::resource_quota::Usage>, ApiError> {
        Ok(None)
    }

    fn unknown_fields(&self, body: &[u8]) -> Vec<String> {
        let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
            return Vec::new();
        };
        self.schema.prune(&mut value)
    }

    fn create<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::create(self, state, attributes, body, options))
    }

    fn update<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::update(self, state, attributes, body, options))
    }

    fn patch<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        patcher: &'a Patcher,
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::patch(self, state, attributes, patcher, options))
    }

    fn delete<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        options: &'a DeleteOptions,
    ) -> BoxFuture<'a, Result<Deleted, ApiError>> {
        Box::pin(verbs::delete(self, state, attributes, options))
    }
}

/// How long the definitions' watch waits after a failure before retrying.
const RETRY: Duration = Duration::from_millis(200);

/// Keeps the served set equal to the stored definitions: lists them now
/// and after every change, until the watch cache stops.
pub(crate) async fn keep_current(state: Arc<ApiState>) {
    loop {
        let Ok(filter) = crate::filter::Filter::parse(CRD_PLURAL, "", "", "") else {
            return;
        };
        let from = state.store.current_revision();
        let mut handle = match state.watch.watch(CRD_PLURAL, filter, from, false) {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!(%error, "watching CustomResourceDefinitions failed; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(error) = load(&state).await {
            tracing::warn!(%error, "loading CustomResourceDefinitions failed; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        loop {
            match handle.next().await {
                WatchMessage::Events(_) => {
                    if let Err(error) = load(&state).await {
                        tracing::warn!(%error, "loading CustomResourceDefinitions failed");
                        break;
                    }
                }
                WatchMessage::Bookmark(_) => {}
                WatchMessage::TooOld(reason) => {
                    tracing::debug!(%reason, "CustomResourceDefinition watch restarted");
                    break;
                }
            }
        }
    }
}

/// Lists every stored definition and rebuilds the served set from them.
pub(crate) async fn load(state: &ApiState) -> Result<(), ApiError> {
    let page = state.list(CRD_PLURAL, &ListOptions::default()).await?;
    let mut listed = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let crd: CustomResourceDefinition =
            serde_json::from_slice(&item.wire).map_err(ApiError::internal)?;
        listed.push((crd, item.revision));
    }
    state.kinds.custom.rebuild(&listed, page.revision);
    Ok(())
}
