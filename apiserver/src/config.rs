//! Apiserver configuration: every option with its default, in one place.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use store::Store;

/// Largest request body accepted (an object, a patch, a batch), as Kubernetes' 3 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// How the apiserver runs. Build with [`Config::new`] and adjust fields.
#[derive(Clone)]
pub struct Config {
    /// The store every object lives in; several apiservers may share one.
    pub store: Arc<dyn Store>,
    /// Service cluster IPs are allocated from this IPv4 range.
    pub service_cluster_ip_range: Ipv4Net,
    /// NodePorts are allocated from this inclusive range.
    pub service_node_port_range: (u16, u16),
    /// Events expire this long after their last update.
    pub event_ttl: Duration,
    /// Events kept per resource in the watch cache's window; a watch may start
    /// from any resourceVersion inside it without touching the store, and a
    /// watcher that falls further behind is closed with a "too old, relist"
    /// error.
    pub watch_window_events: usize,
    /// How long a watch from a resourceVersion the store has not reached
    /// waits for it before failing with "Too large resource version".
    pub future_revision_wait: Duration,
    /// How often watchers that asked for bookmarks get one.
    pub bookmark_interval: Duration,
    /// Largest request accepted, in bytes.
    pub max_request_bytes: usize,
    /// Requests served at once; over gRPC more wait, over REST more are
    /// answered 429.
    pub max_in_flight_requests: usize,
    /// Connections the REST face keeps open at once; more are closed on
    /// accept. Keep it below the process's descriptor limit.
    pub max_connections: usize,
    /// Connections the gRPC face keeps open at once; more are closed on
    /// accept. Both faces' caps are also held under the process's
    /// descriptor budget (`netlimits::connection_budget`).
    pub grpc_max_connections: usize,
    /// A new connection must send its first bytes within this, or it is
    /// closed: the whole HTTP/2 preface on the gRPC face, one byte on the
    /// REST face (where a TLS handshake must then finish within
    /// `handshake_timeout`).
    pub first_byte_timeout: Duration,
    /// A gRPC connection on which no byte moved either way for this long is
    /// closed (`None`: never). HTTP/2 pings every `keep_alive_interval` keep
    /// a live peer busy, so this closes only peers that stalled in the
    /// handshake or stopped answering.
    pub grpc_idle_timeout: Option<Duration>,
    /// Counters of the gRPC face's connections (open, refused at the cap,
    /// timed out), for tests and metrics.
    pub grpc_connections: Arc<netlimits::ConnectionStats>,
    /// Counters of the REST face's connections.
    pub rest_connections: Arc<netlimits::ConnectionStats>,
    /// A TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// A request's headers must arrive within this (also bounds an idle
    /// HTTP/1.1 keep-alive connection).
    pub header_read_timeout: Duration,
    /// HTTP/2 connections are pinged this often; one that does not answer
    /// within as long is closed.
    pub keep_alive_interval: Duration,
    /// Reject binds and creates with `spec.nodeName` that would exceed the
    /// node's allocatable, reuse a host port or break required hostname
    /// anti-affinity (on by default). Off, they are accepted as Kubernetes
    /// does and only the kubelet's admission checks them; node usage
    /// records are kept either way.
    pub bind_arbiter: bool,
    /// Where the PKI (CA, serving certificate), the ServiceAccount signing
    /// key, the admin kubeconfig and the components' kubeconfigs live;
    /// created on first start. Required to serve either face over TLS;
    /// with it the gRPC face speaks TLS and authenticates and authorizes
    /// every request, unless `grpc_plain_http`.
    pub security_dir: Option<PathBuf>,
    /// Serve gRPC over plain HTTP/2, every request trusted as the
    /// apiserver's own loopback user (`system:masters`); loopback addresses
    /// only. Always so without a `security_dir`.
    pub grpc_plain_http: bool,
    /// Host names and IPs the serving certificate names besides loopback.
    pub serving_hosts: Vec<String>,
    /// kube-apiserver's `--token-auth-file`: `token,user,uid,"groups"` lines.
    pub token_auth_file: Option<PathBuf>,
    /// Usage samples kubelets report (`metrics.k8s.io`) are served for this
    /// long after they arrive; a node that stops reporting drops out.
    pub metrics_sample_ttl: Duration,
}

