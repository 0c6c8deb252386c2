//! Owner references: the controller reference a controller puts on what
//! it creates, and how it claims pods (Kubernetes' `ControllerRefManager`):
//! adopt matching orphans, release owned pods that stopped matching.

use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use api::selector::Selector;

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

/// How a controller's claim on the pods of its namespace turns out.
#[derive(Debug, Default)]
pub struct Claim<'a> {
    /// Pods it controls and that match its selector.
    pub owned: Vec<&'a Pod>,
    /// Orphans that match: to adopt (patch the controller reference in).
    pub adopt: Vec<&'a Pod>,
    /// Pods it controls that no longer match: to release (remove the
    /// reference).
    pub release: Vec<&'a Pod>,
}

/// Claims `pods` for the controller `owner_uid` with `selector`. A
/// controller being deleted (`owner_deleting`) adopts and releases
/// nothing; pods being deleted are never adopted.
pub fn claim_pods<'a>(
    owner_uid: &str,
    owner_deleting: bool,
    selector: &Selector,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> Claim<'a> {
    let mut claim = Claim::default();
    for pod in pods {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let matches = selector.matches(&labels);
        match controller_of(&pod.metadata) {
            Some(reference) if reference.uid == owner_uid => {
                if matches {
                    claim.owned.push(pod);
                } else if !owner_deleting {
                    claim.release.push(pod);
                }
            }
            Some(_) => {}
            None => {
                if matches && !owner_deleting && pod.metadata.deletion_timestamp.is_none() {
                    claim.adopt.push(pod);
                }
            }
        }
    }
    claim
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let claim = claim_pods("rs-1", false, &selector, &pods);
        assert_eq!(names(&claim.owned), ["mine"]);
        assert_eq!(names(&claim.adopt), ["orphan"]);
        assert_eq!(names(&claim.release), ["stray"]);
        // A controller being deleted neither adopts nor releases.
        let claim = claim_pods("rs-1", true, &selector, &pods);
        assert_eq!(names(&claim.owned), ["mine"]);
        assert!(claim.adopt.is_empty() && claim.release.is_empty());
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
