//! The crate's error type: one variant per way the kubelet fails to start or
//! run, each naming what the user has to fix (a flag, a template field, the
//! apiserver address).

use std::net::SocketAddr;

use api::FieldErrors;

/// Why the kubelet could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node template is unreadable or invalid.
    #[error("node template {source_name}: {source}")]
    Template {
        /// The file, or "built-in" for the template shipped in the binary.
        source_name: String,
        /// Boxed: manifest errors are large next to the other variants.
        #[source]
        source: Box<TemplateError>,
    },
    /// A flag or config value is out of range.
    #[error("{flag}: {message}")]
    Config { flag: &'static str, message: String },
    /// Only hollow mode exists so far.
    #[error("only hollow mode is implemented: pass --hollow")]
    NotHollow,
    #[error("connecting to the apiserver at {server}: {source}")]
    Connect {
        server: String,
        #[source]
        source: client::Error,
    },
    /// Registering nodes or their leases failed for a reason retrying does not fix.
    #[error("registering node {node}: {source}")]
    Register {
        node: String,
        #[source]
        source: client::Error,
    },
    #[error("serving metrics on {address}: {source}")]
    Metrics {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What is wrong with a node template.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("{0}")]
    Manifest(#[from] api::manifest::ManifestError),
    /// The manifest holds no Node, another kind, or several objects.
    #[error("expected exactly one Node object, found {found}")]
    NotOneNode { found: String },
    /// Field errors with Kubernetes field paths, e.g.
    /// `status.capacity.cpu: Invalid value: "lots": ...`.
    #[error("{0}")]
    Invalid(FieldErrors),
}
