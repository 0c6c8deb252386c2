//! The REST face's pure parts: what each resource looks like to REST clients
//! (`resources`), the discovery documents built from it (`discovery`), how
//! an `Accept` header picks a representation (`accept`), the metadata-only
//! representations (`metadata`), and server-side printing of objects as
//! `meta.k8s.io/v1` Tables (`table`).
//!
//! **Invariant:** nothing here does I/O or reads the clock; the HTTP server
//! passes in what it knows (extra resources, the server address, `now`).

pub(crate) mod accept;
pub(crate) mod discovery;
pub(crate) mod metadata;
pub(crate) mod resources;
pub(crate) mod table;
