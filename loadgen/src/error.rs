//! The errors of a load run, each naming what failed.

use std::path::PathBuf;

/// Why a run or one of its steps failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{flag}: cannot read {path}: {source}")]
    ReadFile {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{flag}: {path}: {source}")]
    Template {
        flag: &'static str,
        path: String,
        #[source]
        source: Box<api::manifest::ManifestError>,
    },
    #[error("{flag}: {path}: expected exactly one {kind} object, found {found}")]
    TemplateKind {
        flag: &'static str,
        path: String,
        kind: &'static str,
        found: String,
    },
    #[error("invalid flag {flag}: {message}")]
    Flag { flag: &'static str, message: String },
    #[error("{action}: {source}")]
    Api {
        action: String,
        #[source]
        source: client::Error,
    },
    #[error("recording {path}: {source}")]
    Recording {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("starting {component}: {message}")]
    Component { component: String, message: String },
    #[error("only {ready} of {expected} node(s) ready after {seconds} s")]
    NodesNotReady {
        ready: usize,
        expected: usize,
        seconds: u64,
    },
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub(crate) fn api(action: impl Into<String>, source: client::Error) -> Error {
        Error::Api {
            action: action.into(),
            source,
        }
    }
}
