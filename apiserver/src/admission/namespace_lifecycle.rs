//! NamespaceLifecycle: nothing is created in a namespace that does not
//! exist or is being terminated.

use serde::Deserialize;

use crate::admission::decode_stored_part;
use crate::error::ApiError;
use crate::state::ApiState;

/// The namespace exists and is not terminating.
pub(crate) async fn check_open(state: &ApiState, namespace: &str) -> Result<(), ApiError> {
    let key = format!("/registry/namespaces/{namespace}");
    let Some(kv) = state.get_kv(&key).await? else {
        return Err(ApiError::not_found("namespaces", namespace));
    };
    let stored: NamespaceState = decode_stored_part(&kv)?;
    let deleting = stored
        .metadata
        .and_then(|meta| meta.deletion_timestamp)
        .is_some_and(|time| !time.is_empty());
    let terminating =
        stored.status.and_then(|status| status.phase).as_deref() == Some("Terminating");
    if deleting || terminating {
        return Err(ApiError::Forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        )));
    }
    Ok(())
}

/// The fields of a stored Namespace this plugin reads.
#[derive(Deserialize)]
struct NamespaceState {
    metadata: Option<DeletionOnly>,
    status: Option<PhaseOnly>,
}

#[derive(Deserialize)]
struct DeletionOnly {
    #[serde(rename = "deletionTimestamp")]
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct PhaseOnly {
    phase: Option<String>,
}
