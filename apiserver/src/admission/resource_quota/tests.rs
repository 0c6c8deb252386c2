use super::*;
use serde_json::{Value, json};

fn quota(hard: Value, used: Value) -> ResourceQuota {
    serde_json::from_value(json!({"metadata": {"name": "q", "namespace": "ns"},
        "spec": {"hard": hard}, "status": {"hard": hard, "used": used}}))
    .unwrap()
}

fn pod(value: Value) -> Pod {
    serde_json::from_value(value).unwrap()
}

fn charge(delta: Usage, missing: BTreeMap<&'static str, Vec<String>>) -> QuotaCharge {
    QuotaCharge {
        namespace: "ns".to_string(),
        plural: "pods",
        name: "p".to_string(),
        delta,
        scopes: None,
        missing,
    }
}

fn listed(usage: &Usage) -> Value {
    serde_json::to_value(to_list(usage)).unwrap()
}

#[test]
fn pods_count_requests_limits_and_objects() {
    let running = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "i", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
        {"name": "b", "image": "i", "resources": {"requests": {"cpu": "200m", "nvidia.com/gpu": "1"}}}]}}));
    assert_eq!(
        listed(&pod_usage(&running)),
        json!({"count/pods": "1", "cpu": "300m", "limits.cpu": "1", "memory": "64Mi", "pods": "1",
               "requests.cpu": "300m", "requests.memory": "64Mi", "requests.nvidia.com/gpu": "1"})
    );
    let mut done = running.clone();
    done.status = Some(api::k8s_openapi::api::core::v1::PodStatus {
        phase: Some("Succeeded".to_string()),
        ..Default::default()
    });
    assert_eq!(listed(&pod_usage(&done)), json!({"count/pods": "1"}));
}

#[test]
fn objects_count_by_their_names() {
    assert_eq!(
        listed(&object_usage(
            &api::k8s_openapi::api::core::v1::ConfigMap::INFO
        )),
        json!({"configmaps": "1", "count/configmaps": "1"})
    );
    assert_eq!(
        listed(&object_usage(
            &api::k8s_openapi::api::apps::v1::Deployment::INFO
        )),
        json!({"count/deployments.apps": "1"})
    );
    let service: Service = serde_json::from_value(json!({"spec": {"type": "LoadBalancer",
        "ports": [{"port": 80}, {"port": 443}]}}))
    .unwrap();
    assert_eq!(
        listed(&service_usage(&service)),
        json!({"count/services": "1", "services": "1", "services.loadbalancers": "1", "services.nodeports": "2"})
    );
    let claim: PersistentVolumeClaim =
        serde_json::from_value(json!({"spec": {"storageClassName": "fast",
        "resources": {"requests": {"storage": "10Gi"}}}}))
        .unwrap();
    assert_eq!(
        listed(&claim_usage(&claim)),
        json!({"count/persistentvolumeclaims": "1", "persistentvolumeclaims": "1",
               "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
               "fast.storageclass.storage.k8s.io/requests.storage": "10Gi", "requests.storage": "10Gi"})
    );
}

#[test]
fn charges_add_up_to_the_hard_limit_and_not_beyond() {
    let usage = pod_usage(&pod(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "i", "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "500m"}}}]}}),
    ));
    let q = quota(
        json!({"pods": "2", "requests.cpu": "1"}),
        json!({"pods": "1", "requests.cpu": "500m"}),
    );
    let used = charge(usage.clone(), BTreeMap::new())
        .charged(&q)
        .unwrap()
        .unwrap();
    assert_eq!(listed(&used), json!({"pods": "2", "requests.cpu": "1"}));
    let full = quota(
        json!({"pods": "2", "requests.cpu": "1"}),
        json!({"pods": "2", "requests.cpu": "1"}),
    );
    assert_eq!(
        charge(usage.clone(), BTreeMap::new())
            .charged(&full)
            .unwrap_err()
            .to_string(),
        "pods \"p\" is forbidden: exceeded quota: q, requested: pods=1,requests.cpu=500m, used: pods=2,requests.cpu=1, limited: pods=2,requests.cpu=1"
    );
    // Releases never fail and never go below zero.
    let released = charge(negate(&usage), BTreeMap::new())
        .charged(&q)
        .unwrap()
        .unwrap();
    assert_eq!(listed(&released), json!({"pods": "0", "requests.cpu": "0"}));
    // A quota that tracks nothing the charge changes is left alone.
    let other = quota(json!({"secrets": "1"}), json!({"secrets": "1"}));
    assert!(
        charge(usage, BTreeMap::new())
            .charged(&other)
            .unwrap()
            .is_none()
    );
}

#[test]
fn compute_quotas_need_containers_to_state_them() {
    let bare = pod(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "i"},
        {"name": "b", "image": "i", "resources": {"requests": {"cpu": "1"}}}]}}),
    );
    let missing = missing_constraints(&bare);
    let q = quota(
        json!({"requests.cpu": "4", "limits.memory": "1Gi"}),
        json!({}),
    );
    assert_eq!(
        charge(pod_usage(&bare), missing)
            .charged(&q)
            .unwrap_err()
            .to_string(),
        "pods \"p\" is forbidden: failed quota: q: must specify limits.memory for: a,b; requests.cpu for: a"
    );
}

