//! The StatefulSet controller's decisions (apps/v1), as Kubernetes'
//! `defaultStatefulSetControl.UpdateStatefulSet`: pods with stable
//! identities `<set>-<ordinal>` for the ordinals `spec.ordinals.start` ..
//! start + replicas, each with its hostname and the headless Service as
//! subdomain (a stable DNS name), and its own PersistentVolumeClaims
//! `<template>-<set>-<ordinal>` made from `volumeClaimTemplates` before
//! the pod.
//!
//! One [`plan`] per sync, in Kubernetes' order: claim the namespace's pods
//! (only those named `<set>-<ordinal>` are members); walk the ordinals in
//! range (create what is missing, delete failed or succeeded pods so the
//! next sync recreates them under the same name, restore identity labels,
//! keep claim owner references in line with the retention policy); delete
//! pods above the range, highest first; then roll pods at or above the
//! partition to the update revision, highest first. `OrderedReady` (the
//! default) stops at the first step that must wait: a pod is created only
//! when every lower one is Running, Ready and available, and removed only
//! when every other is; `Parallel` does every step at once.
//!
//! Revisions are named `<set>-<hash>` after the template (and the
//! collision count), as Kubernetes names its ControllerRevisions, and carried
//! in the pods' `controller-revision-hash` label and in
//! `status.currentRevision`/`updateRevision`. The apiserver does not serve
//! ControllerRevisions, so the templates of earlier revisions come from
//! what the caller remembers ([`History`]); a pod below the partition
//! whose older template is not known is recreated at the update revision.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use api::k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetStatus};
use api::k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use api::k8s_openapi::jiff::Timestamp;
use api::selector::Selector;

use crate::deployment::{pod_template_hash, scaled_value};
use crate::owner::{Claim, claim, controller_selector};
use crate::pods::{is_available, is_ready};
use crate::replica_set::pod_from_template;

pub const API_VERSION: &str = "apps/v1";
pub const KIND: &str = "StatefulSet";

/// The label with a pod's own name, so a Service can select one pod.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label with a pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The label with the revision a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

pub const PARALLEL: &str = "Parallel";
pub const ON_DELETE: &str = "OnDelete";
pub const DELETE: &str = "Delete";

/// Why a StatefulSet cannot be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("StatefulSet {0} has an invalid selector: {1}")]
    InvalidSelector(String, String),
}

/// Templates of the set's revisions by revision name: what Kubernetes
/// reads back from its ControllerRevisions to recreate a pod below the
/// partition at the current revision.
pub type History = HashMap<String, PodTemplateSpec>;

/// One sync's decisions for one StatefulSet. The runner writes them in
/// this order: claims, then pods (a pod never starts without its claims).
#[derive(Debug)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    /// Missing claims of the pods about to be created or still pending.
    pub create_claims: Vec<PersistentVolumeClaim>,
    /// Claims whose owner references are set to follow the retention
    /// policy (replacing the stored ones).
    pub update_claims: Vec<PersistentVolumeClaim>,
    /// Pods to create, ready to send.
    pub create: Vec<Pod>,
    /// Pods whose identity labels are restored (replacing the stored ones).
    pub update: Vec<Pod>,
    pub delete: Vec<&'a Pod>,
    pub status: StatefulSetStatus,
    /// Sync again after this long: ready pods become available once
    /// they were ready for `minReadySeconds`.
    pub requeue_after: Option<Duration>,
    /// A pod cannot be created yet because of one of its claims (being
    /// deleted, or still owned by an earlier pod of that name): the sync
    /// is retried.
    pub blocked: Option<String>,
}

/// The StatefulSet's selector (an empty one selects nothing).
pub fn selector(set: &StatefulSet) -> Result<Selector, Error> {
    let Some(spec) = &set.spec else {
        return Ok(Selector::nothing());
    };
    controller_selector(&spec.selector).map_err(|error| {
        Error::InvalidSelector(set.metadata.name.clone().unwrap_or_default(), error)
    })
}

