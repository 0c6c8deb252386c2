//! The Job controller's decisions (batch/v1), as Kubernetes'
//! `job.Controller.syncJob`: run pods from the template until enough of
//! them succeeded, or fail the Job.
//!
//! Finished pods are counted through the `batch.kubernetes.io/job-tracking`
//! finalizer every pod is created with, so a count survives the pod's
//! deletion and no pod is counted twice: a finished pod that still holds
//! the finalizer is first recorded in `status.uncountedTerminatedPods` (an
//! Indexed Job's successes go straight into `completedIndexes`), then its
//! finalizer is removed, then [`flush`] moves the pods that lost it from
//! the uncounted lists into `succeeded` and `failed`. Each step is written
//! before the next, so a crash in between repeats a step, never a count.
//!
//! One [`plan`] per sync: claim the namespace's pods (adoption adds the
//! finalizer, release removes it), decide what finishes the Job (its
//! completions reached; the backoff limit, the active deadline or a
//! podFailurePolicy rule exceeded), create missing pods in slow-start
//! batches after the failure backoff or delete what should not run, and
//! compute the status. `FailureTarget` and `SuccessCriteriaMet` are
//! written as soon as the outcome is known; `Failed` and `Complete` only
//! once no pod is uncounted or still terminating (what `kubectl wait
//! --for=condition=complete` waits for).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use api::job::{JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL};
use api::k8s_openapi::api::batch::v1::{
    Job, JobCondition, JobSpec, JobStatus, PodFailurePolicyRule, UncountedTerminatedPods,
};
use api::k8s_openapi::api::core::v1::{
    Container, ContainerStatus, EnvVar, EnvVarSource, ObjectFieldSelector, Pod,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use api::k8s_openapi::jiff::{SignedDuration, Timestamp};
use api::selector::Selector;

use crate::owner::{Claim, claim, controller_of, controller_selector};
use crate::pods::{is_active, is_ready, pods_to_delete};
use crate::replica_set::pod_from_template;

pub const API_VERSION: &str = "batch/v1";
pub const KIND: &str = "Job";

/// Held by every pod a Job creates or adopts until the Job counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// An Indexed Job's pod's index: annotation and label.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The environment variable an Indexed Job's containers read their index from.
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// At most this many pods are created or deleted in one sync (Kubernetes'
/// `MaxPodCreateDeletePerSync`).
pub const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;
/// At most this many pods are uncounted at once (Kubernetes'
/// `MaxUncountedPods`): the UIDs stay well under an object's size limit and
/// one big Job's finalizer removals do not starve the others.
pub const MAX_UNCOUNTED_PODS: usize = 500;
/// The delay before a failed pod is replaced, doubled per failure since
/// the last success, up to [`MAX_BACKOFF`] (Kubernetes'
/// `DefaultJobPodFailureBackOff` and `MaxJobPodFailureBackOff`).
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 60);

pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";
pub const FAILURE_TARGET: &str = "FailureTarget";
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
pub const SUSPENDED: &str = "Suspended";

pub const BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
pub const POD_FAILURE_POLICY: &str = "PodFailurePolicy";
pub const COMPLETIONS_REACHED: &str = "CompletionsReached";

/// The controller's timers.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The first delay before a failed pod is replaced.
    pub backoff_base: Duration,
    /// The longest such delay.
    pub backoff_max: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            backoff_base: DEFAULT_BACKOFF,
            backoff_max: MAX_BACKOFF,
        }
    }
}

/// Why a Job cannot be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Job {0} has an invalid selector: {1}")]
    InvalidSelector(String, String),
}

/// How the active pods a sync deletes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Their tracking finalizer is removed first, so they count neither as
    /// succeeded nor as failed: the Job is suspended or runs too many.
    Uncounted,
    /// They are recorded as failed and lose their finalizer, then are
    /// deleted: the Job has failed and what still runs is stopped.
    Counted,
}

/// One sync's decisions for one Job.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Orphans to adopt (controller reference and tracking finalizer added).
    pub adopt: Vec<&'a Pod>,
    /// Pods to release (reference and finalizer removed).
    pub release: Vec<&'a Pod>,
    pub delete: Vec<&'a Pod>,
    pub removal: Removal,
    /// Pods to create, ready to send.
    pub create: Vec<Pod>,
    /// The status to write before any finalizer is removed: the finished
    /// pods recorded, the interim condition, the counts of pods as the
    /// writes above leave them.
    pub status: JobStatus,
    /// Pods whose tracking finalizer goes once `status` is written.
    pub remove_finalizers: Vec<&'a Pod>,
    /// The UIDs of the pods that keep their finalizer after the removals
    /// (the runner adds those whose removal failed), for [`flush`].
    pub keeping_finalizer: HashSet<String>,
    /// The terminal condition (`Complete` or `Failed`) [`flush`] adds once
    /// nothing is uncounted or terminating.
    pub finished: Option<JobCondition>,
    /// Sync again after this long: the failure backoff ends, or the
    /// active deadline passes.
    pub requeue_after: Option<Duration>,
}

