//! The I/O of the Endpoints and EndpointSlice controllers: a Service is
//! synced when it changes and when a pod it selects (before or after the
//! change) changes in a way endpoints show; a sync writes what
//! [`crate::endpoints::desired`] or [`crate::endpoint_slice::reconcile`]
//! decide. The slice controller remembers what it wrote per Service and
//! waits for its cache to show it before deciding again, so it never
//! creates a slice twice (Kubernetes' `EndpointSliceTracker`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use api::k8s_openapi::api::discovery::v1::EndpointSlice;
use client::{Client, DeleteParams};
use runtime::{Action, Change, ObjectKey, Store};

use super::Error;
use crate::endpoint_slice::{CONTROLLER_NAME, MANAGED_BY_LABEL, desired_endpoints, reconcile};
use crate::endpoints::{desired, service_selector};

/// How soon a slice sync looks again when its cache lags its own writes.
const STALE_CACHE_RETRY: Duration = Duration::from_millis(100);

/// Whether a pod change shows in endpoints: labels (which Services select
/// it), IP, readiness, phase, deletion, node, hostname or ports.
fn shows_in_endpoints(old: &Pod, new: &Pod) -> bool {
    let ready = |pod: &Pod| crate::pods::is_ready(pod);
    let status = |pod: &Pod| {
        pod.status
            .as_ref()
            .map(|status| (status.pod_ip.clone(), status.phase.clone()))
    };
    let spec = |pod: &Pod| {
        pod.spec.as_ref().map(|spec| {
            (
                spec.node_name.clone(),
                spec.hostname.clone(),
                spec.subdomain.clone(),
                spec.containers
                    .iter()
                    .map(|container| container.ports.clone())
                    .collect::<Vec<_>>(),
            )
        })
    };
    old.metadata.labels != new.metadata.labels
        || old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || ready(old) != ready(new)
        || status(old) != status(new)
        || spec(old) != spec(new)
}

/// The Services (by key) that select the pod before or after `change`.
fn services_of(services: &Store<Service>, change: &Change<Pod>) -> Vec<ObjectKey> {
    if let Change::Modified { old, new } = change
        && !shows_in_endpoints(old, new)
    {
        return Vec::new();
    }
    let pod = change.object();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let mut labels = vec![pod.metadata.labels.clone().unwrap_or_default()];
    if let Some(old) = change.old() {
        labels.push(old.metadata.labels.clone().unwrap_or_default());
    }
    services
        .list_namespace(namespace)
        .iter()
        .filter(|service| {
            service_selector(service)
                .is_some_and(|selector| labels.iter().any(|labels| selector.matches(labels)))
        })
        .map(|service| ObjectKey::of(service.as_ref()))
        .collect()
}

fn service_key(change: &Change<Service>) -> Vec<ObjectKey> {
    vec![ObjectKey::of(change.object().as_ref())]
}

/// The Endpoints controller.
pub struct EndpointsController {
    client: Client,
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
}

impl EndpointsController {
    pub fn new(
        client: Client,
        services: Store<Service>,
        pods: Store<Pod>,
        endpoints: Store<Endpoints>,
    ) -> EndpointsController {
        EndpointsController {
            client,
            services,
            pods,
            endpoints,
        }
    }

    pub fn service_changed(&self, change: &Change<Service>) -> Vec<ObjectKey> {
        service_key(change)
    }

    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        services_of(&self.services, change)
    }

    async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let current = self.endpoints.get(&key);
        let Some(service) = self.services.get(&key) else {
            // The Service is gone: so are its Endpoints.
            if current.is_some() {
                match self
                    .client
                    .delete::<Endpoints>(&key.namespace, &key.name, &DeleteParams::default())
                    .await
                {
                    Ok(_) => {}
                    Err(error) if error.is_not_found() => {}
                    Err(error) => return Err(error.into()),
                }
            }
            return Ok(Action::Done);
        };
        if service_selector(&service).is_none() {
            return Ok(Action::Done);
        }
        let pods = self.pods.list_namespace(&key.namespace);
        let Some(endpoints) = desired(&service, current.as_deref(), pods.iter().map(Arc::as_ref))
        else {
            return Ok(Action::Done);
        };
        match current {
            Some(_) => {
                self.client.update(&endpoints).await?;
            }
            None => {
                self.client.create(&key.namespace, &endpoints).await?;
            }
        }
        Ok(Action::Done)
    }
}

impl super::Reconciler for EndpointsController {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}

/// What a slice sync wrote, by slice name: the generation written, or
/// `None` for a delete.
type Written = HashMap<String, Option<i64>>;

/// The EndpointSlice controller.
pub struct EndpointSlices {
    client: Client,
    services: Store<Service>,
    pods: Store<Pod>,
    slices: Store<EndpointSlice>,
    nodes: Store<Node>,
    max_endpoints: usize,
    written: Mutex<HashMap<ObjectKey, Written>>,
}

