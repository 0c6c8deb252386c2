//! CustomResourceDefinitions over the REST face: registering one serves
//! its resource (CRUD, selectors, patches, watch, status and scale
//! subresources, Tables with its printer columns, discovery, OpenAPI),
//! custom objects are pruned, defaulted and validated by the schema, and
//! deleting the definition deletes its objects and stops serving it.

use std::net::SocketAddr;
use std::time::Duration;

use apiserver::Config;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{Value, json};
use store::StoreExt;

use crate::common::{NOBODY_TOKEN, count_keys, memory_store, start_rest, wait_until};
use crate::rest::{call, json_call, read_events};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "required": ["size"], "properties": {
                            "size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "replicas": {"type": "integer"},
                            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                            "selector": {"type": "string"}
                        }},
                        "status": {"type": "object", "properties": {
                            "replicas": {"type": "integer"},
                            "phase": {"type": "string"},
                            "selector": {"type": "string"}
                        }}
                    }
                }},
                "subresources": {
                    "status": {},
                    "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                              "labelSelectorPath": ".status.selector"}
                },
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color", "priority": 1},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"}
                ]
            }]
        }
    })
}

fn widget(name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": name, "labels": {"app": "demo"}}, "spec": {"size": size}})
}

/// Registers the Widget definition and waits until its resource is served.
async fn register(address: SocketAddr) -> Value {
    let (status, crd) = json_call(address, "POST", CRDS, widget_crd()).await;
    assert_eq!(status, 201, "{crd}");
    crd
}

async fn content_type_call(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: Value,
) -> (u16, Value) {
    let (status, bytes) = call(
        address,
        method,
        path,
        content_type,
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_definition_is_validated_and_gets_its_status() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let mut bad = widget_crd();
    bad["metadata"]["name"] = json!("gadgets.example.com");
    bad["spec"]["scope"] = json!("Everywhere");
    bad["spec"]["versions"][0]["storage"] = json!(false);
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"] =
        json!({"minimum": 1});
    let (status, body) = json_call(address, "POST", CRDS, bad).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cause| cause["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "metadata.name",
            "spec.scope",
            "spec.versions",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type",
        ],
        "{body}"
    );
    assert_eq!(
        count_keys(&server.store, "/registry/customresourcedefinitions/").await,
        0
    );

    let crd = register(address).await;
    let status = &crd["status"];
    assert_eq!(status["acceptedNames"]["kind"], "Widget");
    assert_eq!(status["acceptedNames"]["listKind"], "WidgetList");
    assert_eq!(status["storedVersions"], json!(["v1"]));
    let conditions: Vec<(&str, &str)> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conditions,
        [("NamesAccepted", "True"), ("Established", "True")]
    );
    assert_eq!(crd["spec"]["names"]["singular"], "widget");

    // A second definition with the same names in the group is refused.
    let mut clash = widget_crd();
    clash["metadata"]["name"] = json!("things.example.com");
    clash["spec"]["names"] = json!({"plural": "things", "kind": "Widget"});
    let (status, body) = json_call(address, "POST", CRDS, clash).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "spec.names.kind");
    drop(server);
}

