//! Protobuf field tables for Node, and the node selectors and affinity that
//! pods share with it. Field numbers and wire types follow
//! `staging/src/k8s.io/api/core/v1/generated.proto` of Kubernetes 1.34; JSON
//! names, `omitempty` and pointers follow the JSON tags and Go types of the
//! `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static NODE: Message = Message {
    name: "Node",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&NODE_SPEC), S::Always),
        field(3, "status", T::Message(&NODE_STATUS), S::Always),
    ],
};

pub(crate) static NODE_SPEC: Message = Message {
    name: "NodeSpec",
    fields: &[
        field(1, "podCIDR", T::String, S::OmitEmpty),
        field(7, "podCIDRs", T::String, S::Repeated),
        field(3, "providerID", T::String, S::OmitEmpty),
        field(4, "unschedulable", T::Bool, S::OmitEmpty),
        field(5, "taints", T::Message(&super::core_objects::TAINT), S::Repeated),
        field(6, "configSource", T::Message(&NODE_CONFIG_SOURCE), S::Pointer),
        field(2, "externalID", T::String, S::OmitEmpty),
    ],
};

pub(crate) static NODE_CONFIG_SOURCE: Message = Message {
    name: "NodeConfigSource",
    fields: &[
        field(2, "configMap", T::Message(&CONFIG_MAP_NODE_CONFIG_SOURCE), S::Pointer),
    ],
};

pub(crate) static CONFIG_MAP_NODE_CONFIG_SOURCE: Message = Message {
    name: "ConfigMapNodeConfigSource",
    fields: &[
        field(1, "namespace", T::String, S::Always),
        field(2, "name", T::String, S::Always),
        field(3, "uid", T::String, S::OmitEmpty),
        field(4, "resourceVersion", T::String, S::OmitEmpty),
        field(5, "kubeletConfigKey", T::String, S::Always),
    ],
};

pub(crate) static NODE_STATUS: Message = Message {
    name: "NodeStatus",
    fields: &[
        field(1, "capacity", T::Quantity, S::Map),
        field(2, "allocatable", T::Quantity, S::Map),
        field(3, "phase", T::String, S::OmitEmpty),
        field(4, "conditions", T::Message(&NODE_CONDITION), S::Repeated),
        field(5, "addresses", T::Message(&NODE_ADDRESS), S::Repeated),
        field(6, "daemonEndpoints", T::Message(&NODE_DAEMON_ENDPOINTS), S::Always),
        field(7, "nodeInfo", T::Message(&NODE_SYSTEM_INFO), S::Always),
        field(8, "images", T::Message(&CONTAINER_IMAGE), S::Repeated),
        field(9, "volumesInUse", T::String, S::Repeated),
        field(10, "volumesAttached", T::Message(&ATTACHED_VOLUME), S::Repeated),
        field(11, "config", T::Message(&NODE_CONFIG_STATUS), S::Pointer),
        field(12, "runtimeHandlers", T::Message(&NODE_RUNTIME_HANDLER), S::Repeated),
        field(13, "features", T::Message(&NODE_FEATURES), S::Pointer),
    ],
};

pub(crate) static NODE_CONDITION: Message = Message {
    name: "NodeCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastHeartbeatTime", T::Time, S::OmitEmpty),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::OmitEmpty),
        field(6, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static NODE_ADDRESS: Message = Message {
    name: "NodeAddress",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "address", T::String, S::Always),
    ],
};

pub(crate) static NODE_DAEMON_ENDPOINTS: Message = Message {
    name: "NodeDaemonEndpoints",
    fields: &[
        field(1, "kubeletEndpoint", T::Message(&DAEMON_ENDPOINT), S::Always),
    ],
};

pub(crate) static DAEMON_ENDPOINT: Message = Message {
    name: "DaemonEndpoint",
    fields: &[
        field(1, "Port", T::Int32, S::Always),
    ],
};

