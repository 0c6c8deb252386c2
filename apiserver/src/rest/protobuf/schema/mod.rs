//! The schema the decoder walks: for each protobuf message of the kinds a
//! client sends, its fields by number with their JSON name, value type and
//! how an absent or zero value shows in JSON. One file per API group holds
//! the tables as static data; `ROOTS` names the message of each
//! apiVersion and kind.
//!
//! The tables cover the whole message closure of every kind Skiff serves
//! plus the reviews, TokenRequest, Eviction, Scale and DeleteOptions, as of
//! Kubernetes 1.34. `metav1.Duration` and `float64` fields never occur in
//! that closure, so the value types have none.

// The tables keep one field per line, so formatting leaves them alone.
#[rustfmt::skip]
mod apps;
#[rustfmt::skip]
mod authentication;
#[rustfmt::skip]
mod authorization;
#[rustfmt::skip]
mod autoscaling_v1;
#[rustfmt::skip]
mod autoscaling_v2;
#[rustfmt::skip]
mod batch;
#[rustfmt::skip]
mod coordination;
#[rustfmt::skip]
mod core_node;
#[rustfmt::skip]
mod core_objects;
#[rustfmt::skip]
mod core_pod;
#[rustfmt::skip]
mod core_volume;
#[rustfmt::skip]
mod discovery;
#[rustfmt::skip]
mod meta;
#[rustfmt::skip]
mod networking;
#[rustfmt::skip]
mod policy;
#[rustfmt::skip]
mod rbac;
#[rustfmt::skip]
mod scheduling;

/// One protobuf message: its Go name (for error paths) and its fields.
pub(crate) struct Message {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [Field],
}

impl Message {
    /// The field with this number, if the schema knows it.
    pub(crate) fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields.iter().find(|field| field.number == number)
    }
}

/// One field of a message.
pub(crate) struct Field {
    pub(crate) number: u32,
    /// The JSON key; empty for an inlined field.
    pub(crate) json_name: &'static str,
    pub(crate) value_type: ValueType,
    pub(crate) shape: FieldShape,
}

/// What one value on the wire is, and what JSON it becomes.
#[derive(Clone, Copy)]
pub(crate) enum ValueType {
    String,
    Int32,
    Int64,
    Bool,
    /// Bytes, as a base64 string.
    Bytes,
    Message(&'static Message),
    /// `metav1.Time` {seconds = 1, nanos = 2}, as RFC 3339 to the second.
    Time,
    /// `metav1.MicroTime`, as RFC 3339 to the microsecond.
    MicroTime,
    /// `resource.Quantity` {string = 1}, as a string.
    Quantity,
    /// `intstr.IntOrString` {type = 1, intVal = 2, strVal = 3}, as a
    /// number or a string.
    IntOrString,
    /// `runtime.RawExtension` or `metav1.FieldsV1` {raw = 1}: JSON bytes,
    /// embedded as JSON.
    RawJson,
    /// A Go `[]string` type given a message of its own (`ExtraValue`:
    /// {repeated string items = 1}), as a JSON array.
    StringList,
}

/// How a field's values combine and when a zero value is left out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldShape {
    /// A Go non-pointer without `omitempty`: the wire value is kept even
    /// when zero, as Go's JSON would write it.
    Always,
    /// A Go non-pointer scalar with `omitempty` (or a Time, Quantity or
    /// IntOrString struct): go-to-protobuf writes it even when empty, Go's
    /// JSON would not, so a zero value is dropped.
    OmitEmpty,
    /// A Go pointer: present on the wire means set, zero or not.
    Pointer,
    /// A repeated field: a JSON array (packed numbers accepted too).
    Repeated,
    /// A `map<string, V>`: repeated entries {key = 1, value = 2}, a JSON
    /// object.
    Map,
    /// An embedded Go struct (`json:",inline"`): a nested message on the
    /// wire whose keys join the enclosing JSON object.
    Inline,
}

/// A table row; short so the tables read one field per line.
pub(crate) const fn field(
    number: u32,
    json_name: &'static str,
    value_type: ValueType,
    shape: FieldShape,
) -> Field {
    Field {
        number,
        json_name,
        value_type,
        shape,
    }
}

