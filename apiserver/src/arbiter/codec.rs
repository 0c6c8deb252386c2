//! The stored form of a [`NodeUsage`]: a version byte, then varints
//! (zig-zag for signed totals) and length-prefixed UTF-8 strings, in a
//! fixed order. Selectors are stored in their canonical string form.
//!
//! Layout (version 1):
//! `1, pods, milli_cpu, memory, ephemeral, n × (name, amount),
//! n × (protocol, host_ip, port, count),
//! n × (namespace, n × (key, value), count),
//! n × (selector, n × namespace, has_ns_selector, [ns_selector], count)`.

use std::collections::BTreeMap;

use super::pod_usage::{AntiAffinityTerm, HostPort};
use super::usage::NodeUsage;

const VERSION: u8 = 1;

/// A record that does not decode; names what was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("corrupt node usage record: {0}")]
pub(crate) struct CodecError(&'static str);

/// Encodes a record.
pub(crate) fn encode(usage: &NodeUsage) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    put_signed(&mut out, usage.pods);
    put_signed(&mut out, usage.milli_cpu);
    put_signed(&mut out, usage.memory_bytes);
    put_signed(&mut out, usage.ephemeral_storage_bytes);
    put_len(&mut out, usage.extended.len());
    for (name, amount) in &usage.extended {
        put_str(&mut out, name);
        put_signed(&mut out, *amount);
    }
    put_len(&mut out, usage.host_ports.len());
    for (port, count) in &usage.host_ports {
        put_str(&mut out, &port.protocol);
        put_str(&mut out, &port.host_ip);
        put_varint(&mut out, u64::from(port.port));
        put_varint(&mut out, u64::from(*count));
    }
    put_len(&mut out, usage.label_sets.len());
    for ((namespace, labels), count) in &usage.label_sets {
        put_str(&mut out, namespace);
        put_len(&mut out, labels.len());
        for (key, value) in labels {
            put_str(&mut out, key);
            put_str(&mut out, value);
        }
        put_varint(&mut out, u64::from(*count));
    }
    put_len(&mut out, usage.anti_affinity.len());
    for (term, count) in &usage.anti_affinity {
        put_str(&mut out, &term.selector_text);
        put_len(&mut out, term.namespaces.len());
        for namespace in &term.namespaces {
            put_str(&mut out, namespace);
        }
        match &term.namespace_selector {
            Some((text, _)) => {
                out.push(1);
                put_str(&mut out, text);
            }
            None => out.push(0),
        }
        put_varint(&mut out, u64::from(*count));
    }
    out
}

/// Decodes a record written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<NodeUsage, CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    if reader.byte()? != VERSION {
        return Err(CodecError("unknown version"));
    }
    let mut usage = NodeUsage {
        pods: reader.signed()?,
        milli_cpu: reader.signed()?,
        memory_bytes: reader.signed()?,
        ephemeral_storage_bytes: reader.signed()?,
        ..NodeUsage::default()
    };
    for _ in 0..reader.len()? {
        let name = reader.string()?;
        usage.extended.insert(name, reader.signed()?);
    }
    for _ in 0..reader.len()? {
        let port = HostPort {
            protocol: reader.string()?,
            host_ip: reader.string()?,
            port: u16::try_from(reader.varint()?).map_err(|_| CodecError("port out of range"))?,
        };
        usage.host_ports.insert(port, reader.count()?);
    }
    for _ in 0..reader.len()? {
        let namespace = reader.string()?;
        let mut labels = BTreeMap::new();
        for _ in 0..reader.len()? {
            let key = reader.string()?;
            labels.insert(key, reader.string()?);
        }
        usage
            .label_sets
            .insert((namespace, labels), reader.count()?);
    }
    for _ in 0..reader.len()? {
        let selector = reader.string()?;
        let namespaces = (0..reader.len()?)
            .map(|_| reader.string())
            .collect::<Result<Vec<_>, _>>()?;
        let namespace_selector = match reader.byte()? {
            0 => None,
            1 => Some(reader.string()?),
            _ => return Err(CodecError("bad namespace selector flag")),
        };
        let term = AntiAffinityTerm::from_parts(selector, namespaces, namespace_selector)
            .ok_or(CodecError("selector does not parse"))?;
        usage.anti_affinity.push((term, reader.count()?));
    }
    if reader.pos != bytes.len() {
        return Err(CodecError("trailing bytes"));
    }
    Ok(usage)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // The low seven bits (truncation intended).
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    // Zig-zag: small magnitudes of either sign stay short.
    put_varint(out, ((value << 1) ^ (value >> 63)) as u64);
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    put_varint(out, len as u64);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let byte = *self
            .bytes
            .get(self.pos)
            .ok_or(CodecError("unexpected end"))?;
        self.pos += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CodecError("varint too long"))
    }

    fn signed(&mut self) -> Result<i64, CodecError> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A length, bounded by the bytes left (every element takes at least one).
    fn len(&mut self) -> Result<usize, CodecError> {
        let len = usize::try_from(self.varint()?).map_err(|_| CodecError("length too large"))?;
        if len > self.bytes.len() - self.pos {
            return Err(CodecError("length past the end"));
        }
        Ok(len)
    }

    fn count(&mut self) -> Result<u32, CodecError> {
        match u32::try_from(self.varint()?) {
            Ok(count) if count > 0 => Ok(count),
            _ => Err(CodecError("bad count")),
        }
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let len = self.len()?;
        let bytes = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        String::from_utf8(bytes.to_vec()).map_err(|_| CodecError("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arbiter::pod_usage::pod_usage;
    use serde_json::json;

    fn sample() -> NodeUsage {
        let mut usage = NodeUsage::default();
        for (name, labels) in [("a", json!({"app": "db"})), ("b", json!({"app": "web"}))] {
            let pod = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns", "labels": labels},
                "spec": {"containers": [{"name": "c",
                    "resources": {"requests": {"cpu": "250m", "memory": "1Gi", "example.com/gpu": "1"}},
                    "ports": [{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"}]}],
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "x"]}]},
                         "topologyKey": "kubernetes.io/hostname", "namespaceSelector": {"matchLabels": {"team": "t"}},
                         "namespaces": ["other"]},
                        {"labelSelector": {}, "topologyKey": "kubernetes.io/hostname"}]}}}
            }))
            .unwrap();
            usage.add(&pod_usage(&pod));
        }
        usage
    }

    #[test]
    fn round_trip() {
        let usage = sample();
        let bytes = encode(&usage);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, usage);
        assert_eq!(decoded.anti_affinity.len(), 2);
        assert!(decoded.anti_affinity[1].0.selector.is_everything());
        assert_eq!(
            decode(&encode(&NodeUsage::default())).unwrap(),
            NodeUsage::default()
        );
        let negative = NodeUsage {
            milli_cpu: -5,
            ..NodeUsage::default()
        };
        assert_eq!(decode(&encode(&negative)).unwrap(), negative);
    }

    #[test]
    fn truncated_or_padded_records_are_rejected() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(decode(&padded), Err(CodecError("trailing bytes")));
        let mut wrong_version = bytes;
        wrong_version[0] = 9;
        assert_eq!(decode(&wrong_version), Err(CodecError("unknown version")));
    }
}
