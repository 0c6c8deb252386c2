use std::sync::Arc;

use super::*;
use crate::request::Verb;
use serde_json::{Value, json};

fn attributes(user: UserInfo, verb: Verb, resource: &str, subresource: &str) -> Attributes {
    let info = match resource {
        "pods" => &<Pod as api::ApiObject>::INFO,
        "nodes" => &<Node as api::ApiObject>::INFO,
        _ => &<api::k8s_openapi::api::coordination::v1::Lease as api::ApiObject>::INFO,
    };
    Attributes::resource(Arc::new(user), verb, info, subresource, "", "")
}

fn kubelet(node: &str) -> UserInfo {
    UserInfo::authenticated(format!("system:node:{node}"), vec![NODES_GROUP.to_string()])
}

fn pod(value: Value) -> Pod {
    serde_json::from_value(value).unwrap()
}

fn mirror(node: &str) -> Value {
    json!({"metadata": {"name": "m", "annotations": {"kubernetes.io/config.mirror": "h"}},
           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}})
}

#[test]
fn only_node_users_are_restricted() {
    let not_in_group = UserInfo::authenticated("system:node:n1", vec![]);
    assert_eq!(node_of(&not_in_group), None);
    assert_eq!(node_of(&kubelet("n1")), Some("n1"));
    let other = UserInfo::authenticated("alice", vec![NODES_GROUP.to_string()]);
    let create = attributes(other, Verb::Create, "pods", "");
    assert!(admit_pod_create(&create, &pod(json!({"metadata": {"name": "p"}}))).is_ok());
    let nameless = attributes(kubelet(""), Verb::Create, "pods", "");
    assert_eq!(
        admit_pod_create(&nameless, &pod(mirror("n1")))
            .unwrap_err()
            .to_string(),
        "pods \"m\" is forbidden: could not determine node from user \"system:node:\""
    );
}

#[test]
fn nodes_create_only_their_own_mirror_pods() {
    let create = attributes(kubelet("n1"), Verb::Create, "pods", "");
    assert!(admit_pod_create(&create, &pod(mirror("n1"))).is_ok());
    let mut with_secret = mirror("n1");
    with_secret["spec"]["volumes"] = json!([{"name": "s", "secret": {"secretName": "x"}}]);
    let cases = [
        (
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1", "containers": []}}),
            "pods \"p\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n1\" can only create mirror pods",
        ),
        (
            mirror("n2"),
            "pods \"m\" is forbidden: node \"n1\" can only create pods with spec.nodeName set to itself",
        ),
        (
            with_secret,
            "pods \"m\" is forbidden: node \"n1\" can not create pods that reference secrets",
        ),
    ];
    for (object, expected) in cases {
        let error = admit_pod_create(&create, &pod(object)).unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert_eq!(error.reason(), crate::error::Reason::Forbidden);
    }
}

#[test]
fn nodes_update_status_and_delete_only_pods_bound_to_them() {
    let status = attributes(kubelet("n1"), Verb::Update, "pods", "status");
    let spec_update = attributes(kubelet("n1"), Verb::Patch, "pods", "");
    let delete = attributes(kubelet("n1"), Verb::Delete, "pods", "");
    let own = pod(json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1", "containers": []}}));
    let other =
        pod(json!({"metadata": {"name": "q"}, "spec": {"nodeName": "n2", "containers": []}}));
    assert!(admit_pod_update(&status, &own).is_ok());
    assert!(admit_pod_delete(&delete, &own).is_ok());
    assert_eq!(
        admit_pod_update(&status, &other).unwrap_err().to_string(),
        "pods \"q\" is forbidden: node \"n1\" can only update pod status for pods with spec.nodeName set to itself"
    );
    assert_eq!(
        admit_pod_update(&spec_update, &own)
            .unwrap_err()
            .to_string(),
        "pods \"p\" is forbidden: unexpected operation \"UPDATE\", node \"n1\" can only create and delete mirror pods"
    );
    assert_eq!(
        admit_pod_delete(&delete, &other).unwrap_err().to_string(),
        "pods \"q\" is forbidden: node \"n1\" can only delete pods with spec.nodeName set to itself"
    );
}

#[test]
fn nodes_write_only_their_own_node_without_restricted_labels() {
    let update = attributes(kubelet("n1"), Verb::Update, "nodes", "");
    let node = |labels: Value| -> Node {
        serde_json::from_value(json!({"metadata": {"name": "n1", "labels": labels}})).unwrap()
    };
    let old = node(json!({"a": "1", "node-restriction.kubernetes.io/pool": "x"}));
    assert!(
        admit_node(
            &update,
            "n1",
            Some(&old),
            Some(&node(
                json!({"a": "2", "node-restriction.kubernetes.io/pool": "x"})
            ))
        )
        .is_ok()
    );
    assert_eq!(
        admit_node(&update, "n2", None, None)
            .unwrap_err()
            .to_string(),
        "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""
    );
    assert_eq!(
        admit_node(
            &update,
            "n1",
            Some(&old),
            Some(&node(
                json!({"a": "1", "node-restriction.kubernetes.io/pool": "y"})
            ))
        )
        .unwrap_err()
        .to_string(),
        "nodes \"n1\" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool"
    );
    let create = attributes(kubelet("n1"), Verb::Create, "nodes", "");
    assert_eq!(
        admit_node(
            &create,
            "n1",
            None,
            Some(&node(json!({"team.node-restriction.kubernetes.io/x": "1"})))
        )
        .unwrap_err()
        .to_string(),
        "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the following labels: team.node-restriction.kubernetes.io/x"
    );
}

#[test]
fn nodes_write_only_their_own_lease() {
    let write = attributes(kubelet("n1"), Verb::Update, "leases", "");
    assert!(admit_lease(&write, "kube-node-lease", "n1").is_ok());
    assert_eq!(
        admit_lease(&write, "kube-node-lease", "n2")
            .unwrap_err()
            .to_string(),
        "leases \"n2\" is forbidden: can only access node lease with the same name as the requesting node"
    );
    assert_eq!(
        admit_lease(&write, "default", "n1")
            .unwrap_err()
            .to_string(),
        "leases \"n1\" is forbidden: can only access leases in the \"kube-node-lease\" system namespace"
    );
}
