use super::*;
use serde_json::{Value, json};

fn pod(spec: Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
}

fn message(level: &str, spec: Value) -> Option<String> {
    admit_pod(Some(level), &pod(spec))
        .err()
        .map(|error| error.to_string())
}

/// A pod that meets the restricted standard.
fn restricted_spec() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "image": "i", "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
        "volumes": [{"name": "data", "emptyDir": {}}]
    })
}

#[test]
fn baseline_lists_every_violation_in_check_order() {
    let spec = json!({
        "hostNetwork": true, "hostPID": true,
        "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
        "containers": [
            {"name": "a", "image": "i", "securityContext": {"privileged": true,
                "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}},
             "ports": [{"containerPort": 80, "hostPort": 8080}]},
            {"name": "b", "image": "i", "securityContext": {"privileged": true,
                "seccompProfile": {"type": "Unconfined"}, "procMount": "Unmasked"}}],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}]
    });
    assert_eq!(
        message("baseline", spec).unwrap(),
        "pods \"p\" is forbidden: violates PodSecurity \"baseline:latest\": \
         non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add), \
         host namespaces (hostNetwork=true, hostPID=true), \
         hostPath volumes (volume \"host\"), \
         hostPort (container \"a\" uses hostPort 8080), \
         privileged (containers \"a\", \"b\" must not set securityContext.privileged=true), \
         procMount (container \"b\" must not set securityContext.procMount to \"Unmasked\"), \
         seccompProfile (container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\"), \
         forbidden sysctls (kernel.msgmax)"
    );
}

#[test]
fn levels_allow_what_they_allow() {
    let plain = json!({"containers": [{"name": "c", "image": "i"}]});
    assert_eq!(message("baseline", plain.clone()), None);
    assert_eq!(
        message("privileged", json!({"hostNetwork": true, "containers": []})),
        None
    );
    assert_eq!(message("restricted", restricted_spec()), None);
    assert_eq!(
        admit_pod(None, &pod(json!({"hostNetwork": true, "containers": []}))).ok(),
        Some(())
    );
    assert_eq!(
        message("restricted", plain).unwrap(),
        "pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": \
         allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), \
         seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
}

#[test]
fn restricted_adds_volume_root_and_capability_checks() {
    let mut spec = restricted_spec();
    spec["volumes"] = json!([{"name": "host", "hostPath": {"path": "/"}}]);
    spec["securityContext"]["runAsUser"] = json!(0);
    spec["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["SYS_TIME"]);
    assert_eq!(
        message("restricted", spec).unwrap(),
        "pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": \
         unrestricted capabilities (container \"c\" must not include \"SYS_TIME\" in securityContext.capabilities.add), \
         hostPath volumes (volume \"host\"), \
         restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), \
         runAsUser=0 (pod must not set runAsUser=0)"
    );
}

#[test]
fn unknown_levels_are_enforced_as_restricted() {
    assert_eq!(Level::from_label("bogus"), Level::Restricted);
    assert!(
        message(
            "bogus",
            json!({"containers": [{"name": "c", "image": "i"}]})
        )
        .is_some()
    );
}

#[test]
fn warn_level_words_the_violations_as_a_warning() {
    let breaking = pod(json!({"hostNetwork": true, "containers": [{"name": "c", "image": "i"}]}));
    assert_eq!(
        warning(Some("baseline"), &breaking).as_deref(),
        Some("would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)")
    );
    assert_eq!(warning(None, &breaking), None);
    assert_eq!(warning(Some("restricted"), &pod(restricted_spec())), None);
}
