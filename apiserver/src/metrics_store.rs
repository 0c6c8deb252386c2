//! The resource usage kubelets report (`ReportUsage` on the gRPC face),
//! kept in memory as metrics-server keeps it: the latest sample of each
//! node with its pods, served as `metrics.k8s.io` by `rest/metrics`.
//!
//! Nothing here is stored: a restarted apiserver knows no usage until the
//! next reports. A node's sample replaces the one before; a pod's usage is
//! the one in the latest sample of the node that reported it, so a pod
//! that stopped is gone with the next sample of its node. Samples received
//! more than the TTL ago are not served and are dropped with the next
//! report. `now` is an argument everywhere, so none of this reads a clock.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use api::{FieldError, FieldErrors, FieldPath};
use client::proto;

use crate::error::ApiError;

/// Node samples one report may carry.
pub(crate) const MAX_NODES_PER_REPORT: usize = 50_000;
/// Pods one node sample may carry (kubelets run at most a few hundred).
pub(crate) const MAX_PODS_PER_NODE: usize = 1_000;
/// Containers one pod sample may carry.
pub(crate) const MAX_CONTAINERS_PER_POD: usize = 256;
/// The longest node, pod or container name (a DNS subdomain).
const MAX_NAME_BYTES: usize = 253;
/// The longest namespace name (a DNS label).
const MAX_NAMESPACE_BYTES: usize = 63;

/// CPU and memory in use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// CPU rate in billionths of a core.
    pub(crate) cpu_nanocores: u64,
    pub(crate) memory_bytes: u64,
}

/// When a sample was taken and over which window its rates were measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// Milliseconds since the Unix epoch, as the kubelet reported it.
    pub(crate) timestamp_unix_millis: i64,
    pub(crate) window: Duration,
}

/// One container's usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContainerSample {
    pub(crate) name: String,
    pub(crate) usage: Usage,
}

/// One pod's usage, as its node last reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PodSample {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) containers: Vec<ContainerSample>,
}

/// One node's usage at one moment, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeSample {
    pub(crate) name: String,
    pub(crate) window: Window,
    pub(crate) usage: Usage,
    pub(crate) pods: Vec<PodSample>,
}

/// A pod's latest usage with its node's window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PodMetrics {
    pub(crate) window: Window,
    pub(crate) containers: Vec<ContainerSample>,
}

/// The latest sample of every node that reported; shared by both faces.
#[derive(Debug)]
pub(crate) struct MetricsStore {
    /// Samples received longer ago than this are not served.
    ttl: Duration,
    /// Locked briefly per report or read; nothing awaits under the lock.
    samples: Mutex<Samples>,
}

#[derive(Debug, Default)]
struct Samples {
    /// Node name → its latest sample and when it was received.
    nodes: HashMap<String, Received>,
    /// `namespace/name` of a pod → the node whose latest sample carries it.
    pods: HashMap<String, String>,
}

#[derive(Debug)]
struct Received {
    at: SystemTime,
    sample: Arc<NodeSample>,
}

