//! [`ApiError`]: every way a request fails, and the one place it becomes a
//! gRPC [`tonic::Status`].

use api::FieldErrors;
use store::StoreError;
use tonic::{Code, Status};

#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    /// Validation failed; formatted as Kubernetes prints it.
    #[error("{kind} {name:?} is invalid: {errors}")]
    Invalid {
        kind: &'static str,
        name: String,
        errors: FieldErrors,
    },
    /// The request itself is malformed (bad JSON, wrong kind, bad selector).
    #[error("{0}")]
    BadRequest(String),
    #[error("the server could not find the requested resource {0:?}")]
    UnknownResource(String),
    #[error("{plural} {name:?} not found")]
    NotFound { plural: String, name: String },
    #[error("{plural} {name:?} already exists")]
    AlreadyExists { plural: String, name: String },
    /// Optimistic concurrency failed.
    #[error("Operation cannot be fulfilled on {plural} {name:?}: {detail}")]
    Conflict {
        plural: String,
        name: String,
        detail: String,
    },
    /// Admission refused the request.
    #[error("{0}")]
    Forbidden(String),
    /// The resourceVersion is older than the watch window or the store keeps,
    /// or the watcher fell behind.
    #[error("too old resource version: {0}; relist and watch again")]
    TooOld(String),
    #[error("request too large: {size} bytes (limit {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("service allocation: {0}")]
    RangeFull(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Detail of a stale-resourceVersion conflict, as Kubernetes words it.
pub(crate) const MODIFIED_DETAIL: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl ApiError {
    pub(crate) fn conflict(plural: &str, name: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            plural: plural.to_string(),
            name: name.to_string(),
            detail: detail.into(),
        }
    }

    pub(crate) fn modified(plural: &str, name: &str) -> ApiError {
        ApiError::conflict(plural, name, MODIFIED_DETAIL)
    }

    pub(crate) fn not_found(plural: &str, name: &str) -> ApiError {
        ApiError::NotFound {
            plural: plural.to_string(),
            name: name.to_string(),
        }
    }

    pub(crate) fn already_exists(plural: &str, name: &str) -> ApiError {
        ApiError::AlreadyExists {
            plural: plural.to_string(),
            name: name.to_string(),
        }
    }

    /// The gRPC code of this error.
    pub fn code(&self) -> Code {
        match self {
            ApiError::Invalid { .. } | ApiError::BadRequest(_) => Code::InvalidArgument,
            ApiError::UnknownResource(_) | ApiError::NotFound { .. } => Code::NotFound,
            ApiError::AlreadyExists { .. } => Code::AlreadyExists,
            ApiError::Conflict { .. } => Code::Aborted,
            ApiError::Forbidden(_) => Code::PermissionDenied,
            ApiError::TooOld(_) | ApiError::Store(StoreError::Compacted { .. }) => Code::OutOfRange,
            ApiError::TooLarge { .. } | ApiError::RangeFull(_) => Code::ResourceExhausted,
            ApiError::Store(StoreError::ValueTooLarge { .. } | StoreError::KeyTooLarge { .. }) => {
                Code::ResourceExhausted
            }
            ApiError::Store(StoreError::FutureRevision { .. }) => Code::InvalidArgument,
            ApiError::Store(StoreError::Closed) => Code::Unavailable,
            ApiError::Store(_) | ApiError::Internal(_) => Code::Internal,
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        match &error {
            ApiError::Store(_) | ApiError::Internal(_) => tracing::warn!(%error, "request failed"),
            _ => tracing::debug!(%error, "request rejected"),
        }
        Status::new(error.code(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_message_matches_kubernetes() {
        let error = ApiError::modified("pods", "x");
        assert_eq!(
            error.to_string(),
            "Operation cannot be fulfilled on pods \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(error.code(), Code::Aborted);
    }
}
