//! PodSecurity: the namespace label `pod-security.kubernetes.io/enforce`
//! (`privileged`, `baseline` or `restricted`) rejects pods that break that
//! Pod Security Standard with Kubernetes' 403 (`violates PodSecurity
//! "baseline:latest": host namespaces (hostNetwork=true), …`), the
//! violations in the order of Kubernetes' check IDs.
//!
//! `pod-security.kubernetes.io/warn` adds a `Warning` to the answer
//! (`would violate PodSecurity …`) and admits the pod. Both apply on
//! create; `audit` is not applied (there is no audit log), `-version`
//! labels are read as `latest`, and a value that is not a level is read as
//! `restricted`. Nothing is exempt.

use std::collections::BTreeSet;

use api::k8s_openapi::api::core::v1::{Container, Pod, PodSpec, SecurityContext};

use crate::admission::forbidden;
use crate::error::ApiError;

/// A Pod Security Standard level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    /// The level a label value names; anything else is `restricted`.
    pub(crate) fn from_label(value: &str) -> Level {
        match value {
            "privileged" => Level::Privileged,
            "baseline" => Level::Baseline,
            _ => Level::Restricted,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

/// Capabilities baseline pods may add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls baseline pods may set.
const SAFE_SYSCTLS: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ping_group_range",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_wmem",
];

/// SELinux types baseline pods may use.
const SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Rejects the pod if it breaks the namespace's enforced level.
pub(crate) fn admit_pod(enforce: Option<&str>, pod: &Pod) -> Result<(), ApiError> {
    let Some(violations) = violations(enforce, pod) else {
        return Ok(());
    };
    let name = pod.metadata.name.as_deref().unwrap_or("");
    Err(forbidden(
        "pods",
        name,
        format_args!("violates {violations}"),
    ))
}

/// The warning for a pod that breaks the namespace's `warn` level, worded
/// as Kubernetes' (`would violate PodSecurity "restricted:latest": …`).
pub(crate) fn warning(warn: Option<&str>, pod: &Pod) -> Option<String> {
    violations(warn, pod).map(|violations| format!("would violate {violations}"))
}

/// The pod as PodSecurity checks a write of its ephemeral containers:
/// each one as one more container (they share the fields the checks read:
/// security context, volume mounts, image).
pub(crate) fn with_ephemeral_containers(pod: &Pod) -> Pod {
    let mut checked = pod.clone();
    if let Some(spec) = checked.spec.as_mut() {
        for ephemeral in spec.ephemeral_containers.take().into_iter().flatten() {
            spec.containers.push(Container {
                name: ephemeral.name,
                image: ephemeral.image,
                security_context: ephemeral.security_context,
                volume_mounts: ephemeral.volume_mounts,
                ..Default::default()
            });
        }
    }
    checked
}

/// `PodSecurity "<level>:latest": <violations>` for a pod that breaks the
/// level a label names; `None` without the label or a violation.
fn violations(label: Option<&str>, pod: &Pod) -> Option<String> {
    let level = label.map(Level::from_label)?;
    let violations = check(level, pod);
    if violations.is_empty() {
        return None;
    }
    let text: Vec<String> = violations
        .iter()
        .map(|(_, reason, detail)| format!("{reason} ({detail})"))
        .collect();
    Some(format!(
        "PodSecurity \"{}:latest\": {}",
        level.as_str(),
        text.join(", ")
    ))
}

/// `container "a"` or `containers "a", "b"`.
fn subjects(singular: &str, plural: &str, names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
    let noun = if names.len() == 1 { singular } else { plural };
    format!("{noun} {}", quoted.join(", "))
}

fn containers(spec: &PodSpec) -> Vec<(&str, Option<&SecurityContext>, &Container)> {
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| (c.name.as_str(), c.security_context.as_ref(), c))
        .collect()
}