#[tokio::test]
async fn custom_objects_are_served_like_built_in_ones() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    // Not served before its definition exists.
    let (status, _) = json_call(address, "GET", WIDGETS, Value::Null).await;
    assert_eq!(status, 404);
    register(address).await;

    // Create: pruned, defaulted, status dropped (it has a subresource).
    let mut body = widget("a", 3);
    body["spec"]["bogus"] = json!(true);
    body["status"] = json!({"phase": "Ready"});
    let (status, created) = json_call(address, "POST", WIDGETS, body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["spec"], json!({"size": 3, "color": "red"}));
    assert!(created.get("status").is_none(), "{created}");
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(created["metadata"]["uid"].is_string());

    // Invalid objects are 422 with the schema's field paths; nothing stored.
    let mut bad = widget("b", 11);
    bad["spec"]["color"] = json!("pink");
    let (status, error) = json_call(address, "POST", WIDGETS, bad).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["reason"], "Invalid");
    assert_eq!(error["details"]["kind"], "Widget");
    let causes: Vec<(&str, &str)> = error["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        causes,
        [
            ("spec.color", "FieldValueNotSupported"),
            ("spec.size", "FieldValueInvalid")
        ],
        "{error}"
    );
    let (status, _) = json_call(
        address,
        "POST",
        WIDGETS,
        json!({"apiVersion": "example.com/v1",
        "kind": "Widget", "metadata": {"name": "c"}, "spec": {}}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        count_keys(&server.store, "/registry/widgets.example.com/").await,
        1
    );

    // fieldValidation=Strict names the unknown field.
    let mut strict = widget("s", 1);
    strict["spec"]["bogus"] = json!(1);
    let (status, error) = json_call(
        address,
        "POST",
        &format!("{WIDGETS}?fieldValidation=Strict"),
        strict,
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(r#"unknown field "spec.bogus""#),
        "{error}"
    );

    // Get, list with selectors.
    json_call(address, "POST", WIDGETS, widget("b", 5)).await;
    let (status, got) = json_call(address, "GET", &format!("{WIDGETS}/a"), Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(got["spec"]["size"], 3);
    let (_, list) = json_call(address, "GET", WIDGETS, Value::Null).await;
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(list["apiVersion"], "example.com/v1");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (_, list) = json_call(
        address,
        "GET",
        &format!("{WIDGETS}?fieldSelector=metadata.name%3Db"),
        Value::Null,
    )
    .await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b"]);
    let (_, list) = json_call(
        address,
        "GET",
        &format!("{WIDGETS}?labelSelector=app%3Dother"),
        Value::Null,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, all) = json_call(address, "GET", "/apis/example.com/v1/widgets", Value::Null).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (status, error) = json_call(address, "GET", &format!("{WIDGETS}/nope"), Value::Null).await;
    assert_eq!(status, 404);
    assert_eq!(error["message"], r#"widgets.example.com "nope" not found"#);

    // Update: the status is kept from the stored object; the generation moves.
    let mut update = got.clone();
    update["spec"]["size"] = json!(4);
    update["status"] = json!({"phase": "Hacked"});
    let (status, updated) = json_call(address, "PUT", &format!("{WIDGETS}/a"), update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["spec"]["size"], 4);
    assert!(updated.get("status").is_none());
    assert_eq!(updated["metadata"]["generation"], 2);
    // A stale resourceVersion conflicts.
    let (status, _) = json_call(address, "PUT", &format!("{WIDGETS}/a"), got).await;
    assert_eq!(status, 409);

    // Patches: merge and JSON patch work, strategic merge is refused.
    let (status, patched) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/a"),
        "application/merge-patch+json",
        json!({"spec": {"color": "blue"}}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["spec"]["color"], "blue");
    let (status, patched) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/a"),
        "application/json-patch+json",
        json!([{"op": "replace", "path": "/spec/size", "value": 6}]),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["spec"]["size"], 6);
    let (status, _) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/a"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"size": 7}}),
    )
    .await;
    assert_eq!(status, 415);
    let (status, error) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/a"),
        "application/merge-patch+json",
        json!({"spec": {"size": 0}}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["details"]["causes"][0]["field"], "spec.size");

    // Server-side apply creates and updates.
    let applied = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "applied"}, "spec": {"size": 2}});
    let (status, created) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/applied?fieldManager=test"),
        "application/apply-patch+yaml",
        applied,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["spec"]["color"], "red");
    assert_eq!(created["metadata"]["managedFields"][0]["manager"], "test");

    // Status subresource: only the status changes.
    let (_, current) = json_call(address, "GET", &format!("{WIDGETS}/a"), Value::Null).await;
    let mut with_status = current.clone();
    with_status["status"] = json!({"phase": "Ready", "replicas": 1, "selector": "app=demo"});
    with_status["spec"]["size"] = json!(9);
    let (status, written) =
        json_call(address, "PUT", &format!("{WIDGETS}/a/status"), with_status).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["status"]["phase"], "Ready");
    assert_eq!(written["spec"]["size"], 6);
    assert_eq!(
        written["metadata"]["generation"],
        current["metadata"]["generation"]
    );

    // Scale subresource reads and writes the declared paths.
    let (status, scale) =
        json_call(address, "GET", &format!("{WIDGETS}/a/scale"), Value::Null).await;
    assert_eq!(status, 200, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["status"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=demo");
    let (status, scaled) = content_type_call(
        address,
        "PATCH",
        &format!("{WIDGETS}/a/scale"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 4}}),
    )
    .await;
    assert_eq!(status, 200, "{scaled}");
    assert_eq!(scaled["spec"]["replicas"], 4);
    let (_, got) = json_call(address, "GET", &format!("{WIDGETS}/a"), Value::Null).await;
    assert_eq!(got["spec"]["replicas"], 4);

    // Tables carry Name and the printer columns.
    let (status, table) = table_call(address, WIDGETS).await;
    assert_eq!(status, 200);
    let columns: Vec<(&str, i64)> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["priority"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        columns,
        [("Name", 0), ("Size", 0), ("Color", 1), ("Phase", 0)]
    );
    let row = &table["rows"][0]["cells"];
    assert_eq!(row[0], "a");
    assert_eq!(row[1], 6);
    assert_eq!(row[2], "blue");
    assert_eq!(row[3], "Ready");

    // Delete one, then the collection.
    let (status, _) = json_call(address, "DELETE", &format!("{WIDGETS}/b"), Value::Null).await;
    assert_eq!(status, 200);
    let (status, _) = json_call(
        address,
        "DELETE",
        &format!("{WIDGETS}?labelSelector=app%3Ddemo"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = json_call(address, "GET", WIDGETS, Value::Null).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["applied"]);
    drop(server);
}

