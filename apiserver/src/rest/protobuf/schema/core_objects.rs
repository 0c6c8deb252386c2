//! Protobuf field tables for the core group's objects other than pods, nodes
//! and volumes (Namespace, ConfigMap, Secret, ServiceAccount, Service,
//! Endpoints, Event, Binding, ResourceQuota, LimitRange,
//! ReplicationController). Field numbers and wire types follow
//! `staging/src/k8s.io/api/core/v1/generated.proto` of Kubernetes 1.34; JSON
//! names, `omitempty` and pointers follow the JSON tags and Go types of the
//! `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static NAMESPACE: Message = Message {
    name: "Namespace",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&NAMESPACE_SPEC), S::Always),
        field(3, "status", T::Message(&NAMESPACE_STATUS), S::Always),
    ],
};

pub(crate) static NAMESPACE_SPEC: Message = Message {
    name: "NamespaceSpec",
    fields: &[
        field(1, "finalizers", T::String, S::Repeated),
    ],
};

pub(crate) static NAMESPACE_STATUS: Message = Message {
    name: "NamespaceStatus",
    fields: &[
        field(1, "phase", T::String, S::OmitEmpty),
        field(2, "conditions", T::Message(&NAMESPACE_CONDITION), S::Repeated),
    ],
};

pub(crate) static NAMESPACE_CONDITION: Message = Message {
    name: "NamespaceCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::OmitEmpty),
        field(6, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static TAINT: Message = Message {
    name: "Taint",
    fields: &[
        field(1, "key", T::String, S::Always),
        field(2, "value", T::String, S::OmitEmpty),
        field(3, "effect", T::String, S::Always),
        field(4, "timeAdded", T::Time, S::Pointer),
    ],
};

pub(crate) static POD: Message = Message {
    name: "Pod",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&super::core_pod::POD_SPEC), S::Always),
        field(3, "status", T::Message(&POD_STATUS), S::Always),
    ],
};

