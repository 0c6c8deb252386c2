//! `metrics.k8s.io` through both faces: usage reported over gRPC
//! (`ReportUsage`), read over REST as metrics-server serves it, with the
//! labels of the stored Nodes and Pods.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use api::k8s_openapi::api::core::v1::{Namespace, Pod};
use apiserver::Config;
use client::proto;
use serde_json::{Value, json};

use crate::common::{NOBODY_TOKEN, memory_store, node, pod, start_rest, wait_until};
use crate::rest::{call_as, json_call};

const NODES: &str = "/apis/metrics.k8s.io/v1beta1/nodes";

fn now_millis() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

fn container(name: &str, milli_cpu: u64, mebibytes: u64) -> proto::ContainerUsage {
    proto::ContainerUsage {
        name: name.to_string(),
        cpu_nanocores: milli_cpu * 1_000_000,
        memory_working_set_bytes: mebibytes << 20,
    }
}

fn pod_usage(
    namespace: &str,
    name: &str,
    containers: Vec<proto::ContainerUsage>,
) -> proto::PodUsage {
    proto::PodUsage {
        namespace: namespace.to_string(),
        name: name.to_string(),
        containers,
    }
}

fn node_usage(name: &str, cpu_nanocores: u64, pods: Vec<proto::PodUsage>) -> proto::NodeUsage {
    proto::NodeUsage {
        name: name.to_string(),
        timestamp_unix_millis: now_millis(),
        window_millis: 15_000,
        cpu_nanocores,
        memory_working_set_bytes: 1536 << 20,
        pods,
    }
}

async fn get(address: SocketAddr, path: &str) -> (u16, Value) {
    json_call(address, "GET", path, Value::Null).await
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let namespace = item["metadata"]["namespace"].as_str().unwrap_or("");
            let name = item["metadata"]["name"].as_str().unwrap();
            if namespace.is_empty() {
                name.to_string()
            } else {
                format!("{namespace}/{name}")
            }
        })
        .collect()
}

/// A cluster of nodes n-0 (zone a), n-1 (zone b) and n-2 (never reports),
/// pods default/web-0, default/web-1 (app=web) and other/db (app=db), and
/// a report of n-0 (web-0, db) and n-1 (web-1).
async fn reported_cluster() -> (crate::common::TestServer, SocketAddr) {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    for (name, zone) in [("n-0", "a"), ("n-1", "b"), ("n-2", "a")] {
        let mut node = node(name);
        node.metadata.labels = Some([("zone".to_string(), zone.to_string())].into());
        server.client.create("", &node).await.unwrap();
    }
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some("other".to_string());
    server.client.create("", &namespace).await.unwrap();
    server
        .client
        .create("default", &pod("web-0"))
        .await
        .unwrap();
    server
        .client
        .create("default", &pod("web-1"))
        .await
        .unwrap();
    let mut db: Pod = pod("db");
    db.metadata.labels = Some([("app".to_string(), "db".to_string())].into());
    server.client.create("other", &db).await.unwrap();
    let report = proto::ReportUsageRequest {
        nodes: vec![
            node_usage(
                "n-0",
                123_456_789,
                vec![
                    pod_usage(
                        "default",
                        "web-0",
                        vec![container("c", 50, 64), container("sidecar", 1, 8)],
                    ),
                    pod_usage("other", "db", vec![container("c", 200, 512)]),
                ],
            ),
            node_usage(
                "n-1",
                150_000_000,
                vec![pod_usage("default", "web-1", vec![container("c", 75, 32)])],
            ),
        ],
    };
    let answer = server.client.report_usage(report).await.unwrap();
    assert_eq!(answer.accepted, 2);
    (server, address)
}