async fn table_call(address: SocketAddr, path: &str) -> (u16, Value) {
    let request = http::Request::builder()
        .uri(path)
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = crate::common::send(address, request).await;
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn discovery_and_watch_follow_the_definition_until_it_is_deleted() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    register(address).await;
    let (status, list) = json_call(address, "GET", "/apis/example.com/v1", Value::Null).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["widgets", "widgets/scale", "widgets/status"]);
    assert_eq!(list["resources"][0]["shortNames"], json!(["wd"]));
    let (_, groups) = json_call(address, "GET", "/apis", Value::Null).await;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "example.com"),
        "{groups}"
    );

    // OpenAPI v2 and v3 carry the schema, found by group-version-kind.
    let (status, v2) = json_call(address, "GET", "/openapi/v2", Value::Null).await;
    assert_eq!(status, 200);
    let widget_v2 = &v2["definitions"]["com.example.v1.Widget"];
    assert_eq!(
        widget_v2["x-kubernetes-group-version-kind"][0]["kind"],
        "Widget"
    );
    assert_eq!(
        widget_v2["properties"]["spec"]["properties"]["size"]["maximum"],
        10.0
    );
    assert!(v2["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
    let (_, index) = json_call(address, "GET", "/openapi/v3", Value::Null).await;
    let url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(index["paths"]["api/v1"].is_object());
    let (status, v3) = json_call(address, "GET", &url, Value::Null).await;
    assert_eq!(status, 200);
    let widget_v3 = &v3["components"]["schemas"]["com.example.v1.Widget"];
    assert_eq!(
        widget_v3["x-kubernetes-group-version-kind"][0]["group"],
        "example.com"
    );
    assert_eq!(
        widget_v3["properties"]["metadata"]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(
        v3["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object()
    );
    let (status, _) = json_call(address, "GET", "/openapi/v3/api/v1", Value::Null).await;
    assert_eq!(status, 200);

    // A watch sees custom objects come and go.
    let (_, created) = json_call(address, "POST", WIDGETS, widget("w1", 1)).await;
    let from = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let request = http::Request::builder()
        .uri(format!("{WIDGETS}?watch=1&resourceVersion={from}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = crate::common::send(address, request).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    json_call(address, "POST", WIDGETS, widget("w2", 2)).await;
    let events = read_events(&mut body, &mut buffer, 1, true).await;
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["metadata"]["name"], "w2");

    // Deleting the definition deletes its objects and the resource.
    let (status, _) = json_call(
        address,
        "DELETE",
        &format!("{CRDS}/widgets.example.com"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let events = read_events(&mut body, &mut buffer, 2, true).await;
    assert!(
        events.iter().all(|event| event["type"] == "DELETED"),
        "{events:?}"
    );
    assert_eq!(
        count_keys(&server.store, "/registry/widgets.example.com/").await,
        0
    );
    wait_until(Duration::from_secs(10), || async {
        json_call(address, "GET", WIDGETS, Value::Null).await.0 == 404
    })
    .await;
    let (status, _) = json_call(address, "GET", "/apis/example.com/v1", Value::Null).await;
    assert_eq!(status, 404);
    let (_, groups) = json_call(address, "GET", "/apis", Value::Null).await;
    assert!(
        !groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "example.com")
    );
    drop(server);
}

#[tokio::test]
async fn definitions_are_served_again_after_a_restart() {
    let store = memory_store();
    let (server, address) = start_rest(Config::new(store.clone())).await;
    register(address).await;
    json_call(address, "POST", WIDGETS, widget("kept", 2)).await;
    server.stop().await;

    let (server, address) = start_rest(Config::new(store)).await;
    let (status, got) = json_call(address, "GET", &format!("{WIDGETS}/kept"), Value::Null).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["spec"]["size"], 2);
    drop(server);
}

#[tokio::test]
async fn rbac_applies_to_custom_resources_by_their_group() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    register(address).await;
    json_call(address, "POST", WIDGETS, widget("a", 1)).await;
    let as_nobody = |method: &'static str, path: String| async move {
        let (status, body) =
            crate::rest::call_as(Some(NOBODY_TOKEN), address, method, &path, "", Vec::new()).await;
        (
            status,
            serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
        )
    };
    let (status, body) = as_nobody("GET", WIDGETS.to_string()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"],
        r#"widgets.example.com is forbidden: User "nobody" cannot list resource "widgets" in API group "example.com" in the namespace "default""#
    );
    // A Role on the group's widgets lets the user read them, not others.
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "widget-reader", "namespace": "default"},
        "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}]});
    let (status, _) = json_call(
        address,
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        role,
    )
    .await;
    assert_eq!(status, 201);
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "widget-reader", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "widget-reader"},
        "subjects": [{"kind": "User", "name": "nobody", "apiGroup": "rbac.authorization.k8s.io"}]});
    let (status, _) = json_call(
        address,
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        binding,
    )
    .await;
    assert_eq!(status, 201);
    wait_until(Duration::from_secs(10), || async {
        as_nobody("GET", WIDGETS.to_string()).await.0 == 200
    })
    .await;
    let (status, _) = as_nobody("GET", format!("{WIDGETS}/a")).await;
    assert_eq!(status, 200);
    let (status, _) = as_nobody("DELETE", format!("{WIDGETS}/a")).await;
    assert_eq!(status, 403);
    let (status, _) = as_nobody(
        "GET",
        "/apis/example.com/v1/namespaces/other/widgets".to_string(),
    )
    .await;
    assert_eq!(status, 403);
    drop(server);
}

