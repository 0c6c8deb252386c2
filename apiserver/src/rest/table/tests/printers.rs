//! Golden rows of the printers of kinds other than pods, nodes, services and
//! deployments.

use serde_json::{Value, json};

use super::*;

#[test]
fn other_printers_fill_their_columns() {
    let cells = |plural: &str, object: Value| {
        table(plural, &[object], IncludeObject::None)["rows"][0]["cells"].clone()
    };
    assert_eq!(
        cells(
            "secrets",
            json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "", "b": ""}})
        ),
        json!(["s", "Opaque", 2, "<unknown>"])
    );
    assert_eq!(
        cells(
            "configmaps",
            json!({"metadata": {"name": "c"}, "data": {"a": ""}, "binaryData": {"b": ""}})
        ),
        json!(["c", 2, "<unknown>"])
    );
    assert_eq!(
        cells(
            "priorityclasses",
            json!({"metadata": {"name": "high"}, "value": 1000, "globalDefault": true,
                                        "preemptionPolicy": "Never"})
        ),
        json!(["high", 1000, true, "<unknown>", "Never"])
    );
    assert_eq!(
        cells(
            "leases",
            json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "sched-1"}})
        ),
        json!(["kube-scheduler", "sched-1", "<unknown>"])
    );
    assert_eq!(
        cells(
            "endpoints",
            json!({"metadata": {"name": "web"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]})
        ),
        json!([
            "web",
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...",
            "<unknown>"
        ])
    );
    assert_eq!(
        cells(
            "poddisruptionbudgets",
            json!({"metadata": {"name": "p"}, "spec": {"minAvailable": "50%"},
                                              "status": {"disruptionsAllowed": 1}})
        ),
        json!(["p", "50%", "N/A", 1, "<unknown>"])
    );
    assert_eq!(
        cells(
            "horizontalpodautoscalers",
            json!({
                "metadata": {"name": "web"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
                "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]},
            })
        ),
        json!([
            "web",
            "Deployment/web",
            "cpu: 45%/80%",
            "1",
            5,
            2,
            "<unknown>"
        ])
    );
    assert_eq!(
        cells(
            "rolebindings",
            json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "reader"},
                                     "subjects": [{"kind": "User", "name": "ann"}, {"kind": "ServiceAccount", "namespace": "ci", "name": "bot"}]})
        ),
        json!(["rb", "Role/reader", "<unknown>", "ann", "", "ci/bot"])
    );
    assert_eq!(
        cells(
            "resourcequotas",
            json!({"metadata": {"name": "q"}, "status": {
            "hard": {"pods": "10", "limits.cpu": "4", "requests.cpu": "2"},
            "used": {"pods": "3", "requests.cpu": "500m"}}})
        ),
        json!([
            "q",
            "pods: 3/10, requests.cpu: 500m/2",
            "limits.cpu: 0/4",
            "<unknown>"
        ])
    );
    assert_eq!(
        cells(
            "persistentvolumeclaims",
            json!({"metadata": {"name": "data"}, "spec": {"volumeName": "pv-1", "storageClassName": "fast"},
                                               "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"]}})
        ),
        json!([
            "data",
            "Bound",
            "pv-1",
            "10Gi",
            "RWO",
            "fast",
            "<unset>",
            "<unknown>",
            "<unset>"
        ])
    );
}

