//! Protobuf field tables for the discovery/v1 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/discovery/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static ENDPOINT_SLICE: Message = Message {
    name: "EndpointSlice",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(4, "addressType", T::String, S::Always),
        field(2, "endpoints", T::Message(&ENDPOINT), S::Repeated),
        field(3, "ports", T::Message(&ENDPOINT_PORT), S::Repeated),
    ],
};

pub(crate) static ENDPOINT: Message = Message {
    name: "Endpoint",
    fields: &[
        field(1, "addresses", T::String, S::Repeated),
        field(2, "conditions", T::Message(&ENDPOINT_CONDITIONS), S::Always),
        field(3, "hostname", T::String, S::Pointer),
        field(4, "targetRef", T::Message(&super::core_objects::OBJECT_REFERENCE), S::Pointer),
        field(5, "deprecatedTopology", T::String, S::Map),
        field(6, "nodeName", T::String, S::Pointer),
        field(7, "zone", T::String, S::Pointer),
        field(8, "hints", T::Message(&ENDPOINT_HINTS), S::Pointer),
    ],
};

pub(crate) static ENDPOINT_CONDITIONS: Message = Message {
    name: "EndpointConditions",
    fields: &[
        field(1, "ready", T::Bool, S::Pointer),
        field(2, "serving", T::Bool, S::Pointer),
        field(3, "terminating", T::Bool, S::Pointer),
    ],
};

pub(crate) static ENDPOINT_HINTS: Message = Message {
    name: "EndpointHints",
    fields: &[
        field(1, "forZones", T::Message(&FOR_ZONE), S::Repeated),
        field(2, "forNodes", T::Message(&FOR_NODE), S::Repeated),
    ],
};

pub(crate) static FOR_ZONE: Message = Message {
    name: "ForZone",
    fields: &[
        field(1, "name", T::String, S::Always),
    ],
};

pub(crate) static FOR_NODE: Message = Message {
    name: "ForNode",
    fields: &[
        field(1, "name", T::String, S::Always),
    ],
};

pub(crate) static ENDPOINT_PORT: Message = Message {
    name: "EndpointPort",
    fields: &[
        field(1, "name", T::String, S::Pointer),
        field(2, "protocol", T::String, S::Pointer),
        field(3, "port", T::Int32, S::Pointer),
        field(4, "appProtocol", T::String, S::Pointer),
    ],
};
