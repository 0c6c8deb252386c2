//! The in-memory MVCC core shared by every backend.
//!
//! [`Core`] holds the latest state and the history since the compaction point:
//! per key, its states in ascending mod revision (so reads at an old revision
//! are a binary search), and per revision, the events written (so watches can
//! replay). Leases and the keys attached to them live here too.
//!
//! Writes happen in two steps. Planning ([`Planner`]) evaluates requests in
//! order against the core plus an overlay of the changes planned so far, and
//! produces [`Change`]s without touching the core; this is what lets the redb
//! backend plan a whole commit batch, persist it, and only then apply it.
//! Applying ([`Core::apply`]) is infallible.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{
    Compare, CompareTarget, Event, EventKind, KeyValue, LeaseId, Op, OpResult, RangeRequest,
    RangeResponse, Revision, StoreConfig, StoreError, Txn, TxnResponse,
};

/// One state of a key: written at `revision`, `None` when deleted there.
#[derive(Clone, Debug)]
struct KeyRevision {
    revision: Revision,
    kv: Option<KeyValue>,
}

/// A lease and the keys attached to it.
#[derive(Clone, Debug)]
pub(crate) struct Lease {
    pub(crate) ttl: Duration,
    /// When the lease expires unless kept alive.
    pub(crate) deadline: Instant,
    pub(crate) keys: BTreeSet<String>,
}

/// The events written at one revision.
#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    pub(crate) revision: Revision,
    pub(crate) events: Arc<[Event]>,
}

/// A planned, validated state change, applied with [`Core::apply`] (and
/// persisted first by durable backends).
#[derive(Clone, Debug)]
pub(crate) enum Change {
    /// Key writes at one new revision.
    Write(LogEntry),
    LeaseGrant {
        id: LeaseId,
        ttl: Duration,
    },
    /// The lease is gone (its keys were deleted by a preceding `Write`).
    LeaseRemove {
        id: LeaseId,
    },
    /// History below `revision` is discarded.
    Compact {
        revision: Revision,
    },
}

/// A write request, executed by a backend's commit path.
#[derive(Clone, Debug)]
pub(crate) enum Request {
    Txn(Txn),
    Compact(Revision),
    LeaseGrant(Duration),
    LeaseRevoke(LeaseId),
    /// Expire these leases if they are still past their deadline.
    ExpireLeases(Vec<LeaseId>),
}

#[derive(Clone, Debug)]
pub(crate) enum Reply {
    Txn(TxnResponse),
    Lease(LeaseId),
    Done,
}

/// The in-memory state. Guarded by the backend's lock; it never blocks.
#[derive(Debug, Default)]
pub(crate) struct Core {
    revision: Revision,
    compacted: Revision,
    /// Per key, states in ascending revision since the compaction point; the
    /// first entry may be older (the state at the compaction point).
    keys: BTreeMap<String, Vec<KeyRevision>>,
    /// Events per revision, for every revision in `compacted..=revision`
    /// that wrote something.
    log: VecDeque<LogEntry>,
    leases: HashMap<LeaseId, Lease>,
    next_lease_id: LeaseId,
}

/// Recovered durable state, fed to [`Core::recover`].
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    pub(crate) revision: Revision,
    pub(crate) compacted: Revision,
    pub(crate) latest: Vec<KeyValue>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) leases: Vec<(LeaseId, Duration)>,
    pub(crate) next_lease_id: LeaseId,
}

impl Core {
    pub(crate) fn new() -> Core {
        Core {
            next_lease_id: 1,
            ..Core::default()
        }
    }

    /// Rebuild the core from durable state. Lease deadlines restart at `now`.
    pub(crate) fn recover(state: Recovered, now: Instant) -> Core {
        let mut core = Core {
            revision: state.revision,
            compacted: state.compacted,
            next_lease_id: state.next_lease_id.max(1),
            ..Core::default()
        };
        for (id, ttl) in state.leases {
            core.leases.insert(
                id,
                Lease {
                    ttl,
                    deadline: now + ttl,
                    keys: BTreeSet::new(),
                },
            );
        }
        for entry in &state.log {
            for event in entry.events.iter() {
                let history = core.keys.entry(event.kv.key.clone()).or_default();
                if history.is_empty()
                    && let Some(prev) = &event.prev
                {
                    history.push(KeyRevision {
                        revision: prev.mod_revision,
                        kv: Some(prev.clone()),
                    });
                }
                let kv = match event.kind {
                    EventKind::Put => Some(event.kv.clone()),
                    EventKind::Delete => None,
                };
                history.push(KeyRevision {
                    revision: entry.revision,
                    kv,
                });
            }
        }
        for kv in state.latest {
            if kv.lease != 0
                && let Some(lease) = core.leases.get_mut(&kv.lease)
            {
                lease.keys.insert(kv.key.clone());
            }
            let history = core.keys.entry(kv.key.clone()).or_default();
            if history.last().and_then(|h| h.kv.as_ref()) != Some(&kv) {
                history.push(KeyRevision {
                    revision: kv.mod_revision,
                    kv: Some(kv),
                });
            }
        }
        core.log = state.log.into();
        core
    }