/// The name of the revision `template` makes for the set `set_name`:
/// `<set>-<hash>`, as Kubernetes names ControllerRevisions.
pub fn revision_name(set_name: &str, template: &PodTemplateSpec, collision_count: i32) -> String {
    format!(
        "{set_name}-{}",
        pod_template_hash(template, Some(collision_count))
    )
}

/// The revision of the set's current template.
pub fn update_revision(set: &StatefulSet) -> String {
    let template = set
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    revision_name(
        set.metadata.name.as_deref().unwrap_or(""),
        &template,
        collision_count(set),
    )
}

fn collision_count(set: &StatefulSet) -> i32 {
    set.status
        .as_ref()
        .and_then(|status| status.collision_count)
        .unwrap_or(0)
}

/// The revision a pod was made from (empty without the label).
pub fn pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(REVISION_LABEL))
        .map_or("", String::as_str)
}

/// `<set>-<ordinal>`.
pub fn pod_name(set_name: &str, ordinal: i32) -> String {
    format!("{set_name}-{ordinal}")
}

/// The set a pod's name says it belongs to and its ordinal (Kubernetes'
/// `getParentNameAndOrdinal`: `(.*)-([0-9]+)$`); the ordinal is `None` when
/// the digits overflow.
pub fn parent_and_ordinal(pod_name: &str) -> Option<(&str, Option<i32>)> {
    let (parent, digits) = pod_name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((parent, digits.parse().ok()))
}

/// The claim `template` gives the pod of `ordinal`: `<template>-<set>-<ordinal>`.
pub fn claim_name(template: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template}-{set_name}-{ordinal}")
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

fn is_healthy(pod: &Pod) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod)
}

/// The set's spec with Kubernetes' defaults for what is unset.
struct Shape<'s> {
    name: &'s str,
    namespace: &'s str,
    uid: &'s str,
    spec: &'s StatefulSetSpec,
    start: i32,
    replicas: i32,
    monotonic: bool,
    when_deleted: bool,
    when_scaled: bool,
}

