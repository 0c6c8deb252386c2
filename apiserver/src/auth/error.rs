//! [`AuthError`]: every way authentication, the PKI or the signing keys fail.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A PEM file is unreadable or holds the wrong kind of object.
    #[error("{path}: {reason}")]
    BadPemFile { path: PathBuf, reason: String },
    /// The CA is half present (certificate without key or the other way round).
    #[error(
        "{present} exists but {missing} does not; restore it or remove both to create a new CA"
    )]
    IncompleteCa { present: PathBuf, missing: PathBuf },
    #[error("certificate generation: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
    #[error("invalid certificate host {host:?}: {reason}")]
    InvalidHost { host: String, reason: String },
    #[error("tls configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("tls client certificate verifier: {0}")]
    ClientVerifier(String),
    #[error("signing: {0}")]
    Signing(String),
    /// A client certificate could not be read as a user.
    #[error("client certificate: {0}")]
    BadClientCertificate(String),
    /// A line of the static token file is malformed.
    #[error("{path}:{line}: {reason}")]
    TokenFileLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A bearer token that is not a well-formed ServiceAccount JWT.
    #[error("malformed service account token: {0}")]
    MalformedToken(&'static str),
    #[error("service account token signature is invalid")]
    TokenSignature,
    #[error("service account token has expired (exp {expires_unix}, now {now_unix})")]
    TokenExpired { expires_unix: i64, now_unix: i64 },
    #[error("service account token is not valid yet (nbf {not_before_unix}, now {now_unix})")]
    TokenNotYetValid { not_before_unix: i64, now_unix: i64 },
    #[error("service account token issuer {actual:?} is not {expected:?}")]
    TokenIssuer { expected: String, actual: String },
    #[error("service account token audiences {actual:?} include none of {accepted:?}")]
    TokenAudience {
        accepted: Vec<String>,
        actual: Vec<String>,
    },
    /// Credentials were presented but none of the authenticators accepted
    /// them (HTTP 401).
    /// The message is Kubernetes' 401 text; `reason` is for the server log.
    #[error("Unauthorized")]
    Unauthorized { reason: String },
    #[error(transparent)]
    Kubeconfig(#[from] client::kubeconfig::KubeconfigError),
}

impl AuthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AuthError {
        AuthError::Io {
            path: path.into(),
            source,
        }
    }
}
