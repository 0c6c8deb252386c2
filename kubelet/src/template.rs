//! The node template: a Kubernetes Node manifest every simulated node is
//! registered from, validated once so each node built from it is valid.
//!
//! The kubelet fills in the per-node parts (name, hostname and zone labels,
//! pod CIDR, addresses, conditions, machine ids); see
//! `kubelet/templates/hollow-node.yaml`, which is also built into the binary
//! as the default.

use std::collections::BTreeMap;
use std::path::Path;

use api::k8s_openapi::api::core::v1::{Node, NodeStatus};
use api::k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use api::manifest::AnyObject;
use api::quantity::Quantity;
use api::{ApiObject, FieldError, FieldErrors, FieldPath};

use crate::error::{Error, TemplateError};

/// The template shipped in the repository, built into the binary.
pub const BUILT_IN_TEMPLATE: &str = include_str!("../templates/hollow-node.yaml");

/// Resources every pod must name in `status.capacity`.
const REQUIRED_RESOURCES: [&str; 3] = ["cpu", "memory", "pods"];

/// A validated node template.
#[derive(Clone, Debug)]
pub struct NodeTemplate {
    /// The Node as written, with `status.allocatable` filled from capacity
    /// where absent.
    node: Node,
    allocatable: NodeResources,
}

/// What a node offers to pods, from `status.allocatable`; the kubelet admits
/// pods against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeResources {
    pub milli_cpu: i64,
    pub memory_bytes: i64,
    pub pods: i64,
}

impl NodeTemplate {
    /// The template shipped with the kubelet.
    pub fn built_in() -> Result<NodeTemplate, Error> {
        NodeTemplate::parse(BUILT_IN_TEMPLATE).map_err(|source| Error::Template {
            source_name: "built-in".to_string(),
            source: Box::new(source),
        })
    }

    /// Reads and validates a template file.
    pub fn from_file(path: &Path) -> Result<NodeTemplate, Error> {
        let error = |source| Error::Template {
            source_name: path.display().to_string(),
            source: Box::new(source),
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(TemplateError::Read(e)))?;
        NodeTemplate::parse(&text).map_err(error)
    }

    /// Parses and validates a template from YAML or JSON text.
    pub fn parse(text: &str) -> Result<NodeTemplate, TemplateError> {
        let mut objects = api::manifest::parse_manifest(text)?;
        let node = match (objects.pop(), objects.is_empty()) {
            (Some(AnyObject::Node(node)), true) => node,
            (Some(other), true) => {
                return Err(TemplateError::NotOneNode {
                    found: format!("a {}", other.info().kind),
                });
            }
            (None, _) => {
                return Err(TemplateError::NotOneNode {
                    found: "no object".to_string(),
                });
            }
            (Some(_), false) => {
                return Err(TemplateError::NotOneNode {
                    found: format!("{} objects", objects.len() + 1),
                });
            }
        };
        NodeTemplate::from_node(node)
    }

    /// Validates a Node as a template.
    pub fn from_node(mut node: Node) -> Result<NodeTemplate, TemplateError> {
        // The kubelet names each node; validate as if named.
        node.metadata.name = Some("template".to_string());
        let mut errors = match node.validate_create() {
            Ok(()) => FieldErrors::default(),
            Err(errors) => errors,
        };
        let status = node.status.get_or_insert_with(NodeStatus::default);
        let capacity = status.capacity.clone().unwrap_or_default();
        let capacity_path = FieldPath::root("status").child("capacity");
        let capacity_values = check_quantities(&capacity, &capacity_path, &mut errors);
        for resource in REQUIRED_RESOURCES {
            if !capacity.contains_key(resource) {
                errors.push(FieldError::required(
                    capacity_path.key(resource),
                    "the template must give the node's capacity of cpu, memory and pods",
                ));
            }
        }
        let allocatable = match &status.allocatable {
            Some(allocatable) => allocatable.clone(),
            None => capacity.clone(),
        };
        let allocatable_path = FieldPath::root("status").child("allocatable");
        let allocatable_values = check_quantities(&allocatable, &allocatable_path, &mut errors);
        for (resource, value) in &allocatable_values {
            match capacity_values.get(resource) {
                Some(capacity) if value > capacity => errors.push(FieldError::invalid(
                    allocatable_path.key(resource),
                    &allocatable[resource].0,
                    format!(
                        "must not exceed capacity {}",
                        capacity_of(&capacity_values, resource)
                    ),
                )),
                Some(_) => {}
                None => errors.push(FieldError::invalid(
                    allocatable_path.key(resource),
                    &allocatable[resource].0,
                    "resource not in status.capacity",
                )),
            }
        }
        if let Some(pods) = allocatable_values.get("pods")
            && (pods.nanos() % 1_000_000_000 != 0 || pods.value() < 1)
        {
            errors.push(FieldError::invalid(
                allocatable_path.key("pods"),
                &allocatable["pods"].0,
                "must be a whole number of at least 1",
            ));
        }
        if !errors.is_empty() {
            return Err(TemplateError::Invalid(errors));
        }
        let resources = NodeResources {
            milli_cpu: allocatable_values
                .get("cpu")
                .map_or(0, Quantity::milli_value),
            memory_bytes: allocatable_values.get("memory").map_or(0, Quantity::value),
            pods: allocatable_values.get("pods").map_or(0, Quantity::value),
        };
        status.allocatable = Some(allocatable);
        node.metadata.name = None;
        Ok(NodeTemplate {
            node,
            allocatable: resources,
        })
    }

