//! Protobuf field tables for the authorization/v1 messages. Field numbers and
//! wire types follow
//! `staging/src/k8s.io/api/authorization/v1/generated.proto` of Kubernetes
//! 1.34; JSON names, `omitempty` and pointers follow the JSON tags and Go
//! types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "SelfSubjectAccessReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SELF_SUBJECT_ACCESS_REVIEW_SPEC), S::Always),
        field(3, "status", T::Message(&SUBJECT_ACCESS_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "SelfSubjectAccessReviewSpec",
    fields: &[
        field(1, "resourceAttributes", T::Message(&RESOURCE_ATTRIBUTES), S::Pointer),
        field(2, "nonResourceAttributes", T::Message(&NON_RESOURCE_ATTRIBUTES), S::Pointer),
    ],
};

pub(crate) static RESOURCE_ATTRIBUTES: Message = Message {
    name: "ResourceAttributes",
    fields: &[
        field(1, "namespace", T::String, S::OmitEmpty),
        field(2, "verb", T::String, S::OmitEmpty),
        field(3, "group", T::String, S::OmitEmpty),
        field(4, "version", T::String, S::OmitEmpty),
        field(5, "resource", T::String, S::OmitEmpty),
        field(6, "subresource", T::String, S::OmitEmpty),
        field(7, "name", T::String, S::OmitEmpty),
        field(8, "fieldSelector", T::Message(&FIELD_SELECTOR_ATTRIBUTES), S::Pointer),
        field(9, "labelSelector", T::Message(&LABEL_SELECTOR_ATTRIBUTES), S::Pointer),
    ],
};

pub(crate) static FIELD_SELECTOR_ATTRIBUTES: Message = Message {
    name: "FieldSelectorAttributes",
    fields: &[
        field(1, "rawSelector", T::String, S::OmitEmpty),
        field(2, "requirements", T::Message(&super::meta::FIELD_SELECTOR_REQUIREMENT), S::Repeated),
    ],
};

pub(crate) static LABEL_SELECTOR_ATTRIBUTES: Message = Message {
    name: "LabelSelectorAttributes",
    fields: &[
        field(1, "rawSelector", T::String, S::OmitEmpty),
        field(2, "requirements", T::Message(&super::meta::LABEL_SELECTOR_REQUIREMENT), S::Repeated),
    ],
};

pub(crate) static NON_RESOURCE_ATTRIBUTES: Message = Message {
    name: "NonResourceAttributes",
    fields: &[
        field(1, "path", T::String, S::OmitEmpty),
        field(2, "verb", T::String, S::OmitEmpty),
    ],
};

pub(crate) static SUBJECT_ACCESS_REVIEW_STATUS: Message = Message {
    name: "SubjectAccessReviewStatus",
    fields: &[
        field(1, "allowed", T::Bool, S::Always),
        field(4, "denied", T::Bool, S::OmitEmpty),
        field(2, "reason", T::String, S::OmitEmpty),
        field(3, "evaluationError", T::String, S::OmitEmpty),
    ],
};

pub(crate) static SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "SubjectAccessReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SUBJECT_ACCESS_REVIEW_SPEC), S::Always),
        field(3, "status", T::Message(&SUBJECT_ACCESS_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "SubjectAccessReviewSpec",
    fields: &[
        field(1, "resourceAttributes", T::Message(&RESOURCE_ATTRIBUTES), S::Pointer),
        field(2, "nonResourceAttributes", T::Message(&NON_RESOURCE_ATTRIBUTES), S::Pointer),
        field(3, "user", T::String, S::OmitEmpty),
        field(4, "groups", T::String, S::Repeated),
        field(5, "extra", T::StringList, S::Map),
        field(6, "uid", T::String, S::OmitEmpty),
    ],
};

pub(crate) static LOCAL_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "LocalSubjectAccessReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SUBJECT_ACCESS_REVIEW_SPEC), S::Always),
        field(3, "status", T::Message(&SUBJECT_ACCESS_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static SELF_SUBJECT_RULES_REVIEW: Message = Message {
    name: "SelfSubjectRulesReview",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SELF_SUBJECT_RULES_REVIEW_SPEC), S::Always),
        field(3, "status", T::Message(&SUBJECT_RULES_REVIEW_STATUS), S::Always),
    ],
};

pub(crate) static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    name: "SelfSubjectRulesReviewSpec",
    fields: &[
        field(1, "namespace", T::String, S::OmitEmpty),
    ],
};

pub(crate) static SUBJECT_RULES_REVIEW_STATUS: Message = Message {
    name: "SubjectRulesReviewStatus",
    fields: &[
        field(1, "resourceRules", T::Message(&RESOURCE_RULE), S::Repeated),
        field(2, "nonResourceRules", T::Message(&NON_RESOURCE_RULE), S::Repeated),
        field(3, "incomplete", T::Bool, S::Always),
        field(4, "evaluationError", T::String, S::OmitEmpty),
    ],
};

pub(crate) static RESOURCE_RULE: Message = Message {
    name: "ResourceRule",
    fields: &[
        field(1, "verbs", T::String, S::Repeated),
        field(2, "apiGroups", T::String, S::Repeated),
        field(3, "resources", T::String, S::Repeated),
        field(4, "resourceNames", T::String, S::Repeated),
    ],
};

pub(crate) static NON_RESOURCE_RULE: Message = Message {
    name: "NonResourceRule",
    fields: &[
        field(1, "verbs", T::String, S::Repeated),
        field(2, "nonResourceURLs", T::String, S::Repeated),
    ],
};
