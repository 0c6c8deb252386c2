//! The Deployment controller's decisions, as Kubernetes'
//! `DeploymentController.syncDeployment`: one [`plan`] per sync over the
//! Deployment, the ReplicaSets of its namespace and (for `Recreate`) their
//! pods.
//!
//! The ReplicaSet whose template equals the Deployment's (ignoring the
//! `pod-template-hash` label) is the new one, named `<deployment>-<hash>`;
//! every other claimed ReplicaSet is old. A sync takes one step and
//! returns the writes it makes, in order, with the status they lead to:
//! a scaling event scales every active ReplicaSet in proportion; a
//! rolling update scales the new ReplicaSet up within `maxSurge`, or the
//! old ones down within `maxUnavailable` (unhealthy replicas first);
//! `Recreate` scales the old ones to zero and creates the new one once no
//! old pod runs; a complete rollout deletes old ReplicaSets beyond
//! `revisionHistoryLimit`. Conditions `Progressing` and `Available` carry
//! the reasons `kubectl rollout status` reads.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Duration;

use api::k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use api::k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use api::k8s_openapi::jiff::{SignedDuration, Timestamp};
use api::selector::Selector;

use crate::owner::{Claim, claim, controller_reference, controller_selector};

pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// The label that tells a Deployment's ReplicaSets (and their pods) apart.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO_ANNOTATION: &str = "deprecated.deployment.rollback.to";

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";
pub const MINIMUM_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MINIMUM_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// Why a Deployment cannot be synced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Deployment {0} has an invalid selector: {1}")]
    InvalidSelector(String, String),
}

/// One write to a ReplicaSet.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Create(ReplicaSet),
    /// Replace (replicas, annotations, minReadySeconds) guarded by its
    /// resourceVersion.
    Update(ReplicaSet),
    Delete {
        name: String,
        uid: String,
    },
}

/// One sync's decisions for one Deployment.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Orphan ReplicaSets to adopt, and owned ones that stopped matching.
    pub adopt: Vec<&'a ReplicaSet>,
    pub release: Vec<&'a ReplicaSet>,
    pub writes: Vec<Write>,
    /// The Deployment's `deployment.kubernetes.io/revision`, when it
    /// changes.
    pub revision: Option<String>,
    /// The status after the writes (written if it changed).
    pub status: DeploymentStatus,
    /// Sync again after this long (the progress deadline).
    pub requeue_after: Option<Duration>,
}

fn replicas_of(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(0)
}

fn set_replicas(rs: &mut ReplicaSet, replicas: i32) {
    rs.spec.get_or_insert_with(ReplicaSetSpec::default).replicas = Some(replicas);
}

fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |status| status.replicas)
}

fn available_of(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|status| status.available_replicas)
        .unwrap_or(0)
}

fn ready_of(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|status| status.ready_replicas)
        .unwrap_or(0)
}

fn desired(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1)
}

fn annotation<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn int_annotation(meta: &ObjectMeta, key: &str) -> Option<i32> {
    annotation(meta, key)?.parse().ok()
}

/// A ReplicaSet's revision (0 when it has none).
pub fn revision(rs: &ReplicaSet) -> i64 {
    int_annotation_i64(&rs.metadata, REVISION_ANNOTATION).unwrap_or(0)
}

fn int_annotation_i64(meta: &ObjectMeta, key: &str) -> Option<i64> {
    annotation(meta, key)?.parse().ok()
}

fn is_rolling(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        != Some("Recreate")
}

/// `value` of `total`: an integer, or a percentage rounded up or down.
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> i32 {
    match value {
        IntOrString::Int(value) => *value,
        IntOrString::String(text) => {
            let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
            let product = percent * i64::from(total);
            let scaled = if round_up {
                (product + 99).div_euclid(100)
            } else {
                product.div_euclid(100)
            };
            i32::try_from(scaled).unwrap_or(i32::MAX)
        }
    }
}

