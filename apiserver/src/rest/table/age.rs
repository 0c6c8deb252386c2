//! Ages as kubectl shows them: Kubernetes' `duration.HumanDuration` (about
//! two significant figures: `45s`, `2m10s`, `3h`, `4d5h`, `2y100d`) and the
//! printers' "time since" of a timestamp field.

use api::k8s_openapi::jiff::Timestamp;
use serde_json::Value;

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_MINUTE: i128 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i128 = 60 * NANOS_PER_MINUTE;

/// `duration.HumanDuration` of a duration in nanoseconds. Up to a second in
/// the future counts as now (`0s`); further is `<invalid>`.
pub(crate) fn human_duration(duration_nanos: i128) -> String {
    let seconds = duration_nanos / NANOS_PER_SECOND;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = duration_nanos / NANOS_PER_MINUTE;
    if minutes < 10 {
        let rest_seconds = seconds % 60;
        if rest_seconds == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{rest_seconds}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = duration_nanos / NANOS_PER_HOUR;
    if hours < 8 {
        let rest_minutes = minutes % 60;
        if rest_minutes == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{rest_minutes}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let rest_hours = hours % 24;
        if rest_hours == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{rest_hours}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let rest_days = (hours / 24) % 365;
        if rest_days == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{rest_days}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// A timestamp field (RFC 3339 text); `None` when absent or unreadable.
pub(super) fn parse_time(value: &Value) -> Option<Timestamp> {
    value
        .as_str()
        .and_then(|text| text.parse::<Timestamp>().ok())
}

/// The printers' `translateTimestampSince`: the age of a timestamp field at
/// `now`, `<unknown>` when unset.
pub(super) fn since(value: &Value, now: Timestamp) -> String {
    match parse_time(value) {
        Some(time) => between(time, now),
        None => "<unknown>".to_string(),
    }
}

/// The human duration from `start` to `end`.
pub(super) fn between(start: Timestamp, end: Timestamp) -> String {
    human_duration(end.as_nanosecond() - start.as_nanosecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(seconds: i64, expected: &str) {
        let nanos = i128::from(seconds) * NANOS_PER_SECOND;
        assert_eq!(human_duration(nanos), expected, "{seconds}s");
    }

    #[test]
    fn durations_read_like_kubectl() {
        let minute = 60;
        let hour = 60 * minute;
        let day = 24 * hour;
        let year = 365 * day;
        check(-2, "<invalid>");
        check(-1, "0s");
        check(0, "0s");
        check(5, "5s");
        check(119, "119s");
        check(2 * minute, "2m");
        check(2 * minute + 10, "2m10s");
        check(9 * minute + 59, "9m59s");
        check(10 * minute + 30, "10m");
        check(179 * minute, "179m");
        check(3 * hour, "3h");
        check(3 * hour + 25 * minute, "3h25m");
        check(7 * hour + 59 * minute, "7h59m");
        check(8 * hour + 30 * minute, "8h");
        check(47 * hour, "47h");
        check(2 * day, "2d");
        check(4 * day + 5 * hour, "4d5h");
        check(7 * day + 23 * hour, "7d23h");
        check(8 * day + 5 * hour, "8d");
        check(729 * day, "729d");
        check(2 * year, "2y");
        check(2 * year + 100 * day, "2y100d");
        check(7 * year + 364 * day, "7y364d");
        check(8 * year + 100 * day, "8y");
        check(20 * year, "20y");
    }

    #[test]
    fn fractions_of_a_second_truncate() {
        assert_eq!(human_duration(1_500_000_000), "1s");
        assert_eq!(human_duration(-1_500_000_000), "0s");
        assert_eq!(human_duration(-2_500_000_000), "<invalid>");
    }

    #[test]
    fn timestamps_age_at_now() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().expect("time");
        assert_eq!(since(&Value::from("2024-05-01T11:59:30Z"), now), "30s");
        assert_eq!(since(&Value::from("2024-04-29T12:00:00Z"), now), "2d");
        assert_eq!(since(&Value::Null, now), "<unknown>");
        assert_eq!(since(&Value::from("yesterday"), now), "<unknown>");
    }
}
