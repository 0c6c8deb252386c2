//! ResourceQuota: every write that changes what a namespace uses is
//! checked against and charged to the namespace's ResourceQuotas in the
//! transaction that writes it, so `status.used` is always what exists and
//! concurrent writes cannot overshoot `spec.hard`.
//!
//! A write builds a [`QuotaCharge`] (what it adds or, negative, releases)
//! only when the [`NamespaceIndex`](super::namespace_index) says the
//! namespace may have quotas, so other namespaces pay one cache lookup.
//! Staging the charge reads the namespace's quotas, rejects a write that
//! would exceed a quota's `status.hard` with Kubernetes' 403 (`exceeded
//! quota: …`, `failed quota: …: must specify …`), and adds to the
//! transaction a compare on each affected quota's revision and the put of
//! its new `status.used`; a lost race re-reads and stages again. Charged
//! writes in one namespace hold its quota lock, so they rarely race.
//!
//! Counted, as Kubernetes counts them: `count/<resource>[.<group>]` for
//! every namespaced kind, the legacy names (`pods`, `services`,
//! `configmaps`, `secrets`, `persistentvolumeclaims`,
//! `replicationcontrollers`, `resourcequotas`), for pods `cpu`, `memory`,
//! `ephemeral-storage`, `requests.*`, `limits.*` and hugepages (terminal
//! pods keep only `count/pods`, released by the status write that ends
//! them), for services `services.loadbalancers` and `services.nodeports`,
//! for claims `requests.storage` and the per-StorageClass names. A quota
//! with `scopes` or a `scopeSelector` counts only the pods every one of
//! them selects (`Terminating`, `NotTerminating`, `BestEffort`,
//! `NotBestEffort`, `CrossNamespacePodAffinity`, and `PriorityClass` by
//! `In`, `NotIn` or `Exists` on the pod's `priorityClassName`, as
//! Kubernetes' pod evaluator matches them), and nothing but pods. Events
//! are not charged.
//!
//! A new quota's `status.used` is computed from what exists when it is
//! created (and again when its `spec.hard` changes); a write racing with
//! the quota's own create may be left out of that first sum.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, Pod, PodAffinityTerm, PodSpec, ResourceQuota, ResourceQuotaStatus,
    ScopedResourceSelectorRequirement, Service, WeightedPodAffinityTerm,
};
use api::quantity::{Quantity, QuantityFormat, pod_limit, pod_request};
use store::{Compare, CompareTarget, Op, Txn};
use tokio::sync::OwnedMutexGuard;

use crate::admission::forbidden;
use crate::admission::namespace_index::Tracked;
use crate::error::ApiError;
use crate::keys;
use crate::kinds::Strategy;
use crate::state::ApiState;
use crate::verbs::{decode_stored, encode_for_store};

/// Resource names to quantities: what an object uses or a quota holds.
pub(crate) type Usage = BTreeMap<String, Quantity>;

/// Kinds whose object count also has a legacy name (its plural).
const LEGACY_COUNTED: [&str; 6] = [
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
];

/// Quota names that need every container to say what it requests or
/// limits (Kubernetes' backward-compatible pod constraint).
const CONSTRAINED: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

fn one() -> Quantity {
    Quantity::from_units(1, QuantityFormat::DecimalSi)
}

/// `count/<plural>` (core) or `count/<plural>.<group>`.
fn count_name(info: &api::KindInfo) -> String {
    if info.group.is_empty() {
        format!("count/{}", info.plural)
    } else {
        format!("count/{}.{}", info.plural, info.group)
    }
}

/// What any namespaced object uses: its object counts.
pub(crate) fn object_usage(info: &api::KindInfo) -> Usage {
    let mut usage = Usage::new();
    if !info.namespaced {
        return usage;
    }
    usage.insert(count_name(info), one());
    if LEGACY_COUNTED.contains(&info.plural) {
        usage.insert(info.plural.to_string(), one());
    }
    usage
}

