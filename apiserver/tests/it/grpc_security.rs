//! The gRPC face with a security directory: TLS only, every request
//! authenticated (client certificate per connection, or a bearer token
//! per request) and authorized by RBAC, with one decision per batch; the
//! components' kubeconfigs the server writes carry their own users.

use std::time::Duration;

use api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use apiserver::Config;
use apiserver::identities::{
    CONTROLLER_MANAGER_KUBECONFIG, KUBELET_KUBECONFIG, SCHEDULER_KUBECONFIG,
};
use client::kubeconfig::{Connection, Credential};
use client::proto;
use client::{Binding, Client, Error, ListParams, WatchParams};
use serde_json::json;

use crate::common::{
    NOBODY_TOKEN, TestServer, count_keys, grpc_connection, memory_store, node, pod, security_dir,
    start_rest_tls, wait_until,
};

async fn start() -> (TestServer, Connection) {
    let (server, admin) = start_rest_tls(Config::new(memory_store())).await;
    let admin = grpc_connection(&admin, server.address);
    (server, admin)
}

/// A client of the gRPC face as `credential`, trusting the cluster CA.
async fn client_as(admin: &Connection, credential: Option<Credential>) -> Client {
    let connection = Connection {
        credential,
        ..admin.clone()
    };
    Client::grpc_lazy(&connection).await.unwrap()
}

async fn component(server: &TestServer, file: &str) -> Client {
    let path = security_dir(server).join(file);
    Client::grpc_lazy(&grpc_connection(&path, server.address))
        .await
        .unwrap()
}

