//! Protobuf field tables for the autoscaling/v2 messages. Field numbers and
//! wire types follow `staging/src/k8s.io/api/autoscaling/v2/generated.proto`
//! of Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON
//! tags and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static HORIZONTAL_POD_AUTOSCALER: Message = Message {
    name: "HorizontalPodAutoscaler",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&HORIZONTAL_POD_AUTOSCALER_SPEC), S::Always),
        field(3, "status", T::Message(&HORIZONTAL_POD_AUTOSCALER_STATUS), S::Always),
    ],
};

pub(crate) static HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    name: "HorizontalPodAutoscalerSpec",
    fields: &[
        field(1, "scaleTargetRef", T::Message(&CROSS_VERSION_OBJECT_REFERENCE), S::Always),
        field(2, "minReplicas", T::Int32, S::Pointer),
        field(3, "maxReplicas", T::Int32, S::Always),
        field(4, "metrics", T::Message(&METRIC_SPEC), S::Repeated),
        field(5, "behavior", T::Message(&HORIZONTAL_POD_AUTOSCALER_BEHAVIOR), S::Pointer),
    ],
};

pub(crate) static CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    name: "CrossVersionObjectReference",
    fields: &[
        field(1, "kind", T::String, S::Always),
        field(2, "name", T::String, S::Always),
        field(3, "apiVersion", T::String, S::OmitEmpty),
    ],
};

pub(crate) static METRIC_SPEC: Message = Message {
    name: "MetricSpec",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "object", T::Message(&OBJECT_METRIC_SOURCE), S::Pointer),
        field(3, "pods", T::Message(&PODS_METRIC_SOURCE), S::Pointer),
        field(4, "resource", T::Message(&RESOURCE_METRIC_SOURCE), S::Pointer),
        field(7, "containerResource", T::Message(&CONTAINER_RESOURCE_METRIC_SOURCE), S::Pointer),
        field(5, "external", T::Message(&EXTERNAL_METRIC_SOURCE), S::Pointer),
    ],
};

pub(crate) static OBJECT_METRIC_SOURCE: Message = Message {
    name: "ObjectMetricSource",
    fields: &[
        field(1, "describedObject", T::Message(&CROSS_VERSION_OBJECT_REFERENCE), S::Always),
        field(2, "target", T::Message(&METRIC_TARGET), S::Always),
        field(3, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
    ],
};

pub(crate) static METRIC_TARGET: Message = Message {
    name: "MetricTarget",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "value", T::Quantity, S::Pointer),
        field(3, "averageValue", T::Quantity, S::Pointer),
        field(4, "averageUtilization", T::Int32, S::Pointer),
    ],
};

pub(crate) static METRIC_IDENTIFIER: Message = Message {
    name: "MetricIdentifier",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
    ],
};

pub(crate) static PODS_METRIC_SOURCE: Message = Message {
    name: "PodsMetricSource",
    fields: &[
        field(1, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
        field(2, "target", T::Message(&METRIC_TARGET), S::Always),
    ],
};

pub(crate) static RESOURCE_METRIC_SOURCE: Message = Message {
    name: "ResourceMetricSource",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "target", T::Message(&METRIC_TARGET), S::Always),
    ],
};

pub(crate) static CONTAINER_RESOURCE_METRIC_SOURCE: Message = Message {
    name: "ContainerResourceMetricSource",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "target", T::Message(&METRIC_TARGET), S::Always),
        field(3, "container", T::String, S::Always),
    ],
};

