use super::*;
use serde_json::{Value, json};

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

fn cron_job(spec: Value, status: Value) -> CronJob {
    let mut full = json!({
        "schedule": "*/5 * * * *",
        "jobTemplate": {
            "metadata": {"labels": {"app": "report"}},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}
        }
    });
    if let (Some(full), Some(extra)) = (full.as_object_mut(), spec.as_object()) {
        full.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": "report", "namespace": "default", "uid": "cj-uid",
                     "creationTimestamp": "2026-03-01T10:00:00Z"},
        "spec": full,
        "status": status
    }))
    .expect("a cronjob")
}

fn job(name: &str, state: Option<bool>, started: &str) -> Job {
    let conditions = match state {
        None => json!([]),
        Some(true) => json!([{"type": "Complete", "status": "True"}]),
        Some(false) => json!([{"type": "Failed", "status": "True"}]),
    };
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "status": {"startTime": started, "conditions": conditions,
                   "completionTime": if state == Some(true) { json!(started) } else { Value::Null }}
    }))
    .expect("a job")
}

#[test]
fn a_due_time_creates_its_job_and_the_next_is_awaited() {
    let plan = super::plan(
        &cron_job(json!({}), json!({})),
        &[],
        at("2026-03-01T10:07:30Z"),
    )
    .unwrap();
    let created = plan.create.expect("a job");
    // 10:05 is the most recent time since creation.
    let minutes = at("2026-03-01T10:05:00Z").as_second() / 60;
    assert_eq!(created.metadata.name, Some(format!("report-{minutes}")));
    assert_eq!(
        created
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SCHEDULED_TIMESTAMP_ANNOTATION))
            .map(String::as_str),
        Some("2026-03-01T10:05:00Z")
    );
    assert_eq!(
        created
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("app"))
            .map(String::as_str),
        Some("report")
    );
    let owner = &created.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("CronJob", Some(true))
    );
    assert_eq!(
        plan.status.last_schedule_time,
        Some(Time(at("2026-03-01T10:05:00Z")))
    );
    // The next time, 10:10, is 2.5 minutes away.
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(150)));

    // Once it ran for 10:05, nothing until 10:10.
    let ran = cron_job(
        json!({}),
        json!({"lastScheduleTime": "2026-03-01T10:05:00Z"}),
    );
    assert!(plan_at(&ran, &[], "2026-03-01T10:09:59Z").create.is_none());
    assert!(plan_at(&ran, &[], "2026-03-01T10:10:00Z").create.is_some());
}

fn plan_at(cron_job: &CronJob, jobs: &[&Job], now: &str) -> Plan {
    plan(cron_job, jobs, at(now)).expect("a plan")
}

#[test]
fn suspended_late_or_existing_runs_are_not_created() {
    let suspended = cron_job(json!({"suspend": true}), json!({}));
    assert!(
        plan_at(&suspended, &[], "2026-03-01T10:07:00Z")
            .create
            .is_none()
    );
    // Two minutes late with a deadline of 60 s: missed.
    let strict = cron_job(
        json!({"startingDeadlineSeconds": 60}),
        json!({"lastScheduleTime": "2026-03-01T10:00:00Z"}),
    );
    assert!(
        plan_at(&strict, &[], "2026-03-01T10:07:00Z")
            .create
            .is_none()
    );
    assert!(
        plan_at(&strict, &[], "2026-03-01T10:05:30Z")
            .create
            .is_some()
    );
    // The Job for the time exists (a lost status write): no second one.
    let minutes = at("2026-03-01T10:05:00Z").as_second() / 60;
    let existing = job(&format!("report-{minutes}"), None, "2026-03-01T10:05:01Z");
    let plan = plan_at(
        &cron_job(json!({}), json!({})),
        &[&existing],
        "2026-03-01T10:07:00Z",
    );
    assert!(plan.create.is_none());
    assert_eq!(
        plan.status.last_schedule_time,
        Some(Time(at("2026-03-01T10:05:00Z")))
    );
}

#[test]
fn concurrency_policies_forbid_replace_or_allow() {
    let running = job("report-1", None, "2026-03-01T10:00:01Z");
    let status = json!({"lastScheduleTime": "2026-03-01T10:00:00Z"});
    let forbid = cron_job(json!({"concurrencyPolicy": "Forbid"}), status.clone());
    let plan = plan_at(&forbid, &[&running], "2026-03-01T10:05:00Z");
    assert!(plan.create.is_none() && plan.skipped.is_some());
    assert_eq!(plan.status.active.as_ref().map(Vec::len), Some(1));
    let replace = cron_job(json!({"concurrencyPolicy": "Replace"}), status.clone());
    let plan = plan_at(&replace, &[&running], "2026-03-01T10:05:00Z");
    assert_eq!(plan.delete_active, ["report-1"]);
    assert!(plan.create.is_some());
    let allow = cron_job(json!({}), status);
    let plan = plan_at(&allow, &[&running], "2026-03-01T10:05:00Z");
    assert!(plan.delete_active.is_empty() && plan.create.is_some());
}

#[test]
fn history_keeps_the_newest_finished_jobs() {
    let jobs = [
        job("ok-1", Some(true), "2026-03-01T09:00:00Z"),
        job("ok-2", Some(true), "2026-03-01T09:05:00Z"),
        job("ok-3", Some(true), "2026-03-01T09:10:00Z"),
        job("ok-4", Some(true), "2026-03-01T09:15:00Z"),
        job("bad-1", Some(false), "2026-03-01T09:02:00Z"),
        job("bad-2", Some(false), "2026-03-01T09:07:00Z"),
    ];
    let refs: Vec<&Job> = jobs.iter().collect();
    let defaults = cron_job(
        json!({"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1, "suspend": true}),
        json!({}),
    );
    let plan = plan_at(&defaults, &refs, "2026-03-01T10:00:00Z");
    assert_eq!(plan.delete_history, ["ok-1", "bad-1"]);
    assert_eq!(
        plan.status.last_successful_time,
        Some(Time(at("2026-03-01T09:15:00Z")))
    );
    assert!(plan.status.active.is_none());
}

#[test]
fn a_schedule_in_a_time_zone_and_long_gaps() {
    // 09:00 in Tokyo is 00:00 UTC.
    let tokyo = cron_job(
        json!({"schedule": "0 9 * * *", "timeZone": "Asia/Tokyo"}),
        json!({}),
    );
    let plan = plan_at(&tokyo, &[], "2026-03-02T00:00:30Z");
    assert_eq!(
        plan.status.last_schedule_time,
        Some(Time(at("2026-03-02T00:00:00Z")))
    );
    let created = plan.create.expect("a job");
    assert_eq!(
        created
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SCHEDULED_TIMESTAMP_ANNOTATION))
            .map(String::as_str),
        Some("2026-03-02T09:00:00+09:00")
    );
    // Months of missed minutes: only the most recent runs.
    let every_minute = cron_job(json!({"schedule": "* * * * *"}), json!({}));
    let plan = plan_at(&every_minute, &[], "2026-06-01T00:00:30Z");
    assert_eq!(
        plan.status.last_schedule_time,
        Some(Time(at("2026-06-01T00:00:00Z")))
    );
    // A bad schedule is an error naming the CronJob.
    let broken = cron_job(json!({"schedule": "every day"}), json!({}));
    assert!(
        matches!(super::plan(&broken, &[], at("2026-03-01T10:00:00Z")), Err(Error::Schedule(name, _)) if name == "report")
    );
}
