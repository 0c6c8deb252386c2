//! The RBAC authorizer with Kubernetes' semantics: rule matching
//! (`rules`), policy resolution and decisions (`authorizer`), and the
//! default roles and bindings Kubernetes ships (`bootstrap`).
