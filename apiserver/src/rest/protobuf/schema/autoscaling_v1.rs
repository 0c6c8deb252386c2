//! Protobuf field tables for the autoscaling/v1 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/autoscaling/v1/generated.proto`
//! of Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON
//! tags and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static SCALE: Message = Message {
    name: "Scale",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SCALE_SPEC), S::Always),
        field(3, "status", T::Message(&SCALE_STATUS), S::Always),
    ],
};

pub(crate) static SCALE_SPEC: Message = Message {
    name: "ScaleSpec",
    fields: &[
        field(1, "replicas", T::Int32, S::OmitEmpty),
    ],
};

pub(crate) static SCALE_STATUS: Message = Message {
    name: "ScaleStatus",
    fields: &[
        field(1, "replicas", T::Int32, S::Always),
        field(2, "selector", T::String, S::OmitEmpty),
    ],
};
