//! Kubeconfig files: the document kubectl reads and writes, written by the
//! apiserver for the users it issues credentials to and read by every client
//! that connects with one.
//!
//! Only what a connection needs is modelled: clusters (server URL and CA),
//! users (client certificate and key, or a bearer token; inline `-data` or a
//! file path relative to the kubeconfig), contexts and the current context.
//! Anything else in a kubeconfig (exec plugins, auth providers, proxies) is
//! ignored on read; a context that names a credential kind Skiff cannot use
//! is an error naming it, not a silent anonymous connection.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// Name of the cluster entry in written kubeconfigs.
pub const CLUSTER_NAME: &str = "skiff";

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("reading kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("kubeconfig {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("kubeconfig: {0}")]
    Invalid(String),
    #[error("writing kubeconfig: {0}")]
    Write(String),
}

/// The credential a kubeconfig user presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    ClientCertificate {
        certificate_pem: Vec<u8>,
        key_pem: Vec<u8>,
    },
    Token(String),
}

/// What the current context of a kubeconfig connects to, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The server URL, e.g. `https://127.0.0.1:6443`.
    pub server: String,
    /// The CA that signed the server's certificate (PEM), when given.
    pub ca_pem: Option<Vec<u8>>,
    /// `None` connects anonymously.
    pub credential: Option<Credential>,
}

/// The kubeconfig document, field names as kubectl writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    #[serde(default)]
    pub current_context: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: Cluster,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedUser {
    pub name: String,
    pub user: User,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// Exec plugins and auth providers are not run; a user that has one is
    /// refused by name rather than connecting anonymously.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedContext {
    pub name: String,
    pub context: Context,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub cluster: String,
    #[serde(default)]
    pub user: String,
}

impl Kubeconfig {
    /// A kubeconfig for `user_name` on the cluster at `server_url` whose CA
    /// is `ca_pem`. The context is named `<user_name>@skiff`.
    pub fn single(
        server_url: &str,
        ca_pem: &str,
        user_name: &str,
        credential: &Credential,
    ) -> Kubeconfig {
        let user = match credential {
            Credential::ClientCertificate {
                certificate_pem,
                key_pem,
            } => User {
                client_certificate_data: Some(STANDARD.encode(certificate_pem)),
                client_key_data: Some(STANDARD.encode(key_pem)),
                ..User::default()
            },
            Credential::Token(token) => User {
                token: Some(token.clone()),
                ..User::default()
            },
        };
        let context_name = format!("{user_name}@{CLUSTER_NAME}");
        Kubeconfig {
            api_version: "v1".to_string(),
            kind: "Config".to_string(),
            clusters: vec![NamedCluster {
                name: CLUSTER_NAME.to_string(),
                cluster: Cluster {
                    server: server_url.to_string(),
                    certificate_authority_data: Some(STANDARD.encode(ca_pem)),
                    certificate_authority: None,
                },
            }],
            users: vec![NamedUser {
                name: user_name.to_string(),
                user,
            }],
            contexts: vec![NamedContext {
                name: context_name.clone(),
                context: Context {
                    cluster: CLUSTER_NAME.to_string(),
                    user: user_name.to_string(),
                },
            }],
            current_context: context_name,
        }
    }

    pub fn to_yaml(&self) -> Result<String, KubeconfigError> {
        serde_saphyr::to_string(self).map_err(|error| KubeconfigError::Write(error.to_string()))
    }

    /// Reads a kubeconfig file (YAML, or JSON, which is YAML).
    pub fn load(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| KubeconfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_saphyr::from_str(&text).map_err(|error| KubeconfigError::Parse {
            path: path.to_path_buf(),
            message: error.to_string(),
        })
    }

    /// Where the current context connects, with file references resolved
    /// against `base_dir` (the kubeconfig's directory) and read.
    pub fn connection(&self, base_dir: &Path) -> Result<Connection, KubeconfigError> {
        let context = self
            .contexts
            .iter()
            .find(|context| context.name == self.current_context)
            .ok_or_else(|| {
                KubeconfigError::Invalid(format!(
                    "current-context {:?} names no context",
                    self.current_context
                ))
            })?;
        let cluster = self
            .clusters
            .iter()
            .find(|cluster| cluster.name == context.context.cluster)
            .ok_or_else(|| {
                KubeconfigError::Invalid(format!(
                    "context {:?} names cluster {:?}, which is not defined",
                    context.name, context.context.cluster
                ))
            })?;
        let ca_pem = inline_or_file(
            cluster.cluster.certificate_authority_data.as_deref(),
            cluster.cluster.certificate_authority.as_deref(),
            base_dir,
            "certificate-authority-data",
        )?;
        let credential = if context.context.user.is_empty() {
            None
        } else {
            let user = self
                .users
                .iter()
                .find(|user| user.name == context.context.user)
                .ok_or_else(|| {
                    KubeconfigError::Invalid(format!(
                        "context {:?} names user {:?}, which is not defined",
                        context.name, context.context.user
                    ))
                })?;
            user_credential(&user.name, &user.user, base_dir)?
        };
        Ok(Connection {
            server: cluster.cluster.server.clone(),
            ca_pem,
            credential,
        })
    }
}

impl Connection {
    /// `server` (a URL, or `host:port` for plain HTTP) without a CA or
    /// credentials.
    pub fn insecure(server: impl Into<String>) -> Connection {
        Connection {
            server: server.into(),
            ca_pem: None,
            credential: None,
        }
    }

