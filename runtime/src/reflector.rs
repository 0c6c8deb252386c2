//! A reflector: the one writer of a cache of objects of one kind, fed by a
//! [`crate::watcher`], and any number of readers ([`Store`]).
//!
//! Applying a watcher item returns what changed as [`Change`]s, so a
//! component reacts to changes (enqueue a key, update an index) without
//! diffing on its own. A relist ([`WatcherEvent::Restarted`]) is diffed
//! against the cache: objects that are new, changed (another
//! resourceVersion) or gone come out as `Added`, `Modified` and `Deleted`,
//! and unchanged objects produce nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use api::ApiObject;
use client::WatchEvent;
use tokio::sync::watch;

use crate::watcher::WatcherEvent;

/// An object's cache key: namespace ("" for cluster-scoped kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> ObjectKey {
        ObjectKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of `object`.
    pub fn of<K: ApiObject>(object: &K) -> ObjectKey {
        let meta = object.metadata();
        ObjectKey::new(
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// One change the cache went through.
#[derive(Debug)]
pub enum Change<K> {
    Added(Arc<K>),
    Modified { old: Arc<K>, new: Arc<K> },
    Deleted(Arc<K>),
}

impl<K> Change<K> {
    /// The object as it is now (as it was last, for a deletion).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Change::Added(object) | Change::Deleted(object) => object,
            Change::Modified { new, .. } => new,
        }
    }

    /// The object before the change, if it was known.
    pub fn old(&self) -> Option<&Arc<K>> {
        match self {
            Change::Added(_) => None,
            Change::Modified { old, .. } => Some(old),
            Change::Deleted(object) => Some(object),
        }
    }
}

/// What an index files an object under (e.g. a pod's node name); an
/// object may be under several values or none.
pub type IndexFn<K> = fn(&K) -> Vec<String>;

/// The index of objects by their owners' UIDs, which every store keeps.
pub const OWNER_INDEX: &str = "owner";

struct Index<K> {
    values: IndexFn<K>,
    entries: HashMap<String, HashSet<ObjectKey>>,
}

impl<K> Index<K> {
    fn add(&mut self, key: &ObjectKey, object: &K) {
        for value in (self.values)(object) {
            self.entries.entry(value).or_default().insert(key.clone());
        }
    }

    /// Drops `key` from the entries of `old` that `new` (what is stored
    /// under `key` now) is no longer under.
    fn drop_stale(&mut self, key: &ObjectKey, old: &K, new: Option<&K>) {
        let kept: HashSet<String> = new
            .map(|new| (self.values)(new).into_iter().collect())
            .unwrap_or_default();
        for value in (self.values)(old) {
            if kept.contains(&value) {
                continue;
            }
            if let Some(keys) = self.entries.get_mut(&value) {
                keys.remove(key);
                if keys.is_empty() {
                    self.entries.remove(&value);
                }
            }
        }
    }
}

struct Cache<K> {
    /// Ordered, so one namespace is one range.
    objects: BTreeMap<ObjectKey, Arc<K>>,
    /// Object keys by index name, then by index value.
    indexes: HashMap<&'static str, Index<K>>,
}

struct Shared<K> {
    cache: RwLock<Cache<K>>,
    /// Whether a first list was applied.
    synced: watch::Sender<bool>,
}

/// A read handle on a reflector's cache; cheap to clone.
pub struct Store<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Store<K> {
        Store {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The write handle: applies watcher items to the cache.
pub struct Writer<K> {
    shared: Arc<Shared<K>>,
}

/// A new empty cache: its writer and a reader.
pub fn store<K: ApiObject>() -> (Writer<K>, Store<K>) {
    let shared = Arc::new(Shared {
        cache: RwLock::new(Cache {
            objects: BTreeMap::new(),
            indexes: HashMap::from([(
                OWNER_INDEX,
                Index {
                    values: owner_uids::<K>,
                    entries: HashMap::new(),
                },
            )]),
        }),
        synced: watch::Sender::new(false),
    });
    (
        Writer {
            shared: Arc::clone(&shared),
        },
        Store { shared },
    )
}

fn read<K>(cache: &RwLock<Cache<K>>) -> RwLockReadGuard<'_, Cache<K>> {
    // A panic while the lock is held leaves the map itself consistent
    // (every write below is one insert or remove), so keep serving it.
    cache
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<K>(cache: &RwLock<Cache<K>>) -> RwLockWriteGuard<'_, Cache<K>> {
    cache
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<K: ApiObject> Store<K> {
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<K>> {
        read(&self.shared.cache).objects.get(key).cloned()
    }

    /// Every object, in key order.
    pub fn list(&self) -> Vec<Arc<K>> {
        read(&self.shared.cache).objects.values().cloned().collect()
    }

    /// The objects of one namespace, in name order.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        let start = ObjectKey::new(namespace, "");
        read(&self.shared.cache)
            .objects
            .range(start..)
            .take_while(|(key, _)| key.namespace == namespace)
            .map(|(_, object)| Arc::clone(object))
            .collect()
    }

    /// The objects with an owner reference to `uid`.
    pub fn owned_by(&self, uid: &str) -> Vec<Arc<K>> {
        self.indexed(OWNER_INDEX, uid)
    }

    /// Keeps the index `name` from now on (and of what is cached already);
    /// a second call with the same name keeps the first function.
    pub fn add_index(&self, name: &'static str, values: IndexFn<K>) {
        let mut cache = write(&self.shared.cache);
        if cache.indexes.contains_key(name) {
            return;
        }
        let mut index = Index {
            values,
            entries: HashMap::new(),
        };
        for (key, object) in &cache.objects {
            index.add(key, object);
        }
        cache.indexes.insert(name, index);
    }

    /// The objects the index `name` files under `value`, in key order
    /// (none for an index never added).
    pub fn indexed(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let cache = read(&self.shared.cache);
        let mut keys: Vec<&ObjectKey> = cache
            .indexes
            .get(name)
            .and_then(|index| index.entries.get(value))
            .into_iter()
            .flatten()
            .collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|key| cache.objects.get(key).cloned())
            .collect()
    }

