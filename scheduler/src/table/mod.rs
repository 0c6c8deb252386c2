//! The node table and its snapshots: chunked copy-on-write columns, interned
//! strings, label bitset indexes and pod classes.

pub mod bitset;
pub mod column;
pub mod intern;
pub mod mutate;
pub mod snapshot;
