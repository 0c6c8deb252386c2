//! The labels that tie a Job to its pods, and the selector the apiserver
//! generates for a Job (Kubernetes' Job strategy `generateSelector`): the
//! pods of a Job match only that Job, because its selector names its UID.

use k8s_openapi::api::batch::v1::Job;

/// The Job's UID, on its pods and in its generated selector.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// The Job's name, on its pods (friendlier to select by than the UID).
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// The unprefixed labels Kubernetes still sets for older clients.
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";

/// Whether the user chose the selector (`spec.manualSelector: true`);
/// otherwise the apiserver generates it.
pub fn manual_selector(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|spec| spec.manual_selector)
        .unwrap_or(false)
}

/// A Job without labels takes its template's (Kubernetes' defaulting);
/// as Kubernetes re-applies it on every read, a Job whose template had no
/// labels shows the generated ones.
pub fn default_labels(job: &mut Job) {
    if job
        .metadata
        .labels
        .as_ref()
        .is_some_and(|labels| !labels.is_empty())
    {
        return;
    }
    let template = job
        .spec
        .as_ref()
        .and_then(|spec| spec.template.metadata.as_ref())
        .and_then(|meta| meta.labels.clone())
        .filter(|labels| !labels.is_empty());
    if let Some(labels) = template {
        job.metadata.labels = Some(labels);
    }
}

/// Generates the selector of a new Job, unless it is manual: the template
/// gains the name and UID labels (a label the user set is kept, and
/// validation refuses it if it disagrees), and the selector matches the
/// UID label.
pub fn generate_selector(job: &mut Job) {
    if manual_selector(job) {
        return;
    }
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else {
        return;
    };
    let labels = spec
        .template
        .metadata
        .get_or_insert_default()
        .labels
        .get_or_insert_default();
    for (key, value) in [
        (LEGACY_JOB_NAME_LABEL, &name),
        (JOB_NAME_LABEL, &name),
        (LEGACY_CONTROLLER_UID_LABEL, &uid),
        (CONTROLLER_UID_LABEL, &uid),
    ] {
        labels
            .entry(key.to_string())
            .or_insert_with(|| value.clone());
    }
    spec.selector
        .get_or_insert_default()
        .match_labels
        .get_or_insert_default()
        .entry(CONTROLLER_UID_LABEL.to_string())
        .or_insert(uid);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
    use std::collections::BTreeMap;

    fn job(manual: Option<bool>, selector: Option<LabelSelector>) -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                uid: Some("u1".into()),
                ..ObjectMeta::default()
            },
            spec: Some(JobSpec {
                manual_selector: manual,
                selector,
                ..JobSpec::default()
            }),
            status: None,
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn the_selector_and_labels_name_the_job() {
        let mut generated = job(None, None);
        generate_selector(&mut generated);
        let spec = generated.spec.unwrap_or_default();
        assert_eq!(
            spec.selector.and_then(|s| s.match_labels),
            Some(labels(&[(CONTROLLER_UID_LABEL, "u1")]))
        );
        assert_eq!(
            spec.template.metadata.and_then(|m| m.labels),
            Some(labels(&[
                (CONTROLLER_UID_LABEL, "u1"),
                (JOB_NAME_LABEL, "pi"),
                (LEGACY_CONTROLLER_UID_LABEL, "u1"),
                (LEGACY_JOB_NAME_LABEL, "pi"),
            ]))
        );
    }

    #[test]
    fn a_job_without_labels_takes_its_templates() {
        let mut generated = job(None, None);
        generate_selector(&mut generated);
        default_labels(&mut generated);
        assert_eq!(
            generated.metadata.labels.as_ref().map(BTreeMap::len),
            Some(4)
        );
        let mut labelled = job(None, None);
        labelled.metadata.labels = Some(labels(&[("team", "a")]));
        generate_selector(&mut labelled);
        default_labels(&mut labelled);
        assert_eq!(labelled.metadata.labels, Some(labels(&[("team", "a")])));
    }

    #[test]
    fn a_manual_selector_is_kept() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "pi")])),
            match_expressions: None,
        };
        let mut manual = job(Some(true), Some(selector.clone()));
        generate_selector(&mut manual);
        let spec = manual.spec.unwrap_or_default();
        assert_eq!(spec.selector, Some(selector));
        assert_eq!(spec.template.metadata, None);
    }
}
