//! Golden rows of the printers and the shape of the Table, checked against
//! what kube-apiserver prints for the same objects.

use serde_json::{Value, json};

use super::*;

const NOW: &str = "2024-05-01T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().expect("time")
}

fn table(plural: &str, objects: &[Value], include_object: IncludeObject) -> Value {
    let request = TableRequest {
        plural,
        resource_version: "42",
        continue_token: "",
        include_object,
    };
    build_table(&request, objects, now())
}

/// Checks the column names (wide ones marked `+`) and the one row's cells.
fn check(plural: &str, object: Value, expected_columns: &str, expected_cells: Value) {
    let printed = table(plural, &[object], IncludeObject::None);
    let columns: Vec<String> = printed["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|column| {
            let wide = if column["priority"] == 1 { "+" } else { "" };
            format!("{wide}{}", column["name"].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(columns.join(" "), expected_columns, "columns of {plural}");
    assert_eq!(
        printed["rows"][0]["cells"], expected_cells,
        "cells of {plural}"
    );
}

/// Checks only the STATUS and READY cells of a pod.
fn check_pod_status(pod: Value, expected_ready: &str, expected_status: &str) {
    let printed = table("pods", &[pod], IncludeObject::None);
    let cells = &printed["rows"][0]["cells"];
    assert_eq!(
        (cells[1].clone(), cells[2].clone()),
        (json!(expected_ready), json!(expected_status))
    );
}

const POD_COLUMNS: &str =
    "Name Ready Status Restarts Age +IP +Node +Nominated Node +Readiness Gates";

fn pod(containers: Value, status: Value) -> Value {
    json!({
        "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": "2024-05-01T11:00:00Z"},
        "spec": {"containers": containers},
        "status": status,
    })
}

#[test]
fn running_pod() {
    let object = json!({
        "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": "2024-04-28T12:00:00Z"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "nginx"}],
                 "readinessGates": [{"conditionType": "example.com/lb"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "example.com/lb", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
                                   "state": {"running": {"startedAt": "2024-04-28T12:00:05Z"}}}],
        },
    });
    check(
        "pods",
        object,
        POD_COLUMNS,
        json!([
            "web-1", "1/1", "Running", "0", "3d", "10.0.0.5", "node-a", "<none>", "1/1"
        ]),
    );
}

#[test]
fn pending_unscheduled_pod() {
    let object = pod(
        json!([{"name": "web"}]),
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}),
    );
    check(
        "pods",
        object,
        POD_COLUMNS,
        json!([
            "web-1", "0/1", "Pending", "0", "60m", "<none>", "<none>", "<none>", "<none>"
        ]),
    );
}

