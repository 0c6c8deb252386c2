//! The connection limits of the apiserver's two faces: each face's cap is
//! the configured one, held under its share of the process's descriptor
//! budget (the soft `RLIMIT_NOFILE` minus what the store and outgoing
//! connections need), so idle clients can never take the descriptors the
//! store's write-ahead log and checkpoints open.

use std::time::Duration;

use netlimits::Limits;

use crate::Config;

/// Pause after an accept error such as EMFILE before accepting again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Shares of the budget when both faces are served: Skiff's components
/// (every scheduler and kubelet connection) use gRPC, people and kubectl
/// use REST.
const GRPC_SHARE: usize = 3;
const REST_SHARE: usize = 1;

/// The limits of each face.
pub(crate) struct FaceLimits {
    pub(crate) grpc: Limits,
    pub(crate) rest: Limits,
}

/// The limits under the process's current descriptor limit.
pub(crate) fn face_limits(config: &Config, serves_rest: bool) -> FaceLimits {
    let budget = netlimits::connection_budget(netlimits::RESERVED_FOR_STORE);
    face_limits_for_budget(config, serves_rest, budget)
}

fn face_limits_for_budget(config: &Config, serves_rest: bool, budget: usize) -> FaceLimits {
    let (grpc_share, rest_share) = if serves_rest {
        match netlimits::split_budget(budget, &[GRPC_SHARE, REST_SHARE])[..] {
            [grpc, rest] => (grpc, rest),
            _ => (budget, budget),
        }
    } else {
        (budget, budget)
    };
    let grpc_max_connections = capped("gRPC", config.grpc_max_connections, grpc_share);
    let rest_max_connections = if serves_rest {
        capped("REST", config.max_connections, rest_share)
    } else {
        config.max_connections.min(rest_share).max(1)
    };
    FaceLimits {
        grpc: Limits {
            max_connections: grpc_max_connections,
            first_bytes: netlimits::HTTP2_PREFACE_LEN,
            first_bytes_timeout: config.first_byte_timeout,
            idle_timeout: config.grpc_idle_timeout,
            accept_error_pause: ACCEPT_ERROR_PAUSE,
        },
        // No idle timeout on REST: an HTTP/1.1 watch may be quiet for
        // minutes; hyper's header read timeout bounds an idle keep-alive
        // connection and HTTP/2 pings a dead one.
        rest: Limits {
            max_connections: rest_max_connections,
            first_bytes: 1,
            first_bytes_timeout: config.first_byte_timeout,
            idle_timeout: None,
            accept_error_pause: ACCEPT_ERROR_PAUSE,
        },
    }
}

fn capped(face: &str, configured: usize, share: usize) -> usize {
    if configured > share {
        tracing::info!(
            face,
            configured,
            share,
            "connection cap lowered to this face's share of the descriptor budget"
        );
    }
    configured.min(share).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_stay_under_the_budget_share() {
        let mut config = Config::new(
            store::open(&store::Backend::Memory, store::StoreConfig::default()).unwrap(),
        );
        config.grpc_max_connections = 4096;
        config.max_connections = 4096;
        // A soft limit of 1,024 leaves 768 for connections.
        let limits = face_limits_for_budget(&config, true, 768);
        assert_eq!(limits.grpc.max_connections, 576);
        assert_eq!(limits.rest.max_connections, 192);
        assert_eq!(limits.grpc.first_bytes, netlimits::HTTP2_PREFACE_LEN);
        let alone = face_limits_for_budget(&config, false, 768);
        assert_eq!(alone.grpc.max_connections, 768);
        config.grpc_max_connections = 50;
        assert_eq!(
            face_limits_for_budget(&config, true, 768)
                .grpc
                .max_connections,
            50
        );
    }
}
