//! Leases: leader election for a single scheduler, and shard membership.
//!
//! This process holds one `coordination.k8s.io/v1` Lease (the leader lease,
//! or `<name>-shard-<i>`) through `runtime::leader_election` (client-go's
//! algorithm), and stops scheduling when no renewal succeeded for the
//! renew deadline; it releases the lease on shutdown so a standby takes
//! over at once.
//!
//! Shards also read the other shards' leases every retry period: a shard is
//! live while its lease has a holder and was renewed within the lease
//! duration. The live set decides pod ownership (see `rendezvous`).

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::Lease;
use runtime::leader_election::{Elector, LeaseApi, LeaseLock};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::backend::{ApiError, ClusterApi};
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
    let mut elector = Elector::new(LeaseLock {
        namespace: settings.namespace.clone(),
        name: settings.own_lease.clone(),
        identity: settings.identity.clone(),
        lease_duration: settings.lease_duration,
        renew_deadline: settings.renew_deadline,
        retry_period: settings.retry_period,
    });
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
            elector.release(&Leases(&backend)).await;
            return;
        }
        let leading = elector.try_acquire_or_renew(&Leases(&backend)).await;
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

/// The backend's lease calls, as the elector needs them.
struct Leases<'a, B>(&'a B);

impl<B: ClusterApi> LeaseApi for Leases<'_, B> {
    type Error = ApiError;

    async fn get_lease(&self, namespace: &str, name: &str) -> Result<Option<Lease>, ApiError> {
        match self.0.get_lease(namespace, name).await {
            Ok(lease) => Ok(Some(lease)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn create_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        self.0.create_lease(lease).await
    }

    async fn update_lease(&self, lease: &Lease) -> Result<Lease, ApiError> {
        self.0.update_lease(lease).await
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
                            let nanos = runtime::clock::now()
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
