//! Chunked copy-on-write columns of the node table.
//!
//! A column stores one value per node slot in chunks of `CHUNK_NODES`. Cloning
//! a column clones only the chunk pointers; writing to a slot copies its chunk
//! if a published snapshot still shares it. So publishing a snapshot is cheap
//! and a write costs at most one chunk copy.

use std::sync::Arc;

/// Node slots per copy-on-write chunk.
pub const CHUNK_NODES: usize = 256;

/// One value per node slot, chunked and copy-on-write.
#[derive(Clone, Debug)]
pub struct Column<T: Clone> {
    chunks: Vec<Arc<[T; CHUNK_NODES]>>,
    fill: T,
}

impl<T: Clone> Column<T> {
    /// An empty column whose new slots hold `fill`.
    pub fn new(fill: T) -> Self {
        Column {
            chunks: Vec::new(),
            fill,
        }
    }

    /// Grows the column to hold at least `slot_count` slots.
    pub fn ensure_slots(&mut self, slot_count: usize) {
        while self.chunks.len() * CHUNK_NODES < slot_count {
            let fill = &self.fill;
            self.chunks
                .push(Arc::new(std::array::from_fn(|_| fill.clone())));
        }
    }

    /// The value at `slot`; slots past the end read as the fill value.
    #[inline]
    pub fn get(&self, slot: usize) -> &T {
        match self.chunks.get(slot / CHUNK_NODES) {
            Some(chunk) => &chunk[slot % CHUNK_NODES],
            None => &self.fill,
        }
    }

    /// A mutable reference to `slot`, copying its chunk if it is shared.
    pub fn get_mut(&mut self, slot: usize) -> &mut T {
        self.ensure_slots(slot + 1);
        let chunk = Arc::make_mut(&mut self.chunks[slot / CHUNK_NODES]);
        &mut chunk[slot % CHUNK_NODES]
    }

    /// Sets the value at `slot`.
    pub fn set(&mut self, slot: usize, value: T) {
        *self.get_mut(slot) = value;
    }

    /// The chunk holding `slot` as a slice, for tight loops over a range.
    #[inline]
    pub fn chunk_of(&self, slot: usize) -> Option<&[T]> {
        self.chunks
            .get(slot / CHUNK_NODES)
            .map(|chunk| chunk.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_until_written() {
        let mut column = Column::new(0i64);
        column.set(5, 7);
        let published = column.clone();
        column.set(5, 9);
        column.set(CHUNK_NODES + 1, 3);
        assert_eq!(*published.get(5), 7);
        assert_eq!(*published.get(CHUNK_NODES + 1), 0);
        assert_eq!(*column.get(5), 9);
        assert_eq!(*column.get(CHUNK_NODES + 1), 3);
    }
}