#[test]
fn scopes_select_pods() {
    let scoped = |scopes: Value| -> ResourceQuota {
        serde_json::from_value(json!({"spec": {"hard": {"pods": "1"}, "scopes": scopes}})).unwrap()
    };
    let best_effort = PodScopes {
        terminating: false,
        best_effort: true,
        priority_class: String::new(),
        cross_namespace_affinity: false,
    };
    let burstable = PodScopes {
        terminating: true,
        best_effort: false,
        priority_class: "high".to_string(),
        cross_namespace_affinity: true,
    };
    assert!(quota_selects(
        &scoped(json!(["BestEffort"])),
        Some(&best_effort)
    ));
    assert!(!quota_selects(
        &scoped(json!(["BestEffort"])),
        Some(&burstable)
    ));
    assert!(quota_selects(
        &scoped(json!(["Terminating", "NotBestEffort"])),
        Some(&burstable)
    ));
    assert!(quota_selects(
        &scoped(json!(["CrossNamespacePodAffinity"])),
        Some(&burstable)
    ));
    assert!(!quota_selects(&scoped(json!(["BestEffort"])), None));
    assert!(quota_selects(&scoped(json!([])), None));
}

#[test]
fn scope_selectors_match_priority_classes_as_kubernetes() {
    let selecting = |expressions: Value| -> ResourceQuota {
        serde_json::from_value(json!({"spec": {"hard": {"pods": "1"},
            "scopeSelector": {"matchExpressions": expressions}}}))
        .unwrap()
    };
    let with_class = |class: &str| PodScopes {
        terminating: false,
        best_effort: true,
        priority_class: class.to_string(),
        cross_namespace_affinity: false,
    };
    let (high, low, none) = (with_class("high"), with_class("low"), with_class(""));
    let in_high =
        selecting(json!([{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]));
    assert!(quota_selects(&in_high, Some(&high)));
    assert!(!quota_selects(&in_high, Some(&low)));
    assert!(!quota_selects(&in_high, Some(&none)));
    let not_in_high =
        selecting(json!([{"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}]));
    assert!(!quota_selects(&not_in_high, Some(&high)));
    assert!(quota_selects(&not_in_high, Some(&low)));
    // No class is the value "", which is not "high".
    assert!(quota_selects(&not_in_high, Some(&none)));
    let exists = selecting(json!([{"scopeName": "PriorityClass", "operator": "Exists"}]));
    assert!(quota_selects(&exists, Some(&low)));
    assert!(!quota_selects(&exists, Some(&none)));
    // The key is always present in Kubernetes' match, so this never selects.
    let absent = selecting(json!([{"scopeName": "PriorityClass", "operator": "DoesNotExist"}]));
    assert!(!quota_selects(&absent, Some(&none)));
    // Every expression and every named scope must select the pod; nothing
    // but pods is counted.
    let both = selecting(json!([
        {"scopeName": "PriorityClass", "operator": "In", "values": ["high", "low"]},
        {"scopeName": "BestEffort", "operator": "Exists"}
    ]));
    assert!(quota_selects(&both, Some(&low)));
    assert!(!quota_selects(&both, Some(&none)));
    assert!(!quota_selects(&in_high, None));
}

#[test]
fn quota_names_map_to_the_kinds_they_count() {
    for (name, plural) in [
        ("count/deployments.apps", Some("deployments")),
        ("count/pods", Some("pods")),
        ("requests.cpu", Some("pods")),
        ("memory", Some("pods")),
        ("requests.storage", Some("persistentvolumeclaims")),
        (
            "gold.storageclass.storage.k8s.io/requests.storage",
            Some("persistentvolumeclaims"),
        ),
        ("services.nodeports", Some("services")),
        ("configmaps", Some("configmaps")),
        ("bogus", None),
    ] {
        assert_eq!(counted_plural(name), plural, "{name}");
    }
}

#[test]
fn pod_scopes_read_priority_class_and_cross_namespace_terms() {
    let scopes = |spec: Value| {
        let pod: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap();
        PodScopes::of(&pod)
    };
    let term = |extra: Value| {
        let mut term = json!({"labelSelector": {"matchLabels": {"app": "web"}},
                              "topologyKey": "kubernetes.io/hostname"});
        if let (Value::Object(term), Value::Object(extra)) = (&mut term, extra) {
            term.extend(extra);
        }
        term
    };
    let local = scopes(json!({"containers": [], "affinity": {"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({}))]}}}));
    assert!(!local.cross_namespace_affinity);
    assert_eq!(local.priority_class, "");
    let preferred_elsewhere = scopes(json!({"containers": [], "priorityClassName": "high",
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "podAffinityTerm": term(json!({"namespaces": ["other"]}))}]}}}));
    assert!(preferred_elsewhere.cross_namespace_affinity);
    assert_eq!(preferred_elsewhere.priority_class, "high");
    let any_namespace = scopes(json!({"containers": [], "affinity": {"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"namespaceSelector": {}}))]}}}));
    assert!(any_namespace.cross_namespace_affinity);
}