impl Config {
    pub fn new(store: Arc<dyn Store>) -> Config {
        Config {
            store,
            service_cluster_ip_range: Ipv4Net {
                addr: Ipv4Addr::new(127, 96, 0, 0),
                prefix_len: 12,
            },
            service_node_port_range: (30000, 32767),
            event_ttl: Duration::from_secs(3600),
            watch_window_events: 50_000,
            bookmark_interval: Duration::from_secs(60),
            future_revision_wait: Duration::from_secs(3),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_in_flight_requests: 1024,
            max_connections: 4096,
            grpc_max_connections: 4096,
            first_byte_timeout: Duration::from_secs(10),
            grpc_idle_timeout: Some(Duration::from_secs(300)),
            grpc_connections: Arc::default(),
            rest_connections: Arc::default(),
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            keep_alive_interval: Duration::from_secs(30),
            bind_arbiter: true,
            security_dir: None,
            grpc_plain_http: false,
            serving_hosts: Vec::new(),
            token_auth_file: None,
            metrics_sample_ttl: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("service_cluster_ip_range", &self.service_cluster_ip_range)
            .field("service_node_port_range", &self.service_node_port_range)
            .field("event_ttl", &self.event_ttl)
            .field("watch_window_events", &self.watch_window_events)
            .field("bookmark_interval", &self.bookmark_interval)
            .field("future_revision_wait", &self.future_revision_wait)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_in_flight_requests", &self.max_in_flight_requests)
            .field("max_connections", &self.max_connections)
            .field("grpc_max_connections", &self.grpc_max_connections)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("grpc_idle_timeout", &self.grpc_idle_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("keep_alive_interval", &self.keep_alive_interval)
            .field("bind_arbiter", &self.bind_arbiter)
            .field("security_dir", &self.security_dir)
            .field("grpc_plain_http", &self.grpc_plain_http)
            .field("serving_hosts", &self.serving_hosts)
            .field("token_auth_file", &self.token_auth_file)
            .field("metrics_sample_ttl", &self.metrics_sample_ttl)
            .finish_non_exhaustive()
    }
}

/// An IPv4 network in CIDR form, e.g. `127.96.0.0/12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid IPv4 CIDR {0:?}: expected a.b.c.d/n with n in 8..=30")]
pub struct CidrParseError(pub String);

impl std::str::FromStr for Ipv4Net {
    type Err = CidrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || CidrParseError(text.to_string());
        let (addr, len) = text.split_once('/').ok_or_else(error)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| error())?;
        let prefix_len: u8 = len.parse().map_err(|_| error())?;
        if !(8..=30).contains(&prefix_len) {
            return Err(error());
        }
        let mask = u32::MAX << (32 - prefix_len);
        Ok(Ipv4Net {
            addr: Ipv4Addr::from(u32::from(addr) & mask),
            prefix_len,
        })
    }
}

impl Ipv4Net {
    /// Number of addresses, network and broadcast included.
    pub fn size(&self) -> u32 {
        1u32 << (32 - self.prefix_len)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.prefix_len);
        u32::from(ip) & mask == u32::from(self.addr)
    }

    /// The `offset`-th address of the network.
    pub fn nth(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr).wrapping_add(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks_cidr() {
        let net: Ipv4Net = "127.96.1.2/12".parse().unwrap();
        assert_eq!(net.addr, Ipv4Addr::new(127, 96, 0, 0));
        assert_eq!(net.size(), 1 << 20);
        assert!(net.contains(Ipv4Addr::new(127, 100, 0, 1)));
        assert!(!net.contains(Ipv4Addr::new(127, 112, 0, 1)));
        assert!("10.0.0.0".parse::<Ipv4Net>().is_err());
        assert!("10.0.0.0/31".parse::<Ipv4Net>().is_err());
    }
}