#[tokio::test]
async fn node_metrics_as_metrics_server_serves_them() {
    let (_server, address) = reported_cluster().await;
    let (status, list) = get(address, NODES).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["kind"], "NodeMetricsList");
    assert_eq!(list["apiVersion"], "metrics.k8s.io/v1beta1");
    // n-2 never reported, so it has no metrics.
    assert_eq!(names(&list), ["n-0", "n-1"]);
    let first = &list["items"][0];
    assert_eq!(
        first["usage"],
        json!({"cpu": "123456789n", "memory": "1536Mi"})
    );
    assert_eq!(first["window"], "15s");
    assert_eq!(first["metadata"]["labels"]["zone"], "a");
    assert!(first["metadata"]["creationTimestamp"].is_string());
    let timestamp = first["timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with('Z') && timestamp.contains('T'),
        "{timestamp}"
    );

    let (status, one) = get(address, &format!("{NODES}/n-1")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["kind"], "NodeMetrics");
    assert_eq!(one["apiVersion"], "metrics.k8s.io/v1beta1");
    assert_eq!(one["metadata"]["name"], "n-1");
    assert_eq!(one["usage"]["cpu"], "150m");

    let (status, zone_a) = get(address, &format!("{NODES}?labelSelector=zone%3Da")).await;
    assert_eq!(status, 200);
    assert_eq!(names(&zone_a), ["n-0"]);
    let (status, by_name) = get(
        address,
        &format!("{NODES}?fieldSelector=metadata.name%3Dn-1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&by_name), ["n-1"]);

    // A node without a sample, and one that does not exist: 404.
    for name in ["n-2", "nope"] {
        let (status, missing) = get(address, &format!("{NODES}/{name}")).await;
        assert_eq!(status, 404, "{missing}");
        assert_eq!(missing["reason"], "NotFound");
        assert_eq!(
            missing["message"],
            format!("nodemetrics.metrics.k8s.io \"{name}\" not found")
        );
        assert_eq!(
            missing["details"],
            json!({"name": name, "group": "metrics.k8s.io", "kind": "nodemetrics"})
        );
    }
    // Nodes are cluster-scoped.
    let (status, _) = get(
        address,
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/nodes",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pod_metrics_by_namespace_name_and_selector() {
    let (_server, address) = reported_cluster().await;
    let (status, all) = get(address, "/apis/metrics.k8s.io/v1beta1/pods").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["kind"], "PodMetricsList");
    assert_eq!(names(&all), ["default/web-0", "default/web-1", "other/db"]);

    let in_default = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods";
    let (status, list) = get(address, in_default).await;
    assert_eq!(status, 200);
    assert_eq!(names(&list), ["default/web-0", "default/web-1"]);
    let web_0 = &list["items"][0];
    assert_eq!(web_0["metadata"]["labels"]["app"], "web");
    assert_eq!(web_0["window"], "15s");
    assert_eq!(
        web_0["containers"],
        json!([
            {"name": "c", "usage": {"cpu": "50m", "memory": "64Mi"}},
            {"name": "sidecar", "usage": {"cpu": "1m", "memory": "8Mi"}},
        ])
    );

    let (status, one) = get(address, &format!("{in_default}/web-1")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["kind"], "PodMetrics");
    assert_eq!(one["metadata"]["namespace"], "default");
    assert_eq!(one["containers"][0]["usage"]["cpu"], "75m");

    let (status, db) = get(
        address,
        "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Ddb",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&db), ["other/db"]);
    let (status, by_namespace) = get(
        address,
        "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.namespace%3Dother",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&by_namespace), ["other/db"]);

    // In another namespace the same name is another pod.
    let (status, missing) = get(
        address,
        "/apis/metrics.k8s.io/v1beta1/namespaces/other/pods/web-0",
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(
        missing["message"],
        "podmetrics.metrics.k8s.io \"web-0\" not found"
    );
}

#[tokio::test]
async fn a_pod_deleted_or_gone_from_its_node_has_no_metrics() {
    let (server, address) = reported_cluster().await;
    let in_default = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods";
    // Deleted from the store: its sample is not shown.
    server
        .client
        .delete::<Pod>(
            "default",
            "web-1",
            &client::DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    wait_until(Duration::from_secs(5), || async {
        names(&get(address, in_default).await.1) == ["default/web-0"]
    })
    .await;
    // Gone from its node's next sample: not shown either.
    let report = proto::ReportUsageRequest {
        nodes: vec![node_usage("n-0", 100_000_000, vec![])],
    };
    server.client.report_usage(report).await.unwrap();
    let (status, list) = get(address, in_default).await;
    assert_eq!(status, 200);
    assert!(names(&list).is_empty(), "{list}");
    let (_, node) = get(address, &format!("{NODES}/n-0")).await;
    assert_eq!(node["usage"]["cpu"], "100m");
}

#[tokio::test]
async fn watch_and_writes_are_not_allowed() {
    let (_server, address) = reported_cluster().await;
    for path in [
        format!("{NODES}?watch=1"),
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?watch=true".to_string(),
    ] {
        let (status, answer) = get(address, &path).await;
        assert_eq!(status, 405, "{answer}");
        assert_eq!(answer["reason"], "MethodNotAllowed");
    }
    let (status, _) = json_call(address, "DELETE", &format!("{NODES}/n-0"), Value::Null).await;
    assert_eq!(status, 405);
    let (status, _) = json_call(address, "POST", NODES, json!({})).await;
    assert_eq!(status, 405);
    let (status, _) = get(address, "/apis/metrics.k8s.io/v1/nodes").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_bad_report_is_invalid_and_stores_nothing() {
    let (server, address) = reported_cluster().await;
    let mut bad_window = node_usage("n-1", 1, vec![]);
    bad_window.window_millis = 0;
    let report = proto::ReportUsageRequest {
        nodes: vec![
            node_usage("n-0", 1, vec![pod_usage("", "web-0", vec![])]),
            bad_window,
        ],
    };
    let error = server.client.report_usage(report).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, client::Error::Invalid(_)), "{error:?}");
    assert!(
        message.contains("nodes[0].pods[0].namespace: Required value"),
        "{message}"
    );
    assert!(
        message.contains("nodes[1].windowMillis: Invalid value: 0"),
        "{message}"
    );
    // The earlier samples stand.
    let (_, node) = get(address, &format!("{NODES}/n-0")).await;
    assert_eq!(node["usage"]["cpu"], "123456789n");
}