#[tokio::test]
async fn a_changed_definition_is_served_with_its_new_schema() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let crd = register(address).await;
    let (status, _) = json_call(address, "POST", WIDGETS, widget("big", 10)).await;
    assert_eq!(status, 201);
    // Lower the maximum: new writes are held to it once the change is served.
    let mut changed = crd.clone();
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["size"]["maximum"] = json!(5);
    let (status, body) = json_call(
        address,
        "PUT",
        &format!("{CRDS}/widgets.example.com"),
        changed,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_until(Duration::from_secs(10), || async {
        json_call(address, "POST", WIDGETS, widget("probe", 6))
            .await
            .0
            == 422
    })
    .await;
    let (status, _) = json_call(address, "POST", WIDGETS, widget("small", 5)).await;
    assert_eq!(status, 201);
    drop(server);
}

#[tokio::test]
async fn every_served_version_reads_and_writes_the_objects_stored_in_the_storage_version() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let mut crd = widget_crd();
    let mut beta = crd["spec"]["versions"][0].clone();
    beta["name"] = json!("v1beta1");
    beta["storage"] = json!(false);
    crd["spec"]["versions"]
        .as_array_mut()
        .unwrap()
        .insert(0, beta);
    let (status, body) = json_call(address, "POST", CRDS, crd).await;
    assert_eq!(status, 201, "{body}");
    let beta_widgets = "/apis/example.com/v1beta1/namespaces/default/widgets";

    let mut old = widget("old", 2);
    old["apiVersion"] = json!("example.com/v1beta1");
    let (status, created) = json_call(address, "POST", beta_widgets, old).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["apiVersion"], "example.com/v1beta1");
    let stored = server
        .store
        .get("/registry/widgets.example.com/default/old")
        .await
        .unwrap()
        .unwrap();
    let stored: Value = serde_json::from_slice(&stored.value).unwrap();
    assert_eq!(stored["apiVersion"], "example.com/v1");

    let (_, got) = json_call(address, "GET", &format!("{WIDGETS}/old"), Value::Null).await;
    assert_eq!(got["apiVersion"], "example.com/v1");
    let (_, got) = json_call(address, "GET", &format!("{beta_widgets}/old"), Value::Null).await;
    assert_eq!(got["apiVersion"], "example.com/v1beta1");
    let (_, list) = json_call(address, "GET", beta_widgets, Value::Null).await;
    assert_eq!(list["apiVersion"], "example.com/v1beta1");
    assert_eq!(list["items"][0]["apiVersion"], "example.com/v1beta1");
    let (status, patched) = content_type_call(
        address,
        "PATCH",
        &format!("{beta_widgets}/old"),
        "application/merge-patch+json",
        json!({"spec": {"size": 4}}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["apiVersion"], "example.com/v1beta1");
    assert_eq!(patched["spec"]["size"], 4);

    let (_, group) = json_call(address, "GET", "/apis/example.com", Value::Null).await;
    assert_eq!(group["preferredVersion"]["version"], "v1");
    let versions: Vec<&str> = group["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1", "v1beta1"]);
    drop(server);
}

