//! Jobs: unless `spec.manualSelector` is set, a new Job's selector is
//! generated from its UID (and its template labelled to match), so its
//! pods can belong to no other Job; a Job without labels shows its
//! template's; its status starts empty (the Job controller writes it).

use api::k8s_openapi::api::batch::v1::Job;

use crate::kinds::{StatusPart, Strategy};

impl Strategy for Job {
    fn prepare_for_create(&mut self) {
        api::job::generate_selector(self);
        // The defaults gave a Job without labels its template's; one whose
        // template had none shows the generated ones, as Kubernetes (which
        // defaults again on every read) does.
        api::job::default_labels(self);
        self.clear_status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::ApiObject;
    use api::job::{CONTROLLER_UID_LABEL, JOB_NAME_LABEL};
    use serde_json::json;

    fn job(spec: serde_json::Value) -> Job {
        let mut job: Job = serde_json::from_value(json!({
            "metadata": {"name": "pi", "namespace": "default", "uid": "u1"},
            "spec": spec,
            "status": {"succeeded": 4},
        }))
        .unwrap_or_default();
        job.apply_defaults();
        job.prepare_for_create();
        job
    }

    const TEMPLATE: &str =
        r#"{"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}"#;

    fn template() -> serde_json::Value {
        serde_json::from_str(TEMPLATE).unwrap_or_default()
    }

    #[test]
    fn a_new_job_gets_a_generated_selector_and_no_status() {
        let job = job(json!({"template": template()}));
        assert_eq!(job.status, None);
        let spec = job.spec.clone().unwrap_or_default();
        let selector = spec
            .selector
            .and_then(|s| s.match_labels)
            .unwrap_or_default();
        assert_eq!(selector.len(), 1);
        assert_eq!(
            selector.get(CONTROLLER_UID_LABEL).map(String::as_str),
            Some("u1")
        );
        let labels = spec
            .template
            .metadata
            .and_then(|m| m.labels)
            .unwrap_or_default();
        assert_eq!(labels.get(JOB_NAME_LABEL).map(String::as_str), Some("pi"));
        assert_eq!(labels.get("job-name").map(String::as_str), Some("pi"));
        assert_eq!(labels.get("controller-uid").map(String::as_str), Some("u1"));
        assert_eq!(job.validate_create().map_err(|e| e.to_string()), Ok(()));
    }

    #[test]
    fn a_manual_selector_is_kept_and_none_is_required() {
        let mut with_labels = template();
        with_labels["metadata"] = json!({"labels": {"app": "pi"}});
        let job = job(json!({
            "manualSelector": true,
            "selector": {"matchLabels": {"app": "pi"}},
            "template": with_labels,
        }));
        let spec = job.spec.clone().unwrap_or_default();
        assert_eq!(
            spec.selector
                .and_then(|s| s.match_labels)
                .map(|l| l.into_iter().collect::<Vec<_>>()),
            Some(vec![("app".to_string(), "pi".to_string())])
        );
        assert_eq!(job.validate_create().map_err(|e| e.to_string()), Ok(()));

        let missing = self::job(json!({"manualSelector": true, "template": template()}));
        let errors = missing.validate_create().map_err(|e| e.to_string());
        assert!(
            errors
                .as_ref()
                .is_err_and(|e| e.contains("spec.selector: Required value")),
            "{errors:?}"
        );
    }

    #[test]
    fn generated_labels_the_user_overrode_are_refused() {
        let mut clashing = template();
        clashing["metadata"] = json!({"labels": {JOB_NAME_LABEL: "other"}});
        let job = job(json!({"template": clashing}));
        let errors = job.validate_create().map_err(|e| e.to_string());
        assert!(
            errors.as_ref().is_err_and(|e| e.contains(
                "spec.template.metadata.labels[batch.kubernetes.io/job-name]: Invalid value"
            ) && e.contains("must be 'pi'")),
            "{errors:?}"
        );
    }
}
