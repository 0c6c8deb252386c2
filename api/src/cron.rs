//! CronJob schedules: the five-field cron syntax Kubernetes accepts
//! (robfig/cron's standard parser: minute hour day-of-month month
//! day-of-week, names, ranges, steps, `?`, and the `@yearly` … `@hourly`
//! macros), evaluated in a CronJob's `timeZone` (UTC when unset).
//!
//! Parsing is croner's; matching runs on civil (wall-clock) time, which
//! jiff maps to instants in the zone, so a DST gap skips a time that does
//! not exist and a fold runs once.

use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// A parsed schedule and its zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: croner::Cron,
    zone: TimeZone,
}

/// Why a schedule or zone was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("{0}")]
    Schedule(String),
    #[error("unknown time zone {0}")]
    TimeZone(String),
}

/// The macros robfig/cron expands, as five-field schedules.
fn expand(schedule: &str) -> &str {
    match schedule {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    }
}

impl Schedule {
    /// Parses `schedule` for the zone `time_zone` (an IANA name; `None` is
    /// UTC, as for a CronJob without `timeZone`).
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, CronError> {
        let schedule = schedule.trim();
        if schedule.starts_with("TZ=") || schedule.starts_with("CRON_TZ=") {
            return Err(CronError::Schedule(
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead".to_string(),
            ));
        }
        let expanded = expand(schedule);
        if expanded.split_whitespace().count() != 5 {
            return Err(CronError::Schedule(format!(
                "expected exactly 5 fields, found {}: [{expanded}]",
                expanded.split_whitespace().count()
            )));
        }
        let cron = croner::Cron::from_str(expanded)
            .map_err(|error| CronError::Schedule(error.to_string()))?;
        let zone = match time_zone {
            None | Some("") => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|_| CronError::TimeZone(name.to_string()))?,
        };
        Ok(Schedule { cron, zone })
    }

    /// `time` in RFC 3339 in the schedule's zone (`Z` for UTC), as
    /// Kubernetes writes a Job's scheduled timestamp.
    pub fn format(&self, time: Timestamp) -> String {
        if self.zone == TimeZone::UTC {
            return time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        }
        time.to_zoned(self.zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// The first scheduled instant strictly after `after`; `None` when the
    /// schedule never fires again (e.g. February 30th).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let mut local = after.to_zoned(self.zone.clone()).datetime();
        // Wall times repeat in a fold, and a gap has none: look a little
        // further until an instant after `after` comes out.
        for _ in 0..4 {
            let next = self
                .cron
                .find_next_occurrence(&as_chrono(local)?, false)
                .ok()?;
            local = from_chrono(next)?;
            let instant = self
                .zone
                .to_ambiguous_zoned(local)
                .compatible()
                .ok()?
                .timestamp();
            if instant > after {
                return Some(instant);
            }
        }
        None
    }
}

/// A civil time as a chrono UTC time with the same fields, which is how
/// croner is asked about wall clocks.
fn as_chrono(local: civil::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone as _;
    chrono::Utc
        .with_ymd_and_hms(
            i32::from(local.year()),
            u32::try_from(local.month()).ok()?,
            u32::try_from(local.day()).ok()?,
            u32::try_from(local.hour()).ok()?,
            u32::try_from(local.minute()).ok()?,
            u32::try_from(local.second()).ok()?,
        )
        .single()
}

fn from_chrono(time: chrono::DateTime<chrono::Utc>) -> Option<civil::DateTime> {
    use chrono::{Datelike, Timelike};
    civil::DateTime::new(
        i16::try_from(time.year()).ok()?,
        i8::try_from(time.month()).ok()?,
        i8::try_from(time.day()).ok()?,
        i8::try_from(time.hour()).ok()?,
        i8::try_from(time.minute()).ok()?,
        i8::try_from(time.second()).ok()?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    fn next(schedule: &str, zone: Option<&str>, after: &str) -> Option<Timestamp> {
        Schedule::parse(schedule, zone)
            .expect("parses")
            .next_after(at(after))
    }

    #[test]
    fn schedules_fire_as_cron_says() {
        assert_eq!(
            next("*/15 * * * *", None, "2026-03-01T10:07:00Z"),
            Some(at("2026-03-01T10:15:00Z"))
        );
        // Strictly after.
        assert_eq!(
            next("*/15 * * * *", None, "2026-03-01T10:15:00Z"),
            Some(at("2026-03-01T10:30:00Z"))
        );
        assert_eq!(
            next("@daily", None, "2026-03-01T10:07:00Z"),
            Some(at("2026-03-02T00:00:00Z"))
        );
        assert_eq!(
            next("0 9 * * MON-FRI", None, "2026-03-06T10:00:00Z"),
            Some(at("2026-03-09T09:00:00Z"))
        );
        assert_eq!(
            next("30 2 1 jan *", None, "2026-03-01T00:00:00Z"),
            Some(at("2027-01-01T02:30:00Z"))
        );
    }

    #[test]
    fn a_time_zone_moves_the_instants() {
        // 09:00 in New York is 14:00 UTC in winter, 13:00 in summer.
        assert_eq!(
            next(
                "0 9 * * *",
                Some("America/New_York"),
                "2026-01-10T12:00:00Z"
            ),
            Some(at("2026-01-10T14:00:00Z"))
        );
        assert_eq!(
            next(
                "0 9 * * *",
                Some("America/New_York"),
                "2026-07-10T12:00:00Z"
            ),
            Some(at("2026-07-10T13:00:00Z"))
        );
        let new_york = Schedule::parse("0 9 * * *", Some("America/New_York")).unwrap();
        assert_eq!(
            new_york.format(at("2026-07-10T13:00:00Z")),
            "2026-07-10T09:00:00-04:00"
        );
        let utc = Schedule::parse("0 9 * * *", None).unwrap();
        assert_eq!(
            utc.format(at("2026-07-10T13:00:00Z")),
            "2026-07-10T13:00:00Z"
        );
        // 02:30 does not exist on 2026-03-08 there: the compatible time
        // (03:30 EDT) runs instead.
        assert_eq!(
            next(
                "30 2 * * *",
                Some("America/New_York"),
                "2026-03-08T05:00:00Z"
            ),
            Some(at("2026-03-08T07:30:00Z"))
        );
    }

    #[test]
    fn bad_schedules_and_zones_say_why() {
        assert!(matches!(
            Schedule::parse("* * *", None),
            Err(CronError::Schedule(message)) if message.contains("5 fields")
        ));
        assert!(Schedule::parse("61 * * * *", None).is_err());
        assert!(matches!(
            Schedule::parse("TZ=UTC * * * * *", None),
            Err(CronError::Schedule(message)) if message.contains("timeZone")
        ));
        assert_eq!(
            Schedule::parse("* * * * *", Some("Mars/Olympus")).err(),
            Some(CronError::TimeZone("Mars/Olympus".to_string()))
        );
    }
}
