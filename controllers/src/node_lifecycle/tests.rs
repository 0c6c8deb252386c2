use super::*;
use api::k8s_openapi::api::coordination::v1::LeaseSpec;
use api::k8s_openapi::api::core::v1::NodeSpec;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use api::k8s_openapi::jiff::SignedDuration;
use api::taints::NO_SCHEDULE;

fn at(seconds: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_secs(1_700_000_000 + seconds)
}

fn node(zone: &str, conditions: &[(&str, &str)]) -> Node {
    let labels = (!zone.is_empty()).then(|| {
        [("topology.kubernetes.io/zone".to_string(), zone.to_string())]
            .into_iter()
            .collect()
    });
    Node {
        metadata: ObjectMeta {
            name: Some("n1".into()),
            labels,
            creation_timestamp: Some(Time(at(0))),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            conditions: Some(
                conditions
                    .iter()
                    .map(|(type_, status)| NodeCondition {
                        type_: type_.to_string(),
                        status: status.to_string(),
                        last_heartbeat_time: Some(Time(at(10))),
                        ..NodeCondition::default()
                    })
                    .collect(),
            ),
            ..NodeStatus::default()
        }),
    }
}

fn beat(mut node: Node, seconds: i64) -> Node {
    for condition in node
        .status
        .as_mut()
        .and_then(|status| status.conditions.as_mut())
        .into_iter()
        .flatten()
    {
        condition.last_heartbeat_time = Some(Time(at(seconds)));
    }
    node
}

fn lease(renewed: i64) -> Lease {
    Lease {
        spec: Some(LeaseSpec {
            renew_time: Some(MicroTime(at(renewed))),
            ..LeaseSpec::default()
        }),
        ..Lease::default()
    }
}

#[test]
fn a_probe_moves_on_a_new_heartbeat_or_a_later_renewal_only() {
    let start = Instant::now();
    let later = start + Duration::from_secs(30);
    let ready = node("", &[("Ready", "True")]);
    let first = observe(None, &ready, Some(&lease(10)), start);
    assert_eq!(first.seen_at, start);
    // Nothing new: the probe keeps its time.
    let same = observe(Some(&first), &ready, Some(&lease(10)), later);
    assert_eq!(same.seen_at, start);
    // The lease renewed.
    assert_eq!(
        observe(Some(&first), &ready, Some(&lease(11)), later).seen_at,
        later
    );
    // An older renewal (a lease re-created with a skewed clock) is none.
    assert_eq!(
        observe(Some(&first), &ready, Some(&lease(5)), later).seen_at,
        start
    );
    // The kubelet posted status.
    assert_eq!(
        observe(Some(&first), &beat(ready.clone(), 20), None, later).seen_at,
        later
    );
    // A node without Ready yet waits for the startup grace period.
    let settings = Settings::default();
    assert_eq!(grace_period(&ready, &settings), settings.grace_period);
    assert_eq!(
        grace_period(&node("", &[]), &settings),
        settings.startup_grace_period
    );
}

#[test]
fn a_silent_node_has_every_monitored_condition_unknown() {
    let ready = node(
        "",
        &[
            ("Ready", "True"),
            ("MemoryPressure", "False"),
            ("NetworkUnavailable", "False"),
        ],
    );
    let status = unknown_status(&ready, at(100)).expect("conditions change");
    let conditions = status.conditions.clone().unwrap_or_default();
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_).cloned();
    let ready_condition = find("Ready").expect("Ready");
    assert_eq!(ready_condition.status, "Unknown");
    assert_eq!(ready_condition.reason.as_deref(), Some("NodeStatusUnknown"));
    assert_eq!(
        ready_condition.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    assert_eq!(ready_condition.last_transition_time, Some(Time(at(100))));
    // The heartbeat time stays the kubelet's last.
    assert_eq!(ready_condition.last_heartbeat_time, Some(Time(at(10))));
    let never = find("DiskPressure").expect("added");
    assert_eq!(never.status, "Unknown");
    assert_eq!(never.reason.as_deref(), Some("NodeStatusNeverUpdated"));
    // Conditions the controller does not monitor are left alone.
    assert_eq!(
        find("NetworkUnavailable").map(|c| c.status),
        Some("False".into())
    );
    // Once Unknown, nothing more to write.
    let mut unknown = ready.clone();
    unknown.status = Some(status);
    assert_eq!(unknown_status(&unknown, at(200)), None);
}

#[test]
fn conditions_call_for_taints() {
    assert_eq!(
        no_execute_taint(readiness(&node("", &[("Ready", "True")]))),
        None
    );
    assert_eq!(
        no_execute_taint(readiness(&node("", &[("Ready", "False")]))),
        Some(taints::NOT_READY)
    );
    assert_eq!(
        no_execute_taint(readiness(&node("", &[("Ready", "Unknown")]))),
        Some(taints::UNREACHABLE)
    );
    assert_eq!(no_execute_taint(readiness(&node("", &[]))), None);
    let mut pressed = node(
        "",
        &[
            ("Ready", "Unknown"),
            ("DiskPressure", "True"),
            ("PIDPressure", "False"),
        ],
    );
    pressed.spec = Some(NodeSpec {
        unschedulable: Some(true),
        ..NodeSpec::default()
    });
    assert_eq!(
        no_schedule_taints(&pressed),
        [
            taints::UNREACHABLE,
            taints::DISK_PRESSURE,
            taints::UNSCHEDULABLE
        ]
    );
}