/// Whether any container of the pod names `resource` in its requests
/// (`limits` false) or limits; with the format it was written in.
fn named_format(spec: &PodSpec, resource: &str, limits: bool) -> Option<QuantityFormat> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter_map(|c| c.resources.as_ref())
        .filter_map(|r| {
            if limits {
                r.limits.as_ref()
            } else {
                r.requests.as_ref()
            }
        })
        .find_map(|list| list.get(resource))
        .map(|q| Quantity::parse(&q.0).map_or(QuantityFormat::DecimalSi, |q| q.format()))
}

/// What a pod uses (Kubernetes' `PodUsageFunc`): terminal pods only their
/// object count.
pub(crate) fn pod_usage(pod: &Pod) -> Usage {
    let mut usage = object_usage(&Pod::INFO);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return usage;
    }
    usage.insert("pods".to_string(), one());
    let Some(spec) = pod.spec.as_ref() else {
        return usage;
    };
    for resource in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(format) = named_format(spec, resource, false) {
            let request = pod_request(spec, resource, format);
            usage.insert(resource.to_string(), request);
            usage.insert(format!("requests.{resource}"), request);
        }
        if let Some(format) = named_format(spec, resource, true) {
            usage.insert(
                format!("limits.{resource}"),
                pod_limit(spec, resource, format),
            );
        }
    }
    let others: BTreeSet<&String> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter_map(|c| c.resources.as_ref().and_then(|r| r.requests.as_ref()))
        .flat_map(|list| list.keys())
        .filter(|name| !matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage"))
        .collect();
    for name in others {
        let format = named_format(spec, name, false).unwrap_or(QuantityFormat::DecimalSi);
        let request = pod_request(spec, name, format);
        if name.starts_with("hugepages-") {
            usage.insert(name.clone(), request);
        }
        usage.insert(format!("requests.{name}"), request);
    }
    usage
}

/// What a service uses: its counts, and load balancers and node ports.
pub(crate) fn service_usage(service: &Service) -> Usage {
    let mut usage = object_usage(&Service::INFO);
    let Some(spec) = service.spec.as_ref() else {
        return usage;
    };
    let ports = spec.ports.as_ref().map_or(0, Vec::len);
    let ports = i64::try_from(ports).unwrap_or(i64::MAX);
    let with_node_ports = spec
        .ports
        .iter()
        .flatten()
        .filter(|port| port.node_port.unwrap_or(0) != 0)
        .count();
    let with_node_ports = i64::try_from(with_node_ports).unwrap_or(i64::MAX);
    match spec.type_.as_deref() {
        Some("NodePort") => {
            usage.insert(
                "services.nodeports".to_string(),
                Quantity::from_units(ports, QuantityFormat::DecimalSi),
            );
        }
        Some("LoadBalancer") => {
            let node_ports = if spec.allocate_load_balancer_node_ports == Some(false) {
                with_node_ports
            } else {
                ports
            };
            usage.insert(
                "services.nodeports".to_string(),
                Quantity::from_units(node_ports, QuantityFormat::DecimalSi),
            );
            usage.insert("services.loadbalancers".to_string(), one());
        }
        _ => {}
    }
    usage
}

/// What a claim uses: its counts and requested storage, also per class.
pub(crate) fn claim_usage(claim: &PersistentVolumeClaim) -> Usage {
    let mut usage = object_usage(&PersistentVolumeClaim::INFO);
    let spec = claim.spec.as_ref();
    let class = spec
        .and_then(|s| s.storage_class_name.as_deref())
        .filter(|class| !class.is_empty());
    if let Some(class) = class {
        usage.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            one(),
        );
    }
    let storage = spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|requests| requests.get("storage"))
        .and_then(|q| Quantity::parse(&q.0).ok());
    if let Some(storage) = storage {
        usage.insert("requests.storage".to_string(), storage);
        if let Some(class) = class {
            usage.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                storage,
            );
        }
    }
    usage
}

