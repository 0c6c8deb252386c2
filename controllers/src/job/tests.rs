use std::collections::BTreeMap;

use api::k8s_openapi::api::batch::v1::{
    PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
};
use api::k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateTerminated, PodCondition, PodSpec, PodStatus, PodTemplateSpec,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference,
};

use super::*;

const NOW: i64 = 1_800_000_000;

fn at(seconds_ago: i64) -> Timestamp {
    Timestamp::from_second(NOW - seconds_ago).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn labels() -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([(
        api::job::CONTROLLER_UID_LABEL.to_string(),
        "job-uid".to_string(),
    )]))
}

fn job(completions: Option<i32>, parallelism: i32) -> Job {
    Job {
        metadata: ObjectMeta {
            name: Some("pi".into()),
            namespace: Some("batch".into()),
            uid: Some("job-uid".into()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            completions,
            parallelism: Some(parallelism),
            backoff_limit: Some(6),
            completion_mode: Some("NonIndexed".into()),
            suspend: Some(false),
            selector: Some(LabelSelector {
                match_labels: labels(),
                match_expressions: None,
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: labels(),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![Container {
                        name: "pi".into(),
                        image: Some("perl".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

fn indexed(completions: i32, parallelism: i32) -> Job {
    let mut job = job(Some(completions), parallelism);
    if let Some(spec) = job.spec.as_mut() {
        spec.completion_mode = Some("Indexed".into());
    }
    job
}

fn spec_mut(job: &mut Job) -> &mut JobSpec {
    job.spec.get_or_insert_default()
}

/// A pod of the Job in `phase`, holding the tracking finalizer when
/// `tracked`, its containers exited with `exit_code` when finished.
fn pod(name: &str, phase: &str, tracked: bool) -> Pod {
    let finished = matches!(phase, "Succeeded" | "Failed");
    let exit_code = if phase == "Failed" { 1 } else { 0 };
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("batch".into()),
            uid: Some(format!("uid-{name}")),
            labels: labels(),
            creation_timestamp: Some(Time(at(1_000))),
            finalizers: tracked.then(|| vec![TRACKING_FINALIZER.to_string()]),
            owner_references: Some(vec![OwnerReference {
                api_version: API_VERSION.into(),
                kind: KIND.into(),
                name: "pi".into(),
                uid: "job-uid".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.into()),
            conditions: (phase == "Running").then(|| {
                vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(at(500))),
                    ..PodCondition::default()
                }]
            }),
            container_statuses: finished.then(|| {
                vec![ContainerStatus {
                    name: "pi".into(),
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code,
                            finished_at: Some(Time(at(100))),
                            ..ContainerStateTerminated::default()
                        }),
                        ..ContainerState::default()
                    }),
                    ..ContainerStatus::default()
                }]
            }),
            ..PodStatus::default()
        }),
    }
}

fn with_index(mut pod: Pod, index: i32) -> Pod {
    pod.metadata
        .annotations
        .get_or_insert_default()
        .insert(COMPLETION_INDEX_ANNOTATION.into(), index.to_string());
    pod
}

fn finished_at_ago(mut pod: Pod, seconds_ago: i64) -> Pod {
    for status in pod
        .status
        .iter_mut()
        .flat_map(|status| status.container_statuses.iter_mut().flatten())
    {
        if let Some(terminated) = status.state.as_mut().and_then(|s| s.terminated.as_mut()) {
            terminated.finished_at = Some(Time(at(seconds_ago)));
        }
    }
    pod
}

fn exit_code(mut pod: Pod, code: i32) -> Pod {
    for status in pod
        .status
        .iter_mut()
        .flat_map(|status| status.container_statuses.iter_mut().flatten())
    {
        if let Some(terminated) = status.state.as_mut().and_then(|s| s.terminated.as_mut()) {
            terminated.exit_code = code;
        }
    }
    pod
}

fn settings() -> Settings {
    Settings {
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(360),
    }
}

fn plan_for<'a>(job: &Job, pods: &'a [Pod]) -> Plan<'a> {
    plan_with(job, pods, &HashSet::new())
}

fn plan_with<'a>(job: &Job, pods: &'a [Pod], removing: &HashSet<String>) -> Plan<'a> {
    match plan(job, pods, true, removing, &settings(), at(0)) {
        Ok(plan) => plan,
        Err(error) => panic!("{error}"),
    }
}

