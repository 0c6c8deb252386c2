//! The CronJob controller's decisions (Kubernetes'
//! `pkg/controller/cronjob`, the v2 controller): at each scheduled time
//! (in the CronJob's `timeZone`) one Job named `<cronjob>-<minutes since
//! the epoch>` from the template, unless suspended, too late for
//! `startingDeadlineSeconds`, or forbidden by `concurrencyPolicy`
//! (`Forbid` skips while a Job runs, `Replace` deletes the running ones
//! first); finished Jobs beyond the history limits go, oldest first.

use std::collections::BTreeMap;
use std::time::Duration;

use api::cron::Schedule;
use api::k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use api::k8s_openapi::api::core::v1::ObjectReference;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use api::k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::owner::controller_reference;

/// The annotation with the time a Job was scheduled for.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Scheduled times looked at before giving up on counting the missed ones
/// from the last run (then only a recent window is looked at).
const MAX_MISSED: usize = 10_000;

/// Why a CronJob cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cronjob {0}: unparseable schedule or time zone: {1}")]
    Schedule(String, api::cron::CronError),
}

/// One sync's decisions.
#[derive(Debug, Default)]
pub struct Plan {
    /// The Job to create now.
    pub create: Option<Job>,
    /// Running Jobs to delete first (`Replace`).
    pub delete_active: Vec<String>,
    /// Finished Jobs beyond the history limits.
    pub delete_history: Vec<String>,
    /// The status to write (without the Job about to be created, which
    /// the caller adds once it exists).
    pub status: CronJobStatus,
    /// When to look again: the next scheduled time.
    pub requeue_after: Option<Duration>,
    /// Why a due time was skipped, for the log.
    pub skipped: Option<String>,
}

/// Whether `job` finished, and with success.
pub fn finished(job: &Job) -> Option<bool> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .filter(|condition| condition.status == "True")
        .find_map(|condition| match condition.type_.as_str() {
            "Complete" => Some(true),
            "Failed" => Some(false),
            _ => None,
        })
}

fn reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".to_string()),
        kind: Some("Job".to_string()),
        namespace: job.metadata.namespace.clone(),
        name: job.metadata.name.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// The name of the Job for the time `scheduled`.
pub fn job_name(cron_job: &str, scheduled: Timestamp) -> String {
    format!("{cron_job}-{}", scheduled.as_second().div_euclid(60))
}

/// The most recent scheduled time in (`earliest`, `now`], if any.
fn most_recent(schedule: &Schedule, earliest: Timestamp, now: Timestamp) -> Option<Timestamp> {
    match scan(schedule, earliest, now) {
        Ok(found) => found,
        // Too many missed times to count: the most recent one is in the
        // smallest recent window that holds a time.
        Err(()) => [1, 24, 24 * 7, 24 * 366].into_iter().find_map(|hours| {
            let window = now.saturating_sub(SignedDuration::from_hours(hours)).ok()?;
            scan(schedule, window.max(earliest), now).ok().flatten()
        }),
    }
}

/// The last scheduled time in (`from`, `now`], or `Err` when there are
/// more than [`MAX_MISSED`].
fn scan(schedule: &Schedule, from: Timestamp, now: Timestamp) -> Result<Option<Timestamp>, ()> {
    let (mut last, mut cursor) = (None, from);
    for _ in 0..MAX_MISSED {
        match schedule.next_after(cursor) {
            Some(next) if next <= now => {
                last = Some(next);
                cursor = next;
            }
            _ => return Ok(last),
        }
    }
    Err(())
}

fn started(job: &Job) -> Option<Timestamp> {
    job.status
        .as_ref()
        .and_then(|status| status.start_time.as_ref())
        .or(job.metadata.creation_timestamp.as_ref())
        .map(|time| time.0)
}

/// The finished Jobs beyond `limit`, oldest first.
fn beyond_limit(mut jobs: Vec<&Job>, limit: Option<i32>) -> Vec<String> {
    let limit = usize::try_from(limit.unwrap_or(i32::MAX).max(0)).unwrap_or(usize::MAX);
    if jobs.len() <= limit {
        return Vec::new();
    }
    jobs.sort_by_key(|job| (started(job), job.metadata.name.clone()));
    let excess = jobs.len() - limit;
    jobs.into_iter()
        .take(excess)
        .filter_map(|job| job.metadata.name.clone())
        .collect()
}

