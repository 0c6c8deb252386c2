//! Protobuf field tables for the pod template: PodSpec, Container, probes,
//! security contexts, affinity, tolerations. Field numbers and wire types
//! follow `staging/src/k8s.io/api/core/v1/generated.proto` of Kubernetes
//! 1.34; JSON names, `omitempty` and pointers follow the JSON tags and Go
//! types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static POD_SPEC: Message = Message {
    name: "PodSpec",
    fields: &[
        field(1, "volumes", T::Message(&super::core_volume::VOLUME), S::Repeated),
        field(20, "initContainers", T::Message(&CONTAINER), S::Repeated),
        field(2, "containers", T::Message(&CONTAINER), S::Repeated),
        field(34, "ephemeralContainers", T::Message(&EPHEMERAL_CONTAINER), S::Repeated),
        field(3, "restartPolicy", T::String, S::OmitEmpty),
        field(4, "terminationGracePeriodSeconds", T::Int64, S::Pointer),
        field(5, "activeDeadlineSeconds", T::Int64, S::Pointer),
        field(6, "dnsPolicy", T::String, S::OmitEmpty),
        field(7, "nodeSelector", T::String, S::Map),
        field(8, "serviceAccountName", T::String, S::OmitEmpty),
        field(9, "serviceAccount", T::String, S::OmitEmpty),
        field(21, "automountServiceAccountToken", T::Bool, S::Pointer),
        field(10, "nodeName", T::String, S::OmitEmpty),
        field(11, "hostNetwork", T::Bool, S::OmitEmpty),
        field(12, "hostPID", T::Bool, S::OmitEmpty),
        field(13, "hostIPC", T::Bool, S::OmitEmpty),
        field(27, "shareProcessNamespace", T::Bool, S::Pointer),
        field(14, "securityContext", T::Message(&POD_SECURITY_CONTEXT), S::Pointer),
        field(15, "imagePullSecrets", T::Message(&LOCAL_OBJECT_REFERENCE), S::Repeated),
        field(16, "hostname", T::String, S::OmitEmpty),
        field(17, "subdomain", T::String, S::OmitEmpty),
        field(18, "affinity", T::Message(&AFFINITY), S::Pointer),
        field(19, "schedulerName", T::String, S::OmitEmpty),
        field(22, "tolerations", T::Message(&TOLERATION), S::Repeated),
        field(23, "hostAliases", T::Message(&HOST_ALIAS), S::Repeated),
        field(24, "priorityClassName", T::String, S::OmitEmpty),
        field(25, "priority", T::Int32, S::Pointer),
        field(26, "dnsConfig", T::Message(&POD_DNS_CONFIG), S::Pointer),
        field(28, "readinessGates", T::Message(&POD_READINESS_GATE), S::Repeated),
        field(29, "runtimeClassName", T::String, S::Pointer),
        field(30, "enableServiceLinks", T::Bool, S::Pointer),
        field(31, "preemptionPolicy", T::String, S::Pointer),
        field(32, "overhead", T::Quantity, S::Map),
        field(33, "topologySpreadConstraints", T::Message(&TOPOLOGY_SPREAD_CONSTRAINT), S::Repeated),
        field(35, "setHostnameAsFQDN", T::Bool, S::Pointer),
        field(36, "os", T::Message(&POD_OS), S::Pointer),
        field(37, "hostUsers", T::Bool, S::Pointer),
        field(38, "schedulingGates", T::Message(&POD_SCHEDULING_GATE), S::Repeated),
        field(39, "resourceClaims", T::Message(&POD_RESOURCE_CLAIM), S::Repeated),
        field(40, "resources", T::Message(&RESOURCE_REQUIREMENTS), S::Pointer),
        field(41, "hostnameOverride", T::String, S::Pointer),
    ],
};

pub(crate) static LOCAL_OBJECT_REFERENCE: Message = Message {
    name: "LocalObjectReference",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
    ],
};

pub(crate) static OBJECT_FIELD_SELECTOR: Message = Message {
    name: "ObjectFieldSelector",
    fields: &[
        field(1, "apiVersion", T::String, S::OmitEmpty),
        field(2, "fieldPath", T::String, S::Always),
    ],
};