impl<'a> Plan<'a> {
    fn hold(status: JobStatus) -> Plan<'a> {
        Plan {
            adopt: Vec::new(),
            release: Vec::new(),
            delete: Vec::new(),
            removal: Removal::Uncounted,
            create: Vec::new(),
            status,
            remove_finalizers: Vec::new(),
            keeping_finalizer: HashSet::new(),
            finished: None,
            requeue_after: None,
        }
    }
}

/// The Job's selector (none selects nothing).
pub fn selector(job: &Job) -> Result<Selector, Error> {
    let Some(selector) = job.spec.as_ref().and_then(|spec| spec.selector.as_ref()) else {
        return Ok(Selector::nothing());
    };
    controller_selector(selector).map_err(|error| {
        Error::InvalidSelector(job.metadata.name.clone().unwrap_or_default(), error)
    })
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or("")
}

/// Succeeded or Failed: the kubelet is done with it.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Being deleted, and not yet finished.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some() && !is_terminal(pod)
}

pub fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .iter()
        .flatten()
        .any(|finalizer| finalizer == TRACKING_FINALIZER)
}

/// The condition of `type_` that is true, if any.
pub fn true_condition<'s>(status: &'s JobStatus, type_: &str) -> Option<&'s JobCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|condition| condition.type_ == type_ && condition.status == "True")
}

/// Complete or Failed: nothing more to do (but let go of its pods).
pub fn is_finished(job: &Job) -> bool {
    job.status.as_ref().is_some_and(|status| {
        true_condition(status, COMPLETE).is_some() || true_condition(status, FAILED).is_some()
    })
}

fn is_indexed(spec: &JobSpec) -> bool {
    spec.completion_mode.as_deref() == Some("Indexed")
}

fn is_suspended(spec: &JobSpec) -> bool {
    spec.suspend == Some(true)
}

/// Only failed pods are replaced, not terminating ones (Kubernetes'
/// `podReplacementPolicy: Failed`, the default with a podFailurePolicy,
/// whose rules need the pod's final state).
fn only_replace_failed(spec: &JobSpec) -> bool {
    match spec.pod_replacement_policy.as_deref() {
        Some("Failed") => true,
        Some(_) => false,
        None => spec.pod_failure_policy.is_some(),
    }
}

/// Whether the pod counts as failed (Kubernetes' `isPodFailed`): Failed,
/// or, unless only failed pods are replaced, deleted before it succeeded
/// (an orphan may never reach a phase).
pub fn is_pod_failed(pod: &Pod, spec: &JobSpec) -> bool {
    if phase(pod) == "Failed" {
        return true;
    }
    !only_replace_failed(spec)
        && pod.metadata.deletion_timestamp.is_some()
        && phase(pod) != "Succeeded"
}

/// The pod's completion index, if it has a valid one.
pub fn completion_index(pod: &Pod) -> Option<i32> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(COMPLETION_INDEX_ANNOTATION)?
        .parse()
        .ok()
        .filter(|index| *index >= 0)
}

/// The indexes of a `completedIndexes` text ("1,3-5") below `completions`;
/// what does not parse is skipped.
pub fn parse_indexes(text: &str, completions: i32) -> BTreeSet<i32> {
    let mut indexes = BTreeSet::new();
    for interval in text.split(',').filter(|interval| !interval.is_empty()) {
        let (first, last) = match interval.split_once('-') {
            Some((first, last)) => (first.parse::<i32>(), last.parse::<i32>()),
            None => (interval.parse(), interval.parse()),
        };
        let (Ok(first), Ok(last)) = (first, last) else {
            continue;
        };
        indexes.extend(first.max(0)..=last.min(completions.saturating_sub(1)));
    }
    indexes
}

/// Kubernetes' interval text of `indexes`: runs of three or more as
/// `a-b`, pairs as `a,b`.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut intervals: Vec<(i32, i32)> = Vec::new();
    for &index in indexes {
        match intervals.last_mut() {
            Some((_, last)) if *last + 1 == index => *last = index,
            _ => intervals.push((index, index)),
        }
    }
    intervals
        .iter()
        .map(|&(first, last)| match last - first {
            0 => first.to_string(),
            1 => format!("{first},{last}"),
            _ => format!("{first}-{last}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// What the first podFailurePolicy rule matching a failed pod does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyAction {
    /// Fail the Job, with this message.
    FailJob(String),
    /// Do not count the failure toward the backoff limit.
    Ignore,
    /// Count it (no rule matched, or `Count`; `FailIndex`, which needs
    /// `backoffLimitPerIndex`, counts too).
    Count,
}

fn terminated_exit_code(status: &ContainerStatus) -> Option<i32> {
    let terminated = status.state.as_ref()?.terminated.as_ref()?;
    Some(terminated.exit_code)
}

/// The first container (then init container) that exited non-zero with a
/// code the rule's `onExitCodes` selects.
fn exit_code_match<'p>(pod: &'p Pod, rule: &PodFailurePolicyRule) -> Option<(&'p str, i32)> {
    let requirement = rule.on_exit_codes.as_ref()?;
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .filter(|container| {
            requirement
                .container_name
                .as_ref()
                .is_none_or(|name| *name == container.name)
        })
        .filter_map(|container| Some((container.name.as_str(), terminated_exit_code(container)?)))
        .find(|&(_, code)| {
            code != 0
                && match requirement.operator.as_str() {
                    "In" => requirement.values.contains(&code),
                    "NotIn" => !requirement.values.contains(&code),
                    _ => false,
                }
        })
}

/// The first pod condition one of the rule's `onPodConditions` patterns
/// selects (a pattern's status defaults to True).
fn pod_condition_match<'p>(pod: &'p Pod, rule: &PodFailurePolicyRule) -> Option<&'p str> {
    let patterns = rule.on_pod_conditions.as_ref()?;
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|condition| {
            patterns.iter().any(|pattern| {
                let status = if pattern.status.is_empty() {
                    "True"
                } else {
                    pattern.status.as_str()
                };
                pattern.type_ == condition.type_ && status == condition.status
            })
        })
        .map(|condition| condition.type_.as_str())
}

