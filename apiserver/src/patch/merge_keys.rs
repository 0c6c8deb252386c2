//! The strategic-merge schema: which lists merge by which key.
//!
//! Kubernetes tags fields of its API types with `patchStrategy` and
//! `patchMergeKey`; this table restates those tags per *type* (named as the
//! OpenAPI documents name them, e.g. `io.k8s.api.core.v1.PodSpec`), so a type
//! embedded in many kinds (a pod template in every workload) is described
//! once. [`root_schema`] maps a kind to its top-level type and
//! [`SchemaNode::field`] walks down one field at a time. A path the table
//! does not describe (an unknown field, a custom resource) has no schema, and
//! its lists are replaced as JSON merge patch would replace them.

use api::KindInfo;

/// How a list field is patched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListStrategy {
    /// The patch's list replaces the original (no `patchStrategy` tag).
    Replace,
    /// A list of objects merged item by item, matched on this key.
    MergeByKey(&'static str),
    /// A list of primitives merged as a set union (`finalizers`).
    MergePrimitives,
}

/// The patch metadata of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldPatchMeta {
    pub(crate) list_strategy: ListStrategy,
    /// `patchStrategy:"retainKeys"`: the field (or each list item) honours
    /// a `$retainKeys` directive.
    pub(crate) retain_keys: bool,
}

impl FieldPatchMeta {
    const REPLACE: FieldPatchMeta = FieldPatchMeta {
        list_strategy: ListStrategy::Replace,
        retain_keys: false,
    };

    /// The `x-kubernetes-patch-strategy` value Kubernetes publishes, if any.
    pub(crate) fn patch_strategy_extension(&self) -> Option<&'static str> {
        match (self.list_strategy, self.retain_keys) {
            (ListStrategy::Replace, false) => None,
            (ListStrategy::Replace, true) => Some("retainKeys"),
            (_, false) => Some("merge"),
            (_, true) => Some("merge,retainKeys"),
        }
    }

    /// The `x-kubernetes-patch-merge-key` value, for keyed lists.
    #[cfg(test)]
    pub(crate) fn merge_key(&self) -> Option<&'static str> {
        match self.list_strategy {
            ListStrategy::MergeByKey(key) => Some(key),
            _ => None,
        }
    }
}

/// One field of a [`TypeSchema`]: its patch metadata and the type of its
/// value (for a list, of its items).
#[derive(Debug)]
pub(crate) struct FieldSchema {
    pub(crate) name: &'static str,
    pub(crate) meta: FieldPatchMeta,
    pub(crate) item_type: Option<&'static str>,
}

/// The fields of one API type that matter to strategic merge: the tagged
/// lists and the fields leading to other described types.
#[derive(Debug)]
pub(crate) struct TypeSchema {
    /// The OpenAPI definition name, e.g. `io.k8s.api.core.v1.PodSpec`.
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [FieldSchema],
}

/// A position in the schema while walking an object; `None` below any path
/// the table describes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SchemaNode(Option<&'static TypeSchema>);

impl SchemaNode {
    /// The node of no known type (unknown fields, custom resources).
    pub(crate) const UNKNOWN: SchemaNode = SchemaNode(None);

    /// The patch metadata of `field` and the schema of its value (of its
    /// items, for a list).
    pub(crate) fn field(self, field: &str) -> (FieldPatchMeta, SchemaNode) {
        let Some(schema) = self.0 else {
            return (FieldPatchMeta::REPLACE, SchemaNode::UNKNOWN);
        };
        match schema
            .fields
            .iter()
            .find(|candidate| candidate.name == field)
        {
            Some(found) => (
                found.meta,
                SchemaNode(found.item_type.and_then(type_by_name)),
            ),
            None => (FieldPatchMeta::REPLACE, SchemaNode::UNKNOWN),
        }
    }
}

/// The schema of a kind's top-level object.
pub(crate) fn root_schema(kind: &KindInfo) -> SchemaNode {
    let name = definition_name(kind);
    match type_by_name(&name) {
        Some(schema) => SchemaNode(Some(schema)),
        None => SchemaNode(Some(&OBJECT_WITH_METADATA)),
    }
}

