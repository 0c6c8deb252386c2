//! Registration, leases, node status and adoption of existing nodes.

use std::collections::BTreeMap;
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::Node;
use client::ListParams;
use kubelet::hollow::HollowKubelet;
use kubelet::{Args, BUILT_IN_TEMPLATE, NodeTemplate};

use crate::common::{
    create_bound, fast_config, phase, pod, start_apiserver, wait_for_pod, wait_until,
};

fn condition<'a>(node: &'a Node, type_: &str) -> &'a str {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|list| list.iter().find(|c| c.type_ == type_))
        .map_or("", |c| c.status.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_register_with_template_capacity_labels_taints_and_ready() {
    let server = start_apiserver().await;
    let mut config = fast_config(12);
    config.template = NodeTemplate::parse(&BUILT_IN_TEMPLATE.replace(
        "taints: []",
        "taints: [{key: dedicated, value: batch, effect: NoSchedule}]",
    ))
    .unwrap();
    config.zones = 3;
    let kubelet = HollowKubelet::start(server.client.clone(), config)
        .await
        .unwrap();

    let nodes = server
        .client
        .list::<Node>("", &ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(nodes.len(), 12);
    let mut zones: BTreeMap<String, usize> = BTreeMap::new();
    let mut cidrs = Vec::new();
    for node in &nodes {
        let name = node.metadata.name.as_deref().unwrap();
        assert!(name.starts_with("hollow-node-"), "{name}");
        let labels = node.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], name);
        assert_eq!(labels["kubernetes.io/os"], "linux");
        *zones
            .entry(labels["topology.kubernetes.io/zone"].clone())
            .or_default() += 1;
        let spec = node.spec.as_ref().unwrap();
        let taint = &spec.taints.as_ref().unwrap()[0];
        assert_eq!(
            (taint.key.as_str(), taint.effect.as_str()),
            ("dedicated", "NoSchedule")
        );
        cidrs.push(spec.pod_cidr.clone().unwrap());
        let status = node.status.as_ref().unwrap();
        assert_eq!(status.capacity.as_ref().unwrap()["cpu"].0, "32");
        assert_eq!(status.capacity.as_ref().unwrap()["memory"].0, "128Gi");
        assert_eq!(status.allocatable.as_ref().unwrap()["pods"].0, "110");
        assert!(
            status
                .images
                .as_ref()
                .is_some_and(|images| images.len() >= 3)
        );
        assert_eq!(condition(node, "Ready"), "True");
        for pressure in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            assert_eq!(condition(node, pressure), "False");
        }
        let addresses = status.addresses.as_ref().unwrap();
        assert_eq!(addresses[0].type_, "InternalIP");
        assert_eq!(
            status.node_info.as_ref().unwrap().kubelet_version,
            "v1.34.0"
        );
    }
    assert_eq!(zones.values().copied().collect::<Vec<_>>(), [4, 4, 4]);
    cidrs.sort();
    cidrs.dedup();
    assert_eq!(cidrs.len(), 12, "every node has its own pod CIDR");

    let leases = server
        .client
        .list::<Lease>("kube-node-lease", &ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(leases.len(), 12);
    for lease in &leases {
        let spec = lease.spec.as_ref().unwrap();
        assert_eq!(spec.holder_identity, lease.metadata.name);
        assert_eq!(spec.lease_duration_seconds, Some(1));
        let owner = &lease.metadata.owner_references.as_ref().unwrap()[0];
        let node = nodes
            .iter()
            .find(|n| n.metadata.name == lease.metadata.name)
            .unwrap();
        assert_eq!(Some(&owner.uid), node.metadata.uid.as_ref());
    }

    kubelet.stop().await;
    let after = server
        .client
        .list::<Node>("", &ListParams::default())
        .await
        .unwrap();
    assert_eq!(after.items.len(), 12, "nodes stay after the kubelet stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_are_renewed() {
    let server = start_apiserver().await;
    let kubelet = HollowKubelet::start(server.client.clone(), fast_config(10))
        .await
        .unwrap();
    let renew_times = |leases: Vec<Lease>| -> BTreeMap<String, std::time::SystemTime> {
        leases
            .iter()
            .map(|l| {
                (
                    l.metadata.name.clone().unwrap(),
                    kubelet::lease::renew_time(l).unwrap(),
                )
            })
            .collect()
    };
    let first = renew_times(
        server
            .client
            .list::<Lease>("kube-node-lease", &ListParams::default())
            .await
            .unwrap()
            .items,
    );
    assert_eq!(first.len(), 10);
    wait_until(Duration::from_secs(10), || {
        let client = server.client.clone();
        let (first, kubelet) = (&first, &kubelet);
        async move {
            let leases = client
                .list::<Lease>("kube-node-lease", &ListParams::default())
                .await
                .unwrap()
                .items;
            // The kubelet counts a batch of renewals once all its calls
            // return, which may be after the leases are seen renewed here.
            renew_times(leases)
                .iter()
                .all(|(name, renewed)| renewed > &first[name])
                && kubelet
                    .stats()
                    .lease_renewals
                    .load(std::sync::atomic::Ordering::Relaxed)
                    >= 10
        }
    })
    .await;
    kubelet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifted_node_status_is_posted_again() {
    let server = start_apiserver().await;
    let kubelet = HollowKubelet::start(server.client.clone(), fast_config(2))
        .await
        .unwrap();
    // What the node lifecycle controller does when leases stop.
    let mut node: Node = server.client.get("", "hollow-node-1").await.unwrap();
    for condition in node.status.as_mut().unwrap().conditions.as_mut().unwrap() {
        if condition.type_ == "Ready" {
            condition.status = "Unknown".to_string();
        }
    }
    server.client.update_status(&node).await.unwrap();
    wait_until(Duration::from_secs(10), || {
        let client = server.client.clone();
        async move {
            let node: Node = client.get("", "hollow-node-1").await.unwrap();
            condition(&node, "Ready") == "True"
        }
    })
    .await;
    kubelet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_adopts_existing_nodes_and_running_pods() {
    let server = start_apiserver().await;
    let client = &server.client;
    let first = HollowKubelet::start(client.clone(), fast_config(3))
        .await
        .unwrap();
    create_bound(client, &pod("before", "100m"), "hollow-node-0").await;
    let running = wait_for_pod(client, "before", |p| phase(p) == "Running").await;
    let ip = running.status.unwrap().pod_ip.unwrap();
    first.stop().await;

    let mut node: Node = client.get("", "hollow-node-0").await.unwrap();
    let uid = node.metadata.uid.clone();
    let cidr = node.spec.as_ref().unwrap().pod_cidr.clone();
    let labels = node.metadata.labels.as_mut().unwrap();
    labels.remove("kubernetes.io/hostname");
    labels.insert(
        "topology.kubernetes.io/zone".to_string(),
        "elsewhere".to_string(),
    );
    let node = client.update(&node).await.unwrap();
    let mut node = node;
    for condition in node.status.as_mut().unwrap().conditions.as_mut().unwrap() {
        condition.status = "Unknown".to_string();
    }
    client.update_status(&node).await.unwrap();

    let second = HollowKubelet::start(client.clone(), fast_config(3))
        .await
        .unwrap();
    let adopted: Node = client.get("", "hollow-node-0").await.unwrap();
    assert_eq!(
        adopted.metadata.uid, uid,
        "the node is adopted, not recreated"
    );
    assert_eq!(adopted.spec.as_ref().unwrap().pod_cidr, cidr);
    let labels = adopted.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], "hollow-node-0");
    assert_eq!(labels["topology.kubernetes.io/zone"], "zone-0");
    assert_eq!(condition(&adopted, "Ready"), "True");
    assert_eq!(condition(&adopted, "MemoryPressure"), "False");
    let leases = client
        .list::<Lease>("kube-node-lease", &ListParams::default())
        .await
        .unwrap();
    assert_eq!(leases.items.len(), 3);

    // The running pod keeps its IP, and a new pod does not get it.
    create_bound(client, &pod("after", "100m"), "hollow-node-0").await;
    let after = wait_for_pod(client, "after", |p| phase(p) == "Running").await;
    assert_ne!(after.status.unwrap().pod_ip.unwrap(), ip);
    let before: api::k8s_openapi::api::core::v1::Pod =
        client.get("default", "before").await.unwrap();
    assert_eq!(
        before.status.as_ref().unwrap().pod_ip.as_deref(),
        Some(ip.as_str())
    );
    assert_eq!(phase(&before), "Running");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_template_or_config_is_rejected_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: lots, memory: 8Gi, pods: '10'}\n",
    )
    .unwrap();
    let args = <Args as clap::Parser>::parse_from([
        "kubelet",
        "--hollow",
        "--node-template",
        path.to_str().unwrap(),
    ]);
    let error = args.hollow_config().unwrap_err().to_string();
    assert!(error.contains("node.yaml"), "{error}");
    assert!(
        error.contains("status.capacity[cpu]: Invalid value: \"lots\""),
        "{error}"
    );

    let server = start_apiserver().await;
    let mut config = fast_config(1);
    config.node_cidr_mask_size = 31;
    let error = HollowKubelet::start(server.client.clone(), config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("--cluster-cidr:"), "{error}");
    let nodes = server
        .client
        .list::<Node>("", &ListParams::default())
        .await
        .unwrap();
    assert!(
        nodes.items.is_empty(),
        "nothing registered on a config error"
    );
}
