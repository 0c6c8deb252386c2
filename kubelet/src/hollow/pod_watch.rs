//! The pod reader: lists and watches every bound pod (`spec.nodeName!=`)
//! over the raw gRPC stream, relisting when the server says the watch is too
//! old, and hands the pod manager only the events of this process's nodes.
//!
//! Why not `client::watcher`: a kubelet sees two or three events per pod
//! (bound, its own Running write, deletion), and decoding each into a full
//! `Pod` costs more than all the rest of its work; a list of 100,000 pods
//! decoded at once also holds gigabytes. Here each event is first read as
//! a small borrowed header (name, uid, resourceVersion, node, phase,
//! deletion); events of other nodes are dropped there, and only a pod the
//! reader has not passed on before (same name and uid) is decoded in full,
//! then cut down at once to what the kubelet keeps ([`NewPod`]). Lists are
//! passed on page by page. The reader runs as its own task, so decoding
//! overlaps the manager's work and the watch stream is drained promptly
//! (a watcher that falls behind is closed by the apiserver and must relist).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::k8s_openapi::api::core::v1::Pod;
use client::Client;
use client::RawClient;
use client::proto::{self, EventType};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use crate::clock;
use crate::hollow::nodes::NodeSet;
use crate::hollow::wait_stopped;
use crate::hollow::{EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};
use crate::pod_status::PodShape;

/// Pause before retrying after an error other than "too old".
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Pods per list page.
const LIST_PAGE: i64 = 5000;

/// What the reader passes on.
#[derive(Debug)]
pub(super) enum PodBatch {
    /// One page of a list of every bound pod of this process's nodes. The
    /// first page starts a list; after the last, pods not listed since the
    /// first are gone.
    Listed {
        events: Vec<PodEvent>,
        first: bool,
        last: bool,
    },
    /// Changes since the previous batch, in order.
    Changed(Vec<PodEvent>),
}

/// One pod of this process's nodes, as the manager needs it.
#[derive(Debug)]
pub(super) struct PodEvent {
    pub(super) deleted: bool,
    pub(super) header: PodHeader,
    /// Set when the pod is new to the kubelet (not passed on before).
    pub(super) pod: Option<Box<NewPod>>,
}

/// The fields of a pod the manager decides on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PodHeader {
    /// `namespace/name`.
    pub(super) key: Arc<str>,
    pub(super) uid: Arc<str>,
    pub(super) resource_version: u64,
    /// Index of its node in the [`NodeSet`].
    pub(super) node: usize,
    pub(super) phase: Phase,
    pub(super) deleting: bool,
}

/// `status.phase`; anything unknown counts as Pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    fn parse(text: Option<&str>) -> Phase {
        match text {
            Some("Running") => Phase::Running,
            Some("Succeeded") => Phase::Succeeded,
            Some("Failed") => Phase::Failed,
            _ => Phase::Pending,
        }
    }
}

/// What the kubelet keeps of a pod it sees for the first time.
#[derive(Debug, PartialEq)]
pub(super) struct NewPod {
    pub(super) shape: PodShape,
    /// Run-to-completion: finish this long after starting.
    pub(super) run_for: Option<Duration>,
    pub(super) exit_code: i32,
    /// `status.podIP` and `status.startTime`, for a pod adopted Running.
    pub(super) pod_ip: Option<Ipv4Addr>,
    pub(super) start_time: Option<SystemTime>,
}

impl NewPod {
    pub(super) fn of(pod: &Pod) -> NewPod {
        let shape = PodShape::of(pod);
        let (run_for, exit_code) = run_to_completion(pod, &shape);
        let status = pod.status.as_ref();
        NewPod {
            run_for,
            exit_code,
            pod_ip: status
                .and_then(|s| s.pod_ip.as_deref())
                .and_then(|ip| ip.parse().ok()),
            start_time: status
                .and_then(|s| s.start_time.as_ref())
                .map(clock::system_time),
            shape,
        }
    }
}

