//! Printers of core kinds other than pods: nodes, namespaces, services,
//! endpoints, configmaps, secrets, serviceaccounts, events, persistent
//! volumes and claims, and resource quotas.

use std::collections::BTreeSet;

use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::descriptions as doc;
use super::fields::{
    access_modes, entry_count, format_labels, integer, is_deleting, items, name, quantity, text,
    text_or,
};
use super::{Column, Printer, age};

/// The printer of a core plural, if it has one here.
pub(super) fn printer(plural: &str) -> Option<&'static Printer> {
    Some(match plural {
        "nodes" => &NODE_PRINTER,
        "namespaces" => &NAMESPACE_PRINTER,
        "services" => &SERVICE_PRINTER,
        "endpoints" => &ENDPOINTS_PRINTER,
        "configmaps" => &CONFIG_MAP_PRINTER,
        "secrets" => &SECRET_PRINTER,
        "serviceaccounts" => &SERVICE_ACCOUNT_PRINTER,
        "events" => &EVENT_PRINTER,
        "persistentvolumes" => &PV_PRINTER,
        "persistentvolumeclaims" => &PVC_PRINTER,
        "resourcequotas" => &RESOURCE_QUOTA_PRINTER,
        _ => return None,
    })
}

fn created(object: &Value, now: Timestamp) -> Value {
    json!(age::since(&object["metadata"]["creationTimestamp"], now))
}

const NODE_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Status", "string", doc::NODE_STATUS),
        Column::new("Roles", "string", doc::NODE_ROLES),
        Column::age(),
        Column::new("Version", "string", doc::NODE_KUBELET_VERSION),
        Column::new("Internal-IP", "string", doc::NODE_ADDRESSES).wide(),
        Column::new("External-IP", "string", doc::NODE_ADDRESSES).wide(),
        Column::new("OS-Image", "string", doc::NODE_OS_IMAGE).wide(),
        Column::new("Kernel-Version", "string", doc::NODE_KERNEL_VERSION).wide(),
        Column::new("Container-Runtime", "string", doc::NODE_CONTAINER_RUNTIME).wide(),
    ],
    node_cells,
);

fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    let status = &node["status"];
    let mut states: Vec<&str> = Vec::new();
    if let Some(ready) = items(&status["conditions"])
        .iter()
        .rfind(|condition| text(&condition["type"]) == "Ready")
    {
        states.push(if text(&ready["status"]) == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    }
    if states.is_empty() {
        states.push("Unknown");
    }
    if node["spec"]["unschedulable"].as_bool() == Some(true) {
        states.push("SchedulingDisabled");
    }
    let mut roles: BTreeSet<&str> = BTreeSet::new();
    if let Some(labels) = node["metadata"]["labels"].as_object() {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role);
                }
            } else if key == "kubernetes.io/role" && !text(value).is_empty() {
                roles.insert(text(value));
            }
        }
    }
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };
    let address = |kind: &str| {
        items(&status["addresses"])
            .iter()
            .find(|address| text(&address["type"]) == kind)
            .map_or("<none>", |address| text(&address["address"]))
    };
    let info = &status["nodeInfo"];
    vec![
        json!(name(node)),
        json!(states.join(",")),
        json!(roles),
        created(node, now),
        json!(text(&info["kubeletVersion"])),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(text_or(&info["osImage"], "<unknown>")),
        json!(text_or(&info["kernelVersion"], "<unknown>")),
        json!(text_or(&info["containerRuntimeVersion"], "<unknown>")),
    ]
}

const NAMESPACE_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Status", "string", doc::NAMESPACE_STATUS),
        Column::age(),
    ],
    |namespace, now| {
        vec![
            json!(name(namespace)),
            json!(text(&namespace["status"]["phase"])),
            created(namespace, now),
        ]
    },
);

const SERVICE_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Type", "string", doc::SERVICE_TYPE),
        Column::new("Cluster-IP", "string", doc::SERVICE_CLUSTER_IP),
        Column::new("External-IP", "string", doc::SERVICE_EXTERNAL_IPS),
        Column::new("Port(s)", "string", doc::SERVICE_PORTS),
        Column::age(),
        Column::new("Selector", "string", doc::SERVICE_SELECTOR).wide(),
    ],
    service_cells,
);