impl MetricsStore {
    pub(crate) fn new(ttl: Duration) -> MetricsStore {
        MetricsStore {
            ttl,
            samples: Mutex::new(Samples::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Samples> {
        // Every change is a few map operations left consistent at each
        // step, so a poisoned lock still holds usable samples.
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a sample received at `received.at` is served at `now`; one
    /// received "after" `now` (the clock stepped back) still is.
    fn fresh(&self, received: &Received, now: SystemTime) -> bool {
        match now.duration_since(received.at) {
            Ok(age) => age <= self.ttl,
            Err(_) => true,
        }
    }

    /// Stores validated samples received at `now` (each replaces its
    /// node's previous one) and drops the samples past the TTL.
    pub(crate) fn report(&self, samples: Vec<NodeSample>, now: SystemTime) {
        let mut stored = self.lock();
        let Samples { nodes, pods } = &mut *stored;
        for sample in samples {
            let sample = Arc::new(sample);
            let previous = match nodes.entry(sample.name.clone()) {
                Entry::Occupied(mut entry) => Some(std::mem::replace(
                    entry.get_mut(),
                    Received {
                        at: now,
                        sample: sample.clone(),
                    },
                )),
                Entry::Vacant(entry) => {
                    entry.insert(Received {
                        at: now,
                        sample: sample.clone(),
                    });
                    None
                }
            };
            if let Some(previous) = previous {
                forget_pods(pods, &previous.sample);
            }
            for pod in &sample.pods {
                pods.insert(pod_key(&pod.namespace, &pod.name), sample.name.clone());
            }
        }
        let expired: Vec<String> = nodes
            .iter()
            .filter(|(_, received)| !self.fresh(received, now))
            .map(|(name, _)| name.clone())
            .collect();
        for name in expired {
            if let Some(received) = nodes.remove(&name) {
                forget_pods(pods, &received.sample);
            }
        }
    }

    /// The latest sample of node `name`, if one is fresh at `now`.
    pub(crate) fn node(&self, name: &str, now: SystemTime) -> Option<Arc<NodeSample>> {
        let stored = self.lock();
        let received = stored.nodes.get(name)?;
        self.fresh(received, now).then(|| received.sample.clone())
    }

    /// The latest usage of each pod of `keys` (namespace, name), in order,
    /// if its node's sample is fresh at `now`; one lock for the lot.
    pub(crate) fn pods<'a>(
        &self,
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: SystemTime,
    ) -> Vec<Option<PodMetrics>> {
        let stored = self.lock();
        keys.into_iter()
            .map(|(namespace, name)| {
                let node = stored.pods.get(&pod_key(namespace, name))?;
                let received = stored.nodes.get(node)?;
                if !self.fresh(received, now) {
                    return None;
                }
                let sample = &received.sample;
                let pod = sample
                    .pods
                    .iter()
                    .find(|pod| pod.namespace == namespace && pod.name == name)?;
                Some(PodMetrics {
                    window: sample.window,
                    containers: pod.containers.clone(),
                })
            })
            .collect()
    }
}

/// Removes the pods of `sample` from the index, unless a later sample of
/// another node carries them now.
fn forget_pods(pods: &mut HashMap<String, String>, sample: &NodeSample) {
    for pod in &sample.pods {
        let key = pod_key(&pod.namespace, &pod.name);
        if pods.get(&key).is_some_and(|node| *node == sample.name) {
            pods.remove(&key);
        }
    }
}

fn pod_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Checks a `ReportUsage` request and turns it into samples: names
/// non-empty and bounded, no node twice, sizes within the limits, a
/// positive window and a timestamp after the epoch. The error names every
/// offending field, and nothing is stored when there is one.
pub(crate) fn validate_report(
    request: proto::ReportUsageRequest,
) -> Result<Vec<NodeSample>, ApiError> {
    let mut errors = FieldErrors::default();
    let nodes_path = FieldPath::root("nodes");
    if request.nodes.len() > MAX_NODES_PER_REPORT {
        errors.push(too_many(
            nodes_path.clone(),
            request.nodes.len(),
            MAX_NODES_PER_REPORT,
        ));
        return Err(invalid(errors));
    }
    let mut seen = HashMap::with_capacity(request.nodes.len());
    let mut samples = Vec::with_capacity(request.nodes.len());
    for (index, node) in request.nodes.into_iter().enumerate() {
        let path = nodes_path.index(index);
        check_name(&mut errors, path.child("name"), &node.name, MAX_NAME_BYTES);
        if !node.name.is_empty() && seen.insert(node.name.clone(), index).is_some() {
            errors.push(FieldError::duplicate(path.child("name"), &node.name));
        }
        if node.timestamp_unix_millis <= 0 {
            errors.push(FieldError::invalid_raw(
                path.child("timestampUnixMillis"),
                node.timestamp_unix_millis,
                "must be after the Unix epoch",
            ));
        }
        if node.window_millis == 0 {
            errors.push(FieldError::invalid_raw(
                path.child("windowMillis"),
                node.window_millis,
                "must be positive",
            ));
        }
        if node.pods.len() > MAX_PODS_PER_NODE {
            errors.push(too_many(
                path.child("pods"),
                node.pods.len(),
                MAX_PODS_PER_NODE,
            ));
            continue;
        }
        let mut pods = Vec::with_capacity(node.pods.len());
        for (pod_index, pod) in node.pods.into_iter().enumerate() {
            let pod_path = path.child("pods").index(pod_index);
            check_name(
                &mut errors,
                pod_path.child("namespace"),
                &pod.namespace,
                MAX_NAMESPACE_BYTES,
            );
            check_name(
                &mut errors,
                pod_path.child("name"),
                &pod.name,
                MAX_NAME_BYTES,
            );
            if pod.containers.len() > MAX_CONTAINERS_PER_POD {
                errors.push(too_many(
                    pod_path.child("containers"),
                    pod.containers.len(),
                    MAX_CONTAINERS_PER_POD,
                ));
                continue;
            }
            let mut containers = Vec::with_capacity(pod.containers.len());
            for (container_index, container) in pod.containers.into_iter().enumerate() {
                let container_path = pod_path.child("containers").index(container_index);
                check_name(
                    &mut errors,
                    container_path.child("name"),
                    &container.name,
                    MAX_NAME_BYTES,
                );
                containers.push(ContainerSample {
                    name: container.name,
                    usage: Usage {
                        cpu_nanocores: container.cpu_nanocores,
                        memory_bytes: container.memory_working_set_bytes,
                    },
                });
            }
            pods.push(PodSample {
                namespace: pod.namespace,
                name: pod.name,
                containers,
            });
        }
        samples.push(NodeSample {
            name: node.name,
            window: Window {
                timestamp_unix_millis: node.timestamp_unix_millis,
                window: Duration::from_millis(node.window_millis),
            },
            usage: Usage {
                cpu_nanocores: node.cpu_nanocores,
                memory_bytes: node.memory_working_set_bytes,
            },
            pods,
        });
    }
    if errors.is_empty() {
        Ok(samples)
    } else {
        Err(invalid(errors))
    }
}

fn check_name(errors: &mut FieldErrors, path: FieldPath, name: &str, max: usize) {
    if name.is_empty() {
        errors.push(FieldError::required(path, ""));
    } else if name.len() > max {
        errors.push(FieldError::too_long(path, max));
    }
}

/// Kubernetes' `field.TooMany`: `Too many: 5: must have at most 3 items`.
fn too_many(path: FieldPath, actual: usize, max: usize) -> FieldError {
    FieldError {
        kind: api::field::FieldErrorType::TooMany,
        path,
        value: Some(actual.to_string()),
        detail: format!("must have at most {max} items"),
    }
}

fn invalid(errors: FieldErrors) -> ApiError {
    ApiError::Invalid {
        kind: "NodeMetrics",
        name: String::new(),
        errors,
    }
}

#[cfg(test)]
mod tests;