impl<'s> Shape<'s> {
    fn new(set: &'s StatefulSet, spec: &'s StatefulSetSpec) -> Shape<'s> {
        let policy = spec.persistent_volume_claim_retention_policy.as_ref();
        let deletes = |value: Option<&String>| value.is_some_and(|value| value == DELETE);
        Shape {
            name: set.metadata.name.as_deref().unwrap_or(""),
            namespace: set.metadata.namespace.as_deref().unwrap_or(""),
            uid: set.metadata.uid.as_deref().unwrap_or(""),
            spec,
            start: spec
                .ordinals
                .as_ref()
                .and_then(|ordinals| ordinals.start)
                .unwrap_or(0)
                .max(0),
            replicas: spec.replicas.unwrap_or(1).max(0),
            monotonic: spec.pod_management_policy.as_deref() != Some(PARALLEL),
            when_deleted: deletes(policy.and_then(|p| p.when_deleted.as_ref())),
            when_scaled: deletes(policy.and_then(|p| p.when_scaled.as_ref())),
        }
    }

    fn in_range(&self, ordinal: i32) -> bool {
        ordinal >= self.start && ordinal - self.start < self.replicas
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec.min_ready_seconds.unwrap_or(0)
    }

    fn available(&self, pod: &Pod, now: Timestamp) -> bool {
        is_available(pod, self.min_ready_seconds(), now)
    }

    fn rolling(&self) -> bool {
        self.spec
            .update_strategy
            .as_ref()
            .and_then(|strategy| strategy.type_.as_deref())
            != Some(ON_DELETE)
    }

    fn partition(&self) -> i32 {
        self.spec
            .update_strategy
            .as_ref()
            .and_then(|strategy| strategy.rolling_update.as_ref())
            .and_then(|rolling| rolling.partition)
            .unwrap_or(0)
    }

    /// The claims of the pod of `ordinal`, by template name, with the
    /// selector's labels over the template's.
    fn claims(&self, ordinal: i32) -> Vec<(String, PersistentVolumeClaim)> {
        self.spec
            .volume_claim_templates
            .iter()
            .flatten()
            .map(|template| {
                let template_name = template.metadata.name.clone().unwrap_or_default();
                let mut claim = template.clone();
                claim.status = None;
                claim.metadata.name = Some(claim_name(&template_name, self.name, ordinal));
                claim.metadata.namespace = Some(self.namespace.to_string());
                let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
                for (key, value) in self.spec.selector.match_labels.iter().flatten() {
                    labels.insert(key.clone(), value.clone());
                }
                (template_name, claim)
            })
            .collect()
    }

    /// A new pod of `ordinal` from `template` at `revision`.
    fn new_pod(
        &self,
        set: &StatefulSet,
        template: &PodTemplateSpec,
        ordinal: i32,
        revision: &str,
    ) -> Pod {
        let mut pod = pod_from_template(template, API_VERSION, KIND, &set.metadata);
        let name = pod_name(self.name, ordinal);
        pod.metadata.name = Some(name.clone());
        pod.metadata.namespace = Some(self.namespace.to_string());
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(POD_NAME_LABEL.to_string(), name.clone());
        labels.insert(POD_INDEX_LABEL.to_string(), ordinal.to_string());
        labels.insert(REVISION_LABEL.to_string(), revision.to_string());
        let spec = pod.spec.get_or_insert_with(Default::default);
        spec.hostname = Some(name);
        spec.subdomain = self.spec.service_name.clone();
        // The claims' volumes first, then the template's own under other
        // names (a template volume named as a claim template is replaced).
        let claims = self.claims(ordinal);
        let mut volumes: Vec<Volume> = claims
            .iter()
            .map(|(template_name, claim)| Volume {
                name: template_name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.metadata.name.clone().unwrap_or_default(),
                    read_only: Some(false),
                }),
                ..Volume::default()
            })
            .collect();
        for volume in spec.volumes.take().into_iter().flatten() {
            if !claims.iter().any(|(name, _)| *name == volume.name) {
                volumes.push(volume);
            }
        }
        spec.volumes = (!volumes.is_empty()).then_some(volumes);
        pod
    }

    /// The pod's name, namespace and name label are its ordinal's
    /// (Kubernetes' `identityMatches`).
    fn identity_matches(&self, pod: &Pod, ordinal: i32) -> bool {
        let name = pod_name(self.name, ordinal);
        pod.metadata.name.as_deref() == Some(name.as_str())
            && pod.metadata.namespace.as_deref().unwrap_or("") == self.namespace
            && pod
                .metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(POD_NAME_LABEL))
                == Some(&name)
    }

    /// `pod` with its identity labels restored (hostname and subdomain
    /// are immutable once created).
    fn with_identity(&self, pod: &Pod, ordinal: i32) -> Pod {
        let mut pod = pod.clone();
        let name = pod_name(self.name, ordinal);
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(POD_NAME_LABEL.to_string(), name);
        labels.insert(POD_INDEX_LABEL.to_string(), ordinal.to_string());
        pod
    }
}

/// An owner of a claim as the retention policy sees it: the set or one
/// of its pods.
struct Owner<'o> {
    api_version: &'o str,
    kind: &'o str,
    name: &'o str,
    uid: &'o str,
}

