//! Protobuf field tables for the coordination/v1 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/coordination/v1/generated.proto`
//! of Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON
//! tags and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static LEASE: Message = Message {
    name: "Lease",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&LEASE_SPEC), S::Always),
    ],
};

pub(crate) static LEASE_SPEC: Message = Message {
    name: "LeaseSpec",
    fields: &[
        field(1, "holderIdentity", T::String, S::Pointer),
        field(2, "leaseDurationSeconds", T::Int32, S::Pointer),
        field(3, "acquireTime", T::MicroTime, S::Pointer),
        field(4, "renewTime", T::MicroTime, S::Pointer),
        field(5, "leaseTransitions", T::Int32, S::Pointer),
        field(6, "strategy", T::String, S::Pointer),
        field(7, "preferredHolder", T::String, S::Pointer),
    ],
};
