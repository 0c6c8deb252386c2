//! The REST face over plain HTTP on loopback: the verbs as Kubernetes
//! clients call them, errors as `Status` bodies with the right codes, and
//! watch streams; the objects are the ones the gRPC face sees.

use std::net::SocketAddr;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use apiserver::Config;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::common::{
    ADMIN_TOKEN, NOBODY_TOKEN, count_keys, memory_store, node, start_rest, wait_until,
};

/// One HTTP/1.1 request on a fresh connection as the admin; the status
/// and the body.
pub(crate) async fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    call_as(Some(ADMIN_TOKEN), address, method, path, content_type, body).await
}

/// One HTTP/1.1 request with `token` (none: anonymous).
pub(crate) async fn call_as(
    token: Option<&str>,
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = crate::common::send_as(token, address, request).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

pub(crate) async fn json_call(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&body).unwrap()
    };
    let (status, bytes) = call(address, method, path, "application/json", bytes).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

#[tokio::test]
async fn verbs_and_statuses() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let pods = "/api/v1/namespaces/default/pods";

    let (status, created) = json_call(address, "POST", pods, pod("web-0")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"]["phase"], "Pending");
    let (status, again) = json_call(address, "POST", pods, pod("web-0")).await;
    assert_eq!(
        (status, again["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    assert_eq!(again["kind"], "Status");
    assert_eq!(again["details"]["name"], "web-0");

    // The gRPC face sees the same object.
    let seen: Pod = server.client.get("default", "web-0").await.unwrap();
    assert_eq!(
        seen.metadata.resource_version.as_deref(),
        created["metadata"]["resourceVersion"].as_str()
    );

    let (status, got) = json_call(address, "GET", &format!("{pods}/web-0"), Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);

    let (status, list) = json_call(
        address,
        "GET",
        &format!("{pods}?labelSelector=app%3Dweb"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["metadata"]["resourceVersion"].is_string());

    let (status, missing) = json_call(address, "GET", &format!("{pods}/nope"), Value::Null).await;
    assert_eq!(status, 404);
    assert_eq!(missing["message"], "pods \"nope\" not found");

    // Validation: 422 with the field path, the same text gRPC gives.
    let (status, invalid) = json_call(address, "POST", pods, pod("Bad_Name")).await;
    assert_eq!(status, 422, "{invalid}");
    assert_eq!(invalid["reason"], "Invalid");
    assert_eq!(invalid["details"]["causes"][0]["field"], "metadata.name");

    // Merge patch, then a stale update.
    let (status, patched) = call(
        address,
        "PATCH",
        &format!("{pods}/web-0"),
        "application/merge-patch+json",
        br#"{"metadata":{"labels":{"tier":"front"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    let patched: Value = serde_json::from_slice(&patched).unwrap();
    assert_eq!(patched["metadata"]["labels"]["tier"], "front");
    let mut stale = created.clone();
    stale["metadata"]["labels"] = json!({"x": "y"});
    let (status, conflict) = json_call(address, "PUT", &format!("{pods}/web-0"), stale).await;
    assert_eq!(
        (status, conflict["reason"].as_str()),
        (409, Some("Conflict"))
    );

    // Binding, as alternate schedulers do it.
    server.client.create("", &node("n1")).await.unwrap();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web-0"},
                          "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
    let (status, bound) =
        json_call(address, "POST", &format!("{pods}/web-0/binding"), binding).await;
    assert_eq!(status, 201, "{bound}");
    let seen: Pod = server.client.get("default", "web-0").await.unwrap();
    assert_eq!(seen.spec.unwrap().node_name.as_deref(), Some("n1"));

    // Delete: a bound pod waits for its kubelet (202), then grace 0 removes it.
    let (status, _) = json_call(address, "DELETE", &format!("{pods}/web-0"), Value::Null).await;
    assert_eq!(status, 202);
    let (status, _) = json_call(
        address,
        "DELETE",
        &format!("{pods}/web-0"),
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json_call(address, "GET", &format!("{pods}/web-0"), Value::Null).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn hostile_requests_get_a_clear_4xx_and_store_nothing() {
    let mut config = Config::new(memory_store());
    config.max_request_bytes = 64 * 1024;
    let (server, address) = start_rest(config).await;
    let before = count_keys(&server.store, "/registry/").await;
    let pods = "/api/v1/namespaces/default/pods";
    let check = |expected: u16, (status, body): (u16, Vec<u8>)| {
        assert_eq!(status, expected, "{}", String::from_utf8_lossy(&body));
        let status: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], expected);
    };
    let huge = serde_json::to_vec(
        &json!({"metadata": {"name": "x", "annotations": {"a": "b".repeat(100_000)}}}),
    )
    .unwrap();
    check(
        413,
        call(address, "POST", pods, "application/json", huge).await,
    );
    check(
        400,
        call(address, "POST", pods, "application/json", b"{nope".to_vec()).await,
    );
    check(
        400,
        call(
            address,
            "POST",
            pods,
            "application/json",
            vec![b'{', 0xff, b'}'],
        )
        .await,
    );
    let service = serde_json::to_vec(
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
    )
    .unwrap();
    check(
        400,
        call(address, "POST", pods, "application/json", service).await,
    );
    check(
        415,
        call(address, "POST", pods, "application/xml", b"<pod/>".to_vec()).await,
    );
    check(
        400,
        call(
            address,
            "GET",
            &format!("{pods}?bogus=1"),
            "application/json",
            Vec::new(),
        )
        .await,
    );
    check(
        400,
        call(
            address,
            "GET",
            &format!("{pods}?labelSelector=app%20in%20(x"),
            "",
            Vec::new(),
        )
        .await,
    );
    check(
        404,
        call(address, "GET", "/api/v1/widgets", "", Vec::new()).await,
    );
    check(
        404,
        call(address, "GET", "/apis/apps/v1/pods", "", Vec::new()).await,
    );
    check(
        405,
        call(address, "PUT", pods, "application/json", b"{}".to_vec()).await,
    );
    check(
        503,
        call(address, "GET", &format!("{pods}/p/log"), "", Vec::new()).await,
    );
    assert_eq!(count_keys(&server.store, "/registry/").await, before);
}

/// Reads watch events (one JSON object per line) from a streaming response
/// until `want` have arrived; periodic bookmarks (which may come at any
/// time once allowed) are skipped when `skip_bookmarks`.
pub(crate) async fn read_events(
    body: &mut hyper::body::Incoming,
    buffer: &mut Vec<u8>,
    want: usize,
    skip_bookmarks: bool,
) -> Vec<Value> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.len() < want {
        while let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let event: Value = serde_json::from_slice(&line).unwrap();
            if !(skip_bookmarks && event["type"] == "BOOKMARK") {
                events.push(event);
            }
        }
        if events.len() >= want {
            break;
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("watch events in time")
            .expect("stream open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
        }
    }
    events
}

#[tokio::test]
async fn watch_streams_events_and_bookmarks() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let pods = "/api/v1/namespaces/default/pods";
    let (_, created) = json_call(address, "POST", pods, pod("a")).await;
    let from = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let request = http::Request::builder()
        .uri(format!(
            "{pods}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={from}"
        ))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = crate::common::send(address, request).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    let head = read_events(&mut body, &mut buffer, 2, false).await;
    assert_eq!(head[0]["type"], "ADDED");
    assert_eq!(head[0]["object"]["metadata"]["name"], "a");
    assert_eq!(head[1]["type"], "BOOKMARK");
    assert_eq!(
        head[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    json_call(address, "POST", pods, pod("b")).await;
    json_call(address, "DELETE", &format!("{pods}/a"), Value::Null).await;
    let live = read_events(&mut body, &mut buffer, 2, true).await;
    assert_eq!(live[0]["type"], "ADDED");
    assert_eq!(live[0]["object"]["metadata"]["name"], "b");
    assert_eq!(live[1]["type"], "DELETED");
    assert_eq!(live[1]["object"]["metadata"]["name"], "a");

    drop(server);
}

/// Boolean query values are read as Go's `strconv.ParseBool` reads them:
/// the Python client before version 32 sends `watch=True`.
#[tokio::test]
async fn boolean_query_values_in_go_spellings() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let pods = "/api/v1/namespaces/default/pods";
    let (_, created) = json_call(address, "POST", pods, pod("a")).await;
    let from = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, list) =
        json_call(address, "GET", &format!("{pods}?watch=False"), Value::Null).await;
    assert_eq!((status, list["kind"].as_str()), (200, Some("PodList")));
    let (status, bad) = json_call(address, "GET", &format!("{pods}?watch=yes"), Value::Null).await;
    assert_eq!((status, bad["reason"].as_str()), (400, Some("BadRequest")));

    let request = http::Request::builder()
        .uri(format!(
            "{pods}?watch=True&allowWatchBookmarks=True&resourceVersion={from}"
        ))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = crate::common::send(address, request).await;
    assert_eq!(response.status().as_u16(), 200);
    json_call(address, "POST", pods, pod("b")).await;
    let mut body = response.into_body();
    let events = read_events(&mut body, &mut Vec::new(), 1, true).await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["metadata"]["name"], "b");

    drop(server);
}

#[tokio::test]
async fn watch_from_before_the_window_is_gone() {
    let mut config = Config::new(memory_store());
    config.watch_window_events = 2;
    let (_server, address) = start_rest(config).await;
    let pods = "/api/v1/namespaces/default/pods";
    let (_, first) = json_call(address, "POST", pods, pod("p0")).await;
    let from = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // The first watch creates the cache; more events move its window on.
    let (status, _) = call(
        address,
        "GET",
        &format!("{pods}?watch=1&resourceVersion={from}&timeoutSeconds=0"),
        "",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    for index in 1..6 {
        json_call(address, "POST", pods, pod(&format!("p{index}"))).await;
    }
    wait_until(Duration::from_secs(5), || {
        let path = format!("{pods}?watch=1&resourceVersion={from}&timeoutSeconds=0");
        async move {
            let (status, body) = call(address, "GET", &path, "", Vec::new()).await;
            status == 410 && serde_json::from_slice::<Value>(&body).unwrap()["reason"] == "Expired"
        }
    })
    .await;
    let (status, body) = call(
        address,
        "GET",
        &format!("{pods}?watch=1&resourceVersion=-5"),
        "",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn authentication_and_rbac() {
    let (_server, address) = start_rest(Config::new(memory_store())).await;
    let pods = "/api/v1/namespaces/default/pods";
    // Anonymous: health and version only.
    let (status, _) = call_as(None, address, "GET", "/healthz", "", Vec::new()).await;
    assert_eq!(status, 200);
    let (status, _) = call_as(None, address, "GET", "/version", "", Vec::new()).await;
    assert_eq!(status, 200);
    let (status, body) = call_as(None, address, "GET", pods, "", Vec::new()).await;
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    // A bad token is a 401, whatever it asks for.
    let (status, _) = call_as(Some("wrong"), address, "GET", "/healthz", "", Vec::new()).await;
    assert_eq!(status, 401);
    // An authenticated user without roles: discovery, but not pods.
    let (status, _) = call_as(Some(NOBODY_TOKEN), address, "GET", "/api", "", Vec::new()).await;
    assert_eq!(status, 200);
    let (status, body) = call_as(Some(NOBODY_TOKEN), address, "GET", pods, "", Vec::new()).await;
    assert_eq!(status, 403);
    let denial: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        denial["message"],
        "pods is forbidden: User \"nobody\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    // can-i agrees with enforcement, before and after a RoleBinding to view.
    let can_i = |verb: &str| {
        serde_json::to_vec(&json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": "default", "verb": verb, "resource": "pods"}}}))
        .unwrap()
    };
    let reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let (status, body) = call_as(
        Some(NOBODY_TOKEN),
        address,
        "POST",
        reviews,
        "application/json",
        can_i("list"),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["status"]["allowed"],
        false
    );
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "nobody-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "nobody"}]});
    let (status, _) = json_call(
        address,
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        binding,
    )
    .await;
    assert_eq!(status, 201);
    wait_until(Duration::from_secs(5), || async {
        let (status, _) = call_as(Some(NOBODY_TOKEN), address, "GET", pods, "", Vec::new()).await;
        status == 200
    })
    .await;
    let (_, body) = call_as(
        Some(NOBODY_TOKEN),
        address,
        "POST",
        reviews,
        "application/json",
        can_i("list"),
    )
    .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["status"]["allowed"],
        true
    );
    let (_, body) = call_as(
        Some(NOBODY_TOKEN),
        address,
        "POST",
        reviews,
        "application/json",
        can_i("delete"),
    )
    .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["status"]["allowed"],
        false
    );
    let (status, _) = call_as(
        Some(NOBODY_TOKEN),
        address,
        "DELETE",
        &format!("{pods}/x"),
        "",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn service_account_tokens_authenticate() {
    let (_server, address) = start_rest(Config::new(memory_store())).await;
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}});
    let (status, _) = json_call(
        address,
        "POST",
        "/api/v1/namespaces/default/serviceaccounts",
        account,
    )
    .await;
    assert_eq!(status, 201);
    let (status, issued) = json_call(
        address,
        "POST",
        "/api/v1/namespaces/default/serviceaccounts/robot/token",
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["status"]["token"].as_str().unwrap().to_string();
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}});
    let (_, reviewed) = json_call(
        address,
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        review,
    )
    .await;
    assert_eq!(reviewed["status"]["authenticated"], true);
    assert_eq!(
        reviewed["status"]["user"]["username"],
        "system:serviceaccount:default:robot"
    );
    let whoami = serde_json::to_vec(
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    )
    .unwrap();
    let (status, body) = call_as(
        Some(&token),
        address,
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        "application/json",
        whoami,
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let me: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        me["status"]["userInfo"]["username"],
        "system:serviceaccount:default:robot"
    );
}

/// A request body kubectl 1.32 sent for a command, as captured.
fn kubectl_body(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/src/rest/protobuf/testdata/kubectl-{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap()
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

#[tokio::test]
async fn protobuf_bodies_from_kubectl_create_objects() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let created = |(status, body): (u16, Vec<u8>)| {
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice::<Value>(&body).unwrap()
    };

    let namespace = created(
        call(
            address,
            "POST",
            "/api/v1/namespaces",
            PROTOBUF,
            kubectl_body("namespace"),
        )
        .await,
    );
    assert_eq!(namespace["metadata"]["name"], "demo");
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = created(
        call(
            address,
            "POST",
            deployments,
            PROTOBUF,
            kubectl_body("deployment"),
        )
        .await,
    );
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx"
    );
    let review = created(
        call(
            address,
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            PROTOBUF,
            kubectl_body("ssar"),
        )
        .await,
    );
    assert_eq!(review["status"]["allowed"], true);

    // `kubectl drain --disable-eviction` deletes with protobuf DeleteOptions.
    let pods = "/api/v1/namespaces/default/pods";
    let (status, _) = json_call(address, "POST", pods, pod("p1")).await;
    assert_eq!(status, 201);
    let (status, body) = call(
        address,
        "DELETE",
        &format!("{pods}/p1"),
        PROTOBUF,
        kubectl_body("delete-options"),
    )
    .await;
    assert!(
        status == 200 || status == 202,
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );

    // A body that is not protobuf, or is cut short, is a 400 Status and
    // stores nothing.
    let before = count_keys(&server.store, "/registry/").await;
    let (status, body) = call(address, "POST", deployments, PROTOBUF, b"{}".to_vec()).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let status_body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status_body["kind"], "Status");
    let mut truncated = kubectl_body("deployment");
    truncated.truncate(truncated.len() - 10);
    let (status, _) = call(address, "POST", deployments, PROTOBUF, truncated).await;
    assert_eq!(status, 400);
    assert_eq!(count_keys(&server.store, "/registry/").await, before);
}