    pub fn len(&self) -> usize {
        read(&self.shared.cache).objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the first list was applied (before it, an empty cache means
    /// "not known yet", not "none").
    pub fn is_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    /// Waits until the first list was applied.
    pub async fn synced(&self) {
        let mut synced = self.shared.synced.subscribe();
        // The sender lives as long as this store, so this cannot fail.
        let _ = synced.wait_for(|synced| *synced).await;
    }
}

fn owner_uids<K: ApiObject>(object: &K) -> Vec<String> {
    object
        .metadata()
        .owner_references
        .iter()
        .flatten()
        .map(|reference| reference.uid.clone())
        .collect()
}

fn same_version<K: ApiObject>(a: &K, b: &K) -> bool {
    let (a, b) = (a.metadata(), b.metadata());
    a.resource_version.is_some() && a.resource_version == b.resource_version && a.uid == b.uid
}

impl<K: ApiObject> Cache<K> {
    fn insert(&mut self, key: ObjectKey, object: Arc<K>) -> Option<Arc<K>> {
        let old = self.objects.insert(key.clone(), Arc::clone(&object));
        for index in self.indexes.values_mut() {
            if let Some(old) = &old {
                index.drop_stale(&key, old, Some(&object));
            }
            index.add(&key, &object);
        }
        old
    }

    fn remove(&mut self, key: &ObjectKey) -> Option<Arc<K>> {
        let old = self.objects.remove(key)?;
        for index in self.indexes.values_mut() {
            index.drop_stale(key, &old, None);
        }
        Some(old)
    }

    fn apply_one(&mut self, event: WatchEvent<K>, changes: &mut Vec<Change<K>>) {
        match event {
            WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                let key = ObjectKey::of(&object);
                let new = Arc::new(object);
                match self.insert(key, Arc::clone(&new)) {
                    Some(old) => changes.push(Change::Modified { old, new }),
                    None => changes.push(Change::Added(new)),
                }
            }
            WatchEvent::Deleted(object) => {
                let key = ObjectKey::of(&object);
                // The event's copy is the last state; prefer it to the cache's.
                self.remove(&key);
                changes.push(Change::Deleted(Arc::new(object)));
            }
            WatchEvent::Bookmark { .. } => {}
        }
    }

    fn replace(&mut self, objects: Vec<K>, changes: &mut Vec<Change<K>>) {
        let mut listed = HashSet::with_capacity(objects.len());
        for object in objects {
            let key = ObjectKey::of(&object);
            listed.insert(key.clone());
            if let Some(old) = self.objects.get(&key)
                && same_version(old.as_ref(), &object)
            {
                continue;
            }
            let new = Arc::new(object);
            match self.insert(key, Arc::clone(&new)) {
                Some(old) => changes.push(Change::Modified { old, new }),
                None => changes.push(Change::Added(new)),
            }
        }
        let gone: Vec<ObjectKey> = self
            .objects
            .keys()
            .filter(|key| !listed.contains(*key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(old) = self.remove(&key) {
                changes.push(Change::Deleted(old));
            }
        }
    }
}

impl<K: ApiObject> Writer<K> {
    /// Applies one watcher item and returns what changed, in order.
    pub fn apply(&mut self, event: WatcherEvent<K>) -> Vec<Change<K>> {
        let mut cache = write(&self.shared.cache);
        let mut changes = Vec::new();
        match event {
            WatcherEvent::Restarted { objects, .. } => {
                cache.replace(objects, &mut changes);
                drop(cache);
                self.shared.synced.send_replace(true);
            }
            WatcherEvent::Applied(events) => {
                for event in events {
                    cache.apply_one(event, &mut changes);
                }
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests;
