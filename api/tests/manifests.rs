//! Every fixture in `tests/fixtures/` parses, validates after defaults, and
//! round-trips through YAML and JSON keeping every field Skiff models.

// Helpers here are test code: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::path::PathBuf;

use api::manifest::{AnyObject, parse_manifest, to_json, to_yaml};
use serde_json::Value;

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the fixtures, found {}",
        files.len()
    );
    files
}

/// Drops `null` members, which `k8s-openapi` reads as absent.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Parses a fixture and checks it has exactly one object of `kind`.
fn check_fixture(name: &str, text: &str) -> AnyObject {
    let objects = parse_manifest(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(objects.len(), 1, "{name}");
    objects.into_iter().next().unwrap()
}

#[test]
fn fixtures_parse_and_round_trip() {
    for (name, text) in fixtures() {
        let object = check_fixture(&name, &text);
        let original = without_nulls(serde_saphyr::from_str::<Value>(&text).unwrap());
        assert_eq!(
            object.to_value().unwrap(),
            original,
            "{name}: fields lost or changed"
        );

        let yaml = to_yaml(std::slice::from_ref(&object)).unwrap();
        assert_eq!(
            parse_manifest(&yaml).unwrap(),
            vec![object.clone()],
            "{name}: YAML round trip"
        );
        let json = to_json(std::slice::from_ref(&object)).unwrap();
        assert_eq!(
            parse_manifest(&json).unwrap(),
            vec![object],
            "{name}: JSON round trip"
        );
    }
}

#[test]
fn fixtures_validate_after_defaults() {
    for (name, text) in fixtures() {
        let mut object = check_fixture(&name, &text);
        if object.info().namespaced && object.metadata().namespace.is_none() {
            object.metadata_mut().namespace = Some("default".into());
        }
        object.apply_defaults();
        // The apiserver gives a new Job its UID and generated selector
        // before validating it.
        if let AnyObject::Job(job) = &mut object {
            job.metadata.uid = Some("uid-1".into());
            api::job::generate_selector(job);
        }
        if let Err(errors) = object.validate_create() {
            panic!("{name}: {errors}");
        }
    }
}

#[test]
fn multi_document_yaml_and_lists() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: a\nunknownField: tolerated\n---\n";
    let objects = parse_manifest(text).unwrap();
    let kinds: Vec<&str> = objects.iter().map(|o| o.info().kind).collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap"]);
    let json = to_json(&objects).unwrap();
    assert_eq!(parse_manifest(&json).unwrap(), objects);
}

#[test]
fn unknown_kinds_and_malformed_documents_are_errors() {
    let check = |text: &str, expected: &str| {
        let error = parse_manifest(text).map(|_| ()).unwrap_err();
        assert_eq!(error.to_string(), expected);
    };
    check(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
        "document 0: unknown kind \"Widget\" in apiVersion \"example.com/v1\"",
    );
    check(
        "a: 1\n",
        "document 0 is not an object with `apiVersion` and `kind`",
    );
    check(
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"spec\": 3}",
        "document 0: cannot decode Pod: invalid type: integer `3`, expected PodSpec",
    );
}

#[test]
fn cron_job_schedules_and_zones_are_validated() {
    let cron_job = |schedule: &str, zone: &str| {
        let text = format!(
            "apiVersion: batch/v1
kind: CronJob
metadata: {{name: report, namespace: default}}
spec:
  schedule: '{schedule}'
  timeZone: {zone}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: c, image: i}}]
"
        );
        let mut objects = parse_manifest(&text).unwrap();
        let mut object = objects.remove(0);
        object.apply_defaults();
        object
            .validate_create()
            .err()
            .map(|errors| errors.to_string())
    };
    assert_eq!(cron_job("*/5 * * * *", "Europe/Paris"), None);
    assert_eq!(cron_job("@hourly", "UTC"), None);
    let bad = cron_job("*/5 * * *", "UTC").unwrap_or_default();
    assert!(
        bad.contains("spec.schedule: Invalid value: \"*/5 * * *\""),
        "{bad}"
    );
    let zone = cron_job("*/5 * * * *", "Mars/Olympus").unwrap_or_default();
    assert!(
        zone.contains("spec.timeZone: Invalid value: \"Mars/Olympus\""),
        "{zone}"
    );
}
