//! The nodes one hollow kubelet simulates: their identities (names
//! `<prefix>-<index>`, addresses, pod CIDRs, zones), which node a name
//! belongs to, and the even spreading of per-node periodic work.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::hollow::HollowConfig;
use crate::node_status::NodeIdentity;

/// The identities of every simulated node, by index.
#[derive(Clone, Debug)]
pub(crate) struct NodeSet {
    prefix: String,
    pub(crate) identities: Vec<NodeIdentity>,
}

impl NodeSet {
    /// Builds the identities from the config (already validated: the CIDRs
    /// hold every node).
    pub(crate) fn new(config: &HollowConfig) -> NodeSet {
        let boot_seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let identities = (0..config.nodes)
            .filter_map(|index| {
                let index_u64 = u64::from(index);
                let pod_cidr = config
                    .cluster_cidr
                    .subnet(config.node_cidr_mask_size, index_u64)?;
                let internal_ip = config.node_ip_range.nth(index_u64 + 1)?;
                let zone = (config.zones > 0).then(|| format!("zone-{}", index % config.zones));
                Some(NodeIdentity::new(
                    node_name(&config.node_prefix, index),
                    internal_ip,
                    pod_cidr,
                    zone,
                    boot_seed,
                ))
            })
            .collect();
        NodeSet {
            prefix: config.node_prefix.clone(),
            identities,
        }
    }

    /// The index of node `name` if this kubelet runs it.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        let index: usize = name
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('-')?
            .parse()
            .ok()?;
        // "n-01" parses as 1 but is not node 1's name.
        (index < self.identities.len() && self.identities[index].name == name).then_some(index)
    }

    pub(crate) fn len(&self) -> usize {
        self.identities.len()
    }
}

/// The name of node `index`: `<prefix>-<index>`.
pub fn node_name(prefix: &str, index: u32) -> String {
    format!("{prefix}-{index}")
}

/// `count` periodic jobs spread evenly over `period`: job `i` is due at
/// `start + round * period + i * period / count`.
#[derive(Debug)]
pub(crate) struct Spread {
    start: Instant,
    period: Duration,
    count: usize,
    /// The next job due.
    cursor: usize,
    round: u64,
}

impl Spread {
    pub(crate) fn new(start: Instant, period: Duration, count: usize) -> Spread {
        Spread {
            start,
            period,
            count: count.max(1),
            cursor: 0,
            round: 0,
        }
    }

    pub(crate) fn next_due(&self) -> Instant {
        let slots = u128::from(self.round) * self.count as u128 + self.cursor as u128;
        let offset_nanos = self.period.as_nanos() * slots / self.count as u128;
        let offset = Duration::from_nanos(u64::try_from(offset_nanos).unwrap_or(u64::MAX));
        self.start + offset
    }

    /// The jobs due at `now`, in order, at most one round's worth. A
    /// schedule more than a period behind (a stalled process) skips ahead
    /// rather than running the missed rounds back to back.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<usize> {
        while self.next_due() + self.period < now {
            self.round += 1;
        }
        let mut due = Vec::new();
        while due.len() < self.count && self.next_due() <= now {
            due.push(self.cursor);
            self.cursor += 1;
            if self.cursor == self.count {
                self.cursor = 0;
                self.round += 1;
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_even_and_skips_stalls() {
        let start = Instant::now();
        let mut spread = Spread::new(start, Duration::from_secs(10), 5);
        assert_eq!(spread.take_due(start), vec![0]);
        assert_eq!(spread.next_due(), start + Duration::from_secs(2));
        assert_eq!(spread.take_due(start + Duration::from_secs(5)), vec![1, 2]);
        assert_eq!(
            spread.take_due(start + Duration::from_secs(12)),
            vec![3, 4, 0, 1]
        );
        // 100 s stalled: one round at most, not ten.
        let late = spread.take_due(start + Duration::from_secs(112));
        assert!(late.len() <= 5, "{late:?}");
    }
}