fn names(pods: &[&Pod]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|pod| pod.metadata.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

fn uids(list: &Option<Vec<String>>) -> Vec<String> {
    list.clone().unwrap_or_default()
}

/// The status after the plan's finalizers are all removed.
fn flushed(plan: &Plan<'_>) -> JobStatus {
    flush(
        plan.status.clone(),
        &plan.keeping_finalizer,
        plan.finished.as_ref(),
    )
}

fn condition<'s>(status: &'s JobStatus, type_: &str) -> Option<&'s JobCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|condition| condition.type_ == type_)
}

fn reason(status: &JobStatus, type_: &str) -> Option<String> {
    true_condition(status, type_).and_then(|condition| condition.reason.clone())
}

#[test]
fn a_new_job_starts_parallelism_pods_that_hold_the_finalizer() {
    let job = job(Some(3), 2);
    let plan = plan_for(&job, &[]);
    assert_eq!(plan.create.len(), 2);
    let pod = &plan.create[0];
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("pi-"));
    assert_eq!(
        pod.metadata.finalizers,
        Some(vec![TRACKING_FINALIZER.to_string()])
    );
    let owner = controller_of(&pod.metadata).cloned().unwrap_or_default();
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.api_version.as_str(),
            owner.uid.as_str()
        ),
        (KIND, API_VERSION, "job-uid")
    );
    assert_eq!(pod.metadata.labels, labels());
    assert_eq!(plan.status.active, Some(2));
    assert_eq!(plan.status.ready, Some(0));
    assert_eq!(plan.status.terminating, Some(0));
    assert_eq!(plan.status.start_time, Some(Time(at(0))));
    assert_eq!(
        plan.status.uncounted_terminated_pods,
        Some(UncountedTerminatedPods::default())
    );
    assert!(plan.finished.is_none() && plan.status.conditions.is_none());
    // Not while its own creates are unobserved.
    let waiting = super::plan(&job, &[], false, &HashSet::new(), &settings(), at(0));
    assert!(waiting.is_ok_and(|plan| plan.create.is_empty()));
}

#[test]
fn a_finished_pod_is_recorded_then_counted_once_its_finalizer_is_gone() {
    let job = job(Some(3), 2);
    let pods = [pod("a", "Succeeded", true), pod("b", "Running", true)];
    let plan = plan_for(&job, &pods);
    // Recorded first; its finalizer goes after that write.
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.succeeded), ["uid-a"]);
    assert_eq!(plan.status.succeeded, None);
    assert_eq!(names(&plan.remove_finalizers), ["a"]);
    assert_eq!(plan.keeping_finalizer, HashSet::from(["uid-b".to_string()]));
    // One more pod: two are missing, one runs.
    assert_eq!(plan.create.len(), 1);
    assert_eq!(plan.status.active, Some(2));
    assert_eq!(plan.status.ready, Some(1));
    let status = flushed(&plan);
    assert_eq!(status.succeeded, Some(1));
    assert_eq!(
        status.uncounted_terminated_pods,
        Some(UncountedTerminatedPods::default())
    );

    // A removal that failed leaves the pod uncounted.
    let kept = HashSet::from(["uid-a".to_string(), "uid-b".to_string()]);
    let status = flush(plan.status.clone(), &kept, None);
    assert_eq!(status.succeeded, None);

    // The next sync, with the cache still showing the finalizer, does
    // not record it again: it is in the status, or known removed.
    let mut recorded = job.clone();
    recorded.status = Some(plan.status.clone());
    let again = plan_for(&recorded, &pods);
    let uncounted = again
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.succeeded), ["uid-a"]);
    assert_eq!(names(&again.remove_finalizers), ["a"]);
    let mut counted = job.clone();
    counted.status = Some(status_with_succeeded(1));
    let removing = HashSet::from(["uid-a".to_string()]);
    let after = plan_with(&counted, &pods, &removing);
    assert_eq!(after.status.succeeded, Some(1));
    assert!(after.remove_finalizers.is_empty());
    // Gone from the cache while recorded: counted.
    let gone = plan_for(&recorded, &pods[1..]);
    assert_eq!(gone.status.succeeded, Some(1));
}