/// `maxSurge` and `maxUnavailable` resolved against the desired replicas;
/// both zero would stall a rollout, so unavailable becomes 1.
pub fn fenceposts(d: &Deployment) -> (i32, i32) {
    let rolling = d
        .spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.rolling_update.as_ref());
    let quarter = IntOrString::String("25%".into());
    let surge = rolling
        .and_then(|r| r.max_surge.as_ref())
        .unwrap_or(&quarter);
    let unavailable = rolling
        .and_then(|r| r.max_unavailable.as_ref())
        .unwrap_or(&quarter);
    let replicas = desired(d);
    let surge = scaled_value(surge, replicas, true);
    let unavailable = scaled_value(unavailable, replicas, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

pub fn max_surge(d: &Deployment) -> i32 {
    if is_rolling(d) { fenceposts(d).0 } else { 0 }
}

pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || desired(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(desired(d))
}

/// The Deployment's selector (an empty one selects nothing).
pub fn selector(d: &Deployment) -> Result<Selector, Error> {
    let Some(spec) = &d.spec else {
        return Ok(Selector::nothing());
    };
    controller_selector(&spec.selector)
        .map_err(|error| Error::InvalidSelector(d.metadata.name.clone().unwrap_or_default(), error))
}

fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default()
}

fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut template = template.clone();
    if let Some(labels) = template
        .metadata
        .as_mut()
        .and_then(|meta| meta.labels.as_mut())
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    template
}

/// Whether two pod templates are equal but for `pod-template-hash`.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

/// The `pod-template-hash` of `template` with `collision_count`: FNV-1a
/// (32 bits) over the template's JSON and the count, its decimal digits
/// spelled in Kubernetes' safe alphabet (no vowels, no confusable
/// characters). The hash only has to be stable and spread well; it is
/// written by hand because it is five lines.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(&serde_json::to_vec(&without_hash(template)).unwrap_or_default());
    if let Some(count) = collision_count {
        feed(&count.to_le_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|digit| char::from(SAFE[usize::from(digit) % SAFE.len()]))
        .collect()
}

fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let time = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
    time(a)
        .cmp(&time(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// Everything one sync needs to see besides the Deployment.
pub struct Input<'a> {
    /// The ReplicaSets of the Deployment's namespace.
    pub replica_sets: Vec<&'a ReplicaSet>,
    /// The pods of the namespace (for `Recreate`: do old pods still run?).
    pub pods: Vec<&'a Pod>,
    pub now: Timestamp,
}

/// The working set of one sync: the claimed ReplicaSets as they will be
/// after the writes so far.
struct Sync<'d> {
    d: &'d Deployment,
    /// Old ReplicaSets, oldest first.
    old: Vec<ReplicaSet>,
    new: Option<ReplicaSet>,
    writes: Vec<Write>,
    revision: Option<String>,
    status: DeploymentStatus,
    now: Timestamp,
}

/// Decides one sync of `d`.
pub fn plan<'a>(d: &Deployment, input: Input<'a>) -> Result<Plan<'a>, Error> {
    let selector = selector(d)?;
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let deleting = d.metadata.deletion_timestamp.is_some();
    let Claim {
        owned,
        adopt,
        release,
    } = claim(uid, deleting, &selector, input.replica_sets);
    let claimed: Vec<ReplicaSet> = owned.iter().chain(&adopt).map(|rs| (*rs).clone()).collect();
    let template = template(d);
    let mut new = None;
    let mut old = Vec::new();
    let mut candidates: Vec<ReplicaSet> = claimed;
    candidates.sort_by(by_creation);
    for rs in candidates {
        let matches = rs
            .spec
            .as_ref()
            .and_then(|spec| spec.template.as_ref())
            .is_some_and(|rs_template| equal_ignore_hash(rs_template, &template));
        if matches && new.is_none() {
            new = Some(rs);
        } else {
            old.push(rs);
        }
    }
    let mut sync = Sync {
        d,
        old,
        new,
        writes: Vec::new(),
        revision: None,
        status: d.status.clone().unwrap_or_default(),
        now: input.now,
    };
    let paused = d
        .spec
        .as_ref()
        .and_then(|spec| spec.paused)
        .unwrap_or(false);
    if deleting {
        // Only the status follows.
    } else {
        sync.paused_condition(paused);
        if paused || sync.is_scaling_event() {
            sync.sync_revision(false);
            sync.scale();
            if paused {
                sync.cleanup();
            }
        } else if is_rolling(d) {
            sync.rollout_rolling();
        } else {
            sync.rollout_recreate(&input.pods);
        }
    }
    let requeue_after = sync.finish_status(paused);
    Ok(Plan {
        adopt,
        release,
        writes: sync.writes,
        revision: sync.revision,
        status: sync.status,
        requeue_after,
    })
}

