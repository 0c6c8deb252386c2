//! Protobuf field tables for the apps/v1 messages. Field numbers and wire
//! types follow `staging/src/k8s.io/api/apps/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static REPLICA_SET: Message = Message {
    name: "ReplicaSet",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&REPLICA_SET_SPEC), S::Always),
        field(3, "status", T::Message(&REPLICA_SET_STATUS), S::Always),
    ],
};

pub(crate) static REPLICA_SET_SPEC: Message = Message {
    name: "ReplicaSetSpec",
    fields: &[
        field(1, "replicas", T::Int32, S::Pointer),
        field(4, "minReadySeconds", T::Int32, S::OmitEmpty),
        field(2, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(3, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Always),
    ],
};

pub(crate) static REPLICA_SET_STATUS: Message = Message {
    name: "ReplicaSetStatus",
    fields: &[
        field(1, "replicas", T::Int32, S::Always),
        field(2, "fullyLabeledReplicas", T::Int32, S::OmitEmpty),
        field(4, "readyReplicas", T::Int32, S::OmitEmpty),
        field(5, "availableReplicas", T::Int32, S::OmitEmpty),
        field(7, "terminatingReplicas", T::Int32, S::Pointer),
        field(3, "observedGeneration", T::Int64, S::OmitEmpty),
        field(6, "conditions", T::Message(&REPLICA_SET_CONDITION), S::Repeated),
    ],
};

pub(crate) static REPLICA_SET_CONDITION: Message = Message {
    name: "ReplicaSetCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static DEPLOYMENT: Message = Message {
    name: "Deployment",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&DEPLOYMENT_SPEC), S::Always),
        field(3, "status", T::Message(&DEPLOYMENT_STATUS), S::Always),
    ],
};

pub(crate) static DEPLOYMENT_SPEC: Message = Message {
    name: "DeploymentSpec",
    fields: &[
        field(1, "replicas", T::Int32, S::Pointer),
        field(2, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(3, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Always),
        field(4, "strategy", T::Message(&DEPLOYMENT_STRATEGY), S::Always),
        field(5, "minReadySeconds", T::Int32, S::OmitEmpty),
        field(6, "revisionHistoryLimit", T::Int32, S::Pointer),
        field(7, "paused", T::Bool, S::OmitEmpty),
        field(9, "progressDeadlineSeconds", T::Int32, S::Pointer),
    ],
};

pub(crate) static DEPLOYMENT_STRATEGY: Message = Message {
    name: "DeploymentStrategy",
    fields: &[
        field(1, "type", T::String, S::OmitEmpty),
        field(2, "rollingUpdate", T::Message(&ROLLING_UPDATE_DEPLOYMENT), S::Pointer),
    ],
};

pub(crate) static ROLLING_UPDATE_DEPLOYMENT: Message = Message {
    name: "RollingUpdateDeployment",
    fields: &[
        field(1, "maxUnavailable", T::IntOrString, S::Pointer),
        field(2, "maxSurge", T::IntOrString, S::Pointer),
    ],
};

pub(crate) static DEPLOYMENT_STATUS: Message = Message {
    name: "DeploymentStatus",
    fields: &[
        field(1, "observedGeneration", T::Int64, S::OmitEmpty),
        field(2, "replicas", T::Int32, S::OmitEmpty),
        field(3, "updatedReplicas", T::Int32, S::OmitEmpty),
        field(7, "readyReplicas", T::Int32, S::OmitEmpty),
        field(4, "availableReplicas", T::Int32, S::OmitEmpty),
        field(5, "unavailableReplicas", T::Int32, S::OmitEmpty),
        field(9, "terminatingReplicas", T::Int32, S::Pointer),
        field(6, "conditions", T::Message(&DEPLOYMENT_CONDITION), S::Repeated),
        field(8, "collisionCount", T::Int32, S::Pointer),
    ],
};

pub(crate) static DEPLOYMENT_CONDITION: Message = Message {
    name: "DeploymentCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(6, "lastUpdateTime", T::Time, S::OmitEmpty),
        field(7, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static DAEMON_SET: Message = Message {
    name: "DaemonSet",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&DAEMON_SET_SPEC), S::Always),
        field(3, "status", T::Message(&DAEMON_SET_STATUS), S::Always),
    ],
};

