//! Compact binary encoding of stored records for durable backends.
//!
//! Integers are little-endian `i64`; byte strings are a `u32` length and the
//! bytes. A key's record in the latest-values table omits the key (it is the
//! table key); an event record carries it.
//!
//! ```text
//! kv record:    create_revision mod_revision version lease value_bytes...
//! revision log: n_events:u32 { kind:u8 key:str kv_meta value:bytes has_prev:u8 [prev_meta prev_value:bytes] }*
//!               (written with has_prev 0: previous values are replayed,
//!               not stored; earlier versions wrote them)
//! wal batch:    seq:u64 n_changes:u32 { change }*
//! change:       0 revision:i64 events:bytes (a revision log record)
//!             | 1 lease_id:i64 ttl_micros:u64   (lease granted)
//!             | 2 lease_id:i64                  (lease removed)
//!             | 3 revision:i64                  (compacted below revision)
//! ```

use std::time::Duration;

use crate::mvcc::{Change, LogEntry};
use crate::{Bytes, Event, EventKind, KeyValue, StoreError};

const CHANGE_WRITE: u8 = 0;
const CHANGE_LEASE_GRANT: u8 = 1;
const CHANGE_LEASE_REMOVE: u8 = 2;
const CHANGE_COMPACT: u8 = 3;

const KIND_PUT: u8 = 0;
const KIND_DELETE: u8 = 1;

fn corrupt(what: &str) -> StoreError {
    StoreError::Io(format!("corrupt stored record: {what}"))
}

fn put_meta(out: &mut Vec<u8>, kv: &KeyValue) {
    out.extend_from_slice(&kv.create_revision.to_le_bytes());
    out.extend_from_slice(&kv.mod_revision.to_le_bytes());
    out.extend_from_slice(&kv.version.to_le_bytes());
    out.extend_from_slice(&kv.lease.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are bounded by the configured limits, far below 4 GiB.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Encode a key's latest state (without its key).
pub(crate) fn encode_kv(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + kv.value.len());
    put_meta(&mut out, kv);
    out.extend_from_slice(&kv.value);
    out
}

pub(crate) fn decode_kv(key: &str, bytes: &[u8]) -> Result<KeyValue, StoreError> {
    let mut reader = Reader { bytes };
    let mut kv = reader.meta(key.to_string())?;
    kv.value = Bytes::from(reader.bytes);
    Ok(kv)
}

/// Encode the events of one revision.
pub(crate) fn encode_events(events: &[Event]) -> Vec<u8> {
    let size: usize = events
        .iter()
        .map(|e| 80 + e.kv.key.len() + e.kv.value.len())
        .sum();
    let mut out = Vec::with_capacity(4 + size);
    encode_events_into(events, &mut out);
    out
}

fn encode_events_into(events: &[Event], out: &mut Vec<u8>) {
    let n_events = u32::try_from(events.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n_events.to_le_bytes());
    for event in events {
        out.push(match event.kind {
            EventKind::Put => KIND_PUT,
            EventKind::Delete => KIND_DELETE,
        });
        put_bytes(out, event.kv.key.as_bytes());
        put_meta(out, &event.kv);
        put_bytes(out, &event.kv.value);
        // Previous values are not stored (reading the log back replays
        // them); records with them, written by earlier versions, decode.
        out.push(0);
    }
}

pub(crate) fn decode_events(bytes: &[u8]) -> Result<Vec<Event>, StoreError> {
    let mut reader = Reader { bytes };
    let n_events = reader.u32()?;
    let mut events = Vec::with_capacity(n_events.min(1 << 16) as usize);
    for _ in 0..n_events {
        let kind = match reader.u8()? {
            KIND_PUT => EventKind::Put,
            KIND_DELETE => EventKind::Delete,
            _ => return Err(corrupt("event kind")),
        };
        let key =
            String::from_utf8(reader.slice()?.to_vec()).map_err(|_| corrupt("key is not UTF-8"))?;
        let mut kv = reader.meta(key.clone())?;
        kv.value = Bytes::from(reader.slice()?);
        let prev = match reader.u8()? {
            0 => None,
            1 => {
                let mut prev = reader.meta(key)?;
                prev.value = Bytes::from(reader.slice()?);
                Some(prev)
            }
            _ => return Err(corrupt("prev flag")),
        };
        events.push(Event { kind, kv, prev });
    }
    if !reader.bytes.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(events)
}

/// Append the encoding of one batch of changes (a write-ahead log record's
/// payload) to `out`.
pub(crate) fn encode_batch(seq: u64, changes: &[Change], out: &mut Vec<u8>) {
    out.extend_from_slice(&seq.to_le_bytes());
    let n_changes = u32::try_from(changes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n_changes.to_le_bytes());
    for change in changes {
        match change {
            Change::Write(entry) => {
                out.push(CHANGE_WRITE);
                out.extend_from_slice(&entry.revision.to_le_bytes());
                let len_at = out.len();
                out.extend_from_slice(&[0; 4]);
                encode_events_into(&entry.events, out);
                let len = u32::try_from(out.len() - len_at - 4).unwrap_or(u32::MAX);
                out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            }
            Change::LeaseGrant { id, ttl } => {
                out.push(CHANGE_LEASE_GRANT);
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&ttl_micros(*ttl).to_le_bytes());
            }
            Change::LeaseRemove { id } => {
                out.push(CHANGE_LEASE_REMOVE);
                out.extend_from_slice(&id.to_le_bytes());
            }
            Change::Compact { revision } => {
                out.push(CHANGE_COMPACT);
                out.extend_from_slice(&revision.to_le_bytes());
            }
        }
    }
}

