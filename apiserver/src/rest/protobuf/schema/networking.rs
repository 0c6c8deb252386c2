//! Protobuf field tables for the networking/v1 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/networking/v1/generated.proto`
//! of Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON
//! tags and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static INGRESS: Message = Message {
    name: "Ingress",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&INGRESS_SPEC), S::Always),
        field(3, "status", T::Message(&INGRESS_STATUS), S::Always),
    ],
};

pub(crate) static INGRESS_SPEC: Message = Message {
    name: "IngressSpec",
    fields: &[
        field(4, "ingressClassName", T::String, S::Pointer),
        field(1, "defaultBackend", T::Message(&INGRESS_BACKEND), S::Pointer),
        field(2, "tls", T::Message(&INGRESS_TLS), S::Repeated),
        field(3, "rules", T::Message(&INGRESS_RULE), S::Repeated),
    ],
};

pub(crate) static INGRESS_BACKEND: Message = Message {
    name: "IngressBackend",
    fields: &[
        field(4, "service", T::Message(&INGRESS_SERVICE_BACKEND), S::Pointer),
        field(3, "resource", T::Message(&super::core_volume::TYPED_LOCAL_OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static INGRESS_SERVICE_BACKEND: Message = Message {
    name: "IngressServiceBackend",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "port", T::Message(&SERVICE_BACKEND_PORT), S::Always),
    ],
};

pub(crate) static SERVICE_BACKEND_PORT: Message = Message {
    name: "ServiceBackendPort",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "number", T::Int32, S::OmitEmpty),
    ],
};

pub(crate) static INGRESS_TLS: Message = Message {
    name: "IngressTLS",
    fields: &[
        field(1, "hosts", T::String, S::Repeated),
        field(2, "secretName", T::String, S::OmitEmpty),
    ],
};

pub(crate) static INGRESS_RULE: Message = Message {
    name: "IngressRule",
    fields: &[
        field(1, "host", T::String, S::OmitEmpty),
        field(2, "", T::Message(&INGRESS_RULE_VALUE), S::Inline),
    ],
};

pub(crate) static INGRESS_RULE_VALUE: Message = Message {
    name: "IngressRuleValue",
    fields: &[
        field(1, "http", T::Message(&HTTP_INGRESS_RULE_VALUE), S::Pointer),
    ],
};

pub(crate) static HTTP_INGRESS_RULE_VALUE: Message = Message {
    name: "HTTPIngressRuleValue",
    fields: &[
        field(1, "paths", T::Message(&HTTP_INGRESS_PATH), S::Repeated),
    ],
};

pub(crate) static HTTP_INGRESS_PATH: Message = Message {
    name: "HTTPIngressPath",
    fields: &[
        field(1, "path", T::String, S::OmitEmpty),
        field(3, "pathType", T::String, S::Pointer),
        field(2, "backend", T::Message(&INGRESS_BACKEND), S::Always),
    ],
};

pub(crate) static INGRESS_STATUS: Message = Message {
    name: "IngressStatus",
    fields: &[
        field(1, "loadBalancer", T::Message(&INGRESS_LOAD_BALANCER_STATUS), S::Always),
    ],
};

pub(crate) static INGRESS_LOAD_BALANCER_STATUS: Message = Message {
    name: "IngressLoadBalancerStatus",
    fields: &[
        field(1, "ingress", T::Message(&INGRESS_LOAD_BALANCER_INGRESS), S::Repeated),
    ],
};

pub(crate) static INGRESS_LOAD_BALANCER_INGRESS: Message = Message {
    name: "IngressLoadBalancerIngress",
    fields: &[
        field(1, "ip", T::String, S::OmitEmpty),
        field(2, "hostname", T::String, S::OmitEmpty),
        field(4, "ports", T::Message(&INGRESS_PORT_STATUS), S::Repeated),
    ],
};

pub(crate) static INGRESS_PORT_STATUS: Message = Message {
    name: "IngressPortStatus",
    fields: &[
        field(1, "port", T::Int32, S::Always),
        field(2, "protocol", T::String, S::Always),
        field(3, "error", T::String, S::Pointer),
    ],
};

pub(crate) static INGRESS_CLASS: Message = Message {
    name: "IngressClass",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&INGRESS_CLASS_SPEC), S::Always),
    ],
};

pub(crate) static INGRESS_CLASS_SPEC: Message = Message {
    name: "IngressClassSpec",
    fields: &[
        field(1, "controller", T::String, S::OmitEmpty),
        field(2, "parameters", T::Message(&INGRESS_CLASS_PARAMETERS_REFERENCE), S::Pointer),
    ],
};

pub(crate) static INGRESS_CLASS_PARAMETERS_REFERENCE: Message = Message {
    name: "IngressClassParametersReference",
    fields: &[
        field(1, "apiGroup", T::String, S::Pointer),
        field(2, "kind", T::String, S::Always),
        field(3, "name", T::String, S::Always),
        field(4, "scope", T::String, S::Pointer),
        field(5, "namespace", T::String, S::Pointer),
    ],
};