/// The OpenAPI definition name of a kind, as Kubernetes spells it:
/// `io.k8s.api.core.v1.Pod`, `io.k8s.api.apps.v1.Deployment`.
pub(crate) fn definition_name(kind: &KindInfo) -> String {
    let package = match kind.group {
        "" => "core",
        group => group.split('.').next().unwrap_or(group),
    };
    format!("io.k8s.api.{package}.{}.{}", kind.version, kind.kind)
}

/// Every described type, for the OpenAPI documents to annotate.
pub(crate) fn all_types() -> &'static [TypeSchema] {
    TYPES
}

/// The tagged list fields of one kind as dotted paths with list positions
/// elided (`spec.template.spec.containers`), walking the type table.
#[cfg(test)]
pub(crate) fn tagged_paths(kind: &KindInfo) -> Vec<(String, FieldPatchMeta)> {
    let mut found = Vec::new();
    if let SchemaNode(Some(schema)) = root_schema(kind) {
        collect_tagged_paths(schema, "", &mut found);
    }
    found
}

#[cfg(test)]
fn collect_tagged_paths(
    schema: &'static TypeSchema,
    prefix: &str,
    found: &mut Vec<(String, FieldPatchMeta)>,
) {
    for field in schema.fields {
        let path = if prefix.is_empty() {
            field.name.to_string()
        } else {
            format!("{prefix}.{}", field.name)
        };
        if field.meta != FieldPatchMeta::REPLACE {
            found.push((path.clone(), field.meta));
        }
        if let Some(child) = field.item_type.and_then(type_by_name) {
            collect_tagged_paths(child, &path, found);
        }
    }
}

fn type_by_name(name: &str) -> Option<&'static TypeSchema> {
    TYPES.iter().find(|schema| schema.name == name)
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const POD_SPEC: &str = "io.k8s.api.core.v1.PodSpec";
const POD_TEMPLATE_SPEC: &str = "io.k8s.api.core.v1.PodTemplateSpec";

const fn keyed(
    name: &'static str,
    key: &'static str,
    item_type: Option<&'static str>,
) -> FieldSchema {
    FieldSchema {
        name,
        meta: FieldPatchMeta {
            list_strategy: ListStrategy::MergeByKey(key),
            retain_keys: false,
        },
        item_type,
    }
}

const fn keyed_retaining(name: &'static str, key: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        meta: FieldPatchMeta {
            list_strategy: ListStrategy::MergeByKey(key),
            retain_keys: true,
        },
        item_type: None,
    }
}

const fn primitives(name: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        meta: FieldPatchMeta {
            list_strategy: ListStrategy::MergePrimitives,
            retain_keys: false,
        },
        item_type: None,
    }
}

const fn nested(name: &'static str, item_type: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        meta: FieldPatchMeta::REPLACE,
        item_type: Some(item_type),
    }
}

const fn retaining_map(name: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        meta: FieldPatchMeta {
            list_strategy: ListStrategy::Replace,
            retain_keys: true,
        },
        item_type: None,
    }
}

/// Every top-level object has `metadata`; kinds with no other tagged field
/// use this type.
const OBJECT_WITH_METADATA: TypeSchema = TypeSchema {
    name: "",
    fields: &[nested("metadata", OBJECT_META)],
};

/// A `status` whose only tagged field is `conditions` keyed by `type`.
const CONDITIONS_ONLY: &[FieldSchema] = &[keyed("conditions", "type", None)];

const CONTAINER_FIELDS: &[FieldSchema] = &[
    keyed("ports", "containerPort", None),
    keyed("env", "name", None),
    keyed("volumeMounts", "mountPath", None),
    keyed("volumeDevices", "devicePath", None),
];

/// A workload spec whose pod template sits at `template`.
const TEMPLATE_ONLY: &[FieldSchema] = &[nested("template", POD_TEMPLATE_SPEC)];

macro_rules! kind_type {
    ($name:literal, $spec:expr, $status:expr) => {
        TypeSchema {
            name: $name,
            fields: &[
                nested("metadata", OBJECT_META),
                nested("spec", $spec),
                nested("status", $status),
            ],
        }
    };
}

