//! ServiceAccount: a pod runs as a ServiceAccount of its namespace — the
//! `default` one unless it names another — and that account must exist.
//!
//! `spec.serviceAccountName` is defaulted (from the deprecated
//! `spec.serviceAccount` if only that is given, else `default`) and the
//! deprecated field mirrors it, as Kubernetes' v1 conversion does. Mirror
//! pods (a kubelet's static pods) are exempt and may not name an account.
//! The existence check is one point read of the account's key.
//!
//! The projected `kube-api-access-*` token volume Kubernetes adds is not
//! added: nothing here issues bound tokens (there is no TokenRequest) and
//! the kubelet mounts no projected volumes, so the volume would name what
//! nothing provides, and it would make every pod larger on the create path.

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Pod, ServiceAccount};

use crate::admission::{forbidden, is_mirror_pod};
use crate::error::ApiError;
use crate::keys;
use crate::state::ApiState;

/// The account a pod runs as when it names none.
pub(crate) const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// Defaults the pod's ServiceAccount and checks that it exists in
/// `namespace`.
pub(crate) async fn admit_pod(
    state: &ApiState,
    namespace: &str,
    pod: &mut Pod,
) -> Result<(), ApiError> {
    let Some(account) = default_account(pod)? else {
        return Ok(());
    };
    let key = keys::object_key(&ServiceAccount::INFO, namespace, &account);
    if state.get_kv(&key).await?.is_none() {
        let name = pod.metadata.name.as_deref().unwrap_or("");
        return Err(forbidden(
            "pods",
            name,
            format_args!(
                "error looking up service account {namespace}/{account}: serviceaccount {account:?} not found"
            ),
        ));
    }
    Ok(())
}

/// Sets `serviceAccountName` (and its deprecated mirror) and returns the
/// account to look up; `None` for mirror pods, which are not checked.
fn default_account(pod: &mut Pod) -> Result<Option<String>, ApiError> {
    let mirror = is_mirror_pod(pod);
    let name = pod.metadata.name.clone().unwrap_or_default();
    let Some(spec) = pod.spec.as_mut() else {
        return Ok(None);
    };
    let given = spec
        .service_account_name
        .clone()
        .filter(|account| !account.is_empty())
        .or_else(|| {
            spec.service_account
                .clone()
                .filter(|account| !account.is_empty())
        });
    if mirror {
        if given.is_some() {
            return Err(forbidden(
                "pods",
                &name,
                "a mirror pod may not reference service accounts",
            ));
        }
        return Ok(None);
    }
    let account = given.unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.to_string());
    spec.service_account_name = Some(account.clone());
    spec.service_account = Some(account.clone());
    Ok(Some(account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn accounts_are_defaulted_and_mirrored() {
        let cases = [
            (json!({"containers": []}), "default"),
            (
                json!({"containers": [], "serviceAccountName": "builder"}),
                "builder",
            ),
            (json!({"containers": [], "serviceAccount": "old"}), "old"),
            (
                json!({"containers": [], "serviceAccountName": "new", "serviceAccount": "old"}),
                "new",
            ),
        ];
        for (spec, expected) in cases {
            let mut pod = pod(spec);
            assert_eq!(
                default_account(&mut pod).unwrap().as_deref(),
                Some(expected)
            );
            let spec = pod.spec.unwrap();
            assert_eq!(spec.service_account_name.as_deref(), Some(expected));
            assert_eq!(spec.service_account.as_deref(), Some(expected));
        }
    }

    #[test]
    fn mirror_pods_are_exempt_and_may_not_name_an_account() {
        let mut mirror: Pod = serde_json::from_value(json!({
            "metadata": {"name": "m", "annotations": {"kubernetes.io/config.mirror": "x"}},
            "spec": {"containers": []}}))
        .unwrap();
        assert_eq!(default_account(&mut mirror).unwrap(), None);
        assert_eq!(mirror.spec.as_ref().unwrap().service_account_name, None);
        mirror.spec.as_mut().unwrap().service_account_name = Some("sa".to_string());
        let error = default_account(&mut mirror).unwrap_err();
        assert_eq!(
            error.to_string(),
            "pods \"m\" is forbidden: a mirror pod may not reference service accounts"
        );
    }
}