pub(crate) static POD_STATUS: Message = Message {
    name: "PodStatus",
    fields: &[
        field(17, "observedGeneration", T::Int64, S::OmitEmpty),
        field(1, "phase", T::String, S::OmitEmpty),
        field(2, "conditions", T::Message(&POD_CONDITION), S::Repeated),
        field(3, "message", T::String, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(11, "nominatedNodeName", T::String, S::OmitEmpty),
        field(5, "hostIP", T::String, S::OmitEmpty),
        field(16, "hostIPs", T::Message(&HOST_IP), S::Repeated),
        field(6, "podIP", T::String, S::OmitEmpty),
        field(12, "podIPs", T::Message(&POD_IP), S::Repeated),
        field(7, "startTime", T::Time, S::Pointer),
        field(10, "initContainerStatuses", T::Message(&CONTAINER_STATUS), S::Repeated),
        field(8, "containerStatuses", T::Message(&CONTAINER_STATUS), S::Repeated),
        field(9, "qosClass", T::String, S::OmitEmpty),
        field(13, "ephemeralContainerStatuses", T::Message(&CONTAINER_STATUS), S::Repeated),
        field(14, "resize", T::String, S::OmitEmpty),
        field(15, "resourceClaimStatuses", T::Message(&POD_RESOURCE_CLAIM_STATUS), S::Repeated),
        field(18, "extendedResourceClaimStatus", T::Message(&POD_EXTENDED_RESOURCE_CLAIM_STATUS), S::Pointer),
    ],
};

pub(crate) static POD_CONDITION: Message = Message {
    name: "PodCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(7, "observedGeneration", T::Int64, S::OmitEmpty),
        field(2, "status", T::String, S::Always),
        field(3, "lastProbeTime", T::Time, S::OmitEmpty),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::OmitEmpty),
        field(6, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static HOST_IP: Message = Message {
    name: "HostIP",
    fields: &[
        field(1, "ip", T::String, S::Always),
    ],
};

pub(crate) static POD_IP: Message = Message {
    name: "PodIP",
    fields: &[
        field(1, "ip", T::String, S::Always),
    ],
};

pub(crate) static CONTAINER_STATUS: Message = Message {
    name: "ContainerStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "state", T::Message(&CONTAINER_STATE), S::Always),
        field(3, "lastState", T::Message(&CONTAINER_STATE), S::Always),
        field(4, "ready", T::Bool, S::Always),
        field(5, "restartCount", T::Int32, S::Always),
        field(6, "image", T::String, S::Always),
        field(7, "imageID", T::String, S::Always),
        field(8, "containerID", T::String, S::OmitEmpty),
        field(9, "started", T::Bool, S::Pointer),
        field(10, "allocatedResources", T::Quantity, S::Map),
        field(11, "resources", T::Message(&super::core_pod::RESOURCE_REQUIREMENTS), S::Pointer),
        field(12, "volumeMounts", T::Message(&super::core_volume::VOLUME_MOUNT_STATUS), S::Repeated),
        field(13, "user", T::Message(&CONTAINER_USER), S::Pointer),
        field(14, "allocatedResourcesStatus", T::Message(&RESOURCE_STATUS), S::Repeated),
        field(15, "stopSignal", T::String, S::Pointer),
    ],
};

pub(crate) static CONTAINER_STATE: Message = Message {
    name: "ContainerState",
    fields: &[
        field(1, "waiting", T::Message(&CONTAINER_STATE_WAITING), S::Pointer),
        field(2, "running", T::Message(&CONTAINER_STATE_RUNNING), S::Pointer),
        field(3, "terminated", T::Message(&CONTAINER_STATE_TERMINATED), S::Pointer),
    ],
};

pub(crate) static CONTAINER_STATE_WAITING: Message = Message {
    name: "ContainerStateWaiting",
    fields: &[
        field(1, "reason", T::String, S::OmitEmpty),
        field(2, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER_STATE_RUNNING: Message = Message {
    name: "ContainerStateRunning",
    fields: &[
        field(1, "startedAt", T::Time, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER_STATE_TERMINATED: Message = Message {
    name: "ContainerStateTerminated",
    fields: &[
        field(1, "exitCode", T::Int32, S::Always),
        field(2, "signal", T::Int32, S::OmitEmpty),
        field(3, "reason", T::String, S::OmitEmpty),
        field(4, "message", T::String, S::OmitEmpty),
        field(5, "startedAt", T::Time, S::OmitEmpty),
        field(6, "finishedAt", T::Time, S::OmitEmpty),
        field(7, "containerID", T::String, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER_USER: Message = Message {
    name: "ContainerUser",
    fields: &[
        field(1, "linux", T::Message(&LINUX_CONTAINER_USER), S::Pointer),
    ],
};

pub(crate) static LINUX_CONTAINER_USER: Message = Message {
    name: "LinuxContainerUser",
    fields: &[
        field(1, "uid", T::Int64, S::Always),
        field(2, "gid", T::Int64, S::Always),
        field(3, "supplementalGroups", T::Int64, S::Repeated),
    ],
};

pub(crate) static RESOURCE_STATUS: Message = Message {
    name: "ResourceStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "resources", T::Message(&RESOURCE_HEALTH), S::Repeated),
    ],
};

pub(crate) static RESOURCE_HEALTH: Message = Message {
    name: "ResourceHealth",
    fields: &[
        field(1, "resourceID", T::String, S::Always),
        field(2, "health", T::String, S::OmitEmpty),
    ],
};

pub(crate) static POD_RESOURCE_CLAIM_STATUS: Message = Message {
    name: "PodResourceClaimStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "resourceClaimName", T::String, S::Pointer),
    ],
};

pub(crate) static POD_EXTENDED_RESOURCE_CLAIM_STATUS: Message = Message {
    name: "PodExtendedResourceClaimStatus",
    fields: &[
        field(1, "requestMappings", T::Message(&CONTAINER_EXTENDED_RESOURCE_REQUEST), S::Repeated),
        field(2, "resourceClaimName", T::String, S::Always),
    ],
};

pub(crate) static CONTAINER_EXTENDED_RESOURCE_REQUEST: Message = Message {
    name: "ContainerExtendedResourceRequest",
    fields: &[
        field(1, "containerName", T::String, S::Always),
        field(2, "resourceName", T::String, S::Always),
        field(3, "requestName", T::String, S::Always),
    ],
};

pub(crate) static SERVICE: Message = Message {
    name: "Service",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&SERVICE_SPEC), S::Always),
        field(3, "status", T::Message(&SERVICE_STATUS), S::Always),
    ],
};

pub(crate) static SERVICE_SPEC: Message = Message {
    name: "ServiceSpec",
    fields: &[
        field(1, "ports", T::Message(&SERVICE_PORT), S::Repeated),
        field(2, "selector", T::String, S::Map),
        field(3, "clusterIP", T::String, S::OmitEmpty),
        field(18, "clusterIPs", T::String, S::Repeated),
        field(4, "type", T::String, S::OmitEmpty),
        field(5, "externalIPs", T::String, S::Repeated),
        field(7, "sessionAffinity", T::String, S::OmitEmpty),
        field(8, "loadBalancerIP", T::String, S::OmitEmpty),
        field(9, "loadBalancerSourceRanges", T::String, S::Repeated),
        field(10, "externalName", T::String, S::OmitEmpty),
        field(11, "externalTrafficPolicy", T::String, S::OmitEmpty),
        field(12, "healthCheckNodePort", T::Int32, S::OmitEmpty),
        field(13, "publishNotReadyAddresses", T::Bool, S::OmitEmpty),
        field(14, "sessionAffinityConfig", T::Message(&SESSION_AFFINITY_CONFIG), S::Pointer),
        field(19, "ipFamilies", T::String, S::Repeated),
        field(17, "ipFamilyPolicy", T::String, S::Pointer),
        field(20, "allocateLoadBalancerNodePorts", T::Bool, S::Pointer),
        field(21, "loadBalancerClass", T::String, S::Pointer),
        field(22, "internalTrafficPolicy", T::String, S::Pointer),
        field(23, "trafficDistribution", T::String, S::Pointer),
    ],
};

pub(crate) static SERVICE_PORT: Message = Message {
    name: "ServicePort",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "protocol", T::String, S::OmitEmpty),
        field(6, "appProtocol", T::String, S::Pointer),
        field(3, "port", T::Int32, S::Always),
        field(4, "targetPort", T::IntOrString, S::OmitEmpty),
        field(5, "nodePort", T::Int32, S::OmitEmpty),
    ],
};

pub(crate) static SESSION_AFFINITY_CONFIG: Message = Message {
    name: "SessionAffinityConfig",
    fields: &[
        field(1, "clientIP", T::Message(&CLIENT_IP_CONFIG), S::Pointer),
    ],
};

pub(crate) static CLIENT_IP_CONFIG: Message = Message {
    name: "ClientIPConfig",
    fields: &[
        field(1, "timeoutSeconds", T::Int32, S::Pointer),
    ],
};

pub(crate) static SERVICE_STATUS: Message = Message {
    name: "ServiceStatus",
    fields: &[
        field(1, "loadBalancer", T::Message(&LOAD_BALANCER_STATUS), S::Always),
        field(2, "conditions", T::Message(&super::meta::CONDITION), S::Repeated),
    ],
};

pub(crate) static LOAD_BALANCER_STATUS: Message = Message {
    name: "LoadBalancerStatus",
    fields: &[
        field(1, "ingress", T::Message(&LOAD_BALANCER_INGRESS), S::Repeated),
    ],
};

pub(crate) static LOAD_BALANCER_INGRESS: Message = Message {
    name: "LoadBalancerIngress",
    fields: &[
        field(1, "ip", T::String, S::OmitEmpty),
        field(2, "hostname", T::String, S::OmitEmpty),
        field(3, "ipMode", T::String, S::Pointer),
        field(4, "ports", T::Message(&PORT_STATUS), S::Repeated),
    ],
};

pub(crate) static PORT_STATUS: Message = Message {
    name: "PortStatus",
    fields: &[
        field(1, "port", T::Int32, S::Always),
        field(2, "protocol", T::String, S::Always),
        field(3, "error", T::String, S::Pointer),
    ],
};

pub(crate) static ENDPOINTS: Message = Message {
    name: "Endpoints",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "subsets", T::Message(&ENDPOINT_SUBSET), S::Repeated),
    ],
};

pub(crate) static ENDPOINT_SUBSET: Message = Message {
    name: "EndpointSubset",
    fields: &[
        field(1, "addresses", T::Message(&ENDPOINT_ADDRESS), S::Repeated),
        field(2, "notReadyAddresses", T::Message(&ENDPOINT_ADDRESS), S::Repeated),
        field(3, "ports", T::Message(&ENDPOINT_PORT), S::Repeated),
    ],
};

pub(crate) static ENDPOINT_ADDRESS: Message = Message {
    name: "EndpointAddress",
    fields: &[
        field(1, "ip", T::String, S::Always),
        field(3, "hostname", T::String, S::OmitEmpty),
        field(4, "nodeName", T::String, S::Pointer),
        field(2, "targetRef", T::Message(&OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static OBJECT_REFERENCE: Message = Message {
    name: "ObjectReference",
    fields: &[
        field(1, "kind", T::String, S::OmitEmpty),
        field(2, "namespace", T::String, S::OmitEmpty),
        field(3, "name", T::String, S::OmitEmpty),
        field(4, "uid", T::String, S::OmitEmpty),
        field(5, "apiVersion", T::String, S::OmitEmpty),
        field(6, "resourceVersion", T::String, S::OmitEmpty),
        field(7, "fieldPath", T::String, S::OmitEmpty),
    ],
};

pub(crate) static ENDPOINT_PORT: Message = Message {
    name: "EndpointPort",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "port", T::Int32, S::Always),
        field(3, "protocol", T::String, S::OmitEmpty),
        field(4, "appProtocol", T::String, S::Pointer),
    ],
};

pub(crate) static REPLICATION_CONTROLLER: Message = Message {
    name: "ReplicationController",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&REPLICATION_CONTROLLER_SPEC), S::Always),
        field(3, "status", T::Message(&REPLICATION_CONTROLLER_STATUS), S::Always),
    ],
};

