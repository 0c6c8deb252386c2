//! Request bodies on the REST face beyond JSON: YAML creates and updates,
//! and `fieldValidation` on the objects JSON, merge and strategic merge
//! patches produce.

use std::net::SocketAddr;

use api::k8s_openapi::api::core::v1::Pod;
use apiserver::Config;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::common::{count_keys, memory_store, start_rest};
use crate::rest::{call, json_call};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// One request as the admin: the status, the `Warning` headers and the
/// body as JSON (null if it is not).
pub(crate) async fn call_warned(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<String>, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body.to_vec())))
        .unwrap();
    let response = crate::common::send(address, request).await;
    let status = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, warnings, body)
}

fn yaml_pod(name: &str, extra_spec_line: &str) -> Vec<u8> {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: web\nspec:\n  containers:\n  - name: c\n    image: nginx\n{extra_spec_line}"
    )
    .into_bytes()
}

#[tokio::test]
async fn yaml_bodies_create_and_update() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let (status, _, created) = call_warned(
        address,
        "POST",
        PODS,
        "application/yaml",
        &yaml_pod("from-yaml", ""),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["metadata"]["labels"]["app"], "web");
    let (status, got) = json_call(address, "GET", &format!("{PODS}/from-yaml"), Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(got["spec"]["containers"][0]["image"], "nginx");
    let seen: Pod = server.client.get("default", "from-yaml").await.unwrap();
    assert_eq!(
        seen.metadata.uid.as_deref(),
        got["metadata"]["uid"].as_str()
    );

    // A create and an update of a ConfigMap in YAML, with a charset
    // parameter on the type.
    let config_maps = "/api/v1/namespaces/default/configmaps";
    let (status, _, created) = call_warned(
        address,
        "POST",
        config_maps,
        "application/yaml; charset=utf-8",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let version = created["metadata"]["resourceVersion"].as_str().unwrap();
    let update = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  resourceVersion: \"{version}\"\ndata:\n  mode: slow\n  # a comment, then a block scalar\n  script: |\n    echo one\n    echo two\n"
    );
    let (status, _, updated) = call_warned(
        address,
        "PUT",
        &format!("{config_maps}/settings"),
        "application/yaml",
        update.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["data"],
        json!({"mode": "slow", "script": "echo one\necho two\n"})
    );
}

#[tokio::test]
async fn invalid_yaml_is_a_400_and_stores_nothing() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let before = count_keys(&server.store, "/registry/").await;
    for body in [
        &b"apiVersion: v1\nkind: Pod\nmetadata: {name: [broken\n"[..],
        &b"apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n"[..],
        &b"metadata:\n\tname: tab\n"[..],
    ] {
        let (status, bytes) = call(address, "POST", PODS, "application/yaml", body.to_vec()).await;
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["kind"], "Status");
        assert_eq!(answer["reason"], "BadRequest");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with("the request body is not valid YAML: "),
            "{message}"
        );
    }
    assert_eq!(count_keys(&server.store, "/registry/").await, before);
}