fn condition<'s>(status: &'s DeploymentStatus, type_: &str) -> Option<&'s DeploymentCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|condition| condition.type_ == type_)
}

fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|condition| condition.type_ != type_);
    }
}

/// Sets a condition as Kubernetes' `SetDeploymentCondition`: the same
/// status and reason change nothing; the same status keeps its transition
/// time.
fn set_condition(status: &mut DeploymentStatus, new: DeploymentCondition) {
    if let Some(current) = condition(status, &new.type_) {
        if current.status == new.status && current.reason == new.reason {
            return;
        }
        let mut new = new;
        if current.status == new.status {
            new.last_transition_time = current.last_transition_time.clone();
        }
        remove_condition(status, &new.type_);
        status.conditions.get_or_insert_with(Vec::new).push(new);
        return;
    }
    status.conditions.get_or_insert_with(Vec::new).push(new);
}

fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|spec| spec.progress_deadline_seconds)
        .filter(|seconds| *seconds != i32::MAX)
}

/// The rollout is done: every replica updated and available, and the
/// controller saw the latest spec.
pub fn complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let replicas = desired(d);
    status.updated_replicas.unwrap_or(0) == replicas
        && status.replicas.unwrap_or(0) == replicas
        && status.available_replicas.unwrap_or(0) == replicas
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

fn progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let value = |v: Option<i32>| v.unwrap_or(0);
    value(new.updated_replicas) > value(old.updated_replicas)
        || value(old.replicas) - value(old.updated_replicas)
            > value(new.replicas) - value(new.updated_replicas)
        || value(new.ready_replicas) > value(old.ready_replicas)
        || value(new.available_replicas) > value(old.available_replicas)
}

fn deadline_at(condition: &DeploymentCondition, seconds: i32) -> Option<Timestamp> {
    let from = condition.last_update_time.as_ref()?.0;
    from.checked_add(SignedDuration::from_secs(i64::from(seconds)))
        .ok()
}

fn skip_copy(key: &str) -> bool {
    matches!(
        key,
        LAST_APPLIED_ANNOTATION
            | REVISION_ANNOTATION
            | REVISION_HISTORY_ANNOTATION
            | DESIRED_REPLICAS_ANNOTATION
            | MAX_REPLICAS_ANNOTATION
            | ROLLBACK_TO_ANNOTATION
    )
}

