//! Wall-clock timestamps for object fields (event times, lease renewals,
//! condition transitions). Scheduling never reads them.

use api::k8s_openapi::jiff::Timestamp;

/// Now, as a Kubernetes timestamp.
pub(crate) fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or(0);
    i128::try_from(nanos)
        .ok()
        .and_then(|nanos| Timestamp::from_nanosecond(nanos).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}
