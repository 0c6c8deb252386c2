//! The security chain around the request core: who a request is
//! from (the [`Authenticator`] of `auth/` over the request's bearer token
//! and TLS client certificate) and whether they may do what they ask
//! (RBAC, from the Roles and bindings in the store, kept current by a
//! watch).
//!
//! On start the apiserver loads (or creates) its PKI and ServiceAccount
//! signing key in the configured directory, writes the admin kubeconfig
//! (`skiff-admin`, group `system:masters`, naming the REST face) and its
//! components' kubeconfigs (`auth::identities`, naming the gRPC face)
//! there, and creates Kubernetes'
//! default ClusterRoles and ClusterRoleBindings if they are absent.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use arc_swap::ArcSwap;
use http::HeaderMap;

use crate::auth::authenticator::Authenticator;
use crate::auth::identities::COMPONENT_IDENTITIES;
use crate::auth::pki::Pki;
use crate::auth::rbac::authorizer::{Decision, RbacPolicy};
use crate::auth::service_account::ServiceAccountTokens;
use crate::auth::tokens::StaticTokens;
use crate::auth::{AuthError, rbac};
use crate::error::ApiError;
use crate::filter::Filter;
use crate::request::{ANONYMOUS_USER, Attributes, MASTERS_GROUP, UserInfo};
use crate::rest::Authenticate;
use crate::state::ApiState;
use crate::verbs::ListOptions;
use crate::watch_cache::WatchMessage;
use client::kubeconfig::{Credential, Kubeconfig};

/// File name of the admin kubeconfig in the security directory.
pub const ADMIN_KUBECONFIG: &str = "admin.kubeconfig";
/// The admin user the bootstrap kubeconfig authenticates as.
pub const ADMIN_USER: &str = "skiff-admin";

/// How long an issued client certificate is valid.
const CLIENT_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Loaded security material: the PKI (for TLS and client certificates)
/// and the authenticator.
pub(crate) struct Security {
    pub(crate) pki: Pki,
    pub(crate) authenticator: Arc<Authenticator>,
    pub(crate) dir: PathBuf,
}

impl Security {
    /// Loads or creates the PKI and the ServiceAccount key in `dir`, and
    /// reads the static token file if given.
    pub(crate) fn load(
        dir: &Path,
        extra_hosts: &[String],
        token_file: Option<&Path>,
    ) -> Result<Security, AuthError> {
        let pki = Pki::load_or_create(dir, extra_hosts)?;
        let service_account_tokens = ServiceAccountTokens::load_or_create(
            dir,
            crate::auth::service_account::DEFAULT_ISSUER,
            &[],
        )?;
        let static_tokens = token_file.map(StaticTokens::load).transpose()?;
        Ok(Security {
            pki,
            authenticator: Arc::new(Authenticator {
                static_tokens,
                service_account_tokens: Some(service_account_tokens),
            }),
            dir: dir.to_path_buf(),
        })
    }

    /// Issues a client certificate for `user` in `groups` and writes a
    /// kubeconfig for it to `path`, naming `server_url`.
    pub(crate) fn write_kubeconfig(
        &self,
        path: &Path,
        server_url: &str,
        user: &str,
        groups: &[String],
    ) -> Result<(), AuthError> {
        let (certificate_pem, key_pem) =
            self.pki
                .issue_client_certificate(user, groups, CLIENT_CERTIFICATE_VALIDITY)?;
        let yaml = Kubeconfig::single(
            server_url,
            self.pki.ca_pem(),
            user,
            &Credential::ClientCertificate {
                certificate_pem: certificate_pem.into_bytes(),
                key_pem: key_pem.into_bytes(),
            },
        )
        .to_yaml()?;
        crate::auth::pem_files::write_atomically(path, &yaml, 0o600)
    }

    /// Writes the kubeconfig of each of Skiff's components into the
    /// security directory, naming the gRPC face at `grpc_url`.
    pub(crate) fn write_component_kubeconfigs(&self, grpc_url: &str) -> Result<(), AuthError> {
        for identity in COMPONENT_IDENTITIES {
            let groups: Vec<String> = identity.groups.iter().map(|g| g.to_string()).collect();
            self.write_kubeconfig(
                &self.dir.join(identity.file),
                grpc_url,
                identity.user,
                &groups,
            )?;
        }
        Ok(())
    }

    /// Writes the admin kubeconfig into the security directory.
    pub(crate) fn write_admin_kubeconfig(&self, server_url: &str) -> Result<PathBuf, AuthError> {
        let path = self.dir.join(ADMIN_KUBECONFIG);
        self.write_kubeconfig(&path, server_url, ADMIN_USER, &[MASTERS_GROUP.to_string()])?;
        Ok(path)
    }
}

/// Issues a client certificate for `user` in `groups` from the PKI in
/// `security_dir` (which a started apiserver created) and writes a
/// kubeconfig for it naming `server_url` to `path`, as `kubeadm kubeconfig
/// user` does.
pub fn write_user_kubeconfig(
    security_dir: &Path,
    path: &Path,
    server_url: &str,
    user: &str,
    groups: &[String],
) -> Result<(), crate::RunError> {
    let security = |error: AuthError| crate::RunError::Security(error.to_string());
    Security::load(security_dir, &[], None)
        .map_err(security)?
        .write_kubeconfig(path, server_url, user, groups)
        .map_err(security)
}