/// How long a run-to-completion pod runs and the exit code it finishes with.
fn run_to_completion(pod: &Pod, shape: &PodShape) -> (Option<Duration>, i32) {
    if shape.restart_policy == "Always" {
        return (None, 0);
    }
    let annotation = |name: &str| {
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(name))
            .map(String::as_str)
    };
    let run_for = annotation(RUN_SECONDS_ANNOTATION).and_then(|text| {
        let seconds = text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
        if seconds.is_none() {
            tracing::warn!(pod = ?pod.metadata.name, value = text, "ignoring invalid {RUN_SECONDS_ANNOTATION}");
        }
        seconds.map(Duration::from_secs_f64)
    });
    // A failed container of an OnFailure pod would be restarted; only
    // Never pods end Failed.
    let exit_code = annotation(EXIT_CODE_ANNOTATION)
        .and_then(|text| text.trim().parse::<i32>().ok())
        .filter(|_| shape.restart_policy == "Never")
        .unwrap_or(0);
    (run_for, exit_code)
}

/// The header as it appears in the JSON; strings borrow from the message
/// when they have no escapes.
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow, default)]
    metadata: RawMeta<'a>,
    #[serde(borrow, default)]
    spec: Option<RawSpec<'a>>,
    #[serde(borrow, default)]
    status: Option<RawStatus<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta<'a> {
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    namespace: Cow<'a, str>,
    #[serde(borrow, default)]
    uid: Cow<'a, str>,
    #[serde(borrow, default)]
    resource_version: Cow<'a, str>,
    #[serde(borrow, default)]
    deletion_timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec<'a> {
    #[serde(borrow, default)]
    node_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawStatus<'a> {
    #[serde(borrow, default)]
    phase: Option<Cow<'a, str>>,
}

/// Turns raw pod JSON into events of this process's nodes, remembering which
/// pods (name and uid) it has passed on, so each is decoded in full once.
pub(super) struct Reader {
    nodes: Arc<NodeSet>,
    /// `namespace/name` → uid of every pod passed on and not deleted since.
    known: HashMap<Arc<str>, Arc<str>>,
    /// Keys listed since the current list's first page.
    listed: Vec<Arc<str>>,
    /// Scratch buffer for `namespace/name`.
    key: String,
}

impl Reader {
    pub(super) fn new(nodes: Arc<NodeSet>) -> Reader {
        Reader {
            nodes,
            known: HashMap::new(),
            listed: Vec::new(),
            key: String::new(),
        }
    }

    /// The event for one pod's JSON, or `None` if the pod is not on one of
    /// these nodes (or cannot be read).
    pub(super) fn event(&mut self, json: &[u8], deleted: bool) -> Option<PodEvent> {
        let raw: RawHeader<'_> = match serde_json::from_slice(json) {
            Ok(raw) => raw,
            Err(error) => {
                tracing::warn!(%error, "skipping undecodable pod");
                return None;
            }
        };
        tracing::trace!(name = %raw.metadata.name, rv = %raw.metadata.resource_version, deleted, "pod event read");
        let node = self
            .nodes
            .index_of(raw.spec.as_ref()?.node_name.as_deref()?)?;
        let meta = &raw.metadata;
        self.key.clear();
        self.key.push_str(&meta.namespace);
        self.key.push('/');
        self.key.push_str(&meta.name);
        let known = self
            .known
            .get_key_value(self.key.as_str())
            .map(|(key, uid)| (key.clone(), (**uid == *meta.uid).then(|| uid.clone())));
        let (key, uid) = match known {
            Some((key, Some(uid))) => (key, Some(uid)),
            Some((key, None)) => (key, None),
            None => (Arc::from(self.key.as_str()), None),
        };
        let new = uid.is_none() && !deleted;
        let uid = uid.unwrap_or_else(|| Arc::from(meta.uid.as_ref()));
        let pod = if new {
            match serde_json::from_slice::<Pod>(json) {
                Ok(pod) => Some(Box::new(NewPod::of(&pod))),
                Err(error) => {
                    tracing::warn!(%error, pod = %key, "skipping undecodable pod");
                    return None;
                }
            }
        } else {
            None
        };
        if deleted {
            if self.known.get(&key).is_some_and(|known| *known == uid) {
                self.known.remove(&key);
            }
        } else if new {
            self.known.insert(key.clone(), uid.clone());
        }
        Some(PodEvent {
            deleted,
            header: PodHeader {
                key,
                uid,
                resource_version: meta.resource_version.parse().unwrap_or(0),
                node,
                phase: Phase::parse(raw.status.as_ref().and_then(|s| s.phase.as_deref())),
                deleting: meta.deletion_timestamp.is_some(),
            },
            pod,
        })
    }

    /// Starts a list: keys listed from now on are kept.
    fn list_started(&mut self) {
        self.listed.clear();
    }

    fn listed(&mut self, events: &[PodEvent]) {
        self.listed
            .extend(events.iter().map(|event| event.header.key.clone()));
    }

    /// Ends a list: pods not listed are forgotten, as the manager forgets
    /// them.
    fn list_finished(&mut self) {
        let listed: std::collections::HashSet<&str> =
            self.listed.iter().map(|key| &**key).collect();
        self.known.retain(|key, _| listed.contains(&**key));
        self.listed = Vec::new();
    }
}