fn service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &service["spec"];
    let cluster_ip = items(&spec["clusterIPs"]).first().map_or("<none>", text);
    let ports: Vec<String> = items(&spec["ports"])
        .iter()
        .map(|port| {
            let protocol = text(&port["protocol"]);
            match integer(&port["nodePort"]) {
                node_port if node_port > 0 => {
                    format!("{}:{node_port}/{protocol}", integer(&port["port"]))
                }
                _ => format!("{}/{protocol}", integer(&port["port"])),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        json!(name(service)),
        json!(text(&spec["type"])),
        json!(cluster_ip),
        json!(service_external_ip(service)),
        json!(ports),
        created(service, now),
        json!(format_labels(&spec["selector"])),
    ]
}

/// The printers' `getServiceExternalIP`, wide (never clipped).
fn service_external_ip(service: &Value) -> String {
    let spec = &service["spec"];
    let external_ips: Vec<&str> = items(&spec["externalIPs"]).iter().map(text).collect();
    match text(&spec["type"]) {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let mut addresses: Vec<&str> =
                load_balancer_addresses(&service["status"]["loadBalancer"]);
            addresses.extend(external_ips);
            if addresses.is_empty() {
                "<pending>".to_string()
            } else {
                addresses.join(",")
            }
        }
        "ExternalName" => text(&spec["externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// The IPs (else host names) of a load balancer status, sorted and unique.
pub(super) fn load_balancer_addresses(status: &Value) -> Vec<&str> {
    let addresses: BTreeSet<&str> = items(&status["ingress"])
        .iter()
        .filter_map(
            |ingress| match (text(&ingress["ip"]), text(&ingress["hostname"])) {
                ("", "") => None,
                ("", hostname) => Some(hostname),
                (ip, _) => Some(ip),
            },
        )
        .collect();
    addresses.into_iter().collect()
}

const ENDPOINTS_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Endpoints", "string", doc::ENDPOINTS_SUBSETS),
        Column::age(),
    ],
    |endpoints, now| {
        vec![
            json!(name(endpoints)),
            json!(format_endpoints(endpoints)),
            created(endpoints, now),
        ]
    },
);

/// The printers' `formatEndpoints`: up to three `ip:port` entries, then
/// `+ N more...`.
fn format_endpoints(endpoints: &Value) -> String {
    let subsets = items(&endpoints["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const SHOWN: usize = 3;
    let mut shown: Vec<String> = Vec::new();
    let mut count = 0usize;
    for subset in subsets {
        let addresses = items(&subset["addresses"]);
        let ports = items(&subset["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            shown.extend(
                addresses
                    .iter()
                    .take(SHOWN.saturating_sub(shown.len()))
                    .map(|address| text(&address["ip"]).to_string()),
            );
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if shown.len() == SHOWN {
                    break;
                }
                let ip = text(&address["ip"]);
                let port_number = integer(&port["port"]);
                shown.push(if ip.contains(':') {
                    format!("[{ip}]:{port_number}")
                } else {
                    format!("{ip}:{port_number}")
                });
            }
        }
    }
    let joined = shown.join(",");
    if count > SHOWN {
        format!("{joined} + {} more...", count - SHOWN)
    } else {
        joined
    }
}

const CONFIG_MAP_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Data", "string", doc::CONFIG_MAP_DATA),
        Column::age(),
    ],
    |config_map, now| {
        let data = entry_count(&config_map["data"]) + entry_count(&config_map["binaryData"]);
        vec![
            json!(name(config_map)),
            json!(data),
            created(config_map, now),
        ]
    },
);

const SECRET_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Type", "string", doc::SECRET_TYPE),
        Column::new("Data", "string", doc::SECRET_DATA),
        Column::age(),
    ],
    |secret, now| {
        vec![
            json!(name(secret)),
            json!(text(&secret["type"])),
            json!(entry_count(&secret["data"])),
            created(secret, now),
        ]
    },
);

