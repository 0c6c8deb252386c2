//! The OpenAPI v2 and v3 documents the REST face serves.