impl Owner<'_> {
    fn matches(&self, reference: &OwnerReference) -> bool {
        reference.api_version == self.api_version
            && reference.kind == self.kind
            && reference.name == self.name
    }

    fn is_owner_of(&self, claim: &PersistentVolumeClaim) -> bool {
        references(claim).iter().any(|r| r.uid == self.uid)
    }

    /// A reference to an earlier object of this name (Kubernetes'
    /// `hasStaleOwnerRef`): the first one naming it has another UID.
    fn is_stale_owner_of(&self, claim: &PersistentVolumeClaim) -> bool {
        references(claim)
            .iter()
            .find(|r| self.matches(r))
            .is_some_and(|r| r.uid != self.uid)
    }

    fn controller_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            name: self.name.to_string(),
            uid: self.uid.to_string(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn references(claim: &PersistentVolumeClaim) -> &[OwnerReference] {
    claim.metadata.owner_references.as_deref().unwrap_or(&[])
}

/// What the retention policy asks of the claims of the pod of `ordinal`:
/// owned by the set (`whenDeleted: Delete`, while the pod is in range),
/// by the pod (`whenScaled: Delete`, once it is above the range).
struct Retention<'o> {
    set: Owner<'o>,
    pod: Owner<'o>,
    wants_set: bool,
    wants_pod: bool,
    policy_retains: bool,
}

impl<'o> Retention<'o> {
    fn new(shape: &Shape<'o>, pod_name: &'o str, pod_uid: &'o str, ordinal: i32) -> Retention<'o> {
        let scaled_down = !shape.in_range(ordinal);
        let (wants_set, wants_pod) = match (shape.when_scaled, shape.when_deleted) {
            (false, false) => (false, false),
            (false, true) => (true, false),
            (true, false) => (false, scaled_down),
            (true, true) => (!scaled_down, scaled_down),
        };
        Retention {
            set: Owner {
                api_version: API_VERSION,
                kind: KIND,
                name: shape.name,
                uid: shape.uid,
            },
            pod: Owner {
                api_version: "v1",
                kind: "Pod",
                name: pod_name,
                uid: pod_uid,
            },
            wants_set,
            wants_pod,
            policy_retains: !shape.when_scaled && !shape.when_deleted,
        }
    }

    /// Another controller manages the claim, or a reference names the set
    /// or the pod with another UID (Kubernetes' `hasUnexpectedController`).
    fn unexpected_controller(&self, claim: &PersistentVolumeClaim) -> bool {
        if self.policy_retains {
            return false;
        }
        references(claim).iter().any(|reference| {
            if self.set.matches(reference) {
                reference.uid != self.set.uid
            } else if self.pod.matches(reference) {
                reference.uid != self.pod.uid
            } else {
                reference.controller == Some(true)
            }
        })
    }

    /// Kubernetes' `isClaimOwnerUpToDate`: a claim in a state it does not
    /// understand (stale references, another controller) is left alone.
    fn up_to_date(&self, claim: &PersistentVolumeClaim) -> bool {
        if self.set.is_stale_owner_of(claim) || self.pod.is_stale_owner_of(claim) {
            return true;
        }
        let (has_set, has_pod) = (self.set.is_owner_of(claim), self.pod.is_owner_of(claim));
        if self.unexpected_controller(claim) {
            return !(has_set || has_pod);
        }
        let non_controller = references(claim).iter().any(|reference| {
            (reference.uid == self.set.uid || reference.uid == self.pod.uid)
                && reference.controller != Some(true)
        });
        if non_controller {
            return false;
        }
        has_set == self.wants_set && has_pod == self.wants_pod
    }

    /// The claim's references with the set's and the pod's replaced by
    /// what the policy asks (Kubernetes' `updateClaimOwnerRefForSetAndPod`).
    fn apply(&self, claim: &mut PersistentVolumeClaim) {
        let unexpected = self.unexpected_controller(claim);
        let mut kept: Vec<OwnerReference> = references(claim)
            .iter()
            .filter(|r| !self.set.matches(r) && !self.pod.matches(r))
            .cloned()
            .collect();
        if !unexpected {
            if self.wants_set {
                kept.push(self.set.controller_reference());
            }
            if self.wants_pod {
                kept.push(self.pod.controller_reference());
            }
        }
        claim.metadata.owner_references = (!kept.is_empty()).then_some(kept);
    }
}

/// What one walk over the pods decides, in Kubernetes' step order.
struct Steps<'a, 'c> {
    claims: &'c HashMap<&'c str, &'c PersistentVolumeClaim>,
    create_claims: BTreeMap<String, PersistentVolumeClaim>,
    update_claims: BTreeMap<String, PersistentVolumeClaim>,
    create: Vec<Pod>,
    update: Vec<Pod>,
    delete: Vec<&'a Pod>,
    blocked: Option<String>,
}

impl<'a> Steps<'a, '_> {
    fn delete(&mut self, pod: &'a Pod) {
        if !self.delete.iter().any(|queued| std::ptr::eq(*queued, pod)) {
            self.delete.push(pod);
        }
    }

