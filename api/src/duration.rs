//! Durations as Kubernetes writes them (`15s`, `500ms`, `1m30s`, `2h`: Go's
//! `time.Duration` text, as in `metav1.Duration`), for flags and config files
//! of every component.

use std::time::Duration;

/// Failure to read a duration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid duration {text:?}: expected a number with a unit (ms, s, m, h), e.g. 15s or 500ms"
)]
pub struct DurationParseError {
    pub text: String,
}

/// Parses `<number><unit>` groups (`1m30s`, `1.5s`, `250ms`); a bare `0` is
/// zero.
pub fn parse_duration(text: &str) -> Result<Duration, DurationParseError> {
    let error = || DurationParseError {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.is_empty() {
        return Err(error());
    }
    let mut total_nanos: f64 = 0.0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        if number_end == 0 {
            return Err(error());
        }
        let number: f64 = rest[..number_end].parse().map_err(|_| error())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(error()),
        };
        rest = &rest[unit_end..];
        total_nanos += number * unit_nanos;
    }
    if !total_nanos.is_finite() || total_nanos > u64::MAX as f64 {
        return Err(error());
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

/// Formats a duration the way `parse_duration` reads it.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_millis: Option<u64>) {
        assert_eq!(
            parse_duration(text).ok().map(|d| d.as_millis() as u64),
            expected_millis,
            "{text}"
        );
    }

    #[test]
    fn reads_kubernetes_durations() {
        check("15s", Some(15_000));
        check("500ms", Some(500));
        check("1m30s", Some(90_000));
        check("1.5s", Some(1500));
        check("2h", Some(7_200_000));
        check("0", Some(0));
        check("", None);
        check("15", None);
        check("s", None);
        check("10 days", None);
        check("-1s", None);
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_duration(Duration::from_secs(15)), "15s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
    }
}
