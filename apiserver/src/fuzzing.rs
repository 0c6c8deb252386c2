//! The entry point for fuzzing what the REST face decodes from untrusted
//! request bytes, public so the cargo-fuzz target in `fuzz/` (outside the
//! workspace) and the corpus replay test can reach decoders that are
//! otherwise private to the crate.

/// Feeds `data` to every REST request decoder: the bytes up to the first
/// newline are the request path, those up to the second the query string,
/// the rest the body, which is decoded as JSON, YAML and Kubernetes
/// protobuf, and applied as a JSON patch, a merge patch, a strategic merge
/// patch and a server-side apply to a stored Pod and Deployment.
///
/// Returns nothing: every input must be answered with a value or an
/// error, so the only failure is a panic (or a stack or memory blowup),
/// which is a bug.
pub fn decode_request(data: &[u8]) {
    crate::rest::fuzzing::decode_request(data);
}
