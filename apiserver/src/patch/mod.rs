//! The patch engine of the REST face: RFC 6902 JSON patch, RFC 7386 JSON
//! merge patch, Kubernetes' strategic merge patch and server-side apply.
//!
//! Everything here is pure: it takes the stored object as JSON and the
//! request body as bytes, and returns the patched JSON or a [`PatchError`]
//! (which the REST face turns into a 400, 409 or 422). JSON patch and merge
//! patch go through the `json-patch` crate; strategic merge patch is written
//! here ([`strategic`]) against the schema table in [`merge_keys`].
//!
//! A patch may change `metadata.name`, `metadata.namespace`,
//! `metadata.uid`, `apiVersion` or `kind`; this module does not refuse it.
//! The caller validates the result against the stored object as it does for
//! an update, which is where Kubernetes rejects such changes too.

pub(crate) mod apply;
pub(crate) mod field_set;
pub(crate) mod merge_keys;
pub(crate) mod strategic;

use api::KindInfo;
use serde_json::Value;

/// The patch formats, named by the request's `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply,
}

impl PatchType {
    /// Parses a `Content-Type` header value; parameters such as
    /// `; charset=utf-8` are ignored.
    pub(crate) fn from_content_type(content_type: &str) -> Result<PatchType, PatchError> {
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::StrategicMerge),
            "application/apply-patch+yaml" => Ok(PatchType::Apply),
            other if other.starts_with("application/apply-patch+") => {
                Err(PatchError::UnsupportedApplyEncoding {
                    content_type: content_type.to_string(),
                })
            }
            _ => Err(PatchError::UnsupportedMediaType {
                content_type: content_type.to_string(),
            }),
        }
    }
}

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PatchError {
    /// The `Content-Type` names no patch format.
    #[error(
        "unsupported patch content type {content_type:?}: expected application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json or application/apply-patch+yaml"
    )]
    UnsupportedMediaType { content_type: String },
    /// Server-side apply in an encoding other than YAML (`+json`, `+cbor`).
    #[error(
        "unsupported apply content type {content_type:?}: server-side apply accepts application/apply-patch+yaml (of which JSON is a subset)"
    )]
    UnsupportedApplyEncoding { content_type: String },
    /// The body is not JSON.
    #[error("the {patch_type} body is not valid JSON")]
    NotJson {
        patch_type: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The body is JSON of the wrong shape.
    #[error("the {patch_type} body must be {expected}")]
    WrongShape {
        patch_type: &'static str,
        expected: &'static str,
    },
    /// A JSON patch has more operations than [`MAX_JSON_PATCH_OPERATIONS`]
    /// (kube-apiserver answers 413 where this is a 422).
    #[error("the allowed maximum operations in a JSON patch is {limit}, got {count}")]
    TooManyOperations { count: usize, limit: usize },
    /// The `copy` operations of a JSON patch would copy more than
    /// [`MAX_JSON_PATCH_COPY_BYTES`] in all.
    #[error(
        "json patch operation {operation} (copy) would take the bytes copied by the patch over the limit of {limit}"
    )]
    CopiesTooLarge { operation: usize, limit: usize },
    /// A JSON patch operation failed.
    #[error("json patch operation {operation} at {path:?} failed: {reason}")]
    JsonPatchOperation {
        operation: usize,
        path: String,
        reason: String,
    },
    /// A strategic merge patch or applied configuration is invalid at a
    /// field (a bad directive, a list item without its merge key).
    #[error("invalid patch at {path:?}: {reason}")]
    Invalid { path: String, reason: String },
    /// The applied configuration is not YAML (or exceeds the YAML budget).
    #[error("the applied configuration is not valid YAML: {reason}")]
    NotYaml { reason: String },
    /// The body exceeds the size limit.
    #[error("the patch body is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Server-side apply needs a field manager; send an apply patch to
    /// [`apply::server_side_apply`], not to [`apply_patch`].
    #[error("server-side apply requires a field manager")]
    ApplyNeedsFieldManager,
    /// An applied field is owned by other managers with a different value.
    #[error("{}", conflict_message(.conflicts))]
    Conflict {
        /// (manager, field path such as `.spec.replicas`) per conflict; the
        /// manager is described as Kubernetes prints it: `"kubectl"`
        /// for an apply, `"kubectl-edit" using apps/v1 at 2026-01-02T03:04:05Z`
        /// for an update.
        conflicts: Vec<(String, String)>,
    },
}

impl PatchError {
    pub(crate) fn invalid(path: &str, reason: impl Into<String>) -> PatchError {
        PatchError::Invalid {
            path: path.to_string(),
            reason: reason.into(),
        }
    }

    /// The kind of failure, for the one place that maps errors to HTTP
    /// statuses (415, 400, 413, 422, 409 as Kubernetes answers them).
    pub(crate) fn reason(&self) -> PatchErrorReason {
        match self {
            PatchError::UnsupportedMediaType { .. }
            | PatchError::UnsupportedApplyEncoding { .. } => PatchErrorReason::UnsupportedMediaType,
            PatchError::NotJson { .. }
            | PatchError::WrongShape { .. }
            | PatchError::NotYaml { .. }
            | PatchError::ApplyNeedsFieldManager => PatchErrorReason::BadRequest,
            PatchError::TooLarge { .. } => PatchErrorReason::RequestEntityTooLarge,
            PatchError::JsonPatchOperation { .. }
            | PatchError::TooManyOperations { .. }
            | PatchError::CopiesTooLarge { .. }
            | PatchError::Invalid { .. } => PatchErrorReason::Invalid,
            PatchError::Conflict { .. } => PatchErrorReason::Conflict,
        }
    }
}

