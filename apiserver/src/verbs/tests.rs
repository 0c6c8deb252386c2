//! The verbs in process, through the kind table as both faces call them:
//! what each step decides and that a rejected or dry-run write stores
//! nothing.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::Config;
use crate::error::{ApiError, Reason};
use crate::request::{Attributes, MASTERS_GROUP, UserInfo, Verb};
use crate::state::ApiState;
use crate::verbs::{DeleteOptions, WriteOptions};

async fn state() -> ApiState {
    let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
    let state = ApiState::new(Config::new(store));
    crate::server::bootstrap(&state).await.unwrap();
    state
}

fn attributes(
    state: &ApiState,
    verb: Verb,
    plural: &str,
    subresource: &str,
    name: &str,
) -> Attributes {
    let user = Arc::new(UserInfo::authenticated(
        "tester",
        vec![MASTERS_GROUP.to_string()],
    ));
    let info = state.kinds.get(plural).unwrap().info();
    Attributes::resource(user, verb, info, subresource, "default", name)
}

async fn create(
    state: &ApiState,
    plural: &str,
    body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let attributes = attributes(state, Verb::Create, plural, "", "");
    let body = serde_json::to_vec(&body).unwrap();
    let options = WriteOptions { dry_run };
    let kind = state.kinds.get(plural).unwrap();
    let wire = kind.create(state, &attributes, &body, &options).await?;
    Ok(serde_json::from_slice(&wire).unwrap())
}

async fn update(
    state: &ApiState,
    plural: &str,
    subresource: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
    let attributes = attributes(state, Verb::Update, plural, subresource, &name);
    let body = serde_json::to_vec(&body).unwrap();
    let kind = state.kinds.get(plural).unwrap();
    let wire = kind
        .update(state, &attributes, &body, &WriteOptions::default())
        .await?;
    Ok(serde_json::from_slice(&wire).unwrap())
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "i"}]}})
}

#[tokio::test]
async fn undecodable_bodies_say_what_is_wrong() {
    let state = state().await;
    let check = |result: Result<Value, ApiError>, reason: Reason, text: &str| {
        let error = result.unwrap_err();
        assert_eq!(error.reason(), reason, "{error}");
        assert!(error.to_string().contains(text), "{error}");
    };
    let wrong_kind = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}});
    check(
        create(&state, "pods", wrong_kind, false).await,
        Reason::BadRequest,
        "kind \"Node\" does not match",
    );
    let nameless = json!({"metadata": {}, "spec": {"containers": []}});
    check(
        create(&state, "pods", nameless, false).await,
        Reason::Invalid,
        "metadata.name: Required value",
    );
    let bad_field = json!({"metadata": {"name": "p"}, "spec": {"containers": "no"}});
    check(
        create(&state, "pods", bad_field, false).await,
        Reason::BadRequest,
        "cannot decode Pod",
    );
    assert!(
        state
            .list("pods", &Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn dry_run_runs_admission_and_stores_nothing() {
    let state = state().await;
    let created = create(&state, "pods", pod("dry"), true).await.unwrap();
    assert_eq!(created["status"]["phase"], "Pending");
    assert_eq!(created["spec"]["priority"], 0);
    assert!(state.get("pods", "default", "dry").await.is_err());
    let mut unknown_class = pod("dry");
    unknown_class["spec"]["priorityClassName"] = json!("ghost");
    let error = create(&state, "pods", unknown_class, true)
        .await
        .unwrap_err();
    assert_eq!(error.reason(), Reason::Forbidden);
}

#[tokio::test]
async fn status_updates_change_only_status() {
    let state = state().await;
    let created = create(&state, "pods", pod("p"), false).await.unwrap();
    let mut running = created.clone();
    running["status"]["phase"] = json!("Running");
    running["metadata"]["labels"] = json!({"ignored": "yes"});
    let updated = update(&state, "pods", "status", running).await.unwrap();
    assert_eq!(updated["status"]["phase"], "Running");
    assert!(updated["metadata"].get("labels").is_none());
    // A main update ignores status.
    let mut relabelled = updated.clone();
    relabelled["metadata"]["labels"] = json!({"a": "b"});
    relabelled["status"]["phase"] = json!("Failed");
    let updated = update(&state, "pods", "", relabelled).await.unwrap();
    assert_eq!(updated["status"]["phase"], "Running");
    assert_eq!(updated["metadata"]["labels"]["a"], "b");
}

#[tokio::test]
async fn removing_the_last_finalizer_of_a_deleting_object_deletes_it() {
    let state = state().await;
    let body = json!({"metadata": {"name": "cm", "finalizers": ["x/y"]}, "data": {"a": "b"}});
    create(&state, "configmaps", body.clone(), false)
        .await
        .unwrap();
    let kind = state.kinds.get("configmaps").unwrap();
    let attributes = attributes(&state, Verb::Delete, "configmaps", "", "cm");
    let deleted = kind
        .delete(&state, &attributes, &DeleteOptions::default())
        .await
        .unwrap();
    assert!(!deleted.gone);
    let mut released = body;
    released["metadata"]["finalizers"] = json!([]);
    let last = update(&state, "configmaps", "", released).await.unwrap();
    assert!(last["metadata"]["deletionTimestamp"].is_string());
    assert!(state.get("configmaps", "default", "cm").await.is_err());
}

#[tokio::test]
async fn a_namespace_comes_with_its_default_service_account() {
    let state = state().await;
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    let attributes = Attributes::resource(
        Arc::new(UserInfo::authenticated(
            "tester",
            vec![MASTERS_GROUP.to_string()],
        )),
        Verb::Create,
        state.kinds.get("namespaces").unwrap().info(),
        "",
        "",
        "",
    );
    let body = serde_json::to_vec(&body).unwrap();
    let kind = state.kinds.get("namespaces").unwrap();
    kind.create(&state, &attributes, &body, &WriteOptions::default())
        .await
        .unwrap();
    let account = state
        .get("serviceaccounts", "team", "default")
        .await
        .unwrap();
    let account: Value = serde_json::from_slice(&account).unwrap();
    assert!(account["metadata"]["uid"].is_string());
}

#[tokio::test]
async fn a_watch_ahead_of_the_store_fails_after_its_wait() {
    let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
    let mut config = Config::new(store);
    config.future_revision_wait = std::time::Duration::from_millis(50);
    let state = ApiState::new(config);
    crate::server::bootstrap(&state).await.unwrap();
    let ahead = state.store.current_revision() + 1000;
    let options = crate::verbs::WatchOptions {
        resource_version: ahead.to_string(),
        ..Default::default()
    };
    let error = match state.watch("pods", &options).await {
        Ok(_) => panic!("a watch from the future started"),
        Err(error) => error,
    };
    assert_eq!(error.reason(), Reason::Timeout);
    assert!(
        error.to_string().starts_with("Too large resource version"),
        "{error}"
    );
}
