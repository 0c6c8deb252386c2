//! Namespaces start Active, whatever status the request carried, and are
//! created together with their `default` ServiceAccount (in one
//! transaction, as Kubernetes' ServiceAccount controller would add it), so
//! pods and tokens can name it at once.

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{Namespace, NamespaceStatus, ServiceAccount};
use prost::bytes::Bytes;

use crate::error::ApiError;
use crate::keys;
use crate::kinds::Strategy;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{add_if_absent, encode_for_store, put_if_absent, to_wire};

/// The ServiceAccount every namespace has.
const DEFAULT_SERVICE_ACCOUNT: &str = "default";

impl Strategy for Namespace {
    fn prepare_for_create(&mut self) {
        self.status = Some(NamespaceStatus {
            phase: Some("Active".to_string()),
            ..Default::default()
        });
    }

    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        namespace: &'a mut Namespace,
    ) -> Result<Bytes, ApiError> {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        let bytes = encode_for_store(namespace)?;
        let mut account = ServiceAccount::default();
        account.metadata.name = Some(DEFAULT_SERVICE_ACCOUNT.to_string());
        account.metadata.namespace = Some(name.clone());
        account.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
        account.metadata.creation_timestamp = crate::object::now_time();
        account.metadata.generation = Some(1);
        let account_key = keys::object_key(&ServiceAccount::INFO, &name, DEFAULT_SERVICE_ACCOUNT);
        let account_bytes = encode_for_store(&mut account)?;
        for _ in 0..CAS_RETRIES {
            let mut txn = put_if_absent(key, bytes.clone());
            // A `default` ServiceAccount left from before is kept.
            if state.get_kv(&account_key).await?.is_none() {
                add_if_absent(&mut txn, &account_key, account_bytes.clone());
            }
            let response = state.txn(txn).await?;
            if response.succeeded {
                return to_wire(&bytes, response.revision, namespace);
            }
            if state.get_kv(key).await?.is_some() {
                return Err(ApiError::already_exists("namespaces", &name));
            }
        }
        Err(ApiError::modified("namespaces", &name))
    }
}
