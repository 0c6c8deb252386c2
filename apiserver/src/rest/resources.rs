//! The REST facts of every resource Skiff serves, as discovery publishes them:
//! plural, singular, kind, scope, verbs, short names, categories and
//! subresources, in one table of [`ResourceRow`]s.
//!
//! The static table covers every kind in [`api::ALL_KINDS`] plus the virtual
//! resources (reviews, metrics, CustomResourceDefinitions, `events.k8s.io`
//! events). Resources added at runtime (from CustomResourceDefinitions) are
//! rows of the same type, passed next to the static table as `extras`.

use std::cmp::Ordering;
use std::sync::LazyLock;

/// Verbs of a stored resource, as Kubernetes' generic store offers them.
pub(crate) const STORED_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Verbs of namespaces: their storage has no collection delete.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Verbs of create-only resources (bindings, reviews, token requests).
const CREATE_VERBS: &[&str] = &["create"];
/// Verbs of read-only resources (metrics).
const READ_VERBS: &[&str] = &["get", "list"];
/// Verbs of `status`, `scale` and `ephemeralcontainers` subresources.
const GET_PATCH_UPDATE_VERBS: &[&str] = &["get", "patch", "update"];
/// Verbs of the streaming `exec`, `attach` and `portforward` subresources.
const STREAM_VERBS: &[&str] = &["create", "get"];
/// Verbs of the `proxy` subresources (every HTTP method but HEAD and OPTIONS).
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];

/// The kind an endpoint answers with; empty `group` and `version` mean the
/// group and version of the resource that carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ResponseKind {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
}

impl ResponseKind {
    /// A kind in the resource's own group and version.
    pub(crate) fn same_group(kind: &str) -> ResponseKind {
        ResponseKind {
            kind: kind.to_string(),
            ..ResponseKind::default()
        }
    }

    /// A kind of another group and version (`autoscaling/v1 Scale`).
    pub(crate) fn other_group(group: &str, version: &str, kind: &str) -> ResponseKind {
        ResponseKind {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }
}

/// One subresource (`status`, `scale`, `log`…) of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SubresourceRow {
    /// The path segment after the object name, e.g. `status`.
    pub(crate) name: String,
    pub(crate) response_kind: ResponseKind,
    pub(crate) verbs: Vec<String>,
}

/// The REST facts of one resource in one group version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResourceRow {
    /// API group, "" for the core group.
    pub(crate) group: String,
    pub(crate) version: String,
    /// Lower-case plural used in URLs, e.g. `pods`.
    pub(crate) plural: String,
    /// Lower-case kind, e.g. `pod`.
    pub(crate) singular: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
    pub(crate) verbs: Vec<String>,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) subresources: Vec<SubresourceRow>,
}

impl ResourceRow {
    /// A stored resource with the standard verbs and nothing else; callers
    /// (and CustomResourceDefinitions) fill in the rest.
    pub(crate) fn stored(
        group: &str,
        version: &str,
        plural: &str,
        kind: &str,
        namespaced: bool,
    ) -> ResourceRow {
        ResourceRow {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            singular: kind.to_ascii_lowercase(),
            kind: kind.to_string(),
            namespaced,
            verbs: strings(STORED_VERBS),
            short_names: Vec::new(),
            categories: Vec::new(),
            subresources: Vec::new(),
        }
    }

    /// The subresource named `name`, if the resource has it.
    pub(crate) fn subresource(&self, name: &str) -> Option<&SubresourceRow> {
        self.subresources
            .iter()
            .find(|subresource| subresource.name == name)
    }

    fn with_verbs(mut self, verbs: &[&str]) -> ResourceRow {
        self.verbs = strings(verbs);
        self
    }

    fn with_short_names(mut self, short_names: &[&str]) -> ResourceRow {
        self.short_names = strings(short_names);
        self
    }

    fn with_categories(mut self, categories: &[&str]) -> ResourceRow {
        self.categories = strings(categories);
        self
    }