pub(crate) static REPLICATION_CONTROLLER_SPEC: Message = Message {
    name: "ReplicationControllerSpec",
    fields: &[
        field(1, "replicas", T::Int32, S::Pointer),
        field(4, "minReadySeconds", T::Int32, S::OmitEmpty),
        field(2, "selector", T::String, S::Map),
        field(3, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Pointer),
    ],
};

pub(crate) static REPLICATION_CONTROLLER_STATUS: Message = Message {
    name: "ReplicationControllerStatus",
    fields: &[
        field(1, "replicas", T::Int32, S::Always),
        field(2, "fullyLabeledReplicas", T::Int32, S::OmitEmpty),
        field(4, "readyReplicas", T::Int32, S::OmitEmpty),
        field(5, "availableReplicas", T::Int32, S::OmitEmpty),
        field(3, "observedGeneration", T::Int64, S::OmitEmpty),
        field(6, "conditions", T::Message(&REPLICATION_CONTROLLER_CONDITION), S::Repeated),
    ],
};

pub(crate) static REPLICATION_CONTROLLER_CONDITION: Message = Message {
    name: "ReplicationControllerCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static EVENT: Message = Message {
    name: "Event",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "involvedObject", T::Message(&OBJECT_REFERENCE), S::Always),
        field(3, "reason", T::String, S::OmitEmpty),
        field(4, "message", T::String, S::OmitEmpty),
        field(5, "source", T::Message(&EVENT_SOURCE), S::Always),
        field(6, "firstTimestamp", T::Time, S::OmitEmpty),
        field(7, "lastTimestamp", T::Time, S::OmitEmpty),
        field(8, "count", T::Int32, S::OmitEmpty),
        field(9, "type", T::String, S::OmitEmpty),
        field(10, "eventTime", T::MicroTime, S::OmitEmpty),
        field(11, "series", T::Message(&EVENT_SERIES), S::Pointer),
        field(12, "action", T::String, S::OmitEmpty),
        field(13, "related", T::Message(&OBJECT_REFERENCE), S::Pointer),
        field(14, "reportingComponent", T::String, S::Always),
        field(15, "reportingInstance", T::String, S::Always),
    ],
};

