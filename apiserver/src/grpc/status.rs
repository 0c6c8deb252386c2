//! The one place an [`ApiError`] becomes a gRPC [`Status`]: its reason
//! picks the code, its text is the message (the same text the REST face
//! puts in a Kubernetes `Status`).

use tonic::{Code, Status};

use crate::error::{ApiError, Reason};

/// The gRPC code of each reason.
pub(crate) fn code(reason: Reason) -> Code {
    match reason {
        Reason::BadRequest
        | Reason::Invalid
        | Reason::UnsupportedMediaType
        | Reason::NotAcceptable => Code::InvalidArgument,
        Reason::Unauthorized => Code::Unauthenticated,
        Reason::Forbidden => Code::PermissionDenied,
        Reason::NotFound => Code::NotFound,
        Reason::AlreadyExists => Code::AlreadyExists,
        Reason::Conflict => Code::Aborted,
        Reason::Expired => Code::OutOfRange,
        Reason::TooManyRequests | Reason::RequestEntityTooLarge => Code::ResourceExhausted,
        Reason::MethodNotAllowed => Code::Unimplemented,
        Reason::InternalError => Code::Internal,
        Reason::ServiceUnavailable => Code::Unavailable,
        Reason::Timeout => Code::DeadlineExceeded,
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        if error.is_server_error() {
            tracing::warn!(%error, "request failed");
        } else {
            tracing::debug!(%error, "request rejected");
        }
        Status::new(code(error.reason()), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_reasons() {
        let check = |error: ApiError, expected: Code| {
            assert_eq!(Status::from(error).code(), expected);
        };
        check(ApiError::modified("pods", "x"), Code::Aborted);
        check(ApiError::not_found("pods", "x"), Code::NotFound);
        check(ApiError::TooOld("old".into()), Code::OutOfRange);
        check(
            ApiError::TooLarge { size: 2, limit: 1 },
            Code::ResourceExhausted,
        );
        check(ApiError::BadRequest("bad".into()), Code::InvalidArgument);
        check(ApiError::Unauthorized, Code::Unauthenticated);
    }
}