fn status_with_succeeded(succeeded: i32) -> JobStatus {
    JobStatus {
        succeeded: Some(succeeded),
        start_time: Some(Time(at(900))),
        uncounted_terminated_pods: Some(UncountedTerminatedPods::default()),
        ..JobStatus::default()
    }
}

#[test]
fn parallelism_is_capped_by_the_completions_still_missing() {
    let mut job = job(Some(3), 5);
    assert_eq!(plan_for(&job, &[]).create.len(), 3);
    job.status = Some(status_with_succeeded(2));
    assert_eq!(plan_for(&job, &[]).create.len(), 1);
    // Surplus pods go, uncounted (their finalizer first).
    let pods = [pod("a", "Running", true), pod("b", "Pending", true)];
    let plan = plan_for(&job, &pods);
    assert_eq!(names(&plan.delete), ["b"]);
    assert_eq!(plan.removal, Removal::Uncounted);
    assert_eq!(plan.status.active, Some(1));
    assert_eq!(plan.status.terminating, Some(1));
    // Parallelism 0 runs nothing.
    let paused = self::job(Some(3), 0);
    assert!(plan_for(&paused, &[]).create.is_empty());
}

#[test]
fn completions_reached_meet_the_success_criteria_then_complete() {
    let mut job = job(Some(3), 2);
    job.status = Some(status_with_succeeded(2));
    let pods = [pod("c", "Succeeded", true)];
    let plan = plan_for(&job, &pods);
    assert!(plan.create.is_empty());
    assert_eq!(
        reason(&plan.status, SUCCESS_CRITERIA_MET).as_deref(),
        Some(COMPLETIONS_REACHED)
    );
    assert!(condition(&plan.status, COMPLETE).is_none());
    let status = flushed(&plan);
    assert_eq!(status.succeeded, Some(3));
    assert_eq!(
        reason(&status, COMPLETE).as_deref(),
        Some(COMPLETIONS_REACHED)
    );
    assert_eq!(status.completion_time, Some(Time(at(0))));
    let types: Vec<&str> = status
        .conditions
        .iter()
        .flatten()
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(types, [SUCCESS_CRITERIA_MET, COMPLETE]);

    // Complete, it lets go of whatever still holds the finalizer.
    let mut done = job.clone();
    done.status = Some(status);
    let leftover = [pod("d", "Succeeded", true)];
    let plan = plan_for(&done, &leftover);
    assert_eq!(names(&plan.remove_finalizers), ["d"]);
    assert!(plan.create.is_empty() && plan.finished.is_none());
    assert_eq!(Some(&plan.status), done.status.as_ref());
}

#[test]
fn without_completions_the_first_success_stops_new_pods() {
    let job = job(None, 3);
    assert_eq!(plan_for(&job, &[]).create.len(), 3);
    let pods = [
        pod("a", "Succeeded", true),
        pod("b", "Running", true),
        pod("c", "Running", true),
    ];
    let plan = plan_for(&job, &pods);
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert!(plan.finished.is_none());
    // Complete once the others are done too.
    let pods = [
        pod("a", "Succeeded", true),
        pod("b", "Succeeded", true),
        pod("c", "Failed", true),
    ];
    let status = flushed(&plan_for(&job, &pods));
    assert!(true_condition(&status, COMPLETE).is_some());
    assert_eq!((status.succeeded, status.failed), (Some(2), Some(1)));
}

#[test]
fn failed_pods_are_replaced_after_an_exponential_backoff() {
    let mut job = job(Some(1), 1);
    spec_mut(&mut job).backoff_limit = Some(6);
    // Failed 4 s ago: the first replacement waits 10 s.
    let pods = [finished_at_ago(pod("a", "Failed", true), 4)];
    let plan = plan_for(&job, &pods);
    assert!(plan.create.is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(6)));
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.failed), ["uid-a"]);
    let pods = [finished_at_ago(pod("a", "Failed", false), 11)];
    assert_eq!(plan_for(&job, &pods).create.len(), 1);
    // Three failures: 40 s after the last one.
    let pods = [
        finished_at_ago(pod("a", "Failed", false), 300),
        finished_at_ago(pod("b", "Failed", false), 200),
        finished_at_ago(pod("c", "Failed", false), 30),
    ];
    assert_eq!(
        plan_for(&job, &pods).requeue_after,
        Some(Duration::from_secs(10))
    );
    // Capped at the maximum.
    let many: Vec<Pod> = (0..7)
        .map(|i| finished_at_ago(pod(&format!("f{i}"), "Failed", false), 10))
        .collect();
    spec_mut(&mut job).backoff_limit = Some(10);
    assert_eq!(
        plan_for(&job, &many).requeue_after,
        Some(Duration::from_secs(350))
    );
    // A success since resets it.
    let pods = [
        finished_at_ago(pod("a", "Failed", false), 30),
        finished_at_ago(pod("b", "Succeeded", false), 20),
    ];
    let mut more = job.clone();
    spec_mut(&mut more).completions = Some(2);
    more.status = Some(JobStatus {
        succeeded: Some(1),
        failed: Some(1),
        ..status_with_succeeded(1)
    });
    assert_eq!(plan_for(&more, &pods).create.len(), 1);
}