/// The Job's podFailurePolicy applied to the failed `pod` (Kubernetes'
/// `matchPodFailurePolicy`): the first matching rule's action.
pub fn match_pod_failure_policy(spec: &JobSpec, pod: &Pod) -> PolicyAction {
    let Some(policy) = &spec.pod_failure_policy else {
        return PolicyAction::Count;
    };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    for (index, rule) in policy.rules.iter().enumerate() {
        let matched = if rule.on_exit_codes.is_some() {
            exit_code_match(pod, rule).map(|(container, code)| {
                format!(
                    "Container {container} for pod {namespace}/{name} failed with exit code {code} matching {} rule at index {index}",
                    rule.action
                )
            })
        } else {
            pod_condition_match(pod, rule).map(|condition| {
                format!(
                    "Pod {namespace}/{name} has condition {condition} matching {} rule at index {index}",
                    rule.action
                )
            })
        };
        let Some(message) = matched else {
            continue;
        };
        match rule.action.as_str() {
            "FailJob" => return PolicyAction::FailJob(message),
            "Ignore" => return PolicyAction::Ignore,
            "Count" | "FailIndex" => return PolicyAction::Count,
            // An action this controller does not know: the next rule.
            _ => {}
        }
    }
    PolicyAction::Count
}

/// The message of the first failed pod a `FailJob` rule matches.
fn fail_job_message(spec: &JobSpec, pods: &[&Pod]) -> Option<String> {
    spec.pod_failure_policy.as_ref()?;
    pods.iter().filter(|pod| is_pod_failed(pod, spec)).find_map(
        |pod| match match_pod_failure_policy(spec, pod) {
            PolicyAction::FailJob(message) => Some(message),
            _ => None,
        },
    )
}

/// When the pod finished (Kubernetes' `getFinishedTime`): its containers'
/// last exit, else when it stopped being ready, else its deletion, else
/// its creation.
fn finished_at(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref();
    let containers: Option<Vec<Timestamp>> = status
        .and_then(|status| status.container_statuses.as_ref())
        .filter(|statuses| !statuses.is_empty())
        .and_then(|statuses| {
            statuses
                .iter()
                .map(|container| {
                    let terminated = container.state.as_ref()?.terminated.as_ref()?;
                    terminated.finished_at.as_ref().map(|time| time.0)
                })
                .collect()
        });
    if let Some(latest) = containers.and_then(|times| times.into_iter().max()) {
        return Some(latest);
    }
    let not_ready = status
        .and_then(|status| status.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|condition| condition.type_ == "Ready" && condition.status == "False")
        .and_then(|condition| condition.last_transition_time.as_ref());
    not_ready
        .or(pod.metadata.deletion_timestamp.as_ref())
        .or(pod.metadata.creation_timestamp.as_ref())
        .map(|time| time.0)
}

fn positive(duration: SignedDuration) -> Option<Duration> {
    Duration::try_from(duration)
        .ok()
        .filter(|duration| !duration.is_zero())
}

/// How long until a failed pod may be replaced: `backoff_base` doubled
/// per failure since the last success (up to `backoff_max`), from the
/// last failure. Counted from the pods present (failed ones stay until
/// the Job goes), leaving out those removed uncounted.
fn backoff_remaining(
    pods: &[&Pod],
    spec: &JobSpec,
    settings: &Settings,
    now: Timestamp,
) -> Option<Duration> {
    let last_success = pods
        .iter()
        .filter(|pod| phase(pod) == "Succeeded")
        .filter_map(|pod| finished_at(pod))
        .max();
    let failures: Vec<Timestamp> = pods
        .iter()
        .filter(|pod| is_pod_failed(pod, spec))
        .filter(|pod| has_tracking_finalizer(pod) || pod.metadata.deletion_timestamp.is_none())
        .filter_map(|pod| finished_at(pod))
        .filter(|at| last_success.is_none_or(|success| *at > success))
        .collect();
    let last_failure = failures.iter().max()?;
    let mut delay = settings.backoff_base;
    for _ in 1..failures.len() {
        delay = delay.saturating_mul(2);
        if delay >= settings.backoff_max {
            delay = settings.backoff_max;
            break;
        }
    }
    let delay = SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX);
    positive(delay - now.duration_since(*last_failure))
}

