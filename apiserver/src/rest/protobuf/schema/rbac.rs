//! Protobuf field tables for the rbac/v1 messages. Field numbers and wire
//! types follow `staging/src/k8s.io/api/rbac/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static ROLE: Message = Message {
    name: "Role",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "rules", T::Message(&POLICY_RULE), S::Repeated),
    ],
};

pub(crate) static POLICY_RULE: Message = Message {
    name: "PolicyRule",
    fields: &[
        field(1, "verbs", T::String, S::Repeated),
        field(2, "apiGroups", T::String, S::Repeated),
        field(3, "resources", T::String, S::Repeated),
        field(4, "resourceNames", T::String, S::Repeated),
        field(5, "nonResourceURLs", T::String, S::Repeated),
    ],
};

pub(crate) static CLUSTER_ROLE: Message = Message {
    name: "ClusterRole",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "rules", T::Message(&POLICY_RULE), S::Repeated),
        field(3, "aggregationRule", T::Message(&AGGREGATION_RULE), S::Pointer),
    ],
};

pub(crate) static AGGREGATION_RULE: Message = Message {
    name: "AggregationRule",
    fields: &[
        field(1, "clusterRoleSelectors", T::Message(&super::meta::LABEL_SELECTOR), S::Repeated),
    ],
};

pub(crate) static ROLE_BINDING: Message = Message {
    name: "RoleBinding",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "subjects", T::Message(&SUBJECT), S::Repeated),
        field(3, "roleRef", T::Message(&ROLE_REF), S::Always),
    ],
};

pub(crate) static SUBJECT: Message = Message {
    name: "Subject",
    fields: &[
        field(1, "kind", T::String, S::Always),
        field(2, "apiGroup", T::String, S::OmitEmpty),
        field(3, "name", T::String, S::Always),
        field(4, "namespace", T::String, S::OmitEmpty),
    ],
};

pub(crate) static ROLE_REF: Message = Message {
    name: "RoleRef",
    fields: &[
        field(1, "apiGroup", T::String, S::Always),
        field(2, "kind", T::String, S::Always),
        field(3, "name", T::String, S::Always),
    ],
};

pub(crate) static CLUSTER_ROLE_BINDING: Message = Message {
    name: "ClusterRoleBinding",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "subjects", T::Message(&SUBJECT), S::Repeated),
        field(3, "roleRef", T::Message(&ROLE_REF), S::Always),
    ],
};
