//! [`ApiError`]: every way a request fails, with its face-neutral
//! [`Reason`] (Kubernetes' `StatusReason` and HTTP code). Each face turns it
//! into its wire form in one place: `grpc/status.rs` (a gRPC status) and the
//! REST face (a Kubernetes `Status` body).

use api::FieldErrors;
use store::StoreError;

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
    /// Admission or authorization refused the request.
    #[error("{0}")]
    Forbidden(String),
    /// The request carried credentials that are not valid.
    #[error("Unauthorized")]
    Unauthorized,
    /// The verb is not served on this resource (e.g. update on a review).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A patch could not be applied to the stored object.
    #[error("{0}")]
    PatchFailed(String),
    /// Server-side apply met fields another manager owns.
    #[error("{0}")]
    ApplyConflict(String),
    /// A watch or list named a resourceVersion the store has not reached
    /// within the wait for it.
    #[error("Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion { requested: i64, current: i64 },
    /// No representation the client accepts can be served.
    #[error("{0}")]
    NotAcceptable(String),
    /// The request body's media type is not one the server reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The server is busy; try again later.
    #[error("{0}")]
    TooManyRequests(String),
    /// The server (or what it proxies to) cannot serve this now.
    #[error("{0}")]
    Unavailable(String),
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

/// Why a request failed, in Kubernetes' words (`metav1.StatusReason`),
/// independent of the wire that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    AlreadyExists,
    Conflict,
    /// The resourceVersion is too old (HTTP 410).
    Expired,
    Invalid,
    TooManyRequests,
    MethodNotAllowed,
    NotAcceptable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    InternalError,
    ServiceUnavailable,
    /// The request could not finish in time (HTTP 504).
    Timeout,
}

impl Reason {
    /// The `reason` of a Kubernetes `Status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Expired => "Expired",
            Reason::Invalid => "Invalid",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::NotAcceptable => "NotAcceptable",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::InternalError => "InternalError",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::Timeout => "Timeout",
        }
    }

    /// The HTTP status code Kubernetes answers with.
    pub fn http_code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::NotAcceptable => 406,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Expired => 410,
            Reason::RequestEntityTooLarge => 413,
            Reason::UnsupportedMediaType => 415,
            Reason::Invalid => 422,
            Reason::TooManyRequests => 429,
            Reason::InternalError => 500,
            Reason::ServiceUnavailable => 503,
            Reason::Timeout => 504,
        }
    }
}

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

    /// A path that names nothing the server serves.
    pub(crate) fn not_found_path(path: &str) -> ApiError {
        ApiError::UnknownResource(path.to_string())
    }

    pub(crate) fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(detail.to_string())
    }

    /// Why this request failed, whatever the face.
    pub fn reason(&self) -> Reason {
        match self {
            ApiError::Invalid { .. } | ApiError::PatchFailed(_) => Reason::Invalid,
            ApiError::BadRequest(_) | ApiError::Store(StoreError::FutureRevision { .. }) => {
                Reason::BadRequest
            }
            ApiError::UnknownResource(_) | ApiError::NotFound { .. } => Reason::NotFound,
            ApiError::AlreadyExists { .. } => Reason::AlreadyExists,
            ApiError::Conflict { .. } | ApiError::ApplyConflict(_) => Reason::Conflict,
            ApiError::Forbidden(_) => Reason::Forbidden,
            ApiError::Unauthorized => Reason::Unauthorized,
            ApiError::MethodNotAllowed(_) => Reason::MethodNotAllowed,
            ApiError::UnsupportedMediaType(_) => Reason::UnsupportedMediaType,
            ApiError::NotAcceptable(_) => Reason::NotAcceptable,
            ApiError::TooLargeResourceVersion { .. } => Reason::Timeout,
            ApiError::TooManyRequests(_) => Reason::TooManyRequests,
            ApiError::TooOld(_) | ApiError::Store(StoreError::Compacted { .. }) => Reason::Expired,
            ApiError::TooLarge { .. }
            | ApiError::Store(StoreError::ValueTooLarge { .. } | StoreError::KeyTooLarge { .. }) => {
                Reason::RequestEntityTooLarge
            }
            ApiError::Unavailable(_) | ApiError::Store(StoreError::Closed) => {
                Reason::ServiceUnavailable
            }
            ApiError::RangeFull(_) | ApiError::Store(_) | ApiError::Internal(_) => {
                Reason::InternalError
            }
        }
    }

    /// Whether this is the server's fault (logged as a warning) rather than
    /// a rejected request.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            ApiError::Store(_) | ApiError::Internal(_) | ApiError::RangeFull(_)
        )
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
        assert_eq!(error.reason(), Reason::Conflict);
        assert_eq!(error.reason().http_code(), 409);
    }
}