#[test]
fn exceeding_the_backoff_limit_fails_the_job_and_stops_its_pods() {
    let mut job = job(Some(2), 2);
    spec_mut(&mut job).backoff_limit = Some(1);
    job.status = Some(JobStatus {
        failed: Some(1),
        ..status_with_succeeded(0)
    });
    let pods = [pod("b", "Failed", true), pod("c", "Running", true)];
    let plan = plan_for(&job, &pods);
    assert_eq!(
        reason(&plan.status, FAILURE_TARGET).as_deref(),
        Some(BACKOFF_LIMIT_EXCEEDED)
    );
    assert_eq!(names(&plan.delete), ["c"]);
    assert_eq!(plan.removal, Removal::Counted);
    assert!(plan.create.is_empty());
    // Both go through the count as failed.
    assert_eq!(names(&plan.remove_finalizers), ["b", "c"]);
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.failed), ["uid-b", "uid-c"]);
    assert_eq!(plan.status.terminating, Some(1));
    // Failed only once nothing terminates.
    let status = flushed(&plan);
    assert_eq!(status.failed, Some(3));
    assert!(condition(&status, FAILED).is_none());
    let mut failing = job.clone();
    failing.status = Some(status);
    let mut stopped = pod("c", "Running", false);
    stopped.metadata.deletion_timestamp = Some(Time(at(0)));
    let pods = [pod("b", "Failed", false), stopped];
    let plan = plan_for(&failing, &pods);
    assert!(condition(&flushed(&plan), FAILED).is_none());
    let pods = [pod("b", "Failed", false)];
    let status = flushed(&plan_for(&failing, &pods));
    assert_eq!(
        reason(&status, FAILED).as_deref(),
        Some(BACKOFF_LIMIT_EXCEEDED)
    );
    assert_eq!(
        condition(&status, FAILED)
            .and_then(|c| c.message.clone())
            .as_deref(),
        Some("Job has reached the specified backoff limit")
    );
    assert_eq!(status.completion_time, None);
    assert_eq!(status.failed, Some(3));
}

#[test]
fn backoff_limit_zero_fails_on_the_first_failure() {
    let mut job = job(Some(1), 1);
    spec_mut(&mut job).backoff_limit = Some(0);
    let pods = [pod("a", "Failed", true)];
    let status = flushed(&plan_for(&job, &pods));
    assert_eq!(
        reason(&status, FAILED).as_deref(),
        Some(BACKOFF_LIMIT_EXCEEDED)
    );
    assert_eq!(status.failed, Some(1));
}

#[test]
fn restarts_of_on_failure_pods_count_toward_the_backoff_limit() {
    let mut job = job(Some(1), 1);
    spec_mut(&mut job).backoff_limit = Some(3);
    if let Some(spec) = spec_mut(&mut job).template.spec.as_mut() {
        spec.restart_policy = Some("OnFailure".into());
    }
    let restarted = |restarts: i32| {
        let mut pod = pod("a", "Running", true);
        if let Some(status) = pod.status.as_mut() {
            status.container_statuses = Some(vec![ContainerStatus {
                name: "pi".into(),
                restart_count: restarts,
                ..ContainerStatus::default()
            }]);
        }
        [pod]
    };
    let pods = restarted(2);
    assert!(plan_for(&job, &pods).finished.is_none());
    let pods = restarted(3);
    let plan = plan_for(&job, &pods);
    assert_eq!(
        reason(&plan.status, FAILURE_TARGET).as_deref(),
        Some(BACKOFF_LIMIT_EXCEEDED)
    );
    assert_eq!(names(&plan.delete), ["a"]);
}

