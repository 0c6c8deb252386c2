//! String interning for label keys, label values, images and resource
//! names, plus a small fast hasher for integer-keyed maps and pod-class
//! fingerprints on hot paths.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// An interned string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(pub u32);

/// A multiply-rotate hasher for small integer keys and pod-class
/// fingerprints. Not DoS-resistant: map keys are interned ids, never
/// attacker-chosen strings, and a fingerprint collision only costs one more
/// field comparison.
#[derive(Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    /// Eight bytes per step (strings hash on the commit path).
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.hash = (self.hash.rotate_left(5) ^ u64::from(value)).wrapping_mul(SEED);
    }
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.hash = (self.hash.rotate_left(5) ^ value).wrapping_mul(SEED);
    }
    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Build-hasher for `FastHasher`.
pub type FastBuild = BuildHasherDefault<FastHasher>;
/// A `HashMap` with `FastHasher`.
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;

/// Append-only string table.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<Arc<str>, StrId>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    /// The id of `text`, adding it if new.
    pub fn intern(&mut self, text: &str) -> StrId {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let id = StrId(self.strings.len() as u32);
        let shared: Arc<str> = Arc::from(text);
        self.strings.push(shared.clone());
        self.ids.insert(shared, id);
        id
    }

    /// The id of `text` if some node or pod used it.
    #[inline]
    pub fn get(&self, text: &str) -> Option<StrId> {
        self.ids.get(text).copied()
    }

    /// The string of `id` (empty for an unknown id).
    pub fn resolve(&self, id: StrId) -> &str {
        self.strings.get(id.0 as usize).map(|s| &**s).unwrap_or("")
    }
}