/// Lists and watches bound pods, sending this process's to `out`, until
/// stopped or the manager is gone.
pub(super) async fn run(
    client: Client,
    nodes: Arc<NodeSet>,
    out: mpsc::Sender<PodBatch>,
    stopped: watch::Receiver<bool>,
) {
    // The watch reads pods as small headers through the raw gRPC calls.
    let client = match client.raw() {
        Ok(raw) => raw,
        Err(error) => {
            tracing::error!(%error, "the hollow kubelet's pod watch needs the gRPC API");
            return;
        }
    };
    let mut stop = pin!(wait_stopped(stopped));
    let mut reader = Reader::new(nodes);
    let work = async {
        loop {
            let Some(mut resource_version) = list(&client, &mut reader, &out).await else {
                return;
            };
            loop {
                match watch_from(&client, &mut reader, &out, &mut resource_version).await {
                    WatchEnd::Relist => break,
                    WatchEnd::Resume => {}
                    WatchEnd::Closed => return,
                }
            }
        }
    };
    tokio::select! {
        () = &mut stop => {}
        () = work => {}
    }
}

/// Lists every bound pod page by page, sending those of these nodes as
/// they come; returns the list's resourceVersion, or `None` when the
/// manager is gone.
async fn list(
    client: &RawClient,
    reader: &mut Reader,
    out: &mpsc::Sender<PodBatch>,
) -> Option<String> {
    'list: loop {
        reader.list_started();
        let mut request = list_request();
        let mut first = true;
        loop {
            let page = match client.clone().list(request.clone()).await {
                Ok(response) => response.into_inner(),
                Err(status) => {
                    let error = client::Error::from(status);
                    tracing::debug!(%error, "listing bound pods failed; listing again");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue 'list;
                }
            };
            let events: Vec<PodEvent> = page
                .items
                .iter()
                .filter_map(|item| reader.event(item, false))
                .collect();
            reader.listed(&events);
            let last = page.continue_token.is_empty();
            let batch = PodBatch::Listed {
                events,
                first,
                last,
            };
            out.send(batch).await.ok()?;
            if last {
                tracing::debug!(resource_version = %page.resource_version, "listed bound pods");
                reader.list_finished();
                return Some(page.resource_version);
            }
            first = false;
            request.continue_token = page.continue_token;
        }
    }
}

fn list_request() -> proto::ListRequest {
    proto::ListRequest {
        resource: "pods".to_string(),
        field_selector: "spec.nodeName!=".to_string(),
        limit: LIST_PAGE,
        ..Default::default()
    }
}

enum WatchEnd {
    /// The watch is too old: list again.
    Relist,
    /// The stream ended or failed: watch again from the last version.
    Resume,
    /// The manager is gone.
    Closed,
}

/// Watches from `resource_version`, sending batches and moving the version
/// forward, until the stream ends.
async fn watch_from(
    client: &RawClient,
    reader: &mut Reader,
    out: &mpsc::Sender<PodBatch>,
    resource_version: &mut String,
) -> WatchEnd {
    let request = proto::WatchRequest {
        resource: "pods".to_string(),
        field_selector: "spec.nodeName!=".to_string(),
        resource_version: resource_version.clone(),
        allow_bookmarks: true,
        ..Default::default()
    };
    let mut stream = match client.clone().watch(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return failed(client::Error::from(status)).await,
    };
    while let Some(message) = stream.next().await {
        let batch = match message {
            Ok(batch) => batch,
            Err(status) => return failed(client::Error::from(status)).await,
        };
        let mut events = Vec::new();
        for raw in &batch.events {
            if !raw.resource_version.is_empty() {
                resource_version.clone_from(&raw.resource_version);
            }
            let deleted = match EventType::try_from(raw.r#type) {
                Ok(EventType::Bookmark) => continue,
                Ok(EventType::Deleted) => true,
                _ => false,
            };
            events.extend(reader.event(&raw.object, deleted));
        }
        if !events.is_empty() && out.send(PodBatch::Changed(events)).await.is_err() {
            return WatchEnd::Closed;
        }
    }
    WatchEnd::Resume
}