#[test]
fn terminating_pod() {
    let mut object = pod(
        json!([{"name": "web"}]),
        json!({"phase": "Running", "containerStatuses": [
            {"name": "web", "ready": true, "restartCount": 3, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:55:00Z"}}}]}),
    );
    object["metadata"]["deletionTimestamp"] = json!("2024-05-01T12:00:30Z");
    object["spec"]["nodeName"] = json!("node-a");
    check(
        "pods",
        object,
        POD_COLUMNS,
        json!([
            "web-1",
            "1/1",
            "Terminating",
            "3 (5m ago)",
            "60m",
            "<none>",
            "node-a",
            "<none>",
            "<none>"
        ]),
    );
}

#[test]
fn pod_statuses_follow_kubectl() {
    let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
    check_pod_status(
        pod(
            json!([{"name": "web"}]),
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "ready": false, "state": waiting("CrashLoopBackOff")}]}),
        ),
        "0/1",
        "CrashLoopBackOff",
    );
    check_pod_status(
        pod(
            json!([{"name": "web"}]),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        ),
        "0/1",
        "SchedulingGated",
    );
    check_pod_status(
        pod(
            json!([{"name": "job"}]),
            json!({"phase": "Succeeded", "containerStatuses": [
                {"name": "job", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
        ),
        "0/1",
        "Completed",
    );
    check_pod_status(
        pod(
            json!([{"name": "job"}]),
            json!({"phase": "Failed", "containerStatuses": [
                {"name": "job", "ready": false, "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}),
        ),
        "0/1",
        "Signal:9",
    );
    let mut with_init = pod(
        json!([{"name": "web"}]),
        json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "migrate", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "seed", "ready": false, "state": waiting("PodInitializing")}]}),
    );
    with_init["spec"]["initContainers"] = json!([{"name": "migrate"}, {"name": "seed"}]);
    check_pod_status(with_init.clone(), "0/1", "Init:1/2");
    with_init["status"]["initContainerStatuses"][1]["state"] = waiting("CrashLoopBackOff");
    check_pod_status(with_init.clone(), "0/1", "Init:CrashLoopBackOff");
    with_init["status"]["initContainerStatuses"][1]["state"] =
        json!({"terminated": {"exitCode": 2}});
    check_pod_status(with_init, "0/1", "Init:ExitCode:2");
    // A running sidecar counts as a ready container and does not block.
    let mut with_sidecar = pod(
        json!([{"name": "web"}]),
        json!({"phase": "Running",
               "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
               "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "state": {"running": {}}}],
               "containerStatuses": [{"name": "web", "ready": true, "state": {"running": {}}}]}),
    );
    with_sidecar["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
    check_pod_status(with_sidecar, "2/2", "Running");
}

#[test]
fn finished_pods_carry_a_completed_condition() {
    let finished = pod(json!([{"name": "job"}]), json!({"phase": "Succeeded"}));
    let printed = table("pods", &[finished], IncludeObject::None);
    assert_eq!(
        printed["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}])
    );
    let running = pod(json!([{"name": "web"}]), json!({"phase": "Running"}));
    assert!(
        table("pods", &[running], IncludeObject::None)["rows"][0]
            .get("conditions")
            .is_none()
    );
}

#[test]
fn cordoned_node_with_roles() {
    let node = json!({
        "metadata": {"name": "cp-1", "creationTimestamp": "2024-04-01T12:00:00Z",
                     "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "",
                                "kubernetes.io/hostname": "cp-1"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "cp-1"}],
            "nodeInfo": {"kubeletVersion": "v1.34.0", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                         "containerRuntimeVersion": "containerd://1.7.0"},
        },
    });
    check(
        "nodes",
        node,
        "Name Status Roles Age Version +Internal-IP +External-IP +OS-Image +Kernel-Version +Container-Runtime",
        json!([
            "cp-1",
            "Ready,SchedulingDisabled",
            "control-plane,worker",
            "30d",
            "v1.34.0",
            "192.168.1.10",
            "<none>",
            "Debian GNU/Linux 12",
            "6.1.0",
            "containerd://1.7.0"
        ]),
    );
    let bare = json!({"metadata": {"name": "n2"}, "status": {}});
    check(
        "nodes",
        bare,
        "Name Status Roles Age Version +Internal-IP +External-IP +OS-Image +Kernel-Version +Container-Runtime",
        json!([
            "n2",
            "Unknown",
            "<none>",
            "<unknown>",
            "",
            "<none>",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ]),
    );
}

#[test]
fn node_port_service() {
    let service = json!({
        "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:57:50Z"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                 "selector": {"app": "web", "tier": "front"}},
    });
    check(
        "services",
        service,
        "Name Type Cluster-IP External-IP Port(s) Age +Selector",
        json!([
            "web",
            "NodePort",
            "10.96.0.20",
            "<none>",
            "80:30080/TCP,53/UDP",
            "2m10s",
            "app=web,tier=front"
        ]),
    );
    let balancer = json!({
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.21"], "ports": []},
    });
    check(
        "services",
        balancer,
        "Name Type Cluster-IP External-IP Port(s) Age +Selector",
        json!([
            "lb",
            "LoadBalancer",
            "10.96.0.21",
            "<pending>",
            "<none>",
            "<unknown>",
            "<none>"
        ]),
    );
}

#[test]
fn deployment() {
    let deployment = json!({
        "metadata": {"name": "web", "creationTimestamp": "2024-05-01T09:00:00Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                                                      {"name": "log", "image": "busybox"}]}}},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    });
    check(
        "deployments",
        deployment,
        "Name Ready Up-to-date Available Age +Containers +Images +Selector",
        json!([
            "web",
            "2/3",
            3,
            2,
            "3h",
            "web,log",
            "nginx:1.27,busybox",
            "app=web"
        ]),
    );
}

#[test]
fn job_and_event() {
    let job = json!({
        "metadata": {"name": "backup", "creationTimestamp": "2024-05-01T11:00:00Z"},
        "spec": {"completions": 1, "selector": {"matchLabels": {"job-name": "backup"}},
                 "template": {"spec": {"containers": [{"name": "backup", "image": "restic"}]}}},
        "status": {"succeeded": 1, "startTime": "2024-05-01T11:00:00Z", "completionTime": "2024-05-01T11:00:42Z",
                   "conditions": [{"type": "Complete", "status": "True"}]},
    });
    check(
        "jobs",
        job,
        "Name Status Completions Duration Age +Containers +Images +Selector",
        json!([
            "backup",
            "Complete",
            "1/1",
            "42s",
            "60m",
            "backup",
            "restic",
            "job-name=backup"
        ]),
    );
    let event = json!({
        "metadata": {"name": "web-1.17c", "creationTimestamp": "2024-05-01T11:59:00Z"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "reason": "Pulled", "message": "Pulled image nginx\n", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": "2024-05-01T11:50:00Z", "lastTimestamp": "2024-05-01T11:59:00Z", "count": 2,
    });
    check(
        "events",
        event,
        "Last Seen Type Reason Object +Subobject +Source Message +First Seen +Count +Name",
        json!([
            "60s",
            "Normal",
            "Pulled",
            "pod/web-1",
            "spec.containers{web}",
            "kubelet, node-a",
            "Pulled image nginx",
            "10m",
            2,
            "web-1.17c"
        ]),
    );
}

#[test]
fn kinds_without_a_printer_get_name_and_created_at() {
    let role = json!({"metadata": {"name": "reader", "creationTimestamp": "2024-04-30T08:15:00Z"}});
    check(
        "roles",
        role,
        "Name Created At",
        json!(["reader", "2024-04-30T08:15:00Z"]),
    );
    let printed = table(
        "limitranges",
        &[json!({"metadata": {"name": "limits"}})],
        IncludeObject::None,
    );
    assert_eq!(printed["columnDefinitions"][1]["type"], "date");
    assert_eq!(
        printed["rows"][0]["cells"],
        json!(["limits", "0001-01-01T00:00:00Z"])
    );
}

#[test]
fn table_carries_list_metadata_and_column_definitions() {
    let request = TableRequest {
        plural: "namespaces",
        resource_version: "7",
        continue_token: "next-page",
        include_object: IncludeObject::Metadata,
    };
    let printed = build_table(&request, &[], now());
    assert_eq!(printed["kind"], "Table");
    assert_eq!(printed["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        printed["metadata"],
        json!({"resourceVersion": "7", "continue": "next-page"})
    );
    assert_eq!(printed["rows"], json!([]));
    let name = &printed["columnDefinitions"][0];
    assert_eq!(
        (
            name["name"].clone(),
            name["type"].clone(),
            name["format"].clone(),
            name["priority"].clone()
        ),
        (json!("Name"), json!("string"), json!("name"), json!(0))
    );
    assert!(
        name["description"]
            .as_str()
            .is_some_and(|text| text.starts_with("Name must be unique"))
    );
    assert_eq!(
        table("pods", &[], IncludeObject::None)["columnDefinitions"][5]["priority"],
        1
    );
}

#[test]
fn include_object_chooses_what_rows_embed() {
    let namespace = json!({
        "kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": "team-a", "uid": "u-1", "labels": {"team": "a"}},
        "status": {"phase": "Active"},
    });
    let objects = [namespace.clone()];
    assert_eq!(
        table("namespaces", &objects, IncludeObject::Object)["rows"][0]["object"],
        namespace
    );
    assert_eq!(
        table("namespaces", &objects, IncludeObject::Metadata)["rows"][0]["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
               "metadata": {"name": "team-a", "uid": "u-1", "labels": {"team": "a"}}})
    );
    assert!(
        table("namespaces", &objects, IncludeObject::None)["rows"][0]
            .get("object")
            .is_none()
    );
    assert_eq!(IncludeObject::parse(None), Ok(IncludeObject::Metadata));
    assert_eq!(
        IncludeObject::parse(Some("Object")),
        Ok(IncludeObject::Object)
    );
    assert_eq!(IncludeObject::parse(Some("None")), Ok(IncludeObject::None));
    assert_eq!(
        IncludeObject::parse(Some("All")).map_err(|error| error.to_string()),
        Err("invalid includeObject \"All\": expected None, Metadata or Object".to_string())
    );
}

mod printers;
