//! The plugins through the verbs, as both faces call them: what each one
//! changes or refuses, and that quota usage follows the writes.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::Config;
use crate::error::{ApiError, Reason};
use crate::request::{Attributes, MASTERS_GROUP, UserInfo, Verb};
use crate::state::ApiState;
use crate::verbs::{DeleteOptions, WriteOptions};

async fn state() -> Arc<ApiState> {
    let store = store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap();
    let state = ApiState::new(Config::new(store));
    crate::server::bootstrap(&state).await.unwrap();
    Arc::new(state)
}

fn admin() -> UserInfo {
    UserInfo::authenticated("tester", vec![MASTERS_GROUP.to_string()])
}

fn kubelet(node: &str) -> UserInfo {
    UserInfo::authenticated(
        format!("system:node:{node}"),
        vec!["system:nodes".to_string()],
    )
}

fn attributes(
    state: &ApiState,
    user: &UserInfo,
    verb: Verb,
    plural: &str,
    subresource: &str,
    namespace: &str,
    name: &str,
) -> Attributes {
    let info = state.kinds.get(plural).unwrap().info();
    Attributes::resource(
        Arc::new(user.clone()),
        verb,
        info,
        subresource,
        namespace,
        name,
    )
}

async fn create_as(
    state: &ApiState,
    user: &UserInfo,
    plural: &str,
    namespace: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let attributes = attributes(state, user, Verb::Create, plural, "", namespace, "");
    let body = serde_json::to_vec(&body).unwrap();
    let kind = state.kinds.get(plural).unwrap();
    let wire = kind
        .create(state, &attributes, &body, &WriteOptions::default())
        .await?;
    Ok(serde_json::from_slice(&wire).unwrap())
}

async fn create(
    state: &ApiState,
    plural: &str,
    namespace: &str,
    body: Value,
) -> Result<Value, ApiError> {
    create_as(state, &admin(), plural, namespace, body).await
}

async fn update_as(
    state: &ApiState,
    user: &UserInfo,
    plural: &str,
    subresource: &str,
    namespace: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
    let attributes = attributes(
        state,
        user,
        Verb::Update,
        plural,
        subresource,
        namespace,
        &name,
    );
    let body = serde_json::to_vec(&body).unwrap();
    let kind = state.kinds.get(plural).unwrap();
    let wire = kind
        .update(state, &attributes, &body, &WriteOptions::default())
        .await?;
    Ok(serde_json::from_slice(&wire).unwrap())
}

async fn delete(state: &ApiState, plural: &str, namespace: &str, name: &str) {
    let attributes = attributes(state, &admin(), Verb::Delete, plural, "", namespace, name);
    let kind = state.kinds.get(plural).unwrap();
    let deleted = kind
        .delete(state, &attributes, &DeleteOptions::default())
        .await
        .unwrap();
    assert!(deleted.gone);
}

async fn get(state: &ApiState, plural: &str, namespace: &str, name: &str) -> Value {
    let info = state.kinds.get(plural).unwrap().info();
    let kv = state
        .get_kv(&crate::keys::object_key(info, namespace, name))
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&kv.value).unwrap()
}

fn pod(name: &str, resources: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]}})
}

async fn namespace(state: &ApiState, name: &str, labels: Value) {
    create(
        state,
        "namespaces",
        "",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}),
    )
    .await
    .unwrap();
}

fn assert_forbidden(result: Result<Value, ApiError>, message: &str) {
    let error = result.unwrap_err();
    assert_eq!(error.reason(), Reason::Forbidden, "{error}");
    assert_eq!(error.to_string(), message);
}

#[tokio::test]
async fn pods_run_as_an_existing_service_account() {
    let state = state().await;
    for system in super::SYSTEM_NAMESPACES {
        get(&state, "serviceaccounts", system, "default").await;
    }
    let created = create(&state, "pods", "default", pod("p", json!({})))
        .await
        .unwrap();
    assert_eq!(created["spec"]["serviceAccountName"], "default");
    assert_eq!(created["spec"]["serviceAccount"], "default");
    let mut named = pod("q", json!({}));
    named["spec"]["serviceAccountName"] = json!("builder");
    assert_forbidden(
        create(&state, "pods", "default", named.clone()).await,
        "pods \"q\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found",
    );
    create(
        &state,
        "serviceaccounts",
        "default",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}}),
    )
    .await
    .unwrap();
    let created = create(&state, "pods", "default", named).await.unwrap();
    assert_eq!(created["spec"]["serviceAccountName"], "builder");
}

