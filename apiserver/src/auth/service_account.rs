//! ServiceAccount tokens: JWTs signed with ES256 (ECDSA P-256, SHA-256),
//! carrying the claims of Kubernetes' bound tokens (`iss`, `sub`, `aud`,
//! `iat`, `nbf`, `exp` and the private `kubernetes.io` claim naming the
//! namespace, the ServiceAccount and optionally the pod).
//!
//! The signing key is a PKCS#8 PEM file, `sa.key`, created on first start.
//! JWTs are built directly on `ring` and `base64` (both already in the
//! build for TLS) rather than through a JWT crate: one fixed algorithm needs
//! only a header, a signature and claim checks, and the JWT crates pull
//! in a second crypto backend or RSA stacks.
//!
//! Time is always an argument (`now_unix`, seconds since the epoch), so
//! issuing and verifying are deterministic.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Deserializer, Serialize};

use super::AuthError;
use super::pem_files::{PRIVATE_KEY_FILE_MODE, pem_encode, read_optional, write_atomically};
use crate::request::UserInfo;

pub(crate) const SIGNING_KEY_FILE: &str = "sa.key";
/// The issuer Kubernetes' clusters commonly use.
pub(crate) const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc";
/// Clock skew tolerated on `exp` and `nbf`.
pub(crate) const LEEWAY_SECONDS: i64 = 60;
/// Prefix of every ServiceAccount user name.
pub(crate) const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
/// Group of every ServiceAccount.
pub(crate) const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";

/// DER prefix of a P-256 SubjectPublicKeyInfo, before the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The user name of a ServiceAccount, `system:serviceaccount:<ns>:<name>`.
pub(crate) fn service_account_user_name(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}")
}

/// Issues and verifies ServiceAccount tokens with one signing key.
pub(crate) struct ServiceAccountTokens {
    signing_key: EcdsaKeyPair,
    /// `kid` of the header: base64url of the SHA-256 of the public key's
    /// SubjectPublicKeyInfo DER, as Kubernetes computes it.
    key_id: String,
    issuer: String,
    /// Audiences a verified token must name one of; empty accepts any.
    accepted_audiences: Vec<String>,
    random: SystemRandom,
}

/// The claims of a ServiceAccount token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ServiceAccountClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    #[serde(deserialize_with = "one_or_many_audiences")]
    pub(crate) aud: Vec<String>,
    pub(crate) iat: i64,
    pub(crate) nbf: i64,
    pub(crate) exp: i64,
    #[serde(rename = "kubernetes.io")]
    pub(crate) kubernetes: KubernetesClaims,
}

/// The private `kubernetes.io` claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KubernetesClaims {
    pub(crate) namespace: String,
    pub(crate) serviceaccount: ObjectReferenceClaim,
    /// The pod the token is bound to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pod: Option<ObjectReferenceClaim>,
}

/// An object named in the `kubernetes.io` claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectReferenceClaim {
    pub(crate) name: String,
    pub(crate) uid: String,
}

#[derive(Serialize, Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kid: String,
}

impl ServiceAccountClaims {
    /// Claims for a token of ServiceAccount `namespace/name` (with `uid`),
    /// valid from `now_unix` for `expiration_seconds`.
    pub(crate) fn new(
        issuer: &str,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        expiration_seconds: i64,
        now_unix: i64,
    ) -> ServiceAccountClaims {
        ServiceAccountClaims {
            iss: issuer.to_string(),
            sub: service_account_user_name(namespace, name),
            aud: audiences.to_vec(),
            iat: now_unix,
            nbf: now_unix,
            exp: now_unix.saturating_add(expiration_seconds),
            kubernetes: KubernetesClaims {
                namespace: namespace.to_string(),
                serviceaccount: ObjectReferenceClaim {
                    name: name.to_string(),
                    uid: uid.to_string(),
                },
                pod: None,
            },
        }
    }

    /// The user the token authenticates: `system:serviceaccount:<ns>:<name>`
    /// with the account's UID, in `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>` and `system:authenticated`.
    pub(crate) fn user_info(&self) -> UserInfo {
        let namespace = &self.kubernetes.namespace;
        let mut user = UserInfo::authenticated(
            service_account_user_name(namespace, &self.kubernetes.serviceaccount.name),
            vec![
                ALL_SERVICE_ACCOUNTS_GROUP.to_string(),
                format!("{ALL_SERVICE_ACCOUNTS_GROUP}:{namespace}"),
            ],
        );
        user.uid = self.kubernetes.serviceaccount.uid.clone();
        user
    }
}

