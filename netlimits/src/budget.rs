//! The descriptor budget: raising the soft `RLIMIT_NOFILE` to the hard
//! limit and working out how many connections the servers of a process
//! may hold under it.

use std::io;

/// Descriptors kept out of every connection budget for what a server needs
/// besides its clients: the store's write-ahead log segments (a few open at
/// once, more while a checkpoint deletes old ones), the redb file, the
/// listening sockets, outgoing connections (a scheduler's or kubelet's
/// gRPC channels, an apiserver's peers), the diagnostics side door's
/// connections, log files and the runtime's own descriptors (epoll, event
/// fds, pipes). 256 covers these with room to spare.
pub const RESERVED_FOR_STORE: u64 = 256;

/// The smallest budget handed out, even when the limit minus the reserve is
/// lower: a server holding fewer connections than this is of little use,
/// and what then fails to open is handled by the accept loop's pause.
pub const MIN_CONNECTION_BUDGET: usize = 64;

/// The limit assumed when it cannot be read (the usual default soft limit).
const FALLBACK_SOFT_LIMIT: u64 = 1024;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the new
/// `(soft, hard)`. Call once at start, before any server binds.
pub fn raise_nofile_limit() -> Result<(u64, u64), io::Error> {
    let (soft, hard) = nofile_limit()?;
    if soft < hard {
        rlimit::increase_nofile_limit(hard)?;
    }
    nofile_limit()
}

/// The current `(soft, hard)` `RLIMIT_NOFILE`.
pub fn nofile_limit() -> Result<(u64, u64), io::Error> {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
}

/// How many connections the process's servers may hold together: the soft
/// descriptor limit minus `reserved_for_store`, at least
/// [`MIN_CONNECTION_BUDGET`]. Assumes a soft limit of 1,024 when it cannot be
/// read.
pub fn connection_budget(reserved_for_store: u64) -> usize {
    let soft = match nofile_limit() {
        Ok((soft, _hard)) => soft,
        Err(error) => {
            tracing::warn!(%error, "cannot read RLIMIT_NOFILE; assuming {FALLBACK_SOFT_LIMIT}");
            FALLBACK_SOFT_LIMIT
        }
    };
    budget_for_soft_limit(soft, reserved_for_store)
}

/// [`connection_budget`] for a given soft limit.
pub fn budget_for_soft_limit(soft_limit: u64, reserved_for_store: u64) -> usize {
    let budget = soft_limit.saturating_sub(reserved_for_store);
    usize::try_from(budget)
        .unwrap_or(usize::MAX)
        .max(MIN_CONNECTION_BUDGET)
}

/// Shares `budget` between the servers of one process in proportion to
/// `weights` (rounding down, each share at least 1); e.g. `[3, 1]` gives a
/// process's main face three quarters and its second face one quarter.
pub fn split_budget(budget: usize, weights: &[usize]) -> Vec<usize> {
    let total: usize = weights.iter().sum();
    weights
        .iter()
        .map(|weight| {
            let share = if total == 0 {
                budget / weights.len().max(1)
            } else {
                // Multiplying in u128 cannot overflow for usize inputs.
                let share = budget as u128 * *weight as u128 / total as u128;
                usize::try_from(share).unwrap_or(usize::MAX)
            };
            share.max(1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_the_reserve_and_has_a_floor() {
        assert_eq!(budget_for_soft_limit(1024, RESERVED_FOR_STORE), 768);
        assert_eq!(budget_for_soft_limit(1_048_576, 256), 1_048_320);
        assert_eq!(budget_for_soft_limit(256, 256), MIN_CONNECTION_BUDGET);
        assert_eq!(budget_for_soft_limit(100, 256), MIN_CONNECTION_BUDGET);
    }

    #[test]
    fn budget_splits_by_weight() {
        assert_eq!(split_budget(768, &[3, 1]), vec![576, 192]);
        assert_eq!(split_budget(10, &[1, 1, 1]), vec![3, 3, 3]);
        assert_eq!(split_budget(1, &[3, 1]), vec![1, 1]);
        assert_eq!(split_budget(8, &[0, 0]), vec![4, 4]);
        assert_eq!(split_budget(usize::MAX, &[1]), vec![usize::MAX]);
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let (soft, hard) = raise_nofile_limit().unwrap();
        assert_eq!(soft, hard);
        assert_eq!(nofile_limit().unwrap(), (soft, hard));
        assert!(connection_budget(RESERVED_FOR_STORE) >= MIN_CONNECTION_BUDGET);
    }
}