/// The restarts of the running and pending pods reach the backoff limit
/// (a pod with `restartPolicy: OnFailure` is restarted by its kubelet,
/// never failed).
fn past_backoff_limit_on_failure(spec: &JobSpec, pods: &[&Pod]) -> bool {
    let on_failure = spec
        .template
        .spec
        .as_ref()
        .and_then(|spec| spec.restart_policy.as_deref())
        == Some("OnFailure");
    if !on_failure {
        return false;
    }
    let restarts: i64 = pods
        .iter()
        .filter(|pod| matches!(phase(pod), "Running" | "Pending"))
        .filter_map(|pod| pod.status.as_ref())
        .flat_map(|status| {
            status
                .container_statuses
                .iter()
                .flatten()
                .chain(status.init_container_statuses.iter().flatten())
        })
        .map(|container| i64::from(container.restart_count))
        .sum();
    let limit = i64::from(spec.backoff_limit.unwrap_or(6));
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= limit
    }
}

/// When the active deadline passes (none while suspended).
fn deadline(spec: &JobSpec, status: &JobStatus) -> Option<Timestamp> {
    let seconds = spec.active_deadline_seconds?;
    if is_suspended(spec) {
        return None;
    }
    let start = status.start_time.as_ref()?.0;
    start
        .saturating_add(SignedDuration::from_secs(seconds))
        .ok()
}

fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> JobCondition {
    let text = |text: &str| (!text.is_empty()).then(|| text.to_string());
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: text(reason),
        message: text(message),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Sets the condition of `type_` (Kubernetes' `ensureJobConditionStatus`):
/// replaced when its status, reason or message differ, added only when
/// not False. Whether anything changed.
fn ensure_condition(
    status: &mut JobStatus,
    type_: &str,
    value: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    let wanted = new_condition(type_, value, reason, message, now);
    let conditions = status.conditions.get_or_insert_default();
    let changed = match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => {
            let differs = existing.status != wanted.status
                || existing.reason != wanted.reason
                || existing.message != wanted.message;
            if differs {
                *existing = wanted;
            }
            differs
        }
        None if value != "False" => {
            conditions.push(wanted);
            true
        }
        None => false,
    };
    if conditions.is_empty() {
        status.conditions = None;
    }
    changed
}

/// The pods recorded in `uncountedTerminatedPods`, in order.
#[derive(Debug, Default)]
struct Uncounted {
    succeeded: Vec<String>,
    failed: Vec<String>,
}

impl Uncounted {
    fn take(status: &mut JobStatus) -> Uncounted {
        let uncounted = status.uncounted_terminated_pods.take().unwrap_or_default();
        Uncounted {
            succeeded: uncounted.succeeded.unwrap_or_default(),
            failed: uncounted.failed.unwrap_or_default(),
        }
    }

    fn put(self, status: &mut JobStatus) {
        let list = |uids: Vec<String>| (!uids.is_empty()).then_some(uids);
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
            succeeded: list(self.succeeded),
            failed: list(self.failed),
        });
    }

    fn len(&self) -> usize {
        self.succeeded.len() + self.failed.len()
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A count as Kubernetes writes it: omitted when 0.
fn omitted_if_zero(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

/// Moves the uncounted pods that no longer hold the finalizer (or are
/// gone) into the counts (Kubernetes' `cleanUncountedPodsWithoutFinalizers`).
fn move_counted(status: &mut JobStatus, uncounted: &mut Uncounted, keeping: &HashSet<String>) {
    let before = (uncounted.succeeded.len(), uncounted.failed.len());
    uncounted.succeeded.retain(|uid| keeping.contains(uid));
    uncounted.failed.retain(|uid| keeping.contains(uid));
    let succeeded = before.0 - uncounted.succeeded.len();
    let failed = before.1 - uncounted.failed.len();
    status.succeeded = omitted_if_zero(
        status
            .succeeded
            .unwrap_or(0)
            .saturating_add(count(succeeded)),
    );
    status.failed = omitted_if_zero(status.failed.unwrap_or(0).saturating_add(count(failed)));
}

/// The status once the finalizers of [`Plan::remove_finalizers`] are
/// removed: the uncounted pods outside `keeping` are counted, and the
/// terminal condition `finished` is added when no pod is left uncounted or
/// terminating (`completionTime` with `Complete`).
pub fn flush(
    mut status: JobStatus,
    keeping: &HashSet<String>,
    finished: Option<&JobCondition>,
) -> JobStatus {
    let recorded = status.uncounted_terminated_pods.is_some();
    let mut uncounted = Uncounted::take(&mut status);
    move_counted(&mut status, &mut uncounted, keeping);
    let settled = uncounted.len() == 0 && status.terminating.unwrap_or(0) == 0;
    if recorded || uncounted.len() > 0 {
        uncounted.put(&mut status);
    }
    if let Some(condition) = finished.filter(|_| settled) {
        let now = condition
            .last_transition_time
            .as_ref()
            .map_or(Timestamp::UNIX_EPOCH, |time| time.0);
        ensure_condition(
            &mut status,
            &condition.type_,
            &condition.status,
            condition.reason.as_deref().unwrap_or(""),
            condition.message.as_deref().unwrap_or(""),
            now,
        );
        if condition.type_ == COMPLETE && status.completion_time.is_none() {
            status
                .completion_time
                .clone_from(&condition.last_transition_time);
        }
    }
    status
}

/// How the Job ends, once known.
#[derive(Clone, Debug)]
struct Outcome {
    success: bool,
    reason: String,
    message: String,
}

impl Outcome {
    fn failure(reason: &str, message: &str) -> Outcome {
        Outcome {
            success: false,
            reason: reason.to_string(),
            message: message.to_string(),
        }
    }

    fn of(condition: &JobCondition, success: bool) -> Outcome {
        Outcome {
            success,
            reason: condition.reason.clone().unwrap_or_default(),
            message: condition.message.clone().unwrap_or_default(),
        }
    }
}

/// Adds the index of an Indexed Job's pod to a copy of the template: the
/// annotation and label, the hostname `<job>-<index>`, and the environment
/// variable every container reads it from.
fn indexed_template(
    template: &api::k8s_openapi::api::core::v1::PodTemplateSpec,
    job_name: &str,
    index: i32,
) -> api::k8s_openapi::api::core::v1::PodTemplateSpec {
    let mut template = template.clone();
    let meta = template.metadata.get_or_insert_default();
    meta.annotations
        .get_or_insert_default()
        .insert(COMPLETION_INDEX_ANNOTATION.to_string(), index.to_string());
    meta.labels
        .get_or_insert_default()
        .insert(COMPLETION_INDEX_ANNOTATION.to_string(), index.to_string());
    if let Some(spec) = template.spec.as_mut() {
        spec.hostname = Some(format!("{job_name}-{index}"));
        let env = || EnvVar {
            name: COMPLETION_INDEX_ENV.to_string(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: None,
                    field_path: format!("metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"),
                }),
                ..EnvVarSource::default()
            }),
        };
        let add = |container: &mut Container| {
            let vars = container.env.get_or_insert_default();
            if !vars.iter().any(|var| var.name == COMPLETION_INDEX_ENV) {
                vars.push(env());
            }
        };
        spec.containers.iter_mut().for_each(add);
        spec.init_containers.iter_mut().flatten().for_each(add);
    }
    template
}