impl Sync<'_> {
    fn name(&self) -> String {
        self.d.metadata.name.clone().unwrap_or_default()
    }

    /// Every claimed ReplicaSet, old ones first (oldest first), then the new.
    fn all(&self) -> Vec<&ReplicaSet> {
        self.old.iter().chain(self.new.as_ref()).collect()
    }

    fn record_update(&mut self, rs: ReplicaSet) {
        self.writes.push(Write::Update(rs));
    }

    /// Whether some active ReplicaSet was sized for another replica count
    /// (the user scaled the Deployment).
    fn is_scaling_event(&self) -> bool {
        let replicas = desired(self.d);
        self.all()
            .iter()
            .filter(|rs| replicas_of(rs) > 0)
            .any(|rs| {
                int_annotation(&rs.metadata, DESIRED_REPLICAS_ANNOTATION)
                    .is_some_and(|annotated| annotated != replicas)
            })
    }

    fn paused_condition(&mut self, paused: bool) {
        if progress_deadline(self.d).is_none() {
            return;
        }
        let reason = condition(&self.status, PROGRESSING).and_then(|c| c.reason.clone());
        if paused && reason.as_deref() != Some(PAUSED) {
            set_condition(
                &mut self.status,
                new_condition(
                    PROGRESSING,
                    "Unknown",
                    PAUSED,
                    "Deployment is paused".into(),
                    self.now,
                ),
            );
        } else if !paused && reason.as_deref() == Some(PAUSED) {
            set_condition(
                &mut self.status,
                new_condition(
                    PROGRESSING,
                    "Unknown",
                    RESUMED,
                    "Deployment is resumed".into(),
                    self.now,
                ),
            );
        }
    }

    /// Brings the new ReplicaSet's annotations to the next revision (and
    /// creates it when `create` and it does not exist), and the
    /// Deployment's revision to the new one's.
    fn sync_revision(&mut self, create: bool) {
        let max_old = self.old.iter().map(revision).max().unwrap_or(0);
        let new_revision = (max_old + 1).to_string();
        let replicas = desired(self.d);
        let max_replicas = replicas + max_surge(self.d);
        if let Some(mut rs) = self.new.take() {
            let mut changed = self.copy_annotations(&mut rs.metadata);
            let old_revision = revision(&rs);
            if old_revision < max_old + 1 {
                let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
                if old_revision > 0 {
                    let history = annotations
                        .get(REVISION_HISTORY_ANNOTATION)
                        .filter(|history| !history.is_empty())
                        .map_or_else(
                            || old_revision.to_string(),
                            |h| format!("{h},{old_revision}"),
                        );
                    annotations.insert(REVISION_HISTORY_ANNOTATION.to_string(), history);
                }
                annotations.insert(REVISION_ANNOTATION.to_string(), new_revision.clone());
                changed = true;
            }
            let min_ready = self.d.spec.as_ref().and_then(|spec| spec.min_ready_seconds);
            let spec = rs.spec.get_or_insert_with(ReplicaSetSpec::default);
            if spec.min_ready_seconds != min_ready {
                spec.min_ready_seconds = min_ready;
                changed = true;
            }
            let revision_now = annotation(&rs.metadata, REVISION_ANNOTATION).map(str::to_string);
            if changed {
                self.record_update(rs.clone());
            }
            self.set_deployment_revision(revision_now);
            if condition(&self.status, PROGRESSING).is_none() && progress_deadline(self.d).is_some()
            {
                let message = format!(
                    "Found new replica set {:?}",
                    rs.metadata.name.clone().unwrap_or_default()
                );
                set_condition(
                    &mut self.status,
                    new_condition(PROGRESSING, "True", FOUND_NEW_RS, message, self.now),
                );
            }
            self.new = Some(rs);
            return;
        }
        if !create {
            return;
        }
        let collision_count = self.status.collision_count;
        let template = template(self.d);
        let hash = pod_template_hash(&template, collision_count);
        let mut template = template;
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH_LABEL.to_string(), hash.clone());
        let mut selector = self
            .d
            .spec
            .as_ref()
            .map(|spec| spec.selector.clone())
            .unwrap_or_default();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH_LABEL.to_string(), hash.clone());
        let labels = template
            .metadata
            .as_ref()
            .and_then(|meta| meta.labels.clone());
        let mut meta = ObjectMeta {
            name: Some(format!("{}-{hash}", self.name())),
            namespace: self.d.metadata.namespace.clone(),
            labels,
            owner_references: controller_reference("apps/v1", "Deployment", &self.d.metadata)
                .map(|reference| vec![reference]),
            ..ObjectMeta::default()
        };
        self.copy_annotations(&mut meta);
        let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
        annotations.insert(REVISION_ANNOTATION.to_string(), new_revision.clone());
        annotations.insert(
            DESIRED_REPLICAS_ANNOTATION.to_string(),
            replicas.to_string(),
        );
        annotations.insert(
            MAX_REPLICAS_ANNOTATION.to_string(),
            max_replicas.to_string(),
        );
        let mut rs = ReplicaSet {
            metadata: meta,
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: self.d.spec.as_ref().and_then(|spec| spec.min_ready_seconds),
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let start = self.new_replicas(&rs);
        set_replicas(&mut rs, start);
        self.writes.push(Write::Create(rs.clone()));
        let message = format!(
            "Created new replica set {:?}",
            rs.metadata.name.clone().unwrap_or_default()
        );
        if progress_deadline(self.d).is_some() {
            set_condition(
                &mut self.status,
                new_condition(PROGRESSING, "True", NEW_RS_CREATED, message, self.now),
            );
        }
        self.set_deployment_revision(Some(new_revision));
        self.new = Some(rs);
    }

    fn set_deployment_revision(&mut self, revision: Option<String>) {
        if let Some(revision) = revision
            && annotation(&self.d.metadata, REVISION_ANNOTATION) != Some(revision.as_str())
        {
            self.revision = Some(revision);
        }
    }

    /// Copies the Deployment's own annotations onto a ReplicaSet's.
    fn copy_annotations(&self, meta: &mut ObjectMeta) -> bool {
        let mut changed = false;
        for (key, value) in self.d.metadata.annotations.iter().flatten() {
            if skip_copy(key) {
                continue;
            }
            let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
            if annotations.get(key) != Some(value) {
                annotations.insert(key.clone(), value.clone());
                changed = true;
            }
        }
        changed
    }

    /// How many replicas the new ReplicaSet may have now.
    fn new_replicas(&self, new: &ReplicaSet) -> i32 {
        let replicas = desired(self.d);
        if !is_rolling(self.d) {
            return replicas;
        }
        let current: i32 = self.old.iter().map(replicas_of).sum::<i32>() + replicas_of(new);
        let max_total = replicas + max_surge(self.d);
        if current >= max_total {
            return replicas_of(new);
        }
        let up = (max_total - current)
            .min(replicas - replicas_of(new))
            .max(0);
        replicas_of(new) + up
    }

    /// Scales `rs` (old or new, by name) to `replicas`, updating its
    /// replica annotations; records the write when anything changed.
    fn scale_to(&mut self, name: &str, replicas: i32) -> bool {
        let desired = desired(self.d);
        let max = desired + max_surge(self.d);
        let target = match &mut self.new {
            Some(rs) if rs.metadata.name.as_deref() == Some(name) => Some(rs),
            _ => self
                .old
                .iter_mut()
                .find(|rs| rs.metadata.name.as_deref() == Some(name)),
        };
        let Some(rs) = target else {
            return false;
        };
        let size_changed = replicas_of(rs) != replicas;
        let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
        let annotations_changed = annotations.get(DESIRED_REPLICAS_ANNOTATION)
            != Some(&desired.to_string())
            || annotations.get(MAX_REPLICAS_ANNOTATION) != Some(&max.to_string());
        if !size_changed && !annotations_changed {
            return false;
        }
        annotations.insert(DESIRED_REPLICAS_ANNOTATION.to_string(), desired.to_string());
        annotations.insert(MAX_REPLICAS_ANNOTATION.to_string(), max.to_string());
        set_replicas(rs, replicas);
        let rs = rs.clone();
        self.record_update(rs);
        size_changed
    }

    fn rollout_rolling(&mut self) {
        self.sync_revision(true);
        if self.reconcile_new() {
            return;
        }
        if self.reconcile_old() {
            return;
        }
        if complete(self.d, &self.calculated_status()) {
            self.cleanup();
        }
    }

    /// Scales the new ReplicaSet toward the desired count within the surge.
    fn reconcile_new(&mut self) -> bool {
        let Some(new) = self.new.clone() else {
            return false;
        };
        let replicas = desired(self.d);
        let name = new.metadata.name.clone().unwrap_or_default();
        match replicas_of(&new).cmp(&replicas) {
            Ordering::Equal => false,
            Ordering::Greater => self.scale_to(&name, replicas),
            Ordering::Less => {
                let count = self.new_replicas(&new);
                self.scale_to(&name, count)
            }
        }
    }

    /// Scales old ReplicaSets down as far as `maxUnavailable` allows:
    /// unhealthy replicas first, then healthy ones, oldest first.
    fn reconcile_old(&mut self) -> bool {
        let old_count: i32 = self.old.iter().map(replicas_of).sum();
        if old_count == 0 {
            return false;
        }
        let all_count: i32 = self.all().iter().map(|rs| replicas_of(rs)).sum();
        let min_available = desired(self.d) - max_unavailable(self.d);
        let new_unavailable = self
            .new
            .as_ref()
            .map_or(0, |new| replicas_of(new) - available_of(new));
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        // Unhealthy replicas first: they cost no availability.
        let mut cleaned = 0;
        let plan: Vec<(String, i32, i32)> = self
            .old
            .iter()
            .map(|rs| {
                (
                    rs.metadata.name.clone().unwrap_or_default(),
                    replicas_of(rs),
                    available_of(rs),
                )
            })
            .collect();
        for (name, replicas, available) in &plan {
            if cleaned >= max_scaled_down {
                break;
            }
            if *replicas == 0 || replicas == available {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(replicas - available);
            self.scale_to(name, replicas - down);
            cleaned += down;
        }
        // Then healthy ones, within what availability allows.
        let available: i32 = self.all().iter().map(|rs| available_of(rs)).sum();
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            let plan: Vec<(String, i32)> = self
                .old
                .iter()
                .map(|rs| {
                    (
                        rs.metadata.name.clone().unwrap_or_default(),
                        replicas_of(rs),
                    )
                })
                .collect();
            for (name, replicas) in plan {
                if scaled >= total {
                    break;
                }
                if replicas == 0 {
                    continue;
                }
                let down = replicas.min(total - scaled);
                self.scale_to(&name, replicas - down);
                scaled += down;
            }
        }
        cleaned + scaled > 0
    }

    fn rollout_recreate(&mut self, pods: &[&Pod]) {
        self.sync_revision(false);
        let active: Vec<String> = self
            .old
            .iter()
            .filter(|rs| replicas_of(rs) > 0)
            .filter_map(|rs| rs.metadata.name.clone())
            .collect();
        let mut scaled_down = false;
        for name in active {
            scaled_down |= self.scale_to(&name, 0);
        }
        if scaled_down || self.old_pods_running(pods) {
            return;
        }
        if self.new.is_none() {
            self.sync_revision(true);
        }
        if let Some(name) = self.new.as_ref().and_then(|rs| rs.metadata.name.clone()) {
            let replicas = desired(self.d);
            self.scale_to(&name, replicas);
        }
        if complete(self.d, &self.calculated_status()) {
            self.cleanup();
        }
    }

    /// Whether a pod of an old ReplicaSet has not finished yet.
    fn old_pods_running(&self, pods: &[&Pod]) -> bool {
        if self.old.iter().map(status_replicas).sum::<i32>() > 0 {
            return true;
        }
        let old: Vec<&str> = self
            .old
            .iter()
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        pods.iter().any(|pod| {
            let owned = crate::owner::controller_of(&pod.metadata)
                .is_some_and(|reference| old.contains(&reference.uid.as_str()));
            let phase = pod
                .status
                .as_ref()
                .and_then(|status| status.phase.as_deref());
            owned && !matches!(phase, Some("Failed" | "Succeeded"))
        })
    }

    /// A scaling event (or a paused Deployment): the active ReplicaSets
    /// scaled in proportion to their size, the new one alone when it is
    /// the only active one.
    fn scale(&mut self) {
        let replicas = desired(self.d);
        let active: Vec<&ReplicaSet> = self
            .all()
            .into_iter()
            .filter(|rs| replicas_of(rs) > 0)
            .collect();
        let only = match active.len() {
            0 => self
                .new
                .as_ref()
                .or_else(|| self.old.iter().max_by(|a, b| by_creation(a, b))),
            1 => active.first().copied(),
            _ => None,
        };
        if let Some(rs) = only {
            let name = rs.metadata.name.clone().unwrap_or_default();
            self.scale_to(&name, replicas);
            return;
        }
        let saturated = self.new.as_ref().is_some_and(|new| {
            int_annotation(&new.metadata, DESIRED_REPLICAS_ANNOTATION) == Some(replicas)
                && replicas_of(new) == replicas
                && available_of(new) == replicas
        });
        if saturated {
            let old: Vec<String> = self
                .old
                .iter()
                .filter(|rs| replicas_of(rs) > 0)
                .filter_map(|rs| rs.metadata.name.clone())
                .collect();
            for name in old {
                self.scale_to(&name, 0);
            }
            return;
        }
        if !is_rolling(self.d) {
            return;
        }
        let mut active: Vec<ReplicaSet> = active.into_iter().cloned().collect();
        let total: i32 = active.iter().map(replicas_of).sum();
        let allowed = if replicas > 0 {
            replicas + max_surge(self.d)
        } else {
            0
        };
        let to_add = allowed - total;
        // Larger first; on a tie, newer first when growing, older when
        // shrinking.
        active.sort_by(|a, b| {
            replicas_of(b).cmp(&replicas_of(a)).then_with(|| {
                if to_add > 0 {
                    by_creation(b, a)
                } else {
                    by_creation(a, b)
                }
            })
        });
        let mut added = 0;
        let mut sizes: Vec<(String, i32)> = Vec::new();
        for rs in &active {
            let size = replicas_of(rs);
            let proportion = if to_add == 0 {
                0
            } else {
                self.proportion(rs, to_add, added)
            };
            added += proportion;
            sizes.push((
                rs.metadata.name.clone().unwrap_or_default(),
                size + proportion,
            ));
        }
        if to_add != 0
            && let Some(first) = sizes.first_mut()
        {
            first.1 = (first.1 + to_add - added).max(0);
        }
        for (name, size) in sizes {
            self.scale_to(&name, size);
        }
    }

    /// The share of `to_add` (negative: to remove) a ReplicaSet gets, by
    /// its size against the size it was given with `max-replicas`.
    fn proportion(&self, rs: &ReplicaSet, to_add: i32, added: i32) -> i32 {
        if replicas_of(rs) == 0 || to_add == added {
            return 0;
        }
        let replicas = desired(self.d);
        let fraction = if replicas == 0 {
            -replicas_of(rs)
        } else {
            let total = replicas + max_surge(self.d);
            let annotated = int_annotation(&rs.metadata, MAX_REPLICAS_ANNOTATION)
                .unwrap_or_else(|| self.d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0));
            if annotated == 0 {
                0
            } else {
                let size = f64::from(replicas_of(rs)) * f64::from(total) / f64::from(annotated);
                // Rounded half away from zero, as Go's math.Round.
                size.round() as i32 - replicas_of(rs)
            }
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// Deletes the oldest revisions of drained old ReplicaSets beyond
    /// `revisionHistoryLimit`.
    fn cleanup(&mut self) {
        let Some(limit) = self
            .d
            .spec
            .as_ref()
            .and_then(|spec| spec.revision_history_limit)
        else {
            return;
        };
        let mut cleanable: Vec<&ReplicaSet> = self
            .old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let excess = cleanable
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(0));
        if excess == 0 {
            return;
        }
        cleanable.sort_by(|a, b| {
            revision(a)
                .cmp(&revision(b))
                .then_with(|| by_creation(a, b))
        });
        let mut deletes = Vec::new();
        for rs in cleanable.into_iter().take(excess) {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if status_replicas(rs) != 0
                || replicas_of(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
            {
                continue;
            }
            deletes.push(Write::Delete {
                name: rs.metadata.name.clone().unwrap_or_default(),
                uid: rs.metadata.uid.clone().unwrap_or_default(),
            });
        }
        self.writes.extend(deletes);
    }

    /// The counts the ReplicaSets give, with the Available condition.
    fn calculated_status(&self) -> DeploymentStatus {
        let all = self.all();
        let sum = |f: fn(&ReplicaSet) -> i32| all.iter().map(|rs| f(rs)).sum::<i32>();
        let available = sum(available_of);
        let total_spec = sum(replicas_of);
        let mut status = DeploymentStatus {
            replicas: Some(sum(status_replicas)),
            updated_replicas: Some(self.new.as_ref().map_or(0, status_replicas)),
            ready_replicas: Some(sum(ready_of)),
            available_replicas: Some(available),
            unavailable_replicas: Some((total_spec - available).max(0)),
            observed_generation: self.d.metadata.generation,
            ..self.status.clone()
        };
        let condition = if available >= desired(self.d) - max_unavailable(self.d) {
            new_condition(
                AVAILABLE,
                "True",
                MINIMUM_AVAILABLE,
                "Deployment has minimum availability.".into(),
                self.now,
            )
        } else {
            new_condition(
                AVAILABLE,
                "False",
                MINIMUM_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                self.now,
            )
        };
        set_condition(&mut status, condition);
        status
    }

    /// The final status: counts, Available, and (unless paused) the
    /// Progressing condition against the deadline; returns when to look
    /// again for the deadline.
    fn finish_status(&mut self, paused: bool) -> Option<Duration> {
        let mut status = self.calculated_status();
        // The ReplicaSets' failures surface as the Deployment's.
        let failure = self.all().iter().find_map(|rs| {
            rs.status
                .as_ref()?
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == REPLICA_FAILURE && c.status == "True")
                .cloned()
        });
        match failure {
            Some(failure) => set_condition(
                &mut status,
                DeploymentCondition {
                    type_: REPLICA_FAILURE.to_string(),
                    status: failure.status,
                    reason: failure.reason,
                    message: failure.message,
                    last_update_time: Some(Time(self.now)),
                    last_transition_time: failure.last_transition_time,
                },
            ),
            None => remove_condition(&mut status, REPLICA_FAILURE),
        }
        let mut requeue = None;
        match progress_deadline(self.d) {
            None => remove_condition(&mut status, PROGRESSING),
            Some(_) if paused || self.d.metadata.deletion_timestamp.is_some() => {}
            Some(seconds) => {
                let current = condition(&status, PROGRESSING).cloned();
                let new_name = self
                    .new
                    .as_ref()
                    .and_then(|rs| rs.metadata.name.clone())
                    .unwrap_or_default();
                let already_complete = status.replicas == status.updated_replicas
                    && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(NEW_RS_AVAILABLE);
                if !already_complete {
                    if complete(self.d, &status) {
                        let message =
                            format!("ReplicaSet {new_name:?} has successfully progressed.");
                        set_condition(
                            &mut status,
                            new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, self.now),
                        );
                    } else if progressing(self.d, &status) {
                        let message = format!("ReplicaSet {new_name:?} is progressing.");
                        let mut condition =
                            new_condition(PROGRESSING, "True", RS_UPDATED, message, self.now);
                        if let Some(current) = &current
                            && current.status == "True"
                        {
                            condition.last_transition_time = current.last_transition_time.clone();
                        }
                        remove_condition(&mut status, PROGRESSING);
                        set_condition(&mut status, condition);
                    } else if let Some(current) = &current
                        && current.reason.as_deref() != Some(NEW_RS_AVAILABLE)
                        && deadline_at(current, seconds).is_some_and(|at| at <= self.now)
                    {
                        let message = format!("ReplicaSet {new_name:?} has timed out progressing.");
                        set_condition(
                            &mut status,
                            new_condition(PROGRESSING, "False", TIMED_OUT, message, self.now),
                        );
                    }
                }
                // Look again when the deadline passes, unless done or over.
                if let Some(current) = condition(&status, PROGRESSING)
                    && !complete(self.d, &status)
                    && !matches!(
                        current.reason.as_deref(),
                        Some(TIMED_OUT | NEW_RS_AVAILABLE)
                    )
                    && let Some(at) = deadline_at(current, seconds)
                {
                    let left = at.duration_since(self.now).as_secs_f64().max(1.0);
                    requeue = Some(Duration::from_secs_f64(left));
                }
            }
        }
        self.status = status;
        requeue
    }
}

#[cfg(test)]
mod tests;