#[test]
fn indexed_pods_carry_their_index() {
    let job = indexed(3, 2);
    let plan = plan_for(&job, &[]);
    assert_eq!(plan.create.len(), 2);
    for (index, pod) in plan.create.iter().enumerate() {
        let index = index.to_string();
        let annotations = pod.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(annotations.get(COMPLETION_INDEX_ANNOTATION), Some(&index));
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get(COMPLETION_INDEX_ANNOTATION), Some(&index));
        assert_eq!(
            pod.metadata.generate_name.as_deref(),
            Some(format!("pi-{index}-").as_str())
        );
        let spec = pod.spec.clone().unwrap_or_default();
        assert_eq!(spec.hostname, Some(format!("pi-{index}")));
        let env = spec.containers[0].env.clone().unwrap_or_default();
        assert_eq!(env.len(), 1);
        assert_eq!(env[0].name, COMPLETION_INDEX_ENV);
        assert_eq!(
            env[0]
                .value_from
                .as_ref()
                .and_then(|from| from.field_ref.as_ref())
                .map(|field| field.field_path.as_str()),
            Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
        );
    }
    // A long name is cut to leave room for the random suffix.
    assert_eq!(generate_name_with_index(&"x".repeat(70), 12).len(), 58);
}

#[test]
fn each_index_succeeds_once_and_completed_indexes_are_intervals() {
    let mut job = indexed(3, 3);
    let pods = [
        with_index(pod("a", "Succeeded", true), 1),
        with_index(pod("b", "Running", true), 0),
        // A second pod of a succeeded index, and one out of range.
        with_index(pod("c", "Running", true), 1),
        with_index(pod("d", "Running", true), 7),
    ];
    let plan = plan_for(&job, &pods);
    assert_eq!(plan.status.completed_indexes.as_deref(), Some("1"));
    assert_eq!(plan.status.succeeded, Some(1));
    // Indexed successes are recorded as indexes, not UIDs.
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert!(uncounted.succeeded.is_none());
    assert_eq!(names(&plan.delete), ["c", "d"]);
    assert!(plan.create.is_empty(), "deletes first");
    let pods = [
        with_index(pod("a", "Succeeded", false), 1),
        with_index(pod("b", "Running", true), 0),
    ];
    job.status = Some(JobStatus {
        completed_indexes: Some("1".into()),
        ..status_with_succeeded(1)
    });
    let plan = plan_for(&job, &pods);
    let indexes: Vec<String> = plan
        .create
        .iter()
        .filter_map(|pod| {
            pod.metadata
                .annotations
                .clone()?
                .get(COMPLETION_INDEX_ANNOTATION)
                .cloned()
        })
        .collect();
    assert_eq!(indexes, ["2"]);
    // All three: complete.
    let pods = [
        with_index(pod("a", "Succeeded", false), 1),
        with_index(pod("b", "Succeeded", true), 0),
        with_index(pod("e", "Succeeded", true), 2),
    ];
    let status = flushed(&plan_for(&job, &pods));
    assert_eq!(status.completed_indexes.as_deref(), Some("0-2"));
    assert_eq!(status.succeeded, Some(3));
    assert!(true_condition(&status, COMPLETE).is_some());
}

#[test]
fn indexes_format_and_parse_as_kubernetes_writes_them() {
    let set = |indexes: &[i32]| indexes.iter().copied().collect::<BTreeSet<i32>>();
    assert_eq!(format_indexes(&set(&[1, 3, 4, 5])), "1,3-5");
    assert_eq!(format_indexes(&set(&[0, 1, 7])), "0,1,7");
    assert_eq!(format_indexes(&set(&[])), "");
    assert_eq!(parse_indexes("1,3-5", 10), set(&[1, 3, 4, 5]));
    // Beyond completions and garbage are dropped.
    assert_eq!(parse_indexes("0,x,2-9", 4), set(&[0, 2, 3]));
}

