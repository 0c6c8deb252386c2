//! Printers of workload kinds: deployments, replica sets, replication
//! controllers, stateful sets, daemon sets, jobs, cron jobs, horizontal pod
//! autoscalers and pod disruption budgets.

use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::descriptions as doc;
use super::fields::{
    container_cells, format_label_selector, format_labels, int_or_string, integer, is_deleting,
    items, label_selector_text, name, quantity, text,
};
use super::{Column, Printer, age};

/// The printer of a workload plural, if it has one here.
pub(super) fn printer(plural: &str) -> Option<&'static Printer> {
    Some(match plural {
        "deployments" => &DEPLOYMENT_PRINTER,
        "replicasets" => &REPLICA_SET_PRINTER,
        "replicationcontrollers" => &REPLICATION_CONTROLLER_PRINTER,
        "statefulsets" => &STATEFUL_SET_PRINTER,
        "daemonsets" => &DAEMON_SET_PRINTER,
        "jobs" => &JOB_PRINTER,
        "cronjobs" => &CRON_JOB_PRINTER,
        "horizontalpodautoscalers" => &HPA_PRINTER,
        "poddisruptionbudgets" => &PDB_PRINTER,
        _ => return None,
    })
}

fn created(object: &Value, now: Timestamp) -> Value {
    json!(age::since(&object["metadata"]["creationTimestamp"], now))
}

/// `spec.replicas`, 1 when unset as Kubernetes defaults it.
fn desired_replicas(object: &Value) -> i64 {
    object["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// The container and image cells of a pod template.
fn template_cells(template: &Value) -> [Value; 2] {
    let (names, images) = container_cells(&template["spec"]["containers"]);
    [json!(names), json!(images)]
}

const CONTAINERS: Column = Column::new("Containers", "string", doc::TEMPLATE_CONTAINERS).wide();
const IMAGES: Column = Column::new("Images", "string", doc::TEMPLATE_IMAGES).wide();

const DEPLOYMENT_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Ready", "string", doc::READY_PODS),
        Column::new("Up-to-date", "string", doc::DEPLOYMENT_UPDATED),
        Column::new("Available", "string", doc::DEPLOYMENT_AVAILABLE),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::DEPLOYMENT_SELECTOR).wide(),
    ],
    |deployment, now| {
        let status = &deployment["status"];
        let selector = label_selector_text(&deployment["spec"]["selector"])
            .unwrap_or_else(|| "<invalid>".to_string());
        let [containers, images] = template_cells(&deployment["spec"]["template"]);
        vec![
            json!(name(deployment)),
            json!(format!(
                "{}/{}",
                integer(&status["readyReplicas"]),
                desired_replicas(deployment)
            )),
            json!(integer(&status["updatedReplicas"])),
            json!(integer(&status["availableReplicas"])),
            created(deployment, now),
            containers,
            images,
            json!(selector),
        ]
    },
);

const REPLICA_SET_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Desired", "integer", doc::RS_SPEC_REPLICAS),
        Column::new("Current", "integer", doc::RS_STATUS_REPLICAS),
        Column::new("Ready", "integer", doc::RS_READY_REPLICAS),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::RS_SELECTOR).wide(),
    ],
    |replica_set, now| {
        let status = &replica_set["status"];
        let [containers, images] = template_cells(&replica_set["spec"]["template"]);
        vec![
            json!(name(replica_set)),
            json!(desired_replicas(replica_set)),
            json!(integer(&status["replicas"])),
            json!(integer(&status["readyReplicas"])),
            created(replica_set, now),
            containers,
            images,
            json!(format_label_selector(&replica_set["spec"]["selector"])),
        ]
    },
);

const REPLICATION_CONTROLLER_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Desired", "integer", doc::RC_SPEC_REPLICAS),
        Column::new("Current", "integer", doc::RC_STATUS_REPLICAS),
        Column::new("Ready", "integer", doc::RC_READY_REPLICAS),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::RC_SELECTOR).wide(),
    ],
    |controller, now| {
        let status = &controller["status"];
        let [containers, images] = template_cells(&controller["spec"]["template"]);
        vec![
            json!(name(controller)),
            json!(desired_replicas(controller)),
            json!(integer(&status["replicas"])),
            json!(integer(&status["readyReplicas"])),
            created(controller, now),
            containers,
            images,
            json!(format_labels(&controller["spec"]["selector"])),
        ]
    },
);