impl ServiceAccountTokens {
    /// Loads the signing key from `dir/sa.key`, creating it on first start.
    pub(crate) fn load_or_create(
        dir: &Path,
        issuer: &str,
        accepted_audiences: &[String],
    ) -> Result<ServiceAccountTokens, AuthError> {
        std::fs::create_dir_all(dir).map_err(|error| AuthError::io(dir, error))?;
        let key_path = dir.join(SIGNING_KEY_FILE);
        let pkcs8 = match read_optional(&key_path)? {
            Some(pem) => PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
                .map_err(|error| AuthError::BadPemFile {
                    path: key_path.clone(),
                    reason: format!("no PKCS#8 private key: {error}"),
                })?
                .secret_pkcs8_der()
                .to_vec(),
            None => {
                let pkcs8 = generate_pkcs8()?;
                write_atomically(
                    &key_path,
                    &pem_encode("PRIVATE KEY", &pkcs8),
                    PRIVATE_KEY_FILE_MODE,
                )?;
                pkcs8
            }
        };
        ServiceAccountTokens::from_pkcs8(&pkcs8, issuer, accepted_audiences).map_err(|error| {
            match error {
                AuthError::Signing(reason) => AuthError::BadPemFile {
                    path: key_path,
                    reason,
                },
                other => other,
            }
        })
    }

    /// A signer over a PKCS#8 P-256 key.
    pub(crate) fn from_pkcs8(
        pkcs8: &[u8],
        issuer: &str,
        accepted_audiences: &[String],
    ) -> Result<ServiceAccountTokens, AuthError> {
        let random = SystemRandom::new();
        let signing_key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &random)
                .map_err(|error| AuthError::Signing(format!("not a P-256 PKCS#8 key: {error}")))?;
        let mut public_key_info = P256_SPKI_PREFIX.to_vec();
        public_key_info.extend_from_slice(signing_key.public_key().as_ref());
        let key_id = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            &public_key_info,
        ));
        Ok(ServiceAccountTokens {
            signing_key,
            key_id,
            issuer: issuer.to_string(),
            accepted_audiences: accepted_audiences.to_vec(),
            random,
        })
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Issues a token for ServiceAccount `namespace/name`, valid from
    /// `now_unix` for `expiration_seconds`.
    pub(crate) fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        expiration_seconds: i64,
        now_unix: i64,
    ) -> Result<String, AuthError> {
        self.sign(&ServiceAccountClaims::new(
            &self.issuer,
            namespace,
            name,
            uid,
            audiences,
            expiration_seconds,
            now_unix,
        ))
    }

    /// Signs arbitrary claims (a token bound to a pod sets
    /// `claims.kubernetes.pod` first).
    pub(crate) fn sign(&self, claims: &ServiceAccountClaims) -> Result<String, AuthError> {
        let header = JwtHeader {
            alg: "ES256".to_string(),
            kid: self.key_id.clone(),
        };
        let header_json =
            serde_json::to_vec(&header).map_err(|error| AuthError::Signing(error.to_string()))?;
        let claims_json =
            serde_json::to_vec(claims).map_err(|error| AuthError::Signing(error.to_string()))?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header_json),
            URL_SAFE_NO_PAD.encode(claims_json)
        );
        let signature = self
            .signing_key
            .sign(&self.random, signing_input.as_bytes())
            .map_err(|error| AuthError::Signing(error.to_string()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Verifies a token: its form, the ES256 signature, the issuer, an
    /// accepted audience (if any are configured), and `nbf`/`exp` against
    /// `now_unix` with [`LEEWAY_SECONDS`].
    ///
    /// Whether the ServiceAccount (and the bound pod) still exist with the
    /// UIDs in the claims is for the caller to check against the store.
    pub(crate) fn verify(
        &self,
        token: &str,
        now_unix: i64,
    ) -> Result<ServiceAccountClaims, AuthError> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::MalformedToken("not three dot-separated parts"));
        };
        let header: JwtHeader = decode_json_part(header_part, "header")?;
        if header.alg != "ES256" {
            return Err(AuthError::MalformedToken("the algorithm is not ES256"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| AuthError::MalformedToken("the signature is not base64url"))?;
        let signing_input_length = header_part.len() + 1 + claims_part.len();
        let signing_input = token
            .get(..signing_input_length)
            .ok_or(AuthError::MalformedToken("not three dot-separated parts"))?;
        UnparsedPublicKey::new(
            &ECDSA_P256_SHA256_FIXED,
            self.signing_key.public_key().as_ref(),
        )
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| AuthError::TokenSignature)?;

        let claims: ServiceAccountClaims = decode_json_part(claims_part, "claims")?;
        if claims.iss != self.issuer {
            return Err(AuthError::TokenIssuer {
                expected: self.issuer.clone(),
                actual: claims.iss,
            });
        }
        if !self.accepted_audiences.is_empty()
            && !claims
                .aud
                .iter()
                .any(|audience| self.accepted_audiences.contains(audience))
        {
            return Err(AuthError::TokenAudience {
                accepted: self.accepted_audiences.clone(),
                actual: claims.aud,
            });
        }
        if now_unix > claims.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(AuthError::TokenExpired {
                expires_unix: claims.exp,
                now_unix,
            });
        }
        if now_unix.saturating_add(LEEWAY_SECONDS) < claims.nbf {
            return Err(AuthError::TokenNotYetValid {
                not_before_unix: claims.nbf,
                now_unix,
            });
        }
        let expected_subject = service_account_user_name(
            &claims.kubernetes.namespace,
            &claims.kubernetes.serviceaccount.name,
        );
        if claims.sub != expected_subject {
            return Err(AuthError::MalformedToken(
                "the subject does not match the kubernetes.io claim",
            ));
        }
        Ok(claims)
    }
}