/// The message of an object named by `apiVersion` and `kind`.
/// DeleteOptions is registered in every group version, so it is found
/// under any `apiVersion`.
pub(crate) fn root_message(api_version: &str, kind: &str) -> Option<&'static Message> {
    if kind == "DeleteOptions" {
        return Some(&meta::DELETE_OPTIONS);
    }
    ROOTS
        .iter()
        .find(|(root_api_version, root_kind, _)| {
            *root_api_version == api_version && *root_kind == kind
        })
        .map(|(_, _, message)| *message)
}

/// apiVersion, kind and message of every object the decoder accepts.
pub(crate) static ROOTS: &[(&str, &str, &Message)] = &[
    ("apps/v1", "DaemonSet", &apps::DAEMON_SET),
    ("apps/v1", "Deployment", &apps::DEPLOYMENT),
    ("apps/v1", "ReplicaSet", &apps::REPLICA_SET),
    ("apps/v1", "StatefulSet", &apps::STATEFUL_SET),
    (
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
        &authentication::SELF_SUBJECT_REVIEW,
    ),
    (
        "authentication.k8s.io/v1",
        "TokenRequest",
        &authentication::TOKEN_REQUEST,
    ),
    (
        "authentication.k8s.io/v1",
        "TokenReview",
        &authentication::TOKEN_REVIEW,
    ),
    (
        "authorization.k8s.io/v1",
        "LocalSubjectAccessReview",
        &authorization::LOCAL_SUBJECT_ACCESS_REVIEW,
    ),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        &authorization::SELF_SUBJECT_ACCESS_REVIEW,
    ),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectRulesReview",
        &authorization::SELF_SUBJECT_RULES_REVIEW,
    ),
    (
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        &authorization::SUBJECT_ACCESS_REVIEW,
    ),
    ("autoscaling/v1", "Scale", &autoscaling_v1::SCALE),
    (
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        &autoscaling_v2::HORIZONTAL_POD_AUTOSCALER,
    ),
    ("batch/v1", "CronJob", &batch::CRON_JOB),
    ("batch/v1", "Job", &batch::JOB),
    ("coordination.k8s.io/v1", "Lease", &coordination::LEASE),
    (
        "discovery.k8s.io/v1",
        "EndpointSlice",
        &discovery::ENDPOINT_SLICE,
    ),
    ("networking.k8s.io/v1", "Ingress", &networking::INGRESS),
    (
        "networking.k8s.io/v1",
        "IngressClass",
        &networking::INGRESS_CLASS,
    ),
    ("policy/v1", "Eviction", &policy::EVICTION),
    (
        "policy/v1",
        "PodDisruptionBudget",
        &policy::POD_DISRUPTION_BUDGET,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        &rbac::CLUSTER_ROLE,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        &rbac::CLUSTER_ROLE_BINDING,
    ),
    ("rbac.authorization.k8s.io/v1", "Role", &rbac::ROLE),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        &rbac::ROLE_BINDING,
    ),
    (
        "scheduling.k8s.io/v1",
        "PriorityClass",
        &scheduling::PRIORITY_CLASS,
    ),
    ("v1", "Binding", &core_objects::BINDING),
    ("v1", "ConfigMap", &core_objects::CONFIG_MAP),
    ("v1", "Endpoints", &core_objects::ENDPOINTS),
    ("v1", "Event", &core_objects::EVENT),
    ("v1", "LimitRange", &core_objects::LIMIT_RANGE),
    ("v1", "Namespace", &core_objects::NAMESPACE),
    ("v1", "Node", &core_node::NODE),
    ("v1", "PersistentVolume", &core_volume::PERSISTENT_VOLUME),
    (
        "v1",
        "PersistentVolumeClaim",
        &core_volume::PERSISTENT_VOLUME_CLAIM,
    ),
    ("v1", "Pod", &core_objects::POD),
    (
        "v1",
        "ReplicationController",
        &core_objects::REPLICATION_CONTROLLER,
    ),
    ("v1", "ResourceQuota", &core_objects::RESOURCE_QUOTA),
    ("v1", "Secret", &core_objects::SECRET),
    ("v1", "Service", &core_objects::SERVICE),
    ("v1", "ServiceAccount", &core_objects::SERVICE_ACCOUNT),
];
