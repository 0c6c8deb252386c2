//! Which namespaces have ResourceQuotas or LimitRanges, so that admission
//! in the others (the common case) costs one cache lookup per write.
//!
//! The index holds object names per namespace. It is loaded before the
//! apiserver serves, noted by this apiserver's own creates *before* they
//! are written (so a quota is never missed by a write that follows its
//! create), and kept current from the store's watch for deletes and for
//! writes by anyone else ([`keep_current`]). It may briefly name an object
//! that no longer exists; the plugins then read the namespace's objects
//! and find none, so a stale entry costs a read, never a wrong answer.
//! Writes charged to quotas in one namespace are serialized by a
//! per-namespace lock, so their compare-and-swap on the quota objects
//! rarely has to be retried.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::error::ApiError;
use crate::filter::Filter;
use crate::keys;
use crate::state::ApiState;
use crate::watch_cache::{EventType, WatchMessage};

/// The kinds the index tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracked {
    ResourceQuota,
    LimitRange,
}

impl Tracked {
    const ALL: [Tracked; 2] = [Tracked::ResourceQuota, Tracked::LimitRange];

    fn plural(self) -> &'static str {
        match self {
            Tracked::ResourceQuota => "resourcequotas",
            Tracked::LimitRange => "limitranges",
        }
    }
}

/// Names of tracked objects per namespace.
#[derive(Clone, Debug, Default)]
struct Names {
    quotas: HashMap<String, BTreeSet<String>>,
    limit_ranges: HashMap<String, BTreeSet<String>>,
}

impl Names {
    fn of(&self, kind: Tracked) -> &HashMap<String, BTreeSet<String>> {
        match kind {
            Tracked::ResourceQuota => &self.quotas,
            Tracked::LimitRange => &self.limit_ranges,
        }
    }

    fn of_mut(&mut self, kind: Tracked) -> &mut HashMap<String, BTreeSet<String>> {
        match kind {
            Tracked::ResourceQuota => &mut self.quotas,
            Tracked::LimitRange => &mut self.limit_ranges,
        }
    }
}

/// The index (see the module doc).
#[derive(Default)]
pub(crate) struct NamespaceIndex {
    names: ArcSwap<Names>,
    /// Serializes quota-charged writes per namespace.
    quota_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl NamespaceIndex {
    /// Whether `namespace` may have objects of `kind`.
    pub(crate) fn has(&self, kind: Tracked, namespace: &str) -> bool {
        let names = self.names.load();
        let map = names.of(kind);
        !map.is_empty() && map.get(namespace).is_some_and(|set| !set.is_empty())
    }

    /// Notes an object about to be written; true if it was not known.
    pub(crate) fn note(&self, kind: Tracked, namespace: &str, name: &str) -> bool {
        let mut inserted = false;
        self.names.rcu(|names| {
            let mut names = Names::clone(names);
            inserted = names
                .of_mut(kind)
                .entry(namespace.to_string())
                .or_default()
                .insert(name.to_string());
            names
        });
        inserted
    }

    /// Forgets an object (deleted, or its create failed).
    pub(crate) fn forget(&self, kind: Tracked, namespace: &str, name: &str) {
        if !self
            .names
            .load()
            .of(kind)
            .get(namespace)
            .is_some_and(|set| set.contains(name))
        {
            return;
        }
        self.names.rcu(|names| {
            let mut names = Names::clone(names);
            let map = names.of_mut(kind);
            if let Some(set) = map.get_mut(namespace) {
                set.remove(name);
                if set.is_empty() {
                    map.remove(namespace);
                }
            }
            names
        });
    }

    /// The lock quota-charged writes in `namespace` hold.
    pub(crate) fn quota_lock(&self, namespace: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .quota_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Namespaces whose quotas are gone drop their lock when idle.
        if locks.len() > 64 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(namespace.to_string()).or_default().clone()
    }

    fn replace(&self, kind: Tracked, loaded: HashMap<String, BTreeSet<String>>) {
        self.names.rcu(|names| {
            let mut names = Names::clone(names);
            *names.of_mut(kind) = loaded.clone();
            names
        });
    }
}

/// `(namespace, name)` of a key under `/registry/<plural>/`.
fn namespace_and_name<'a>(prefix: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    key.strip_prefix(prefix)?.split_once('/')
}

