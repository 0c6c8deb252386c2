//! NamespaceLifecycle: nothing is created in a namespace that does not
//! exist or is being terminated. The one read of the namespace also
//! yields what later plugins need of it ([`NamespaceFacts`]).

use serde::Deserialize;

use crate::admission::{NamespaceFacts, decode_stored_part};
use crate::error::ApiError;
use crate::state::ApiState;

/// The namespace exists and is not terminating; returns what admission
/// reads of it.
pub(crate) async fn check_open(
    state: &ApiState,
    namespace: &str,
) -> Result<NamespaceFacts, ApiError> {
    let (facts, terminating) = read(state, namespace).await?;
    if terminating {
        return Err(ApiError::Forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        )));
    }
    Ok(facts)
}

/// What admission reads of an existing namespace, terminating or not
/// (for writes to objects already in it).
pub(crate) async fn facts(state: &ApiState, namespace: &str) -> Result<NamespaceFacts, ApiError> {
    read(state, namespace).await.map(|(facts, _)| facts)
}

/// The namespace's facts and whether it is being terminated.
async fn read(state: &ApiState, namespace: &str) -> Result<(NamespaceFacts, bool), ApiError> {
    let key = format!("/registry/namespaces/{namespace}");
    let Some(kv) = state.get_kv(&key).await? else {
        return Err(ApiError::not_found("namespaces", namespace));
    };
    let stored: NamespaceState = decode_stored_part(&kv)?;
    let metadata = stored.metadata.unwrap_or_default();
    let deleting = metadata
        .deletion_timestamp
        .as_deref()
        .is_some_and(|time| !time.is_empty());
    let terminating =
        stored.status.and_then(|status| status.phase).as_deref() == Some("Terminating");
    let labels = metadata.labels.unwrap_or_default();
    let facts = NamespaceFacts {
        pod_security_enforce: labels.enforce,
        pod_security_warn: labels.warn,
    };
    Ok((facts, deleting || terminating))
}

/// The fields of a stored Namespace this plugin reads.
#[derive(Deserialize)]
struct NamespaceState {
    metadata: Option<NamespaceMeta>,
    status: Option<PhaseOnly>,
}

#[derive(Default, Deserialize)]
struct NamespaceMeta {
    #[serde(rename = "deletionTimestamp")]
    deletion_timestamp: Option<String>,
    labels: Option<PodSecurityLabels>,
}

/// The only labels admission reads (others are skipped unallocated).
#[derive(Default, Deserialize)]
struct PodSecurityLabels {
    #[serde(rename = "pod-security.kubernetes.io/enforce")]
    enforce: Option<String>,
    #[serde(rename = "pod-security.kubernetes.io/warn")]
    warn: Option<String>,
}

#[derive(Deserialize)]
struct PhaseOnly {
    phase: Option<String>,
}