const SERVICE_ACCOUNT_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Secrets", "string", doc::SERVICE_ACCOUNT_SECRETS),
        Column::age(),
    ],
    |account, now| {
        vec![
            json!(name(account)),
            json!(items(&account["secrets"]).len()),
            created(account, now),
        ]
    },
);

const EVENT_PRINTER: Printer = Printer::new(
    &[
        Column::new("Last Seen", "string", doc::EVENT_LAST_TIMESTAMP),
        Column::new("Type", "string", doc::EVENT_TYPE),
        Column::new("Reason", "string", doc::EVENT_REASON),
        Column::new("Object", "string", doc::EVENT_INVOLVED_OBJECT),
        Column::new("Subobject", "string", doc::EVENT_FIELD_PATH).wide(),
        Column::new("Source", "string", doc::EVENT_SOURCE).wide(),
        Column::new("Message", "string", doc::EVENT_MESSAGE),
        Column::new("First Seen", "string", doc::EVENT_FIRST_TIMESTAMP).wide(),
        Column::new("Count", "string", doc::EVENT_COUNT).wide(),
        Column::name().wide(),
    ],
    event_cells,
);

/// An event's printed fields, read from either shape: `v1` (`involvedObject`,
/// `message`, …) or `events.k8s.io/v1` (`regarding`, `note`, `deprecated…`).
struct EventFields<'a> {
    involved_object: &'a Value,
    message: &'a str,
    source: &'a Value,
    first_timestamp: &'a Value,
    last_timestamp: &'a Value,
    count: i64,
}

impl<'a> EventFields<'a> {
    fn of(event: &'a Value) -> EventFields<'a> {
        if event.get("regarding").is_some() || event.get("note").is_some() {
            EventFields {
                involved_object: &event["regarding"],
                message: text(&event["note"]),
                source: &event["deprecatedSource"],
                first_timestamp: &event["deprecatedFirstTimestamp"],
                last_timestamp: &event["deprecatedLastTimestamp"],
                count: integer(&event["deprecatedCount"]),
            }
        } else {
            EventFields {
                involved_object: &event["involvedObject"],
                message: text(&event["message"]),
                source: &event["source"],
                first_timestamp: &event["firstTimestamp"],
                last_timestamp: &event["lastTimestamp"],
                count: integer(&event["count"]),
            }
        }
    }
}

fn event_cells(event: &Value, now: Timestamp) -> Vec<Value> {
    let fields = EventFields::of(event);
    let first_seen = if age::parse_time(fields.first_timestamp).is_some() {
        age::since(fields.first_timestamp, now)
    } else {
        age::since(&event["eventTime"], now)
    };
    let mut last_seen = if age::parse_time(fields.last_timestamp).is_some() {
        age::since(fields.last_timestamp, now)
    } else {
        first_seen.clone()
    };
    let mut count = fields.count;
    if event["series"].is_object() {
        last_seen = age::since(&event["series"]["lastObservedTime"], now);
        count = integer(&event["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let kind = text(&fields.involved_object["kind"]).to_lowercase();
    let target = match text(&fields.involved_object["name"]) {
        "" => kind,
        involved_name => format!("{kind}/{involved_name}"),
    };
    let component = match text(&fields.source["component"]) {
        "" => text(&event["reportingController"]),
        component => component,
    };
    let instance = match text(&fields.source["host"]) {
        "" => text(&event["reportingInstance"]),
        host => host,
    };
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last_seen),
        json!(text(&event["type"])),
        json!(text(&event["reason"])),
        json!(target),
        json!(text(&fields.involved_object["fieldPath"])),
        json!(source),
        json!(fields.message.trim()),
        json!(first_seen),
        json!(count),
        json!(name(event)),
    ]
}

const PV_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Capacity", "string", doc::PV_CAPACITY),
        Column::new("Access Modes", "string", doc::PV_ACCESS_MODES),
        Column::new("Reclaim Policy", "string", doc::PV_RECLAIM_POLICY),
        Column::new("Status", "string", doc::PV_PHASE),
        Column::new("Claim", "string", doc::PV_CLAIM_REF),
        Column::new("StorageClass", "string", doc::PV_STORAGE_CLASS),
        Column::new(
            "VolumeAttributesClass",
            "string",
            doc::PV_VOLUME_ATTRIBUTES_CLASS,
        ),
        Column::new("Reason", "string", doc::PV_REASON),
        Column::age(),
        Column::new("VolumeMode", "string", doc::PV_VOLUME_MODE).wide(),
    ],
    pv_cells,
);