/// The type table, restating the tags in `k8s.io/api` `types.go`.
const TYPES: &[TypeSchema] = &[
    TypeSchema {
        name: OBJECT_META,
        fields: &[
            primitives("finalizers"),
            keyed("ownerReferences", "uid", None),
        ],
    },
    kind_type!(
        "io.k8s.api.core.v1.Pod",
        POD_SPEC,
        "io.k8s.api.core.v1.PodStatus"
    ),
    TypeSchema {
        name: POD_SPEC,
        fields: &[
            keyed("containers", "name", Some("io.k8s.api.core.v1.Container")),
            keyed(
                "initContainers",
                "name",
                Some("io.k8s.api.core.v1.Container"),
            ),
            keyed(
                "ephemeralContainers",
                "name",
                Some("io.k8s.api.core.v1.EphemeralContainer"),
            ),
            keyed_retaining("volumes", "name"),
            keyed("imagePullSecrets", "name", None),
            keyed("hostAliases", "ip", None),
            keyed("topologySpreadConstraints", "topologyKey", None),
            keyed("schedulingGates", "name", None),
            keyed_retaining("resourceClaims", "name"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.Container",
        fields: CONTAINER_FIELDS,
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.EphemeralContainer",
        fields: CONTAINER_FIELDS,
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.PodStatus",
        fields: &[
            keyed("conditions", "type", None),
            keyed("podIPs", "ip", None),
            keyed("hostIPs", "ip", None),
            keyed_retaining("resourceClaimStatuses", "name"),
        ],
    },
    TypeSchema {
        name: POD_TEMPLATE_SPEC,
        fields: &[nested("metadata", OBJECT_META), nested("spec", POD_SPEC)],
    },
    kind_type!(
        "io.k8s.api.apps.v1.Deployment",
        "io.k8s.api.apps.v1.DeploymentSpec",
        "io.k8s.api.apps.v1.DeploymentStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.apps.v1.DeploymentSpec",
        fields: &[
            nested("template", POD_TEMPLATE_SPEC),
            retaining_map("strategy"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.apps.v1.DeploymentStatus",
        fields: CONDITIONS_ONLY,
    },
    kind_type!(
        "io.k8s.api.apps.v1.ReplicaSet",
        "io.k8s.api.apps.v1.ReplicaSetSpec",
        "io.k8s.api.apps.v1.ReplicaSetStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.apps.v1.ReplicaSetSpec",
        fields: TEMPLATE_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.apps.v1.ReplicaSetStatus",
        fields: CONDITIONS_ONLY,
    },
    kind_type!(
        "io.k8s.api.apps.v1.StatefulSet",
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "io.k8s.api.apps.v1.StatefulSetStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.apps.v1.StatefulSetSpec",
        fields: TEMPLATE_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.apps.v1.StatefulSetStatus",
        fields: CONDITIONS_ONLY,
    },
    kind_type!(
        "io.k8s.api.apps.v1.DaemonSet",
        "io.k8s.api.apps.v1.DaemonSetSpec",
        "io.k8s.api.apps.v1.DaemonSetStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.apps.v1.DaemonSetSpec",
        fields: TEMPLATE_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.apps.v1.DaemonSetStatus",
        fields: CONDITIONS_ONLY,
    },
    kind_type!(
        "io.k8s.api.batch.v1.Job",
        "io.k8s.api.batch.v1.JobSpec",
        "io.k8s.api.batch.v1.JobStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.batch.v1.JobSpec",
        fields: TEMPLATE_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.batch.v1.JobStatus",
        fields: CONDITIONS_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.batch.v1.CronJob",
        fields: &[
            nested("metadata", OBJECT_META),
            nested("spec", "io.k8s.api.batch.v1.CronJobSpec"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.batch.v1.CronJobSpec",
        fields: &[nested("jobTemplate", "io.k8s.api.batch.v1.JobTemplateSpec")],
    },
    TypeSchema {
        name: "io.k8s.api.batch.v1.JobTemplateSpec",
        fields: &[
            nested("metadata", OBJECT_META),
            nested("spec", "io.k8s.api.batch.v1.JobSpec"),
        ],
    },
    kind_type!(
        "io.k8s.api.core.v1.ReplicationController",
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        "io.k8s.api.core.v1.ReplicationControllerStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.core.v1.ReplicationControllerSpec",
        fields: TEMPLATE_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.ReplicationControllerStatus",
        fields: CONDITIONS_ONLY,
    },
    kind_type!(
        "io.k8s.api.core.v1.Node",
        "io.k8s.api.core.v1.NodeSpec",
        "io.k8s.api.core.v1.NodeStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.core.v1.NodeSpec",
        fields: &[primitives("podCIDRs")],
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.NodeStatus",
        fields: &[
            keyed("conditions", "type", None),
            keyed("addresses", "type", None),
        ],
    },
    kind_type!(
        "io.k8s.api.core.v1.Service",
        "io.k8s.api.core.v1.ServiceSpec",
        "io.k8s.api.core.v1.ServiceStatus"
    ),
    TypeSchema {
        name: "io.k8s.api.core.v1.ServiceSpec",
        fields: &[keyed("ports", "port", None)],
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.ServiceStatus",
        fields: CONDITIONS_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.Namespace",
        fields: &[
            nested("metadata", OBJECT_META),
            nested("status", "io.k8s.api.core.v1.NamespaceStatus"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.NamespaceStatus",
        fields: CONDITIONS_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.PersistentVolumeClaim",
        fields: &[
            nested("metadata", OBJECT_META),
            nested("status", "io.k8s.api.core.v1.PersistentVolumeClaimStatus"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        fields: CONDITIONS_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        fields: &[
            nested("metadata", OBJECT_META),
            nested(
                "status",
                "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
            ),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        fields: CONDITIONS_ONLY,
    },
    TypeSchema {
        name: "io.k8s.api.policy.v1.PodDisruptionBudget",
        fields: &[
            nested("metadata", OBJECT_META),
            nested("status", "io.k8s.api.policy.v1.PodDisruptionBudgetStatus"),
        ],
    },
    TypeSchema {
        name: "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        fields: CONDITIONS_ONLY,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> &'static KindInfo {
        api::ALL_KINDS
            .iter()
            .find(|info| info.kind == name)
            .unwrap()
    }

    fn check(kind_name: &str, path: &str, expected: Option<(Option<&str>, Option<&str>)>) {
        let paths = tagged_paths(kind(kind_name));
        let actual = paths
            .iter()
            .find(|(candidate, _)| candidate == path)
            .map(|(_, meta)| (meta.patch_strategy_extension(), meta.merge_key()));
        assert_eq!(actual, expected, "{kind_name} {path}");
    }

    #[test]
    fn pod_spec_is_described_once_and_reached_from_every_template() {
        let containers = Some((Some("merge"), Some("name")));
        check("Pod", "spec.containers", containers);
        check("Deployment", "spec.template.spec.containers", containers);
        check(
            "StatefulSet",
            "spec.template.spec.initContainers",
            containers,
        );
        check(
            "CronJob",
            "spec.jobTemplate.spec.template.spec.containers",
            containers,
        );
        check(
            "ReplicationController",
            "spec.template.spec.containers",
            containers,
        );
        check("Job", "spec.template.spec.containers.env", containers);
        check(
            "DaemonSet",
            "spec.template.spec.containers.ports",
            Some((Some("merge"), Some("containerPort"))),
        );
        check(
            "Pod",
            "spec.volumes",
            Some((Some("merge,retainKeys"), Some("name"))),
        );
        check("Pod", "spec.tolerations", None);
    }

    #[test]
    fn metadata_lists_are_tagged_for_every_kind() {
        for info in api::ALL_KINDS {
            let paths = tagged_paths(info);
            let finalizers = paths.iter().find(|(path, _)| path == "metadata.finalizers");
            assert_eq!(
                finalizers.map(|(_, meta)| meta.list_strategy),
                Some(ListStrategy::MergePrimitives),
                "{}",
                info.kind
            );
        }
        check(
            "Secret",
            "metadata.ownerReferences",
            Some((Some("merge"), Some("uid"))),
        );
    }

    #[test]
    fn node_and_service_lists() {
        check("Node", "spec.podCIDRs", Some((Some("merge"), None)));
        check("Node", "spec.taints", None);
        check(
            "Node",
            "status.addresses",
            Some((Some("merge"), Some("type"))),
        );
        check("Service", "spec.ports", Some((Some("merge"), Some("port"))));
        check(
            "Deployment",
            "spec.strategy",
            Some((Some("retainKeys"), None)),
        );
    }

    #[test]
    fn every_named_type_exists() {
        for schema in TYPES {
            for field in schema.fields {
                if let Some(item_type) = field.item_type {
                    assert!(
                        type_by_name(item_type).is_some() || item_type == OBJECT_META,
                        "{item_type}"
                    );
                }
            }
        }
    }
}
