//! The typed paths against the generic JSON path they mirror: the same
//! requests in two namespaces give the same objects and the same errors.

use serde_json::{Value, json};
use tonic::Status;

use super::*;
use crate::Config;
use crate::delete::DeleteOptions;

async fn state() -> ApiState {
    let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
    let state = ApiState::new(Config::new(store));
    crate::server::bootstrap(&state).await.unwrap();
    for namespace in ["typed", "generic"] {
        let body = json!({"metadata": {"name": namespace}});
        state
            .create("namespaces", "", &serde_json::to_vec(&body).unwrap())
            .await
            .unwrap();
    }
    state
}

/// What may differ between the two paths' results.
fn normalized(mut value: Value) -> Value {
    let meta = value["metadata"].as_object_mut().unwrap();
    for field in ["uid", "creationTimestamp", "resourceVersion", "namespace"] {
        meta.remove(field);
    }
    value
}

fn error_text(error: ApiError) -> (tonic::Code, String) {
    let status = Status::from(error);
    (status.code(), status.message().replace("generic", "typed"))
}

type Outcome = Result<Value, (tonic::Code, String)>;

async fn create_both(state: &ApiState, plural: &str, body: Value) -> (Outcome, Outcome) {
    let bytes = serde_json::to_vec(&body).unwrap();
    let typed = match plural {
        "pods" => state.create_typed::<Pod>("typed", &bytes).await,
        "leases" => {
            state
                .create_typed::<api::k8s_openapi::api::coordination::v1::Lease>("typed", &bytes)
                .await
        }
        "configmaps" => {
            state
                .create_typed::<api::k8s_openapi::api::core::v1::ConfigMap>("typed", &bytes)
                .await
        }
        other => panic!("no typed case for {other}"),
    }
    .map(|wire| normalized(serde_json::from_slice(&wire).unwrap()))
    .map_err(error_text);
    let generic = state
        .create(plural, "generic", &bytes)
        .await
        .map(normalized)
        .map_err(error_text);
    (typed, generic)
}

async fn update_both(
    state: &ApiState,
    plural: &str,
    mode: UpdateMode,
    body: Value,
) -> (Outcome, Outcome) {
    let mut results = Vec::new();
    for namespace in ["typed", "generic"] {
        let mut body = body.clone();
        body["metadata"]["namespace"] = json!(namespace);
        let bytes = serde_json::to_vec(&body).unwrap();
        let result = if namespace == "typed" {
            state.update_wire(plural, namespace, &bytes, mode).await
        } else {
            state
                .update(plural, namespace, &bytes, mode)
                .await
                .and_then(|value| object::to_wire(&value))
        };
        results.push(
            result
                .map(|wire| normalized(serde_json::from_slice(&wire).unwrap()))
                .map_err(error_text),
        );
    }
    let generic = results.pop().unwrap();
    (results.pop().unwrap(), generic)
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "a"}},
           "spec": {"containers": [{"name": "c", "image": "i",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                    "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                     "effect": "NoExecute", "tolerationSeconds": 10}]}})
}

#[tokio::test]
async fn creates_match_the_generic_path() {
    let state = state().await;
    let mut critical = pod("critical");
    critical["spec"]["priorityClassName"] = json!("system-node-critical");
    let mut bound = pod("bound");
    bound["spec"]["nodeName"] = json!("n1");
    let mut wrong_priority = pod("wrong-priority");
    wrong_priority["spec"]["priority"] = json!(5);
    let mut no_class = pod("no-class");
    no_class["spec"]["priorityClassName"] = json!("missing");
    let mut bad_container = pod("bad-container");
    bad_container["spec"]["containers"][0]["name"] = json!("Not_A_Name");
    let mut generated = pod("");
    generated["metadata"] = json!({"generateName": "gen-"});
    let cases = [
        ("pods", pod("plain")),
        ("pods", critical),
        ("pods", bound),
        ("pods", wrong_priority),
        ("pods", no_class),
        ("pods", bad_container),
        ("pods", json!({"metadata": {"name": "nameless-spec"}})),
        (
            "pods",
            json!({"kind": "Node", "metadata": {"name": "wrong-kind"}}),
        ),
        ("pods", json!({"metadata": {}, "spec": {"containers": []}})),
        (
            "leases",
            json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "h", "leaseDurationSeconds": 40}}),
        ),
        (
            "configmaps",
            json!({"metadata": {"name": "cm", "finalizers": ["x/y"]}, "data": {"a": "b"}}),
        ),
    ];
    for (plural, body) in cases {
        let (typed, generic) = create_both(&state, plural, body.clone()).await;
        assert_eq!(typed, generic, "{body}");
    }
    let (typed, _) = create_both(&state, "pods", generated).await;
    let name = typed.unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    // An object in a namespace that does not exist.
    let bytes = serde_json::to_vec(&pod("p")).unwrap();
    let typed = state
        .create_typed::<Pod>("absent", &bytes)
        .await
        .map_err(error_text);
    let generic = state
        .create("pods", "absent", &bytes)
        .await
        .map_err(error_text);
    assert_eq!(typed.unwrap_err(), generic.unwrap_err());
}