#[test]
fn workload_printers_fill_their_columns() {
    let template = json!({"spec": {"containers": [{"name": "app", "image": "app:1"}]}});
    check(
        "statefulsets",
        json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "template": template}, "status": {"readyReplicas": 1}}),
        "Name Ready Age +Containers +Images",
        json!(["db", "1/3", "<unknown>", "app", "app:1"]),
    );
    check(
        "replicasets",
        json!({"metadata": {"name": "web-5d8"}, "spec": {"replicas": 2, "template": template,
               "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8"}}},
               "status": {"replicas": 2, "readyReplicas": 2}}),
        "Name Desired Current Ready Age +Containers +Images +Selector",
        json!([
            "web-5d8",
            2,
            2,
            2,
            "<unknown>",
            "app",
            "app:1",
            "app=web,pod-template-hash=5d8"
        ]),
    );
    check(
        "replicationcontrollers",
        json!({"metadata": {"name": "old"}, "spec": {"replicas": 1, "selector": {"app": "old"}, "template": template},
               "status": {"replicas": 1}}),
        "Name Desired Current Ready Age +Containers +Images +Selector",
        json!(["old", 1, 1, 0, "<unknown>", "app", "app:1", "app=old"]),
    );
    check(
        "daemonsets",
        json!({"metadata": {"name": "agent"},
               "spec": {"selector": {"matchLabels": {"app": "agent"}},
                        "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                              "containers": [{"name": "agent", "image": "agent:2"}]}}},
               "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                          "updatedNumberScheduled": 3, "numberAvailable": 2}}),
        "Name Desired Current Ready Up-to-date Available Node Selector Age +Containers +Images +Selector",
        json!([
            "agent",
            3,
            3,
            2,
            3,
            2,
            "kubernetes.io/os=linux",
            "<unknown>",
            "agent",
            "agent:2",
            "app=agent"
        ]),
    );
    check(
        "cronjobs",
        json!({"metadata": {"name": "nightly"},
               "spec": {"schedule": "0 3 * * *", "suspend": false,
                        "jobTemplate": {"spec": {"template": template}}},
               "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": "2024-05-01T03:00:00Z"}}),
        "Name Schedule Timezone Suspend Active Last Schedule Age +Containers +Images +Selector",
        json!([
            "nightly",
            "0 3 * * *",
            "<none>",
            "False",
            1,
            "9h",
            "<unknown>",
            "app",
            "app:1",
            "<none>"
        ]),
    );
    let running_job = json!({"metadata": {"name": "batch"}, "spec": {"parallelism": 3, "template": template},
                             "status": {"succeeded": 1, "startTime": "2024-05-01T11:58:00Z"}});
    let cells = table("jobs", &[running_job], IncludeObject::None)["rows"][0]["cells"].clone();
    assert_eq!(
        (cells[1].clone(), cells[2].clone(), cells[3].clone()),
        (json!("Running"), json!("1/1 of 3"), json!("2m"))
    );
}

#[test]
fn networking_storage_and_rbac_printers_fill_their_columns() {
    check(
        "ingresses",
        json!({"metadata": {"name": "site"},
               "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example.com"]}],
                        "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]},
               "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}}),
        "Name Class Hosts Address Ports Age",
        json!([
            "site",
            "nginx",
            "a.example.com,b.example.com",
            "203.0.113.9",
            "80, 443",
            "<unknown>"
        ]),
    );
    check(
        "ingressclasses",
        json!({"metadata": {"name": "nginx"},
               "spec": {"controller": "k8s.io/ingress-nginx",
                        "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external"}}}),
        "Name Controller Parameters Age",
        json!([
            "nginx",
            "k8s.io/ingress-nginx",
            "IngressParameters.k8s.example.com/external",
            "<unknown>"
        ]),
    );
    check(
        "endpointslices",
        json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4", "ports": [{"port": 80}, {"name": "metrics"}],
               "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]}),
        "Name AddressType Ports Endpoints Age",
        json!([
            "web-abc",
            "IPv4",
            "80,metrics",
            "10.0.0.1,10.0.0.2",
            "<unknown>"
        ]),
    );
    let mut volume = json!({
        "metadata": {"name": "pv-1", "annotations": {"volume.beta.kubernetes.io/storage-class": "slow"}},
        "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast",
                 "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
        "status": {"phase": "Bound"},
    });
    volume["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:00:00Z");
    check(
        "persistentvolumes",
        volume,
        "Name Capacity Access Modes Reclaim Policy Status Claim StorageClass VolumeAttributesClass Reason Age +VolumeMode",
        json!([
            "pv-1",
            "10Gi",
            "RWO,ROX",
            "Retain",
            "Terminating",
            "default/data",
            "slow",
            "<unset>",
            "",
            "<unknown>",
            "Filesystem"
        ]),
    );
    check(
        "clusterrolebindings",
        json!({"metadata": {"name": "admins"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"kind": "Group", "name": "system:masters"}, {"kind": "Group", "name": "ops"}]}),
        "Name Role Age +Users +Groups +ServiceAccounts",
        json!([
            "admins",
            "ClusterRole/cluster-admin",
            "<unknown>",
            "",
            "system:masters, ops",
            ""
        ]),
    );
    check(
        "serviceaccounts",
        json!({"metadata": {"name": "default"}}),
        "Name Secrets Age",
        json!(["default", 0, "<unknown>"]),
    );
    check(
        "namespaces",
        json!({"metadata": {"name": "kube-system", "creationTimestamp": "2024-05-01T11:59:55Z"}, "status": {"phase": "Active"}}),
        "Name Status Age",
        json!(["kube-system", "Active", "5s"]),
    );
}

#[test]
fn events_k8s_io_events_print_like_core_events() {
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "web-1.17d"},
        "eventTime": "2024-05-01T11:58:00.000000Z",
        "regarding": {"kind": "Pod", "name": "web-1"},
        "reason": "Scheduled", "note": "Successfully assigned default/web-1 to node-a", "type": "Normal",
        "reportingController": "default-scheduler", "reportingInstance": "scheduler-1",
    });
    let cells = table("events", &[event], IncludeObject::None)["rows"][0]["cells"].clone();
    assert_eq!(
        cells,
        json!([
            "2m",
            "Normal",
            "Scheduled",
            "pod/web-1",
            "",
            "default-scheduler, scheduler-1",
            "Successfully assigned default/web-1 to node-a",
            "2m",
            1,
            "web-1.17d"
        ])
    );
}
