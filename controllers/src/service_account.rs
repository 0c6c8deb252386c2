//! The ServiceAccount controller's decision (Kubernetes'
//! `serviceaccounts-controller`): every active namespace has the
//! ServiceAccount `default`, which pods use when they name none; one
//! deleted is made again. The apiserver creates it with the namespace, so
//! this controller repairs, it does not race.

use api::k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The ServiceAccount every namespace has.
pub const DEFAULT: &str = "default";

/// Whether the namespace takes new objects (not being deleted).
pub fn is_active(namespace: &Namespace) -> bool {
    namespace.metadata.deletion_timestamp.is_none()
        && namespace
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref())
            != Some("Terminating")
}

/// The `default` ServiceAccount to create in `namespace` when it has none
/// and is active.
pub fn wanted(namespace: &Namespace, has_default: bool) -> Option<ServiceAccount> {
    if has_default || !is_active(namespace) {
        return None;
    }
    Some(ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT.to_string()),
            namespace: namespace.metadata.name.clone(),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::api::core::v1::NamespaceStatus;

    fn namespace(phase: &str) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some("team".into()),
                ..ObjectMeta::default()
            },
            status: Some(NamespaceStatus {
                phase: Some(phase.into()),
                ..NamespaceStatus::default()
            }),
            ..Namespace::default()
        }
    }

    #[test]
    fn an_active_namespace_without_default_gets_one() {
        let account = wanted(&namespace("Active"), false).expect("an account");
        assert_eq!(account.metadata.name.as_deref(), Some("default"));
        assert_eq!(account.metadata.namespace.as_deref(), Some("team"));
        assert!(wanted(&namespace("Active"), true).is_none());
        assert!(wanted(&namespace("Terminating"), false).is_none());
    }
}
