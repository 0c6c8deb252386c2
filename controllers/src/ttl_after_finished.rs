//! The TTL-after-finished controller's decision, as Kubernetes'
//! `ttlafterfinished.Controller`: a finished Job with
//! `ttlSecondsAfterFinished` is deleted that long after it finished (its
//! `Complete` or `Failed` condition's transition), so finished Jobs and
//! their pods do not pile up.

use std::time::Duration;

use api::k8s_openapi::api::batch::v1::Job;
use api::k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::job::{COMPLETE, FAILED, true_condition};

/// What to do with a Job now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// No TTL, not finished, or already being deleted.
    Keep,
    /// Its TTL has expired: delete it.
    Expired,
    /// Look again when the TTL expires.
    After(Duration),
}

/// When the Job finished, if it did.
pub fn finished_at(job: &Job) -> Option<Timestamp> {
    let status = job.status.as_ref()?;
    true_condition(status, COMPLETE)
        .or_else(|| true_condition(status, FAILED))?
        .last_transition_time
        .as_ref()
        .map(|time| time.0)
}

/// Whether `job` is to be deleted at `now`.
pub fn decide(job: &Job, now: Timestamp) -> Ttl {
    let Some(ttl) = job
        .spec
        .as_ref()
        .and_then(|spec| spec.ttl_seconds_after_finished)
    else {
        return Ttl::Keep;
    };
    if job.metadata.deletion_timestamp.is_some() {
        return Ttl::Keep;
    }
    let Some(finished) = finished_at(job) else {
        return Ttl::Keep;
    };
    let Ok(expires) = finished.saturating_add(SignedDuration::from_secs(i64::from(ttl))) else {
        return Ttl::Keep;
    };
    match Duration::try_from(expires.duration_since(now)) {
        Ok(left) if !left.is_zero() => Ttl::After(left),
        _ => Ttl::Expired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
    use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn job(ttl: Option<i32>, finished: Option<(&str, i64)>) -> Job {
        Job {
            spec: Some(JobSpec {
                ttl_seconds_after_finished: ttl,
                ..JobSpec::default()
            }),
            status: finished.map(|(type_, second)| JobStatus {
                conditions: Some(vec![JobCondition {
                    type_: type_.to_string(),
                    status: "True".to_string(),
                    last_transition_time: Some(Time(at(second))),
                    ..JobCondition::default()
                }]),
                ..JobStatus::default()
            }),
            ..Job::default()
        }
    }

    #[test]
    fn a_finished_job_goes_when_its_ttl_expires() {
        let done = job(Some(100), Some((COMPLETE, 1_000)));
        assert_eq!(
            decide(&done, at(1_040)),
            Ttl::After(Duration::from_secs(60))
        );
        assert_eq!(decide(&done, at(1_100)), Ttl::Expired);
        let failed = job(Some(0), Some((FAILED, 1_000)));
        assert_eq!(decide(&failed, at(1_000)), Ttl::Expired);
    }

    #[test]
    fn without_a_ttl_or_a_finish_a_job_stays() {
        assert_eq!(decide(&job(None, Some((COMPLETE, 1))), at(10)), Ttl::Keep);
        assert_eq!(decide(&job(Some(1), None), at(10)), Ttl::Keep);
        assert_eq!(
            decide(&job(Some(1), Some(("Suspended", 1))), at(10)),
            Ttl::Keep
        );
        let mut deleting = job(Some(1), Some((COMPLETE, 1)));
        deleting.metadata.deletion_timestamp = Some(Time(at(5)));
        assert_eq!(decide(&deleting, at(10)), Ttl::Keep);
    }
}
