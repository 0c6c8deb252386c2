//! Wall-clock timestamps in the forms Kubernetes objects carry: `Time`
//! (seconds, status times) and `MicroTime` (microseconds, lease renewals).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use api::k8s_openapi::jiff::Timestamp;

/// `at` as a Kubernetes `Time` (whole seconds, as Kubernetes writes them).
pub(crate) fn time_at(at: SystemTime) -> Time {
    Time(timestamp(at, false))
}

/// `at` as a Kubernetes `MicroTime`.
pub(crate) fn micro_time_at(at: SystemTime) -> MicroTime {
    MicroTime(timestamp(at, true))
}

/// A Kubernetes `Time` as a `SystemTime` (the epoch for times before it).
pub(crate) fn system_time(time: &Time) -> SystemTime {
    let seconds = u64::try_from(time.0.as_second()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn timestamp(at: SystemTime, micros: bool) -> Timestamp {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    let nanos = if micros {
        i32::try_from(since_epoch.subsec_micros() * 1000).unwrap_or(0)
    } else {
        0
    };
    Timestamp::new(seconds, nanos).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_kubernetes() {
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        let time = serde_json::to_value(time_at(at)).unwrap();
        assert_eq!(time, "2023-11-14T22:13:20Z");
        let micro = serde_json::to_value(micro_time_at(at)).unwrap();
        assert_eq!(micro, "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            system_time(&time_at(at)),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
    }
}
