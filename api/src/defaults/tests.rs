//! Tests of defaulting and the QoS class.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::json;

use super::*;
use crate::ApiObject;

/// Defaults `input` (JSON of kind `T`) and compares the JSON result.
fn check<T: ApiObject>(input: serde_json::Value, expected: serde_json::Value) {
    let mut object: T = serde_json::from_value(input).unwrap();
    object.apply_defaults();
    assert_eq!(serde_json::to_value(&object).unwrap(), expected);
}

#[test]
fn pod_defaults() {
    check::<Pod>(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{
            "name": "c", "image": "nginx",
            "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "1"}},
            "readinessProbe": {"httpGet": {"port": 80}}
        }]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "containers": [{
                "name": "c", "image": "nginx", "imagePullPolicy": "Always",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}},
                "readinessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                    "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "restartPolicy": "Always",
            "schedulerName": "default-scheduler", "securityContext": {},
            "terminationGracePeriodSeconds": 30
        }}),
    );
}

#[test]
fn image_pull_policy_follows_the_tag() {
    for (image, expected) in [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("registry:5000/nginx", "Always"),
        ("registry:5000/nginx:1.2", "IfNotPresent"),
        ("nginx@sha256:abc", "IfNotPresent"),
    ] {
        assert_eq!(default_image_pull_policy(image), expected, "{image}");
    }
}

#[test]
fn service_defaults() {
    check::<Service>(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {
            "type": "NodePort", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "sessionAffinity": "None", "internalTrafficPolicy": "Cluster", "externalTrafficPolicy": "Cluster"
        }}),
    );
}

#[test]
fn deployment_defaults() {
    let mut deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}
    }))
    .unwrap();
    deployment.apply_defaults();
    let spec = serde_json::to_value(deployment.spec.unwrap()).unwrap();
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Always");
}

fn qos_container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
    let list = |pairs: &[(&str, &str)]| -> Option<BTreeMap<String, Quantity>> {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect()
        })
    };
    Container {
        name: "c".into(),
        resources: Some(ResourceRequirements {
            requests: list(requests),
            limits: list(limits),
            ..Default::default()
        }),
        ..Container::default()
    }
}

fn check_qos(containers: Vec<Container>, expected: &str) {
    let spec = PodSpec {
        containers,
        ..PodSpec::default()
    };
    assert_eq!(qos_class(&spec), expected);
}

#[test]
fn qos_classes() {
    check_qos(vec![qos_container(&[], &[])], "BestEffort");
    check_qos(
        vec![qos_container(&[("ephemeral-storage", "1Gi")], &[])],
        "BestEffort",
    );
    check_qos(
        vec![qos_container(
            &[("cpu", "1"), ("memory", "1Gi")],
            &[("cpu", "1"), ("memory", "1Gi")],
        )],
        "Guaranteed",
    );
    check_qos(
        vec![qos_container(
            &[("cpu", "1000m"), ("memory", "1Gi")],
            &[("cpu", "1"), ("memory", "1024Mi")],
        )],
        "Guaranteed",
    );
    check_qos(
        vec![qos_container(
            &[("cpu", "500m")],
            &[("cpu", "1"), ("memory", "1Gi")],
        )],
        "Burstable",
    );
    check_qos(
        vec![qos_container(&[("cpu", "1")], &[("cpu", "1")])],
        "Burstable",
    );
    check_qos(
        vec![
            qos_container(
                &[("cpu", "1"), ("memory", "1Gi")],
                &[("cpu", "1"), ("memory", "1Gi")],
            ),
            qos_container(&[], &[]),
        ],
        "Burstable",
    );
}