    /// Queues the claims of the pod of `ordinal` the cache lacks; an
    /// error when one of them is being deleted (the pod must wait for
    /// it to go, not start on a claim about to vanish).
    fn create_missing_claims(&mut self, shape: &Shape<'_>, ordinal: i32) -> Result<(), String> {
        let name = pod_name(shape.name, ordinal);
        for (_, mut claim) in shape.claims(ordinal) {
            let claim_name = claim.metadata.name.clone().unwrap_or_default();
            match self.claims.get(claim_name.as_str()) {
                Some(existing) if existing.metadata.deletion_timestamp.is_some() => {
                    return Err(format!(
                        "PersistentVolumeClaim {claim_name} of pod {name} is being deleted"
                    ));
                }
                Some(_) => {}
                None => {
                    // Created with the references the policy asks for a
                    // pod in range (never the pod's: it has no UID yet).
                    Retention::new(shape, &name, "", ordinal).apply(&mut claim);
                    self.create_claims.insert(claim_name, claim);
                }
            }
        }
        Ok(())
    }

    /// Whether a claim of the new pod of `ordinal` still belongs to an
    /// earlier pod of its name (`whenScaled: Delete` hands it to the
    /// garbage collector through that pod): the pod waits for it to go.
    fn stale_claim(&self, shape: &Shape<'_>, ordinal: i32) -> Option<String> {
        if !shape.when_scaled {
            return None;
        }
        let name = pod_name(shape.name, ordinal);
        let pod = Owner {
            api_version: "v1",
            kind: "Pod",
            name: &name,
            uid: "",
        };
        shape.claims(ordinal).into_iter().find_map(|(_, claim)| {
            let claim_name = claim.metadata.name.unwrap_or_default();
            self.claims
                .get(claim_name.as_str())
                .filter(|existing| pod.is_stale_owner_of(existing))
                .map(|_| {
                    format!(
                        "PersistentVolumeClaim {claim_name} still belongs to an earlier pod {name}"
                    )
                })
        })
    }

    /// Queues the owner reference changes the retention policy asks of
    /// the claims of the pod `name` (`uid`, empty for one not created yet)
    /// of `ordinal`.
    fn fix_retention(&mut self, shape: &Shape<'_>, name: &str, uid: &str, ordinal: i32) {
        let retention = Retention::new(shape, name, uid, ordinal);
        for (_, claim) in shape.claims(ordinal) {
            let claim_name = claim.metadata.name.unwrap_or_default();
            let Some(existing) = self.claims.get(claim_name.as_str()) else {
                continue;
            };
            if self.update_claims.contains_key(&claim_name) || retention.up_to_date(existing) {
                continue;
            }
            let mut updated = (*existing).clone();
            retention.apply(&mut updated);
            self.update_claims.insert(claim_name, updated);
        }
    }

    fn fix_pod_retention(&mut self, shape: &Shape<'_>, pod: &Pod, ordinal: i32) {
        let name = pod.metadata.name.as_deref().unwrap_or("");
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        self.fix_retention(shape, name, uid, ordinal);
    }