    pub(crate) fn revision(&self) -> Revision {
        self.revision
    }

    pub(crate) fn compacted(&self) -> Revision {
        self.compacted
    }

    pub(crate) fn latest(&self, key: &str) -> Option<&KeyValue> {
        self.keys
            .get(key)
            .and_then(|h| h.last())
            .and_then(|h| h.kv.as_ref())
    }

    /// Renew a lease; fails if it is unknown or already past its deadline.
    pub(crate) fn keep_alive(&mut self, id: LeaseId, now: Instant) -> Result<Duration, StoreError> {
        match self.leases.get_mut(&id) {
            Some(lease) if lease.deadline > now => {
                lease.deadline = now + lease.ttl;
                Ok(lease.ttl)
            }
            _ => Err(StoreError::LeaseNotFound(id)),
        }
    }

    pub(crate) fn expired_leases(&self, now: Instant) -> Vec<LeaseId> {
        self.leases
            .iter()
            .filter(|(_, l)| l.deadline <= now)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Keys in `[start, ..)` that begin with `prefix` (or equal it if `exact`).
    fn key_range<'a>(
        &'a self,
        prefix: &'a str,
        exact: bool,
        start_after: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a String, &'a Vec<KeyRevision>)> + 'a {
        let lower = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        self.keys
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(move |(k, _)| {
                if exact {
                    k.as_str() == prefix
                } else {
                    k.starts_with(prefix)
                }
            })
    }

    pub(crate) fn range(&self, req: &RangeRequest) -> Result<RangeResponse, StoreError> {
        let at = match req.revision {
            None | Some(0) => self.revision,
            Some(rev) if rev > self.revision => {
                return Err(StoreError::FutureRevision {
                    requested: rev,
                    current: self.revision,
                });
            }
            Some(rev) if rev < self.compacted => {
                return Err(StoreError::Compacted {
                    requested: rev,
                    compacted: self.compacted,
                });
            }
            Some(rev) => rev,
        };
        let count = self
            .key_range(&req.prefix, req.exact, None)
            .filter(|(_, h)| visible_at(h, at).is_some())
            .count();
        let mut resp = RangeResponse {
            count,
            revision: self.revision,
            ..RangeResponse::default()
        };
        if req.count_only {
            return Ok(resp);
        }
        for (_, history) in self.key_range(&req.prefix, req.exact, req.start_after.as_deref()) {
            let Some(kv) = visible_at(history, at) else {
                continue;
            };
            if req.limit != 0 && resp.kvs.len() == req.limit {
                resp.more = true;
                break;
            }
            resp.kvs.push(kv.clone());
        }
        Ok(resp)
    }

    /// Log entries with revision >= `from`, starting at the first such entry.
    pub(crate) fn log_from(&self, from: Revision) -> impl Iterator<Item = &LogEntry> {
        let start = self.log.partition_point(|e| e.revision < from);
        self.log.range(start..)
    }

    /// Apply a planned change. Infallible: planning validated it.
    pub(crate) fn apply(&mut self, change: &Change, now: Instant) {
        match change {
            Change::Write(entry) => {
                for event in entry.events.iter() {
                    let key = &event.kv.key;
                    if let Some(prev) = &event.prev
                        && prev.lease != 0
                        && let Some(lease) = self.leases.get_mut(&prev.lease)
                    {
                        lease.keys.remove(key);
                    }
                    let kv = match event.kind {
                        EventKind::Put => {
                            if event.kv.lease != 0
                                && let Some(lease) = self.leases.get_mut(&event.kv.lease)
                            {
                                lease.keys.insert(key.clone());
                            }
                            Some(event.kv.clone())
                        }
                        EventKind::Delete => None,
                    };
                    self.keys.entry(key.clone()).or_default().push(KeyRevision {
                        revision: entry.revision,
                        kv,
                    });
                }
                self.revision = entry.revision;
                self.log.push_back(entry.clone());
            }
            Change::LeaseGrant { id, ttl } => {
                self.leases.insert(
                    *id,
                    Lease {
                        ttl: *ttl,
                        deadline: now + *ttl,
                        keys: BTreeSet::new(),
                    },
                );
                self.next_lease_id = self.next_lease_id.max(id + 1);
            }
            Change::LeaseRemove { id } => {
                self.leases.remove(id);
            }
            Change::Compact { revision } => self.compact(*revision),
        }
    }

    fn compact(&mut self, revision: Revision) {
        self.compacted = revision;
        while self.log.front().is_some_and(|e| e.revision < revision) {
            self.log.pop_front();
        }
        self.keys.retain(|_, history| {
            let keep_from = history.partition_point(|h| h.revision <= revision);
            if keep_from > 1 {
                history.drain(..keep_from - 1);
            }
            if history
                .first()
                .is_some_and(|h| h.revision <= revision && h.kv.is_none())
            {
                history.remove(0);
            }
            !history.is_empty()
        });
    }
}

/// The state of a key as of revision `at`.
fn visible_at(history: &[KeyRevision], at: Revision) -> Option<&KeyValue> {
    let idx = history.partition_point(|h| h.revision <= at);
    idx.checked_sub(1).and_then(|i| history[i].kv.as_ref())
}

/// Plans requests against a [`Core`] plus the changes planned before them
/// in the same batch, without mutating the core.
pub(crate) struct Planner<'a> {
    core: &'a Core,
    config: &'a StoreConfig,
    now: Instant,
    /// Key states written by earlier planned changes (`None` = deleted).
    keys: BTreeMap<String, Option<KeyValue>>,
    revision: Revision,
    compacted: Revision,
    next_lease_id: LeaseId,
    leases_added: HashMap<LeaseId, Duration>,
    leases_removed: HashSet<LeaseId>,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(core: &'a Core, config: &'a StoreConfig, now: Instant) -> Planner<'a> {
        Planner {
            core,
            config,
            now,
            keys: BTreeMap::new(),
            revision: core.revision,
            compacted: core.compacted,
            next_lease_id: core.next_lease_id,
            leases_added: HashMap::new(),
            leases_removed: HashSet::new(),
        }
    }

    /// Plan one request; on `Err`, nothing of it is planned.
    pub(crate) fn plan(
        &mut self,
        request: Request,
        changes: &mut Vec<Change>,
    ) -> Result<Reply, StoreError> {
        match request {
            Request::Txn(txn) => self.plan_txn(txn, changes).map(Reply::Txn),
            Request::Compact(revision) => {
                self.plan_compact(revision, changes).map(|()| Reply::Done)
            }
            Request::LeaseGrant(ttl) => {
                if ttl.is_zero() {
                    return Err(StoreError::InvalidTtl { ttl_seconds: 0 });
                }
                let id = self.next_lease_id;
                self.next_lease_id += 1;
                self.leases_added.insert(id, ttl);
                changes.push(Change::LeaseGrant { id, ttl });
                Ok(Reply::Lease(id))
            }
            Request::LeaseRevoke(id) => {
                if !self.lease_exists(id) {
                    return Err(StoreError::LeaseNotFound(id));
                }
                self.remove_lease(id, changes);
                Ok(Reply::Done)
            }
            Request::ExpireLeases(ids) => {
                for id in ids {
                    let expired = self
                        .core
                        .leases
                        .get(&id)
                        .is_some_and(|l| l.deadline <= self.now);
                    if expired && !self.leases_removed.contains(&id) {
                        self.remove_lease(id, changes);
                    }
                }
                Ok(Reply::Done)
            }
        }
    }

    fn lease_exists(&self, id: LeaseId) -> bool {
        self.leases_added.contains_key(&id)
            || (self.core.leases.contains_key(&id) && !self.leases_removed.contains(&id))
    }

    /// Delete the lease's keys at one revision, then drop the lease.
    fn remove_lease(&mut self, id: LeaseId, changes: &mut Vec<Change>) {
        let mut keys: BTreeSet<String> = self
            .core
            .leases
            .get(&id)
            .map(|l| l.keys.clone())
            .unwrap_or_default();
        for (key, state) in &self.keys {
            match state {
                Some(kv) if kv.lease == id => {
                    keys.insert(key.clone());
                }
                _ => {
                    keys.remove(key);
                }
            }
        }
        let revision = self.revision + 1;
        let mut events = Vec::new();
        for key in keys {
            self.delete_key(&key, revision, &mut events);
        }
        if !events.is_empty() {
            self.revision = revision;
            changes.push(Change::Write(LogEntry {
                revision,
                events: events.into(),
            }));
        }
        self.leases_added.remove(&id);
        self.leases_removed.insert(id);
        changes.push(Change::LeaseRemove { id });
    }

    fn plan_compact(
        &mut self,
        revision: Revision,
        changes: &mut Vec<Change>,
    ) -> Result<(), StoreError> {
        if revision > self.revision {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current: self.revision,
            });
        }
        if revision < self.compacted {
            return Err(StoreError::Compacted {
                requested: revision,
                compacted: self.compacted,
            });
        }
        if revision > self.compacted {
            self.compacted = revision;
            changes.push(Change::Compact { revision });
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<KeyValue> {
        match self.keys.get(key) {
            Some(state) => state.clone(),
            None => self.core.latest(key).cloned(),
        }
    }

    fn keys_with_prefix(&self, prefix: &str) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self
            .core
            .key_range(prefix, false, None)
            .filter(|(_, h)| h.last().is_some_and(|h| h.kv.is_some()))
            .map(|(k, _)| k.clone())
            .collect();
        for (key, state) in self
            .keys
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        {
            if !key.starts_with(prefix) {
                break;
            }
            if state.is_some() {
                keys.insert(key.clone());
            } else {
                keys.remove(key);
            }
        }
        keys
    }

    fn compare_holds(&self, compare: &Compare) -> bool {
        let kv = self.get(&compare.key);
        match &compare.target {
            CompareTarget::ModRevision(rev) => kv.map_or(0, |kv| kv.mod_revision) == *rev,
            CompareTarget::CreateRevision(rev) => kv.map_or(0, |kv| kv.create_revision) == *rev,
            CompareTarget::Version(version) => kv.map_or(0, |kv| kv.version) == *version,
            CompareTarget::Value(value) => kv.is_some_and(|kv| kv.value == *value),
        }
    }

    fn validate(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut written = HashSet::new();
        for op in ops {
            let key = match op {
                Op::Put { key, value, lease } => {
                    if value.len() > self.config.max_value_bytes {
                        return Err(StoreError::ValueTooLarge {
                            size: value.len(),
                            limit: self.config.max_value_bytes,
                        });
                    }
                    if *lease != 0 && !self.lease_exists(*lease) {
                        return Err(StoreError::LeaseNotFound(*lease));
                    }
                    key
                }
                Op::Delete { key } => key,
                Op::DeletePrefix { prefix } => prefix,
                Op::Get { key } => key,
            };
            if key.len() > self.config.max_key_bytes {
                return Err(StoreError::KeyTooLarge {
                    size: key.len(),
                    limit: self.config.max_key_bytes,
                });
            }
            if matches!(op, Op::Put { .. } | Op::Delete { .. }) && !written.insert(key.as_str()) {
                return Err(StoreError::DuplicateKey(key.clone()));
            }
        }
        Ok(())
    }

    fn delete_key(
        &mut self,
        key: &str,
        revision: Revision,
        events: &mut Vec<Event>,
    ) -> Option<KeyValue> {
        let prev = self.get(key)?;
        self.keys.insert(key.to_string(), None);
        let kv = KeyValue {
            mod_revision: revision,
            ..prev.clone()
        };
        events.push(Event {
            kind: EventKind::Delete,
            kv,
            prev: Some(prev.clone()),
        });
        Some(prev)
    }

    fn plan_txn(&mut self, txn: Txn, changes: &mut Vec<Change>) -> Result<TxnResponse, StoreError> {
        for compare in &txn.compares {
            if compare.key.len() > self.config.max_key_bytes {
                return Err(StoreError::KeyTooLarge {
                    size: compare.key.len(),
                    limit: self.config.max_key_bytes,
                });
            }
        }
        let succeeded = txn.compares.iter().all(|c| self.compare_holds(c));
        let ops = if succeeded { txn.success } else { txn.failure };
        self.validate(&ops)?;
        let revision = self.revision + 1;
        let mut events = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                Op::Put { key, value, lease } => {
                    let prev = self.get(&key);
                    let kv = KeyValue {
                        key: key.clone(),
                        value,
                        create_revision: prev.as_ref().map_or(revision, |p| p.create_revision),
                        mod_revision: revision,
                        version: prev.as_ref().map_or(1, |p| p.version + 1),
                        lease,
                    };
                    self.keys.insert(key, Some(kv.clone()));
                    events.push(Event {
                        kind: EventKind::Put,
                        kv: kv.clone(),
                        prev: prev.clone(),
                    });
                    results.push(OpResult::Put { kv, prev });
                }
                Op::Delete { key } => {
                    let deleted = self
                        .delete_key(&key, revision, &mut events)
                        .into_iter()
                        .collect();
                    results.push(OpResult::Delete { deleted });
                }
                Op::DeletePrefix { prefix } => {
                    let mut deleted = Vec::new();
                    for key in self.keys_with_prefix(&prefix) {
                        deleted.extend(self.delete_key(&key, revision, &mut events));
                    }
                    results.push(OpResult::Delete { deleted });
                }
                Op::Get { key } => results.push(OpResult::Get { kv: self.get(&key) }),
            }
        }
        if !events.is_empty() {
            self.revision = revision;
            changes.push(Change::Write(LogEntry {
                revision,
                events: events.into(),
            }));
        }
        Ok(TxnResponse {
            succeeded,
            revision: self.revision,
            results,
        })
    }
}
