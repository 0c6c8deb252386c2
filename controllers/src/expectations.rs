//! Expectations (Kubernetes' `UIDTrackingControllerExpectations`): what a
//! controller is waiting to see in its cache after its own writes, so it
//! does not create or delete again for a change it already made. A
//! controller acts on a key only while its expectations are satisfied:
//! every create and delete it issued has been observed, or they expired
//! (a lost watch event must not block it forever).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long expectations hold before the controller acts anyway
/// (Kubernetes' `ExpectationsTimeout`).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct Expected {
    creations: i64,
    deletions: HashSet<String>,
    set_at: Instant,
}

/// Pending creations and deletions per controller key. Time is passed in.
#[derive(Debug)]
pub struct Expectations {
    by_key: HashMap<String, Expected>,
    timeout: Duration,
}

impl Default for Expectations {
    fn default() -> Expectations {
        Expectations::new()
    }
}

impl Expectations {
    /// Expectations that expire after [`EXPECTATIONS_TIMEOUT`].
    pub fn new() -> Expectations {
        Expectations::with_timeout(EXPECTATIONS_TIMEOUT)
    }

    pub fn with_timeout(timeout: Duration) -> Expectations {
        Expectations {
            by_key: HashMap::new(),
            timeout,
        }
    }

    /// Whether the controller may act on `key`: nothing pending, or what
    /// is pending expired.
    pub fn satisfied(&self, key: &str, now: Instant) -> bool {
        match self.by_key.get(key) {
            None => true,
            Some(expected) => {
                (expected.creations <= 0 && expected.deletions.is_empty())
                    || now.saturating_duration_since(expected.set_at) > self.timeout
            }
        }
    }

    /// The controller is about to create `count` objects for `key`.
    pub fn expect_creations(&mut self, key: &str, count: usize, now: Instant) {
        let expected = self.entry(key, now);
        expected.creations = i64::try_from(count).unwrap_or(i64::MAX);
    }

    /// The controller is about to delete the pods with these UIDs.
    pub fn expect_deletions(
        &mut self,
        key: &str,
        uids: impl IntoIterator<Item = String>,
        now: Instant,
    ) {
        let expected = self.entry(key, now);
        expected.deletions = uids.into_iter().collect();
    }

    fn entry(&mut self, key: &str, now: Instant) -> &mut Expected {
        let expected = self.by_key.entry(key.to_string()).or_insert(Expected {
            creations: 0,
            deletions: HashSet::new(),
            set_at: now,
        });
        expected.set_at = now;
        expected
    }

    /// One of the expected creations was seen in the cache (or will never
    /// happen: its request failed or was skipped).
    pub fn creation_observed(&mut self, key: &str) {
        if let Some(expected) = self.by_key.get_mut(key) {
            expected.creations -= 1;
        }
    }

    /// The pod `uid` was seen deleted (or its delete failed).
    pub fn deletion_observed(&mut self, key: &str, uid: &str) {
        if let Some(expected) = self.by_key.get_mut(key) {
            expected.deletions.remove(uid);
        }
    }

    /// The controller is gone: forget its key.
    pub fn forget(&mut self, key: &str) {
        self.by_key.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creations_and_deletions_must_be_observed() {
        let start = Instant::now();
        let mut expectations = Expectations::new();
        assert!(expectations.satisfied("ns/web", start));
        expectations.expect_creations("ns/web", 2, start);
        assert!(!expectations.satisfied("ns/web", start));
        expectations.creation_observed("ns/web");
        assert!(!expectations.satisfied("ns/web", start));
        expectations.creation_observed("ns/web");
        assert!(expectations.satisfied("ns/web", start));

        expectations.expect_deletions("ns/web", ["u1".to_string(), "u2".to_string()], start);
        expectations.deletion_observed("ns/web", "u1");
        // The same deletion seen twice counts once.
        expectations.deletion_observed("ns/web", "u1");
        assert!(!expectations.satisfied("ns/web", start));
        expectations.deletion_observed("ns/web", "u2");
        assert!(expectations.satisfied("ns/web", start));
        // Other keys are not affected.
        expectations.expect_creations("ns/db", 1, start);
        assert!(expectations.satisfied("ns/web", start));
        expectations.forget("ns/db");
        assert!(expectations.satisfied("ns/db", start));
    }

    #[test]
    fn expectations_expire() {
        let start = Instant::now();
        let mut expectations = Expectations::with_timeout(Duration::from_secs(10));
        expectations.expect_creations("ns/web", 1, start);
        assert!(!expectations.satisfied("ns/web", start + Duration::from_secs(10)));
        assert!(expectations.satisfied("ns/web", start + Duration::from_secs(11)));
    }
}
