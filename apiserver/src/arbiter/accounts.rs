//! [`NodeAccounts`]: the per-node locks and decoded records of one
//! apiserver, and the store reads and transaction parts around them.
//!
//! The cache only saves decoding: every write that uses a cached record
//! compares its mod revision (and, for checked adds, the Node's), so a
//! record changed by another apiserver makes the write fail, the entry is
//! dropped, and the retry reads the store again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use api::k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use store::{Compare, CompareTarget, Op, Revision, Txn, TxnResponse};
use tokio::sync::OwnedMutexGuard;

use super::codec;
use super::fit::{Unfit, check_fit, namespaces_to_resolve};
use super::pod_usage::{NamespaceLabels, PodUsage, is_finished_phase, pod_usage};
use super::usage::{NodeCapacity, NodeUsage};
use crate::error::ApiError;
use crate::state::ApiState;

/// One lock and cached record per node this apiserver has written for.
#[derive(Default)]
pub(crate) struct NodeAccounts {
    /// Node name → its account. std mutex: held only to look up or insert;
    /// the per-node async mutex is what is held across a transaction.
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Account>>>>,
}

/// The cached state of one node's account; `None` until read, and again
/// after a write lost a race.
#[derive(Default)]
pub(crate) struct Account {
    loaded: Option<Loaded>,
}

/// A node's record and Node capacity as read (or last written) together
/// with their mod revisions (0 = the key is absent).
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub(crate) usage: NodeUsage,
    pub(crate) usage_revision: Revision,
    /// `None` when the Node object does not exist.
    pub(crate) capacity: Option<NodeCapacity>,
    pub(crate) node_revision: Revision,
}

impl NodeAccounts {
    async fn lock(&self, node: &str) -> OwnedMutexGuard<Account> {
        let account = {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            entries.entry(node.to_string()).or_default().clone()
        };
        account.lock_owned().await
    }

    /// Drops the entry of a node that no longer exists.
    pub(crate) fn forget(&self, node: &str) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(node);
    }
}

/// A node's account, locked and loaded, for one transaction.
pub(crate) struct OpenAccount {
    node: String,
    guard: OwnedMutexGuard<Account>,
    /// Taken out of the guard while open: if the account is dropped without
    /// [`OpenAccount::finish`] or [`OpenAccount::close`], the entry stays
    /// unloaded and is read again.
    loaded: Loaded,
    /// Read from the store by this open (not from the cache).
    fresh: bool,
}

impl OpenAccount {
    pub(crate) fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Adds to `txn` the compare on the record (and on the Node when
    /// `check_node`, for adds checked against its allocatable) and the put
    /// of `usage` as the new record.
    pub(crate) fn stage(&self, usage: &NodeUsage, check_node: bool, txn: &mut Txn) {
        let key = super::usage_key(&self.node);
        txn.compares.push(Compare {
            key: key.clone(),
            target: CompareTarget::ModRevision(self.loaded.usage_revision),
        });
        if check_node {
            txn.compares.push(Compare {
                key: node_key(&self.node),
                target: CompareTarget::ModRevision(self.loaded.node_revision),
            });
        }
        txn.success.push(Op::Put {
            key,
            value: store::Bytes::from(codec::encode(usage)),
            lease: 0,
        });
    }

    /// Whether the record and Node were read from the store by this open;
    /// a verdict from a cached record is only final once a write compared
    /// it or [`ApiState::account_is_current`] confirmed it.
    pub(crate) fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Unlocks without writing, keeping the cached record.
    pub(crate) fn close(mut self) {
        self.guard.loaded = Some(self.loaded);
    }

    /// After the transaction: keeps `usage` as the cached record if it was
    /// written, else leaves the entry to be read again.
    pub(crate) fn finish(mut self, usage: NodeUsage, response: &TxnResponse) {
        if response.succeeded {
            self.loaded.usage = usage;
            self.loaded.usage_revision = response.revision;
            self.guard.loaded = Some(self.loaded);
        }
    }
}

fn node_key(node: &str) -> String {
    format!("/registry/nodes/{node}")
}

impl ApiState {
    /// Locks `node`'s account and reads its record and Node unless cached.
    pub(crate) async fn open_account(&self, node: &str) -> Result<OpenAccount, ApiError> {
        let mut guard = self.accounts.lock(node).await;
        let (loaded, fresh) = match guard.loaded.take() {
            Some(loaded) => (loaded, false),
            None => (self.read_account(node).await?, true),
        };
        Ok(OpenAccount {
            node: node.to_string(),
            guard,
            loaded,
            fresh,
        })
    }