#[test]
fn the_active_deadline_fails_the_job_and_is_waited_for() {
    let mut job = job(Some(1), 1);
    spec_mut(&mut job).active_deadline_seconds = Some(60);
    job.status = Some(JobStatus {
        start_time: Some(Time(at(20))),
        ..JobStatus::default()
    });
    let pods = [pod("a", "Running", true)];
    let plan = plan_for(&job, &pods);
    assert!(plan.finished.is_none());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(40)));
    job.status = Some(JobStatus {
        start_time: Some(Time(at(60))),
        ..JobStatus::default()
    });
    let plan = plan_for(&job, &pods);
    assert_eq!(
        reason(&plan.status, FAILURE_TARGET).as_deref(),
        Some(DEADLINE_EXCEEDED)
    );
    assert_eq!(names(&plan.delete), ["a"]);
    assert_eq!(plan.removal, Removal::Counted);
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.failed), ["uid-a"]);
    assert_eq!(
        plan.finished
            .as_ref()
            .and_then(|c| c.reason.clone())
            .as_deref(),
        Some(DEADLINE_EXCEEDED)
    );
}

#[test]
fn a_suspended_job_stops_its_pods_uncounted_and_resumes_with_a_new_start() {
    let mut job = job(Some(4), 2);
    spec_mut(&mut job).suspend = Some(true);
    // Created suspended: no pods, no start time.
    let plan = plan_for(&job, &[]);
    assert!(plan.create.is_empty());
    assert_eq!(plan.status.start_time, None);
    assert_eq!(
        reason(&plan.status, SUSPENDED).as_deref(),
        Some("JobSuspended")
    );
    // Suspended while running: its pods go, not counted.
    job.status = Some(status_with_succeeded(1));
    let pods = [pod("a", "Running", true), pod("b", "Pending", true)];
    let plan = plan_for(&job, &pods);
    assert_eq!(names(&plan.delete), ["a", "b"]);
    assert_eq!(plan.removal, Removal::Uncounted);
    assert!(plan.create.is_empty());
    assert_eq!(plan.status.active, None);
    assert_eq!(plan.status.terminating, Some(2));
    let status = flushed(&plan);
    assert_eq!((status.succeeded, status.failed), (Some(1), None));
    // Resumed: the condition turns False and the start time is now.
    let mut resumed = job.clone();
    spec_mut(&mut resumed).suspend = Some(false);
    resumed.status = Some(status);
    let plan = plan_for(&resumed, &[]);
    let suspended = condition(&plan.status, SUSPENDED)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (suspended.status.as_str(), suspended.reason.as_deref()),
        ("False", Some("JobResumed"))
    );
    assert_eq!(plan.status.start_time, Some(Time(at(0))));
    assert_eq!(plan.create.len(), 2);
}

fn with_policy(mut job: Job, rules: Vec<PodFailurePolicyRule>) -> Job {
    spec_mut(&mut job).pod_failure_policy = Some(PodFailurePolicy { rules });
    job
}

fn on_exit_codes(action: &str, operator: &str, values: &[i32]) -> PodFailurePolicyRule {
    PodFailurePolicyRule {
        action: action.into(),
        on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
            container_name: None,
            operator: operator.into(),
            values: values.to_vec(),
        }),
        on_pod_conditions: None,
    }
}

#[test]
fn a_fail_job_rule_fails_the_job_with_its_message() {
    let job = with_policy(job(Some(2), 2), vec![on_exit_codes("FailJob", "In", &[42])]);
    let pods = [
        exit_code(pod("a", "Failed", true), 42),
        pod("b", "Running", true),
    ];
    let plan = plan_for(&job, &pods);
    assert_eq!(
        reason(&plan.status, FAILURE_TARGET).as_deref(),
        Some(POD_FAILURE_POLICY)
    );
    assert_eq!(
        condition(&plan.status, FAILURE_TARGET)
            .and_then(|c| c.message.clone())
            .as_deref(),
        Some(
            "Container pi for pod batch/a failed with exit code 42 matching FailJob rule at index 0"
        )
    );
    assert_eq!(names(&plan.delete), ["b"]);
    // Another exit code is counted as usual.
    let pods = [exit_code(pod("a", "Failed", true), 3)];
    let plan = plan_for(&job, &pods);
    assert!(plan.finished.is_none());
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.failed), ["uid-a"]);
}

