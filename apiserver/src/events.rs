//! Core v1 Events: deduplicated and expiring.
//!
//! An event with the same involvedObject, reason, message and source as an
//! existing one bumps that one's `count` and `lastTimestamp` instead of
//! adding a new object. The match goes through an index key per
//! fingerprint (`/registry/eventindex/<namespace>/<hash>` → event name),
//! written in the same transaction as the event. Events and index keys hang
//! on a shared store lease, so they expire after the configured TTL; the
//! lease is rotated every tenth of the TTL, so an event lives between 0.9
//! and 1.0 TTL after its last update.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use store::{Compare, CompareTarget, LeaseId, Op, Store, Txn};

use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::state::{ApiState, CAS_RETRIES};

/// The lease events are attached to, rotated as it ages.
pub(crate) struct EventLeases {
    ttl: Duration,
    /// Current lease and when it was granted. A tokio mutex: granting a
    /// lease awaits the store under the lock, so concurrent events share one.
    current: tokio::sync::Mutex<Option<(LeaseId, Instant)>>,
}

impl EventLeases {
    pub(crate) fn new(ttl: Duration) -> EventLeases {
        EventLeases {
            ttl,
            current: tokio::sync::Mutex::new(None),
        }
    }

    async fn lease(&self, store: &Arc<dyn Store>) -> Result<LeaseId, ApiError> {
        let mut current = self.current.lock().await;
        if let Some((id, granted)) = *current
            && granted.elapsed() < self.ttl / 10
        {
            return Ok(id);
        }
        let id = store
            .lease_grant(self.ttl.max(Duration::from_secs(1)))
            .await?;
        *current = Some((id, Instant::now()));
        Ok(id)
    }
}

impl ApiState {
    /// Creates an event, or bumps the count of its duplicate.
    pub(crate) async fn create_event(&self, mut event: Value) -> Result<Value, ApiError> {
        let info = self.kinds.get("events")?.info();
        let namespace = object::namespace(&event).to_string();
        let index_key = format!(
            "/registry/eventindex/{namespace}/{:016x}",
            fingerprint(&event)
        );
        for _ in 0..CAS_RETRIES {
            let lease = self.events.lease(&self.store).await?;
            if let Some(index) = self.get_kv(&index_key).await? {
                let existing_name = String::from_utf8_lossy(&index.value).to_string();
                let existing_key = keys::object_key(info, &namespace, &existing_name);
                if let Some(current) = self.get_kv(&existing_key).await? {
                    let mut existing = object::from_store(&current)?;
                    let count = existing.get("count").and_then(Value::as_i64).unwrap_or(1);
                    let last = event
                        .get("lastTimestamp")
                        .cloned()
                        .filter(|t| !t.is_null())
                        .unwrap_or_else(object::now);
                    let map = object::as_map(&mut existing);
                    map.insert("count".to_string(), Value::from(count + 1));
                    map.insert("lastTimestamp".to_string(), last);
                    let txn = Txn {
                        compares: vec![
                            Compare {
                                key: existing_key.clone(),
                                target: CompareTarget::ModRevision(current.mod_revision),
                            },
                            Compare {
                                key: index_key.clone(),
                                target: CompareTarget::ModRevision(index.mod_revision),
                            },
                        ],
                        success: vec![
                            Op::Put {
                                key: existing_key,
                                value: object::to_store(&mut existing)?,
                                lease,
                            },
                            Op::Put {
                                key: index_key.clone(),
                                value: index.value.clone(),
                                lease,
                            },
                        ],
                        failure: vec![],
                    };
                    let response = self.txn(txn).await?;
                    if response.succeeded {
                        object::set_resource_version(&mut existing, response.revision);
                        return Ok(existing);
                    }
                    continue;
                }
            }
            // No live duplicate: write the event and (re)point the index at it.
            let name = object::name(&event).to_string();
            let key = keys::object_key(info, &namespace, &name);
            let map = object::as_map(&mut event);
            map.entry("count").or_insert(Value::from(1));
            let first = map
                .get("firstTimestamp")
                .cloned()
                .filter(|t| !t.is_null())
                .unwrap_or_else(object::now);
            map.insert("firstTimestamp".to_string(), first.clone());
            if map.get("lastTimestamp").is_none_or(Value::is_null) {
                map.insert("lastTimestamp".to_string(), first);
            }
            let index_revision = self
                .get_kv(&index_key)
                .await?
                .map_or(0, |kv| kv.mod_revision);
            let txn = Txn {
                compares: vec![
                    Compare {
                        key: key.clone(),
                        target: CompareTarget::ModRevision(0),
                    },
                    Compare {
                        key: index_key.clone(),
                        target: CompareTarget::ModRevision(index_revision),
                    },
                ],
                success: vec![
                    Op::Put {
                        key: key.clone(),
                        value: object::to_store(&mut event)?,
                        lease,
                    },
                    Op::Put {
                        key: index_key.clone(),
                        value: store::Bytes::from(name.as_bytes()),
                        lease,
                    },
                ],
                failure: vec![],
            };
            let response = self.txn(txn).await?;
            if response.succeeded {
                object::set_resource_version(&mut event, response.revision);
                return Ok(event);
            }
            if self.get_kv(&key).await?.is_some() {
                return Err(ApiError::already_exists("events", &name));
            }
        }
        Err(ApiError::modified("events", object::name(&event)))
    }
}

/// Hash of what makes two events the same occurrence.
fn fingerprint(event: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    for pointer in [
        "/involvedObject/kind",
        "/involvedObject/namespace",
        "/involvedObject/name",
        "/involvedObject/uid",
        "/involvedObject/fieldPath",
        "/reason",
        "/message",
        "/type",
        "/source/component",
        "/source/host",
    ] {
        object::field_string(event, pointer).hash(&mut hasher);
    }
    hasher.finish()
}