    /// Whether a cached record and Node are still the stored ones (two
    /// reads; used before a rejection that writes nothing becomes final).
    pub(crate) async fn account_is_current(&self, account: &OpenAccount) -> Result<bool, ApiError> {
        let revision = |kv: Option<store::KeyValue>| kv.map_or(0, |kv| kv.mod_revision);
        let usage = revision(self.get_kv(&super::usage_key(&account.node)).await?);
        let node = revision(self.get_kv(&node_key(&account.node)).await?);
        Ok(usage == account.loaded.usage_revision && node == account.loaded.node_revision)
    }

    async fn read_account(&self, node: &str) -> Result<Loaded, ApiError> {
        let key = super::usage_key(node);
        let (usage, usage_revision) = match self.get_kv(&key).await? {
            Some(kv) => {
                let usage = codec::decode(&kv.value)
                    .map_err(|error| ApiError::Internal(format!("{key}: {error}")))?;
                (usage, kv.mod_revision)
            }
            None => (NodeUsage::default(), 0),
        };
        let (capacity, node_revision) = match self.get_kv(&node_key(node)).await? {
            Some(kv) => {
                let capacity = NodeCapacity::from_node_json(&kv.value).map_err(|error| {
                    ApiError::Internal(format!("corrupt object at {}: {error}", kv.key))
                })?;
                (Some(capacity), kv.mod_revision)
            }
            None => (None, 0),
        };
        Ok(Loaded {
            usage,
            usage_revision,
            capacity,
            node_revision,
        })
    }

    /// Checks one more pod against a node's record, reading namespace labels
    /// only when a namespace selector needs them. Everything fits when the
    /// arbiter is switched off (`Config::bind_arbiter`).
    pub(crate) async fn check_pod_fits(
        &self,
        capacity: Option<&NodeCapacity>,
        usage: &NodeUsage,
        pod: &PodUsage,
    ) -> Result<Result<(), Unfit>, ApiError> {
        if !self.config.bind_arbiter {
            return Ok(Ok(()));
        }
        let needed = namespaces_to_resolve(capacity, usage, pod);
        let namespace_labels = if needed.is_empty() {
            NamespaceLabels::new()
        } else {
            self.namespace_labels(&needed).await?
        };
        Ok(check_fit(capacity, usage, pod, &namespace_labels))
    }

    /// Labels of the named namespaces (absent namespaces are left out).
    pub(crate) async fn namespace_labels(
        &self,
        names: &[String],
    ) -> Result<NamespaceLabels, ApiError> {
        #[derive(Deserialize)]
        struct NamespaceView {
            #[serde(default)]
            metadata: MetaView,
        }
        #[derive(Default, Deserialize)]
        struct MetaView {
            #[serde(default)]
            labels: Option<BTreeMap<String, String>>,
        }
        let mut labels = NamespaceLabels::new();
        for name in names {
            let Some(kv) = self.get_kv(&format!("/registry/namespaces/{name}")).await? else {
                continue;
            };
            let view: NamespaceView = serde_json::from_slice(&kv.value).map_err(|error| {
                ApiError::Internal(format!("corrupt object at {}: {error}", kv.key))
            })?;
            labels.insert(name.clone(), view.metadata.labels.unwrap_or_default());
        }
        Ok(labels)
    }

