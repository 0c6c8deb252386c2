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

use api::k8s_openapi::api::core::v1::Event;
use prost::bytes::Bytes;
use store::{Compare, CompareTarget, LeaseId, Op, Store, Txn};

use crate::error::ApiError;
use crate::keys;
use crate::kinds::Strategy;
use crate::object;
use crate::state::{ApiState, CAS_RETRIES};
use crate::verbs::{decode_stored, encode_for_store, to_wire};

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

impl Strategy for Event {
    /// Creates the event, or bumps the count of its duplicate.
    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        event: &'a mut Event,
    ) -> Result<Bytes, ApiError> {
        let namespace = event.metadata.namespace.clone().unwrap_or_default();
        let name = event.metadata.name.clone().unwrap_or_default();
        let index_key = format!(
            "/registry/eventindex/{namespace}/{:016x}",
            fingerprint(event)
        );
        for _ in 0..CAS_RETRIES {
            let lease = state.events.lease(&state.store).await?;
            if let Some(index) = state.get_kv(&index_key).await? {
                let existing_name = String::from_utf8_lossy(&index.value).to_string();
                let existing_key =
                    keys::object_key(&<Event as api::ApiObject>::INFO, &namespace, &existing_name);
                if let Some(current) = state.get_kv(&existing_key).await? {
                    let mut existing: Event = decode_stored(&current)?;
                    existing.count = Some(existing.count.unwrap_or(1) + 1);
                    existing.last_timestamp =
                        event.last_timestamp.clone().or_else(object::now_time);
                    let bytes = encode_for_store(&mut existing)?;
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
                                value: bytes.clone(),
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
                    let response = state.txn(txn).await?;
                    if response.succeeded {
                        return to_wire(&bytes, response.revision, &mut existing);
                    }
                    continue;
                }
            }
            // No live duplicate: write the event and (re)point the index at it.
            event.count.get_or_insert(1);
            let first = event.first_timestamp.clone().or_else(object::now_time);
            event.first_timestamp.clone_from(&first);
            if event.last_timestamp.is_none() {
                event.last_timestamp = first;
            }
            let bytes = encode_for_store(event)?;
            let index_revision = state
                .get_kv(&index_key)
                .await?
                .map_or(0, |kv| kv.mod_revision);
            let txn = Txn {
                compares: vec![
                    Compare {
                        key: key.to_string(),
                        target: CompareTarget::ModRevision(0),
                    },
                    Compare {
                        key: index_key.clone(),
                        target: CompareTarget::ModRevision(index_revision),
                    },
                ],
                success: vec![
                    Op::Put {
                        key: key.to_string(),
                        value: bytes.clone(),
                        lease,
                    },
                    Op::Put {
                        key: index_key.clone(),
                        value: store::Bytes::from(name.clone().into_bytes()),
                        lease,
                    },
                ],
                failure: vec![],
            };
            let response = state.txn(txn).await?;
            if response.succeeded {
                return to_wire(&bytes, response.revision, event);
            }
            if state.get_kv(key).await?.is_some() {
                return Err(ApiError::already_exists("events", &name));
            }
        }
        Err(ApiError::modified("events", &name))
    }
}

/// Hash of what makes two events the same occurrence.
fn fingerprint(event: &Event) -> u64 {
    let mut hasher = DefaultHasher::new();
    let involved = &event.involved_object;
    let source = event.source.as_ref();
    for part in [
        involved.kind.as_deref(),
        involved.namespace.as_deref(),
        involved.name.as_deref(),
        involved.uid.as_deref(),
        involved.field_path.as_deref(),
        event.reason.as_deref(),
        event.message.as_deref(),
        event.type_.as_deref(),
        source.and_then(|source| source.component.as_deref()),
        source.and_then(|source| source.host.as_deref()),
    ] {
        part.unwrap_or("").hash(&mut hasher);
    }
    hasher.finish()
}