/// Decode a batch written by [`encode_batch`]: its sequence number and changes.
pub(crate) fn decode_batch(bytes: &[u8]) -> Result<(u64, Vec<Change>), StoreError> {
    let mut reader = Reader { bytes };
    let seq = reader.u64()?;
    let n_changes = reader.u32()?;
    let mut changes = Vec::with_capacity(n_changes.min(1 << 16) as usize);
    for _ in 0..n_changes {
        let change = match reader.u8()? {
            CHANGE_WRITE => {
                let revision = reader.i64()?;
                let events = decode_events(reader.slice()?)?;
                Change::Write(LogEntry {
                    revision,
                    events: events.into(),
                })
            }
            CHANGE_LEASE_GRANT => Change::LeaseGrant {
                id: reader.i64()?,
                ttl: Duration::from_micros(reader.u64()?),
            },
            CHANGE_LEASE_REMOVE => Change::LeaseRemove { id: reader.i64()? },
            CHANGE_COMPACT => Change::Compact {
                revision: reader.i64()?,
            },
            _ => return Err(corrupt("change kind")),
        };
        changes.push(change);
    }
    if !reader.bytes.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok((seq, changes))
}

/// A lease TTL in whole microseconds, as stored.
pub(crate) fn ttl_micros(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_micros()).unwrap_or(u64::MAX)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.bytes.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, StoreError> {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(buf))
    }

    fn u64(&mut self) -> Result<u64, StoreError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(buf))
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(buf))
    }

    fn slice(&mut self) -> Result<&'a [u8], StoreError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    fn meta(&mut self, key: String) -> Result<KeyValue, StoreError> {
        Ok(KeyValue {
            key,
            create_revision: self.i64()?,
            mod_revision: self.i64()?,
            version: self.i64()?,
            lease: self.i64()?,
            value: Bytes::from(&[][..]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: &str, rev: i64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Bytes::from(value.as_bytes()),
            create_revision: 1,
            mod_revision: rev,
            version: rev,
            lease: 7,
        }
    }

    /// An event record as earlier versions wrote it, previous value included.
    fn with_prev(event: &Event, prev: &KeyValue) -> Vec<u8> {
        let mut out = 1u32.to_le_bytes().to_vec();
        out.push(KIND_PUT);
        put_bytes(&mut out, event.kv.key.as_bytes());
        put_meta(&mut out, &event.kv);
        put_bytes(&mut out, &event.kv.value);
        out.push(1);
        put_meta(&mut out, prev);
        put_bytes(&mut out, &prev.value);
        out
    }

    #[test]
    fn events_round_trip_without_their_previous_values() {
        let events = vec![
            Event {
                kind: EventKind::Put,
                kv: kv("a", "x", 2),
                prev: Some(kv("a", "w", 1)),
            },
            Event {
                kind: EventKind::Delete,
                kv: kv("b/ü", "", 2),
                prev: None,
            },
        ];
        let decoded = decode_events(&encode_events(&events)).unwrap();
        let stripped: Vec<Event> = events
            .iter()
            .map(|e| Event {
                prev: None,
                ..e.clone()
            })
            .collect();
        assert_eq!(decoded, stripped);
        let one = kv("k", "value", 3);
        assert_eq!(decode_kv("k", &encode_kv(&one)).unwrap(), one);
        assert!(decode_events(&encode_events(&events)[..10]).is_err());
        // Records of earlier versions, with the previous value, still read.
        let old = with_prev(&events[0], &kv("a", "w", 1));
        assert_eq!(decode_events(&old).unwrap(), events[..1]);
    }

    #[test]
    fn batches_round_trip() {
        let changes = vec![
            Change::LeaseGrant {
                id: 3,
                ttl: Duration::from_millis(1500),
            },
            Change::Write(LogEntry {
                revision: 9,
                events: vec![Event {
                    kind: EventKind::Put,
                    kv: kv("a", "x", 9),
                    prev: None,
                }]
                .into(),
            }),
            Change::LeaseRemove { id: 3 },
            Change::Compact { revision: 4 },
        ];
        let mut bytes = Vec::new();
        encode_batch(42, &changes, &mut bytes);
        let (seq, decoded) = decode_batch(&bytes).unwrap();
        assert_eq!(seq, 42);
        assert_eq!(format!("{decoded:?}"), format!("{changes:?}"));
        assert!(decode_batch(&bytes[..bytes.len() - 1]).is_err());
    }
}
