//! The elector against a scripted lease record on paused time: when a
//! standby may take a lease over from a holder it can only see through
//! reads.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use api::k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::time::Instant;

use super::{Elector, LeaseApi, LeaseLock};

const LEASE_DURATION: Duration = Duration::from_secs(4);
const RETRY_PERIOD: Duration = Duration::from_millis(250);

fn elector_as(identity: &str) -> Elector {
    Elector::new(LeaseLock {
        namespace: "kube-system".into(),
        name: "skiff-scheduler".into(),
        identity: identity.into(),
        lease_duration: LEASE_DURATION,
        renew_deadline: Duration::from_secs(3),
        retry_period: RETRY_PERIOD,
    })
}

/// One lease record with a resourceVersion counter, and optionally a
/// renewal by its holder that lands in the middle of the next read.
#[derive(Clone, Default)]
struct FakeLeases {
    /// Nothing awaits under this lock.
    state: Arc<Mutex<FakeState>>,
}

#[derive(Default)]
struct FakeState {
    lease: Option<Lease>,
    version: u64,
    /// How long the next read takes; the holder renews halfway through.
    renewal_during_next_read: Option<Duration>,
}

impl FakeLeases {
    fn held_by(holder: &str) -> FakeLeases {
        let fake = FakeLeases::default();
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some("skiff-scheduler".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                lease_duration_seconds: Some(4),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        fake.store(lease);
        fake
    }

    fn store(&self, mut lease: Lease) -> Lease {
        let mut state = self.state();
        state.version += 1;
        lease.metadata.resource_version = Some(state.version.to_string());
        state.lease = Some(lease.clone());
        lease
    }

    /// The holder writes its lease again (a renewal: a new version).
    fn renew_by_holder(&self) {
        if let Some(lease) = self.current() {
            self.store(lease);
        }
    }

    fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(&self) -> Option<Lease> {
        self.state().lease.clone()
    }

    fn holder(&self) -> String {
        self.current()
            .and_then(|lease| lease.spec?.holder_identity)
            .unwrap_or_default()
    }
}

impl LeaseApi for FakeLeases {
    type Error = &'static str;

    async fn get_lease(
        &self,
        _namespace: &str,
        _name: &str,
    ) -> Result<Option<Lease>, &'static str> {
        let slow = self.state().renewal_during_next_read.take();
        if let Some(read_time) = slow {
            tokio::time::sleep(read_time / 2).await;
            self.renew_by_holder();
            tokio::time::sleep(read_time / 2).await;
        }
        Ok(self.current())
    }

    async fn create_lease(&self, lease: &Lease) -> Result<Lease, &'static str> {
        if self.current().is_some() {
            return Err("exists");
        }
        Ok(self.store(lease.clone()))
    }

    async fn update_lease(&self, lease: &Lease) -> Result<Lease, &'static str> {
        let current = self
            .current()
            .and_then(|lease| lease.metadata.resource_version);
        if current != lease.metadata.resource_version {
            return Err("stale resourceVersion");
        }
        Ok(self.store(lease.clone()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_renewal_seen_by_a_slow_read_is_timed_from_when_the_read_returned() {
    let backend = FakeLeases::held_by("leader");
    let mut standby = elector_as("standby");
    let start = Instant::now();
    // The read takes 100 ms; the holder renews 50 ms into it, and then
    // dies. The standby sees that renewal when the read returns.
    backend.state().renewal_during_next_read = Some(Duration::from_millis(100));
    assert!(!standby.try_acquire_or_renew(&backend).await);
    assert_eq!(Instant::now(), start + Duration::from_millis(100));

    // A lease duration after the read began is only 3.95 s after the
    // renewal: too early.
    tokio::time::sleep_until(start + LEASE_DURATION).await;
    assert!(!standby.try_acquire_or_renew(&backend).await);
    assert_eq!(backend.holder(), "leader");

    // A lease duration after the read returned, it takes over.
    tokio::time::sleep_until(start + Duration::from_millis(100) + LEASE_DURATION).await;
    assert!(standby.try_acquire_or_renew(&backend).await);
    assert_eq!(backend.holder(), "standby");
    let spec = backend
        .current()
        .and_then(|lease| lease.spec)
        .unwrap_or_default();
    assert_eq!(spec.lease_transitions, Some(1));
}

#[tokio::test(start_paused = true)]
async fn a_holder_that_keeps_renewing_keeps_its_lease() {
    let backend = FakeLeases::held_by("leader");
    let mut standby = elector_as("standby");
    let start = Instant::now();
    // Four lease durations of renewals once per retry period.
    for round in 1..=64 {
        assert!(!standby.try_acquire_or_renew(&backend).await);
        backend.renew_by_holder();
        tokio::time::sleep_until(start + RETRY_PERIOD * round).await;
    }
    assert_eq!(backend.holder(), "leader");
    // It stops renewing: a lease duration after the last change the
    // standby saw, the lease is the standby's.
    let last_seen = Instant::now();
    assert!(!standby.try_acquire_or_renew(&backend).await);
    tokio::time::sleep_until(last_seen + LEASE_DURATION - RETRY_PERIOD).await;
    assert!(!standby.try_acquire_or_renew(&backend).await);
    tokio::time::sleep_until(last_seen + LEASE_DURATION).await;
    assert!(standby.try_acquire_or_renew(&backend).await);
    assert_eq!(backend.holder(), "standby");
}

#[tokio::test(start_paused = true)]
async fn an_absent_lease_is_created_and_held() {
    let backend = FakeLeases::default();
    let mut elector = elector_as("first");
    assert!(elector.try_acquire_or_renew(&backend).await);
    assert_eq!(backend.holder(), "first");
    let mut second = elector_as("second");
    assert!(!second.try_acquire_or_renew(&backend).await);
    assert_eq!(backend.holder(), "first");
}