/// The longest generated name prefix, leaving room for the random suffix
/// (Kubernetes' `MaxGeneratedNameLength`).
const MAX_GENERATED_NAME_LENGTH: usize = 58;

/// `<job>-<index>-`, the job name cut to fit.
fn generate_name_with_index(job_name: &str, index: i32) -> String {
    let suffix = format!("-{index}-");
    let room = MAX_GENERATED_NAME_LENGTH.saturating_sub(suffix.len());
    let prefix: String = job_name.chars().take(room).collect();
    format!("{prefix}{suffix}")
}

/// A new pod of `job` (with the index of an Indexed Job's pod), holding
/// the tracking finalizer.
pub fn new_pod(job: &Job, index: Option<i32>) -> Pod {
    let name = job.metadata.name.as_deref().unwrap_or("");
    let template = job
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    let template = match index {
        Some(index) => indexed_template(&template, name, index),
        None => template,
    };
    let mut pod = pod_from_template(&template, API_VERSION, KIND, &job.metadata);
    let finalizers = pod.metadata.finalizers.get_or_insert_default();
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.to_string());
    }
    if let Some(index) = index {
        pod.metadata.generate_name = Some(generate_name_with_index(name, index));
    }
    pod
}

/// The first `count` indexes below `completions` that neither succeeded
/// nor have an active pod (nor, when only failed pods are replaced, a
/// terminating one).
fn first_pending_indexes(
    count: usize,
    completions: i32,
    succeeded: &BTreeSet<i32>,
    busy: &BTreeSet<i32>,
) -> Vec<i32> {
    (0..completions)
        .filter(|index| !succeeded.contains(index) && !busy.contains(index))
        .take(count)
        .collect()
}

/// The active pods of an Indexed Job that must go whatever the count:
/// without a valid index, of an index that already succeeded, or all but
/// one (the one kept longest) of those sharing an index.
fn indexed_surplus<'a>(
    active: &[&'a Pod],
    related: &[&Pod],
    completions: i32,
    succeeded: &BTreeSet<i32>,
    now: Timestamp,
) -> Vec<&'a Pod> {
    let mut surplus = Vec::new();
    let mut by_index: HashMap<i32, Vec<&'a Pod>> = HashMap::new();
    for &pod in active {
        match completion_index(pod).filter(|index| *index < completions) {
            Some(index) if !succeeded.contains(&index) => {
                by_index.entry(index).or_default().push(pod)
            }
            _ => surplus.push(pod),
        }
    }
    let mut groups: Vec<(i32, Vec<&'a Pod>)> = by_index.into_iter().collect();
    groups.sort_by_key(|(index, _)| *index);
    for (_, group) in groups {
        if group.len() > 1 {
            surplus.extend(pods_to_delete(&group, related, group.len() - 1, now));
        }
    }
    surplus
}

