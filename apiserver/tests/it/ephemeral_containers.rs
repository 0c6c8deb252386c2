//! The `pods/ephemeralcontainers` subresource over REST, as `kubectl debug`
//! uses it: it adds debugging containers and nothing else, never removes or
//! changes one, and PodSecurity checks them.

use apiserver::Config;
use serde_json::{Value, json};

use crate::bodies::call_warned;
use crate::common::{memory_store, start_rest};
use crate::rest::json_call;

const POD: &str = "/api/v1/namespaces/guarded/pods/web";
const EPHEMERAL: &str = "/api/v1/namespaces/guarded/pods/web/ephemeralcontainers";
const STRATEGIC: &str = "application/strategic-merge-patch+json";

fn debugger(name: &str) -> Value {
    json!({"name": name, "image": "busybox:1.36", "targetContainerName": "c"})
}

async fn patch(address: std::net::SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let (status, _, answer) = call_warned(
        address,
        "PATCH",
        path,
        STRATEGIC,
        body.to_string().as_bytes(),
    )
    .await;
    (status, answer)
}

fn names(pod: &Value) -> Vec<String> {
    pod["spec"]["ephemeralContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|container| container["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn ephemeral_containers_are_added_through_their_subresource_only() {
    let (_server, address) = start_rest(Config::new(memory_store())).await;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "guarded",
        "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
    let (status, _) = json_call(address, "POST", "/api/v1/namespaces", namespace).await;
    assert_eq!(status, 201);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (status, created) =
        json_call(address, "POST", "/api/v1/namespaces/guarded/pods", pod).await;
    assert_eq!(status, 201, "{created}");

    // Added through the subresource; the rest of the body is ignored.
    let (status, patched) = patch(
        address,
        EPHEMERAL,
        json!({"spec": {"ephemeralContainers": [debugger("dbg")],
                        "containers": [{"name": "c", "image": "nginx:changed"}]}}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(names(&patched), ["dbg"]);
    assert_eq!(patched["spec"]["containers"][0]["image"], "nginx");
    let (status, got) = json_call(address, "GET", EPHEMERAL, Value::Null).await;
    assert_eq!((status, got["kind"].as_str()), (200, Some("Pod")));
    assert_eq!(names(&got), ["dbg"]);

    // A plain patch of the pod may not add one.
    let (status, refused) = patch(
        address,
        POD,
        json!({"spec": {"ephemeralContainers": [debugger("dbg"), debugger("sneaky")]}}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");

    // One that breaks the namespace's PodSecurity level is refused.
    let mut privileged = debugger("root");
    privileged["securityContext"] = json!({"privileged": true});
    let (status, refused) = patch(
        address,
        EPHEMERAL,
        json!({"spec": {"ephemeralContainers": [debugger("dbg"), privileged]}}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    let message = refused["message"].as_str().unwrap_or("");
    assert!(
        message
            .contains("violates PodSecurity \"baseline:latest\": privileged (container \"root\""),
        "{message}"
    );

    // Removing one is refused, naming it.
    let (_, mut current) = json_call(address, "GET", POD, Value::Null).await;
    current["spec"]["ephemeralContainers"] = json!([]);
    let (status, refused) = json_call(address, "PUT", EPHEMERAL, current).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["details"]["causes"][0]["field"],
        "spec.ephemeralContainers"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or("")
            .contains("existing ephemeral containers \"dbg\" may not be removed"),
        "{refused}"
    );

    // Nothing of the refused writes was stored.
    let (_, stored) = json_call(address, "GET", POD, Value::Null).await;
    assert_eq!(names(&stored), ["dbg"]);

    // Only pods have the subresource.
    let (status, _) = json_call(
        address,
        "GET",
        "/api/v1/namespaces/guarded/services/web/ephemeralcontainers",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}
