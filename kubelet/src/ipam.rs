//! Addresses: IPv4 CIDRs, the per-node pod CIDR carved out of the cluster
//! CIDR, and the pod IP allocator of one node (host-local IPAM: the network
//! address and the gateway `.1` are never handed out, nor the broadcast
//! address).

use std::net::Ipv4Addr;

/// An IPv4 network in CIDR form, e.g. `10.0.0.0/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Cidr {
    /// The network address (host bits zero).
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

/// A string that is not an IPv4 CIDR.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid IPv4 CIDR {0:?}: expected a.b.c.d/n with n in 1..=30")]
pub struct CidrParseError(pub String);

impl std::str::FromStr for Ipv4Cidr {
    type Err = CidrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || CidrParseError(text.to_string());
        let (addr, len) = text.split_once('/').ok_or_else(error)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| error())?;
        let prefix_len: u8 = len.parse().map_err(|_| error())?;
        if !(1..=30).contains(&prefix_len) {
            return Err(error());
        }
        Ok(Ipv4Cidr::new(addr, prefix_len))
    }
}

impl std::fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl Ipv4Cidr {
    /// The network of `addr` with `prefix_len` bits (host bits cleared).
    /// `prefix_len` must be in 1..=32.
    pub fn new(addr: Ipv4Addr, prefix_len: u8) -> Ipv4Cidr {
        let prefix_len = prefix_len.clamp(1, 32);
        Ipv4Cidr {
            addr: Ipv4Addr::from(u32::from(addr) & mask(prefix_len)),
            prefix_len,
        }
    }

    /// Number of addresses, network and broadcast included.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix_len))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix_len) == u32::from(self.addr)
    }

    /// The `offset`-th address of the network, if inside it.
    pub fn nth(&self, offset: u64) -> Option<Ipv4Addr> {
        if offset >= self.size() {
            return None;
        }
        let offset = u32::try_from(offset).ok()?;
        Some(Ipv4Addr::from(u32::from(self.addr).wrapping_add(offset)))
    }

    /// The `index`-th subnet of `subnet_prefix_len` bits, if it fits.
    pub fn subnet(&self, subnet_prefix_len: u8, index: u64) -> Option<Ipv4Cidr> {
        if subnet_prefix_len < self.prefix_len || subnet_prefix_len > 32 {
            return None;
        }
        let count = 1u64 << (subnet_prefix_len - self.prefix_len);
        if index >= count {
            return None;
        }
        let step = 1u64 << (32 - u32::from(subnet_prefix_len));
        let addr = self.nth(index * step)?;
        Some(Ipv4Cidr::new(addr, subnet_prefix_len))
    }

    /// How many subnets of `subnet_prefix_len` bits it holds.
    pub fn subnet_count(&self, subnet_prefix_len: u8) -> u64 {
        if subnet_prefix_len < self.prefix_len || subnet_prefix_len > 32 {
            return 0;
        }
        1u64 << (subnet_prefix_len - self.prefix_len)
    }
}

fn mask(prefix_len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix_len))
        .unwrap_or(0)
}

/// Pod IPs of one node, as host-local IPAM hands them out: the lowest free
/// address from `.2` up to the last address before broadcast.
#[derive(Clone, Debug)]
pub struct PodIpAllocator {
    cidr: Ipv4Cidr,
    /// One bit per address of the CIDR; set = in use.
    used: Vec<u64>,
    /// Addresses handed out now.
    in_use: u32,
}

/// The first address handed to pods (`.0` is the network, `.1` the gateway).
const FIRST_POD_OFFSET: u64 = 2;