pub(crate) static DAEMON_SET_SPEC: Message = Message {
    name: "DaemonSetSpec",
    fields: &[
        field(1, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(2, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Always),
        field(3, "updateStrategy", T::Message(&DAEMON_SET_UPDATE_STRATEGY), S::Always),
        field(4, "minReadySeconds", T::Int32, S::OmitEmpty),
        field(6, "revisionHistoryLimit", T::Int32, S::Pointer),
    ],
};

pub(crate) static DAEMON_SET_UPDATE_STRATEGY: Message = Message {
    name: "DaemonSetUpdateStrategy",
    fields: &[
        field(1, "type", T::String, S::OmitEmpty),
        field(2, "rollingUpdate", T::Message(&ROLLING_UPDATE_DAEMON_SET), S::Pointer),
    ],
};

pub(crate) static ROLLING_UPDATE_DAEMON_SET: Message = Message {
    name: "RollingUpdateDaemonSet",
    fields: &[
        field(1, "maxUnavailable", T::IntOrString, S::Pointer),
        field(2, "maxSurge", T::IntOrString, S::Pointer),
    ],
};

pub(crate) static DAEMON_SET_STATUS: Message = Message {
    name: "DaemonSetStatus",
    fields: &[
        field(1, "currentNumberScheduled", T::Int32, S::Always),
        field(2, "numberMisscheduled", T::Int32, S::Always),
        field(3, "desiredNumberScheduled", T::Int32, S::Always),
        field(4, "numberReady", T::Int32, S::Always),
        field(5, "observedGeneration", T::Int64, S::OmitEmpty),
        field(6, "updatedNumberScheduled", T::Int32, S::OmitEmpty),
        field(7, "numberAvailable", T::Int32, S::OmitEmpty),
        field(8, "numberUnavailable", T::Int32, S::OmitEmpty),
        field(9, "collisionCount", T::Int32, S::Pointer),
        field(10, "conditions", T::Message(&DAEMON_SET_CONDITION), S::Repeated),
    ],
};

pub(crate) static DAEMON_SET_CONDITION: Message = Message {
    name: "DaemonSetCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static STATEFUL_SET: Message = Message {
    name: "StatefulSet",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&STATEFUL_SET_SPEC), S::Always),
        field(3, "status", T::Message(&STATEFUL_SET_STATUS), S::Always),
    ],
};

pub(crate) static STATEFUL_SET_SPEC: Message = Message {
    name: "StatefulSetSpec",
    fields: &[
        field(1, "replicas", T::Int32, S::Pointer),
        field(2, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(3, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Always),
        field(4, "volumeClaimTemplates", T::Message(&super::core_volume::PERSISTENT_VOLUME_CLAIM), S::Repeated),
        field(5, "serviceName", T::String, S::Always),
        field(6, "podManagementPolicy", T::String, S::OmitEmpty),
        field(7, "updateStrategy", T::Message(&STATEFUL_SET_UPDATE_STRATEGY), S::Always),
        field(8, "revisionHistoryLimit", T::Int32, S::Pointer),
        field(9, "minReadySeconds", T::Int32, S::OmitEmpty),
        field(10, "persistentVolumeClaimRetentionPolicy", T::Message(&STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY), S::Pointer),
        field(11, "ordinals", T::Message(&STATEFUL_SET_ORDINALS), S::Pointer),
    ],
};

pub(crate) static STATEFUL_SET_UPDATE_STRATEGY: Message = Message {
    name: "StatefulSetUpdateStrategy",
    fields: &[
        field(1, "type", T::String, S::OmitEmpty),
        field(2, "rollingUpdate", T::Message(&ROLLING_UPDATE_STATEFUL_SET_STRATEGY), S::Pointer),
    ],
};

pub(crate) static ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Message = Message {
    name: "RollingUpdateStatefulSetStrategy",
    fields: &[
        field(1, "partition", T::Int32, S::Pointer),
        field(2, "maxUnavailable", T::IntOrString, S::Pointer),
    ],
};

pub(crate) static STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Message = Message {
    name: "StatefulSetPersistentVolumeClaimRetentionPolicy",
    fields: &[
        field(1, "whenDeleted", T::String, S::OmitEmpty),
        field(2, "whenScaled", T::String, S::OmitEmpty),
    ],
};

pub(crate) static STATEFUL_SET_ORDINALS: Message = Message {
    name: "StatefulSetOrdinals",
    fields: &[
        field(1, "start", T::Int32, S::Always),
    ],
};

pub(crate) static STATEFUL_SET_STATUS: Message = Message {
    name: "StatefulSetStatus",
    fields: &[
        field(1, "observedGeneration", T::Int64, S::OmitEmpty),
        field(2, "replicas", T::Int32, S::Always),
        field(3, "readyReplicas", T::Int32, S::OmitEmpty),
        field(4, "currentReplicas", T::Int32, S::OmitEmpty),
        field(5, "updatedReplicas", T::Int32, S::OmitEmpty),
        field(6, "currentRevision", T::String, S::OmitEmpty),
        field(7, "updateRevision", T::String, S::OmitEmpty),
        field(9, "collisionCount", T::Int32, S::Pointer),
        field(10, "conditions", T::Message(&STATEFUL_SET_CONDITION), S::Repeated),
        field(11, "availableReplicas", T::Int32, S::Always),
    ],
};

pub(crate) static STATEFUL_SET_CONDITION: Message = Message {
    name: "StatefulSetCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(4, "reason", T::String, S::OmitEmpty),
        field(5, "message", T::String, S::OmitEmpty),
    ],
};
