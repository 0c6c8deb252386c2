//! Which shard owns a pending pod: rendezvous (highest-random-weight)
//! hashing of the pod UID over the live shards. When a shard leaves, only
//! its pods move (each to the survivor with the next-highest weight); when
//! it returns, only those pods move back.
//!
//! The hash is written out (FNV-1a, then a SplitMix64 finalizer) so every
//! process, whatever its build, agrees on it.

/// The live shard that owns `uid`; `None` when no shard is live.
pub(crate) fn owner(uid: &str, live_shards: &[u32]) -> Option<u32> {
    let key = fnv1a(uid.as_bytes());
    live_shards
        .iter()
        .copied()
        .max_by_key(|shard| (weight(key, *shard), *shard))
}

fn weight(key: u64, shard: u32) -> u64 {
    mix(key ^ mix(u64::from(shard).wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// SplitMix64's finalizer.
fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(count: usize) -> Vec<String> {
        (0..count)
            .map(|index| format!("6f1c2d3e-{index:04x}-4a5b-8c9d-{index:012x}"))
            .collect()
    }

    #[test]
    fn no_live_shard_owns_nothing() {
        assert_eq!(owner("a", &[]), None);
    }

    #[test]
    fn one_shard_owns_everything() {
        for uid in uids(100) {
            assert_eq!(owner(&uid, &[3]), Some(3));
        }
    }

    #[test]
    fn shares_are_even() {
        let live = [0, 1, 2, 3];
        let mut counts = [0usize; 4];
        for uid in uids(8000) {
            counts[owner(&uid, &live).unwrap() as usize] += 1;
        }
        for count in counts {
            assert!((1700..=2300).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn a_dead_shard_moves_only_its_pods() {
        let all = [0, 1, 2];
        let survivors = [0, 2];
        let mut moved = 0;
        for uid in uids(3000) {
            let before = owner(&uid, &all).unwrap();
            let after = owner(&uid, &survivors).unwrap();
            if before == 1 {
                moved += 1;
                assert_ne!(after, 1);
            } else {
                assert_eq!(before, after, "{uid} moved although its shard lives");
            }
        }
        assert!(moved > 800, "shard 1 owned {moved} of 3000");
    }

    #[test]
    fn owners_do_not_depend_on_list_order() {
        for uid in uids(200) {
            assert_eq!(owner(&uid, &[0, 1, 2]), owner(&uid, &[2, 0, 1]));
        }
    }
}
