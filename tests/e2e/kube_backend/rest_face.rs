//! The scheduler's Kubernetes backend against Skiff's own apiserver through
//! its Kubernetes REST face (HTTPS, with the admin kubeconfig the apiserver
//! writes to its data dir): nodes and pods are created through that face
//! too, and the scheduler, talking only kube-rs to it, must bind every pod of
//! `skiff-scheduler` (POST `pods/{name}/binding`), leave another
//! scheduler's pod alone, write `Scheduled` events, mark an unschedulable
//! pod `PodScheduled=False` with a `FailedScheduling` event, and hold its
//! `kube-system/skiff-scheduler` lease.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Event, Node, Pod};
use client::{Client, ListParams};

use crate::fixtures::{create_all, marked_unschedulable, node, node_of, pod};
use crate::process::{Process, RestApiserver, wait_for};

fn start_scheduler(kubeconfig: &Path) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_scheduler"))
            .args([
                "--backend",
                "kubernetes",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ])
            .args(["--identity", "skiff-e2e"])
            .args(["--leader-elect-lease-duration", "3s"])
            .args(["--leader-elect-renew-deadline", "2s"])
            .args(["--leader-elect-retry-period", "200ms"])
            .args(["--failed-scheduling-report-interval", "100ms"])
            .args([
                "--pod-initial-backoff",
                "50ms",
                "--pod-max-backoff",
                "200ms",
            ])
            .args(["--metrics-listen", "off"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )
}

async fn pods(client: &Client) -> Vec<Pod> {
    client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items
}

fn named<'a>(pods: &'a [Pod], name: &str) -> &'a Pod {
    pods.iter()
        .find(|pod| pod.metadata.name.as_deref() == Some(name))
        .unwrap()
}

async fn events_with_reason(client: &Client, reason: &str) -> Vec<Event> {
    client
        .list::<Event>("default", &ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|event| event.reason.as_deref() == Some(reason))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_kubernetes_backend_schedules_through_the_rest_face() {
    let dir = tempfile::tempdir().unwrap();
    let apiserver = RestApiserver::start(dir.path(), "redb").await;
    let client = &apiserver.client;
    let kubeconfig = &apiserver.kubeconfig;
    let nodes: Vec<Node> = (0..3).map(|index| node(&format!("node-{index}"))).collect();
    create_all(client, "", &nodes).await;
    let mut created: Vec<Pod> = (0..8)
        .map(|index| pod(&format!("web-{index}"), Some("skiff-scheduler"), "250m"))
        .collect();
    created.push(pod("theirs", Some("default-scheduler"), "100m"));
    created.push(pod("huge", Some("skiff-scheduler"), "64"));
    create_all(client, "default", &created).await;
    let _scheduler = start_scheduler(kubeconfig);

    wait_for("every web pod bound", Duration::from_secs(60), || async {
        let pods = pods(client).await;
        (0..8).all(|index| node_of(named(&pods, &format!("web-{index}"))).is_some())
    })
    .await;
    wait_for("Scheduled events", Duration::from_secs(30), || async {
        events_with_reason(client, "Scheduled").await.len() >= 8
    })
    .await;
    let scheduled = events_with_reason(client, "Scheduled").await;
    let web_0 = scheduled
        .iter()
        .find(|event| event.involved_object.name.as_deref() == Some("web-0"))
        .unwrap();
    let pods_now = pods(client).await;
    let web_0_node = node_of(named(&pods_now, "web-0")).unwrap();
    assert_eq!(
        web_0.message.as_deref(),
        Some(format!("Successfully assigned default/web-0 to {web_0_node}").as_str())
    );

    wait_for(
        "huge marked unschedulable",
        Duration::from_secs(30),
        || async {
            let pods = pods(client).await;
            let huge = named(&pods, "huge");
            marked_unschedulable(huge)
                && !events_with_reason(client, "FailedScheduling")
                    .await
                    .is_empty()
        },
    )
    .await;
    let pods_now = pods(client).await;
    assert_eq!(node_of(named(&pods_now, "huge")), None);
    assert_eq!(node_of(named(&pods_now, "theirs")), None);

    let lease: Lease = client.get("kube-system", "skiff-scheduler").await.unwrap();
    assert_eq!(
        lease.spec.and_then(|spec| spec.holder_identity).as_deref(),
        Some("skiff-e2e")
    );
}