    fn with_subresource(
        mut self,
        name: &str,
        response_kind: ResponseKind,
        verbs: &[&str],
    ) -> ResourceRow {
        self.subresources.push(SubresourceRow {
            name: name.to_string(),
            response_kind,
            verbs: strings(verbs),
        });
        self
    }
}

/// One API group and the versions it serves, most preferred first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupVersions {
    /// "" for the core group.
    pub(crate) group: String,
    pub(crate) versions: Vec<String>,
}

impl GroupVersions {
    /// The version clients should use.
    #[cfg(test)]
    pub(crate) fn preferred_version(&self) -> Option<&str> {
        self.versions.first().map(String::as_str)
    }
}

/// The static table: every kind Skiff stores plus the virtual resources.
pub(crate) fn static_resources() -> &'static [ResourceRow] {
    static TABLE: LazyLock<Vec<ResourceRow>> = LazyLock::new(build_static_table);
    &TABLE
}

/// The static table followed by `extras`.
pub(crate) fn all_resources(extras: &[ResourceRow]) -> impl Iterator<Item = &ResourceRow> {
    static_resources().iter().chain(extras.iter())
}

/// The resource served at `group`/`version`/`plural`.
pub(crate) fn find_resource<'a>(
    extras: &'a [ResourceRow],
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'a ResourceRow> {
    all_resources(extras)
        .find(|row| row.group == group && row.version == version && row.plural == plural)
}

/// Every resource served in one group version, in table order.
pub(crate) fn resources_in_group_version<'a>(
    extras: &'a [ResourceRow],
    group: &str,
    version: &str,
) -> Vec<&'a ResourceRow> {
    all_resources(extras)
        .filter(|row| row.group == group && row.version == version)
        .collect()
}

/// Every group with its versions: the core group first, then groups in
/// Kubernetes' discovery priority order (built-in groups, then groups added
/// by CustomResourceDefinitions by name, then aggregated `metrics.k8s.io`).
pub(crate) fn groups(extras: &[ResourceRow]) -> Vec<GroupVersions> {
    let mut groups: Vec<GroupVersions> = Vec::new();
    for row in all_resources(extras) {
        match groups.iter_mut().find(|entry| entry.group == row.group) {
            Some(entry) => {
                if !entry.versions.contains(&row.version) {
                    entry.versions.push(row.version.clone());
                }
            }
            None => groups.push(GroupVersions {
                group: row.group.clone(),
                versions: vec![row.version.clone()],
            }),
        }
    }
    for entry in &mut groups {
        entry
            .versions
            .sort_by(|left, right| compare_kube_versions(left, right));
    }
    groups.sort_by(|left, right| {
        group_priority(&right.group)
            .cmp(&group_priority(&left.group))
            .then_with(|| left.group.cmp(&right.group))
    });
    groups
}

/// The resource a user names on the command line: a plural, singular,
/// short name or kind (kind case-insensitively), the first match in
/// discovery group order, as kubectl resolves it.
#[cfg(test)]
pub(crate) fn resolve_name<'a>(extras: &'a [ResourceRow], name: &str) -> Option<&'a ResourceRow> {
    let lower = name.to_ascii_lowercase();
    let order = groups(extras);
    let rank = |row: &ResourceRow| {
        order
            .iter()
            .position(|entry| entry.group == row.group)
            .unwrap_or(usize::MAX)
    };
    let mut best: Option<&ResourceRow> = None;
    for row in all_resources(extras) {
        let matches = row.plural == lower
            || row.singular == lower
            || row.kind.eq_ignore_ascii_case(name)
            || row.short_names.contains(&lower);
        if matches && best.is_none_or(|current| rank(row) < rank(current)) {
            best = Some(row);
        }
    }
    best
}