#[tokio::test]
async fn field_validation_strict_warn_and_ignore() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let pods = "/api/v1/namespaces/default/pods";
    let with_unknown = |name: &str| {
        let mut body = pod(name);
        body["spec"]["bogus"] = json!(1);
        body["spec"]["containers"][0]["extra"] = json!("x");
        serde_json::to_vec(&body).unwrap()
    };
    let (status, body) = call(
        address,
        "POST",
        &format!("{pods}?fieldValidation=Strict"),
        "application/json",
        with_unknown("strict"),
    )
    .await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let message = serde_json::from_slice::<Value>(&body).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.starts_with("strict decoding error: "), "{message}");
    assert!(
        message.contains("unknown field \"spec.bogus\""),
        "{message}"
    );
    assert!(
        message.contains("unknown field \"spec.containers[0].extra\""),
        "{message}"
    );
    assert!(server.client.get::<Pod>("default", "strict").await.is_err());

    // Warn: stored, with one Warning header per field.
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{pods}?fieldValidation=Warn"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(with_unknown("warned"))))
        .unwrap();
    let response = crate::common::send(address, request).await;
    assert_eq!(response.status().as_u16(), 201);
    let warnings: Vec<String> = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        warnings,
        [
            "299 - \"unknown field \\\"spec.bogus\\\"\"",
            "299 - \"unknown field \\\"spec.containers[0].extra\\\"\""
        ]
    );
    // Ignore (and no parameter): stored without the fields.
    let (status, _) = call(
        address,
        "POST",
        &format!("{pods}?fieldValidation=Ignore"),
        "application/json",
        with_unknown("ignored"),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        address,
        "POST",
        &format!("{pods}?fieldValidation=Sometimes"),
        "application/json",
        with_unknown("bad"),
    )
    .await;
    assert_eq!(status, 400);
}