pub(crate) static EVENT_SOURCE: Message = Message {
    name: "EventSource",
    fields: &[
        field(1, "component", T::String, S::OmitEmpty),
        field(2, "host", T::String, S::OmitEmpty),
    ],
};

pub(crate) static EVENT_SERIES: Message = Message {
    name: "EventSeries",
    fields: &[
        field(1, "count", T::Int32, S::OmitEmpty),
        field(2, "lastObservedTime", T::MicroTime, S::OmitEmpty),
    ],
};

pub(crate) static BINDING: Message = Message {
    name: "Binding",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "target", T::Message(&OBJECT_REFERENCE), S::Always),
    ],
};

pub(crate) static SECRET: Message = Message {
    name: "Secret",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(5, "immutable", T::Bool, S::Pointer),
        field(2, "data", T::Bytes, S::Map),
        field(4, "stringData", T::String, S::Map),
        field(3, "type", T::String, S::OmitEmpty),
    ],
};

pub(crate) static CONFIG_MAP: Message = Message {
    name: "ConfigMap",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(4, "immutable", T::Bool, S::Pointer),
        field(2, "data", T::String, S::Map),
        field(3, "binaryData", T::Bytes, S::Map),
    ],
};

pub(crate) static SERVICE_ACCOUNT: Message = Message {
    name: "ServiceAccount",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "secrets", T::Message(&OBJECT_REFERENCE), S::Repeated),
        field(3, "imagePullSecrets", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Repeated),
        field(4, "automountServiceAccountToken", T::Bool, S::Pointer),
    ],
};