#[tokio::test]
async fn cluster_scoped_resources_without_subresources() {
    let (server, address) = start_rest(Config::new(memory_store())).await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gizmos.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster",
            "names": {"plural": "gizmos", "kind": "Gizmo"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let (status, body) = json_call(address, "POST", CRDS, crd).await;
    assert_eq!(status, 201, "{body}");
    let gizmos = "/apis/example.com/v1/gizmos";
    let gizmo = json!({"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"},
        "spec": {"anything": [1, "two"]}, "status": {"ok": true}});
    let (status, created) = json_call(address, "POST", gizmos, gizmo).await;
    assert_eq!(status, 201, "{created}");
    // Unknown fields are kept; without a status subresource, status is
    // written with the object.
    assert_eq!(created["spec"]["anything"], json!([1, "two"]));
    assert_eq!(created["status"]["ok"], true);
    assert!(created["metadata"].get("namespace").is_none());
    let (status, _) = json_call(address, "GET", &format!("{gizmos}/g"), Value::Null).await;
    assert_eq!(status, 200);
    let (status, _) = json_call(
        address,
        "GET",
        "/apis/example.com/v1/namespaces/default/gizmos/g",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_call(address, "GET", &format!("{gizmos}/g/status"), Value::Null).await;
    assert_eq!(status, 404);
    let (status, _) = json_call(address, "GET", &format!("{gizmos}/g/scale"), Value::Null).await;
    assert_eq!(status, 404);
    // Without printer columns a Table has Name and Age.
    let (_, table) = table_call(address, gizmos).await;
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Age"]);
    drop(server);
}
