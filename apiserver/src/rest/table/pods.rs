//! The pod printer: READY from container statuses and STATUS as kubectl
//! computes it (pod reason, scheduling gates, init container progress,
//! waiting and terminated reasons, sidecars, `Terminating`), RESTARTS with
//! the time since the last restart, and the wide columns.

use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::descriptions as doc;
use super::fields::{boolean, integer, is_deleting, items, name, text};
use super::{Column, Printer, age};

/// The pod printer, for `pods`.
pub(super) fn printer(plural: &str) -> Option<&'static Printer> {
    (plural == "pods").then_some(&POD_PRINTER)
}

const POD_COLUMNS: &[Column] = &[
    Column::name(),
    Column::new("Ready", "string", doc::POD_READY),
    Column::new("Status", "string", doc::POD_STATUS),
    Column::new("Restarts", "string", doc::POD_RESTARTS),
    Column::age(),
    Column::new("IP", "string", doc::POD_IP).wide(),
    Column::new("Node", "string", doc::POD_NODE_NAME).wide(),
    Column::new("Nominated Node", "string", doc::POD_NOMINATED_NODE_NAME).wide(),
    Column::new("Readiness Gates", "string", doc::POD_READINESS_GATES).wide(),
];

const POD_PRINTER: Printer = Printer {
    columns: POD_COLUMNS,
    cells: pod_cells,
    conditions: Some(pod_row_conditions),
};

/// A finished pod's row is marked `Completed`.
fn pod_row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match text(&pod["status"]["phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// Restart counts and the latest restart, summed over some containers.
#[derive(Default)]
struct Restarts {
    count: i64,
    latest: Option<Timestamp>,
}

impl Restarts {
    fn add(&mut self, container_status: &Value) {
        self.count += integer(&container_status["restartCount"]);
        let finished = age::parse_time(&container_status["lastState"]["terminated"]["finishedAt"]);
        if finished > self.latest {
            self.latest = finished;
        }
    }
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let init_specs = items(&spec["initContainers"]);
    let is_sidecar = |container_name: &str| {
        init_specs.iter().any(|init| {
            text(&init["name"]) == container_name && text(&init["restartPolicy"]) == "Always"
        })
    };
    let sidecar_count = init_specs
        .iter()
        .filter(|init| text(&init["restartPolicy"]) == "Always")
        .count();
    let total_containers = items(&spec["containers"]).len() + sidecar_count;
    let mut ready_containers = 0usize;
    let mut all_restarts = Restarts::default();
    let mut sidecar_restarts = Restarts::default();

    let phase = text(&status["phase"]);
    let mut reason = match text(&status["reason"]) {
        "" => phase.to_string(),
        pod_reason => pod_reason.to_string(),
    };
    let conditions = items(&status["conditions"]);
    if conditions.iter().any(|condition| {
        text(&condition["type"]) == "PodScheduled"
            && text(&condition["reason"]) == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_string();
    }

    let mut initializing = false;
    for (index, container) in items(&status["initContainerStatuses"]).iter().enumerate() {
        let container_name = text(&container["name"]);
        all_restarts.add(container);
        if is_sidecar(container_name) {
            sidecar_restarts.add(container);
        }
        let terminated = &container["state"]["terminated"];
        let waiting = &container["state"]["waiting"];
        if terminated.is_object() && integer(&terminated["exitCode"]) == 0 {
            continue;
        }
        if is_sidecar(container_name) && boolean(&container["started"]) {
            if boolean(&container["ready"]) {
                ready_containers += 1;
            }
            continue;
        }
        reason = if terminated.is_object() {
            match text(&terminated["reason"]) {
                "" if integer(&terminated["signal"]) != 0 => {
                    format!("Init:Signal:{}", integer(&terminated["signal"]))
                }
                "" => format!("Init:ExitCode:{}", integer(&terminated["exitCode"])),
                terminated_reason => format!("Init:{terminated_reason}"),
            }
        } else if waiting.is_object() && !matches!(text(&waiting["reason"]), "" | "PodInitializing")
        {
            format!("Init:{}", text(&waiting["reason"]))
        } else {
            format!("Init:{index}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    let initialized = conditions.iter().any(|condition| {
        text(&condition["type"]) == "Initialized" && text(&condition["status"]) == "True"
    });
    let mut restarts = all_restarts;
    if !initializing || initialized {
        restarts = sidecar_restarts;
        let mut has_running = false;
        for container in items(&status["containerStatuses"]).iter().rev() {
            restarts.add(container);
            let waiting = &container["state"]["waiting"];
            let terminated = &container["state"]["terminated"];
            if waiting.is_object() && !text(&waiting["reason"]).is_empty() {
                reason = text(&waiting["reason"]).to_string();
            } else if terminated.is_object() && !text(&terminated["reason"]).is_empty() {
                reason = text(&terminated["reason"]).to_string();
            } else if terminated.is_object() {
                reason = if integer(&terminated["signal"]) != 0 {
                    format!("Signal:{}", integer(&terminated["signal"]))
                } else {
                    format!("ExitCode:{}", integer(&terminated["exitCode"]))
                };
            } else if boolean(&container["ready"]) && container["state"]["running"].is_object() {
                has_running = true;
                ready_containers += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions.iter().any(|condition| {
                text(&condition["type"]) == "Ready" && text(&condition["status"]) == "True"
            });
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    if is_deleting(pod) && text(&status["reason"]) == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && !matches!(phase, "Succeeded" | "Failed") {
        reason = "Terminating".to_string();
    }

    let restarts_text = match restarts.latest {
        Some(latest) if restarts.count != 0 => {
            format!("{} ({} ago)", restarts.count, age::between(latest, now))
        }
        _ => restarts.count.to_string(),
    };

    let pod_ip = match items(&status["podIPs"])
        .first()
        .map(|entry| text(&entry["ip"]))
    {
        Some(ip) if !ip.is_empty() => ip,
        _ => "<none>",
    };
    let node_name = super::fields::text_or(&spec["nodeName"], "<none>");
    let nominated_node_name = super::fields::text_or(&status["nominatedNodeName"], "<none>");
    let gates = items(&spec["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_conditions = gates
            .iter()
            .filter(|gate| {
                conditions
                    .iter()
                    .find(|condition| condition["type"] == gate["conditionType"])
                    .is_some_and(|condition| text(&condition["status"]) == "True")
            })
            .count();
        format!("{true_conditions}/{}", gates.len())
    };

    vec![
        json!(name(pod)),
        json!(format!("{ready_containers}/{total_containers}")),
        json!(reason),
        json!(restarts_text),
        json!(age::since(&pod["metadata"]["creationTimestamp"], now)),
        json!(pod_ip),
        json!(node_name),
        json!(nominated_node_name),
        json!(readiness_gates),
    ]
}