#[test]
fn managed_taints_are_made_exact_and_others_kept() {
    let mut tainted = node("", &[]);
    tainted.spec = Some(NodeSpec {
        taints: Some(vec![
            taint("dedicated", NO_EXECUTE),
            Taint {
                time_added: Some(Time(at(1))),
                ..taint(taints::NOT_READY, NO_EXECUTE)
            },
            taint(taints::UNREACHABLE, NO_SCHEDULE),
        ]),
        ..NodeSpec::default()
    });
    // not-ready → unreachable: the user's taint stays, the NoSchedule one
    // is another effect and stays too.
    let swapped = with_taints(
        &tainted,
        NO_EXECUTE,
        &MANAGED_NO_EXECUTE,
        &[taints::UNREACHABLE],
        at(50),
    )
    .expect("a change");
    let summary: Vec<(&str, &str, Option<Timestamp>)> = swapped
        .iter()
        .map(|t| {
            (
                t.key.as_str(),
                t.effect.as_str(),
                t.time_added.as_ref().map(|time| time.0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("dedicated", NO_EXECUTE, None),
            (taints::UNREACHABLE, NO_SCHEDULE, None),
            (taints::UNREACHABLE, NO_EXECUTE, Some(at(50))),
        ]
    );
    // Already as wanted: nothing to write, and the time added is kept.
    assert_eq!(
        with_taints(
            &tainted,
            NO_EXECUTE,
            &MANAGED_NO_EXECUTE,
            &[taints::NOT_READY],
            at(60)
        ),
        None
    );
    // Healthy again: the controller's NoExecute taints go.
    let cleared =
        with_taints(&tainted, NO_EXECUTE, &MANAGED_NO_EXECUTE, &[], at(70)).expect("a change");
    assert_eq!(cleared.len(), 2);
    assert!(!cleared.iter().any(|t| t.key == taints::NOT_READY));
    assert!(has_no_execute(&tainted, taints::NOT_READY));
    assert!(!has_no_execute(&tainted, taints::UNREACHABLE));
}

#[test]
fn zones_are_normal_partly_or_fully_disrupted_as_kubernetes_counts() {
    let settings = Settings::default();
    assert_eq!(zone_state(10, 0, &settings), ZoneState::Normal);
    // Two not ready is never a disruption, however small the zone.
    assert_eq!(zone_state(1, 2, &settings), ZoneState::Normal);
    assert_eq!(zone_state(2, 3, &settings), ZoneState::PartialDisruption);
    assert_eq!(zone_state(5, 5, &settings), ZoneState::Normal);
    assert_eq!(zone_state(45, 55, &settings), ZoneState::PartialDisruption);
    assert_eq!(zone_state(0, 1, &settings), ZoneState::FullDisruption);
    assert_eq!(eviction_rate(ZoneState::Normal, 10, &settings), 0.1);
    assert_eq!(
        eviction_rate(ZoneState::PartialDisruption, 51, &settings),
        0.01
    );
    assert_eq!(
        eviction_rate(ZoneState::PartialDisruption, 50, &settings),
        0.0
    );
    assert_eq!(eviction_rate(ZoneState::FullDisruption, 10, &settings), 0.1);

    let a_ready = node("a", &[("Ready", "True")]);
    let a_down = node("a", &[("Ready", "Unknown")]);
    let b_down = node("b", &[("Ready", "False")]);
    let zones = zone_states([&a_ready, &a_down, &b_down], &settings);
    assert_eq!(zones.get(":\u{0}:a"), Some(&(ZoneState::Normal, 2)));
    assert_eq!(zones.get(":\u{0}:b"), Some(&(ZoneState::FullDisruption, 1)));
    assert!(!all_disrupted(&zones));
    assert!(all_disrupted(&zone_states([&a_down, &b_down], &settings)));
    assert!(!all_disrupted(&BTreeMap::new()));
    assert_eq!(zone_of(&node("", &[])), "");
}

#[test]
fn pods_of_a_lost_node_stop_being_ready() {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "p", "namespace": "default"},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"}
        ]}
    }))
    .expect("a pod");
    let status = not_ready_status(&pod, at(5)).expect("a change");
    let conditions = status.conditions.unwrap_or_default();
    assert_eq!(conditions[0].status, "False");
    assert_eq!(conditions[0].reason.as_deref(), Some("NodeNotReady"));
    assert_eq!(conditions[1].status, "True");
    let mut not_ready = pod.clone();
    not_ready.status = Some(PodStatus {
        conditions: Some(conditions),
        ..PodStatus::default()
    });
    assert_eq!(not_ready_status(&not_ready, at(6)), None);
}
