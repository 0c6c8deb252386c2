//! Protobuf field tables for ObjectMeta, LabelSelector, OwnerReference,
//! DeleteOptions and the other shared meta types. Field numbers and wire
//! types follow
//! `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto` of
//! Kubernetes 1.34; JSON names, `omitempty` and pointers follow the JSON tags
//! and Go types of the `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static OBJECT_META: Message = Message {
    name: "ObjectMeta",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "generateName", T::String, S::OmitEmpty),
        field(3, "namespace", T::String, S::OmitEmpty),
        field(4, "selfLink", T::String, S::OmitEmpty),
        field(5, "uid", T::String, S::OmitEmpty),
        field(6, "resourceVersion", T::String, S::OmitEmpty),
        field(7, "generation", T::Int64, S::OmitEmpty),
        field(8, "creationTimestamp", T::Time, S::OmitEmpty),
        field(9, "deletionTimestamp", T::Time, S::Pointer),
        field(10, "deletionGracePeriodSeconds", T::Int64, S::Pointer),
        field(11, "labels", T::String, S::Map),
        field(12, "annotations", T::String, S::Map),
        field(13, "ownerReferences", T::Message(&OWNER_REFERENCE), S::Repeated),
        field(14, "finalizers", T::String, S::Repeated),
        field(17, "managedFields", T::Message(&MANAGED_FIELDS_ENTRY), S::Repeated),
    ],
};

pub(crate) static OWNER_REFERENCE: Message = Message {
    name: "OwnerReference",
    fields: &[
        field(5, "apiVersion", T::String, S::Always),
        field(1, "kind", T::String, S::Always),
        field(3, "name", T::String, S::Always),
        field(4, "uid", T::String, S::Always),
        field(6, "controller", T::Bool, S::Pointer),
        field(7, "blockOwnerDeletion", T::Bool, S::Pointer),
    ],
};

pub(crate) static MANAGED_FIELDS_ENTRY: Message = Message {
    name: "ManagedFieldsEntry",
    fields: &[
        field(1, "manager", T::String, S::OmitEmpty),
        field(2, "operation", T::String, S::OmitEmpty),
        field(3, "apiVersion", T::String, S::OmitEmpty),
        field(4, "time", T::Time, S::Pointer),
        field(6, "fieldsType", T::String, S::OmitEmpty),
        field(7, "fieldsV1", T::RawJson, S::Pointer),
        field(8, "subresource", T::String, S::OmitEmpty),
    ],
};

pub(crate) static LABEL_SELECTOR: Message = Message {
    name: "LabelSelector",
    fields: &[
        field(1, "matchLabels", T::String, S::Map),
        field(2, "matchExpressions", T::Message(&LABEL_SELECTOR_REQUIREMENT), S::Repeated),
    ],
};

pub(crate) static LABEL_SELECTOR_REQUIREMENT: Message = Message {
    name: "LabelSelectorRequirement",
    fields: &[
        field(1, "key", T::String, S::Always),
        field(2, "operator", T::String, S::Always),
        field(3, "values", T::String, S::Repeated),
    ],
};

pub(crate) static CONDITION: Message = Message {
    name: "Condition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "observedGeneration", T::Int64, S::OmitEmpty),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::Always),
        field(6, "message", T::String, S::Always),
    ],
};

pub(crate) static DELETE_OPTIONS: Message = Message {
    name: "DeleteOptions",
    fields: &[
        field(1, "gracePeriodSeconds", T::Int64, S::Pointer),
        field(2, "preconditions", T::Message(&PRECONDITIONS), S::Pointer),
        field(3, "orphanDependents", T::Bool, S::Pointer),
        field(4, "propagationPolicy", T::String, S::Pointer),
        field(5, "dryRun", T::String, S::Repeated),
        field(6, "ignoreStoreReadErrorWithClusterBreakingPotential", T::Bool, S::Pointer),
    ],
};

pub(crate) static PRECONDITIONS: Message = Message {
    name: "Preconditions",
    fields: &[
        field(1, "uid", T::String, S::Pointer),
        field(2, "resourceVersion", T::String, S::Pointer),
    ],
};

pub(crate) static FIELD_SELECTOR_REQUIREMENT: Message = Message {
    name: "FieldSelectorRequirement",
    fields: &[
        field(1, "key", T::String, S::Always),
        field(2, "operator", T::String, S::Always),
        field(3, "values", T::String, S::Repeated),
    ],
};
