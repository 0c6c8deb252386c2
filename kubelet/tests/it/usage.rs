//! Usage reports: the hollow kubelet sends every node's usage to the
//! apiserver once per interval, and the apiserver accepts them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kubelet::hollow::HollowKubelet;

use crate::common::{create_bound, fast_config, pod, start_apiserver, wait_for_pod, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_reported_every_interval_and_accepted() {
    let server = start_apiserver().await;
    let mut config = fast_config(3);
    config.usage_report_interval = Duration::from_millis(50);
    let kubelet = HollowKubelet::start(server.client.clone(), config)
        .await
        .unwrap();
    let node = kubelet.node_names().next().unwrap().to_string();
    create_bound(&server.client, &pod("web", "200m"), &node).await;
    wait_for_pod(&server.client, "web", |pod| {
        crate::common::phase(pod) == "Running"
    })
    .await;
    let stats = kubelet.stats().clone();
    let reported = stats.usage_reports.load(Ordering::Relaxed);
    // Reports keep coming after the pod runs, each accepted by the server.
    wait_until(Duration::from_secs(10), || {
        let stats = stats.clone();
        async move { stats.usage_reports.load(Ordering::Relaxed) >= reported + 2 }
    })
    .await;
    assert_eq!(stats.usage_report_errors.load(Ordering::Relaxed), 0);
    kubelet.stop().await;
}
