//! Protobuf field tables for the scheduling/v1 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/scheduling/v1/generated.proto`
//! of Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON
//! tags and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static PRIORITY_CLASS: Message = Message {
    name: "PriorityClass",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "value", T::Int32, S::Always),
        field(3, "globalDefault", T::Bool, S::OmitEmpty),
        field(4, "description", T::String, S::OmitEmpty),
        field(5, "preemptionPolicy", T::String, S::Pointer),
    ],
};
