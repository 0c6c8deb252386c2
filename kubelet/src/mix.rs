//! Deterministic per-object pseudo-random values (machine ids, start-delay
//! jitter, synthetic usage noise): a hash of a name or uid, so the same
//! object gets the same value in every run and no random generator is shared
//! between tasks.

/// A 64-bit hash of `text` under `seed` (FNV-1a, then a splitmix finaliser
/// so nearby inputs spread over the whole range).
pub(crate) fn hash64(text: &str, seed: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(hash)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A value in `[0, 1)` from `text` under `seed`.
pub(crate) fn unit_interval(text: &str, seed: u64) -> f64 {
    // The top 53 bits fit an f64 mantissa exactly.
    (hash64(text, seed) >> 11) as f64 / (1u64 << 53) as f64
}

/// 32 lower-case hex digits from `text` under `seed`, as machine ids are written.
pub(crate) fn hex128(text: &str, seed: u64) -> String {
    format!(
        "{:016x}{:016x}",
        hash64(text, seed),
        hash64(text, seed.wrapping_add(1))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        assert_eq!(hash64("a", 1), hash64("a", 1));
        assert_ne!(hash64("a", 1), hash64("a", 2));
        assert_ne!(hash64("pod-1", 0), hash64("pod-2", 0));
        let mean: f64 = (0..10_000)
            .map(|i| unit_interval(&format!("pod-{i}"), 7))
            .sum::<f64>()
            / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(hex128("node", 0).len(), 32);
    }
}
