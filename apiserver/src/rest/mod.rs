//! The REST face of the apiserver.

pub(crate) mod openapi;
