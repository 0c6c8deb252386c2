//! The face-neutral request: who asks ([`UserInfo`]) and what they ask for
//! ([`Attributes`]), as Kubernetes' authorizer sees a request.
//!
//! Both faces (gRPC and REST) turn their wire request into these before
//! anything else runs, so authorization, admission and audit see one shape
//! whatever the wire.

use std::fmt;
use std::sync::Arc;

/// An authenticated (or anonymous) user, as Kubernetes' `user.Info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

/// Name of the user every unauthenticated request runs as.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// Group of unauthenticated requests.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// Group every authenticated user is in.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Group whose members may do anything (not subject to RBAC).
pub const MASTERS_GROUP: &str = "system:masters";

impl UserInfo {
    /// The anonymous user.
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: ANONYMOUS_USER.to_string(),
            uid: String::new(),
            groups: vec![UNAUTHENTICATED_GROUP.to_string()],
        }
    }

    /// An authenticated user; `system:authenticated` is added to `groups`.
    pub fn authenticated(name: impl Into<String>, mut groups: Vec<String>) -> UserInfo {
        if !groups.iter().any(|group| group == AUTHENTICATED_GROUP) {
            groups.push(AUTHENTICATED_GROUP.to_string());
        }
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups,
        }
    }

    /// The apiserver's own identity (Kubernetes' loopback client,
    /// `system:apiserver` in `system:masters`): what it bootstraps runs as
    /// this, and so do gRPC requests until that face authenticates.
    pub fn loopback() -> UserInfo {
        UserInfo::authenticated("system:apiserver", vec![MASTERS_GROUP.to_string()])
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|candidate| candidate == group)
    }
}

/// A request verb, as RBAC rules name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    /// The verb as RBAC rules spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one request asks for, as Kubernetes' `authorizer.Attributes`:
/// a resource request (verb on group/resource/subresource, in a namespace,
/// maybe naming one object) or a non-resource request (a verb on a path
/// such as `/healthz`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub user: Arc<UserInfo>,
    /// For non-resource requests the HTTP verb in lower case (`get`, `post`…).
    pub verb: String,
    pub resource_request: bool,
    /// API group, "" for core.
    pub group: String,
    pub version: String,
    /// Resource plural, e.g. `pods`.
    pub resource: String,
    /// e.g. `status`, `binding`; "" for the object itself.
    pub subresource: String,
    /// "" for cluster-scoped resources and all-namespace lists.
    pub namespace: String,
    /// "" for collection verbs (list, watch of a collection, create).
    pub name: String,
    /// The request path, for non-resource requests.
    pub path: String,
}

impl Attributes {
    /// A resource request.
    pub fn resource(
        user: Arc<UserInfo>,
        verb: Verb,
        info: &api::KindInfo,
        subresource: &str,
        namespace: &str,
        name: &str,
    ) -> Attributes {
        Attributes {
            user,
            verb: verb.as_str().to_string(),
            resource_request: true,
            group: info.group.to_string(),
            version: info.version.to_string(),
            resource: info.plural.to_string(),
            subresource: subresource.to_string(),
            namespace: if info.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
            path: String::new(),
        }
    }

    /// A non-resource request (`/healthz`, `/version`, `/api`…).
    pub fn non_resource(user: Arc<UserInfo>, verb: &str, path: &str) -> Attributes {
        Attributes {
            user,
            verb: verb.to_ascii_lowercase(),
            resource_request: false,
            group: String::new(),
            version: String::new(),
            resource: String::new(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            path: path.to_string(),
        }
    }

    /// `pods` or `pods/status`, as RBAC rules and messages name it.
    pub fn resource_with_subresource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}
