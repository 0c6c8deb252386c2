//! Resource usage per node, pod and container, kept in memory for whoever
//! reads it (the `/metrics/resource` endpoint, the usage reports to the
//! apiserver behind `kubectl top`), and rendered
//! in the Prometheus text form of the kubelet's `/metrics/resource` with the
//! kubelet's metric names.
//!
//! Usage is held as rates: each container has a steady CPU rate and a
//! working set, so the cumulative CPU counters are computed at read time
//! from the start time and need no periodic update. A pod that stops adds
//! its CPU seconds to its node's retired total, so the node counter never
//! goes backwards.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// CPU and memory every node uses outside pods (system daemons).
pub const SYSTEM_MILLI_CPU: f64 = 150.0;
pub const SYSTEM_MEMORY_BYTES: u64 = 1536 << 20;

/// Usage of many nodes; cheap to share (`Arc`).
#[derive(Debug)]
pub struct UsageTable {
    /// Node name → index into `nodes`; fixed at construction.
    index: HashMap<String, usize>,
    /// Locked briefly per update or read; nothing awaits under the lock.
    nodes: Mutex<Vec<NodeUsage>>,
}

#[derive(Debug)]
struct NodeUsage {
    name: String,
    started: SystemTime,
    /// CPU seconds of pods that stopped.
    retired_cpu_seconds: f64,
    /// By pod key (`namespace/name`).
    pods: HashMap<Arc<str>, PodUsage>,
}

/// One pod's usage.
#[derive(Clone, Debug, PartialEq)]
pub struct PodUsage {
    pub namespace: String,
    pub name: String,
    pub started: SystemTime,
    pub containers: Vec<ContainerUsage>,
}

/// One container's steady usage.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerUsage {
    pub name: String,
    /// CPU in millicores.
    pub milli_cpu: f64,
    pub memory_bytes: u64,
}

/// A node's usage at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeUsageSample {
    pub cpu_seconds: f64,
    /// Current CPU rate in millicores.
    pub milli_cpu: f64,
    pub memory_bytes: u64,
    pub pods: usize,
}

/// A node's current rates with its pods', as a usage report carries them.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeUsageReport {
    pub name: String,
    /// The whole node's CPU rate in millicores (pods and system).
    pub milli_cpu: f64,
    pub memory_bytes: u64,
    pub pods: Vec<PodUsage>,
}

impl PodUsage {
    fn cpu_seconds(&self, now: SystemTime) -> f64 {
        let elapsed = elapsed_seconds(self.started, now);
        self.containers
            .iter()
            .map(|c| c.milli_cpu / 1000.0 * elapsed)
            .sum()
    }
}