const STATEFUL_SET_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Ready", "string", doc::READY_PODS),
        Column::age(),
        CONTAINERS,
        IMAGES,
    ],
    |stateful_set, now| {
        let [containers, images] = template_cells(&stateful_set["spec"]["template"]);
        vec![
            json!(name(stateful_set)),
            json!(format!(
                "{}/{}",
                integer(&stateful_set["status"]["readyReplicas"]),
                desired_replicas(stateful_set)
            )),
            created(stateful_set, now),
            containers,
            images,
        ]
    },
);

const DAEMON_SET_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Desired", "integer", doc::DS_DESIRED),
        Column::new("Current", "integer", doc::DS_CURRENT),
        Column::new("Ready", "integer", doc::DS_READY),
        Column::new("Up-to-date", "integer", doc::DS_UPDATED),
        Column::new("Available", "integer", doc::DS_AVAILABLE),
        Column::new("Node Selector", "string", doc::POD_NODE_SELECTOR),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::DS_SELECTOR).wide(),
    ],
    |daemon_set, now| {
        let status = &daemon_set["status"];
        let template = &daemon_set["spec"]["template"];
        let [containers, images] = template_cells(template);
        vec![
            json!(name(daemon_set)),
            json!(integer(&status["desiredNumberScheduled"])),
            json!(integer(&status["currentNumberScheduled"])),
            json!(integer(&status["numberReady"])),
            json!(integer(&status["updatedNumberScheduled"])),
            json!(integer(&status["numberAvailable"])),
            json!(format_labels(&template["spec"]["nodeSelector"])),
            created(daemon_set, now),
            containers,
            images,
            json!(format_label_selector(&daemon_set["spec"]["selector"])),
        ]
    },
);

const JOB_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Status", "string", doc::JOB_STATUS),
        Column::new("Completions", "string", doc::JOB_SUCCEEDED),
        Column::new("Duration", "string", doc::JOB_DURATION),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::JOB_SELECTOR).wide(),
    ],
    job_cells,
);

/// Whether a job condition of `condition_type` is true (the first one of
/// that type decides).
fn has_job_condition(job: &Value, condition_type: &str) -> bool {
    items(&job["status"]["conditions"])
        .iter()
        .find(|condition| text(&condition["type"]) == condition_type)
        .is_some_and(|condition| text(&condition["status"]) == "True")
}

fn job_cells(job: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &job["spec"];
    let status = &job["status"];
    let succeeded = integer(&status["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match integer(&spec["parallelism"]) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (
        age::parse_time(&status["startTime"]),
        age::parse_time(&status["completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => age::between(start, now),
        (Some(start), Some(end)) => age::between(start, end),
    };
    let job_status = if has_job_condition(job, "Complete") {
        "Complete"
    } else if has_job_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_job_condition(job, "Suspended") {
        "Suspended"
    } else if has_job_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let [containers, images] = template_cells(&spec["template"]);
    vec![
        json!(name(job)),
        json!(job_status),
        json!(completions),
        json!(duration),
        created(job, now),
        containers,
        images,
        json!(format_label_selector(&spec["selector"])),
    ]
}

const CRON_JOB_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Schedule", "string", doc::CRONJOB_SCHEDULE),
        Column::new("Timezone", "string", doc::CRONJOB_TIME_ZONE),
        Column::new("Suspend", "boolean", doc::CRONJOB_SUSPEND),
        Column::new("Active", "integer", doc::CRONJOB_ACTIVE),
        Column::new("Last Schedule", "string", doc::CRONJOB_LAST_SCHEDULE),
        Column::age(),
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::JOB_SELECTOR).wide(),
    ],
    |cron_job, now| {
        let spec = &cron_job["spec"];
        let status = &cron_job["status"];
        let last_schedule = if status["lastScheduleTime"].is_null() {
            "<none>".to_string()
        } else {
            age::since(&status["lastScheduleTime"], now)
        };
        let suspend = match spec["suspend"].as_bool() {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        };
        let job_spec = &spec["jobTemplate"]["spec"];
        let [containers, images] = template_cells(&job_spec["template"]);
        vec![
            json!(name(cron_job)),
            json!(text(&spec["schedule"])),
            json!(spec["timeZone"].as_str().unwrap_or("<none>")),
            json!(suspend),
            json!(items(&status["active"]).len()),
            json!(last_schedule),
            created(cron_job, now),
            containers,
            images,
            json!(format_label_selector(&job_spec["selector"])),
        ]
    },
);

