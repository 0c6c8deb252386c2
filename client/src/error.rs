//! The client's error type: one variant per condition a caller acts on,
//! whichever transport carried the call.
//!
//! The apiserver maps its errors to gRPC codes and to Kubernetes `Status`
//! reasons, each in one place; these are the inverse mappings (gRPC here,
//! REST in `rest`), so callers match on meaning, not on codes.

use tonic::Code;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object (or its namespace, or the bind target) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Optimistic concurrency failed (stale resourceVersion, pod already
    /// bound): re-read and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object failed validation or admission; the message carries the
    /// Kubernetes field errors (`spec.containers[0].image: Required value`).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The requested resourceVersion is older than the server keeps, or the
    /// watcher fell behind: relist and watch again from the list's version.
    #[error("too old, relist: {0}")]
    TooOld(String),
    /// The server did not accept the credential (or none was given).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Admission refused the request (namespace terminating, unknown
    /// priority class, ...).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request was too large or the server is overloaded.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// The server is unreachable or shutting down; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Any other gRPC status from the server.
    #[error("server error: {0}")]
    Status(#[source] tonic::Status),
    /// Any other REST answer: its HTTP code, `Status` reason and message.
    #[error("server error {code} {reason}: {message}")]
    Rest {
        code: u16,
        reason: String,
        message: String,
    },
    #[error("cannot connect: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A REST request could not be sent or its answer not read.
    #[error("http: {0}")]
    Http(#[from] hyper_util::client::legacy::Error),
    #[error("reading the answer: {0}")]
    Body(#[from] hyper::Error),
    /// The client could not be set up (server URL, TLS material).
    #[error("client configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Kubeconfig(#[from] crate::kubeconfig::KubeconfigError),
    /// The object could not be encoded or the server's reply decoded.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Maps a gRPC status code and message to an error.
    pub fn from_code(code: Code, message: String) -> Error {
        match code {
            Code::NotFound => Error::NotFound(message),
            Code::AlreadyExists => Error::AlreadyExists(message),
            Code::Aborted => Error::Conflict(message),
            Code::InvalidArgument | Code::FailedPrecondition => Error::Invalid(message),
            // tonic itself answers OUT_OF_RANGE for a message over its size limit.
            Code::OutOfRange if message.contains("message length too large") => {
                Error::ResourceExhausted(message)
            }
            Code::OutOfRange => Error::TooOld(message),
            Code::PermissionDenied => Error::Forbidden(message),
            Code::Unauthenticated => Error::Unauthorized(message),
            Code::ResourceExhausted => Error::ResourceExhausted(message),
            Code::Unavailable => Error::Unavailable(message),
            _ => Error::Status(tonic::Status::new(code, message)),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists(_))
    }

    /// True when the server could not be reached or is overloaded, so the
    /// same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable(_)
                | Error::ResourceExhausted(_)
                | Error::Transport(_)
                | Error::Http(_)
                | Error::Body(_)
        )
    }

    /// True when the caller should relist and watch again.
    pub fn is_too_old(&self) -> bool {
        matches!(self, Error::TooOld(_))
    }
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Error::from_code(status.code(), status.message().to_string())
    }
}
