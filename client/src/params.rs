//! Request parameters for list, watch, delete and bind.

/// Options for [`crate::Client::list`]. `Default` lists everything.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    /// Kubernetes label selector, e.g. `app=web,tier in (a,b)`.
    pub label_selector: String,
    /// Field selector, e.g. `spec.nodeName=node-1,status.phase!=Running`.
    pub field_selector: String,
    /// Page size; 0 = no limit.
    pub limit: i64,
    /// The continue token of the previous page.
    pub continue_token: String,
    /// Read as of this resourceVersion; "" = latest.
    pub resource_version: String,
}

impl ListParams {
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = selector.into();
        self
    }

    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = selector.into();
        self
    }

    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = limit;
        self
    }
}

/// Options for [`crate::Client::watch`].
#[derive(Clone, Debug, Default)]
pub struct WatchParams {
    pub label_selector: String,
    pub field_selector: String,
    /// "" = first every current object as ADDED, then changes; otherwise
    /// changes after this resourceVersion (usually a list's).
    pub resource_version: String,
    /// Ask for periodic BOOKMARK events carrying the latest resourceVersion.
    pub allow_bookmarks: bool,
}

impl WatchParams {
    /// Changes after `resource_version`.
    pub fn from_version(resource_version: impl Into<String>) -> Self {
        WatchParams {
            resource_version: resource_version.into(),
            ..Default::default()
        }
    }

    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = selector.into();
        self
    }

    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = selector.into();
        self
    }

    pub fn bookmarks(mut self) -> Self {
        self.allow_bookmarks = true;
        self
    }
}

/// What happens to dependents of a deleted object (recorded for the garbage collector).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PropagationPolicy {
    #[default]
    Background,
    Foreground,
    Orphan,
}

impl PropagationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PropagationPolicy::Background => "Background",
            PropagationPolicy::Foreground => "Foreground",
            PropagationPolicy::Orphan => "Orphan",
        }
    }
}

/// Options for [`crate::Client::delete`].
#[derive(Clone, Debug, Default)]
pub struct DeleteParams {
    /// `None` = the object's default; 0 = delete at once.
    pub grace_period_seconds: Option<i64>,
    /// Delete only if the object still has this uid.
    pub precondition_uid: Option<String>,
    /// Delete only if the object still has this resourceVersion.
    pub precondition_resource_version: Option<String>,
    pub propagation_policy: Option<PropagationPolicy>,
}

impl DeleteParams {
    /// Delete at once, without a grace period.
    pub fn immediate() -> Self {
        DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        }
    }
}

/// A pod to bind to a node (`pods/binding`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub namespace: String,
    pub pod: String,
    pub node: String,
}
