//! Reports the resource usage of every simulated node to the apiserver
//! (`ReportUsage`), which serves the latest report as `metrics.k8s.io`
//! (`kubectl top`): one batch of all this process's nodes per interval,
//! never one call per node. A failed report is logged and the next
//! interval sends a fresh one; nothing is queued.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use client::{Client, proto};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::hollow::{Stats, wait_stopped};
use crate::usage::{NodeUsageReport, UsageTable};

/// Sends one report at once, then one every `interval`, until stopped.
pub(super) async fn run(
    client: Client,
    usage: Arc<UsageTable>,
    interval: Duration,
    stats: Arc<Stats>,
    stopped: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stop = pin!(wait_stopped(stopped));
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticker.tick() => {}
        }
        let request = report(&usage, SystemTime::now(), interval);
        let nodes = request.nodes.len();
        tokio::select! {
            () = &mut stop => return,
            result = client.report_usage(request) => match result {
                Ok(_) => Stats::add(&stats.usage_reports, 1),
                Err(error) => {
                    Stats::add(&stats.usage_report_errors, 1);
                    tracing::warn!(%error, nodes, "usage report failed; the next interval sends a new one");
                }
            },
        }
    }
}

/// The report of every node of `usage` at `now`, its rates measured over
/// `window` (the synthetic rates are steady, so any window gives them).
pub(crate) fn report(
    usage: &UsageTable,
    now: SystemTime,
    window: Duration,
) -> proto::ReportUsageRequest {
    let timestamp_unix_millis = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        });
    let window_millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    let nodes = usage
        .reports()
        .into_iter()
        .map(|node| node_usage(node, timestamp_unix_millis, window_millis))
        .collect();
    proto::ReportUsageRequest { nodes }
}

fn node_usage(
    node: NodeUsageReport,
    timestamp_unix_millis: i64,
    window_millis: u64,
) -> proto::NodeUsage {
    let pods = node
        .pods
        .into_iter()
        .map(|pod| proto::PodUsage {
            namespace: pod.namespace,
            name: pod.name,
            containers: pod
                .containers
                .into_iter()
                .map(|container| proto::ContainerUsage {
                    name: container.name,
                    cpu_nanocores: nanocores(container.milli_cpu),
                    memory_working_set_bytes: container.memory_bytes,
                })
                .collect(),
        })
        .collect();
    proto::NodeUsage {
        name: node.name,
        timestamp_unix_millis,
        window_millis,
        cpu_nanocores: nanocores(node.milli_cpu),
        memory_working_set_bytes: node.memory_bytes,
        pods,
    }
}

/// Millicores as whole nanocores (negative or NaN rates are none).
fn nanocores(milli_cpu: f64) -> u64 {
    let nanocores = (milli_cpu * 1_000_000.0).round();
    if nanocores.is_finite() && nanocores > 0.0 {
        // Reason: a rate of 1.8e10 cores saturates, which is what `as` does.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = nanocores as u64;
        whole
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use super::report;
    use crate::usage::{
        ContainerUsage, PodUsage, SYSTEM_MEMORY_BYTES, SYSTEM_MILLI_CPU, UsageTable,
    };

    #[test]
    fn the_report_carries_every_nodes_usage() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let table = UsageTable::new(["n-0".to_string(), "n-1".to_string()], start);
        let pod = PodUsage {
            namespace: "default".to_string(),
            name: "web".to_string(),
            started: start,
            containers: vec![
                ContainerUsage {
                    name: "app".to_string(),
                    milli_cpu: 250.5,
                    memory_bytes: 64 << 20,
                },
                ContainerUsage {
                    name: "sidecar".to_string(),
                    milli_cpu: 1.0,
                    memory_bytes: 1 << 20,
                },
            ],
        };
        table.start_pod(1, Arc::from("default/web"), pod);
        let now = start + Duration::from_secs(30);
        let request = report(&table, now, Duration::from_secs(15));
        assert_eq!(request.nodes.len(), 2);
        let idle = &request.nodes[0];
        assert_eq!(idle.name, "n-0");
        assert_eq!(idle.timestamp_unix_millis, 1_800_000_030_000);
        assert_eq!(idle.window_millis, 15_000);
        assert_eq!(idle.cpu_nanocores, (SYSTEM_MILLI_CPU * 1e6) as u64);
        assert_eq!(idle.memory_working_set_bytes, SYSTEM_MEMORY_BYTES);
        assert!(idle.pods.is_empty());
        let busy = &request.nodes[1];
        assert_eq!(busy.name, "n-1");
        assert_eq!(
            busy.cpu_nanocores,
            ((SYSTEM_MILLI_CPU + 251.5) * 1e6) as u64
        );
        assert_eq!(
            busy.memory_working_set_bytes,
            SYSTEM_MEMORY_BYTES + (65 << 20)
        );
        assert_eq!(busy.pods.len(), 1);
        let pod = &busy.pods[0];
        assert_eq!(
            (pod.namespace.as_str(), pod.name.as_str()),
            ("default", "web")
        );
        let containers: Vec<(&str, u64, u64)> = pod
            .containers
            .iter()
            .map(|c| (c.name.as_str(), c.cpu_nanocores, c.memory_working_set_bytes))
            .collect();
        assert_eq!(
            containers,
            [
                ("app", 250_500_000, 64 << 20),
                ("sidecar", 1_000_000, 1 << 20)
            ]
        );
        // A stopped pod is gone from the next report.
        table.stop_pod(1, "default/web", now);
        let request = report(&table, now, Duration::from_secs(15));
        assert!(request.nodes[1].pods.is_empty());
    }
}