fn elapsed_seconds(since: SystemTime, now: SystemTime) -> f64 {
    now.duration_since(since)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

impl UsageTable {
    /// A table of the named nodes, started at `now` with no pods.
    pub fn new(node_names: impl IntoIterator<Item = String>, now: SystemTime) -> UsageTable {
        let nodes: Vec<NodeUsage> = node_names
            .into_iter()
            .map(|name| NodeUsage {
                name,
                started: now,
                retired_cpu_seconds: 0.0,
                pods: HashMap::new(),
            })
            .collect();
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.name.clone(), i))
            .collect();
        UsageTable {
            index,
            nodes: Mutex::new(nodes),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<NodeUsage>> {
        // Each update is one insert or remove, so a poisoned lock still
        // holds consistent data.
        self.nodes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that a pod started on node `node_index`.
    pub(crate) fn start_pod(&self, node_index: usize, key: Arc<str>, usage: PodUsage) {
        if let Some(node) = self.lock().get_mut(node_index) {
            node.pods.insert(key, usage);
        }
    }

    /// Records that a pod stopped at `now`.
    pub(crate) fn stop_pod(&self, node_index: usize, key: &str, now: SystemTime) {
        if let Some(node) = self.lock().get_mut(node_index)
            && let Some(pod) = node.pods.remove(key)
        {
            node.retired_cpu_seconds += pod.cpu_seconds(now);
        }
    }

    /// The usage of node `name` at `now`.
    pub fn node(&self, name: &str, now: SystemTime) -> Option<NodeUsageSample> {
        let index = *self.index.get(name)?;
        let nodes = self.lock();
        let node = nodes.get(index)?;
        let pod_cpu: f64 = node.pods.values().map(|p| p.cpu_seconds(now)).sum();
        let containers = || node.pods.values().flat_map(|p| p.containers.iter());
        Some(NodeUsageSample {
            cpu_seconds: system_cpu_seconds(node, now) + node.retired_cpu_seconds + pod_cpu,
            milli_cpu: SYSTEM_MILLI_CPU + containers().map(|c| c.milli_cpu).sum::<f64>(),
            memory_bytes: SYSTEM_MEMORY_BYTES + containers().map(|c| c.memory_bytes).sum::<u64>(),
            pods: node.pods.len(),
        })
    }

    /// The current usage of every node and its pods, by node index: what a
    /// usage report carries.
    pub fn reports(&self) -> Vec<NodeUsageReport> {
        let nodes = self.lock();
        nodes
            .iter()
            .map(|node| {
                let mut pods: Vec<PodUsage> = node.pods.values().cloned().collect();
                pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                let containers = || pods.iter().flat_map(|p| p.containers.iter());
                NodeUsageReport {
                    name: node.name.clone(),
                    milli_cpu: SYSTEM_MILLI_CPU + containers().map(|c| c.milli_cpu).sum::<f64>(),
                    memory_bytes: SYSTEM_MEMORY_BYTES
                        + containers().map(|c| c.memory_bytes).sum::<u64>(),
                    pods,
                }
            })
            .collect()
    }

    /// The usage recorded for pod `namespace/name`, if it runs here.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<PodUsage> {
        let key = format!("{namespace}/{name}");
        self.lock()
            .iter()
            .find_map(|node| node.pods.get(key.as_str()).cloned())
    }

    /// Prometheus text exposition of the kubelet's resource metrics for
    /// node `only` (every node if `None`) at `now`. Every series carries a
    /// `node` label, since one process serves many nodes. `None` if `only`
    /// names no node here.
    pub fn render(&self, only: Option<&str>, now: SystemTime) -> Option<String> {
        let selected: Vec<usize> = match only {
            Some(name) => vec![*self.index.get(name)?],
            None => (0..self.index.len()).collect(),
        };
        let millis = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let mut samples = Samples::default();
        {
            let nodes = self.lock();
            for node in selected.iter().filter_map(|&i| nodes.get(i)) {
                samples.add_node(node, now);
            }
        }
        Some(samples.render(millis))
    }
}

fn system_cpu_seconds(node: &NodeUsage, now: SystemTime) -> f64 {
    SYSTEM_MILLI_CPU / 1000.0 * elapsed_seconds(node.started, now)
}

/// Values copied out under the lock, formatted after it is released.
#[derive(Default)]
struct Samples {
    /// (node, cpu seconds, memory bytes)
    nodes: Vec<(String, f64, u64)>,
    /// (node, namespace, pod, cpu seconds, memory bytes, start seconds, containers)
    pods: Vec<PodSample>,
}

struct PodSample {
    node: String,
    namespace: String,
    name: String,
    start_seconds: f64,
    /// (container, cpu seconds, memory bytes)
    containers: Vec<(String, f64, u64)>,
}

impl Samples {
    fn add_node(&mut self, node: &NodeUsage, now: SystemTime) {
        let mut cpu = system_cpu_seconds(node, now) + node.retired_cpu_seconds;
        let mut memory = SYSTEM_MEMORY_BYTES;
        for pod in node.pods.values() {
            let elapsed = elapsed_seconds(pod.started, now);
            let containers: Vec<(String, f64, u64)> = pod
                .containers
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.milli_cpu / 1000.0 * elapsed,
                        c.memory_bytes,
                    )
                })
                .collect();
            cpu += containers.iter().map(|c| c.1).sum::<f64>();
            memory += containers.iter().map(|c| c.2).sum::<u64>();
            self.pods.push(PodSample {
                node: node.name.clone(),
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                start_seconds: pod
                    .started
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64(),
                containers,
            });
        }
        self.nodes.push((node.name.clone(), cpu, memory));
    }

    fn render(&self, millis: u128) -> String {
        let mut out = String::with_capacity(256 + self.pods.len() * 600);
        header(
            &mut out,
            "container_cpu_usage_seconds_total",
            "Cumulative cpu time consumed by the container in core-seconds",
            "counter",
        );
        for pod in &self.pods {
            for (container, cpu, _) in &pod.containers {
                let _ = writeln!(
                    out,
                    "container_cpu_usage_seconds_total{{container=\"{container}\",namespace=\"{}\",node=\"{}\",pod=\"{}\"}} {cpu:.6} {millis}",
                    pod.namespace, pod.node, pod.name
                );
            }
        }
        header(
            &mut out,
            "container_memory_working_set_bytes",
            "Current working set of the container in bytes",
            "gauge",
        );
        for pod in &self.pods {
            for (container, _, memory) in &pod.containers {
                let _ = writeln!(
                    out,
                    "container_memory_working_set_bytes{{container=\"{container}\",namespace=\"{}\",node=\"{}\",pod=\"{}\"}} {memory} {millis}",
                    pod.namespace, pod.node, pod.name
                );
            }
        }
        header(
            &mut out,
            "container_start_time_seconds",
            "Start time of the container since unix epoch in seconds",
            "gauge",
        );
        for pod in &self.pods {
            for (container, _, _) in &pod.containers {
                let _ = writeln!(
                    out,
                    "container_start_time_seconds{{container=\"{container}\",namespace=\"{}\",node=\"{}\",pod=\"{}\"}} {:.3} {millis}",
                    pod.namespace, pod.node, pod.name, pod.start_seconds
                );
            }
        }
        header(
            &mut out,
            "node_cpu_usage_seconds_total",
            "Cumulative cpu time consumed by the node in core-seconds",
            "counter",
        );
        for (node, cpu, _) in &self.nodes {
            let _ = writeln!(
                out,
                "node_cpu_usage_seconds_total{{node=\"{node}\"}} {cpu:.6} {millis}"
            );
        }
        header(
            &mut out,
            "node_memory_working_set_bytes",
            "Current working set of the node in bytes",
            "gauge",
        );
        for (node, _, memory) in &self.nodes {
            let _ = writeln!(
                out,
                "node_memory_working_set_bytes{{node=\"{node}\"}} {memory} {millis}"
            );
        }
        header(
            &mut out,
            "pod_cpu_usage_seconds_total",
            "Cumulative cpu time consumed by the pod in core-seconds",
            "counter",
        );
        for pod in &self.pods {
            let cpu: f64 = pod.containers.iter().map(|c| c.1).sum();
            let _ = writeln!(
                out,
                "pod_cpu_usage_seconds_total{{namespace=\"{}\",node=\"{}\",pod=\"{}\"}} {cpu:.6} {millis}",
                pod.namespace, pod.node, pod.name
            );
        }
        header(
            &mut out,
            "pod_memory_working_set_bytes",
            "Current working set of the pod in bytes",
            "gauge",
        );
        for pod in &self.pods {
            let memory: u64 = pod.containers.iter().map(|c| c.2).sum();
            let _ = writeln!(
                out,
                "pod_memory_working_set_bytes{{namespace=\"{}\",node=\"{}\",pod=\"{}\"}} {memory} {millis}",
                pod.namespace, pod.node, pod.name
            );
        }
        header(
            &mut out,
            "resource_scrape_error",
            "1 if there was an error while getting container metrics, 0 otherwise",
            "gauge",
        );
        out.push_str("resource_scrape_error 0\n");
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} [STABLE] {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_grow_and_survive_pod_stop() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let table = UsageTable::new(["n-0".to_string(), "n-1".to_string()], start);
        let pod = PodUsage {
            namespace: "default".to_string(),
            name: "web".to_string(),
            started: start,
            containers: vec![ContainerUsage {
                name: "app".to_string(),
                milli_cpu: 500.0,
                memory_bytes: 100 << 20,
            }],
        };
        table.start_pod(1, Arc::from("default/web"), pod.clone());
        assert_eq!(table.pod("default", "web"), Some(pod));
        let later = start + Duration::from_secs(10);
        let sample = table.node("n-1", later).unwrap();
        // 10 s of system (0.15 cores) plus 10 s of the pod (0.5 cores).
        assert!((sample.cpu_seconds - 6.5).abs() < 1e-9, "{sample:?}");
        assert_eq!(sample.memory_bytes, SYSTEM_MEMORY_BYTES + (100 << 20));
        let text = table.render(Some("n-1"), later).unwrap();
        assert!(text.contains("container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",node=\"n-1\",pod=\"web\"} 5.000000 1700000010000"), "{text}");
        assert!(text.contains("node_memory_working_set_bytes{node=\"n-1\"}"));
        assert!(!text.contains("node=\"n-0\""));
        table.stop_pod(1, "default/web", later);
        let after = table.node("n-1", later + Duration::from_secs(10)).unwrap();
        assert!((after.cpu_seconds - 8.0).abs() < 1e-9, "{after:?}");
        assert_eq!(after.pods, 0);
        assert!(table.render(Some("missing"), later).is_none());
        assert!(table.render(None, later).unwrap().contains("node=\"n-0\""));
    }
}
