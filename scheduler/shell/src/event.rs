//! The closed set of inputs of the scheduling loop: every trigger the loop
//! reacts to is listed here, and every output it sends is too.

use std::collections::BTreeMap;
use std::sync::Arc;

use scheduler::PodInfo;
use scheduler::model::{NodeInfo, PodDisruptionBudgetInfo};

/// One change to a watched kind.
#[derive(Debug)]
pub(crate) enum Change<T> {
    /// Added or modified.
    Upsert(T),
    /// Deleted: the pod uid, node name, `namespace/name` of a PDB, or
    /// namespace name.
    Delete(String),
}

/// A batch of changes of one kind; `restart` means a full relist: anything
/// known and absent from `changes` is gone.
#[derive(Debug)]
pub(crate) struct Changes<T> {
    pub(crate) restart: bool,
    pub(crate) changes: Vec<Change<T>>,
}

/// A namespace with its labels (for namespaceSelector).
#[derive(Debug)]
pub(crate) struct NamespaceInfo {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
}

/// The result of one binding.
#[derive(Debug)]
pub(crate) struct BindOutcome {
    pub(crate) uid: String,
    pub(crate) result: Result<(), String>,
}

/// Whether this process schedules, and which shards are alive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Membership {
    /// Holds its lease (or needs none): may schedule.
    pub(crate) active: bool,
    /// Live shards (sorted), this one included when active.
    pub(crate) live_shards: Vec<u32>,
}

/// Everything the scheduling loop reacts to.
#[derive(Debug)]
pub(crate) enum LoopEvent {
    Nodes(Changes<NodeInfo>),
    Pods(Changes<Arc<PodInfo>>),
    Pdbs(Changes<PodDisruptionBudgetInfo>),
    Namespaces(Changes<NamespaceInfo>),
    /// Results of a `batch_bind` request.
    Bound(Vec<BindOutcome>),
    Membership(Membership),
    /// The preemptor task is done with the preemption of the pod with uid
    /// `preemptor`; `not_deleted` are the uids of the victims it could not
    /// delete.
    Preempted {
        preemptor: String,
        not_deleted: Vec<String>,
    },
    /// Finish: the loop returns.
    Stop,
}

/// A pod to bind.
#[derive(Clone, Debug)]
pub(crate) struct BindRequest {
    pub(crate) uid: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) node: String,
}

/// A pod no node fits, to report as FailedScheduling.
#[derive(Clone, Debug)]
pub(crate) struct Unschedulable {
    pub(crate) uid: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// The profile's scheduler name (the event's reporting component).
    pub(crate) scheduler_name: String,
    pub(crate) message: String,
}

/// A pod of the preemption: a victim or the preemptor.
#[derive(Clone, Debug)]
pub(crate) struct PodRef {
    pub(crate) uid: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

impl PodRef {
    pub(crate) fn of(pod: &PodInfo) -> PodRef {
        PodRef {
            uid: pod.uid.clone(),
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
        }
    }
}

/// Evict `victims` and nominate `preemptor` to `node`.
#[derive(Clone, Debug)]
pub(crate) struct Preemption {
    pub(crate) preemptor: PodRef,
    pub(crate) node: String,
    pub(crate) victims: Vec<PodRef>,
    pub(crate) scheduler_name: String,
}

/// What the loop sends to the async writers.
#[derive(Debug)]
pub(crate) enum Report {
    Unschedulable(Unschedulable),
    /// The pod was bound or deleted: drop its rate-limit state.
    Forget {
        uid: String,
    },
}
