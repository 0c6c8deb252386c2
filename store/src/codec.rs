//! Compact binary encoding of stored records for durable backends.
//!
//! Integers are little-endian `i64`; byte strings are a `u32` length and the
//! bytes. A key's record in the latest-values table omits the key (it is the
//! table key); an event record carries it.
//!
//! ```text
//! kv record:    create_revision mod_revision version lease value_bytes...
//! revision log: n_events:u32 { kind:u8 key:str kv_meta value:bytes has_prev:u8 [prev_meta prev_value:bytes] }*
//! ```

use crate::{Bytes, Event, EventKind, KeyValue, StoreError};

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
        .map(|e| {
            80 + e.kv.key.len() + e.kv.value.len() + e.prev.as_ref().map_or(0, |p| p.value.len())
        })
        .sum();
    let mut out = Vec::with_capacity(4 + size);
    let n_events = u32::try_from(events.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n_events.to_le_bytes());
    for event in events {
        out.push(match event.kind {
            EventKind::Put => KIND_PUT,
            EventKind::Delete => KIND_DELETE,
        });
        put_bytes(&mut out, event.kv.key.as_bytes());
        put_meta(&mut out, &event.kv);
        put_bytes(&mut out, &event.kv.value);
        match &event.prev {
            None => out.push(0),
            Some(prev) => {
                out.push(1);
                put_meta(&mut out, prev);
                put_bytes(&mut out, &prev.value);
            }
        }
    }
    out
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

    #[test]
    fn events_round_trip() {
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
        assert_eq!(decode_events(&encode_events(&events)).unwrap(), events);
        let one = kv("k", "value", 3);
        assert_eq!(decode_kv("k", &encode_kv(&one)).unwrap(), one);
        assert!(decode_events(&encode_events(&events)[..10]).is_err());
    }
}