fn object<K: serde::de::DeserializeOwned>(value: serde_json::Value) -> K {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn only_tls_clients_with_credentials_are_served() {
    let (server, admin) = start().await;
    let get_default = |client: Client| async move { client.get::<Namespace>("", "default").await };

    // Plain HTTP/2 to a TLS face never gets an answer.
    let plain = Client::connect(format!("http://{}", server.address)).await;
    if let Ok(plain) = plain {
        let result = tokio::time::timeout(Duration::from_secs(10), get_default(plain))
            .await
            .expect("the plain client fails within 10 s");
        assert!(result.is_err(), "{result:?}");
    }

    // TLS without a credential is anonymous, which may not read namespaces.
    let anonymous = client_as(&admin, None).await;
    let error = get_default(anonymous).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");

    // A token nobody issued.
    let forged = client_as(&admin, Some(Credential::Token("forged".into()))).await;
    let error = get_default(forged).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");

    // A known user without roles: 403 in Kubernetes' words, nothing stored.
    let nobody = client_as(&admin, Some(Credential::Token(NOBODY_TOKEN.into()))).await;
    let error = nobody.create("default", &pod("web-0")).await.unwrap_err();
    match error {
        Error::Forbidden(message) => assert_eq!(
            message,
            "pods is forbidden: User \"nobody\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\""
        ),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    let results = nobody
        .batch_create("default", &[pod("web-1"), pod("web-2")])
        .await;
    assert!(matches!(results, Err(Error::Forbidden(_))), "{results:?}");
    assert_eq!(count_keys(&server.store, "/registry/pods/").await, 0);
    let error = nobody
        .list::<Pod>("", &ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden(message) if message.contains("cannot list resource \"pods\" in API group \"\" at the cluster scope")),
        "{error:?}"
    );
    let error = nobody
        .watch::<Node>("", &WatchParams::default())
        .await
        .err()
        .expect("watch is refused");
    assert!(matches!(error, Error::Forbidden(_)), "{error:?}");

    // The admin's client certificate may do it all.
    server
        .client
        .create("default", &pod("web-0"))
        .await
        .unwrap();
}

#[tokio::test]
async fn components_act_as_their_own_users() {
    let (server, _) = start().await;
    server.client.create("", &node("n1")).await.unwrap();
    server
        .client
        .create("default", &pod("web-0"))
        .await
        .unwrap();
    let scheduler = component(&server, SCHEDULER_KUBECONFIG).await;
    let kubelet = component(&server, KUBELET_KUBECONFIG).await;
    let controller_manager = component(&server, CONTROLLER_MANAGER_KUBECONFIG).await;

    // The scheduler reads pods and nodes and binds, but creates no pods and
    // reports no usage.
    let pods = scheduler
        .list::<Pod>("", &ListParams::default())
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 1);
    scheduler
        .watch::<Node>("", &WatchParams::default())
        .await
        .unwrap();
    let error = scheduler
        .create("default", &pod("web-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden(message) if message.contains("User \"system:kube-scheduler\"")),
        "{error:?}"
    );
    let bound = scheduler
        .batch_bind(&[Binding {
            namespace: "default".into(),
            pod: "web-0".into(),
            node: "n1".into(),
        }])
        .await
        .unwrap();
    assert!(bound[0].is_ok(), "{bound:?}");
    let report = proto::ReportUsageRequest {
        nodes: vec![proto::NodeUsage {
            name: "n1".into(),
            timestamp_unix_millis: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
            window_millis: 15_000,
            cpu_nanocores: 1_000_000,
            memory_working_set_bytes: 1 << 20,
            pods: Vec::new(),
        }],
    };
    let error = scheduler.report_usage(report.clone()).await.unwrap_err();
    assert!(matches!(error, Error::Forbidden(_)), "{error:?}");

    // The hollow kubelet registers nodes, writes pod status and reports
    // usage, but binds nothing.
    kubelet.create("", &node("n2")).await.unwrap();
    let mut running = kubelet.get::<Pod>("default", "web-0").await.unwrap();
    running.status = Some(object(json!({"phase": "Running"})));
    kubelet.update_status(&running).await.unwrap();
    assert_eq!(kubelet.report_usage(report).await.unwrap().accepted, 1);
    server
        .client
        .create("default", &pod("web-1"))
        .await
        .unwrap();
    let bound = kubelet
        .batch_bind(&[Binding {
            namespace: "default".into(),
            pod: "web-1".into(),
            node: "n1".into(),
        }])
        .await
        .unwrap();
    assert!(matches!(bound[0], Err(Error::Forbidden(_))), "{bound:?}");

    // The controller manager authenticates (its own role decides the rest).
    let outcome = controller_manager.get::<Namespace>("", "default").await;
    assert!(
        !matches!(outcome, Err(Error::Unauthorized(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn resource_names_are_authorized_per_object() {
    let (server, admin) = start().await;
    let admin_client = &server.client;
    admin_client.create("", &node("n1")).await.unwrap();
    for name in ["web-a", "web-b"] {
        admin_client.create("default", &pod(name)).await.unwrap();
    }
    for name in ["allowed", "other"] {
        let config_map: ConfigMap = object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name}, "data": {"k": "v"}
        }));
        admin_client.create("default", &config_map).await.unwrap();
    }
    let role = object::<api::k8s_openapi::api::rbac::v1::Role>(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "narrow", "namespace": "default"},
        "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["update"], "resourceNames": ["allowed"]},
            {"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"], "resourceNames": ["web-a"]}
        ]
    }));
    admin_client.create("default", &role).await.unwrap();
    let binding = object::<api::k8s_openapi::api::rbac::v1::RoleBinding>(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "narrow", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "narrow"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "nobody"}]
    }));
    admin_client.create("default", &binding).await.unwrap();
    let nobody = client_as(&admin, Some(Credential::Token(NOBODY_TOKEN.into()))).await;
    // The policy follows the store by a watch.
    wait_until(Duration::from_secs(10), || {
        let nobody = nobody.clone();
        async move { nobody.get::<ConfigMap>("default", "allowed").await.is_ok() }
    })
    .await;

    let mut allowed = nobody.get::<ConfigMap>("default", "allowed").await.unwrap();
    allowed.data = Some([("k".to_string(), "changed".to_string())].into());
    nobody.update(&allowed).await.unwrap();
    let mut other = nobody.get::<ConfigMap>("default", "other").await.unwrap();
    other.data = Some([("k".to_string(), "changed".to_string())].into());
    let error = nobody.update(&other).await.unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden(message) if message.contains("cannot update resource \"configmaps\"")),
        "{error:?}"
    );

    // One batch: the pod the rule names binds, the other is refused alone.
    let results = nobody
        .batch_bind(&[
            Binding {
                namespace: "default".into(),
                pod: "web-a".into(),
                node: "n1".into(),
            },
            Binding {
                namespace: "default".into(),
                pod: "web-b".into(),
                node: "n1".into(),
            },
        ])
        .await
        .unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(Error::Forbidden(_))),
        "{results:?}"
    );
    let web_b = admin_client.get::<Pod>("default", "web-b").await.unwrap();
    assert!(web_b.spec.unwrap().node_name.is_none());
    let web_a = admin_client.get::<Pod>("default", "web-a").await.unwrap();
    assert_eq!(web_a.spec.unwrap().node_name.as_deref(), Some("n1"));
}

#[tokio::test]
async fn a_trusted_plain_face_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut with_security = Config::new(memory_store());
    with_security.security_dir = Some(dir.path().join("security"));
    with_security.grpc_plain_http = true;
    // Without a security directory gRPC is plain and trusted too.
    for config in [Config::new(memory_store()), with_security] {
        // Bound, never accepted from: the check comes before serving.
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let listeners = apiserver::Listeners {
            grpc: listener,
            rest: None,
        };
        let result = apiserver::serve(listeners, config, async {}).await;
        assert!(
            matches!(result, Err(apiserver::RunError::PlainHttpNotLoopback(_))),
            "{result:?}"
        );
    }
    // Nothing was written for a face that was refused.
    assert!(!dir.path().join("security").exists());
}