impl PodIpAllocator {
    pub fn new(cidr: Ipv4Cidr) -> PodIpAllocator {
        // A node's pod CIDR is at most a /16 in practice; cap the bitmap so a
        // wide CIDR cannot make it huge.
        let size = cidr.size().min(1 << 16);
        let words = usize::try_from(size.div_ceil(64)).unwrap_or(1024);
        PodIpAllocator {
            cidr,
            used: vec![0; words],
            in_use: 0,
        }
    }

    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// Addresses in use.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    fn last_offset(&self) -> u64 {
        // Exclusive: the broadcast address is never handed out.
        (self.cidr.size().min(1 << 16)).saturating_sub(1)
    }

    /// The lowest free address, now marked used; `None` when exhausted.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let last = self.last_offset();
        for (word_index, word) in self.used.iter_mut().enumerate() {
            if *word == u64::MAX {
                continue;
            }
            let mut free = !*word;
            while free != 0 {
                let bit = u64::from(free.trailing_zeros());
                let offset = word_index as u64 * 64 + bit;
                if offset >= last {
                    return None;
                }
                if offset >= FIRST_POD_OFFSET {
                    *word |= 1 << bit;
                    self.in_use += 1;
                    return self.cidr.nth(offset);
                }
                free &= !(1 << bit);
            }
        }
        None
    }

    /// Marks `ip` used (a pod found running after a restart). False if it is
    /// outside the CIDR, reserved, or already used.
    pub fn claim(&mut self, ip: Ipv4Addr) -> bool {
        let Some((word, bit)) = self.position(ip) else {
            return false;
        };
        if self.used[word] & (1 << bit) != 0 {
            return false;
        }
        self.used[word] |= 1 << bit;
        self.in_use += 1;
        true
    }

    /// Returns `ip` to the pool; unknown addresses are ignored.
    pub fn release(&mut self, ip: Ipv4Addr) {
        if let Some((word, bit)) = self.position(ip)
            && self.used[word] & (1 << bit) != 0
        {
            self.used[word] &= !(1 << bit);
            self.in_use -= 1;
        }
    }

    fn position(&self, ip: Ipv4Addr) -> Option<(usize, u32)> {
        if !self.cidr.contains(ip) {
            return None;
        }
        let offset = u64::from(u32::from(ip) - u32::from(self.cidr.addr));
        if offset < FIRST_POD_OFFSET || offset >= self.last_offset() {
            return None;
        }
        let word = usize::try_from(offset / 64).ok()?;
        let bit = u32::try_from(offset % 64).ok()?;
        Some((word, bit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_carves_subnets() {
        let cluster: Ipv4Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(cluster.addr, Ipv4Addr::new(10, 0, 0, 0));
        assert_eq!(cluster.subnet_count(24), 65536);
        assert_eq!(cluster.subnet(24, 258).unwrap().to_string(), "10.1.2.0/24");
        assert_eq!(cluster.subnet(24, 65536), None);
        assert_eq!(cluster.subnet(7, 0), None);
        assert!("10.0.0.0".parse::<Ipv4Cidr>().is_err());
        assert!("10.0.0.0/31".parse::<Ipv4Cidr>().is_err());
        assert!("10.0.0.300/8".parse::<Ipv4Cidr>().is_err());
    }

    #[test]
    fn allocates_lowest_free_and_skips_reserved() {
        let mut ips = PodIpAllocator::new("10.0.5.0/29".parse().unwrap());
        let got: Vec<_> = std::iter::from_fn(|| ips.allocate()).collect();
        // .0 network, .1 gateway, .7 broadcast.
        let expected: Vec<Ipv4Addr> = (2..7).map(|i| Ipv4Addr::new(10, 0, 5, i)).collect();
        assert_eq!(got, expected);
        assert_eq!(ips.in_use(), 5);
        ips.release(Ipv4Addr::new(10, 0, 5, 4));
        assert_eq!(ips.allocate(), Some(Ipv4Addr::new(10, 0, 5, 4)));
        ips.release(Ipv4Addr::new(10, 0, 5, 3));
        assert!(ips.claim(Ipv4Addr::new(10, 0, 5, 3)));
        assert!(!ips.claim(Ipv4Addr::new(10, 0, 5, 3)), "already used");
        assert!(!ips.claim(Ipv4Addr::new(10, 0, 5, 1)), "gateway");
        assert!(!ips.claim(Ipv4Addr::new(10, 0, 6, 3)), "outside");
        assert_eq!(ips.allocate(), None);
    }
}