#[test]
fn ignored_failures_are_not_counted_and_not_in_exit_codes_match_the_rest() {
    let disruption = PodFailurePolicyRule {
        action: "Ignore".into(),
        on_exit_codes: None,
        on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
        }]),
    };
    let mut job = with_policy(
        job(Some(1), 1),
        vec![disruption, on_exit_codes("Count", "NotIn", &[0, 7])],
    );
    spec_mut(&mut job).backoff_limit = Some(0);
    let mut evicted = pod("a", "Failed", true);
    if let Some(status) = evicted.status.as_mut() {
        status.conditions = Some(vec![PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            ..PodCondition::default()
        }]);
    }
    let pods = [evicted.clone()];
    let plan = plan_for(&job, &pods);
    assert!(plan.finished.is_none(), "an ignored failure is no failure");
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert!(uncounted.failed.is_none());
    assert_eq!(names(&plan.remove_finalizers), ["a"]);
    let spec = job.spec.clone().unwrap_or_default();
    assert_eq!(
        match_pod_failure_policy(&spec, &evicted),
        PolicyAction::Ignore
    );
    let crashed = exit_code(pod("b", "Failed", true), 3);
    assert_eq!(
        match_pod_failure_policy(&spec, &crashed),
        PolicyAction::Count
    );
    let pods = [crashed];
    assert!(plan_for(&job, &pods).finished.is_some());
    // With a policy, a terminating pod is not failed until it is Failed.
    let mut stopping = pod("c", "Running", true);
    stopping.metadata.deletion_timestamp = Some(Time(at(1)));
    assert!(!is_pod_failed(&stopping, &spec));
    let pods = [stopping];
    let plan = plan_for(&job, &pods);
    assert!(plan.remove_finalizers.is_empty());
    assert!(plan.create.is_empty(), "no replacement while it terminates");
}

#[test]
fn orphans_are_adopted_with_the_finalizer_and_strays_released() {
    let job = job(Some(2), 2);
    let mut orphan = pod("a", "Succeeded", false);
    orphan.metadata.owner_references = None;
    let mut stray = pod("b", "Running", true);
    stray.metadata.labels = None;
    let pods = [orphan, stray];
    let plan = plan_for(&job, &pods);
    assert_eq!(names(&plan.adopt), ["a"]);
    assert_eq!(names(&plan.release), ["b"]);
    // The adopted pod counts as holding the finalizer adoption adds.
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.succeeded), ["uid-a"]);
    assert_eq!(names(&plan.remove_finalizers), ["a"]);
}

#[test]
fn finalizers_for_gone_jobs_are_released() {
    let job = job(Some(1), 1);
    let mine = pod("a", "Running", true);
    let mut old = pod("b", "Succeeded", true);
    if let Some(reference) = old
        .metadata
        .owner_references
        .as_mut()
        .and_then(|r| r.first_mut())
    {
        reference.uid = "old-uid".into();
    }
    let mut orphan = pod("c", "Succeeded", true);
    orphan.metadata.owner_references = None;
    orphan.metadata.labels = Some(BTreeMap::from([(
        api::job::JOB_NAME_LABEL.to_string(),
        "pi".to_string(),
    )]));
    let untracked = pod("d", "Succeeded", false);
    let pods = [mine, old, orphan, untracked];
    assert_eq!(
        names(&stray_finalizers(Some(&job), "pi", &pods)),
        ["b", "c"]
    );
    assert_eq!(names(&stray_finalizers(None, "pi", &pods)), ["a", "b", "c"]);
    assert!(stray_finalizers(None, "other", &pods).is_empty());
}

#[test]
fn a_job_being_deleted_lets_go_of_every_pod() {
    let mut job = job(Some(3), 2);
    job.metadata.deletion_timestamp = Some(Time(at(1)));
    let pods = [pod("a", "Running", true), pod("b", "Succeeded", true)];
    let plan = plan_for(&job, &pods);
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(names(&plan.remove_finalizers), ["a", "b"]);
    let uncounted = plan
        .status
        .uncounted_terminated_pods
        .clone()
        .unwrap_or_default();
    assert_eq!(uids(&uncounted.succeeded), ["uid-b"]);
    assert!(uncounted.failed.is_none());
}

#[test]
fn an_invalid_selector_is_an_error() {
    let mut job = job(Some(1), 1);
    spec_mut(&mut job).selector = Some(LabelSelector {
        match_labels: Some(BTreeMap::from([("bad key!".to_string(), "x".to_string())])),
        match_expressions: None,
    });
    let error = plan(&job, &[], true, &HashSet::new(), &settings(), at(0));
    assert!(matches!(error, Err(Error::InvalidSelector(name, _)) if name == "pi"));
}