pub(crate) static EXTERNAL_METRIC_SOURCE: Message = Message {
    name: "ExternalMetricSource",
    fields: &[
        field(1, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
        field(2, "target", T::Message(&METRIC_TARGET), S::Always),
    ],
};

pub(crate) static HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: Message = Message {
    name: "HorizontalPodAutoscalerBehavior",
    fields: &[
        field(1, "scaleUp", T::Message(&HPA_SCALING_RULES), S::Pointer),
        field(2, "scaleDown", T::Message(&HPA_SCALING_RULES), S::Pointer),
    ],
};

pub(crate) static HPA_SCALING_RULES: Message = Message {
    name: "HPAScalingRules",
    fields: &[
        field(3, "stabilizationWindowSeconds", T::Int32, S::Pointer),
        field(1, "selectPolicy", T::String, S::Pointer),
        field(2, "policies", T::Message(&HPA_SCALING_POLICY), S::Repeated),
        field(4, "tolerance", T::Quantity, S::Pointer),
    ],
};

pub(crate) static HPA_SCALING_POLICY: Message = Message {
    name: "HPAScalingPolicy",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "value", T::Int32, S::Always),
        field(3, "periodSeconds", T::Int32, S::Always),
    ],
};

pub(crate) static HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    name: "HorizontalPodAutoscalerStatus",
    fields: &[
        field(1, "observedGeneration", T::Int64, S::Pointer),
        field(2, "lastScaleTime", T::Time, S::Pointer),
        field(3, "currentReplicas", T::Int32, S::OmitEmpty),
        field(4, "desiredReplicas", T::Int32, S::Always),
        field(5, "currentMetrics", T::Message(&METRIC_STATUS), S::Repeated),
        field(6, "conditions", T::Message(&HORIZONTAL_POD_AUTOSCALER_CONDITION), S::Repeated),
    ],
};

pub(crate) static METRIC_STATUS: Message = Message {
    name: "MetricStatus",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "object", T::Message(&OBJECT_METRIC_STATUS), S::Pointer),
        field(3, "pods", T::Message(&PODS_METRIC_STATUS), S::Pointer),
        field(4, "resource", T::Message(&RESOURCE_METRIC_STATUS), S::Pointer),
        field(7, "containerResource", T::Message(&CONTAINER_RESOURCE_METRIC_STATUS), S::Pointer),
        field(5, "external", T::Message(&EXTERNAL_METRIC_STATUS), S::Pointer),
    ],
};

pub(crate) static OBJECT_METRIC_STATUS: Message = Message {
    name: "ObjectMetricStatus",
    fields: &[
        field(1, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
        field(2, "current", T::Message(&METRIC_VALUE_STATUS), S::Always),
        field(3, "describedObject", T::Message(&CROSS_VERSION_OBJECT_REFERENCE), S::Always),
    ],
};

pub(crate) static METRIC_VALUE_STATUS: Message = Message {
    name: "MetricValueStatus",
    fields: &[
        field(1, "value", T::Quantity, S::Pointer),
        field(2, "averageValue", T::Quantity, S::Pointer),
        field(3, "averageUtilization", T::Int32, S::Pointer),
    ],
};

pub(crate) static PODS_METRIC_STATUS: Message = Message {
    name: "PodsMetricStatus",
    fields: &[
        field(1, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
        field(2, "current", T::Message(&METRIC_VALUE_STATUS), S::Always),
    ],
};

pub(crate) static RESOURCE_METRIC_STATUS: Message = Message {
    name: "ResourceMetricStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "current", T::Message(&METRIC_VALUE_STATUS), S::Always),
    ],
};

pub(crate) static CONTAINER_RESOURCE_METRIC_STATUS: Message = Message {
    name: "ContainerResourceMetricStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "current", T::Message(&METRIC_VALUE_STATUS), S::Always),
        field(3, "container", T::String, S::Always),
    ],
};

pub(crate) static EXTERNAL_METRIC_STATUS: Message = Message {
    name: "ExternalMetricStatus",
    fields: &[
        field(1, "metric", T::Message(&METRIC_IDENTIFIER), S::Always),
        field(2, "current", T::Message(&METRIC_VALUE_STATUS), S::Always),
    ],
};

pub(crate) static HORIZONTAL_POD_AUTOSCALER_CONDITION: Message = Message {
    name: "HorizontalPodAutoscalerCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};
