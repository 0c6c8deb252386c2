//! A plain bitset over node slots, used to evaluate node selectors for all
//! nodes at once with word-wide AND/OR.

/// A fixed-length set of node slots.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeBitset {
    words: Vec<u64>,
}

impl NodeBitset {
    /// An empty set able to hold `slot_count` slots.
    pub fn empty(slot_count: usize) -> Self {
        NodeBitset {
            words: vec![0; slot_count.div_ceil(64)],
        }
    }

    /// A set holding every slot below `slot_count`.
    pub fn full(slot_count: usize) -> Self {
        let mut set = NodeBitset {
            words: vec![u64::MAX; slot_count.div_ceil(64)],
        };
        let rest = slot_count % 64;
        if rest != 0
            && let Some(last) = set.words.last_mut()
        {
            *last = (1u64 << rest) - 1;
        }
        set
    }

    /// Grows the set to hold `slot_count` slots (new slots are absent).
    pub fn ensure_slots(&mut self, slot_count: usize) {
        let words = slot_count.div_ceil(64);
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
    }

    #[inline]
    pub fn contains(&self, slot: usize) -> bool {
        self.words
            .get(slot / 64)
            .is_some_and(|word| word & (1u64 << (slot % 64)) != 0)
    }

    pub fn insert(&mut self, slot: usize) {
        self.ensure_slots(slot + 1);
        self.words[slot / 64] |= 1u64 << (slot % 64);
    }

    pub fn remove(&mut self, slot: usize) {
        if let Some(word) = self.words.get_mut(slot / 64) {
            *word &= !(1u64 << (slot % 64));
        }
    }

    /// Keeps only slots also in `other`.
    pub fn intersect_with(&mut self, other: &NodeBitset) {
        for (index, word) in self.words.iter_mut().enumerate() {
            *word &= other.words.get(index).copied().unwrap_or(0);
        }
    }

    /// Adds every slot of `other`.
    pub fn union_with(&mut self, other: &NodeBitset) {
        self.ensure_slots(other.words.len() * 64);
        for (index, word) in other.words.iter().enumerate() {
            self.words[index] |= word;
        }
    }

    /// Removes every slot of `other`.
    pub fn subtract(&mut self, other: &NodeBitset) {
        for (index, word) in self.words.iter_mut().enumerate() {
            *word &= !other.words.get(index).copied().unwrap_or(0);
        }
    }

    pub fn count(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    /// Iterates the slots in the set, ascending.
    pub fn iter_ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let mut bits = *word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(index * 64 + bit)
            })
        })
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }
}