/// `v1` or `apps/v1`.
pub(crate) fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Discovery priority of a group (higher first), as kube-aggregator ranks
/// the built-in groups; groups from CustomResourceDefinitions rank 1000 and
/// the aggregated metrics API ranks 100, as metrics-server registers it.
fn group_priority(group: &str) -> u32 {
    match group {
        "" => 18000,
        "apps" => 17800,
        "events.k8s.io" => 17750,
        "authentication.k8s.io" => 17700,
        "authorization.k8s.io" => 17600,
        "autoscaling" => 17500,
        "batch" => 17400,
        "networking.k8s.io" => 17200,
        "policy" => 17100,
        "rbac.authorization.k8s.io" => 17000,
        "apiextensions.k8s.io" => 16700,
        "scheduling.k8s.io" => 16600,
        "coordination.k8s.io" => 16500,
        "discovery.k8s.io" => 16200,
        "metrics.k8s.io" => 100,
        _ => 1000,
    }
}

/// Orders versions as Kubernetes does: GA before beta before alpha, higher
/// numbers first, and versions not of that form last, by name.
fn compare_kube_versions(left: &str, right: &str) -> Ordering {
    match (parse_kube_version(left), parse_kube_version(right)) {
        (Some(left_key), Some(right_key)) => right_key.cmp(&left_key),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => left.cmp(right),
    }
}

/// `(stability, major, minor)` of `v2`, `v1beta1`, `v1alpha3`; stability is
/// 2 for GA, 1 for beta, 0 for alpha.
fn parse_kube_version(version: &str) -> Option<(u8, u32, u32)> {
    let rest = version.strip_prefix('v')?;
    let major_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let major: u32 = rest[..major_end].parse().ok()?;
    let suffix = &rest[major_end..];
    if suffix.is_empty() {
        return Some((2, major, 0));
    }
    let (stability, number) = if let Some(number) = suffix.strip_prefix("beta") {
        (1, number)
    } else if let Some(number) = suffix.strip_prefix("alpha") {
        (0, number)
    } else {
        return None;
    };
    let minor: u32 = number.parse().ok()?;
    Some((stability, major, minor))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_string()).collect()
}

/// The rows of every stored kind, then the virtual resources.
fn build_static_table() -> Vec<ResourceRow> {
    let mut rows: Vec<ResourceRow> = api::ALL_KINDS.iter().map(stored_kind_row).collect();
    rows.extend(virtual_rows());
    rows
}

