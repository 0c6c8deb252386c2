//! Writing kubeconfig files for the users and components Skiff creates
//! credentials for: one cluster (the server URL and the CA), one user (a
//! client certificate and key, or a bearer token), one context naming both,
//! selected as the current context.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::AuthError;

/// Name of the cluster entry in written kubeconfigs.
pub(crate) const CLUSTER_NAME: &str = "skiff";

/// The credential a kubeconfig user presents.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KubeconfigCredential<'a> {
    ClientCertificate {
        certificate_pem: &'a str,
        key_pem: &'a str,
    },
    #[allow(
        dead_code,
        reason = "for component kubeconfigs with ServiceAccount tokens; tested here"
    )]
    Token(&'a str),
}

/// The kubeconfig document, field names as kubectl writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Kubeconfig {
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) clusters: Vec<NamedCluster>,
    pub(crate) users: Vec<NamedUser>,
    pub(crate) contexts: Vec<NamedContext>,
    pub(crate) current_context: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NamedCluster {
    pub(crate) name: String,
    pub(crate) cluster: Cluster,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Cluster {
    pub(crate) server: String,
    pub(crate) certificate_authority_data: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NamedUser {
    pub(crate) name: String,
    pub(crate) user: User,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_certificate_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NamedContext {
    pub(crate) name: String,
    pub(crate) context: Context,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Context {
    pub(crate) cluster: String,
    pub(crate) user: String,
}

/// A kubeconfig for `user_name` on the cluster at `server_url` whose CA is
/// `ca_pem`, as YAML. The context is named `<user_name>@skiff`.
pub(crate) fn kubeconfig_yaml(
    server_url: &str,
    ca_pem: &str,
    user_name: &str,
    credential: KubeconfigCredential<'_>,
) -> Result<String, AuthError> {
    let user = match credential {
        KubeconfigCredential::ClientCertificate {
            certificate_pem,
            key_pem,
        } => User {
            client_certificate_data: Some(STANDARD.encode(certificate_pem)),
            client_key_data: Some(STANDARD.encode(key_pem)),
            token: None,
        },
        KubeconfigCredential::Token(token) => User {
            token: Some(token.to_string()),
            ..User::default()
        },
    };
    let context_name = format!("{user_name}@{CLUSTER_NAME}");
    let kubeconfig = Kubeconfig {
        api_version: "v1".to_string(),
        kind: "Config".to_string(),
        clusters: vec![NamedCluster {
            name: CLUSTER_NAME.to_string(),
            cluster: Cluster {
                server: server_url.to_string(),
                certificate_authority_data: STANDARD.encode(ca_pem),
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
    };
    Ok(serde_saphyr::to_string(&kubeconfig)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(credential: KubeconfigCredential<'_>, expected_user: User) {
        let yaml =
            kubeconfig_yaml("https://127.0.0.1:6443", "CA PEM\n", "alice", credential).unwrap();
        let parsed: Kubeconfig = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(parsed.api_version, "v1");
        assert_eq!(parsed.kind, "Config");
        assert_eq!(parsed.current_context, "alice@skiff");
        assert_eq!(parsed.clusters[0].cluster.server, "https://127.0.0.1:6443");
        assert_eq!(
            STANDARD
                .decode(&parsed.clusters[0].cluster.certificate_authority_data)
                .unwrap(),
            b"CA PEM\n"
        );
        assert_eq!(
            parsed.contexts,
            [NamedContext {
                name: "alice@skiff".into(),
                context: Context {
                    cluster: "skiff".into(),
                    user: "alice".into()
                }
            }]
        );
        assert_eq!(parsed.users[0].name, "alice");
        assert_eq!(parsed.users[0].user, expected_user);
        // A generic YAML reader sees kubectl's field names.
        let value: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert!(value["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
        assert!(value["current-context"].is_string());
    }

    #[test]
    fn client_certificate_kubeconfig() {
        check(
            KubeconfigCredential::ClientCertificate {
                certificate_pem: "CERT",
                key_pem: "KEY",
            },
            User {
                client_certificate_data: Some(STANDARD.encode("CERT")),
                client_key_data: Some(STANDARD.encode("KEY")),
                token: None,
            },
        );
    }

    #[test]
    fn token_kubeconfig() {
        check(
            KubeconfigCredential::Token("abc.def.ghi"),
            User {
                token: Some("abc.def.ghi".into()),
                ..User::default()
            },
        );
    }
}