/// What the manage step (Kubernetes' `manageJob`) decided.
struct Managed<'a> {
    delete: Vec<&'a Pod>,
    create: Vec<Pod>,
    requeue_after: Option<Duration>,
}

/// Creates or deletes pods so that as many run as should: all of them
/// deleted while suspended; otherwise `parallelism`, no more than the
/// completions still missing (with no completions set, none new once one
/// succeeded), replacements of failed pods only after the backoff.
#[allow(clippy::too_many_arguments, reason = "one step of one decision")]
fn manage<'a>(
    job: &Job,
    spec: &JobSpec,
    pods: &[&'a Pod],
    active: &[&'a Pod],
    succeeded: i32,
    succeeded_indexes: &BTreeSet<i32>,
    settings: &Settings,
    now: Timestamp,
) -> Managed<'a> {
    let mut managed = Managed {
        delete: Vec::new(),
        create: Vec::new(),
        requeue_after: None,
    };
    if is_suspended(spec) {
        managed.delete = active
            .iter()
            .copied()
            .take(MAX_POD_CREATE_DELETE_PER_SYNC)
            .collect();
        return managed;
    }
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let active_count = count(active.len());
    let wanted = match spec.completions {
        None if succeeded > 0 => active_count,
        None => parallelism,
        Some(completions) => completions.saturating_sub(succeeded).clamp(0, parallelism),
    };
    let indexed = is_indexed(spec);
    let completions = spec.completions.unwrap_or(0);
    let mut delete = if indexed {
        indexed_surplus(active, pods, completions, succeeded_indexes, now)
    } else {
        Vec::new()
    };
    let left: Vec<&'a Pod> = active
        .iter()
        .copied()
        .filter(|pod| !delete.iter().any(|gone| std::ptr::eq(*gone, *pod)))
        .collect();
    let excess = count(left.len()).saturating_sub(wanted);
    if let Ok(excess @ 1..) = usize::try_from(excess) {
        delete.extend(pods_to_delete(&left, pods, excess, now));
    }
    if !delete.is_empty() {
        delete.truncate(MAX_POD_CREATE_DELETE_PER_SYNC);
        managed.delete = delete;
        return managed;
    }
    let terminating = if only_replace_failed(spec) {
        count(pods.iter().filter(|pod| is_terminating(pod)).count())
    } else {
        0
    };
    let missing = wanted
        .saturating_sub(terminating)
        .saturating_sub(active_count);
    let Ok(missing @ 1..) = usize::try_from(missing) else {
        return managed;
    };
    if let Some(remaining) = backoff_remaining(pods, spec, settings, now) {
        managed.requeue_after = Some(remaining);
        return managed;
    }
    let missing = missing.min(MAX_POD_CREATE_DELETE_PER_SYNC);
    managed.create = if indexed {
        let mut busy: BTreeSet<i32> = active
            .iter()
            .filter_map(|pod| completion_index(pod))
            .collect();
        if only_replace_failed(spec) {
            busy.extend(
                pods.iter()
                    .filter(|pod| is_terminating(pod))
                    .filter_map(|pod| completion_index(pod)),
            );
        }
        first_pending_indexes(missing, completions, succeeded_indexes, &busy)
            .into_iter()
            .map(|index| new_pod(job, Some(index)))
            .collect()
    } else {
        vec![new_pod(job, None); missing]
    };
    managed
}