/// The REST face's authentication over `auth::Authenticator`.
pub(crate) struct RequestAuthenticator {
    pub(crate) authenticator: Arc<Authenticator>,
}

impl Authenticate for RequestAuthenticator {
    fn authenticate(
        &self,
        headers: &HeaderMap,
        client_certificate: Option<&[u8]>,
    ) -> Result<UserInfo, ApiError> {
        let bearer = match headers.get(http::header::AUTHORIZATION) {
            None => None,
            Some(value) => {
                let text = value.to_str().map_err(|_| ApiError::Unauthorized)?;
                match text.strip_prefix("Bearer ") {
                    Some(token) => Some(token.trim()),
                    None => return Err(ApiError::Unauthorized),
                }
            }
        };
        let now = crate::object::now_timestamp().as_second();
        match self
            .authenticator
            .authenticate(bearer, client_certificate, now)
        {
            Ok(authenticated) => Ok(authenticated.user),
            Err(error) => {
                tracing::debug!(%error, "authentication failed");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

/// Decides requests by RBAC over the current policy; `system:masters` may
/// do anything. Anonymous requests that are denied are 401s, as no
/// credentials were given; others are 403s with Kubernetes' message.
pub(crate) struct Authorizer {
    policy: ArcSwap<RbacPolicy>,
}

impl Authorizer {
    pub(crate) fn new() -> Authorizer {
        Authorizer {
            policy: ArcSwap::from_pointee(RbacPolicy::new(
                Vec::new(),
                rbac::bootstrap::bootstrap_cluster_roles(),
                Vec::new(),
                rbac::bootstrap::bootstrap_cluster_role_bindings(),
            )),
        }
    }

    pub(crate) fn authorize(&self, attributes: &Attributes) -> Result<(), ApiError> {
        match self.decide(attributes) {
            Decision::Allow => Ok(()),
            Decision::Deny(_) if attributes.user.name == ANONYMOUS_USER => {
                Err(ApiError::Unauthorized)
            }
            Decision::Deny(message) => Err(ApiError::Forbidden(message)),
        }
    }

    /// The decision on `attributes`, as an access review reports it.
    pub(crate) fn decide(&self, attributes: &Attributes) -> Decision {
        if attributes.user.in_group(MASTERS_GROUP) {
            return Decision::Allow;
        }
        self.policy.load().authorize(attributes)
    }

    /// The policy requests are decided by now.
    pub(crate) fn policy(&self) -> Arc<RbacPolicy> {
        self.policy.load_full()
    }

    fn replace(&self, policy: RbacPolicy) {
        self.policy.store(Arc::new(policy));
    }
}

const RBAC_PLURALS: [&str; 4] = [
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
];

/// Creates Kubernetes' default ClusterRoles and ClusterRoleBindings that
/// are absent (existing ones are left as the cluster's admins changed
/// them).
pub(crate) async fn bootstrap_policy(state: &ApiState) -> Result<(), ApiError> {
    let mut objects = Vec::new();
    for role in rbac::bootstrap::bootstrap_cluster_roles() {
        objects.push((
            "clusterroles",
            serde_json::to_vec(&role).map_err(ApiError::internal)?,
        ));
    }
    for binding in rbac::bootstrap::bootstrap_cluster_role_bindings() {
        objects.push((
            "clusterrolebindings",
            serde_json::to_vec(&binding).map_err(ApiError::internal)?,
        ));
    }
    for (plural, body) in objects {
        crate::server::create_if_absent(state, plural, &body).await?;
    }
    Ok(())
}

/// Rebuilds the authorizer's policy from the store now and whenever a
/// Role, ClusterRole or binding changes, until the watches end.
pub(crate) async fn keep_policy_current(state: Arc<ApiState>) {
    loop {
        let mut handles = Vec::new();
        for plural in RBAC_PLURALS {
            let Ok(filter) = Filter::parse(plural, "", "", "") else {
                return;
            };
            let from = state.store.current_revision();
            match state.watch.watch(plural, filter, from, false) {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    tracing::warn!(%error, "watching RBAC objects failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
            }
        }
        if handles.len() != RBAC_PLURALS.len() {
            continue;
        }
        match load_policy(&state).await {
            Ok(policy) => state.authorizer.replace(policy),
            Err(error) => tracing::warn!(%error, "loading the RBAC policy failed"),
        }
        // Wait for any change, then rebuild from a fresh watch.
        let next = handles.iter_mut().map(|handle| Box::pin(handle.next()));
        let (message, _, _) = futures::future::select_all(next).await;
        if let WatchMessage::TooOld(reason) = message {
            tracing::debug!(%reason, "RBAC watch restarted");
        }
    }
}

async fn load_policy(state: &ApiState) -> Result<RbacPolicy, ApiError> {
    Ok(RbacPolicy::new(
        list_all::<Role>(state, "roles").await?,
        list_all::<ClusterRole>(state, "clusterroles").await?,
        list_all::<RoleBinding>(state, "rolebindings").await?,
        list_all::<ClusterRoleBinding>(state, "clusterrolebindings").await?,
    ))
}

async fn list_all<K: serde::de::DeserializeOwned>(
    state: &ApiState,
    plural: &str,
) -> Result<Vec<K>, ApiError> {
    let page = state.list(plural, &ListOptions::default()).await?;
    page.items
        .iter()
        .map(|item| serde_json::from_slice(&item.wire).map_err(ApiError::internal))
        .collect()
}