    /// The missing pod of `ordinal`: its claims, then the pod `new()`
    /// makes. Whether the sync waits on it (OrderedReady always does).
    fn create_pod(&mut self, shape: &Shape<'_>, ordinal: i32, new: impl FnOnce() -> Pod) -> bool {
        if let Some(reason) = self.stale_claim(shape, ordinal) {
            self.blocked.get_or_insert(reason);
            return true;
        }
        if let Err(reason) = self.create_missing_claims(shape, ordinal) {
            self.blocked.get_or_insert(reason);
            return true;
        }
        self.fix_retention(shape, &pod_name(shape.name, ordinal), "", ordinal);
        self.create.push(new());
        shape.monotonic
    }

    /// The existing pod of `ordinal` in range (Kubernetes'
    /// `processReplica`). Whether the sync waits on it: a finished pod is
    /// deleted and recreated once gone; OrderedReady waits for a pod to be
    /// Running, Ready and available and not terminating.
    fn replica(&mut self, shape: &Shape<'_>, pod: &'a Pod, ordinal: i32, now: Timestamp) -> bool {
        if matches!(phase(pod), "Failed" | "Succeeded") {
            if !is_terminating(pod) {
                self.delete(pod);
            }
            return true;
        }
        if phase(pod) == "Pending" {
            if let Err(reason) = self.create_missing_claims(shape, ordinal) {
                self.blocked.get_or_insert(reason);
                return true;
            }
            self.fix_pod_retention(shape, pod, ordinal);
        }
        if shape.monotonic
            && (is_terminating(pod) || !is_running_and_ready(pod) || !shape.available(pod, now))
        {
            return true;
        }
        self.fix_pod_retention(shape, pod, ordinal);
        if !shape.identity_matches(pod, ordinal) {
            self.update.push(shape.with_identity(pod, ordinal));
        }
        false
    }
}

/// Pod counts of the status (Kubernetes' `computeReplicaStatus`): every
/// existing pod is a replica; current and updated ones count only while
/// not terminating.
#[derive(Default)]
struct Counts {
    replicas: i32,
    ready: i32,
    available: i32,
    current: i32,
    updated: i32,
}

fn counts<'p>(
    shape: &Shape<'_>,
    pods: impl IntoIterator<Item = &'p Pod>,
    current: &str,
    update: &str,
    now: Timestamp,
) -> Counts {
    let mut counts = Counts::default();
    for pod in pods {
        counts.replicas += 1;
        if is_running_and_ready(pod) {
            counts.ready += 1;
            if shape.available(pod, now) {
                counts.available += 1;
            }
        }
        if !is_terminating(pod) {
            let revision = pod_revision(pod);
            if revision == current {
                counts.current += 1;
            }
            if revision == update {
                counts.updated += 1;
            }
        }
    }
    counts
}