/// The storage class, from the beta annotation first, as Kubernetes reads it.
fn storage_class<'a>(object: &'a Value, spec_class: &'a Value) -> &'a str {
    match object["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"].as_str() {
        Some(class) => class,
        None => text(spec_class),
    }
}

fn pv_cells(volume: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &volume["spec"];
    let claim = if spec["claimRef"].is_object() {
        format!(
            "{}/{}",
            text(&spec["claimRef"]["namespace"]),
            text(&spec["claimRef"]["name"])
        )
    } else {
        String::new()
    };
    let phase = if is_deleting(volume) {
        "Terminating"
    } else {
        text(&volume["status"]["phase"])
    };
    vec![
        json!(name(volume)),
        json!(quantity(&spec["capacity"]["storage"])),
        json!(access_modes(&spec["accessModes"])),
        json!(text(&spec["persistentVolumeReclaimPolicy"])),
        json!(phase),
        json!(claim),
        json!(storage_class(volume, &spec["storageClassName"])),
        json!(text_or(&spec["volumeAttributesClassName"], "<unset>")),
        json!(text(&volume["status"]["reason"])),
        created(volume, now),
        json!(text_or(&spec["volumeMode"], "<unset>")),
    ]
}

const PVC_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Status", "string", doc::PVC_PHASE),
        Column::new("Volume", "string", doc::PVC_VOLUME_NAME),
        Column::new("Capacity", "string", doc::PVC_CAPACITY),
        Column::new("Access Modes", "string", doc::PVC_ACCESS_MODES),
        Column::new("StorageClass", "string", doc::PVC_STORAGE_CLASS),
        Column::new(
            "VolumeAttributesClass",
            "string",
            doc::PVC_VOLUME_ATTRIBUTES_CLASS,
        ),
        Column::age(),
        Column::new("VolumeMode", "string", doc::PVC_VOLUME_MODE).wide(),
    ],
    pvc_cells,
);

fn pvc_cells(claim: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &claim["spec"];
    let status = &claim["status"];
    let phase = if is_deleting(claim) {
        "Terminating"
    } else {
        text(&status["phase"])
    };
    let bound = !text(&spec["volumeName"]).is_empty();
    let (capacity, modes) = if bound {
        (
            quantity(&status["capacity"]["storage"]),
            access_modes(&status["accessModes"]),
        )
    } else {
        (String::new(), String::new())
    };
    vec![
        json!(name(claim)),
        json!(phase),
        json!(text(&spec["volumeName"])),
        json!(capacity),
        json!(modes),
        json!(storage_class(claim, &spec["storageClassName"])),
        json!(text_or(&spec["volumeAttributesClassName"], "<unset>")),
        created(claim, now),
        json!(text_or(&spec["volumeMode"], "<unset>")),
    ]
}

const RESOURCE_QUOTA_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Request", "string", doc::QUOTA_REQUEST),
        Column::new("Limit", "string", doc::QUOTA_LIMIT),
        Column::age(),
    ],
    resource_quota_cells,
);

fn resource_quota_cells(quota: &Value, now: Timestamp) -> Vec<Value> {
    let status = &quota["status"];
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    if let Some(hard) = status["hard"].as_object() {
        let mut resources: Vec<(&String, &Value)> = hard.iter().collect();
        resources.sort_by(|left, right| left.0.cmp(right.0));
        for (resource, hard_quantity) in resources {
            let entry = format!(
                "{resource}: {}/{}",
                quantity(&status["used"][resource]),
                quantity(hard_quantity)
            );
            let is_limit = resource
                .split_once('.')
                .is_some_and(|(prefix, _)| prefix == "limits");
            if is_limit {
                limits.push(entry);
            } else {
                requests.push(entry);
            }
        }
    }
    vec![
        json!(name(quota)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
        created(quota, now),
    ]
}
