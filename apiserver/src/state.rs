//! [`ApiState`]: what every verb shares — the store, the kind table, the
//! watch caches, the event lease, the bind arbiter's accounts, the
//! admission plugins' namespace index and the reported usage — plus small
//! store helpers.

use std::sync::Arc;

use store::{KeyValue, Store, StoreExt, TxnResponse};

use crate::Config;
use crate::admission::namespace_index::NamespaceIndex;
use crate::arbiter::NodeAccounts;
use crate::error::ApiError;
use crate::kinds::{EventLeases, KindTable};
use crate::metrics_store::MetricsStore;
use crate::security::Authorizer;
use crate::watch_cache::WatchCaches;

/// Shared state of one apiserver, read by the verbs (`verbs/`) and the
/// kinds' strategies (`kinds/`).
pub(crate) struct ApiState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Config,
    pub(crate) kinds: KindTable,
    /// One cache per watched resource, created on first watch.
    pub(crate) watch: WatchCaches,
    /// The lease new events are attached to, rotated as it ages.
    pub(crate) events: EventLeases,
    /// Per-node locks and cached usage records of the bind arbiter.
    pub(crate) accounts: NodeAccounts,
    /// RBAC over the store's Roles and bindings (kept current by
    /// `security::keep_policy_current`).
    pub(crate) authorizer: Authorizer,
    /// Which namespaces have ResourceQuotas or LimitRanges (kept current
    /// by `admission::namespace_index::keep_current`).
    pub(crate) namespace_index: NamespaceIndex,
    /// The latest usage each node reported, in memory only
    /// (`metrics.k8s.io`).
    pub(crate) metrics: MetricsStore,
}

impl ApiState {
    pub(crate) fn new(config: Config) -> ApiState {
        ApiState {
            store: config.store.clone(),
            watch: WatchCaches::new(config.store.clone(), &config),
            events: EventLeases::new(config.event_ttl),
            kinds: KindTable::new(),
            accounts: NodeAccounts::default(),
            authorizer: Authorizer::new(),
            namespace_index: NamespaceIndex::default(),
            metrics: MetricsStore::new(config.metrics_sample_ttl),
            config,
        }
    }

    /// Rejects request bodies over the configured limit.
    pub(crate) fn check_size(&self, size: usize) -> Result<(), ApiError> {
        let limit = self.config.max_request_bytes;
        if size > limit {
            return Err(ApiError::TooLarge { size, limit });
        }
        Ok(())
    }

    pub(crate) async fn get_kv(&self, key: &str) -> Result<Option<KeyValue>, ApiError> {
        Ok(self.store.get(key).await?)
    }

    pub(crate) async fn txn(&self, txn: store::Txn) -> Result<TxnResponse, ApiError> {
        Ok(self.store.txn(txn).await?)
    }
}

/// Retries of a compare-and-swap that lost a race with another writer
/// before the request fails with a conflict.
pub(crate) const CAS_RETRIES: usize = 16;