#[tokio::test]
async fn limit_ranges_default_and_bound_containers() {
    let state = state().await;
    namespace(&state, "limited", json!({})).await;
    create(
        &state,
        "limitranges",
        "limited",
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
               "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"},
                                    "defaultRequest": {"cpu": "250m"}}]}}),
    )
    .await
    .unwrap();
    let created = create(&state, "pods", "limited", pod("p", json!({})))
        .await
        .unwrap();
    assert_eq!(
        created["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "1"}, "requests": {"cpu": "250m"}})
    );
    assert_eq!(
        created["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu request for container c; cpu limit for container c"
    );
    assert_forbidden(
        create(
            &state,
            "pods",
            "limited",
            pod("big", json!({"limits": {"cpu": "2"}})),
        )
        .await,
        "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2",
    );
    // Other namespaces are not affected.
    let created = create(
        &state,
        "pods",
        "default",
        pod("big", json!({"limits": {"cpu": "2"}})),
    )
    .await
    .unwrap();
    assert_eq!(
        created["spec"]["containers"][0]["resources"]["limits"]["cpu"],
        "2"
    );
}

fn quota_used(quota: &Value) -> Value {
    quota["status"]["used"].clone()
}

#[tokio::test]
async fn quota_usage_follows_pod_creates_deletes_and_completions() {
    let state = state().await;
    namespace(&state, "q", json!({})).await;
    create(
        &state,
        "pods",
        "q",
        pod("before", json!({"requests": {"cpu": "100m"}})),
    )
    .await
    .unwrap();
    let quota = create(
        &state,
        "resourcequotas",
        "q",
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
               "spec": {"hard": {"pods": "3", "requests.cpu": "1", "count/configmaps": "5"}}}),
    )
    .await
    .unwrap();
    assert_eq!(
        quota["status"]["hard"],
        json!({"pods": "3", "requests.cpu": "1", "count/configmaps": "5"})
    );
    assert_eq!(
        quota_used(&quota),
        json!({"pods": "1", "requests.cpu": "100m", "count/configmaps": "0"})
    );
    for name in ["a", "b"] {
        create(
            &state,
            "pods",
            "q",
            pod(name, json!({"requests": {"cpu": "200m"}})),
        )
        .await
        .unwrap();
    }
    let stored = get(&state, "resourcequotas", "q", "compute").await;
    assert_eq!(
        quota_used(&stored),
        json!({"pods": "3", "requests.cpu": "500m", "count/configmaps": "0"})
    );
    assert_forbidden(
        create(
            &state,
            "pods",
            "q",
            pod("c", json!({"requests": {"cpu": "200m"}})),
        )
        .await,
        "pods \"c\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3",
    );
    assert_forbidden(
        create(&state, "pods", "q", pod("c", json!({}))).await,
        "pods \"c\" is forbidden: failed quota: compute: must specify requests.cpu for: c",
    );
    delete(&state, "pods", "q", "a").await;
    let stored = get(&state, "resourcequotas", "q", "compute").await;
    assert_eq!(
        quota_used(&stored),
        json!({"pods": "2", "requests.cpu": "300m", "count/configmaps": "0"})
    );
    // A pod that finishes stops counting.
    let mut finished = get(&state, "pods", "q", "b").await;
    finished["status"]["phase"] = json!("Succeeded");
    update_as(&state, &admin(), "pods", "status", "q", finished)
        .await
        .unwrap();
    let stored = get(&state, "resourcequotas", "q", "compute").await;
    assert_eq!(
        quota_used(&stored),
        json!({"pods": "1", "requests.cpu": "100m", "count/configmaps": "0"})
    );
    // Other kinds count too.
    create(
        &state,
        "configmaps",
        "q",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}),
    )
    .await
    .unwrap();
    let stored = get(&state, "resourcequotas", "q", "compute").await;
    assert_eq!(stored["status"]["used"]["count/configmaps"], "1");
    // Raising the limit keeps usage as it is.
    let mut raised = get(&state, "resourcequotas", "q", "compute").await;
    raised["spec"]["hard"]["pods"] = json!("10");
    let raised = update_as(&state, &admin(), "resourcequotas", "", "q", raised)
        .await
        .unwrap();
    assert_eq!(raised["status"]["hard"]["pods"], "10");
    assert_eq!(raised["status"]["used"]["pods"], "1");
    assert_eq!(raised["status"]["used"]["count/configmaps"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_exceed_a_quota() {
    let state = state().await;
    namespace(&state, "race", json!({})).await;
    create(
        &state,
        "resourcequotas",
        "race",
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "pods"},
               "spec": {"hard": {"pods": "5"}}}),
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move {
                create(&state, "pods", "race", pod(&format!("p{i}"), json!({}))).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(error) => assert_eq!(error.reason(), Reason::Forbidden, "{error}"),
        }
    }
    assert_eq!(created, 5);
    let stored = get(&state, "resourcequotas", "race", "pods").await;
    assert_eq!(quota_used(&stored), json!({"pods": "5"}));
    let pods = state
        .store
        .range(store::RangeRequest {
            prefix: "/registry/pods/race/".to_string(),
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pods.count, 5);
}

#[tokio::test]
async fn a_kubelet_writes_only_its_own_node() {
    let state = state().await;
    for name in ["n1", "n2"] {
        create(
            &state,
            "nodes",
            "",
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}),
        )
        .await
        .unwrap();
    }
    let kubelet = kubelet("n1");
    let mut own = get(&state, "nodes", "", "n1").await;
    own["metadata"]["labels"] = json!({"disk": "ssd"});
    let updated = update_as(&state, &kubelet, "nodes", "", "", own)
        .await
        .unwrap();
    assert_eq!(updated["metadata"]["labels"]["disk"], "ssd");
    let mut other = get(&state, "nodes", "", "n2").await;
    other["metadata"]["labels"] = json!({"disk": "ssd"});
    assert_forbidden(
        update_as(&state, &kubelet, "nodes", "", "", other).await,
        "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\"",
    );
    assert_forbidden(
        create_as(&state, &kubelet, "pods", "default", pod("p", json!({}))).await,
        "pods \"p\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n1\" can only create mirror pods",
    );
}

#[tokio::test]
async fn an_enforced_pod_security_level_rejects_pods_that_break_it() {
    let state = state().await;
    namespace(
        &state,
        "secure",
        json!({"pod-security.kubernetes.io/enforce": "baseline"}),
    )
    .await;
    let mut host = pod("host", json!({}));
    host["spec"]["hostNetwork"] = json!(true);
    assert_forbidden(
        create(&state, "pods", "secure", host.clone()).await,
        "pods \"host\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)",
    );
    create(&state, "pods", "secure", pod("plain", json!({})))
        .await
        .unwrap();
    create(&state, "pods", "default", host).await.unwrap();
}