pub(crate) static RESOURCE_FIELD_SELECTOR: Message = Message {
    name: "ResourceFieldSelector",
    fields: &[
        field(1, "containerName", T::String, S::OmitEmpty),
        field(2, "resource", T::String, S::Always),
        field(3, "divisor", T::Quantity, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER: Message = Message {
    name: "Container",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "image", T::String, S::OmitEmpty),
        field(3, "command", T::String, S::Repeated),
        field(4, "args", T::String, S::Repeated),
        field(5, "workingDir", T::String, S::OmitEmpty),
        field(6, "ports", T::Message(&CONTAINER_PORT), S::Repeated),
        field(19, "envFrom", T::Message(&ENV_FROM_SOURCE), S::Repeated),
        field(7, "env", T::Message(&ENV_VAR), S::Repeated),
        field(8, "resources", T::Message(&RESOURCE_REQUIREMENTS), S::Always),
        field(23, "resizePolicy", T::Message(&CONTAINER_RESIZE_POLICY), S::Repeated),
        field(24, "restartPolicy", T::String, S::Pointer),
        field(25, "restartPolicyRules", T::Message(&CONTAINER_RESTART_RULE), S::Repeated),
        field(9, "volumeMounts", T::Message(&VOLUME_MOUNT), S::Repeated),
        field(21, "volumeDevices", T::Message(&VOLUME_DEVICE), S::Repeated),
        field(10, "livenessProbe", T::Message(&PROBE), S::Pointer),
        field(11, "readinessProbe", T::Message(&PROBE), S::Pointer),
        field(22, "startupProbe", T::Message(&PROBE), S::Pointer),
        field(12, "lifecycle", T::Message(&LIFECYCLE), S::Pointer),
        field(13, "terminationMessagePath", T::String, S::OmitEmpty),
        field(20, "terminationMessagePolicy", T::String, S::OmitEmpty),
        field(14, "imagePullPolicy", T::String, S::OmitEmpty),
        field(15, "securityContext", T::Message(&SECURITY_CONTEXT), S::Pointer),
        field(16, "stdin", T::Bool, S::OmitEmpty),
        field(17, "stdinOnce", T::Bool, S::OmitEmpty),
        field(18, "tty", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER_PORT: Message = Message {
    name: "ContainerPort",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "hostPort", T::Int32, S::OmitEmpty),
        field(3, "containerPort", T::Int32, S::Always),
        field(4, "protocol", T::String, S::OmitEmpty),
        field(5, "hostIP", T::String, S::OmitEmpty),
    ],
};

pub(crate) static ENV_FROM_SOURCE: Message = Message {
    name: "EnvFromSource",
    fields: &[
        field(1, "prefix", T::String, S::OmitEmpty),
        field(2, "configMapRef", T::Message(&CONFIG_MAP_ENV_SOURCE), S::Pointer),
        field(3, "secretRef", T::Message(&SECRET_ENV_SOURCE), S::Pointer),
    ],
};

pub(crate) static CONFIG_MAP_ENV_SOURCE: Message = Message {
    name: "ConfigMapEnvSource",
    fields: &[
        field(1, "", T::Message(&LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static SECRET_ENV_SOURCE: Message = Message {
    name: "SecretEnvSource",
    fields: &[
        field(1, "", T::Message(&LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static ENV_VAR: Message = Message {
    name: "EnvVar",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "value", T::String, S::OmitEmpty),
        field(3, "valueFrom", T::Message(&ENV_VAR_SOURCE), S::Pointer),
    ],
};

pub(crate) static ENV_VAR_SOURCE: Message = Message {
    name: "EnvVarSource",
    fields: &[
        field(1, "fieldRef", T::Message(&OBJECT_FIELD_SELECTOR), S::Pointer),
        field(2, "resourceFieldRef", T::Message(&RESOURCE_FIELD_SELECTOR), S::Pointer),
        field(3, "configMapKeyRef", T::Message(&CONFIG_MAP_KEY_SELECTOR), S::Pointer),
        field(4, "secretKeyRef", T::Message(&SECRET_KEY_SELECTOR), S::Pointer),
        field(5, "fileKeyRef", T::Message(&FILE_KEY_SELECTOR), S::Pointer),
    ],
};

pub(crate) static CONFIG_MAP_KEY_SELECTOR: Message = Message {
    name: "ConfigMapKeySelector",
    fields: &[
        field(1, "", T::Message(&LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "key", T::String, S::Always),
        field(3, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static SECRET_KEY_SELECTOR: Message = Message {
    name: "SecretKeySelector",
    fields: &[
        field(1, "", T::Message(&LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "key", T::String, S::Always),
        field(3, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static FILE_KEY_SELECTOR: Message = Message {
    name: "FileKeySelector",
    fields: &[
        field(1, "volumeName", T::String, S::Always),
        field(2, "path", T::String, S::Always),
        field(3, "key", T::String, S::Always),
        field(4, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static RESOURCE_REQUIREMENTS: Message = Message {
    name: "ResourceRequirements",
    fields: &[
        field(1, "limits", T::Quantity, S::Map),
        field(2, "requests", T::Quantity, S::Map),
        field(3, "claims", T::Message(&RESOURCE_CLAIM), S::Repeated),
    ],
};

pub(crate) static RESOURCE_CLAIM: Message = Message {
    name: "ResourceClaim",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "request", T::String, S::OmitEmpty),
    ],
};

pub(crate) static CONTAINER_RESIZE_POLICY: Message = Message {
    name: "ContainerResizePolicy",
    fields: &[
        field(1, "resourceName", T::String, S::Always),
        field(2, "restartPolicy", T::String, S::Always),
    ],
};

pub(crate) static CONTAINER_RESTART_RULE: Message = Message {
    name: "ContainerRestartRule",
    fields: &[
        field(1, "action", T::String, S::OmitEmpty),
        field(2, "exitCodes", T::Message(&CONTAINER_RESTART_RULE_ON_EXIT_CODES), S::Pointer),
    ],
};

pub(crate) static CONTAINER_RESTART_RULE_ON_EXIT_CODES: Message = Message {
    name: "ContainerRestartRuleOnExitCodes",
    fields: &[
        field(1, "operator", T::String, S::OmitEmpty),
        field(2, "values", T::Int32, S::Repeated),
    ],
};

pub(crate) static VOLUME_MOUNT: Message = Message {
    name: "VolumeMount",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "readOnly", T::Bool, S::OmitEmpty),
        field(7, "recursiveReadOnly", T::String, S::Pointer),
        field(3, "mountPath", T::String, S::Always),
        field(4, "subPath", T::String, S::OmitEmpty),
        field(5, "mountPropagation", T::String, S::Pointer),
        field(6, "subPathExpr", T::String, S::OmitEmpty),
    ],
};

pub(crate) static VOLUME_DEVICE: Message = Message {
    name: "VolumeDevice",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "devicePath", T::String, S::Always),
    ],
};

pub(crate) static PROBE: Message = Message {
    name: "Probe",
    fields: &[
        field(1, "", T::Message(&PROBE_HANDLER), S::Inline),
        field(2, "initialDelaySeconds", T::Int32, S::OmitEmpty),
        field(3, "timeoutSeconds", T::Int32, S::OmitEmpty),
        field(4, "periodSeconds", T::Int32, S::OmitEmpty),
        field(5, "successThreshold", T::Int32, S::OmitEmpty),
        field(6, "failureThreshold", T::Int32, S::OmitEmpty),
        field(7, "terminationGracePeriodSeconds", T::Int64, S::Pointer),
    ],
};

pub(crate) static PROBE_HANDLER: Message = Message {
    name: "ProbeHandler",
    fields: &[
        field(1, "exec", T::Message(&EXEC_ACTION), S::Pointer),
        field(2, "httpGet", T::Message(&HTTP_GET_ACTION), S::Pointer),
        field(3, "tcpSocket", T::Message(&TCP_SOCKET_ACTION), S::Pointer),
        field(4, "grpc", T::Message(&GRPC_ACTION), S::Pointer),
    ],
};

pub(crate) static EXEC_ACTION: Message = Message {
    name: "ExecAction",
    fields: &[
        field(1, "command", T::String, S::Repeated),
    ],
};

pub(crate) static HTTP_GET_ACTION: Message = Message {
    name: "HTTPGetAction",
    fields: &[
        field(1, "path", T::String, S::OmitEmpty),
        field(2, "port", T::IntOrString, S::OmitEmpty),
        field(3, "host", T::String, S::OmitEmpty),
        field(4, "scheme", T::String, S::OmitEmpty),
        field(5, "httpHeaders", T::Message(&HTTP_HEADER), S::Repeated),
    ],
};

pub(crate) static HTTP_HEADER: Message = Message {
    name: "HTTPHeader",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "value", T::String, S::Always),
    ],
};

pub(crate) static TCP_SOCKET_ACTION: Message = Message {
    name: "TCPSocketAction",
    fields: &[
        field(1, "port", T::IntOrString, S::OmitEmpty),
        field(2, "host", T::String, S::OmitEmpty),
    ],
};

pub(crate) static GRPC_ACTION: Message = Message {
    name: "GRPCAction",
    fields: &[
        field(1, "port", T::Int32, S::Always),
        field(2, "service", T::String, S::Pointer),
    ],
};

pub(crate) static LIFECYCLE: Message = Message {
    name: "Lifecycle",
    fields: &[
        field(1, "postStart", T::Message(&LIFECYCLE_HANDLER), S::Pointer),
        field(2, "preStop", T::Message(&LIFECYCLE_HANDLER), S::Pointer),
        field(3, "stopSignal", T::String, S::Pointer),
    ],
};

pub(crate) static LIFECYCLE_HANDLER: Message = Message {
    name: "LifecycleHandler",
    fields: &[
        field(1, "exec", T::Message(&EXEC_ACTION), S::Pointer),
        field(2, "httpGet", T::Message(&HTTP_GET_ACTION), S::Pointer),
        field(3, "tcpSocket", T::Message(&TCP_SOCKET_ACTION), S::Pointer),
        field(4, "sleep", T::Message(&SLEEP_ACTION), S::Pointer),
    ],
};

pub(crate) static SLEEP_ACTION: Message = Message {
    name: "SleepAction",
    fields: &[
        field(1, "seconds", T::Int64, S::Always),
    ],
};

pub(crate) static SECURITY_CONTEXT: Message = Message {
    name: "SecurityContext",
    fields: &[
        field(1, "capabilities", T::Message(&CAPABILITIES), S::Pointer),
        field(2, "privileged", T::Bool, S::Pointer),
        field(3, "seLinuxOptions", T::Message(&SE_LINUX_OPTIONS), S::Pointer),
        field(10, "windowsOptions", T::Message(&WINDOWS_SECURITY_CONTEXT_OPTIONS), S::Pointer),
        field(4, "runAsUser", T::Int64, S::Pointer),
        field(8, "runAsGroup", T::Int64, S::Pointer),
        field(5, "runAsNonRoot", T::Bool, S::Pointer),
        field(6, "readOnlyRootFilesystem", T::Bool, S::Pointer),
        field(7, "allowPrivilegeEscalation", T::Bool, S::Pointer),
        field(9, "procMount", T::String, S::Pointer),
        field(11, "seccompProfile", T::Message(&SECCOMP_PROFILE), S::Pointer),
        field(12, "appArmorProfile", T::Message(&APP_ARMOR_PROFILE), S::Pointer),
    ],
};

pub(crate) static CAPABILITIES: Message = Message {
    name: "Capabilities",
    fields: &[
        field(1, "add", T::String, S::Repeated),
        field(2, "drop", T::String, S::Repeated),
    ],
};

pub(crate) static SE_LINUX_OPTIONS: Message = Message {
    name: "SELinuxOptions",
    fields: &[
        field(1, "user", T::String, S::OmitEmpty),
        field(2, "role", T::String, S::OmitEmpty),
        field(3, "type", T::String, S::OmitEmpty),
        field(4, "level", T::String, S::OmitEmpty),
    ],
};

pub(crate) static WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = Message {
    name: "WindowsSecurityContextOptions",
    fields: &[
        field(1, "gmsaCredentialSpecName", T::String, S::Pointer),
        field(2, "gmsaCredentialSpec", T::String, S::Pointer),
        field(3, "runAsUserName", T::String, S::Pointer),
        field(4, "hostProcess", T::Bool, S::Pointer),
    ],
};

pub(crate) static SECCOMP_PROFILE: Message = Message {
    name: "SeccompProfile",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "localhostProfile", T::String, S::Pointer),
    ],
};

pub(crate) static APP_ARMOR_PROFILE: Message = Message {
    name: "AppArmorProfile",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "localhostProfile", T::String, S::Pointer),
    ],
};

pub(crate) static EPHEMERAL_CONTAINER: Message = Message {
    name: "EphemeralContainer",
    fields: &[
        field(1, "", T::Message(&EPHEMERAL_CONTAINER_COMMON), S::Inline),
        field(2, "targetContainerName", T::String, S::OmitEmpty),
    ],
};

pub(crate) static EPHEMERAL_CONTAINER_COMMON: Message = Message {
    name: "EphemeralContainerCommon",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "image", T::String, S::OmitEmpty),
        field(3, "command", T::String, S::Repeated),
        field(4, "args", T::String, S::Repeated),
        field(5, "workingDir", T::String, S::OmitEmpty),
        field(6, "ports", T::Message(&CONTAINER_PORT), S::Repeated),
        field(19, "envFrom", T::Message(&ENV_FROM_SOURCE), S::Repeated),
        field(7, "env", T::Message(&ENV_VAR), S::Repeated),
        field(8, "resources", T::Message(&RESOURCE_REQUIREMENTS), S::Always),
        field(23, "resizePolicy", T::Message(&CONTAINER_RESIZE_POLICY), S::Repeated),
        field(24, "restartPolicy", T::String, S::Pointer),
        field(25, "restartPolicyRules", T::Message(&CONTAINER_RESTART_RULE), S::Repeated),
        field(9, "volumeMounts", T::Message(&VOLUME_MOUNT), S::Repeated),
        field(21, "volumeDevices", T::Message(&VOLUME_DEVICE), S::Repeated),
        field(10, "livenessProbe", T::Message(&PROBE), S::Pointer),
        field(11, "readinessProbe", T::Message(&PROBE), S::Pointer),
        field(22, "startupProbe", T::Message(&PROBE), S::Pointer),
        field(12, "lifecycle", T::Message(&LIFECYCLE), S::Pointer),
        field(13, "terminationMessagePath", T::String, S::OmitEmpty),
        field(20, "terminationMessagePolicy", T::String, S::OmitEmpty),
        field(14, "imagePullPolicy", T::String, S::OmitEmpty),
        field(15, "securityContext", T::Message(&SECURITY_CONTEXT), S::Pointer),
        field(16, "stdin", T::Bool, S::OmitEmpty),
        field(17, "stdinOnce", T::Bool, S::OmitEmpty),
        field(18, "tty", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static POD_SECURITY_CONTEXT: Message = Message {
    name: "PodSecurityContext",
    fields: &[
        field(1, "seLinuxOptions", T::Message(&SE_LINUX_OPTIONS), S::Pointer),
        field(8, "windowsOptions", T::Message(&WINDOWS_SECURITY_CONTEXT_OPTIONS), S::Pointer),
        field(2, "runAsUser", T::Int64, S::Pointer),
        field(6, "runAsGroup", T::Int64, S::Pointer),
        field(3, "runAsNonRoot", T::Bool, S::Pointer),
        field(4, "supplementalGroups", T::Int64, S::Repeated),
        field(12, "supplementalGroupsPolicy", T::String, S::Pointer),
        field(5, "fsGroup", T::Int64, S::Pointer),
        field(7, "sysctls", T::Message(&SYSCTL), S::Repeated),
        field(9, "fsGroupChangePolicy", T::String, S::Pointer),
        field(10, "seccompProfile", T::Message(&SECCOMP_PROFILE), S::Pointer),
        field(11, "appArmorProfile", T::Message(&APP_ARMOR_PROFILE), S::Pointer),
        field(13, "seLinuxChangePolicy", T::String, S::Pointer),
    ],
};

pub(crate) static SYSCTL: Message = Message {
    name: "Sysctl",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "value", T::String, S::Always),
    ],
};

pub(crate) static AFFINITY: Message = Message {
    name: "Affinity",
    fields: &[
        field(1, "nodeAffinity", T::Message(&super::core_node::NODE_AFFINITY), S::Pointer),
        field(2, "podAffinity", T::Message(&POD_AFFINITY), S::Pointer),
        field(3, "podAntiAffinity", T::Message(&POD_ANTI_AFFINITY), S::Pointer),
    ],
};

pub(crate) static PREFERRED_SCHEDULING_TERM: Message = Message {
    name: "PreferredSchedulingTerm",
    fields: &[
        field(1, "weight", T::Int32, S::Always),
        field(2, "preference", T::Message(&super::core_node::NODE_SELECTOR_TERM), S::Always),
    ],
};

pub(crate) static POD_AFFINITY: Message = Message {
    name: "PodAffinity",
    fields: &[
        field(1, "requiredDuringSchedulingIgnoredDuringExecution", T::Message(&POD_AFFINITY_TERM), S::Repeated),
        field(2, "preferredDuringSchedulingIgnoredDuringExecution", T::Message(&WEIGHTED_POD_AFFINITY_TERM), S::Repeated),
    ],
};

pub(crate) static POD_AFFINITY_TERM: Message = Message {
    name: "PodAffinityTerm",
    fields: &[
        field(1, "labelSelector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(2, "namespaces", T::String, S::Repeated),
        field(3, "topologyKey", T::String, S::Always),
        field(4, "namespaceSelector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(5, "matchLabelKeys", T::String, S::Repeated),
        field(6, "mismatchLabelKeys", T::String, S::Repeated),
    ],
};

pub(crate) static WEIGHTED_POD_AFFINITY_TERM: Message = Message {
    name: "WeightedPodAffinityTerm",
    fields: &[
        field(1, "weight", T::Int32, S::Always),
        field(2, "podAffinityTerm", T::Message(&POD_AFFINITY_TERM), S::Always),
    ],
};

pub(crate) static POD_ANTI_AFFINITY: Message = Message {
    name: "PodAntiAffinity",
    fields: &[
        field(1, "requiredDuringSchedulingIgnoredDuringExecution", T::Message(&POD_AFFINITY_TERM), S::Repeated),
        field(2, "preferredDuringSchedulingIgnoredDuringExecution", T::Message(&WEIGHTED_POD_AFFINITY_TERM), S::Repeated),
    ],
};

pub(crate) static TOLERATION: Message = Message {
    name: "Toleration",
    fields: &[
        field(1, "key", T::String, S::OmitEmpty),
        field(2, "operator", T::String, S::OmitEmpty),
        field(3, "value", T::String, S::OmitEmpty),
        field(4, "effect", T::String, S::OmitEmpty),
        field(5, "tolerationSeconds", T::Int64, S::Pointer),
    ],
};

pub(crate) static HOST_ALIAS: Message = Message {
    name: "HostAlias",
    fields: &[
        field(1, "ip", T::String, S::Always),
        field(2, "hostnames", T::String, S::Repeated),
    ],
};

pub(crate) static POD_DNS_CONFIG: Message = Message {
    name: "PodDNSConfig",
    fields: &[
        field(1, "nameservers", T::String, S::Repeated),
        field(2, "searches", T::String, S::Repeated),
        field(3, "options", T::Message(&POD_DNS_CONFIG_OPTION), S::Repeated),
    ],
};

pub(crate) static POD_DNS_CONFIG_OPTION: Message = Message {
    name: "PodDNSConfigOption",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "value", T::String, S::Pointer),
    ],
};

pub(crate) static POD_READINESS_GATE: Message = Message {
    name: "PodReadinessGate",
    fields: &[
        field(1, "conditionType", T::String, S::Always),
    ],
};

pub(crate) static TOPOLOGY_SPREAD_CONSTRAINT: Message = Message {
    name: "TopologySpreadConstraint",
    fields: &[
        field(1, "maxSkew", T::Int32, S::Always),
        field(2, "topologyKey", T::String, S::Always),
        field(3, "whenUnsatisfiable", T::String, S::Always),
        field(4, "labelSelector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(5, "minDomains", T::Int32, S::Pointer),
        field(6, "nodeAffinityPolicy", T::String, S::Pointer),
        field(7, "nodeTaintsPolicy", T::String, S::Pointer),
        field(8, "matchLabelKeys", T::String, S::Repeated),
    ],
};

pub(crate) static POD_OS: Message = Message {
    name: "PodOS",
    fields: &[
        field(1, "name", T::String, S::Always),
    ],
};

pub(crate) static POD_SCHEDULING_GATE: Message = Message {
    name: "PodSchedulingGate",
    fields: &[
        field(1, "name", T::String, S::Always),
    ],
};

pub(crate) static POD_RESOURCE_CLAIM: Message = Message {
    name: "PodResourceClaim",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(3, "resourceClaimName", T::String, S::Pointer),
        field(4, "resourceClaimTemplateName", T::String, S::Pointer),
    ],
};

pub(crate) static POD_TEMPLATE_SPEC: Message = Message {
    name: "PodTemplateSpec",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&POD_SPEC), S::Always),
    ],
};
