//! What every controller writes to claim its objects: owner references
//! patched in (adopt) or out (release).

use api::ApiObject;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use client::Client;
use serde_json::json;

use super::Error;
use crate::owner::controller_reference;

/// Makes the owner (`api_version`/`kind`, `owner`) the controller of the
/// orphan `object`.
pub(crate) async fn adopt<K: ApiObject>(
    client: &Client,
    api_version: &str,
    kind: &str,
    owner: &ObjectMeta,
    object: &K,
) -> Result<(), Error> {
    let Some(reference) = controller_reference(api_version, kind, owner) else {
        return Ok(());
    };
    let mut references = object
        .metadata()
        .owner_references
        .clone()
        .unwrap_or_default();
    references.push(reference);
    set_references(client, object, references).await
}

/// Removes the owner `owner_uid`'s reference from `object`, which stopped
/// matching its selector.
pub(crate) async fn release<K: ApiObject>(
    client: &Client,
    owner_uid: &str,
    object: &K,
) -> Result<(), Error> {
    let references = object
        .metadata()
        .owner_references
        .iter()
        .flatten()
        .filter(|reference| reference.uid != owner_uid)
        .cloned()
        .collect();
    set_references(client, object, references).await
}

async fn set_references<K: ApiObject>(
    client: &Client,
    object: &K,
    references: Vec<OwnerReference>,
) -> Result<(), Error> {
    let meta = object.metadata();
    let patch = json!({
        "metadata": {
            "ownerReferences": if references.is_empty() { json!(null) } else { json!(references) },
            // Patch only the object this decision was about, not a newer
            // one of the same name.
            "uid": meta.uid,
        }
    });
    let namespace = meta.namespace.as_deref().unwrap_or("");
    let name = meta.name.as_deref().unwrap_or("");
    match client.patch::<K>(namespace, name, &patch).await {
        Ok(_) => Ok(()),
        // Gone meanwhile: nothing to claim.
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}