/// Loads the index of `kind` from the store.
async fn load(state: &ApiState, kind: Tracked) -> Result<(), ApiError> {
    let prefix = keys::resource_prefix(kind.plural());
    let response = state
        .store
        .range(store::RangeRequest {
            prefix: prefix.clone(),
            ..Default::default()
        })
        .await?;
    let mut loaded: HashMap<String, BTreeSet<String>> = HashMap::new();
    for kv in &response.kvs {
        if let Some((namespace, name)) = namespace_and_name(&prefix, &kv.key) {
            loaded
                .entry(namespace.to_string())
                .or_default()
                .insert(name.to_string());
        }
    }
    state.namespace_index.replace(kind, loaded);
    Ok(())
}

/// Loads the whole index (before the apiserver serves).
pub(crate) async fn load_all(state: &ApiState) -> Result<(), ApiError> {
    for kind in Tracked::ALL {
        load(state, kind).await?;
    }
    Ok(())
}

/// Keeps the index current from the store's watch until it ends; a watch
/// that falls behind reloads from the store.
pub(crate) async fn keep_current(state: Arc<ApiState>) {
    let tasks = Tracked::ALL.map(|kind| follow(state.clone(), kind));
    futures::future::join_all(tasks).await;
}

async fn follow(state: Arc<ApiState>, kind: Tracked) {
    loop {
        let Ok(filter) = Filter::parse(kind.plural(), "", "", "") else {
            return;
        };
        let from = state.store.current_revision();
        let mut handle = match state.watch.watch(kind.plural(), filter, from, false) {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!(%error, kind = kind.plural(), "watching for the admission index failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if let Err(error) = load(&state, kind).await {
            tracing::warn!(%error, kind = kind.plural(), "loading the admission index failed");
        }
        loop {
            match handle.next().await {
                WatchMessage::Events(events) => {
                    for event in events {
                        let (namespace, name) = (&event.view.namespace, &event.view.name);
                        match event.event_type {
                            EventType::Deleted => {
                                state.namespace_index.forget(kind, namespace, name);
                            }
                            EventType::Added | EventType::Modified => {
                                state.namespace_index.note(kind, namespace, name);
                            }
                        }
                    }
                }
                WatchMessage::Bookmark(_) => {}
                WatchMessage::TooOld(reason) => {
                    tracing::debug!(%reason, kind = kind.plural(), "admission index watch restarted");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noted_names_are_found_until_forgotten() {
        let index = NamespaceIndex::default();
        assert!(!index.has(Tracked::ResourceQuota, "a"));
        assert!(index.note(Tracked::ResourceQuota, "a", "q1"));
        assert!(!index.note(Tracked::ResourceQuota, "a", "q1"));
        index.note(Tracked::ResourceQuota, "a", "q2");
        assert!(index.has(Tracked::ResourceQuota, "a"));
        assert!(!index.has(Tracked::LimitRange, "a"));
        assert!(!index.has(Tracked::ResourceQuota, "b"));
        index.forget(Tracked::ResourceQuota, "a", "q1");
        assert!(index.has(Tracked::ResourceQuota, "a"));
        index.forget(Tracked::ResourceQuota, "a", "q2");
        assert!(!index.has(Tracked::ResourceQuota, "a"));
    }

    #[test]
    fn keys_split_into_namespace_and_name() {
        assert_eq!(
            namespace_and_name("/registry/limitranges/", "/registry/limitranges/ns/lr"),
            Some(("ns", "lr"))
        );
        assert_eq!(namespace_and_name("/registry/limitranges/", "/other"), None);
    }
}