/// Decides one sync of `job` over the pods of its namespace.
/// `expectations_satisfied`: the controller's earlier creates and deletes
/// were all observed; `removing`: the UIDs of pods whose finalizer it
/// removed and whose update the cache has not shown yet (they count as
/// without it).
pub fn plan<'a>(
    job: &Job,
    pods: impl IntoIterator<Item = &'a Pod>,
    expectations_satisfied: bool,
    removing: &HashSet<String>,
    settings: &Settings,
    now: Timestamp,
) -> Result<Plan<'a>, Error> {
    let mut status = job.status.clone().unwrap_or_default();
    let Some(spec) = &job.spec else {
        return Ok(Plan::hold(status));
    };
    let selector = selector(job)?;
    let job_uid = job.metadata.uid.as_deref().unwrap_or("");
    let deleting = job.metadata.deletion_timestamp.is_some();
    let finished = is_finished(job);
    let Claim {
        owned,
        adopt,
        release,
    } = claim(job_uid, deleting || finished, &selector, pods);
    let holds_finalizer = |pod: &Pod| has_tracking_finalizer(pod) && !removing.contains(uid(pod));
    if finished {
        // A finished Job lets go of its pods (Kubernetes' backup cleanup:
        // every pod was counted before the Job finished).
        let mut plan = Plan::hold(status);
        plan.remove_finalizers = owned
            .into_iter()
            .filter(|pod| holds_finalizer(pod))
            .collect();
        return Ok(plan);
    }
    let adopted: HashSet<&str> = adopt.iter().map(|pod| uid(pod)).collect();
    // Adoption adds the finalizer.
    let holds = |pod: &Pod| adopted.contains(uid(pod)) || holds_finalizer(pod);
    let pods: Vec<&'a Pod> = owned.iter().chain(&adopt).copied().collect();

    let mut uncounted = Uncounted::take(&mut status);
    let with_finalizer: HashSet<String> = pods
        .iter()
        .filter(|pod| holds(pod))
        .map(|pod| uid(pod).to_string())
        .collect();
    move_counted(&mut status, &mut uncounted, &with_finalizer);

    let indexed = is_indexed(spec);
    let completions = spec.completions;
    let valid_index =
        |pod: &Pod| completion_index(pod).filter(|index| completions.is_some_and(|c| *index < c));
    let countable = |pod: &Pod| holds(pod) && (!indexed || valid_index(pod).is_some());
    let new_succeeded: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|pod| countable(pod) && phase(pod) == "Succeeded")
        .filter(|pod| !uncounted.succeeded.iter().any(|u| u == uid(pod)))
        .collect();
    let new_failed = pods
        .iter()
        .filter(|pod| countable(pod) && is_pod_failed(pod, spec))
        .filter(|pod| !uncounted.failed.iter().any(|u| u == uid(pod)))
        .filter(|pod| match_pod_failure_policy(spec, pod) != PolicyAction::Ignore)
        .count();
    let previous_indexes = if indexed {
        parse_indexes(
            status.completed_indexes.as_deref().unwrap_or(""),
            completions.unwrap_or(0),
        )
    } else {
        BTreeSet::new()
    };
    let mut succeeded_indexes = previous_indexes.clone();
    succeeded_indexes.extend(new_succeeded.iter().filter_map(|pod| valid_index(pod)));
    let succeeded = if indexed {
        count(succeeded_indexes.len())
    } else {
        status
            .succeeded
            .unwrap_or(0)
            .saturating_add(count(new_succeeded.len() + uncounted.succeeded.len()))
    };
    let failed = status
        .failed
        .unwrap_or(0)
        .saturating_add(count(new_failed + uncounted.failed.len()));

    let active_pods: Vec<&'a Pod> = pods.iter().copied().filter(|pod| is_active(pod)).collect();
    let mut terminating = pods.iter().filter(|pod| is_terminating(pod)).count();
    let suspended = is_suspended(spec);
    // Resumed in this sync: the deadline counts from now on.
    let resuming = !suspended && true_condition(&status, SUSPENDED).is_some();
    if status.start_time.is_none() && !suspended {
        status.start_time = Some(Time(now));
    }

    let mut plan = Plan::hold(JobStatus::default());
    let mut outcome = if let Some(condition) = true_condition(&status, SUCCESS_CRITERIA_MET) {
        Some(Outcome::of(condition, true))
    } else if let Some(condition) = true_condition(&status, FAILURE_TARGET) {
        Some(Outcome::of(condition, false))
    } else {
        fail_job_message(spec, &pods).map(|message| Outcome::failure(POD_FAILURE_POLICY, &message))
    };
    if outcome.is_none() {
        let deadline = deadline(spec, &status).filter(|_| !resuming);
        if failed > spec.backoff_limit.unwrap_or(6) || past_backoff_limit_on_failure(spec, &pods) {
            outcome = Some(Outcome::failure(
                BACKOFF_LIMIT_EXCEEDED,
                "Job has reached the specified backoff limit",
            ));
        } else if deadline.is_some_and(|deadline| now >= deadline) {
            outcome = Some(Outcome::failure(
                DEADLINE_EXCEEDED,
                "Job was active longer than specified deadline",
            ));
        } else if let Some(deadline) = deadline {
            plan.requeue_after = positive(deadline.duration_since(now));
        }
    }

    let mut remaining: Vec<&'a Pod> = active_pods.clone();
    if outcome.is_some() {
        // Stop what still runs; those pods are counted as failed below.
        plan.delete = active_pods
            .iter()
            .copied()
            .take(MAX_POD_CREATE_DELETE_PER_SYNC)
            .collect();
        plan.removal = Removal::Counted;
        // Not finished until every pod is seen going.
        if plan.delete.len() < active_pods.len() || !expectations_satisfied {
            outcome = None;
        }
    } else {
        let mut managed_now = false;
        if expectations_satisfied && !deleting {
            let managed = manage(
                job,
                spec,
                &pods,
                &active_pods,
                succeeded,
                &succeeded_indexes,
                settings,
                now,
            );
            plan.delete = managed.delete;
            plan.create = managed.create;
            plan.requeue_after = match (plan.requeue_after, managed.requeue_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            managed_now = true;
        }
        let active_after = active_pods.len() - plan.delete.len() + plan.create.len();
        let complete = active_after == 0
            && match completions {
                None => succeeded > 0,
                Some(completions) => succeeded >= completions,
            };
        if complete {
            outcome = Some(Outcome {
                success: true,
                reason: COMPLETIONS_REACHED.to_string(),
                message: "Reached expected number of succeeded pods".to_string(),
            });
        } else if managed_now && suspended {
            ensure_condition(
                &mut status,
                SUSPENDED,
                "True",
                "JobSuspended",
                "Job suspended",
                now,
            );
        } else if managed_now
            && ensure_condition(
                &mut status,
                SUSPENDED,
                "False",
                "JobResumed",
                "Job resumed",
                now,
            )
        {
            // The active deadline counts from the resumption.
            status.start_time = Some(Time(now));
        }
    }
    remaining.retain(|pod| !plan.delete.iter().any(|gone| std::ptr::eq(*gone, *pod)));
    terminating += plan.delete.len();

    // Record the finished pods, and choose whose finalizer goes.
    let failing = outcome.as_ref().is_some_and(|outcome| !outcome.success);
    let mut new_indexes = BTreeSet::new();
    let mut full = false;
    for &pod in &pods {
        if !holds(pod) {
            continue;
        }
        let considered_failed = is_pod_failed(pod, spec);
        let removable =
            deleting || outcome.is_some() || phase(pod) == "Succeeded" || considered_failed;
        if !removable {
            continue;
        }
        plan.remove_finalizers.push(pod);
        let pod_uid = uid(pod).to_string();
        if phase(pod) == "Succeeded" && !uncounted.failed.contains(&pod_uid) {
            if indexed {
                if let Some(index) = valid_index(pod)
                    && !previous_indexes.contains(&index)
                {
                    new_indexes.insert(index);
                }
            } else if !uncounted.succeeded.contains(&pod_uid) {
                uncounted.succeeded.push(pod_uid);
            }
        } else if (considered_failed || failing)
            && !uncounted.failed.contains(&pod_uid)
            && (!indexed || valid_index(pod).is_some())
            && match_pod_failure_policy(spec, pod) != PolicyAction::Ignore
        {
            uncounted.failed.push(pod_uid);
        }
        if new_indexes.len() + uncounted.len() >= MAX_UNCOUNTED_PODS {
            // The rest waits for the next sync.
            full = true;
            break;
        }
    }
    if indexed {
        let mut indexes = previous_indexes;
        indexes.extend(new_indexes);
        status.succeeded = omitted_if_zero(count(indexes.len()));
        let text = format_indexes(&indexes);
        status.completed_indexes = (!text.is_empty()).then_some(text);
    }
    if let Some(outcome) = outcome.as_ref().filter(|_| !full) {
        let (interim, terminal) = if outcome.success {
            (SUCCESS_CRITERIA_MET, COMPLETE)
        } else {
            (FAILURE_TARGET, FAILED)
        };
        if true_condition(&status, interim).is_none() {
            ensure_condition(
                &mut status,
                interim,
                "True",
                &outcome.reason,
                &outcome.message,
                now,
            );
        }
        plan.finished = Some(new_condition(
            terminal,
            "True",
            &outcome.reason,
            &outcome.message,
            now,
        ));
    }
    let removed: HashSet<&str> = plan.remove_finalizers.iter().map(|pod| uid(pod)).collect();
    plan.keeping_finalizer = with_finalizer
        .into_iter()
        .filter(|pod_uid| !removed.contains(pod_uid.as_str()))
        .collect();
    uncounted.put(&mut status);
    status.active = omitted_if_zero(count(remaining.len() + plan.create.len()));
    status.ready = Some(count(remaining.iter().filter(|pod| is_ready(pod)).count()));
    status.terminating = Some(count(terminating));
    plan.status = status;
    plan.adopt = adopt;
    plan.release = release;
    Ok(plan)
}

