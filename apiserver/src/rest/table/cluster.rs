//! Printers of networking, coordination, scheduling and RBAC kinds: leases,
//! priority classes, ingresses, ingress classes, endpoint slices, role
//! bindings and cluster role bindings.

use api::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::core::load_balancer_addresses;
use super::descriptions as doc;
use super::fields::{boolean, integer, items, name, text};
use super::{Column, Printer, age};

/// The printer of a plural, if it has one here.
pub(super) fn printer(plural: &str) -> Option<&'static Printer> {
    Some(match plural {
        "leases" => &LEASE_PRINTER,
        "priorityclasses" => &PRIORITY_CLASS_PRINTER,
        "ingresses" => &INGRESS_PRINTER,
        "ingressclasses" => &INGRESS_CLASS_PRINTER,
        "endpointslices" => &ENDPOINT_SLICE_PRINTER,
        "rolebindings" => &ROLE_BINDING_PRINTER,
        "clusterrolebindings" => &CLUSTER_ROLE_BINDING_PRINTER,
        _ => return None,
    })
}

fn created(object: &Value, now: Timestamp) -> Value {
    json!(age::since(&object["metadata"]["creationTimestamp"], now))
}

const LEASE_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Holder", "string", doc::LEASE_HOLDER),
        Column::age(),
    ],
    |lease, now| {
        vec![
            json!(name(lease)),
            json!(text(&lease["spec"]["holderIdentity"])),
            created(lease, now),
        ]
    },
);

const PRIORITY_CLASS_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Value", "integer", doc::PRIORITY_CLASS_VALUE),
        Column::new(
            "Global-Default",
            "boolean",
            doc::PRIORITY_CLASS_GLOBAL_DEFAULT,
        ),
        Column::age(),
        Column::new("PreemptionPolicy", "string", doc::PRIORITY_CLASS_PREEMPTION),
    ],
    |class, now| {
        vec![
            json!(name(class)),
            json!(integer(&class["value"])),
            json!(boolean(&class["globalDefault"])),
            created(class, now),
            json!(text(&class["preemptionPolicy"])),
        ]
    },
);

const INGRESS_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Class", "string", doc::INGRESS_CLASS),
        Column::new("Hosts", "string", doc::INGRESS_HOSTS),
        Column::new("Address", "string", doc::INGRESS_ADDRESS),
        Column::new("Ports", "string", doc::INGRESS_PORTS),
        Column::age(),
    ],
    ingress_cells,
);

fn ingress_cells(ingress: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &ingress["spec"];
    let rules = items(&spec["rules"]);
    const SHOWN: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == SHOWN {
            more = true;
        }
        if !more && !text(&rule["host"]).is_empty() {
            hosts.push(text(&rule["host"]));
        }
    }
    let hosts_text = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - SHOWN)
    } else {
        hosts.join(",")
    };
    let ports = if items(&spec["tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(ingress)),
        json!(spec["ingressClassName"].as_str().unwrap_or("<none>")),
        json!(hosts_text),
        json!(load_balancer_addresses(&ingress["status"]["loadBalancer"]).join(",")),
        json!(ports),
        created(ingress, now),
    ]
}

const INGRESS_CLASS_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Controller", "string", doc::INGRESS_CLASS_CONTROLLER),
        Column::new("Parameters", "string", doc::INGRESS_CLASS_PARAMETERS),
        Column::age(),
    ],
    |class, now| {
        let parameters = &class["spec"]["parameters"];
        let parameters_text = if parameters.is_object() {
            let kind = match parameters["apiGroup"].as_str() {
                Some(group) => format!("{}.{group}", text(&parameters["kind"])),
                None => text(&parameters["kind"]).to_string(),
            };
            format!("{kind}/{}", text(&parameters["name"]))
        } else {
            "<none>".to_string()
        };
        vec![
            json!(name(class)),
            json!(text(&class["spec"]["controller"])),
            json!(parameters_text),
            created(class, now),
        ]
    },
);

const ENDPOINT_SLICE_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("AddressType", "string", doc::ENDPOINT_SLICE_ADDRESS_TYPE),
        Column::new("Ports", "string", doc::ENDPOINT_SLICE_PORTS),
        Column::new("Endpoints", "string", doc::ENDPOINT_SLICE_ENDPOINTS),
        Column::age(),
    ],
    |slice, now| {
        let ports: Vec<String> = items(&slice["ports"])
            .iter()
            .map(
                |port| match (port["port"].as_i64(), port["name"].as_str()) {
                    (Some(number), _) => number.to_string(),
                    (None, Some(port_name)) => port_name.to_string(),
                    (None, None) => "*".to_string(),
                },
            )
            .collect();
        let addresses: Vec<String> = items(&slice["endpoints"])
            .iter()
            .flat_map(|endpoint| {
                items(&endpoint["addresses"])
                    .iter()
                    .map(|address| text(address).to_string())
            })
            .collect();
        vec![
            json!(name(slice)),
            json!(text(&slice["addressType"])),
            json!(list_with_more(ports)),
            json!(list_with_more(addresses)),
            created(slice, now),
        ]
    },
);

/// The printers' `listWithMoreString`: three entries, then `+ N more...`;
/// `<unset>` when empty.
fn list_with_more(mut entries: Vec<String>) -> String {
    const SHOWN: usize = 3;
    let count = entries.len();
    if count == 0 {
        return "<unset>".to_string();
    }
    if count > SHOWN {
        entries.truncate(SHOWN);
        return format!("{} + {} more...", entries.join(","), count - SHOWN);
    }
    entries.join(",")
}

const ROLE_BINDING_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Role", "string", doc::ROLE_BINDING_ROLE_REF),
        Column::age(),
        Column::new("Users", "string", doc::ROLE_BINDING_USERS).wide(),
        Column::new("Groups", "string", doc::ROLE_BINDING_GROUPS).wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            doc::ROLE_BINDING_SERVICE_ACCOUNTS,
        )
        .wide(),
    ],
    binding_cells,
);

const CLUSTER_ROLE_BINDING_PRINTER: Printer = Printer::new(
    &[
        Column::name(),
        Column::new("Role", "string", doc::CLUSTER_ROLE_BINDING_ROLE_REF),
        Column::age(),
        Column::new("Users", "string", doc::CLUSTER_ROLE_BINDING_USERS).wide(),
        Column::new("Groups", "string", doc::CLUSTER_ROLE_BINDING_GROUPS).wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            doc::CLUSTER_ROLE_BINDING_SERVICE_ACCOUNTS,
        )
        .wide(),
    ],
    binding_cells,
);

fn binding_cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let role_ref = &binding["roleRef"];
    let mut users: Vec<&str> = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    let mut service_accounts: Vec<String> = Vec::new();
    for subject in items(&binding["subjects"]) {
        match text(&subject["kind"]) {
            "User" => users.push(text(&subject["name"])),
            "Group" => groups.push(text(&subject["name"])),
            "ServiceAccount" => {
                service_accounts.push(format!(
                    "{}/{}",
                    text(&subject["namespace"]),
                    text(&subject["name"])
                ));
            }
            _ => {}
        }
    }
    vec![
        json!(name(binding)),
        json!(format!(
            "{}/{}",
            text(&role_ref["kind"]),
            text(&role_ref["name"])
        )),
        created(binding, now),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(service_accounts.join(", ")),
    ]
}