pub(crate) static NODE_SYSTEM_INFO: Message = Message {
    name: "NodeSystemInfo",
    fields: &[
        field(1, "machineID", T::String, S::Always),
        field(2, "systemUUID", T::String, S::Always),
        field(3, "bootID", T::String, S::Always),
        field(4, "kernelVersion", T::String, S::Always),
        field(5, "osImage", T::String, S::Always),
        field(6, "containerRuntimeVersion", T::String, S::Always),
        field(7, "kubeletVersion", T::String, S::Always),
        field(8, "kubeProxyVersion", T::String, S::Always),
        field(9, "operatingSystem", T::String, S::Always),
        field(10, "architecture", T::String, S::Always),
        field(11, "swap", T::Message(&NODE_SWAP_STATUS), S::Pointer),
    ],
};

pub(crate) static NODE_SWAP_STATUS: Message = Message {
    name: "NodeSwapStatus",
    fields: &[
        field(1, "capacity", T::Int64, S::Pointer),
    ],
};

pub(crate) static CONTAINER_IMAGE: Message = Message {
    name: "ContainerImage",
    fields: &[
        field(1, "names", T::String, S::Repeated),
        field(2, "sizeBytes", T::Int64, S::OmitEmpty),
    ],
};

pub(crate) static ATTACHED_VOLUME: Message = Message {
    name: "AttachedVolume",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "devicePath", T::String, S::Always),
    ],
};

pub(crate) static NODE_CONFIG_STATUS: Message = Message {
    name: "NodeConfigStatus",
    fields: &[
        field(1, "assigned", T::Message(&NODE_CONFIG_SOURCE), S::Pointer),
        field(2, "active", T::Message(&NODE_CONFIG_SOURCE), S::Pointer),
        field(3, "lastKnownGood", T::Message(&NODE_CONFIG_SOURCE), S::Pointer),
        field(4, "error", T::String, S::OmitEmpty),
    ],
};

pub(crate) static NODE_RUNTIME_HANDLER: Message = Message {
    name: "NodeRuntimeHandler",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "features", T::Message(&NODE_RUNTIME_HANDLER_FEATURES), S::Pointer),
    ],
};

pub(crate) static NODE_RUNTIME_HANDLER_FEATURES: Message = Message {
    name: "NodeRuntimeHandlerFeatures",
    fields: &[
        field(1, "recursiveReadOnlyMounts", T::Bool, S::Pointer),
        field(2, "userNamespaces", T::Bool, S::Pointer),
    ],
};

pub(crate) static NODE_FEATURES: Message = Message {
    name: "NodeFeatures",
    fields: &[
        field(1, "supplementalGroupsPolicy", T::Bool, S::Pointer),
    ],
};

pub(crate) static NODE_AFFINITY: Message = Message {
    name: "NodeAffinity",
    fields: &[
        field(1, "requiredDuringSchedulingIgnoredDuringExecution", T::Message(&NODE_SELECTOR), S::Pointer),
        field(2, "preferredDuringSchedulingIgnoredDuringExecution", T::Message(&super::core_pod::PREFERRED_SCHEDULING_TERM), S::Repeated),
    ],
};

pub(crate) static NODE_SELECTOR: Message = Message {
    name: "NodeSelector",
    fields: &[
        field(1, "nodeSelectorTerms", T::Message(&NODE_SELECTOR_TERM), S::Repeated),
    ],
};

pub(crate) static NODE_SELECTOR_TERM: Message = Message {
    name: "NodeSelectorTerm",
    fields: &[
        field(1, "matchExpressions", T::Message(&NODE_SELECTOR_REQUIREMENT), S::Repeated),
        field(2, "matchFields", T::Message(&NODE_SELECTOR_REQUIREMENT), S::Repeated),
    ],
};

pub(crate) static NODE_SELECTOR_REQUIREMENT: Message = Message {
    name: "NodeSelectorRequirement",
    fields: &[
        field(1, "key", T::String, S::Always),
        field(2, "operator", T::String, S::Always),
        field(3, "values", T::String, S::Repeated),
    ],
};
