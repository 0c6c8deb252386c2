//! Protobuf field tables for the policy/v1 messages. Field numbers and wire
//! types follow `staging/src/k8s.io/api/policy/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static POD_DISRUPTION_BUDGET: Message = Message {
    name: "PodDisruptionBudget",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&POD_DISRUPTION_BUDGET_SPEC), S::Always),
        field(3, "status", T::Message(&POD_DISRUPTION_BUDGET_STATUS), S::Always),
    ],
};

pub(crate) static POD_DISRUPTION_BUDGET_SPEC: Message = Message {
    name: "PodDisruptionBudgetSpec",
    fields: &[
        field(1, "minAvailable", T::IntOrString, S::Pointer),
        field(2, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(3, "maxUnavailable", T::IntOrString, S::Pointer),
        field(4, "unhealthyPodEvictionPolicy", T::String, S::Pointer),
    ],
};

pub(crate) static POD_DISRUPTION_BUDGET_STATUS: Message = Message {
    name: "PodDisruptionBudgetStatus",
    fields: &[
        field(1, "observedGeneration", T::Int64, S::OmitEmpty),
        field(2, "disruptedPods", T::Time, S::Map),
        field(3, "disruptionsAllowed", T::Int32, S::Always),
        field(4, "currentHealthy", T::Int32, S::Always),
        field(5, "desiredHealthy", T::Int32, S::Always),
        field(6, "expectedPods", T::Int32, S::Always),
        field(7, "conditions", T::Message(&super::meta::CONDITION), S::Repeated),
    ],
};

pub(crate) static EVICTION: Message = Message {
    name: "Eviction",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "deleteOptions", T::Message(&super::meta::DELETE_OPTIONS), S::Pointer),
    ],
};