async fn failed(error: client::Error) -> WatchEnd {
    if error.is_too_old() {
        tracing::info!(%error, "pod watch fell behind; listing again");
        return WatchEnd::Relist;
    }
    tracing::debug!(%error, "pod watch failed; resuming");
    tokio::time::sleep(RETRY_PAUSE).await;
    WatchEnd::Resume
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeTemplate;
    use crate::hollow::HollowConfig;

    fn pod(node: &str, uid: &str, phase: &str, extra: &str) -> Vec<u8> {
        format!(
            r#"{{"metadata":{{"name":"p","namespace":"ns","uid":"{uid}","resourceVersion":"7"{extra}}},"spec":{{"nodeName":"{node}","restartPolicy":"Never","containers":[{{"name":"c","image":"x"}}]}},"status":{{"phase":"{phase}","podIP":"10.0.0.9"}}}}"#
        )
        .into_bytes()
    }

    fn reader() -> Reader {
        let config = HollowConfig::new(3, NodeTemplate::built_in().unwrap());
        Reader::new(Arc::new(NodeSet::new(&config)))
    }

    #[test]
    fn headers_of_own_pods_only() {
        let mut reader = reader();
        let event = reader
            .event(&pod("hollow-node-2", "u", "Pending", ""), false)
            .unwrap();
        assert_eq!(
            event.header,
            PodHeader {
                key: Arc::from("ns/p"),
                uid: Arc::from("u"),
                resource_version: 7,
                node: 2,
                phase: Phase::Pending,
                deleting: false,
            }
        );
        assert!(
            reader
                .event(&pod("hollow-node-3", "u", "Pending", ""), false)
                .is_none()
        );
        assert!(
            reader
                .event(&pod("other", "u", "Pending", ""), false)
                .is_none()
        );
        assert!(reader.event(b"{not json", false).is_none());
        let deleting = pod(
            "hollow-node-0",
            "u",
            "Running",
            r#","deletionTimestamp":"2025-01-01T00:00:00Z""#,
        );
        let event = reader.event(&deleting, false).unwrap();
        assert!(event.header.deleting);
        assert_eq!(event.header.phase, Phase::Running);
    }

    #[test]
    fn each_pod_is_decoded_in_full_once_per_uid() {
        let mut reader = reader();
        let first = reader
            .event(&pod("hollow-node-1", "u1", "Pending", ""), false)
            .unwrap();
        let new = first.pod.expect("a pod seen first is decoded in full");
        assert_eq!(new.shape.restart_policy, "Never");
        assert_eq!(new.pod_ip, Some(Ipv4Addr::new(10, 0, 0, 9)));
        // Its own Running write comes back: header only, same key and uid.
        let echo = reader
            .event(&pod("hollow-node-1", "u1", "Running", ""), false)
            .unwrap();
        assert!(echo.pod.is_none());
        assert!(Arc::ptr_eq(&echo.header.key, &first.header.key));
        // A new pod of the same name is new again.
        let replaced = reader
            .event(&pod("hollow-node-1", "u2", "Running", ""), false)
            .unwrap();
        assert!(replaced.pod.is_some());
        // Deleted, then seen again (a relist race): decoded again.
        let deleted = reader
            .event(&pod("hollow-node-1", "u2", "Running", ""), true)
            .unwrap();
        assert!(deleted.deleted && deleted.pod.is_none());
        let again = reader
            .event(&pod("hollow-node-1", "u2", "Running", ""), false)
            .unwrap();
        assert!(again.pod.is_some());
    }

    #[test]
    fn a_list_forgets_pods_it_did_not_list() {
        let mut reader = reader();
        reader.event(&pod("hollow-node-1", "u1", "Pending", ""), false);
        reader.list_started();
        let events: Vec<PodEvent> = reader
            .event(&pod("hollow-node-1", "u1", "Running", ""), false)
            .into_iter()
            .collect();
        assert!(events[0].pod.is_none(), "known before the list");
        reader.listed(&events);
        reader.list_finished();
        assert_eq!(reader.known.len(), 1);
        reader.list_started();
        reader.list_finished();
        assert!(reader.known.is_empty());
        let event = reader
            .event(&pod("hollow-node-1", "u1", "Running", ""), false)
            .unwrap();
        assert!(event.pod.is_some(), "forgotten by the empty list");
    }
}
