//! Wall-clock timestamps for object fields (lease renewals, condition
//! transitions, event times). Decisions about time spans use monotonic
//! `Instant`s; these are only written.

use api::k8s_openapi::jiff::Timestamp;

/// Now, as a Kubernetes timestamp.
pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or(0);
    i128::try_from(nanos)
        .ok()
        .and_then(|nanos| Timestamp::from_nanosecond(nanos).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}