#[tokio::test]
async fn yaml_and_json_bodies_get_the_same_strict_error() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let strict = format!("{PODS}?fieldValidation=Strict");
    let (yaml_status, _, yaml_answer) = call_warned(
        address,
        "POST",
        &strict,
        "application/yaml",
        &yaml_pod("strict", "  bogus: 1\n"),
    )
    .await;
    let json_body = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "strict", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], "bogus": 1}});
    let (json_status, _, json_answer) = call_warned(
        address,
        "POST",
        &strict,
        "application/json",
        &serde_json::to_vec(&json_body).unwrap(),
    )
    .await;
    assert_eq!(yaml_status, 400, "{yaml_answer}");
    assert_eq!((yaml_status, &yaml_answer), (json_status, &json_answer));
    assert_eq!(
        yaml_answer["message"],
        "strict decoding error: unknown field \"spec.bogus\""
    );
    assert!(server.client.get::<Pod>("default", "strict").await.is_err());

    // Warn on a YAML body: stored, with the warning.
    let (status, warnings, _) = call_warned(
        address,
        "POST",
        &format!("{PODS}?fieldValidation=Warn"),
        "application/yaml",
        &yaml_pod("warned", "  bogus: 1\n"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(warnings, ["299 - \"unknown field \\\"spec.bogus\\\"\""]);
    let (status, _, _) = call_warned(
        address,
        "POST",
        PODS,
        "application/yaml",
        &yaml_pod("ignored", "  bogus: 1\n"),
    )
    .await;
    assert_eq!(status, 201);
}

/// The patch types checked under `fieldValidation`, each with a body that
/// adds `spec.bogus` and a label.
fn patches_adding_an_unknown_field() -> [(&'static str, Vec<u8>); 3] {
    [
        (
            "application/merge-patch+json",
            br#"{"metadata":{"labels":{"patched":"merge"}},"spec":{"bogus":1}}"#.to_vec(),
        ),
        (
            "application/strategic-merge-patch+json",
            br#"{"metadata":{"labels":{"patched":"strategic"}},"spec":{"bogus":1}}"#.to_vec(),
        ),
        (
            "application/json-patch+json",
            br#"[{"op":"add","path":"/metadata/labels/patched","value":"json"},{"op":"add","path":"/spec/bogus","value":1}]"#
                .to_vec(),
        ),
    ]
}

#[tokio::test]
async fn field_validation_applies_to_patched_objects() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let (status, _) = call(
        address,
        "POST",
        PODS,
        "application/yaml",
        yaml_pod("target", ""),
    )
    .await;
    assert_eq!(status, 201);
    let target = format!("{PODS}/target");
    let version = |pod: &Pod| pod.metadata.resource_version.clone().unwrap();
    for (content_type, body) in patches_adding_an_unknown_field() {
        let before: Pod = server.client.get("default", "target").await.unwrap();
        let (status, warnings, answer) = call_warned(
            address,
            "PATCH",
            &format!("{target}?fieldValidation=Strict"),
            content_type,
            &body,
        )
        .await;
        assert_eq!(status, 400, "{content_type}: {answer}");
        assert!(warnings.is_empty());
        assert_eq!(answer["reason"], "BadRequest");
        assert_eq!(
            answer["message"], "strict decoding error: unknown field \"spec.bogus\"",
            "{content_type}"
        );
        let after: Pod = server.client.get("default", "target").await.unwrap();
        assert_eq!(version(&after), version(&before), "{content_type}");

        let (status, warnings, answer) = call_warned(
            address,
            "PATCH",
            &format!("{target}?fieldValidation=Warn"),
            content_type,
            &body,
        )
        .await;
        assert_eq!(status, 200, "{content_type}: {answer}");
        assert_eq!(
            warnings,
            ["299 - \"unknown field \\\"spec.bogus\\\"\""],
            "{content_type}"
        );
        assert!(answer["spec"].get("bogus").is_none());
        assert!(answer["metadata"]["labels"]["patched"].is_string());

        // Without the parameter the field is dropped silently.
        let (status, warnings, _) =
            call_warned(address, "PATCH", &target, content_type, &body).await;
        assert_eq!(status, 200, "{content_type}");
        assert!(warnings.is_empty());
    }
    // A patch adding only known fields gets no warnings under Warn.
    let (status, warnings, _) = call_warned(
        address,
        "PATCH",
        &format!("{target}?fieldValidation=Warn"),
        "application/merge-patch+json",
        br#"{"metadata":{"labels":{"known":"yes"}}}"#,
    )
    .await;
    assert_eq!((status, warnings.len()), (200, 0));
    let (status, _, answer) = call_warned(
        address,
        "PATCH",
        &format!("{target}?fieldValidation=Sometimes"),
        "application/merge-patch+json",
        br#"{"metadata":{"labels":{"known":"no"}}}"#,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn pod_security_warn_admits_with_a_warning_and_enforce_refuses() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "guarded",
        "labels": {"pod-security.kubernetes.io/warn": "baseline",
                   "pod-security.kubernetes.io/enforce": "privileged"}}});
    let (status, _, _) = call_warned(
        address,
        "POST",
        "/api/v1/namespaces",
        "application/json",
        namespace.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 201);
    let pods = "/api/v1/namespaces/guarded/pods";
    let (status, warnings, _) = call_warned(
        address,
        "POST",
        pods,
        "application/yaml",
        &yaml_pod("host", "  hostNetwork: true\n"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        warnings,
        [
            "299 - \"would violate PodSecurity \\\"baseline:latest\\\": host namespaces (hostNetwork=true)\""
        ]
    );
    // A pod that meets the level gets no warning.
    let (status, warnings, _) = call_warned(
        address,
        "POST",
        pods,
        "application/yaml",
        &yaml_pod("plain", ""),
    )
    .await;
    assert_eq!((status, warnings.len()), (201, 0));
    // Enforcing the same level refuses it, and stores nothing.
    let relabel =
        json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
    let (status, _, _) = call_warned(
        address,
        "PATCH",
        "/api/v1/namespaces/guarded",
        "application/merge-patch+json",
        relabel.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, body) = call_warned(
        address,
        "POST",
        pods,
        "application/yaml",
        &yaml_pod("host-2", "  hostNetwork: true\n"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        count_keys(&server.store, "/registry/pods/guarded/host-2").await,
        0
    );
}