/// The pods of a namespace that hold the tracking finalizer for a Job
/// named `name` that will never count them: controlled by a Job of that
/// name that is gone (`job` is the one of that name now, if any), or
/// orphans labelled with that name that the Job will not adopt. Their
/// finalizer is removed (Kubernetes' `syncOrphanPod`), else they could
/// never be deleted.
pub fn stray_finalizers<'a>(
    job: Option<&Job>,
    name: &str,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> Vec<&'a Pod> {
    let job_uid = job.and_then(|job| job.metadata.uid.as_deref());
    let adopts = |pod: &Pod| {
        job.is_some_and(|job| {
            job.metadata.deletion_timestamp.is_none()
                && !is_finished(job)
                && selector(job).is_ok_and(|selector| {
                    selector.matches(&pod.metadata.labels.clone().unwrap_or_default())
                })
        })
    };
    pods.into_iter()
        .filter(|pod| has_tracking_finalizer(pod))
        .filter(|pod| match controller_of(&pod.metadata) {
            Some(reference) => {
                reference.kind == KIND
                    && reference.api_version == API_VERSION
                    && reference.name == name
                    && job_uid != Some(reference.uid.as_str())
            }
            None => {
                let labels = pod.metadata.labels.as_ref();
                let named = [JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL].iter().any(|label| {
                    labels
                        .and_then(|labels| labels.get(*label))
                        .map(String::as_str)
                        == Some(name)
                });
                named && !adopts(pod)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