/// Every violation as (check ID, reason, detail), sorted by check ID.
fn check(level: Level, pod: &Pod) -> Vec<(&'static str, &'static str, String)> {
    let mut found = Vec::new();
    if level == Level::Privileged {
        return found;
    }
    let Some(spec) = pod.spec.as_ref() else {
        return found;
    };
    let pod_context = spec.security_context.as_ref();
    let all = containers(spec);
    let restricted = level == Level::Restricted;

    // hostNamespaces
    let mut namespaces = Vec::new();
    for (set, name) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if set == Some(true) {
            namespaces.push(format!("{name}=true"));
        }
    }
    if !namespaces.is_empty() {
        found.push(("hostNamespaces", "host namespaces", namespaces.join(", ")));
    }
    // privileged
    let privileged: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| sc.and_then(|sc| sc.privileged) == Some(true))
        .map(|(name, _, _)| *name)
        .collect();
    if !privileged.is_empty() {
        found.push((
            "privileged",
            "privileged",
            format!(
                "{} must not set securityContext.privileged=true",
                subjects("container", "containers", &privileged)
            ),
        ));
    }
    // capabilities (baseline, or restricted's stricter form)
    let mut bad_names = Vec::new();
    let mut bad_caps = BTreeSet::new();
    let mut no_drop_all = Vec::new();
    for (name, sc, _) in &all {
        let capabilities = sc.and_then(|sc| sc.capabilities.as_ref());
        let added = capabilities
            .and_then(|c| c.add.as_ref())
            .into_iter()
            .flatten();
        let mut bad = false;
        for cap in added {
            let allowed = if restricted {
                cap == "NET_BIND_SERVICE"
            } else {
                BASELINE_CAPABILITIES.contains(&cap.as_str())
            };
            if !allowed {
                bad_caps.insert(cap.as_str());
                bad = true;
            }
        }
        if bad {
            bad_names.push(*name);
        }
        let drops_all = capabilities
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|drop| drop.iter().any(|cap| cap == "ALL"));
        if restricted && !drops_all {
            no_drop_all.push(*name);
        }
    }
    let caps: Vec<String> = bad_caps.iter().map(|cap| format!("{cap:?}")).collect();
    let add_text = (!bad_names.is_empty()).then(|| {
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            subjects("container", "containers", &bad_names),
            caps.join(", ")
        )
    });
    if restricted {
        let mut parts = Vec::new();
        if !no_drop_all.is_empty() {
            parts.push(format!(
                "{} must set securityContext.capabilities.drop=[\"ALL\"]",
                subjects("container", "containers", &no_drop_all)
            ));
        }
        parts.extend(add_text);
        if !parts.is_empty() {
            found.push((
                "capabilities_restricted",
                "unrestricted capabilities",
                parts.join("; "),
            ));
        }
    } else if let Some(text) = add_text {
        found.push(("capabilities_baseline", "non-default capabilities", text));
    }
    // hostPathVolumes
    let host_paths: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.host_path.is_some())
        .map(|v| v.name.as_str())
        .collect();
    if !host_paths.is_empty() {
        found.push((
            "hostPathVolumes",
            "hostPath volumes",
            subjects("volume", "volumes", &host_paths),
        ));
    }
    // hostPorts
    let mut port_names = Vec::new();
    let mut ports = Vec::new();
    for (name, _, container) in &all {
        let used: Vec<i32> = container
            .ports
            .iter()
            .flatten()
            .filter_map(|port| port.host_port)
            .filter(|port| *port != 0)
            .collect();
        if !used.is_empty() {
            port_names.push(*name);
            ports.extend(used);
        }
    }
    if !port_names.is_empty() {
        let (verb, noun) = if port_names.len() == 1 && ports.len() == 1 {
            ("uses", "hostPort")
        } else if port_names.len() == 1 {
            ("uses", "hostPorts")
        } else {
            ("use", "hostPorts")
        };
        let listed: Vec<String> = ports.iter().map(ToString::to_string).collect();
        found.push((
            "hostPorts",
            "hostPort",
            format!(
                "{} {verb} {noun} {}",
                subjects("container", "containers", &port_names),
                listed.join(", ")
            ),
        ));
    }
    // appArmorProfile
    let mut apparmor = Vec::new();
    for (key, value) in pod.metadata.annotations.iter().flatten() {
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
            && value != "runtime/default"
            && !value.starts_with("localhost/")
        {
            apparmor.push(format!("annotation {key}={value:?}"));
        }
    }
    let unconfined = |profile: Option<&str>| profile == Some("Unconfined");
    if unconfined(
        pod_context
            .and_then(|sc| sc.app_armor_profile.as_ref())
            .map(|p| p.type_.as_str()),
    ) {
        apparmor.push(
            "pod must not set securityContext.appArmorProfile.type to \"Unconfined\"".to_string(),
        );
    }
    let armored: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| {
            unconfined(
                sc.and_then(|sc| sc.app_armor_profile.as_ref())
                    .map(|p| p.type_.as_str()),
            )
        })
        .map(|(name, _, _)| *name)
        .collect();
    if !armored.is_empty() {
        apparmor.push(format!(
            "{} must not set securityContext.appArmorProfile.type to \"Unconfined\"",
            subjects("container", "containers", &armored)
        ));
    }
    if !apparmor.is_empty() {
        found.push((
            "appArmorProfile",
            "forbidden AppArmor profile(s)",
            apparmor.join("; "),
        ));
    }
    // procMount
    let proc_mounts: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| {
            sc.and_then(|sc| sc.proc_mount.as_deref())
                .is_some_and(|m| m != "Default")
        })
        .map(|(name, _, _)| *name)
        .collect();
    if !proc_mounts.is_empty() {
        found.push((
            "procMount",
            "procMount",
            format!(
                "{} must not set securityContext.procMount to \"Unmasked\"",
                subjects("container", "containers", &proc_mounts)
            ),
        ));
    }
    // seLinuxOptions
    let mut selinux = BTreeSet::new();
    let mut selinux_pod = false;
    let mut selinux_names = Vec::new();
    let mut judge = |options: Option<&api::k8s_openapi::api::core::v1::SELinuxOptions>| -> bool {
        let Some(options) = options else { return false };
        let mut bad = false;
        let kind = options.type_.as_deref().unwrap_or("");
        if !SELINUX_TYPES.contains(&kind) {
            selinux.insert(format!("type {kind:?}"));
            bad = true;
        }
        if let Some(user) = options.user.as_deref().filter(|u| !u.is_empty()) {
            selinux.insert(format!("user {user:?}"));
            bad = true;
        }
        if let Some(role) = options.role.as_deref().filter(|r| !r.is_empty()) {
            selinux.insert(format!("role {role:?}"));
            bad = true;
        }
        bad
    };
    if judge(pod_context.and_then(|sc| sc.se_linux_options.as_ref())) {
        selinux_pod = true;
    }
    for (name, sc, _) in &all {
        if judge(sc.and_then(|sc| sc.se_linux_options.as_ref())) {
            selinux_names.push(*name);
        }
    }
    if selinux_pod || !selinux_names.is_empty() {
        let who = match (selinux_pod, selinux_names.is_empty()) {
            (true, true) => "pod".to_string(),
            (true, false) => format!(
                "pod and {}",
                subjects("container", "containers", &selinux_names)
            ),
            _ => subjects("container", "containers", &selinux_names),
        };
        let listed: Vec<String> = selinux.into_iter().collect();
        found.push((
            "seLinuxOptions",
            "seLinuxOptions",
            format!(
                "{who} set forbidden securityContext.seLinuxOptions: {}",
                listed.join("; ")
            ),
        ));
    }
    // seccompProfile (baseline: not Unconfined; restricted: RuntimeDefault or Localhost)
    let seccomp = |sc: Option<&SecurityContext>| {
        sc.and_then(|sc| sc.seccomp_profile.as_ref())
            .map(|p| p.type_.clone())
    };
    let pod_seccomp = pod_context
        .and_then(|sc| sc.seccomp_profile.as_ref())
        .map(|p| p.type_.clone());
    let mut seccomp_parts = Vec::new();
    if pod_seccomp.as_deref() == Some("Unconfined") {
        seccomp_parts.push(
            "pod must not set securityContext.seccompProfile.type to \"Unconfined\"".to_string(),
        );
    }
    let unconfined_names: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| seccomp(*sc).as_deref() == Some("Unconfined"))
        .map(|(name, _, _)| *name)
        .collect();
    if !unconfined_names.is_empty() {
        seccomp_parts.push(format!(
            "{} must not set securityContext.seccompProfile.type to \"Unconfined\"",
            subjects("container", "containers", &unconfined_names)
        ));
    }
    if restricted {
        let pod_ok = matches!(pod_seccomp.as_deref(), Some("RuntimeDefault" | "Localhost"));
        let unset: Vec<&str> = all
            .iter()
            .filter(|(_, sc, _)| seccomp(*sc).is_none() && !pod_ok)
            .map(|(name, _, _)| *name)
            .collect();
        if !unset.is_empty() && pod_seccomp.is_none() {
            seccomp_parts.push(format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                subjects("container", "containers", &unset)
            ));
        }
        if !seccomp_parts.is_empty() {
            found.push((
                "seccompProfile_restricted",
                "seccompProfile",
                seccomp_parts.join("; "),
            ));
        }
    } else if !seccomp_parts.is_empty() {
        found.push((
            "seccompProfile_baseline",
            "seccompProfile",
            seccomp_parts.join("; "),
        ));
    }
    // sysctls
    let sysctls: Vec<&str> = pod_context
        .and_then(|sc| sc.sysctls.as_ref())
        .into_iter()
        .flatten()
        .map(|sysctl| sysctl.name.as_str())
        .filter(|name| !SAFE_SYSCTLS.contains(name))
        .collect();
    if !sysctls.is_empty() {
        found.push(("sysctls", "forbidden sysctls", sysctls.join(", ")));
    }
    // windowsHostProcess
    let host_process = |sc: Option<&SecurityContext>| {
        sc.and_then(|sc| sc.windows_options.as_ref())
            .and_then(|w| w.host_process)
            == Some(true)
    };
    let pod_host_process = pod_context
        .and_then(|sc| sc.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true);
    let host_processes: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| host_process(*sc))
        .map(|(name, _, _)| *name)
        .collect();
    if pod_host_process || !host_processes.is_empty() {
        let who = if host_processes.is_empty() {
            "pod".to_string()
        } else {
            subjects("container", "containers", &host_processes)
        };
        found.push((
            "windowsHostProcess",
            "hostProcess",
            format!("{who} must not set securityContext.windowsOptions.hostProcess=true"),
        ));
    }
    if restricted {
        restricted_checks(spec, &all, &mut found);
    }
    found.sort_by(|a, b| a.0.cmp(b.0));
    found
}