impl EndpointSlices {
    pub fn new(
        client: Client,
        services: Store<Service>,
        pods: Store<Pod>,
        slices: Store<EndpointSlice>,
        nodes: Store<Node>,
        max_endpoints: usize,
    ) -> EndpointSlices {
        EndpointSlices {
            client,
            services,
            pods,
            slices,
            nodes,
            max_endpoints,
            written: Mutex::new(HashMap::new()),
        }
    }

    fn written(&self) -> MutexGuard<'_, HashMap<ObjectKey, Written>> {
        // One insert or remove at a time: always consistent.
        self.written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn service_changed(&self, change: &Change<Service>) -> Vec<ObjectKey> {
        service_key(change)
    }

    pub fn pod_changed(&self, change: &Change<Pod>) -> Vec<ObjectKey> {
        services_of(&self.services, change)
    }

    /// A slice changed by someone else (or deleted) re-syncs its Service.
    pub fn slice_changed(&self, change: &Change<EndpointSlice>) -> Vec<ObjectKey> {
        let slice = change.object();
        let labels = slice.metadata.labels.as_ref();
        let ours = labels
            .and_then(|labels| labels.get(MANAGED_BY_LABEL))
            .is_some_and(|manager| manager == CONTROLLER_NAME);
        let service =
            labels.and_then(|labels| labels.get(crate::endpoint_slice::SERVICE_NAME_LABEL));
        match (ours, service) {
            (true, Some(service)) => vec![ObjectKey::new(
                slice.metadata.namespace.clone().unwrap_or_default(),
                service.clone(),
            )],
            _ => Vec::new(),
        }
    }

    /// The Service's slices as this controller manages them.
    fn owned(&self, service: &Service) -> Vec<Arc<EndpointSlice>> {
        let uid = service.metadata.uid.as_deref().unwrap_or("");
        self.slices
            .owned_by(uid)
            .into_iter()
            .filter(|slice| {
                slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(MANAGED_BY_LABEL))
                    .is_some_and(|manager| manager == CONTROLLER_NAME)
            })
            .collect()
    }

    /// Whether the cache shows every write of the last sync of `key`.
    fn caught_up(&self, key: &ObjectKey, owned: &[Arc<EndpointSlice>]) -> bool {
        let written = self.written();
        let Some(expected) = written.get(key) else {
            return true;
        };
        let cached: BTreeMap<&str, i64> = owned
            .iter()
            .map(|slice| {
                (
                    slice.metadata.name.as_deref().unwrap_or(""),
                    slice.metadata.generation.unwrap_or(0),
                )
            })
            .collect();
        expected.iter().all(|(name, generation)| match generation {
            Some(generation) => cached
                .get(name.as_str())
                .is_some_and(|seen| seen >= generation),
            None => !cached.contains_key(name.as_str()),
        })
    }

    fn zone(&self, node: &str) -> Option<String> {
        self.nodes
            .get(&ObjectKey::new("", node))?
            .metadata
            .labels
            .as_ref()?
            .get("topology.kubernetes.io/zone")
            .cloned()
    }

    async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let Some(service) = self.services.get(&key) else {
            // Its slices go with it (they are owned by it).
            self.written().remove(&key);
            return Ok(Action::Done);
        };
        if service_selector(&service).is_none() {
            return Ok(Action::Done);
        }
        let owned = self.owned(&service);
        if !self.caught_up(&key, &owned) {
            return Ok(Action::requeue_after(STALE_CACHE_RETRY));
        }
        let pods = self.pods.list_namespace(&key.namespace);
        let desired = desired_endpoints(&service, pods.iter().map(Arc::as_ref), |node| {
            self.zone(node)
        });
        let existing: Vec<&EndpointSlice> = owned.iter().map(Arc::as_ref).collect();
        let plan = reconcile(&service, &existing, desired, self.max_endpoints);
        let mut written = Written::new();
        let mut failure = None;
        for slice in plan.delete {
            let name = slice.metadata.name.clone().unwrap_or_default();
            match self
                .client
                .delete::<EndpointSlice>(&key.namespace, &name, &DeleteParams::default())
                .await
            {
                Ok(_) => {
                    written.insert(name, None);
                }
                Err(error) if error.is_not_found() => {}
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        for slice in plan.update {
            match self.client.update(&slice).await {
                Ok(stored) => {
                    written.insert(
                        stored.metadata.name.clone().unwrap_or_default(),
                        Some(stored.metadata.generation.unwrap_or(0)),
                    );
                }
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        for slice in plan.create {
            match self.client.create(&key.namespace, &slice).await {
                Ok(stored) => {
                    written.insert(
                        stored.metadata.name.clone().unwrap_or_default(),
                        Some(stored.metadata.generation.unwrap_or(0)),
                    );
                }
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        if !written.is_empty() {
            self.written().insert(key, written);
        }
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(Action::Done),
        }
    }
}

impl super::Reconciler for EndpointSlices {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