/// The row of one stored kind: its `KindInfo` plus Kubernetes' published
/// short names, categories, verbs and subresources.
fn stored_kind_row(info: &api::KindInfo) -> ResourceRow {
    let mut row = ResourceRow::stored(
        info.group,
        info.version,
        info.plural,
        info.kind,
        info.namespaced,
    );
    if info.has_status {
        row = row.with_subresource(
            "status",
            ResponseKind::same_group(info.kind),
            GET_PATCH_UPDATE_VERBS,
        );
    }
    let scale = || ResponseKind::other_group("autoscaling", "v1", "Scale");
    match info.plural {
        "pods" => row
            .with_short_names(&["po"])
            .with_categories(&["all"])
            .with_subresource(
                "attach",
                ResponseKind::same_group("PodAttachOptions"),
                STREAM_VERBS,
            )
            .with_subresource("binding", ResponseKind::same_group("Binding"), CREATE_VERBS)
            .with_subresource(
                "ephemeralcontainers",
                ResponseKind::same_group("Pod"),
                GET_PATCH_UPDATE_VERBS,
            )
            .with_subresource(
                "eviction",
                ResponseKind::other_group("policy", "v1", "Eviction"),
                CREATE_VERBS,
            )
            .with_subresource(
                "exec",
                ResponseKind::same_group("PodExecOptions"),
                STREAM_VERBS,
            )
            .with_subresource("log", ResponseKind::same_group("Pod"), &["get"])
            .with_subresource(
                "portforward",
                ResponseKind::same_group("PodPortForwardOptions"),
                STREAM_VERBS,
            ),
        "nodes" => row.with_short_names(&["no"]).with_subresource(
            "proxy",
            ResponseKind::same_group("NodeProxyOptions"),
            PROXY_VERBS,
        ),
        "namespaces" => row
            .with_verbs(NAMESPACE_VERBS)
            .with_short_names(&["ns"])
            .with_subresource(
                "finalize",
                ResponseKind::same_group("Namespace"),
                &["update"],
            ),
        "services" => row
            .with_short_names(&["svc"])
            .with_categories(&["all"])
            .with_subresource(
                "proxy",
                ResponseKind::same_group("ServiceProxyOptions"),
                PROXY_VERBS,
            ),
        "endpoints" => row.with_short_names(&["ep"]),
        "replicasets" => row
            .with_short_names(&["rs"])
            .with_categories(&["all"])
            .with_subresource("scale", scale(), GET_PATCH_UPDATE_VERBS),
        "replicationcontrollers" => row
            .with_short_names(&["rc"])
            .with_categories(&["all"])
            .with_subresource("scale", scale(), GET_PATCH_UPDATE_VERBS),
        "deployments" => row
            .with_short_names(&["deploy"])
            .with_categories(&["all"])
            .with_subresource("scale", scale(), GET_PATCH_UPDATE_VERBS),
        "daemonsets" => row.with_short_names(&["ds"]).with_categories(&["all"]),
        "statefulsets" => row
            .with_short_names(&["sts"])
            .with_categories(&["all"])
            .with_subresource("scale", scale(), GET_PATCH_UPDATE_VERBS),
        "jobs" => row.with_categories(&["all"]),
        "cronjobs" => row.with_short_names(&["cj"]).with_categories(&["all"]),
        "horizontalpodautoscalers" => row.with_short_names(&["hpa"]).with_categories(&["all"]),
        "poddisruptionbudgets" => row.with_short_names(&["pdb"]),
        "priorityclasses" => row.with_short_names(&["pc"]),
        "events" => row.with_short_names(&["ev"]),
        "bindings" => row.with_verbs(CREATE_VERBS),
        "ingresses" => row.with_short_names(&["ing"]),
        "configmaps" => row.with_short_names(&["cm"]),
        "serviceaccounts" => row.with_short_names(&["sa"]).with_subresource(
            "token",
            ResponseKind::other_group("authentication.k8s.io", "v1", "TokenRequest"),
            CREATE_VERBS,
        ),
        "resourcequotas" => row.with_short_names(&["quota"]),
        "limitranges" => row.with_short_names(&["limits"]),
        "persistentvolumes" => row.with_short_names(&["pv"]),
        "persistentvolumeclaims" => row.with_short_names(&["pvc"]),
        _ => row,
    }
}

/// The resources Skiff serves without storing them as a kind of `ALL_KINDS`.
fn virtual_rows() -> Vec<ResourceRow> {
    let review = |group: &str, plural: &str, kind: &str, namespaced: bool| {
        ResourceRow::stored(group, "v1", plural, kind, namespaced).with_verbs(CREATE_VERBS)
    };
    let authorization = "authorization.k8s.io";
    let authentication = "authentication.k8s.io";
    vec![
        ResourceRow::stored("events.k8s.io", "v1", "events", "Event", true)
            .with_short_names(&["ev"]),
        review(
            authentication,
            "selfsubjectreviews",
            "SelfSubjectReview",
            false,
        ),
        review(authentication, "tokenreviews", "TokenReview", false),
        review(
            authorization,
            "localsubjectaccessreviews",
            "LocalSubjectAccessReview",
            true,
        ),
        review(
            authorization,
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
            false,
        ),
        review(
            authorization,
            "selfsubjectrulesreviews",
            "SelfSubjectRulesReview",
            false,
        ),
        review(
            authorization,
            "subjectaccessreviews",
            "SubjectAccessReview",
            false,
        ),
        ResourceRow::stored(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        )
        .with_short_names(&["crd", "crds"])
        .with_categories(&["api-extensions"])
        .with_subresource(
            "status",
            ResponseKind::same_group("CustomResourceDefinition"),
            GET_PATCH_UPDATE_VERBS,
        ),
        ResourceRow::stored("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", false)
            .with_verbs(READ_VERBS),
        ResourceRow::stored("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", true)
            .with_verbs(READ_VERBS),
    ]
}

#[cfg(test)]
mod tests;
