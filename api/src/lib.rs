//! Skiff's object model: the Kubernetes kinds (from `k8s-openapi`, so JSON and
//! YAML round-trip field for field with `kubectl`), plus what that crate does
//! not carry: exact resource quantities, label and node selectors, validation
//! with Kubernetes field paths, and the defaults Kubernetes applies.
//!
//! **Invariant:** no I/O, no async runtime; every other crate may depend on
//! this one, so it stays light.

pub use k8s_openapi;

pub mod cron;
pub mod defaults;
pub mod duration;
pub mod field;
pub mod job;
pub mod kinds;
pub mod manifest;
pub mod quantity;
pub mod selector;
pub mod structural;
pub mod taints;
pub mod validation;

pub use field::{FieldError, FieldErrors, FieldPath};
pub use kinds::{ALL_KINDS, ApiObject, KindInfo, kind_by_api_version_kind, kind_by_plural};
