//! Owner references: the controller reference a controller puts on what
//! it creates, and how it claims pods or ReplicaSets (Kubernetes'
//! `ControllerRefManager`): adopt matching orphans, release owned ones
//! that stopped matching.

use api::k8s_openapi::Metadata;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference,
};
use api::selector::Selector;

/// A controller's selector: an empty one selects nothing (Kubernetes
/// validation refuses one; a stored one must not take every object); an
/// error with the reason when it does not parse.
pub fn controller_selector(selector: &LabelSelector) -> Result<Selector, String> {
    let empty = selector
        .match_labels
        .as_ref()
        .is_none_or(|labels| labels.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|expressions| expressions.is_empty());
    if empty {
        return Ok(Selector::nothing());
    }
    Selector::from_label_selector(selector).map_err(|error| error.to_string())
}

/// The reference that makes `owner` the controller of what carries it.
pub fn controller_reference(
    api_version: &str,
    kind: &str,
    owner: &ObjectMeta,
) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone()?,
        uid: owner.uid.clone()?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

/// The controller reference of `meta`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|reference| reference.controller == Some(true))
}

/// How a controller's claim on the objects of its namespace (pods, or a
/// Deployment's ReplicaSets) turns out.
#[derive(Debug)]
pub struct Claim<'a, T> {
    /// Objects it controls and that match its selector.
    pub owned: Vec<&'a T>,
    /// Orphans that match: to adopt (patch the controller reference in).
    pub adopt: Vec<&'a T>,
    /// Objects it controls that no longer match: to release (remove the
    /// reference).
    pub release: Vec<&'a T>,
}

/// Claims `objects` for the controller `owner_uid` with `selector`. A
/// controller being deleted (`owner_deleting`) adopts and releases
/// nothing; objects being deleted are never adopted.
pub fn claim<'a, T: Metadata<Ty = ObjectMeta>>(
    owner_uid: &str,
    owner_deleting: bool,
    selector: &Selector,
    objects: impl IntoIterator<Item = &'a T>,
) -> Claim<'a, T> {
    let mut claim = Claim {
        owned: Vec::new(),
        adopt: Vec::new(),
        release: Vec::new(),
    };
    for object in objects {
        let meta = object.metadata();
        let labels = meta.labels.clone().unwrap_or_default();
        let matches = selector.matches(&labels);
        match controller_of(meta) {
            Some(reference) if reference.uid == owner_uid => {
                if matches {
                    claim.owned.push(object);
                } else if !owner_deleting {
                    claim.release.push(object);
                }
            }
            Some(_) => {}
            None => {
                if matches && !owner_deleting && meta.deletion_timestamp.is_none() {
                    claim.adopt.push(object);
                }
            }
        }
    }
    claim
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::api::core::v1::Pod;
    use std::collections::BTreeMap;

    fn pod(name: &str, app: &str, controller: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
                owner_references: controller.map(|uid| {
                    vec![OwnerReference {
                        uid: uid.into(),
                        controller: Some(true),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        }
    }

    fn names(pods: &[&Pod]) -> Vec<String> {
        pods.iter()
            .map(|pod| pod.metadata.name.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn owned_orphans_and_strays_are_told_apart() {
        let selector = Selector::parse("app=web").unwrap_or_else(|_| Selector::nothing());
        let pods = [
            pod("mine", "web", Some("rs-1")),
            pod("stray", "db", Some("rs-1")),
            pod("orphan", "web", None),
            pod("other-orphan", "db", None),
            pod("theirs", "web", Some("rs-2")),
        ];
        let claimed = claim("rs-1", false, &selector, &pods);
        assert_eq!(names(&claimed.owned), ["mine"]);
        assert_eq!(names(&claimed.adopt), ["orphan"]);
        assert_eq!(names(&claimed.release), ["stray"]);
        // A controller being deleted neither adopts nor releases.
        let claimed = claim("rs-1", true, &selector, &pods);
        assert_eq!(names(&claimed.owned), ["mine"]);
        assert!(claimed.adopt.is_empty() && claimed.release.is_empty());
    }

    #[test]
    fn a_controller_reference_needs_name_and_uid() {
        let meta = ObjectMeta {
            name: Some("web".into()),
            uid: Some("u1".into()),
            ..ObjectMeta::default()
        };
        let reference = controller_reference("apps/v1", "ReplicaSet", &meta);
        assert_eq!(
            reference.map(|r| (r.kind, r.name, r.uid, r.controller, r.block_owner_deletion)),
            Some((
                "ReplicaSet".into(),
                "web".into(),
                "u1".into(),
                Some(true),
                Some(true)
            ))
        );
        assert!(controller_reference("apps/v1", "ReplicaSet", &ObjectMeta::default()).is_none());
    }
}