/// The kind (plural) whose objects a quota resource name counts.
fn counted_plural(resource: &str) -> Option<&str> {
    if let Some(counted) = resource.strip_prefix("count/") {
        return Some(
            counted
                .split_once('.')
                .map_or(counted, |(plural, _)| plural),
        );
    }
    if resource.contains(".storageclass.storage.k8s.io/") || resource == "requests.storage" {
        return Some("persistentvolumeclaims");
    }
    if resource.starts_with("services") {
        return Some("services");
    }
    if let Some(plural) = LEGACY_COUNTED.iter().find(|plural| **plural == resource) {
        return Some(plural);
    }
    let pod_resource = matches!(resource, "pods" | "cpu" | "memory" | "ephemeral-storage")
        || resource.starts_with("requests.")
        || resource.starts_with("limits.")
        || resource.starts_with("hugepages-");
    pod_resource.then_some("pods")
}

/// `a=1,b=2` in name order, as Kubernetes prints resource lists.
fn pretty(usage: &Usage) -> String {
    usage
        .iter()
        .map(|(name, quantity)| format!("{name}={quantity}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_list(
    list: Option<&BTreeMap<String, api::k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Usage {
    list.into_iter()
        .flatten()
        .filter_map(|(name, q)| Some((name.clone(), Quantity::parse(&q.0).ok()?)))
        .collect()
}

fn to_list(
    usage: &Usage,
) -> BTreeMap<String, api::k8s_openapi::apimachinery::pkg::api::resource::Quantity> {
    usage
        .iter()
        .map(|(name, quantity)| (name.clone(), quantity.to_wire()))
        .collect()
}

/// The pod facts a quota's scopes select on.
#[derive(Clone, Debug)]
struct PodScopes {
    terminating: bool,
    best_effort: bool,
    /// `spec.priorityClassName` ("" when unset).
    priority_class: String,
    /// An affinity or anti-affinity term names other namespaces.
    cross_namespace_affinity: bool,
}

impl PodScopes {
    fn of(pod: &Pod) -> PodScopes {
        let spec = pod.spec.as_ref();
        PodScopes {
            terminating: spec
                .and_then(|s| s.active_deadline_seconds)
                .is_some_and(|seconds| seconds >= 0),
            best_effort: spec.map_or("BestEffort", api::defaults::qos_class) == "BestEffort",
            priority_class: spec
                .and_then(|s| s.priority_class_name.clone())
                .unwrap_or_default(),
            cross_namespace_affinity: spec.is_some_and(uses_cross_namespace_affinity),
        }
    }

    /// Whether the pod is in the scope `name` (unknown scopes select
    /// nothing).
    fn in_scope(&self, name: &str) -> bool {
        match name {
            "Terminating" => self.terminating,
            "NotTerminating" => !self.terminating,
            "BestEffort" => self.best_effort,
            "NotBestEffort" => !self.best_effort,
            "PriorityClass" => !self.priority_class.is_empty(),
            "CrossNamespacePodAffinity" => self.cross_namespace_affinity,
            _ => false,
        }
    }

    /// Whether one `scopeSelector` expression selects the pod. Only
    /// `PriorityClass` reads the operator and values, as a label selector
    /// over `{PriorityClass: <priorityClassName>}` (so `DoesNotExist`
    /// never matches, as in Kubernetes); for the other scopes the pod's
    /// membership decides.
    fn matches(&self, expression: &ScopedResourceSelectorRequirement) -> bool {
        if expression.scope_name != "PriorityClass" {
            return self.in_scope(&expression.scope_name);
        }
        let values = expression.values.as_deref().unwrap_or_default();
        match expression.operator.as_str() {
            "Exists" => !self.priority_class.is_empty(),
            "In" => values.contains(&self.priority_class),
            "NotIn" => !values.contains(&self.priority_class),
            _ => false,
        }
    }
}

/// Whether a pod (anti-)affinity term of `spec` selects pods of other
/// namespaces (a `namespaceSelector`, or `namespaces` listed).
fn uses_cross_namespace_affinity(spec: &PodSpec) -> bool {
    let Some(affinity) = spec.affinity.as_ref() else {
        return false;
    };
    let crosses = |term: &PodAffinityTerm| {
        term.namespace_selector.is_some()
            || term
                .namespaces
                .as_ref()
                .is_some_and(|namespaces| !namespaces.is_empty())
    };
    let affinity_terms = affinity.pod_affinity.iter().flat_map(|a| {
        terms(
            &a.required_during_scheduling_ignored_during_execution,
            &a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    let anti_affinity_terms = affinity.pod_anti_affinity.iter().flat_map(|a| {
        terms(
            &a.required_during_scheduling_ignored_during_execution,
            &a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    affinity_terms.chain(anti_affinity_terms).any(crosses)
}

/// The required terms, then the preferred ones' terms.
fn terms<'a>(
    required: &'a Option<Vec<PodAffinityTerm>>,
    preferred: &'a Option<Vec<WeightedPodAffinityTerm>>,
) -> impl Iterator<Item = &'a PodAffinityTerm> {
    let preferred = preferred
        .iter()
        .flatten()
        .map(|weighted| &weighted.pod_affinity_term);
    required.iter().flatten().chain(preferred)
}

/// Whether the quota counts an object with `scopes` (`None`: not a pod).
fn quota_selects(quota: &ResourceQuota, scopes: Option<&PodScopes>) -> bool {
    let Some(spec) = quota.spec.as_ref() else {
        return true;
    };
    let named = spec.scopes.as_deref().unwrap_or_default();
    let expressions = spec
        .scope_selector
        .as_ref()
        .and_then(|selector| selector.match_expressions.as_deref())
        .unwrap_or_default();
    if named.is_empty() && expressions.is_empty() {
        return true;
    }
    let Some(pod) = scopes else {
        return false;
    };
    named.iter().all(|scope| pod.in_scope(scope))
        && expressions.iter().all(|expression| pod.matches(expression))
}

/// What one write adds to (or, negative, releases from) its namespace's
/// quotas.
pub(crate) struct QuotaCharge {
    namespace: String,
    plural: &'static str,
    name: String,
    delta: Usage,
    /// The pod's scopes (`None` for other kinds).
    scopes: Option<PodScopes>,
    /// For pod creates: the constrained names each container leaves out.
    missing: BTreeMap<&'static str, Vec<String>>,
}

impl QuotaCharge {
    /// The charge of creating `object`, or `None` where no quota can apply.
    pub(crate) fn create<K: Strategy>(state: &ApiState, object: &K) -> Option<QuotaCharge> {
        let mut charge = QuotaCharge::new(state, object)?;
        charge.delta = object.quota_usage();
        charge.missing = missing_constraints(object);
        Some(charge)
    }

    /// The charge of deleting `object` for good (a release).
    pub(crate) fn delete<K: Strategy>(state: &ApiState, object: &K) -> Option<QuotaCharge> {
        let mut charge = QuotaCharge::new(state, object)?;
        charge.delta = negate(&object.quota_usage());
        Some(charge)
    }

    /// The charge of replacing `old` by `new`; `None` if nothing changes.
    pub(crate) fn update<K: Strategy>(state: &ApiState, old: &K, new: &K) -> Option<QuotaCharge> {
        let mut charge = QuotaCharge::new(state, old)?;
        let before = old.quota_usage();
        let after = new.quota_usage();
        if before == after {
            return None;
        }
        let mut delta = after;
        for (name, quantity) in negate(&before) {
            let sum = delta
                .get(&name)
                .map_or(quantity, |q| q.saturating_add(quantity));
            delta.insert(name, sum);
        }
        delta.retain(|_, quantity| !quantity.is_zero());
        charge.delta = delta;
        Some(charge)
    }

    fn new<K: Strategy>(state: &ApiState, object: &K) -> Option<QuotaCharge> {
        if !K::INFO.namespaced {
            return None;
        }
        let meta = object.metadata();
        let namespace = meta.namespace.clone().unwrap_or_default();
        if !state
            .namespace_index
            .has(Tracked::ResourceQuota, &namespace)
        {
            return None;
        }
        let scopes = (K::INFO.plural == "pods")
            .then(|| object.as_pod().map(PodScopes::of))
            .flatten();
        Some(QuotaCharge {
            namespace,
            plural: K::INFO.plural,
            name: meta.name.clone().unwrap_or_default(),
            delta: Usage::new(),
            scopes,
            missing: BTreeMap::new(),
        })
    }

    /// Holds the namespace's quota lock while the charged write is built
    /// and committed.
    pub(crate) async fn lock(&self, state: &ApiState) -> OwnedMutexGuard<()> {
        state
            .namespace_index
            .quota_lock(&self.namespace)
            .lock_owned()
            .await
    }

    /// Checks the charge against the namespace's quotas as they are now
    /// and adds their new usage (with a compare on each one's revision) to
    /// `txn`.
    pub(crate) async fn stage(&self, state: &ApiState, txn: &mut Txn) -> Result<(), ApiError> {
        if self.delta.is_empty() {
            return Ok(());
        }
        let response = state
            .store
            .range(store::RangeRequest {
                prefix: keys::list_prefix(&ResourceQuota::INFO, &self.namespace),
                ..Default::default()
            })
            .await?;
        for kv in &response.kvs {
            let mut quota: ResourceQuota = decode_stored(kv)?;
            // A quota deleted for good releases nothing from itself.
            let itself = self.plural == ResourceQuota::INFO.plural
                && quota.metadata.name.as_deref() == Some(self.name.as_str());
            if itself || !quota_selects(&quota, self.scopes.as_ref()) {
                continue;
            }
            let Some(used) = self.charged(&quota)? else {
                continue;
            };
            let status = quota.status.get_or_insert_with(Default::default);
            status.used = Some(to_list(&used));
            let bytes = encode_for_store(&mut quota)?;
            txn.compares.push(Compare {
                key: kv.key.clone(),
                target: CompareTarget::ModRevision(kv.mod_revision),
            });
            txn.success.push(Op::Put {
                key: kv.key.clone(),
                value: bytes,
                lease: kv.lease,
            });
        }
        Ok(())
    }

    /// The quota's usage with this charge, or `None` if it tracks none of
    /// what the charge changes; an error if it would exceed the quota.
    fn charged(&self, quota: &ResourceQuota) -> Result<Option<Usage>, ApiError> {
        let status = quota.status.as_ref();
        let hard = parse_list(
            status
                .and_then(|s| s.hard.as_ref())
                .or_else(|| quota.spec.as_ref().and_then(|s| s.hard.as_ref())),
        );
        let requested: Usage = self
            .delta
            .iter()
            .filter(|(name, _)| hard.contains_key(*name))
            .map(|(name, quantity)| (name.clone(), *quantity))
            .collect();
        if requested.is_empty() {
            return Ok(None);
        }
        let quota_name = quota.metadata.name.as_deref().unwrap_or("");
        let constrained: Vec<String> = self
            .missing
            .iter()
            .filter(|(name, _)| hard.contains_key(**name))
            .map(|(name, containers)| format!("{name} for: {}", containers.join(",")))
            .collect();
        if !constrained.is_empty() {
            return Err(forbidden(
                self.plural,
                &self.name,
                format_args!(
                    "failed quota: {quota_name}: must specify {}",
                    constrained.join("; ")
                ),
            ));
        }
        let mut used = parse_list(status.and_then(|s| s.used.as_ref()));
        let before = used.clone();
        let mut exceeded = Vec::new();
        for (name, quantity) in &requested {
            let current = used.get(name).copied().unwrap_or(Quantity::ZERO);
            let mut next = current.saturating_add(*quantity);
            if next.is_negative() {
                next = Quantity::from_nanos(0, current.format());
            }
            if !quantity.is_negative()
                && !quantity.is_zero()
                && hard.get(name).is_some_and(|limit| next > *limit)
            {
                exceeded.push(name.clone());
            }
            used.insert(name.clone(), next);
        }
        if !exceeded.is_empty() {
            let pick = |usage: &Usage| -> Usage {
                exceeded
                    .iter()
                    .map(|name| {
                        (
                            name.clone(),
                            usage.get(name).copied().unwrap_or(Quantity::ZERO),
                        )
                    })
                    .collect()
            };
            return Err(forbidden(
                self.plural,
                &self.name,
                format_args!(
                    "exceeded quota: {quota_name}, requested: {}, used: {}, limited: {}",
                    pretty(&pick(&requested)),
                    pretty(&pick(&before)),
                    pretty(&pick(&hard))
                ),
            ));
        }
        Ok(Some(used))
    }
}

fn negate(usage: &Usage) -> Usage {
    usage
        .iter()
        .map(|(name, quantity)| {
            (
                name.clone(),
                Quantity::from_nanos(-quantity.nanos(), quantity.format()),
            )
        })
        .collect()
}

/// For a pod: the constrained quota names each container does not state
/// (Kubernetes' `enforcePodContainerConstraints`).
fn missing_constraints<K: Strategy>(object: &K) -> BTreeMap<&'static str, Vec<String>> {
    let mut missing: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let Some(spec) = object.as_pod().and_then(|pod| pod.spec.as_ref()) else {
        return missing;
    };
    for container in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let resources = container.resources.as_ref();
        let requests = resources.and_then(|r| r.requests.as_ref());
        let limits = resources.and_then(|r| r.limits.as_ref());
        for name in CONSTRAINED {
            let (list, resource) = match name.split_once('.') {
                Some(("limits", resource)) => (limits, resource),
                Some((_, resource)) => (requests, resource),
                None => (requests, name),
            };
            if !list.is_some_and(|list| list.contains_key(resource)) {
                missing
                    .entry(name)
                    .or_default()
                    .push(container.name.clone());
            }
        }
    }
    missing
}

/// A quota's status as it is created or its `spec.hard` changes:
/// `hard` mirrors the spec, `used` is what the namespace's objects use now
/// (plus `own`, what the quota itself counts).
pub(crate) async fn initial_status(
    state: &ApiState,
    quota: &ResourceQuota,
    own: Option<&Usage>,
) -> Result<ResourceQuotaStatus, ApiError> {
    let hard = parse_list(quota.spec.as_ref().and_then(|s| s.hard.as_ref()));
    let namespace = quota.metadata.namespace.as_deref().unwrap_or("");
    let mut used: Usage = hard
        .iter()
        .map(|(name, limit)| (name.clone(), Quantity::from_nanos(0, limit.format())))
        .collect();
    let plurals: BTreeSet<&str> = hard
        .keys()
        .filter_map(|name| counted_plural(name))
        .collect();
    let mut add = |usage: &Usage| {
        for (name, quantity) in usage {
            if let Some(total) = used.get_mut(name) {
                *total = total.saturating_add(*quantity);
            }
        }
    };
    for plural in plurals {
        let Ok(kind) = state.kinds.get(plural) else {
            continue;
        };
        if !kind.info().namespaced {
            continue;
        }
        let response = state
            .store
            .range(store::RangeRequest {
                prefix: keys::list_prefix(kind.info(), namespace),
                ..Default::default()
            })
            .await?;
        for kv in &response.kvs {
            let Some(usage) = kind.quota_usage(&kv.value, quota)? else {
                continue;
            };
            add(&usage);
        }
    }
    if let Some(own) = own {
        add(own);
    }
    Ok(ResourceQuotaStatus {
        hard: Some(to_list(&hard)),
        used: Some(to_list(&used)),
    })
}

/// What a stored object of kind `K` counts toward `quota` (`None` if the
/// quota's scopes leave it out).
pub(crate) fn stored_usage<K: Strategy>(
    stored: &[u8],
    quota: &ResourceQuota,
) -> Result<Option<Usage>, ApiError> {
    let object: K = serde_json::from_slice(stored).map_err(ApiError::internal)?;
    let scopes = object.as_pod().map(PodScopes::of);
    if !quota_selects(quota, scopes.as_ref()) {
        return Ok(None);
    }
    Ok(Some(object.quota_usage()))
}

/// Takes the quota lock of a charge, if any.
pub(crate) async fn lock_for(
    state: &ApiState,
    charge: Option<&QuotaCharge>,
) -> Option<OwnedMutexGuard<()>> {
    match charge {
        Some(charge) => Some(charge.lock(state).await),
        None => None,
    }
}

/// The quota lock of `namespace` if it may have quotas.
pub(crate) async fn lock_namespace(
    state: &ApiState,
    namespace: &str,
) -> Option<OwnedMutexGuard<()>> {
    if !state.namespace_index.has(Tracked::ResourceQuota, namespace) {
        return None;
    }
    let lock: Arc<tokio::sync::Mutex<()>> = state.namespace_index.quota_lock(namespace);
    Some(lock.lock_owned().await)
}

#[cfg(test)]
mod tests;