const HPA_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Reference", "string", doc::HPA_REFERENCE),
        Column::new("Targets", "string", doc::HPA_METRICS),
        Column::new("MinPods", "string", doc::HPA_MIN),
        Column::new("MaxPods", "string", doc::HPA_MAX),
        Column::new("Replicas", "string", doc::HPA_CURRENT),
        Column::age(),
    ],
    |autoscaler, now| {
        let spec = &autoscaler["spec"];
        let reference = format!(
            "{}/{}",
            text(&spec["scaleTargetRef"]["kind"]),
            text(&spec["scaleTargetRef"]["name"])
        );
        let min_pods = spec["minReplicas"]
            .as_i64()
            .map_or_else(|| "<unset>".to_string(), |min| min.to_string());
        vec![
            json!(name(autoscaler)),
            json!(reference),
            json!(format_hpa_metrics(
                &spec["metrics"],
                &autoscaler["status"]["currentMetrics"]
            )),
            json!(min_pods),
            json!(integer(&spec["maxReplicas"])),
            json!(integer(&autoscaler["status"]["currentReplicas"])),
            created(autoscaler, now),
        ]
    },
);

/// The printers' `formatHPAMetrics` over `autoscaling/v2` JSON: each metric
/// as `current/target`, two at most, then `+ N more...`.
fn format_hpa_metrics(specs: &Value, statuses: &Value) -> String {
    let specs = items(specs);
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let statuses = items(statuses);
    let unknown = || "<unknown>".to_string();
    let mut shown: Vec<String> = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let status = statuses.get(index).unwrap_or(&Value::Null);
        let entry = match text(&spec["type"]) {
            source @ ("External" | "Object") => {
                let field = if source == "External" {
                    "external"
                } else {
                    "object"
                };
                let target = &spec[field]["target"];
                let current = &status[field]["current"];
                if target["averageValue"].is_null() {
                    let current = if status[field].is_object() {
                        quantity(&current["value"])
                    } else {
                        unknown()
                    };
                    format!("{current}/{}", quantity(&target["value"]))
                } else {
                    let current = if current["averageValue"].is_null() {
                        unknown()
                    } else {
                        quantity(&current["averageValue"])
                    };
                    format!("{current}/{} (avg)", quantity(&target["averageValue"]))
                }
            }
            "Pods" => {
                let current = if status["pods"].is_object() {
                    quantity(&status["pods"]["current"]["averageValue"])
                } else {
                    unknown()
                };
                format!(
                    "{current}/{}",
                    quantity(&spec["pods"]["target"]["averageValue"])
                )
            }
            source @ ("Resource" | "ContainerResource") => {
                let field = if source == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let resource = &spec[field];
                let current = &status[field]["current"];
                let resource_name = text(&resource["name"]);
                if resource["target"]["averageValue"].is_null() {
                    let current = current["averageUtilization"]
                        .as_i64()
                        .map_or_else(unknown, |utilization| format!("{utilization}%"));
                    let target = resource["target"]["averageUtilization"]
                        .as_i64()
                        .map_or_else(
                            || "<auto>".to_string(),
                            |utilization| format!("{utilization}%"),
                        );
                    format!("{resource_name}: {current}/{target}")
                } else {
                    let current = if status[field].is_object() {
                        quantity(&current["averageValue"])
                    } else {
                        unknown()
                    };
                    format!(
                        "{resource_name}: {current}/{}",
                        quantity(&resource["target"]["averageValue"])
                    )
                }
            }
            _ => "<unknown type>".to_string(),
        };
        shown.push(entry);
    }
    const SHOWN: usize = 2;
    let count = shown.len();
    if count > SHOWN {
        shown.truncate(SHOWN);
        format!("{} + {} more...", shown.join(", "), count - SHOWN)
    } else {
        shown.join(", ")
    }
}

const PDB_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Min Available", "string", doc::PDB_MIN_AVAILABLE),
        Column::new("Max Unavailable", "string", doc::PDB_MAX_UNAVAILABLE),
        Column::new(
            "Allowed Disruptions",
            "integer",
            doc::PDB_ALLOWED_DISRUPTIONS,
        ),
        Column::age(),
    ],
    |budget, now| {
        let spec = &budget["spec"];
        let bound = |value: &Value| {
            if value.is_null() {
                "N/A".to_string()
            } else {
                int_or_string(value)
            }
        };
        vec![
            json!(name(budget)),
            json!(bound(&spec["minAvailable"])),
            json!(bound(&spec["maxUnavailable"])),
            json!(integer(&budget["status"]["disruptionsAllowed"])),
            created(budget, now),
        ]
    },
);