/// Whether a bearer token has the shape of a JWT (three dot-separated
/// parts), so it is worth verifying as a ServiceAccount token.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// A new P-256 key as PKCS#8 DER.
pub(crate) fn generate_pkcs8() -> Result<Vec<u8>, AuthError> {
    let random = SystemRandom::new();
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
        .map(|document| document.as_ref().to_vec())
        .map_err(|error| AuthError::Signing(format!("generating a P-256 key: {error}")))
}

fn decode_json_part<T: serde::de::DeserializeOwned>(
    part: &str,
    what: &'static str,
) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| {
        AuthError::MalformedToken(if what == "header" {
            "the header is not base64url"
        } else {
            "the claims are not base64url"
        })
    })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        AuthError::MalformedToken(if what == "header" {
            "the header is not a JWT header"
        } else {
            "the claims are not ServiceAccount claims"
        })
    })
}

/// `aud` is a string or a list of strings (RFC 7519 section 4.1.3).
fn one_or_many_audiences<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audiences {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Audiences::deserialize(deserializer)? {
        Audiences::One(audience) => vec![audience],
        Audiences::Many(audiences) => audiences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const HOUR: i64 = 3600;

    fn signer(issuer: &str, audiences: &[&str]) -> ServiceAccountTokens {
        let audiences: Vec<String> = audiences.iter().map(|a| a.to_string()).collect();
        ServiceAccountTokens::from_pkcs8(&generate_pkcs8().unwrap(), issuer, &audiences).unwrap()
    }

    fn issue(tokens: &ServiceAccountTokens, audiences: &[&str]) -> String {
        let audiences: Vec<String> = audiences.iter().map(|a| a.to_string()).collect();
        tokens
            .issue("team-a", "builder", "uid-7", &audiences, HOUR, NOW)
            .unwrap()
    }

    fn check_rejected(result: Result<ServiceAccountClaims, AuthError>, expected: &str) {
        assert_eq!(result.unwrap_err().to_string(), expected);
    }

    #[test]
    fn round_trip_yields_claims_and_user() {
        let tokens = signer(DEFAULT_ISSUER, &["https://kubernetes.default.svc"]);
        let token = issue(&tokens, &["https://kubernetes.default.svc"]);
        assert!(looks_like_jwt(&token));
        let claims = tokens.verify(&token, NOW + 10).unwrap();
        assert_eq!(claims.sub, "system:serviceaccount:team-a:builder");
        assert_eq!(claims.exp, NOW + HOUR);
        assert_eq!(claims.kubernetes.serviceaccount.uid, "uid-7");
        let user = claims.user_info();
        assert_eq!(user.name, "system:serviceaccount:team-a:builder");
        assert_eq!(user.uid, "uid-7");
        assert_eq!(
            user.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:team-a",
                "system:authenticated"
            ]
        );
    }

    #[test]
    fn claims_are_shaped_as_kubernetes_bound_tokens() {
        let tokens = signer(DEFAULT_ISSUER, &[]);
        let mut claims =
            ServiceAccountClaims::new(DEFAULT_ISSUER, "ns", "sa", "u1", &["api".into()], HOUR, NOW);
        claims.kubernetes.pod = Some(ObjectReferenceClaim {
            name: "web-0".into(),
            uid: "p1".into(),
        });
        let token = tokens.sign(&claims).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "iss": DEFAULT_ISSUER, "sub": "system:serviceaccount:ns:sa", "aud": ["api"],
                "iat": NOW, "nbf": NOW, "exp": NOW + HOUR,
                "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "sa", "uid": "u1"},
                                  "pod": {"name": "web-0", "uid": "p1"}}
            })
        );
        assert_eq!(tokens.verify(&token, NOW).unwrap(), claims);
    }

    #[test]
    fn expired_and_early_tokens_are_rejected_outside_the_leeway() {
        let tokens = signer(DEFAULT_ISSUER, &[]);
        let token = issue(&tokens, &["api"]);
        tokens.verify(&token, NOW + HOUR + LEEWAY_SECONDS).unwrap();
        check_rejected(
            tokens.verify(&token, NOW + HOUR + LEEWAY_SECONDS + 1),
            &format!(
                "service account token has expired (exp {}, now {})",
                NOW + HOUR,
                NOW + HOUR + LEEWAY_SECONDS + 1
            ),
        );
        tokens.verify(&token, NOW - LEEWAY_SECONDS).unwrap();
        check_rejected(
            tokens.verify(&token, NOW - LEEWAY_SECONDS - 1),
            &format!(
                "service account token is not valid yet (nbf {NOW}, now {})",
                NOW - LEEWAY_SECONDS - 1
            ),
        );
    }

    #[test]
    fn token_from_another_key_is_rejected() {
        let ours = signer(DEFAULT_ISSUER, &[]);
        let theirs = signer(DEFAULT_ISSUER, &[]);
        check_rejected(
            ours.verify(&issue(&theirs, &["api"]), NOW),
            "service account token signature is invalid",
        );
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let tokens = signer(DEFAULT_ISSUER, &[]);
        let token = issue(&tokens, &["api"]);
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = "system:serviceaccount:kube-system:admin".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
            parts[2]
        );
        check_rejected(
            tokens.verify(&forged, NOW),
            "service account token signature is invalid",
        );
    }

    #[test]
    fn wrong_issuer_and_audience_are_rejected() {
        let other_issuer = signer("https://elsewhere", &[]);
        let token = issue(&other_issuer, &["api"]);
        let tokens = ServiceAccountTokens {
            issuer: DEFAULT_ISSUER.to_string(),
            ..other_issuer
        };
        check_rejected(
            tokens.verify(&token, NOW),
            "service account token issuer \"https://elsewhere\" is not \"https://kubernetes.default.svc\"",
        );
        let strict = ServiceAccountTokens {
            issuer: "https://elsewhere".to_string(),
            accepted_audiences: vec!["vault".to_string()],
            ..tokens
        };
        check_rejected(
            strict.verify(&token, NOW),
            "service account token audiences [\"api\"] include none of [\"vault\"]",
        );
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let tokens = signer(DEFAULT_ISSUER, &[]);
        check_rejected(
            tokens.verify("abc", NOW),
            "malformed service account token: not three dot-separated parts",
        );
        check_rejected(
            tokens.verify("a.b.c.d", NOW),
            "malformed service account token: not three dot-separated parts",
        );
        check_rejected(
            tokens.verify("!!.b.c", NOW),
            "malformed service account token: the header is not base64url",
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        check_rejected(
            tokens.verify(&format!("{none_header}.e30."), NOW),
            "malformed service account token: the algorithm is not ES256",
        );
    }

    #[test]
    fn signing_key_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServiceAccountTokens::load_or_create(dir.path(), DEFAULT_ISSUER, &[]).unwrap();
        let token = issue(&first, &["api"]);
        let second = ServiceAccountTokens::load_or_create(dir.path(), DEFAULT_ISSUER, &[]).unwrap();
        second.verify(&token, NOW).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SIGNING_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
