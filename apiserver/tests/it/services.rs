//! Service cluster IP and nodePort allocation: assignment, requested
//! values, release on delete, and two apiservers sharing one store.

use std::collections::HashSet;

use api::k8s_openapi::api::core::v1::Service;
use apiserver::Config;
use client::{DeleteParams, Error};
use serde_json::json;

use crate::common::{count_keys, memory_store, start, start_with};

fn service(name: &str, spec: serde_json::Value) -> Service {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

#[tokio::test]
async fn allocates_and_releases() {
    let server = start().await;
    let client = &server.client;
    let created = client
        .create("default", &service("a", json!({"ports": [{"port": 80}]})))
        .await
        .unwrap();
    let ip: std::net::Ipv4Addr = created
        .spec
        .as_ref()
        .unwrap()
        .cluster_ip
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ip.octets()[0], 127);
    assert!((96..112).contains(&ip.octets()[1]), "{ip}");

    let requested = client
        .create(
            "default",
            &service(
                "b",
                json!({"clusterIP": "127.96.0.10", "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443}]}),
            ),
        )
        .await
        .unwrap();
    let spec = requested.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("127.96.0.10"));
    let ports = spec.ports.unwrap();
    assert_eq!(ports[0].node_port, Some(30080));
    assert!((30000..=32767).contains(&ports[1].node_port.unwrap()));

    let taken = client
        .create(
            "default",
            &service(
                "c",
                json!({"clusterIP": "127.96.0.10", "ports": [{"port": 80}]}),
            ),
        )
        .await;
    assert!(
        matches!(taken, Err(Error::Invalid(ref m)) if m.contains("already allocated")),
        "{taken:?}"
    );
    let port_taken = client
        .create(
            "default",
            &service(
                "d",
                json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
            ),
        )
        .await;
    assert!(
        matches!(port_taken, Err(Error::Invalid(_))),
        "{port_taken:?}"
    );
    let outside = client
        .create(
            "default",
            &service(
                "e",
                json!({"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}),
            ),
        )
        .await;
    assert!(matches!(outside, Err(Error::Invalid(_))), "{outside:?}");

    let headless = client
        .create(
            "default",
            &service("h", json!({"clusterIP": "None", "ports": [{"port": 80}]})),
        )
        .await
        .unwrap();
    assert_eq!(headless.spec.unwrap().cluster_ip.as_deref(), Some("None"));

    assert_eq!(
        count_keys(&server.store, "/registry/ranges/serviceips/").await,
        2
    );
    assert_eq!(
        count_keys(&server.store, "/registry/ranges/servicenodeports/").await,
        2
    );
    client
        .delete::<Service>("default", "b", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        count_keys(&server.store, "/registry/ranges/serviceips/").await,
        1
    );
    assert_eq!(
        count_keys(&server.store, "/registry/ranges/servicenodeports/").await,
        0
    );
    // Released: the IP can be requested again.
    client
        .create(
            "default",
            &service(
                "b2",
                json!({"clusterIP": "127.96.0.10", "ports": [{"port": 80}]}),
            ),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apiservers_never_share_an_ip() {
    let store = memory_store();
    // A tiny range makes collisions likely if allocation were not atomic.
    let mut config = Config::new(store.clone());
    config.service_cluster_ip_range = "127.96.0.0/26".parse().unwrap();
    let first = start_with(config.clone()).await;
    let second = start_with(config).await;
    let mut tasks = Vec::new();
    for (index, client) in [first.client.clone(), second.client.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut ips = Vec::new();
            for n in 0..25 {
                let created = client
                    .create(
                        "default",
                        &service(&format!("s{index}-{n}"), json!({"ports": [{"port": 80}]})),
                    )
                    .await
                    .unwrap();
                ips.push(created.spec.unwrap().cluster_ip.unwrap());
            }
            ips
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 50, "duplicate IPs: {all:?}");
}

#[tokio::test]
async fn update_keeps_allocations() {
    let server = start().await;
    let client = &server.client;
    let spec = json!({"type": "NodePort", "ports": [{"port": 80}]});
    let created = client.create("default", &service("k", spec)).await.unwrap();
    let created_spec = created.spec.clone().unwrap();
    let mut changed = created.clone();
    let changed_spec = changed.spec.as_mut().unwrap();
    changed_spec.cluster_ip = None;
    changed_spec.cluster_ips = None;
    changed_spec.ports.as_mut().unwrap()[0].node_port = None;
    let updated = client.update(&changed).await.unwrap().spec.unwrap();
    assert_eq!(updated.cluster_ip, created_spec.cluster_ip);
    assert_eq!(
        updated.ports.unwrap()[0].node_port,
        created_spec.ports.unwrap()[0].node_port
    );
    let mut moved = created.clone();
    moved.metadata.resource_version = None;
    moved.spec.as_mut().unwrap().cluster_ip = Some("127.96.0.99".into());
    moved.spec.as_mut().unwrap().cluster_ips = None;
    assert!(matches!(
        client.update(&moved).await.unwrap_err(),
        Error::Invalid(_)
    ));
}