/// The checks only the restricted level adds.
fn restricted_checks(
    spec: &PodSpec,
    all: &[(&str, Option<&SecurityContext>, &Container)],
    found: &mut Vec<(&'static str, &'static str, String)>,
) {
    let pod_context = spec.security_context.as_ref();
    // restrictedVolumes
    let mut volume_names = Vec::new();
    let mut volume_types = BTreeSet::new();
    for volume in spec.volumes.iter().flatten() {
        let value = serde_json::to_value(volume).unwrap_or_default();
        let restricted_type = value.as_object().and_then(|fields| {
            fields
                .keys()
                .find(|key| {
                    !matches!(
                        key.as_str(),
                        "name"
                            | "configMap"
                            | "csi"
                            | "downwardAPI"
                            | "emptyDir"
                            | "ephemeral"
                            | "persistentVolumeClaim"
                            | "projected"
                            | "secret"
                    )
                })
                .cloned()
        });
        if let Some(kind) = restricted_type {
            volume_names.push(volume.name.as_str());
            volume_types.insert(kind);
        }
    }
    if !volume_names.is_empty() {
        let types: Vec<String> = volume_types.iter().map(|t| format!("{t:?}")).collect();
        let (verb, noun) = if volume_names.len() == 1 && types.len() == 1 {
            ("uses", "type")
        } else if volume_names.len() == 1 {
            ("uses", "types")
        } else {
            ("use", "types")
        };
        found.push((
            "restrictedVolumes",
            "restricted volume types",
            format!(
                "{} {verb} restricted volume {noun} {}",
                subjects("volume", "volumes", &volume_names),
                types.join(", ")
            ),
        ));
    }
    // allowPrivilegeEscalation
    let escalating: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| sc.and_then(|sc| sc.allow_privilege_escalation) != Some(false))
        .map(|(name, _, _)| *name)
        .collect();
    if !escalating.is_empty() {
        found.push((
            "allowPrivilegeEscalation",
            "allowPrivilegeEscalation != false",
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                subjects("container", "containers", &escalating)
            ),
        ));
    }
    // runAsNonRoot
    let pod_non_root = pod_context.and_then(|sc| sc.run_as_non_root);
    let mut non_root = Vec::new();
    if pod_non_root == Some(false) {
        non_root.push("pod must not set securityContext.runAsNonRoot=false".to_string());
    }
    let explicit_false: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| sc.and_then(|sc| sc.run_as_non_root) == Some(false))
        .map(|(name, _, _)| *name)
        .collect();
    if !explicit_false.is_empty() {
        non_root.push(format!(
            "{} must not set securityContext.runAsNonRoot=false",
            subjects("container", "containers", &explicit_false)
        ));
    }
    if pod_non_root.is_none() {
        let unset: Vec<&str> = all
            .iter()
            .filter(|(_, sc, _)| sc.and_then(|sc| sc.run_as_non_root).is_none())
            .map(|(name, _, _)| *name)
            .collect();
        if !unset.is_empty() {
            non_root.push(format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                subjects("container", "containers", &unset)
            ));
        }
    }
    if !non_root.is_empty() {
        found.push(("runAsNonRoot", "runAsNonRoot != true", non_root.join("; ")));
    }
    // runAsUser
    let mut root = Vec::new();
    if pod_context.and_then(|sc| sc.run_as_user) == Some(0) {
        root.push("pod must not set runAsUser=0".to_string());
    }
    let root_names: Vec<&str> = all
        .iter()
        .filter(|(_, sc, _)| sc.and_then(|sc| sc.run_as_user) == Some(0))
        .map(|(name, _, _)| *name)
        .collect();
    if !root_names.is_empty() {
        root.push(format!(
            "{} must not set runAsUser=0",
            subjects("container", "containers", &root_names)
        ));
    }
    if !root.is_empty() {
        found.push(("runAsUser", "runAsUser=0", root.join("; ")));
    }
}

#[cfg(test)]
mod tests;
