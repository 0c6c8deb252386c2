//! The RBAC authorizer with Kubernetes' semantics: rule matching
//! (`rules`), policy resolution and decisions (`authorizer`), and the
//! default roles and bindings Kubernetes ships (`bootstrap`).

pub(crate) mod authorizer;
pub(crate) mod bootstrap;
pub(crate) mod rules;

#[cfg(test)]
mod tests;