#[tokio::test]
async fn updates_match_the_generic_path() {
    let state = state().await;
    for name in ["p", "bound"] {
        let mut body = pod(name);
        if name == "bound" {
            body["spec"]["nodeName"] = json!("n1");
        }
        let (typed, generic) = create_both(&state, "pods", body).await;
        assert_eq!(typed, generic);
    }
    let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "h", "leaseDurationSeconds": 40}});
    create_both(&state, "leases", lease.clone())
        .await
        .0
        .unwrap();

    let read = |namespace: &'static str, plural: &'static str, name: &'static str| {
        let state = &state;
        async move {
            let wire = state.get(plural, namespace, name).await.unwrap();
            serde_json::from_slice::<Value>(&wire).unwrap()
        }
    };
    let mut running = read("typed", "pods", "bound").await;
    running["status"]["phase"] = json!("Running");
    running["metadata"]["labels"]["ignored"] = json!("yes");
    running["metadata"]["resourceVersion"] = json!(null);
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Status, running.clone()).await;
    assert_eq!(typed, generic);
    assert_eq!(typed.as_ref().unwrap()["status"]["phase"], "Running");
    // A relabel in main mode keeps the status and the generation.
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Main, running.clone()).await;
    assert_eq!(typed, generic);
    assert_eq!(typed.as_ref().unwrap()["metadata"]["generation"], 1);
    // Succeeded releases the pod on its node.
    let mut done = running.clone();
    done["status"]["phase"] = json!("Succeeded");
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Status, done).await;
    assert_eq!(typed, generic);
    // A stale resourceVersion conflicts.
    let mut stale = running.clone();
    stale["metadata"]["resourceVersion"] = json!("2");
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Status, stale).await;
    assert!(typed.is_err());
    assert_eq!(typed, generic);
    // A spec change bumps the generation.
    let mut renewed = read("typed", "leases", "l").await;
    renewed["spec"]["holderIdentity"] = json!("other");
    renewed["metadata"]["resourceVersion"] = json!(null);
    let (typed, generic) = update_both(&state, "leases", UpdateMode::Main, renewed).await;
    assert_eq!(typed, generic);
    assert_eq!(typed.as_ref().unwrap()["metadata"]["generation"], 2);
    // An invalid update and a missing object.
    let mut invalid = read("typed", "pods", "p").await;
    invalid["spec"]["containers"][0]["image"] = json!("");
    invalid["metadata"]["resourceVersion"] = json!(null);
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Main, invalid).await;
    assert!(typed.is_err());
    assert_eq!(typed, generic);
    let (typed, generic) = update_both(&state, "pods", UpdateMode::Main, pod("missing")).await;
    assert!(typed.is_err());
    assert_eq!(typed, generic);
}

#[tokio::test]
async fn removing_the_last_finalizer_of_a_deleting_object_deletes_it() {
    let state = state().await;
    let body = json!({"metadata": {"name": "cm", "finalizers": ["x/y"]}, "data": {"a": "b"}});
    create_both(&state, "configmaps", body.clone())
        .await
        .0
        .unwrap();
    for namespace in ["typed", "generic"] {
        let deleted = state
            .delete("configmaps", namespace, "cm", &DeleteOptions::default())
            .await
            .unwrap();
        assert!(!deleted.gone);
    }
    let mut released = body;
    released["metadata"]["finalizers"] = json!([]);
    let (typed, generic) = update_both(&state, "configmaps", UpdateMode::Main, released).await;
    let typed = typed.unwrap();
    assert_eq!(typed, generic.unwrap());
    assert!(typed["metadata"]["deletionTimestamp"].is_string());
    for namespace in ["typed", "generic"] {
        assert!(state.get("configmaps", namespace, "cm").await.is_err());
    }
}
