//! Protobuf field tables for the batch/v1 messages. Field numbers and wire
//! types follow `staging/src/k8s.io/api/batch/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static JOB: Message = Message {
    name: "Job",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&JOB_SPEC), S::Always),
        field(3, "status", T::Message(&JOB_STATUS), S::Always),
    ],
};

pub(crate) static JOB_SPEC: Message = Message {
    name: "JobSpec",
    fields: &[
        field(1, "parallelism", T::Int32, S::Pointer),
        field(2, "completions", T::Int32, S::Pointer),
        field(3, "activeDeadlineSeconds", T::Int64, S::Pointer),
        field(11, "podFailurePolicy", T::Message(&POD_FAILURE_POLICY), S::Pointer),
        field(16, "successPolicy", T::Message(&SUCCESS_POLICY), S::Pointer),
        field(7, "backoffLimit", T::Int32, S::Pointer),
        field(12, "backoffLimitPerIndex", T::Int32, S::Pointer),
        field(13, "maxFailedIndexes", T::Int32, S::Pointer),
        field(4, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(5, "manualSelector", T::Bool, S::Pointer),
        field(6, "template", T::Message(&super::core_pod::POD_TEMPLATE_SPEC), S::Always),
        field(8, "ttlSecondsAfterFinished", T::Int32, S::Pointer),
        field(9, "completionMode", T::String, S::Pointer),
        field(10, "suspend", T::Bool, S::Pointer),
        field(14, "podReplacementPolicy", T::String, S::Pointer),
        field(15, "managedBy", T::String, S::Pointer),
    ],
};

pub(crate) static POD_FAILURE_POLICY: Message = Message {
    name: "PodFailurePolicy",
    fields: &[
        field(1, "rules", T::Message(&POD_FAILURE_POLICY_RULE), S::Repeated),
    ],
};

pub(crate) static POD_FAILURE_POLICY_RULE: Message = Message {
    name: "PodFailurePolicyRule",
    fields: &[
        field(1, "action", T::String, S::Always),
        field(2, "onExitCodes", T::Message(&POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT), S::Pointer),
        field(3, "onPodConditions", T::Message(&POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN), S::Repeated),
    ],
};

pub(crate) static POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Message = Message {
    name: "PodFailurePolicyOnExitCodesRequirement",
    fields: &[
        field(1, "containerName", T::String, S::Pointer),
        field(2, "operator", T::String, S::Always),
        field(3, "values", T::Int32, S::Repeated),
    ],
};

pub(crate) static POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Message = Message {
    name: "PodFailurePolicyOnPodConditionsPattern",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
    ],
};

pub(crate) static SUCCESS_POLICY: Message = Message {
    name: "SuccessPolicy",
    fields: &[
        field(1, "rules", T::Message(&SUCCESS_POLICY_RULE), S::Repeated),
    ],
};

pub(crate) static SUCCESS_POLICY_RULE: Message = Message {
    name: "SuccessPolicyRule",
    fields: &[
        field(1, "succeededIndexes", T::String, S::Pointer),
        field(2, "succeededCount", T::Int32, S::Pointer),
    ],
};

pub(crate) static JOB_STATUS: Message = Message {
    name: "JobStatus",
    fields: &[
        field(1, "conditions", T::Message(&JOB_CONDITION), S::Repeated),
        field(2, "startTime", T::Time, S::Pointer),
        field(3, "completionTime", T::Time, S::Pointer),
        field(4, "active", T::Int32, S::OmitEmpty),
        field(5, "succeeded", T::Int32, S::OmitEmpty),
        field(6, "failed", T::Int32, S::OmitEmpty),
        field(11, "terminating", T::Int32, S::Pointer),
        field(7, "completedIndexes", T::String, S::OmitEmpty),
        field(10, "failedIndexes", T::String, S::Pointer),
        field(8, "uncountedTerminatedPods", T::Message(&UNCOUNTED_TERMINATED_PODS), S::Pointer),
        field(9, "ready", T::Int32, S::Pointer),
    ],
};

pub(crate) static JOB_CONDITION: Message = Message {
    name: "JobCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastProbeTime", T::Time, S::OmitEmpty),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::OmitEmpty),
        field(6, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static UNCOUNTED_TERMINATED_PODS: Message = Message {
    name: "UncountedTerminatedPods",
    fields: &[
        field(1, "succeeded", T::String, S::Repeated),
        field(2, "failed", T::String, S::Repeated),
    ],
};

pub(crate) static CRON_JOB: Message = Message {
    name: "CronJob",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&CRON_JOB_SPEC), S::Always),
        field(3, "status", T::Message(&CRON_JOB_STATUS), S::Always),
    ],
};

pub(crate) static CRON_JOB_SPEC: Message = Message {
    name: "CronJobSpec",
    fields: &[
        field(1, "schedule", T::String, S::Always),
        field(8, "timeZone", T::String, S::Pointer),
        field(2, "startingDeadlineSeconds", T::Int64, S::Pointer),
        field(3, "concurrencyPolicy", T::String, S::OmitEmpty),
        field(4, "suspend", T::Bool, S::Pointer),
        field(5, "jobTemplate", T::Message(&JOB_TEMPLATE_SPEC), S::Always),
        field(6, "successfulJobsHistoryLimit", T::Int32, S::Pointer),
        field(7, "failedJobsHistoryLimit", T::Int32, S::Pointer),
    ],
};

pub(crate) static JOB_TEMPLATE_SPEC: Message = Message {
    name: "JobTemplateSpec",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&JOB_SPEC), S::Always),
    ],
};

pub(crate) static CRON_JOB_STATUS: Message = Message {
    name: "CronJobStatus",
    fields: &[
        field(1, "active", T::Message(&super::core_objects::OBJECT_REFERENCE), S::Repeated),
        field(4, "lastScheduleTime", T::Time, S::Pointer),
        field(5, "lastSuccessfulTime", T::Time, S::Pointer),
    ],
};