/// Decides one sync of `set` over the pods and the claims of its
/// namespace; `history` holds the templates of revisions seen before.
pub fn plan<'a, 'c>(
    set: &StatefulSet,
    pods: impl IntoIterator<Item = &'a Pod>,
    claims: impl IntoIterator<Item = &'c PersistentVolumeClaim>,
    history: &History,
    now: Timestamp,
) -> Result<Plan<'a>, Error> {
    let selector = selector(set)?;
    let default_spec = StatefulSetSpec::default();
    let spec = set.spec.as_ref().unwrap_or(&default_spec);
    let shape = Shape::new(set, spec);
    let deleting = set.metadata.deletion_timestamp.is_some();
    let Claim {
        owned,
        adopt,
        mut release,
    } = claim(shape.uid, deleting, &selector, pods);
    // Members are named `<set>-<ordinal>` (Kubernetes' `isMemberOf`): an
    // owned pod named otherwise is released, an orphan so named is not
    // adopted.
    let member = |pod: &Pod| {
        pod.metadata
            .name
            .as_deref()
            .and_then(parent_and_ordinal)
            .is_some_and(|(parent, _)| parent == shape.name)
    };
    let (owned, strays): (Vec<&Pod>, Vec<&Pod>) = owned.into_iter().partition(|pod| member(pod));
    if !deleting {
        release.extend(strays);
    }
    let adopt: Vec<&'a Pod> = adopt.into_iter().filter(|pod| member(pod)).collect();

    let update = update_revision(set);
    let current = set
        .status
        .as_ref()
        .and_then(|status| status.current_revision.clone())
        .filter(|revision| !revision.is_empty())
        .unwrap_or_else(|| update.clone());
    let current_template = if current == update {
        Some(&spec.template)
    } else {
        history.get(&current)
    };

    // Pods in range by ordinal, and those above it (highest first).
    let size = usize::try_from(shape.replicas).unwrap_or(0);
    let mut slots: Vec<Option<&'a Pod>> = vec![None; size];
    let mut condemned: Vec<(i32, &'a Pod)> = Vec::new();
    for pod in owned.iter().chain(&adopt).copied() {
        let Some(ordinal) = pod
            .metadata
            .name
            .as_deref()
            .and_then(parent_and_ordinal)
            .and_then(|(_, ordinal)| ordinal)
        else {
            continue;
        };
        if shape.in_range(ordinal) {
            if let Some(slot) = usize::try_from(ordinal - shape.start)
                .ok()
                .and_then(|index| slots.get_mut(index))
            {
                *slot = Some(pod);
            }
        } else {
            condemned.push((ordinal, pod));
        }
    }
    condemned.sort_by_key(|(ordinal, _)| std::cmp::Reverse(*ordinal));

    let ordinal_of = |index: usize| shape.start + i32::try_from(index).unwrap_or(i32::MAX);
    // The pod of `ordinal` as the revisions say it should be made: below
    // the partition at the current revision (when its template is known).
    let versioned_pod = |ordinal: i32| {
        let below_partition = shape.rolling()
            && match spec
                .update_strategy
                .as_ref()
                .and_then(|s| s.rolling_update.as_ref())
            {
                Some(_) => ordinal < shape.start + shape.partition(),
                None => {
                    let current_replicas = set
                        .status
                        .as_ref()
                        .and_then(|status| status.current_replicas)
                        .unwrap_or(0);
                    ordinal < shape.start + current_replicas
                }
            };
        match current_template {
            Some(template) if below_partition => shape.new_pod(set, template, ordinal, &current),
            _ => shape.new_pod(set, &spec.template, ordinal, &update),
        }
    };

    // The first unhealthy pod: in range (a missing one counts), else the
    // lowest above it.
    let first_unhealthy = slots
        .iter()
        .enumerate()
        .find(|(_, slot)| slot.is_none_or(|pod| !is_healthy(pod)))
        .map(|(index, _)| ordinal_of(index))
        .or_else(|| {
            condemned
                .iter()
                .rev()
                .find(|(_, pod)| !is_healthy(pod))
                .map(|(ordinal, _)| *ordinal)
        });

    let claims: HashMap<&str, &PersistentVolumeClaim> = claims
        .into_iter()
        .filter_map(|claim| Some((claim.metadata.name.as_deref()?, claim)))
        .collect();
    let mut steps = Steps {
        claims: &claims,
        create_claims: BTreeMap::new(),
        update_claims: BTreeMap::new(),
        create: Vec::new(),
        update: Vec::new(),
        delete: Vec::new(),
        blocked: None,
    };
    let monotonic = shape.monotonic;
    let mut deleted_for_update = 0;

    'sync: {
        if deleting {
            break 'sync;
        }
        // The pods in range, lowest first; `true` from a step: it must
        // wait (only OrderedReady stops there).
        for (index, slot) in slots.iter().enumerate() {
            let ordinal = ordinal_of(index);
            let wait = match slot {
                None => steps.create_pod(&shape, ordinal, || versioned_pod(ordinal)),
                Some(pod) => steps.replica(&shape, pod, ordinal, now),
            };
            if wait && monotonic {
                break 'sync;
            }
        }
        // The claims of pods above the range pass to the pod
        // (`whenScaled: Delete`) before it goes.
        for (ordinal, pod) in &condemned {
            steps.fix_pod_retention(&shape, pod, *ordinal);
        }
        // Above the range, highest first: OrderedReady removes one at a
        // time, and an unhealthy one only when it is the first unhealthy.
        for (ordinal, pod) in &condemned {
            if is_terminating(pod) {
                if monotonic {
                    break 'sync;
                }
                continue;
            }
            let healthy_enough = is_running_and_ready(pod) && shape.available(pod, now);
            if monotonic && !healthy_enough && first_unhealthy != Some(*ordinal) {
                break 'sync;
            }
            steps.delete(pod);
            if monotonic {
                break 'sync;
            }
        }
        if !shape.rolling() {
            break 'sync;
        }
        // The rolling update: pods at or above the partition not at the
        // update revision go, highest first.
        let first = usize::try_from(shape.partition()).unwrap_or(0);
        let max_unavailable = spec
            .update_strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|rolling| rolling.max_unavailable.as_ref());
        match max_unavailable {
            None => {
                // One at a time, waiting for each to be healthy again.
                for slot in slots.iter().skip(first).rev() {
                    let Some(pod) = slot else {
                        break;
                    };
                    if pod_revision(pod) != update && !is_terminating(pod) {
                        steps.delete(pod);
                        deleted_for_update += 1;
                        break;
                    }
                    if !is_healthy(pod) {
                        break;
                    }
                }
            }
            Some(value) => {
                // Up to maxUnavailable pods down at once, counting those
                // already unhealthy anywhere in range.
                let budget = scaled_value(value, shape.replicas, false).max(1);
                let unavailable = slots
                    .iter()
                    .filter(|slot| slot.is_none_or(|pod| !is_healthy(pod)))
                    .count();
                let mut budget = usize::try_from(budget)
                    .unwrap_or(0)
                    .saturating_sub(unavailable);
                for pod in slots.iter().skip(first).rev().flatten() {
                    if budget == 0 {
                        break;
                    }
                    if pod_revision(pod) != update && !is_terminating(pod) {
                        steps.delete(pod);
                        deleted_for_update += 1;
                        budget -= 1;
                    }
                }
            }
        }
    }

    let counted: Vec<&Pod> = if deleting {
        owned.iter().chain(&adopt).copied().collect()
    } else {
        slots
            .iter()
            .flatten()
            .copied()
            .chain(condemned.iter().map(|(_, pod)| *pod))
            .collect()
    };
    let counts = counts(&shape, counted, &current, &update, now);
    let previous = set.status.clone().unwrap_or_default();
    let mut status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        replicas: counts.replicas,
        ready_replicas: Some(counts.ready),
        available_replicas: Some(counts.available),
        current_replicas: Some((counts.current - deleted_for_update).max(0)),
        updated_replicas: Some(counts.updated),
        current_revision: Some(current),
        update_revision: Some(update),
        collision_count: Some(collision_count(set)),
        conditions: previous.conditions,
    };
    // A rolling update is complete when every pod is ready at the update
    // revision (Kubernetes' `completeRollingUpdate`).
    if shape.rolling()
        && counts.updated == shape.replicas
        && counts.ready == shape.replicas
        && counts.replicas == shape.replicas
    {
        status.current_replicas = status.updated_replicas;
        status.current_revision = status.update_revision.clone();
    }
    let min_ready = shape.min_ready_seconds();
    let requeue_after = (min_ready > 0 && counts.available != shape.replicas)
        .then(|| Duration::from_secs(u64::try_from(min_ready).unwrap_or(0)));
    Ok(Plan {
        adopt,
        release,
        create_claims: steps.create_claims.into_values().collect(),
        update_claims: steps.update_claims.into_values().collect(),
        create: steps.create,
        update: steps.update,
        delete: steps.delete,
        status,
        requeue_after,
        blocked: steps.blocked,
    })
}

#[cfg(test)]
mod tests;
