//! [`Authenticator`]: who is asking, from what the connection and the
//! request carry, in Kubernetes' order: a client certificate (already
//! verified by TLS against the cluster CA), else a bearer token (the static
//! token file, then ServiceAccount JWTs), else the anonymous user.
//!
//! A ServiceAccount token is only checked cryptographically here: the
//! claims come back with the user ([`AuthenticationMethod::ServiceAccountToken`])
//! so the caller can check against the store that the account (and the
//! bound pod) still exist with the UIDs the token names, as Kubernetes'
//! token getter does.

use super::AuthError;
use super::pki::user_from_client_certificate;
use super::service_account::{ServiceAccountClaims, ServiceAccountTokens, looks_like_jwt};
use super::tokens::StaticTokens;
use crate::request::UserInfo;

/// The authenticators the apiserver is configured with.
pub(crate) struct Authenticator {
    pub(crate) static_tokens: Option<StaticTokens>,
    pub(crate) service_account_tokens: Option<ServiceAccountTokens>,
}

/// A user and how they were authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Authenticated {
    pub(crate) user: UserInfo,
    pub(crate) method: AuthenticationMethod,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuthenticationMethod {
    ClientCertificate,
    StaticToken,
    /// The caller should check that `claims.kubernetes.serviceaccount.uid`
    /// (and the pod's, if bound) still names a live object.
    ServiceAccountToken(Box<ServiceAccountClaims>),
    Anonymous,
}

impl Authenticator {
    /// Authenticates one request. `bearer_token` is the value after
    /// `Bearer ` in the `Authorization` header (an empty one counts as
    /// none); `client_certificate_der` the leaf certificate TLS verified.
    /// Every error is `AuthError::Unauthorized` (a 401), its reason saying
    /// which credential failed and why.
    pub(crate) fn authenticate(
        &self,
        bearer_token: Option<&str>,
        client_certificate_der: Option<&[u8]>,
        now_unix: i64,
    ) -> Result<Authenticated, AuthError> {
        if let Some(der) = client_certificate_der {
            let user =
                user_from_client_certificate(der).map_err(|error| AuthError::Unauthorized {
                    reason: error.to_string(),
                })?;
            return Ok(Authenticated {
                user,
                method: AuthenticationMethod::ClientCertificate,
            });
        }
        let Some(token) = bearer_token
            .map(str::trim)
            .filter(|token| !token.is_empty())
        else {
            return Ok(Authenticated {
                user: UserInfo::anonymous(),
                method: AuthenticationMethod::Anonymous,
            });
        };
        if let Some(user) = self
            .static_tokens
            .as_ref()
            .and_then(|tokens| tokens.lookup(token))
        {
            return Ok(Authenticated {
                user,
                method: AuthenticationMethod::StaticToken,
            });
        }
        if let Some(service_account_tokens) = &self.service_account_tokens
            && looks_like_jwt(token)
        {
            let claims = service_account_tokens
                .verify(token, now_unix)
                .map_err(|error| AuthError::Unauthorized {
                    reason: error.to_string(),
                })?;
            return Ok(Authenticated {
                user: claims.user_info(),
                method: AuthenticationMethod::ServiceAccountToken(Box::new(claims)),
            });
        }
        Err(AuthError::Unauthorized {
            reason: "the bearer token is not known".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;
    use crate::auth::pki::Pki;
    use crate::auth::service_account::{DEFAULT_ISSUER, generate_pkcs8};

    const NOW: i64 = 1_800_000_000;

    fn authenticator() -> Authenticator {
        Authenticator {
            static_tokens: Some(
                StaticTokens::parse(Path::new("t.csv"), "admin-token,admin,1,system:masters\n")
                    .unwrap(),
            ),
            service_account_tokens: Some(
                ServiceAccountTokens::from_pkcs8(&generate_pkcs8().unwrap(), DEFAULT_ISSUER, &[])
                    .unwrap(),
            ),
        }
    }

    fn check(
        authenticator: &Authenticator,
        token: Option<&str>,
        certificate: Option<&[u8]>,
        expected_user: &str,
    ) -> AuthenticationMethod {
        let authenticated = authenticator.authenticate(token, certificate, NOW).unwrap();
        assert_eq!(authenticated.user.name, expected_user);
        authenticated.method
    }

    #[test]
    fn no_credentials_is_anonymous() {
        let authenticator = authenticator();
        assert_eq!(
            check(&authenticator, None, None, "system:anonymous"),
            AuthenticationMethod::Anonymous
        );
        assert_eq!(
            check(&authenticator, Some(""), None, "system:anonymous"),
            AuthenticationMethod::Anonymous
        );
    }

    #[test]
    fn static_token_then_service_account_token() {
        let authenticator = authenticator();
        assert_eq!(
            check(&authenticator, Some("admin-token"), None, "admin"),
            AuthenticationMethod::StaticToken
        );
        let token = authenticator
            .service_account_tokens
            .as_ref()
            .unwrap()
            .issue("ns", "sa", "uid-1", &[], 600, NOW)
            .unwrap();
        let method = check(
            &authenticator,
            Some(&token),
            None,
            "system:serviceaccount:ns:sa",
        );
        let AuthenticationMethod::ServiceAccountToken(claims) = method else {
            panic!("{method:?}");
        };
        assert_eq!(claims.kubernetes.serviceaccount.uid, "uid-1");
    }

    #[test]
    fn unknown_and_invalid_tokens_are_unauthorized() {
        let authenticator = authenticator();
        for token in ["nope", "a.b.c"] {
            let error = authenticator
                .authenticate(Some(token), None, NOW)
                .unwrap_err();
            assert!(matches!(error, AuthError::Unauthorized { .. }), "{error}");
            assert_eq!(error.to_string(), "Unauthorized");
        }
        let expired = authenticator
            .service_account_tokens
            .as_ref()
            .unwrap()
            .issue("ns", "sa", "uid-1", &[], 600, NOW - 3600)
            .unwrap();
        let error = authenticator
            .authenticate(Some(&expired), None, NOW)
            .unwrap_err();
        assert!(matches!(error, AuthError::Unauthorized { .. }), "{error}");
    }

    #[test]
    fn client_certificate_wins_over_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
        let (certificate_pem, _) = pki
            .issue_client_certificate("carol", &["dev".to_string()], Duration::from_secs(60))
            .unwrap();
        let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).unwrap();
        assert_eq!(
            check(&authenticator(), Some("admin-token"), Some(&der), "carol"),
            AuthenticationMethod::ClientCertificate
        );
        let error = authenticator()
            .authenticate(None, Some(b"garbage"), NOW)
            .unwrap_err();
        assert!(matches!(error, AuthError::Unauthorized { .. }), "{error}");
    }
}
