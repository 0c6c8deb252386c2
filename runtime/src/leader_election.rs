//! Leader election over a `coordination.k8s.io/v1` Lease, as client-go's:
//! create the lease if absent; take it over when its holder let it lapse
//! — judged by when this process last *saw* the record change, so clocks
//! need not agree — with an update guarded by resourceVersion; renew every
//! retry period; lead while a renewal succeeded within the renew
//! deadline; release it on shutdown so a standby takes over at once.
//!
//! [`Elector`] works through any [`LeaseApi`]: Skiff's [`client::Client`],
//! or another backend (the scheduler's Kubernetes one).

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use client::Client;
use tokio::time::Instant;

use crate::clock;

/// The lease reads and writes an elector needs.
pub trait LeaseApi: Send + Sync {
    type Error: Display + Send;

    /// The lease, or `None` when it does not exist.
    fn get_lease(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Lease>, Self::Error>> + Send;

    fn create_lease(
        &self,
        lease: &Lease,
    ) -> impl Future<Output = Result<Lease, Self::Error>> + Send;

    /// Replaces the lease, guarded by its resourceVersion.
    fn update_lease(
        &self,
        lease: &Lease,
    ) -> impl Future<Output = Result<Lease, Self::Error>> + Send;
}

impl LeaseApi for Client {
    type Error = client::Error;

    async fn get_lease(&self, namespace: &str, name: &str) -> Result<Option<Lease>, client::Error> {
        match self.get::<Lease>(namespace, name).await {
            Ok(lease) => Ok(Some(lease)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn create_lease(&self, lease: &Lease) -> Result<Lease, client::Error> {
        let namespace = lease.metadata.namespace.clone().unwrap_or_default();
        self.create(&namespace, lease).await
    }

    async fn update_lease(&self, lease: &Lease) -> Result<Lease, client::Error> {
        self.update(lease).await
    }
}

/// Which lease, held as whom, and the timers (client-go's names).
#[derive(Clone, Debug)]
pub struct LeaseLock {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    /// How long a standby waits after it last saw the record change.
    pub lease_duration: Duration,
    /// How long the holder keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often to try to acquire or renew.
    pub retry_period: Duration,
}

/// Acquires and renews one lease.
pub struct Elector {
    lock: LeaseLock,
    /// resourceVersion of the last record seen, and when it was first seen.
    observed: Option<(String, Instant)>,
    /// Last successful acquisition or renewal.
    last_renewed: Option<Instant>,
}

impl Elector {
    pub fn new(lock: LeaseLock) -> Elector {
        Elector {
            lock,
            observed: None,
            last_renewed: None,
        }
    }

    pub fn lock(&self) -> &LeaseLock {
        &self.lock
    }

    /// Whether a renewal succeeded within the renew deadline before `now`.
    pub fn leading(&self, now: Instant) -> bool {
        self.last_renewed
            .is_some_and(|renewed| now < renewed + self.lock.renew_deadline)
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lock.lease_duration.as_secs_f64().ceil() as u64)
            .unwrap_or(i32::MAX)
            .max(1)
    }

    /// One attempt; returns whether this process leads afterwards.
    pub async fn try_acquire_or_renew<A: LeaseApi>(&mut self, api: &A) -> bool {
        let now = Instant::now();
        if self.attempt(api, now).await {
            self.last_renewed = Some(now);
        }
        self.leading(now)
    }

    async fn attempt<A: LeaseApi>(&mut self, api: &A, now: Instant) -> bool {
        let lock = &self.lock;
        let lease = match api.get_lease(&lock.namespace, &lock.name).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return self.create(api, now).await,
            Err(error) => {
                tracing::debug!(%error, lease = %lock.name, "cannot read lease");
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
        let ours = holder == self.lock.identity;
        if !holder.is_empty() && !ours && read_at < observed_at + self.lock.lease_duration {
            return false;
        }
        let wall = MicroTime(clock::now());
        if !ours {
            spec.acquire_time = Some(wall.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            tracing::info!(lease = %self.lock.name, previous = %holder, "taking over lease");
        }
        spec.holder_identity = Some(self.lock.identity.clone());
        spec.lease_duration_seconds = Some(self.lease_seconds());
        spec.renew_time = Some(wall);
        let updated = Lease {
            metadata: lease.metadata.clone(),
            spec: Some(spec),
        };
        match api.update_lease(&updated).await {
            Ok(stored) => {
                self.observed = Some((stored.metadata.resource_version.unwrap_or_default(), now));
                true
            }
            Err(error) => {
                tracing::debug!(%error, lease = %self.lock.name, "lease update lost");
                false
            }
        }
    }

    async fn create<A: LeaseApi>(&mut self, api: &A, now: Instant) -> bool {
        let wall = MicroTime(clock::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.lock.name.clone()),
                namespace: Some(self.lock.namespace.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.lock.identity.clone()),
                lease_duration_seconds: Some(self.lease_seconds()),
                acquire_time: Some(wall.clone()),
                renew_time: Some(wall),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        match api.create_lease(&lease).await {
            Ok(stored) => {
                tracing::info!(lease = %self.lock.name, "created and holding lease");
                self.observed = Some((stored.metadata.resource_version.unwrap_or_default(), now));
                true
            }
            Err(error) => {
                tracing::debug!(%error, lease = %self.lock.name, "cannot create lease");
                false
            }
        }
    }

    /// Gives the lease up (empty holder) if this process holds it.
    pub async fn release<A: LeaseApi>(&mut self, api: &A) {
        if self.last_renewed.is_none() {
            return;
        }
        let Ok(Some(lease)) = api.get_lease(&self.lock.namespace, &self.lock.name).await else {
            return;
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.lock.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(clock::now()));
        let released = Lease {
            metadata: lease.metadata,
            spec: Some(spec),
        };
        match api.update_lease(&released).await {
            Ok(_) => tracing::info!(lease = %self.lock.name, "released lease"),
            Err(error) => tracing::warn!(%error, lease = %self.lock.name, "cannot release lease"),
        }
        self.last_renewed = None;
    }
}

#[cfg(test)]
mod tests;