    /// The validated Node, unnamed, with allocatable filled in.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// What each node offers to pods.
    pub fn allocatable(&self) -> NodeResources {
        self.allocatable
    }
}

/// Parses every quantity of a resource list, reporting malformed or
/// negative ones at `path.<resource>`.
fn check_quantities(
    list: &BTreeMap<String, WireQuantity>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) -> BTreeMap<String, Quantity> {
    let mut parsed = BTreeMap::new();
    for (resource, quantity) in list {
        match Quantity::parse(&quantity.0) {
            Ok(value) if value.is_negative() => errors.push(FieldError::invalid(
                path.key(resource),
                &quantity.0,
                "must be greater than or equal to 0",
            )),
            Ok(value) => {
                parsed.insert(resource.clone(), value);
            }
            Err(error) => {
                errors.push(FieldError::invalid(
                    path.key(resource),
                    &quantity.0,
                    error.detail(),
                ));
            }
        }
    }
    parsed
}

fn capacity_of(values: &BTreeMap<String, Quantity>, resource: &str) -> String {
    values
        .get(resource)
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        NodeTemplate::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn built_in_template_is_valid() {
        let template = NodeTemplate::built_in().unwrap();
        assert_eq!(
            template.allocatable(),
            NodeResources {
                milli_cpu: 31_850,
                memory_bytes: 126 * 1024 * 1024 * 1024,
                pods: 110,
            }
        );
        let status = template.node().status.as_ref().unwrap();
        assert!(status.images.as_ref().is_some_and(|i| i.len() >= 3));
    }

    #[test]
    fn allocatable_defaults_to_capacity() {
        let template = NodeTemplate::parse(
            "apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: '4', memory: 8Gi, pods: '20'}\n",
        )
        .unwrap();
        assert_eq!(template.allocatable().milli_cpu, 4000);
        assert_eq!(template.allocatable().pods, 20);
        let status = template.node().status.as_ref().unwrap();
        assert_eq!(status.allocatable, status.capacity);
    }

    #[test]
    fn bad_templates_name_the_field() {
        let error = error_of(
            "apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: lots, memory: 8Gi, pods: '20'}\n",
        );
        assert!(error.contains("status.capacity[cpu]"), "{error}");
        assert!(error.contains("lots"), "{error}");
        let error = error_of("apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: '4'}\n");
        assert!(
            error.contains("status.capacity[memory]: Required value"),
            "{error}"
        );
        assert!(
            error.contains("status.capacity[pods]: Required value"),
            "{error}"
        );
        let error = error_of(
            "apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: '4', memory: 8Gi, pods: '20'}\n  allocatable: {cpu: '5', memory: 8Gi, pods: '20'}\n",
        );
        assert!(error.contains("status.allocatable[cpu]"), "{error}");
        assert!(error.contains("must not exceed capacity 4"), "{error}");
        let error = error_of(
            "apiVersion: v1\nkind: Node\nspec:\n  taints: [{key: gpu, effect: Sometimes}]\nstatus:\n  capacity: {cpu: '4', memory: 8Gi, pods: '20'}\n",
        );
        assert!(error.contains("spec.taints[0].effect"), "{error}");
        let error = error_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
        assert!(
            error.contains("expected exactly one Node object, found a Pod"),
            "{error}"
        );
        assert!(error_of("apiVersion: v1\nkind: Node\nstatus: [\n").contains("YAML"));
    }
}
