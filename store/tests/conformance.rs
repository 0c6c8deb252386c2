//! One test binary for the store: the backend-independent conformance suite
//! (`suite`), run once per backend by `backend_tests!`, plus redb-only
//! durability and write-ahead log tests, and a property test against a
//! naive model.
//!
//! A new backend (etcd) adds one `backend_tests!` line with its factory.

// This whole crate is test code: a panic is a test failure, so helpers
// outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "conformance/durability.rs"]
mod durability;
#[path = "conformance/model.rs"]
mod model;
#[path = "conformance/suite.rs"]
mod suite;
#[path = "conformance/wal.rs"]
mod wal;

use std::sync::Arc;
use std::time::Duration;

use store::{Backend, Store, StoreConfig};

/// Opens stores of one backend; a durable factory reopens the same directory.
pub(crate) struct Factory {
    backend: Backend,
    /// Keeps the data directory alive for the test's duration.
    _dir: tempfile::TempDir,
}

impl Factory {
    pub(crate) fn memory() -> Factory {
        Factory {
            backend: Backend::Memory,
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn redb() -> Factory {
        let dir = tempfile::tempdir().unwrap();
        Factory {
            backend: Backend::Redb {
                data_dir: dir.path().join("data"),
            },
            _dir: dir,
        }
    }

    pub(crate) fn open(&self, config: StoreConfig) -> Arc<dyn Store> {
        store::open(&self.backend, config).unwrap()
    }
}

/// Short timers for tests; automatic compaction off.
pub(crate) fn test_config() -> StoreConfig {
    StoreConfig {
        lease_check_interval: Duration::from_millis(10),
        auto_compact_retain_revisions: 0,
        auto_compact_interval: Duration::from_millis(10),
        ..StoreConfig::default()
    }
}

macro_rules! backend_tests {
    ($backend:ident, $factory:expr, [$($test:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::suite::$test(&$factory).await;
                }
            )*
        }
    };
}

macro_rules! all_backend_tests {
    ($backend:ident, $factory:expr) => {
        backend_tests!(
            $backend,
            $factory,
            [
                revisions_and_versions,
                range_paging,
                get_at_old_revision,
                explicit_compaction,
                automatic_compaction,
                txn_all_or_nothing,
                compare_kinds,
                watch_ordering_under_concurrent_writers,
                watch_replays_history,
                slow_watcher_catches_up,
                slow_watcher_gets_compacted,
                lease_expiry_deletes_keys,
                lease_revoke_deletes_keys,
                lease_keep_alive_keeps_keys,
            ]
        );
    };
}

all_backend_tests!(memory, crate::Factory::memory());
all_backend_tests!(redb, crate::Factory::redb());
