//! Protobuf field tables for the authentication/v1 messages. Field numbers
//! and wire types follow
//! `staging/src/k8s.io/api/authentication/v1/generated.proto` of Kubernetes
//! 1.34; JSON names, `omitempty` and pointers follow the JSON tags and Go
//! types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static SELF_SUBJECT_REVIEW: Message = Message {
    name: "SelfSubjectReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "status", T::Message(&SELF_SUBJECT_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static SELF_SUBJECT_REVIEW_STATUS: Message = Message {
    name: "SelfSubjectReviewStatus",
    fields: &[
        field(1, "userInfo", T::Message(&USER_INFO), S::Always),
    ],
};

pub(crate) static USER_INFO: Message = Message {
    name: "UserInfo",
    fields: &[
        field(1, "username", T::String, S::OmitEmpty),
        field(2, "uid", T::String, S::OmitEmpty),
        field(3, "groups", T::String, S::Repeated),
        field(4, "extra", T::StringList, S::Map),
    ],
};

pub(crate) static TOKEN_REVIEW: Message = Message {
    name: "TokenReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&TOKEN_REVIEW_SPEC), S::Always),
        field(3, "status", T::Message(&TOKEN_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static TOKEN_REVIEW_SPEC: Message = Message {
    name: "TokenReviewSpec",
    fields: &[
        field(1, "token", T::String, S::OmitEmpty),
        field(2, "audiences", T::String, S::Repeated),
    ],
};

pub(crate) static TOKEN_REVIEW_STATUS: Message = Message {
    name: "TokenReviewStatus",
    fields: &[
        field(1, "authenticated", T::Bool, S::OmitEmpty),
        field(2, "user", T::Message(&USER_INFO), S::Always),
        field(4, "audiences", T::String, S::Repeated),
        field(3, "error", T::String, S::OmitEmpty),
    ],
};

pub(crate) static TOKEN_REQUEST: Message = Message {
    name: "TokenRequest",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&TOKEN_REQUEST_SPEC), S::Always),
        field(3, "status", T::Message(&TOKEN_REQUEST_STATUS), S::Always),
    ],
};

pub(crate) static TOKEN_REQUEST_SPEC: Message = Message {
    name: "TokenRequestSpec",
    fields: &[
        field(1, "audiences", T::String, S::Repeated),
        field(4, "expirationSeconds", T::Int64, S::Pointer),
        field(3, "boundObjectRef", T::Message(&BOUND_OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static BOUND_OBJECT_REFERENCE: Message = Message {
    name: "BoundObjectReference",
    fields: &[
        field(1, "kind", T::String, S::OmitEmpty),
        field(2, "apiVersion", T::String, S::OmitEmpty),
        field(3, "name", T::String, S::OmitEmpty),
        field(4, "uid", T::String, S::OmitEmpty),
    ],
};

pub(crate) static TOKEN_REQUEST_STATUS: Message = Message {
    name: "TokenRequestStatus",
    fields: &[
        field(1, "token", T::String, S::Always),
        field(2, "expirationTimestamp", T::Time, S::OmitEmpty),
    ],
};