#[tokio::test]
async fn reading_metrics_takes_the_metrics_reader_role() {
    let (_server, address) = reported_cluster().await;
    let pods = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods";
    let (status, body) = call_as(Some(NOBODY_TOKEN), address, "GET", pods, "", Vec::new()).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let denial: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        denial["message"],
        "pods.metrics.k8s.io is forbidden: User \"nobody\" cannot list resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"default\""
    );
    let (status, _) = call_as(Some(NOBODY_TOKEN), address, "GET", NODES, "", Vec::new()).await;
    assert_eq!(status, 403);
    // view aggregates system:aggregated-metrics-reader: pods in the bound
    // namespace, but not nodes (cluster-scoped).
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
        call_as(Some(NOBODY_TOKEN), address, "GET", pods, "", Vec::new())
            .await
            .0
            == 200
    })
    .await;
    let (status, _) = call_as(Some(NOBODY_TOKEN), address, "GET", NODES, "", Vec::new()).await;
    assert_eq!(status, 403);
    let (status, _) = call_as(
        Some(NOBODY_TOKEN),
        address,
        "GET",
        "/apis/metrics.k8s.io/v1beta1/namespaces/other/pods",
        "",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn discovery_lists_the_metrics_group() {
    let (_server, address) = reported_cluster().await;
    let (status, list) = get(address, "/apis/metrics.k8s.io/v1beta1").await;
    assert_eq!(status, 200, "{list}");
    let kinds: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|resource| resource["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["NodeMetrics", "PodMetrics"]);
    let (status, groups) = get(address, "/apis").await;
    assert_eq!(status, 200);
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|group| group["name"] == "metrics.k8s.io"),
        "{groups}"
    );
}

#[tokio::test]
async fn a_node_that_stops_reporting_drops_out_after_the_ttl() {
    let mut config = Config::new(memory_store());
    config.metrics_sample_ttl = Duration::from_millis(200);
    let (server, address) = start_rest(config).await;
    server.client.create("", &node("quiet")).await.unwrap();
    let report = proto::ReportUsageRequest {
        nodes: vec![node_usage("quiet", 1_000_000, vec![])],
    };
    server.client.report_usage(report).await.unwrap();
    wait_until(Duration::from_secs(10), || async {
        get(address, &format!("{NODES}/quiet")).await.0 == 404
    })
    .await;
    let (status, list) = get(address, NODES).await;
    assert_eq!(status, 200);
    assert!(names(&list).is_empty(), "{list}");
}

/// A GET as the admin with an `Accept` header: the status, the
/// `Content-Type` and the body as JSON.
async fn get_accepting(address: SocketAddr, path: &str, accept: &str) -> (u16, String, Value) {
    use http_body_util::{BodyExt, Full};
    let request = http::Request::builder()
        .method("GET")
        .uri(path)
        .header("accept", accept)
        .body(Full::new(hyper::body::Bytes::new()))
        .unwrap();
    let response = crate::common::send(address, request).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn tables_have_metrics_server_columns() {
    let (_server, address) = reported_cluster().await;
    let table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (status, content_type, table) = get_accepting(
        address,
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
        table_accept,
    )
    .await;
    assert_eq!(status, 200, "{table}");
    assert!(content_type.contains("as=Table"), "{content_type}");
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "cpu", "memory", "Window"]);
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["web-0", "51m", "72Mi", "15s"])
    );
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(table["rows"][1]["cells"][0], "web-1");

    let (status, _, table) = get_accepting(address, &format!("{NODES}/n-1"), table_accept).await;
    assert_eq!(status, 200);
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["n-1", "150m", "1536Mi", "15s"])
    );
    // Metadata-only clients get the objects, as they also accept them.
    let (status, _, list) = get_accepting(
        address,
        NODES,
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["kind"], "NodeMetricsList");
}