pub(crate) static RESOURCE_QUOTA: Message = Message {
    name: "ResourceQuota",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&RESOURCE_QUOTA_SPEC), S::Always),
        field(3, "status", T::Message(&RESOURCE_QUOTA_STATUS), S::Always),
    ],
};

pub(crate) static RESOURCE_QUOTA_SPEC: Message = Message {
    name: "ResourceQuotaSpec",
    fields: &[
        field(1, "hard", T::Quantity, S::Map),
        field(2, "scopes", T::String, S::Repeated),
        field(3, "scopeSelector", T::Message(&SCOPE_SELECTOR), S::Pointer),
    ],
};

pub(crate) static SCOPE_SELECTOR: Message = Message {
    name: "ScopeSelector",
    fields: &[
        field(1, "matchExpressions", T::Message(&SCOPED_RESOURCE_SELECTOR_REQUIREMENT), S::Repeated),
    ],
};

pub(crate) static SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Message = Message {
    name: "ScopedResourceSelectorRequirement",
    fields: &[
        field(1, "scopeName", T::String, S::Always),
        field(2, "operator", T::String, S::Always),
        field(3, "values", T::String, S::Repeated),
    ],
};

pub(crate) static RESOURCE_QUOTA_STATUS: Message = Message {
    name: "ResourceQuotaStatus",
    fields: &[
        field(1, "hard", T::Quantity, S::Map),
        field(2, "used", T::Quantity, S::Map),
    ],
};

pub(crate) static LIMIT_RANGE: Message = Message {
    name: "LimitRange",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&LIMIT_RANGE_SPEC), S::Always),
    ],
};

pub(crate) static LIMIT_RANGE_SPEC: Message = Message {
    name: "LimitRangeSpec",
    fields: &[
        field(1, "limits", T::Message(&LIMIT_RANGE_ITEM), S::Repeated),
    ],
};

pub(crate) static LIMIT_RANGE_ITEM: Message = Message {
    name: "LimitRangeItem",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "max", T::Quantity, S::Map),
        field(3, "min", T::Quantity, S::Map),
        field(4, "default", T::Quantity, S::Map),
        field(5, "defaultRequest", T::Quantity, S::Map),
        field(6, "maxLimitRequestRatio", T::Quantity, S::Map),
    ],
};
