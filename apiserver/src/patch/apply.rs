//! Server-side apply (placeholder while it is written).