    /// Adds to `txn` the record update of a pod write that changes how the
    /// pod counts on its node (see [`CountChange`]). Call
    /// [`StagedCount::finish`] with the transaction's response.
    pub(crate) async fn stage_count_change(
        &self,
        change: &CountChange,
        txn: &mut Txn,
    ) -> Result<StagedCount, ApiError> {
        let account = self.open_account(&change.node).await?;
        let mut usage = account.loaded().usage.clone();
        if let Some(removed) = &change.remove {
            usage.remove(removed);
        }
        if let Some(added) = &change.add {
            usage.add(added);
        }
        account.stage(&usage, false, txn);
        Ok(StagedCount { account, usage })
    }
}

/// A record update riding along a pod write.
pub(crate) struct StagedCount {
    account: OpenAccount,
    usage: NodeUsage,
}

impl StagedCount {
    pub(crate) fn finish(self, response: &TxnResponse) {
        self.account.finish(self.usage, response);
    }
}

/// How a pod write changes the pod's count on its node, outside bind and
/// create (which check the add): a delete for good or a move to
/// Succeeded/Failed releases it; a label change on a counted pod replaces
/// its label set; a move back out of a finished phase counts it again.
#[derive(Clone, Debug)]
pub(crate) struct CountChange {
    pub(crate) node: String,
    pub(crate) remove: Option<PodUsage>,
    pub(crate) add: Option<PodUsage>,
}

impl CountChange {
    /// The change from stored pod `old` to `new` (`None` = deleted for
    /// good), or `None` if the record stays as it is.
    pub(crate) fn between(old: &Pod, new: Option<&Pod>) -> Option<CountChange> {
        let node = old
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.clone())
            .unwrap_or_default();
        if node.is_empty() {
            return None;
        }
        let counted = |pod: &Pod| {
            !is_finished_phase(
                pod.status
                    .as_ref()
                    .and_then(|status| status.phase.as_deref()),
            )
        };
        let old_counted = counted(old);
        let new_counted = new.is_some_and(counted);
        let relabelled = new.is_some_and(|new| old.metadata.labels != new.metadata.labels);
        if old_counted == new_counted && !(old_counted && relabelled) {
            return None;
        }
        Some(CountChange {
            node,
            remove: old_counted.then(|| pod_usage(old)),
            add: match new {
                Some(new) if new_counted => Some(pod_usage(new)),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn change(old: &Value, new: Option<&Value>) -> Option<(bool, bool)> {
        let decode = |pod: &Value| serde_json::from_value::<Pod>(pod.clone()).unwrap();
        let new = new.map(decode);
        CountChange::between(&decode(old), new.as_ref())
            .map(|change| (change.remove.is_some(), change.add.is_some()))
    }

    #[test]
    fn count_changes_follow_node_phase_labels_and_deletion() {
        let running = json!({"metadata": {"name": "p", "labels": {"a": "1"}},
            "spec": {"nodeName": "n1", "containers": []}, "status": {"phase": "Running"}});
        let mut succeeded = running.clone();
        succeeded["status"]["phase"] = json!("Succeeded");
        let mut relabelled = running.clone();
        relabelled["metadata"]["labels"] = json!({"a": "2"});
        let mut unbound = running.clone();
        unbound["spec"]["nodeName"] = json!("");
        assert_eq!(change(&running, Some(&running)), None);
        assert_eq!(change(&running, Some(&succeeded)), Some((true, false)));
        assert_eq!(change(&running, None), Some((true, false)));
        assert_eq!(change(&succeeded, None), None);
        assert_eq!(change(&succeeded, Some(&succeeded)), None);
        assert_eq!(change(&running, Some(&relabelled)), Some((true, true)));
        assert_eq!(change(&succeeded, Some(&running)), Some((false, true)));
        assert_eq!(change(&unbound, None), None);
    }
}