/// The Job the CronJob runs for the time `scheduled`.
fn new_job(cron_job: &CronJob, schedule: &Schedule, scheduled: Timestamp) -> Job {
    let name = cron_job.metadata.name.as_deref().unwrap_or("");
    let template = cron_job
        .spec
        .as_ref()
        .map(|spec| spec.job_template.clone())
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = template_meta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.to_string(),
        schedule.format(scheduled),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(name, scheduled)),
            namespace: cron_job.metadata.namespace.clone(),
            labels: template_meta.labels,
            annotations: Some(annotations),
            owner_references: controller_reference("batch/v1", "CronJob", &cron_job.metadata)
                .map(|reference| vec![reference]),
            ..ObjectMeta::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}

/// One sync of `cron_job` over the Jobs it controls, at `now`.
pub fn plan(cron_job: &CronJob, jobs: &[&Job], now: Timestamp) -> Result<Plan, Error> {
    let name = cron_job.metadata.name.clone().unwrap_or_default();
    let spec = cron_job.spec.clone().unwrap_or_default();
    let schedule = Schedule::parse(&spec.schedule, spec.time_zone.as_deref())
        .map_err(|error| Error::Schedule(name.clone(), error))?;
    let mut plan = Plan::default();
    let current = cron_job.status.clone().unwrap_or_default();

    let (mut active, mut succeeded, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for job in jobs {
        match finished(job) {
            None => active.push(*job),
            Some(true) => succeeded.push(*job),
            Some(false) => failed.push(*job),
        }
    }
    let last_success = succeeded
        .iter()
        .filter_map(|job| job.status.as_ref()?.completion_time.as_ref())
        .map(|time| time.0)
        .chain(current.last_successful_time.as_ref().map(|time| time.0))
        .max();
    plan.delete_history = beyond_limit(succeeded, spec.successful_jobs_history_limit);
    plan.delete_history
        .extend(beyond_limit(failed, spec.failed_jobs_history_limit));
    active.sort_by_key(|job| job.metadata.name.clone());
    plan.status = CronJobStatus {
        active: (!active.is_empty()).then(|| active.iter().map(|job| reference(job)).collect()),
        last_schedule_time: current.last_schedule_time.clone(),
        last_successful_time: last_success.map(Time),
    };
    plan.requeue_after = schedule
        .next_after(now)
        .and_then(|next| next.duration_since(now).try_into().ok());
    if spec.suspend.unwrap_or(false) {
        return Ok(plan);
    }

    let mut earliest = current
        .last_schedule_time
        .as_ref()
        .or(cron_job.metadata.creation_timestamp.as_ref())
        .map_or(now, |time| time.0);
    if let Some(deadline) = spec.starting_deadline_seconds
        && let Ok(window) = now.saturating_sub(SignedDuration::from_secs(deadline))
    {
        earliest = earliest.max(window);
    }
    let Some(scheduled) = most_recent(&schedule, earliest, now) else {
        return Ok(plan);
    };
    let job_name = job_name(&name, scheduled);
    if jobs
        .iter()
        .any(|job| job.metadata.name.as_deref() == Some(job_name.as_str()))
    {
        // Created already (the status write after it was lost).
        plan.status.last_schedule_time = Some(Time(scheduled));
        return Ok(plan);
    }
    match spec.concurrency_policy.as_deref().unwrap_or("Allow") {
        "Forbid" if !active.is_empty() => {
            plan.skipped = Some(format!(
                "the time {scheduled} is skipped: concurrencyPolicy Forbid and {} Job(s) still run",
                active.len()
            ));
            return Ok(plan);
        }
        "Replace" => {
            plan.delete_active = active
                .iter()
                .filter_map(|job| job.metadata.name.clone())
                .collect();
            plan.status.active = None;
        }
        _ => {}
    }
    plan.create = Some(new_job(cron_job, &schedule, scheduled));
    plan.status.last_schedule_time = Some(Time(scheduled));
    Ok(plan)
}

/// `status` with the Job just created among the active ones.
pub fn with_active(mut status: CronJobStatus, job: &Job) -> CronJobStatus {
    let active = status.active.get_or_insert_with(Vec::new);
    if !active.iter().any(|r| r.uid == job.metadata.uid) {
        active.push(reference(job));
        active.sort_by(|a, b| a.name.cmp(&b.name));
    }
    status
}

#[cfg(test)]
mod tests;
