//! Taints and tolerations as Kubernetes matches them, and the taints its
//! controllers put on nodes (`k8s.io/api/core/v1/well_known_taints.go`).

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// The node's Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The node's Ready condition is Unknown (its kubelet stopped reporting).
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `spec.unschedulable` is set (`kubectl cordon`).
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";

/// Does `toleration` tolerate `taint` (Kubernetes' `ToleratesTaint`)?
/// Effects match or the toleration names none; keys match, or the
/// toleration names none and uses `Exists`; values match for `Equal`.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        // An empty key with Equal tolerates nothing (validation refuses it).
        "Equal" | "" => {
            !key.is_empty()
                && toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// Does some toleration of `tolerations` tolerate `taint`?
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations
        .iter()
        .any(|toleration| tolerates(toleration, taint))
}

/// A taint with no value, as the node controllers add them.
pub fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_string(),
        effect: effect.to_string(),
        ..Taint::default()
    }
}

/// An `Exists` toleration of `key` with `effect`.
pub fn exists(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        ..Toleration::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: some(key),
            operator: some(operator),
            value: some(value),
            effect: some(effect),
            toleration_seconds: None,
        }
    }

    #[test]
    fn tolerations_match_as_kubernetes_matches_them() {
        let taint = Taint {
            key: "dedicated".to_string(),
            value: Some("gpu".to_string()),
            effect: NO_SCHEDULE.to_string(),
            time_added: None,
        };
        assert!(tolerates(
            &toleration("dedicated", "Equal", "gpu", "NoSchedule"),
            &taint
        ));
        assert!(tolerates(&toleration("dedicated", "", "gpu", ""), &taint));
        assert!(tolerates(
            &toleration("dedicated", "Exists", "", ""),
            &taint
        ));
        assert!(tolerates(&toleration("", "Exists", "", ""), &taint));
        assert!(tolerates(
            &toleration("", "Exists", "", "NoSchedule"),
            &taint
        ));
        assert!(!tolerates(
            &toleration("", "Exists", "", "NoExecute"),
            &taint
        ));
        assert!(!tolerates(
            &toleration("dedicated", "Equal", "cpu", ""),
            &taint
        ));
        assert!(!tolerates(&toleration("other", "Exists", "", ""), &taint));
        assert!(!tolerates(&toleration("", "Equal", "gpu", ""), &taint));
        assert!(!tolerates(
            &toleration("dedicated", "Lt", "gpu", ""),
            &taint
        ));
        assert!(tolerated(
            &[
                toleration("other", "Exists", "", ""),
                toleration("dedicated", "Exists", "", "")
            ],
            &taint
        ));
        assert!(!tolerated(&[], &taint));
    }
}
