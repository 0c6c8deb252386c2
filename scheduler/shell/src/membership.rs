//! Leases: leader election for a single scheduler, and shard membership.
//!
//! This process holds one `coordination.k8s.io/v1` Lease (the leader lease,
//! or `<name>-shard-<i>`) as client-go's leader election does: create it if
//! absent; take it over when its holder let it lapse — judged by when this
//! process last *saw* the record change, so clocks need not agree — with an
//! update guarded by resourceVersion; renew every retry period; stop
//! scheduling when no renewal succeeded for the renew deadline; release it
//! on shutdown so a standby takes over at once.
//!
//! Shards also read the other shards' leases every retry period: a shard is
//! live while its lease has a holder and was renewed within the lease
//! duration. The live set decides pod ownership (see `rendezvous`).

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::backend::ClusterApi;
use crate::config::shard_lease_name;
use crate::event::{LoopEvent, Membership};

/// What the membership task needs.
#[derive(Clone, Debug)]
pub(crate) struct MembershipSettings {
    pub(crate) namespace: String,
    /// Base name; shard leases are `<base>-shard-<i>`.
    pub(crate) lease_base: String,
    /// The lease this process holds.
    pub(crate) own_lease: String,
    pub(crate) identity: String,
    pub(crate) shard_count: u32,
    pub(crate) shard_index: u32,
    pub(crate) lease_duration: Duration,
    pub(crate) renew_deadline: Duration,
    pub(crate) retry_period: Duration,
}

/// Runs until `stop` turns true, then releases the lease if held.
pub(crate) async fn run<B: ClusterApi>(
    backend: B,
    settings: MembershipSettings,
    loop_tx: Sender<LoopEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let mut elector = Elector::new(&settings);
    let mut peers = Peers::new(&settings);
    let mut last_sent: Option<Membership> = None;
    let mut tick = tokio::time::interval(settings.retry_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|stopped| *stopped) => true,
        };
        if stopping {
            elector.release(&backend).await;
            return;
        }
        let leading = elector.try_acquire_or_renew(&backend).await;
        let mut live_shards = if settings.shard_count > 1 {
            peers.refresh(&backend).await;
            peers.live(Instant::now())
        } else {
            Vec::new()
        };
        if leading {
            live_shards.push(settings.shard_index);
            live_shards.sort_unstable();
        }
        let membership = Membership {
            active: leading,
            live_shards,
        };
        if last_sent.as_ref() != Some(&membership) {
            if loop_tx
                .send(LoopEvent::Membership(membership.clone()))
                .is_err()
            {
                return;
            }
            last_sent = Some(membership);
        }
    }
}

/// client-go style acquisition and renewal of one lease.
struct Elector {
    namespace: String,
    name: String,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    /// resourceVersion of the last record seen, and when it was first seen.
    observed: Option<(String, Instant)>,
    /// Last successful acquisition or renewal.
    last_renewed: Option<Instant>,
}

impl Elector {
    fn new(settings: &MembershipSettings) -> Elector {
        Elector {
            namespace: settings.namespace.clone(),
            name: settings.own_lease.clone(),
            identity: settings.identity.clone(),
            lease_duration: settings.lease_duration,
            renew_deadline: settings.renew_deadline,
            observed: None,
            last_renewed: None,
        }
    }

