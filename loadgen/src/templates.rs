//! Node and pod templates: Kubernetes YAML, with defaults shipped in
//! `loadgen/templates/` and overridable by `--node-template` and
//! `--pod-template`.

use std::path::Path;

use api::k8s_openapi::api::core::v1::{Node, Pod};
use api::manifest::{AnyObject, parse_manifest};

use crate::Error;

/// The default node template (`loadgen/templates/node.yaml`).
pub const DEFAULT_NODE_TEMPLATE: &str = include_str!("../templates/node.yaml");
/// The default pod template (`loadgen/templates/pod.yaml`).
pub const DEFAULT_POD_TEMPLATE: &str = include_str!("../templates/pod.yaml");

/// The node template from `path`, or the default.
pub fn node_template(path: Option<&Path>) -> Result<Node, Error> {
    let (text, name) = read(path, "--node-template", DEFAULT_NODE_TEMPLATE)?;
    match parse_one(&text, &name, "--node-template", "Node")? {
        AnyObject::Node(node) => Ok(node),
        other => Err(wrong_kind("--node-template", &name, "Node", &other)),
    }
}

/// The pod template from `path`, or the default.
pub fn pod_template(path: Option<&Path>) -> Result<Pod, Error> {
    let (text, name) = read(path, "--pod-template", DEFAULT_POD_TEMPLATE)?;
    match parse_one(&text, &name, "--pod-template", "Pod")? {
        AnyObject::Pod(pod) => Ok(pod),
        other => Err(wrong_kind("--pod-template", &name, "Pod", &other)),
    }
}

fn read(path: Option<&Path>, flag: &'static str, default: &str) -> Result<(String, String), Error> {
    match path {
        None => Ok((default.to_string(), "built-in template".to_string())),
        Some(path) => std::fs::read_to_string(path)
            .map(|text| (text, path.display().to_string()))
            .map_err(|source| Error::ReadFile {
                flag,
                path: path.to_path_buf(),
                source,
            }),
    }
}

fn parse_one(
    text: &str,
    name: &str,
    flag: &'static str,
    kind: &'static str,
) -> Result<AnyObject, Error> {
    let mut objects = parse_manifest(text).map_err(|source| Error::Template {
        flag,
        path: name.to_string(),
        source: Box::new(source),
    })?;
    if objects.len() != 1 {
        return Err(Error::TemplateKind {
            flag,
            path: name.to_string(),
            kind,
            found: format!("{} objects", objects.len()),
        });
    }
    Ok(objects.remove(0))
}

fn wrong_kind(flag: &'static str, name: &str, kind: &'static str, found: &AnyObject) -> Error {
    Error::TemplateKind {
        flag,
        path: name.to_string(),
        kind,
        found: found.info().kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let node = node_template(None).unwrap();
        let allocatable = node.status.unwrap().allocatable.unwrap();
        assert_eq!(allocatable["pods"].0, "110");
        let pod = pod_template(None).unwrap();
        assert_eq!(pod.spec.unwrap().containers[0].name, "pause");
    }

    #[test]
    fn wrong_kind_names_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.yaml");
        std::fs::write(&path, DEFAULT_POD_TEMPLATE).unwrap();
        let error = node_template(Some(&path)).unwrap_err().to_string();
        assert!(error.starts_with("--node-template: "), "{error}");
        assert!(
            error.ends_with("expected exactly one Node object, found Pod"),
            "{error}"
        );
        let missing = pod_template(Some(&dir.path().join("missing.yaml"))).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("--pod-template: cannot read"),
            "{missing}"
        );
    }
}