    /// What a component connects with, as kubectl resolves `--kubeconfig`
    /// and `--server`: the kubeconfig's server, CA and credential, its
    /// server replaced by `server` when given; without a kubeconfig,
    /// `server` (else `default_server`) without credentials.
    pub fn resolve(
        kubeconfig: Option<&Path>,
        server: Option<&str>,
        default_server: &str,
    ) -> Result<Connection, KubeconfigError> {
        let mut connection = match kubeconfig {
            Some(path) => Connection::from_kubeconfig(path)?,
            None => Connection::insecure(default_server),
        };
        if let Some(server) = server {
            connection.server = server.to_string();
        }
        Ok(connection)
    }

    /// The current context of the kubeconfig file at `path`.
    pub fn from_kubeconfig(path: &Path) -> Result<Connection, KubeconfigError> {
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Kubeconfig::load(path)?.connection(base_dir)
    }
}

fn user_credential(
    name: &str,
    user: &User,
    base_dir: &Path,
) -> Result<Option<Credential>, KubeconfigError> {
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err(KubeconfigError::Invalid(format!(
            "user {name:?}: exec plugins and auth providers are not supported; \
             use a client certificate or a token"
        )));
    }
    let certificate = inline_or_file(
        user.client_certificate_data.as_deref(),
        user.client_certificate.as_deref(),
        base_dir,
        "client-certificate-data",
    )?;
    let key = inline_or_file(
        user.client_key_data.as_deref(),
        user.client_key.as_deref(),
        base_dir,
        "client-key-data",
    )?;
    match (certificate, key) {
        (Some(certificate_pem), Some(key_pem)) => {
            return Ok(Some(Credential::ClientCertificate {
                certificate_pem,
                key_pem,
            }));
        }
        (None, None) => {}
        _ => {
            return Err(KubeconfigError::Invalid(format!(
                "user {name:?}: a client certificate needs both the certificate and the key"
            )));
        }
    }
    if let Some(token) = &user.token {
        return Ok(Some(Credential::Token(token.clone())));
    }
    if let Some(path) = &user.token_file {
        let path = base_dir.join(path);
        let token = std::fs::read_to_string(&path)
            .map_err(|source| KubeconfigError::Read { path, source })?;
        return Ok(Some(Credential::Token(token.trim().to_string())));
    }
    Ok(None)
}

/// The bytes of a `<field>` (base64) or of the file its path-valued twin
/// names.
fn inline_or_file(
    data: Option<&str>,
    file: Option<&Path>,
    base_dir: &Path,
    field: &str,
) -> Result<Option<Vec<u8>>, KubeconfigError> {
    if let Some(data) = data {
        return STANDARD
            .decode(data.trim())
            .map(Some)
            .map_err(|error| KubeconfigError::Invalid(format!("{field}: {error}")));
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let path = base_dir.join(file);
    std::fs::read(&path)
        .map(Some)
        .map_err(|source| KubeconfigError::Read { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> Credential {
        Credential::ClientCertificate {
            certificate_pem: b"CERT".to_vec(),
            key_pem: b"KEY".to_vec(),
        }
    }

    #[test]
    fn written_kubeconfig_reads_back_as_its_connection() {
        for credential in [certificate(), Credential::Token("abc.def.ghi".into())] {
            let yaml =
                Kubeconfig::single("https://127.0.0.1:6443", "CA PEM\n", "alice", &credential)
                    .to_yaml()
                    .unwrap();
            let parsed: Kubeconfig = serde_saphyr::from_str(&yaml).unwrap();
            assert_eq!(parsed.current_context, "alice@skiff");
            assert_eq!(
                parsed.connection(Path::new("/nonexistent")).unwrap(),
                Connection {
                    server: "https://127.0.0.1:6443".into(),
                    ca_pem: Some(b"CA PEM\n".to_vec()),
                    credential: Some(credential),
                }
            );
            // kubectl's field names.
            let value: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
            assert!(value["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
            assert!(value["current-context"].is_string());
        }
    }

    #[test]
    fn file_references_resolve_against_the_kubeconfig_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        std::fs::write(dir.path().join("me.crt"), "CERT").unwrap();
        std::fs::write(dir.path().join("me.key"), "KEY").unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: me\n\
             clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority: ca.crt\n\
             users:\n- name: me\n  user:\n    client-certificate: me.crt\n    client-key: me.key\n\
             contexts:\n- name: me\n  context:\n    cluster: c\n    user: me\n\
             preferences: {}\n",
        )
        .unwrap();
        assert_eq!(
            Connection::from_kubeconfig(&path).unwrap(),
            Connection {
                server: "https://10.0.0.1:6443".into(),
                ca_pem: Some(b"CA".to_vec()),
                credential: Some(certificate()),
            }
        );
    }

    #[test]
    fn unusable_kubeconfigs_are_errors_naming_the_problem() {
        let base = Kubeconfig::single("https://h:1", "CA", "u", &certificate());
        let mut missing_context = base.clone();
        missing_context.current_context = "other".into();
        let mut missing_user = base.clone();
        missing_user.users.clear();
        let mut exec = base.clone();
        exec.users[0].user = User {
            exec: Some(serde_json::json!({"command": "aws"})),
            ..User::default()
        };
        let mut half_certificate = base.clone();
        half_certificate.users[0].user.client_key_data = None;
        let mut bad_base64 = base;
        bad_base64.clusters[0].cluster.certificate_authority_data = Some("%%%".into());
        for (config, expected) in [
            (missing_context, "current-context \"other\""),
            (missing_user, "user \"u\", which is not defined"),
            (exec, "exec plugins"),
            (half_certificate, "both the certificate and the key"),
            (bad_base64, "certificate-authority-data"),
        ] {
            let error = config.connection(Path::new(".")).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
