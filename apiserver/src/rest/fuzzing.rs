//! Every decoder the REST face runs on untrusted request bytes, called in
//! one pass over one input: the fuzz target in `fuzz/` and the corpus
//! replay test drive them through [`crate::fuzzing::decode_request`].
//!
//! The input is split at its first two newlines into a path, a query
//! string and a body. The path goes through the path parser; the query
//! through the query parser and every typed reader of it (flags,
//! integers, `dryRun`, `fieldValidation`, list and watch options, label and
//! field selectors, continue tokens); the body through the body decoders
//! of each media type (JSON, YAML, Kubernetes protobuf) and then, as
//! JSON, through the typed decoding, strict field checks and DeleteOptions
//! of a request, and through every patch format against a stored Pod and
//! Deployment. Results are dropped: what matters is that no input panics,
//! overflows the stack or runs away with memory or time.

use std::sync::{Arc, Mutex};

use api::k8s_openapi::api::apps::v1::Deployment;
use api::k8s_openapi::api::core::v1::Pod;
use prost::bytes::Bytes;
use serde_json::{Value, json};

use crate::DEFAULT_MAX_REQUEST_BYTES;
use crate::filter::Filter;
use crate::kinds::{KindOps, KindTable};
use crate::patch::{self, PatchType, apply::ApplyRequest};
use crate::rest::handler::{self, FieldValidation};
use crate::rest::path::{self, PathInfo};
use crate::rest::protobuf;
use crate::rest::query::{self, Query};
use crate::verbs;

/// Runs every decoder on `data` (see the module documentation for how it
/// is split).
pub(crate) fn decode_request(data: &[u8]) {
    let (path_bytes, rest) = split_line(data);
    let (query_bytes, body) = split_line(rest);
    let path_info = path::parse(&String::from_utf8_lossy(path_bytes));
    let query = Query::parse(Some(&String::from_utf8_lossy(query_bytes))).unwrap_or_default();
    read_query(&path_info, &query);
    // The server refuses a longer body (413) before decoding it.
    if body.len() > DEFAULT_MAX_REQUEST_BYTES {
        return;
    }
    let body = Bytes::copy_from_slice(body);
    let kinds = KindTable::new();
    let (Ok(pods), Ok(deployments)) = (kinds.get("pods"), kinds.get("deployments")) else {
        debug_assert!(false, "pods and deployments are built-in kinds");
        return;
    };
    read_body(&pods, &query, &body);
    patch_stored(&pods, &stored_pod(), &query, &body);
    patch_stored(&deployments, &stored_deployment(), &query, &body);
}

/// The bytes before the first newline, and those after it (none if there
/// is no newline).
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// Every typed reading of a query the verbs do.
fn read_query(path_info: &PathInfo, query: &Query) {
    let _ = query.only(&[
        query::LIST,
        query::GET,
        query::WRITE,
        query::PATCH,
        query::DELETE,
    ]);
    for flag in [
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "force",
        "orphanDependents",
    ] {
        let _ = query.flag(flag);
    }
    let _ = query.integer("gracePeriodSeconds");
    let _ = query.dry_run();
    let _ = query.timeout_seconds();
    let _ = handler::include_object(query);
    let _ = handler::field_validation(query);
    if let PathInfo::Resource(resource) = path_info {
        if let Ok(list) = handler::list_options(resource, query) {
            let _ = Filter::parse(
                &resource.resource,
                &list.namespace,
                &list.label_selector,
                &list.field_selector,
            );
            let _ = verbs::parse_continue(&list.continue_token);
        }
        let _ = handler::watch_options(resource, query);
    }
}

/// A create, update or delete body in each media type the face accepts,
/// then what the verbs do with the JSON.
fn read_body(pods: &Arc<dyn KindOps>, query: &Query, body: &Bytes) {
    for content_type in [
        "application/json",
        handler::YAML_MEDIA_TYPE,
        protobuf::MEDIA_TYPE,
    ] {
        let Ok(json) = handler::decode_json_body(content_type, body.clone()) else {
            continue;
        };
        let _ = handler::check_fields(pods.as_ref(), FieldValidation::Strict, &json);
        let _ = verbs::decode_body::<Pod>(&json);
        let _ = verbs::decode_body::<Deployment>(&json);
        let _ = handler::delete_options(query, &json);
    }
}

/// The body as each patch format, applied to `stored` as a PATCH would,
/// then decoded as the kind as the patch verb does.
fn patch_stored(kind: &Arc<dyn KindOps>, stored: &Value, query: &Query, body: &Bytes) {
    let warnings: handler::PatchWarnings = Arc::new(Mutex::new(Vec::new()));
    for patch_type in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
        let Ok(patcher) =
            handler::patcher(kind, patch_type, body.clone(), query, "fuzz", &warnings)
        else {
            continue;
        };
        if let Ok(patched) = patcher(stored) {
            decode_patched(kind.as_ref(), patched);
        }
    }
    let now =
        api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(crate::object::now_timestamp());
    for live in [Some(stored), None] {
        let request = ApplyRequest {
            kind: kind.info(),
            live,
            body,
            field_manager: "fuzz",
            force: false,
            now: &now,
        };
        if let Ok(applied) = patch::apply::server_side_apply(&request) {
            decode_patched(kind.as_ref(), applied);
        }
    }
}

fn decode_patched(kind: &dyn KindOps, patched: Value) {
    match kind.info().plural {
        "pods" => drop(verbs::decode_value::<Pod>(patched)),
        "deployments" => drop(verbs::decode_value::<Deployment>(patched)),
        _ => {}
    }
}

/// A stored Pod with the lists strategic merge patch merges by key
/// (containers, ports, env, volumes, tolerations) and a managed field.
fn stored_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-0",
            "namespace": "default",
            "uid": "0b7d4d4e-5d6a-4c39-9d4e-6a8f8f0c9a11",
            "resourceVersion": "7",
            "labels": {"app": "web"},
            "annotations": {"note": "seed"},
            "finalizers": ["example.com/keep"],
            "managedFields": [{
                "manager": "kubectl",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2026-01-02T03:04:05Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}
            }]
        },
        "spec": {
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "prod"}],
                "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "nodeSelector": {"disk": "ssd"}
        },
        "status": {"phase": "Pending"}
    })
}

/// A stored Deployment: a pod template nested in a workload.
fn stored_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "9"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::split_line;

    #[test]
    fn splits_path_query_and_body() {
        let (path, rest) = split_line(b"/api/v1/pods\nlimit=1\n{\"a\":\n1}");
        let (query, body) = split_line(rest);
        assert_eq!(path, b"/api/v1/pods");
        assert_eq!(query, b"limit=1");
        assert_eq!(body, b"{\"a\":\n1}");
        assert_eq!(split_line(b"/healthz"), (&b"/healthz"[..], &b""[..]));
    }
}
