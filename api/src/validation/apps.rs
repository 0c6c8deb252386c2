//! Validation of workload kinds: Deployment, ReplicaSet, DaemonSet,
//! StatefulSet, ReplicationController, Job and CronJob.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};
use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::validate_label_selector;
use super::{ValidateKind, go_map, non_negative, one_of, validate_pod_template};
use crate::selector::Selector;
use crate::{FieldError, FieldErrors, FieldPath};

fn spec_path() -> FieldPath {
    FieldPath::root("spec")
}

fn template_labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// Checks a selector is present, non-empty, valid and matches the template.
fn validate_selector_and_template(
    selector: Option<&LabelSelector>,
    template: &PodTemplateSpec,
    errors: &mut FieldErrors,
) {
    let path = spec_path();
    match selector {
        None => errors.push(FieldError::required(path.child("selector"), "")),
        Some(selector) => {
            let empty = selector
                .match_labels
                .as_ref()
                .is_none_or(BTreeMap::is_empty)
                && selector
                    .match_expressions
                    .as_ref()
                    .is_none_or(Vec::is_empty);
            if empty {
                errors.push(FieldError::invalid(
                    path.child("selector"),
                    "{}",
                    "empty selector is invalid for deployment",
                ));
            }
            validate_label_selector(selector, &path.child("selector"), errors);
            if let Ok(compiled) = Selector::from_label_selector(selector)
                && !empty
            {
                let labels = template_labels(template);
                if !compiled.matches(&labels) {
                    errors.push(FieldError::invalid_raw(
                        path.child("template").child("metadata").child("labels"),
                        go_map(&labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    validate_pod_template(template, &path.child("template"), errors);
}

fn replicas(value: Option<i32>, errors: &mut FieldErrors) {
    non_negative(value.map(i64::from), &spec_path().child("replicas"), errors);
}

fn template_restart_always(template: &PodTemplateSpec, errors: &mut FieldErrors) {
    let policy = template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref());
    if let Some(policy) = policy.filter(|p| *p != "Always") {
        let path = spec_path()
            .child("template")
            .child("spec")
            .child("restartPolicy");
        errors.push(FieldError::not_supported(path, policy, &["Always"]));
    }
}

fn selector_immutable(
    new: Option<&LabelSelector>,
    old: Option<&LabelSelector>,
    errors: &mut FieldErrors,
) {
    if new != old {
        let shown = new
            .and_then(|s| Selector::from_label_selector(s).ok())
            .map(|s| s.to_string())
            .unwrap_or_default();
        errors.push(FieldError::invalid(
            spec_path().child("selector"),
            &shown,
            "field is immutable",
        ));
    }
}

fn spec_required(errors: &mut FieldErrors) {
    errors.push(FieldError::required(spec_path(), ""));
}

/// Validates an int-or-percent field such as `maxUnavailable`.
pub(crate) fn validate_int_or_percent(
    value: Option<&IntOrString>,
    path: &FieldPath,
    errors: &mut FieldErrors,
) {
    match value {
        Some(IntOrString::Int(n)) if *n < 0 => {
            errors.push(FieldError::invalid_raw(path.clone(), n, "must be greater than or equal to 0"));
        }
        Some(IntOrString::String(text)) => match text.strip_suffix('%').and_then(|n| n.parse::<i64>().ok()) {
            None => errors.push(FieldError::invalid(path.clone(), text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")),
            Some(percent) if percent > 100 => {
                errors.push(FieldError::invalid(path.clone(), text, "must not be greater than 100%"));
            }
            Some(_) => {}
        },
        _ => {}
    }
}

fn is_zero(value: Option<&IntOrString>) -> bool {
    match value {
        Some(IntOrString::Int(n)) => *n == 0,
        Some(IntOrString::String(text)) => text == "0%",
        None => false,
    }
}

impl ValidateKind for Deployment {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        replicas(spec.replicas, errors);
        validate_selector_and_template(Some(&spec.selector), &spec.template, errors);
        template_restart_always(&spec.template, errors);
        if let Some(strategy) = &spec.strategy {
            let path = spec_path().child("strategy");
            one_of(
                strategy.type_.as_deref(),
                &["Recreate", "RollingUpdate"],
                false,
                &path.child("type"),
                errors,
            );
            if let Some(rolling) = &strategy.rolling_update {
                let rolling_path = path.child("rollingUpdate");
                validate_int_or_percent(
                    rolling.max_unavailable.as_ref(),
                    &rolling_path.child("maxUnavailable"),
                    errors,
                );
                validate_int_or_percent(
                    rolling.max_surge.as_ref(),
                    &rolling_path.child("maxSurge"),
                    errors,
                );
                if is_zero(rolling.max_unavailable.as_ref()) && is_zero(rolling.max_surge.as_ref())
                {
                    errors.push(FieldError::invalid_raw(
                        rolling_path.child("maxUnavailable"),
                        0,
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
            }
        }
        non_negative(
            spec.revision_history_limit.map(i64::from),
            &spec_path().child("revisionHistoryLimit"),
            errors,
        );
        non_negative(
            spec.min_ready_seconds.map(i64::from),
            &spec_path().child("minReadySeconds"),
            errors,
        );
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        selector_immutable(
            self.spec.as_ref().map(|s| &s.selector),
            old.spec.as_ref().map(|s| &s.selector),
            errors,
        );
    }
}

impl ValidateKind for ReplicaSet {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        replicas(spec.replicas, errors);
        match &spec.template {
            Some(template) => {
                validate_selector_and_template(Some(&spec.selector), template, errors);
                template_restart_always(template, errors);
            }
            None => errors.push(FieldError::required(spec_path().child("template"), "")),
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        selector_immutable(
            self.spec.as_ref().map(|s| &s.selector),
            old.spec.as_ref().map(|s| &s.selector),
            errors,
        );
    }
}

impl ValidateKind for DaemonSet {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        validate_selector_and_template(Some(&spec.selector), &spec.template, errors);
        template_restart_always(&spec.template, errors);
        if let Some(strategy) = &spec.update_strategy {
            let path = spec_path().child("updateStrategy");
            one_of(
                strategy.type_.as_deref(),
                &["OnDelete", "RollingUpdate"],
                false,
                &path.child("type"),
                errors,
            );
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        selector_immutable(
            self.spec.as_ref().map(|s| &s.selector),
            old.spec.as_ref().map(|s| &s.selector),
            errors,
        );
    }
}

impl ValidateKind for StatefulSet {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        replicas(spec.replicas, errors);
        validate_selector_and_template(Some(&spec.selector), &spec.template, errors);
        template_restart_always(&spec.template, errors);
        one_of(
            spec.pod_management_policy.as_deref(),
            &["OrderedReady", "Parallel"],
            false,
            &spec_path().child("podManagementPolicy"),
            errors,
        );
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        selector_immutable(
            self.spec.as_ref().map(|s| &s.selector),
            old.spec.as_ref().map(|s| &s.selector),
            errors,
        );
    }
}

impl ValidateKind for ReplicationController {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        replicas(spec.replicas, errors);
        let selector = spec.selector.clone().unwrap_or_default();
        if selector.is_empty() {
            errors.push(FieldError::required(spec_path().child("selector"), ""));
        }
        match &spec.template {
            Some(template) => {
                let labels = template_labels(template);
                if !selector.is_empty() && !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                    errors.push(FieldError::invalid_raw(
                        spec_path()
                            .child("template")
                            .child("metadata")
                            .child("labels"),
                        go_map(&labels),
                        "`selector` does not match template `labels`",
                    ));
                }
                validate_pod_template(template, &spec_path().child("template"), errors);
                template_restart_always(template, errors);
            }
            None => errors.push(FieldError::required(spec_path().child("template"), "")),
        }
    }
}

fn validate_job_spec(spec: &JobSpec, path: &FieldPath, errors: &mut FieldErrors) {
    non_negative(
        spec.parallelism.map(i64::from),
        &path.child("parallelism"),
        errors,
    );
    non_negative(
        spec.completions.map(i64::from),
        &path.child("completions"),
        errors,
    );
    non_negative(
        spec.backoff_limit.map(i64::from),
        &path.child("backoffLimit"),
        errors,
    );
    non_negative(
        spec.active_deadline_seconds,
        &path.child("activeDeadlineSeconds"),
        errors,
    );
    non_negative(
        spec.ttl_seconds_after_finished.map(i64::from),
        &path.child("ttlSecondsAfterFinished"),
        errors,
    );
    one_of(
        spec.completion_mode.as_deref(),
        &["NonIndexed", "Indexed"],
        false,
        &path.child("completionMode"),
        errors,
    );
    // An Indexed Job's indexes run from 0 to completions - 1.
    if spec.completion_mode.as_deref() == Some("Indexed") && spec.completions.is_none() {
        errors.push(FieldError::required(
            path.child("completions"),
            "when completion mode is Indexed",
        ));
    }
    let template_path = path.child("template");
    validate_pod_template(&spec.template, &template_path, errors);
    let policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref());
    let policy_path = template_path.child("spec").child("restartPolicy");
    match policy {
        Some("OnFailure" | "Never") => {}
        None | Some("") => errors.push(FieldError::required(
            policy_path,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        Some(other) => errors.push(FieldError::not_supported(
            policy_path,
            other,
            &["OnFailure", "Never"],
        )),
    }
    if let Some(selector) = &spec.selector {
        validate_label_selector(selector, &path.child("selector"), errors);
        if let Ok(compiled) = Selector::from_label_selector(selector) {
            let labels = template_labels(&spec.template);
            if !compiled.matches(&labels) {
                errors.push(FieldError::invalid_raw(
                    template_path.child("metadata").child("labels"),
                    go_map(&labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
}

/// The labels a generated selector put on the template must still be
/// there with the Job's name and UID, and the selector must be the
/// generated one (Kubernetes' `validateGeneratedSelector`): a user label
/// that clashes with them is refused instead of overlapping another Job.
fn validate_generated_selector(job: &Job, spec: &JobSpec, errors: &mut FieldErrors) {
    let Some(labels) = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
    else {
        return;
    };
    let uid = job.metadata.uid.as_deref().unwrap_or("");
    let name = job.metadata.name.as_deref().unwrap_or("");
    if uid.is_empty() {
        errors.push(FieldError::required(
            FieldPath::root("metadata").child("uid"),
            "",
        ));
    }
    let labels_path = spec_path()
        .child("template")
        .child("metadata")
        .child("labels");
    for (key, expected) in [
        (crate::job::LEGACY_CONTROLLER_UID_LABEL, uid),
        (crate::job::LEGACY_JOB_NAME_LABEL, name),
        (crate::job::CONTROLLER_UID_LABEL, uid),
        (crate::job::JOB_NAME_LABEL, name),
    ] {
        match labels.get(key) {
            None => errors.push(FieldError::required(labels_path.key(key), expected)),
            Some(actual) if actual != expected => errors.push(FieldError::invalid_raw(
                labels_path.key(key),
                go_map(labels),
                format!("must be '{expected}'"),
            )),
            Some(_) => {}
        }
    }
    // The selector must select what the UID label alone names (a user's
    // selector merged with the generated one does not).
    let expected = BTreeMap::from([(
        crate::job::CONTROLLER_UID_LABEL.to_string(),
        uid.to_string(),
    )]);
    let generated = spec
        .selector
        .as_ref()
        .and_then(|selector| Selector::from_label_selector(selector).ok())
        .is_some_and(|selector| selector.matches(&expected));
    if spec.selector.is_some() && !generated {
        let shown = spec
            .selector
            .as_ref()
            .and_then(|s| Selector::from_label_selector(s).ok())
            .map(|s| s.to_string())
            .unwrap_or_default();
        errors.push(FieldError::invalid(
            spec_path().child("selector"),
            &shown,
            "`selector` not auto-generated",
        ));
    }
}

impl ValidateKind for Job {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        match &self.spec {
            Some(spec) => {
                // The apiserver generates the selector on create unless it
                // is manual, so a Job without one is always an error.
                if spec.selector.is_none() {
                    errors.push(FieldError::required(spec_path().child("selector"), ""));
                }
                validate_job_spec(spec, &spec_path(), errors);
                if !crate::job::manual_selector(self) {
                    validate_generated_selector(self, spec, errors);
                }
            }
            None => spec_required(errors),
        }
    }

    fn validate_kind_update(&self, old: &Self, errors: &mut FieldErrors) {
        self.validate_kind(errors);
        let new_selector = self.spec.as_ref().and_then(|s| s.selector.as_ref());
        let old_selector = old.spec.as_ref().and_then(|s| s.selector.as_ref());
        if old_selector.is_some() {
            selector_immutable(new_selector, old_selector, errors);
        }
    }
}

impl ValidateKind for CronJob {
    fn validate_kind(&self, errors: &mut FieldErrors) {
        let Some(spec) = &self.spec else {
            return spec_required(errors);
        };
        let path = spec_path();
        if spec.schedule.trim().is_empty() {
            errors.push(FieldError::required(path.child("schedule"), ""));
        } else {
            match crate::cron::Schedule::parse(&spec.schedule, spec.time_zone.as_deref()) {
                Ok(_) => {}
                Err(crate::cron::CronError::Schedule(message)) => errors.push(FieldError::invalid(
                    path.child("schedule"),
                    &spec.schedule,
                    &message,
                )),
                Err(crate::cron::CronError::TimeZone(zone)) => errors.push(FieldError::invalid(
                    path.child("timeZone"),
                    &zone,
                    "unknown time zone",
                )),
            }
        }
        one_of(
            spec.concurrency_policy.as_deref(),
            &["Allow", "Forbid", "Replace"],
            false,
            &path.child("concurrencyPolicy"),
            errors,
        );
        non_negative(
            spec.starting_deadline_seconds,
            &path.child("startingDeadlineSeconds"),
            errors,
        );
        non_negative(
            spec.successful_jobs_history_limit.map(i64::from),
            &path.child("successfulJobsHistoryLimit"),
            errors,
        );
        non_negative(
            spec.failed_jobs_history_limit.map(i64::from),
            &path.child("failedJobsHistoryLimit"),
            errors,
        );
        match &spec.job_template.spec {
            Some(job) => validate_job_spec(job, &path.child("jobTemplate").child("spec"), errors),
            None => errors.push(FieldError::required(
                path.child("jobTemplate").child("spec"),
                "",
            )),
        }
    }
}