    fn leading(&self, now: Instant) -> bool {
        self.last_renewed
            .is_some_and(|renewed| now < renewed + self.renew_deadline)
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs_f64().ceil() as u64)
            .unwrap_or(i32::MAX)
            .max(1)
    }

    /// One attempt; returns whether this process leads afterwards.
    async fn try_acquire_or_renew<B: ClusterApi>(&mut self, backend: &B) -> bool {
        let now = Instant::now();
        if self.attempt(backend, now).await {
            self.last_renewed = Some(now);
        }
        self.leading(now)
    }

    async fn attempt<B: ClusterApi>(&mut self, backend: &B, now: Instant) -> bool {
        let lease = match backend.get_lease(&self.namespace, &self.name).await {
            Ok(lease) => lease,
            Err(error) if error.is_not_found() => return self.create(backend, now).await,
            Err(error) => {
                tracing::debug!(%error, lease = %self.name, "cannot read lease");
                return false;
            }
        };
        // A record is first seen when the read returns, not when it was
        // sent: the holder may have renewed while the read was under way,
        // and timing its lease from before that renewal would take it over
        // too early (client-go also stamps the record after the Get).
        let read_at = Instant::now();
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        let observed_at = match &self.observed {
            Some((seen, at)) if *seen == version => *at,
            _ => {
                self.observed = Some((version, read_at));
                read_at
            }
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.identity;
        if !holder.is_empty() && !ours && read_at < observed_at + self.lease_duration {
            return false;
        }
        let wall = MicroTime(crate::wall_clock::now());
        if !ours {
            spec.acquire_time = Some(wall.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            tracing::info!(lease = %self.name, previous = %holder, "taking over lease");
        }
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(self.lease_seconds());
        spec.renew_time = Some(wall);
        let updated = Lease {
            metadata: lease.metadata.clone(),
            spec: Some(spec),
        };
        match backend.update_lease(&updated).await {
            Ok(stored) => {
                self.observed = Some((stored.metadata.resource_version.unwrap_or_default(), now));
                true
            }
            Err(error) => {
                tracing::debug!(%error, lease = %self.name, "lease update lost");
                false
            }
        }
    }

    async fn create<B: ClusterApi>(&mut self, backend: &B, now: Instant) -> bool {
        let wall = MicroTime(crate::wall_clock::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(self.namespace.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(self.lease_seconds()),
                acquire_time: Some(wall.clone()),
                renew_time: Some(wall),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        match backend.create_lease(&lease).await {
            Ok(stored) => {
                tracing::info!(lease = %self.name, "created and holding lease");
                self.observed = Some((stored.metadata.resource_version.unwrap_or_default(), now));
                true
            }
            Err(error) => {
                tracing::debug!(%error, lease = %self.name, "cannot create lease");
                false
            }
        }
    }

    /// Gives the lease up (empty holder) if this process holds it.
    async fn release<B: ClusterApi>(&mut self, backend: &B) {
        if self.last_renewed.is_none() {
            return;
        }
        let Ok(lease) = backend.get_lease(&self.namespace, &self.name).await else {
            return;
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(crate::wall_clock::now()));
        let released = Lease {
            metadata: lease.metadata,
            spec: Some(spec),
        };
        match backend.update_lease(&released).await {
            Ok(_) => tracing::info!(lease = %self.name, "released lease"),
            Err(error) => tracing::warn!(%error, lease = %self.name, "cannot release lease"),
        }
        self.last_renewed = None;
    }
}

/// Liveness of the other shards, from their leases.
struct Peers {
    namespace: String,
    base: String,
    shard_count: u32,
    me: u32,
    lease_duration: Duration,
    /// Shard → (resourceVersion last seen, live until).
    seen: HashMap<u32, (String, Instant)>,
}

impl Peers {
    fn new(settings: &MembershipSettings) -> Peers {
        Peers {
            namespace: settings.namespace.clone(),
            base: settings.lease_base.clone(),
            shard_count: settings.shard_count,
            me: settings.shard_index,
            lease_duration: settings.lease_duration,
            seen: HashMap::new(),
        }
    }

    /// The shard a lease name belongs to.
    fn shard_of(&self, name: &str) -> Option<u32> {
        let index: u32 = name
            .strip_prefix(&self.base)?
            .strip_prefix("-shard-")?
            .parse()
            .ok()?;
        (index < self.shard_count
            && index != self.me
            && shard_lease_name(&self.base, index) == name)
            .then_some(index)
    }

    async fn refresh<B: ClusterApi>(&mut self, backend: &B) {
        let leases = match backend.list_leases(&self.namespace).await {
            Ok(leases) => leases,
            Err(error) => {
                tracing::debug!(%error, "cannot list shard leases");
                return;
            }
        };
        let now = Instant::now();
        let mut present = Vec::new();
        for lease in leases {
            let Some(shard) = lease
                .metadata
                .name
                .as_deref()
                .and_then(|n| self.shard_of(n))
            else {
                continue;
            };
            present.push(shard);
            let version = lease.metadata.resource_version.clone().unwrap_or_default();
            let spec = lease.spec.unwrap_or_default();
            let held = spec
                .holder_identity
                .as_deref()
                .is_some_and(|holder| !holder.is_empty());
            let live_until = match self.seen.get(&shard) {
                _ if !held => now,
                Some((seen, until)) if *seen == version => *until,
                Some(_) => now + self.lease_duration,
                None => {
                    // First sight: trust the renew time only as far as it is recent.
                    let age = spec
                        .renew_time
                        .map(|renewed| {
                            let nanos = crate::wall_clock::now()
                                .as_nanosecond()
                                .saturating_sub(renewed.0.as_nanosecond());
                            Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
                        })
                        .unwrap_or(self.lease_duration);
                    now + self.lease_duration.saturating_sub(age)
                }
            };
            self.seen.insert(shard, (version, live_until));
        }
        self.seen.retain(|shard, _| present.contains(shard));
    }

    fn live(&self, now: Instant) -> Vec<u32> {
        let mut live: Vec<u32> = self
            .seen
            .iter()
            .filter(|(_, (_, until))| now < *until)
            .map(|(shard, _)| *shard)
            .collect();
        live.sort_unstable();
        live
    }
}

#[cfg(test)]
mod tests;