/// What kind of failure a [`PatchError`] is.
impl From<PatchError> for crate::error::ApiError {
    fn from(error: PatchError) -> crate::error::ApiError {
        use crate::error::ApiError;
        match (error.reason(), &error) {
            (_, PatchError::TooLarge { size, limit }) => ApiError::TooLarge {
                size: *size,
                limit: *limit,
            },
            (PatchErrorReason::UnsupportedMediaType, _) => {
                ApiError::UnsupportedMediaType(error.to_string())
            }
            (PatchErrorReason::BadRequest | PatchErrorReason::RequestEntityTooLarge, _) => {
                ApiError::BadRequest(error.to_string())
            }
            (PatchErrorReason::Invalid, _) => ApiError::PatchFailed(error.to_string()),
            (PatchErrorReason::Conflict, _) => ApiError::ApplyConflict(error.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchErrorReason {
    /// 415: the content type names no patch format.
    UnsupportedMediaType,
    /// 400: the body is not JSON/YAML or not of the right shape.
    BadRequest,
    /// 413: the body is over the limit.
    RequestEntityTooLarge,
    /// 422: a well-formed patch that cannot apply.
    Invalid,
    /// 409: an apply conflicts with other field managers.
    Conflict,
}

/// Words a conflict list as Kubernetes' `getConflictMessage` does, one
/// line per field grouped by manager when there are several.
fn conflict_message(conflicts: &[(String, String)]) -> String {
    if let [(manager, field)] = conflicts {
        return format!("Apply failed with 1 conflict: conflict with {manager}: {field}");
    }
    let mut managers: Vec<&str> = conflicts
        .iter()
        .map(|(manager, _)| manager.as_str())
        .collect();
    managers.sort_unstable();
    managers.dedup();
    let mut lines = Vec::new();
    for manager in managers {
        lines.push(format!("conflicts with {manager}:"));
        for (_, field) in conflicts.iter().filter(|(owner, _)| owner == manager) {
            lines.push(format!("- {field}"));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Applies a JSON, merge or strategic merge patch to `original`.
///
/// Server-side apply needs a field manager and `now`: call
/// [`apply::server_side_apply`]; [`PatchType::Apply`] here is an error.
pub(crate) fn apply_patch(
    kind: &KindInfo,
    original: &Value,
    patch_type: PatchType,
    patch_bytes: &[u8],
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => {
            let operations: Value = parse_json(patch_bytes, "json patch")?;
            if !operations.is_array() {
                return Err(PatchError::WrongShape {
                    patch_type: "json patch",
                    expected: "a JSON array of operations",
                });
            }
            let operations: json_patch::Patch =
                serde_json::from_value(operations).map_err(|source| PatchError::Invalid {
                    path: String::new(),
                    reason: format!("not a list of RFC 6902 operations: {source}"),
                })?;
            apply_json_patch(original, &operations.0)
        }
        PatchType::Merge => {
            let patch = parse_object(patch_bytes, "merge patch")?;
            let mut patched = original.clone();
            json_patch::merge(&mut patched, &Value::Object(patch));
            Ok(patched)
        }
        PatchType::StrategicMerge => {
            let patch = parse_object(patch_bytes, "strategic merge patch")?;
            strategic::strategic_merge(original, &patch, merge_keys::root_schema(kind))
        }
        PatchType::Apply => Err(PatchError::ApplyNeedsFieldManager),
    }
}

/// The most operations a JSON patch may have, as kube-apiserver's
/// `maxJSONPatchOperations`.
pub(crate) const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// The most bytes (as JSON) the `copy` operations of one JSON patch may
/// copy in all, as the request size limit: without it a patch of a few
/// hundred bytes, each `copy` doubling the document, would build one of
/// terabytes.
pub(crate) const MAX_JSON_PATCH_COPY_BYTES: usize = 3 * 1024 * 1024;

/// Applies RFC 6902 operations in order; nothing of `original` changes, and
/// on any error the partly patched copy is dropped, so the patch is
/// atomic.
fn apply_json_patch(
    original: &Value,
    operations: &[json_patch::PatchOperation],
) -> Result<Value, PatchError> {
    if operations.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            count: operations.len(),
            limit: MAX_JSON_PATCH_OPERATIONS,
        });
    }
    let mut patched = original.clone();
    let mut copied_bytes = 0usize;
    for (index, operation) in operations.iter().enumerate() {
        if let json_patch::PatchOperation::Copy(copy) = operation
            && let Some(source) = patched.pointer(copy.from.as_str())
        {
            copied_bytes = copied_bytes.saturating_add(json_size(source));
            if copied_bytes > MAX_JSON_PATCH_COPY_BYTES {
                return Err(PatchError::CopiesTooLarge {
                    operation: index,
                    limit: MAX_JSON_PATCH_COPY_BYTES,
                });
            }
        }
        json_patch::patch_unsafe(&mut patched, std::slice::from_ref(operation)).map_err(
            |error| PatchError::JsonPatchOperation {
                operation: index,
                path: error.path.to_string(),
                reason: error.kind.to_string(),
            },
        )?;
    }
    Ok(patched)
}

/// The length of `value` written as compact JSON, without writing it.
fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn parse_json(patch_bytes: &[u8], patch_type: &'static str) -> Result<Value, PatchError> {
    serde_json::from_slice(patch_bytes).map_err(|source| PatchError::NotJson { patch_type, source })
}

fn parse_object(
    patch_bytes: &[u8],
    patch_type: &'static str,
) -> Result<serde_json::Map<String, Value>, PatchError> {
    match parse_json(patch_bytes, patch_type)? {
        Value::Object(map) => Ok(map),
        _ => Err(PatchError::WrongShape {
            patch_type,
            expected: "a JSON object",
        }),
    }
}

#[cfg(test)]
mod tests;
