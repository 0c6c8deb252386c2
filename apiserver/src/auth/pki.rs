//! Skiff's cluster PKI: a CA (ECDSA P-256, CN `skiff-ca`), the apiserver's
//! serving certificate signed by it, client certificates for users and
//! components, the rustls server configuration that serves the former and
//! verifies the latter, and reading a verified client certificate as a user.
//!
//! The files live in one directory, as PEM: `ca.crt`, `ca.key`,
//! `apiserver.crt`, `apiserver.key` (keys with mode 0600). The CA is created
//! once and then only loaded; the serving certificate is reissued when it is
//! missing, lacks a requested host, was not signed by the CA or expires
//! within [`SERVING_RENEW_BEFORE`].
//!
//! Client certificates name the user in the subject CN and the groups in the
//! subject O attributes, as Kubernetes' x509 authenticator reads them.
//! `rcgen` keeps one value per attribute type, so the issued certificate's
//! subject is rewritten with one O per group and the TBS re-signed with the
//! CA key (see [`replace_subject_and_sign`]).

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

use super::AuthError;
use super::pem_files::{
    CERTIFICATE_FILE_MODE, PRIVATE_KEY_FILE_MODE, pem_encode, read_optional, write_atomically,
};
use crate::request::UserInfo;

pub(crate) const CA_CERTIFICATE_FILE: &str = "ca.crt";
pub(crate) const CA_KEY_FILE: &str = "ca.key";
pub(crate) const SERVING_CERTIFICATE_FILE: &str = "apiserver.crt";
pub(crate) const SERVING_KEY_FILE: &str = "apiserver.key";

pub(crate) const CA_COMMON_NAME: &str = "skiff-ca";
/// Subject CN of the serving certificate, as kube-apiserver's.
pub(crate) const SERVING_COMMON_NAME: &str = "kube-apiserver";

/// Hosts every serving certificate names, before the configured extra ones.
pub(crate) const DEFAULT_SERVING_HOSTS: [&str; 6] = [
    "localhost",
    "127.0.0.1",
    "::1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
];

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;
pub(crate) const CA_VALIDITY: Duration = Duration::from_secs(3650 * SECONDS_PER_DAY);
pub(crate) const SERVING_VALIDITY: Duration = Duration::from_secs(365 * SECONDS_PER_DAY);
/// A serving certificate expiring sooner than this is reissued on start.
pub(crate) const SERVING_RENEW_BEFORE: Duration = Duration::from_secs(30 * SECONDS_PER_DAY);
/// Certificates start this long before now, to tolerate clock skew.
const NOT_BEFORE_BACKDATE: Duration = Duration::from_secs(60 * 60);

/// ALPN protocols the server offers, in preference order.
pub(crate) const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// DER of the AlgorithmIdentifier `ecdsa-with-SHA256` (1.2.840.10045.4.3.2).
const ECDSA_WITH_SHA256_ALGORITHM_IDENTIFIER: [u8; 12] = [
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
/// DER of the attribute type OIDs `commonName` (2.5.4.3) and
/// `organizationName` (2.5.4.10).
const COMMON_NAME_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
const ORGANIZATION_NAME_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x0a];

/// The loaded (or freshly created) cluster PKI.
pub(crate) struct Pki {
    ca_certificate_pem: String,
    /// Signs serving and client certificates; owns the CA key.
    ca_issuer: Issuer<'static, KeyPair>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the tests of reissuing"))]
    serving_certificate_pem: String,
    /// Built once at load, so a bad key or certificate fails at start.
    server_config: Arc<rustls::ServerConfig>,
}

/// One host a serving certificate must name.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ServingHost {
    Dns(String),
    Ip(IpAddr),
}

impl Pki {
    /// Loads the PKI from `dir`, creating what is missing (the directory,
    /// the CA on first start, the serving certificate when it is missing or
    /// does not cover `DEFAULT_SERVING_HOSTS` plus `extra_hosts`).
    pub(crate) fn load_or_create(dir: &Path, extra_hosts: &[String]) -> Result<Pki, AuthError> {
        fs::create_dir_all(dir).map_err(|error| AuthError::io(dir, error))?;
        let now = OffsetDateTime::from(SystemTime::now());
        let hosts = serving_hosts(extra_hosts)?;

        let (ca_certificate_pem, ca_key) = load_or_create_ca(dir, now)?;
        let ca_certificate_path = dir.join(CA_CERTIFICATE_FILE);
        let ca_certificate_der =
            certificate_der_from_pem(&ca_certificate_path, &ca_certificate_pem)?;
        let ca_issuer = Issuer::from_ca_cert_der(&ca_certificate_der, ca_key).map_err(|error| {
            AuthError::BadPemFile {
                path: ca_certificate_path.clone(),
                reason: error.to_string(),
            }
        })?;

        let (serving_certificate_pem, serving_key_pem) =
            load_or_create_serving(dir, &hosts, &ca_certificate_der, &ca_issuer, now)?;
        let server_config = build_server_config(
            &ca_certificate_der,
            &dir.join(SERVING_CERTIFICATE_FILE),
            &serving_certificate_pem,
            &dir.join(SERVING_KEY_FILE),
            &serving_key_pem,
        )?;
        Ok(Pki {
            ca_certificate_pem,
            ca_issuer,
            serving_certificate_pem,
            server_config,
        })
    }

    /// The CA certificate, PEM, for kubeconfigs and ServiceAccount volumes.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_certificate_pem
    }

    /// The serving certificate, PEM.
    #[cfg(test)]
    pub(crate) fn serving_certificate_pem(&self) -> &str {
        &self.serving_certificate_pem
    }

    /// Issues a client certificate (client-auth EKU) for user `common_name`
    /// in groups `organizations`, valid from now for `validity`. Returns
    /// `(certificate_pem, private_key_pem)`.
    pub(crate) fn issue_client_certificate(
        &self,
        common_name: &str,
        organizations: &[String],
        validity: Duration,
    ) -> Result<(String, String), AuthError> {
        if common_name.is_empty() {
            return Err(AuthError::BadClientCertificate(
                "the common name (user name) is empty".to_string(),
            ));
        }
        let now = OffsetDateTime::from(SystemTime::now());
        let client_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name_with_common_name(common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - NOT_BEFORE_BACKDATE;
        params.not_after = now + validity;
        let certificate = params.signed_by(&client_key, &self.ca_issuer)?;
        let subject = subject_der(common_name, organizations);
        let certificate_der =
            replace_subject_and_sign(certificate.der(), &subject, self.ca_issuer.key())?;
        Ok((
            pem_encode("CERTIFICATE", &certificate_der),
            client_key.serialize_pem(),
        ))
    }

    /// The TLS configuration of the HTTPS face: the serving certificate,
    /// ALPN `h2` then `http/1.1`, and client certificates verified against
    /// the CA but optional, so token and anonymous clients connect too.
    pub(crate) fn rustls_server_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.server_config)
    }
}

/// Reads a client certificate (already verified by TLS) as a user: the
/// subject CN is the name, the subject O values are the groups, and
/// `system:authenticated` is added.
pub(crate) fn user_from_client_certificate(der: &[u8]) -> Result<UserInfo, AuthError> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|error| AuthError::BadClientCertificate(error.to_string()))?;
    let subject = certificate.subject();
    let name = subject
        .iter_common_name()
        .next()
        .ok_or_else(|| AuthError::BadClientCertificate("the subject has no common name".into()))?
        .as_str()
        .map_err(|error| AuthError::BadClientCertificate(format!("common name: {error}")))?;
    if name.is_empty() {
        return Err(AuthError::BadClientCertificate(
            "the subject common name is empty".to_string(),
        ));
    }
    let groups = subject
        .iter_organization()
        .map(|attribute| attribute.as_str().map(str::to_string))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| AuthError::BadClientCertificate(format!("organization: {error}")))?;
    Ok(UserInfo::authenticated(name, groups))
}

fn serving_hosts(extra_hosts: &[String]) -> Result<Vec<ServingHost>, AuthError> {
    let mut hosts = Vec::new();
    for host in DEFAULT_SERVING_HOSTS
        .iter()
        .copied()
        .chain(extra_hosts.iter().map(String::as_str))
    {
        let host = host.trim();
        let parsed = if let Ok(ip) = host.parse::<IpAddr>() {
            ServingHost::Ip(ip)
        } else if host.is_empty()
            || !host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'*'))
        {
            return Err(AuthError::InvalidHost {
                host: host.to_string(),
                reason: "neither an IP address nor a DNS name".to_string(),
            });
        } else {
            ServingHost::Dns(host.to_ascii_lowercase())
        };
        if !hosts.contains(&parsed) {
            hosts.push(parsed);
        }
    }
    Ok(hosts)
}

fn load_or_create_ca(dir: &Path, now: OffsetDateTime) -> Result<(String, KeyPair), AuthError> {
    let certificate_path = dir.join(CA_CERTIFICATE_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    match (read_optional(&certificate_path)?, read_optional(&key_path)?) {
        (Some(certificate_pem), Some(key_pem)) => {
            Ok((certificate_pem, key_pair_from_pem(&key_path, &key_pem)?))
        }
        (Some(_), None) => Err(AuthError::IncompleteCa {
            present: certificate_path,
            missing: key_path,
        }),
        (None, Some(_)) => Err(AuthError::IncompleteCa {
            present: key_path,
            missing: certificate_path,
        }),
        (None, None) => {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
            let mut params = CertificateParams::default();
            params.distinguished_name = distinguished_name_with_common_name(CA_COMMON_NAME);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            params.not_before = now - NOT_BEFORE_BACKDATE;
            params.not_after = now + CA_VALIDITY;
            let certificate = params.self_signed(&key)?;
            // The key goes first: a crash in between leaves an incomplete CA
            // that is reported, never a certificate whose key is lost.
            write_atomically(&key_path, &key.serialize_pem(), PRIVATE_KEY_FILE_MODE)?;
            let certificate_pem = certificate.pem();
            write_atomically(&certificate_path, &certificate_pem, CERTIFICATE_FILE_MODE)?;
            Ok((certificate_pem, key))
        }
    }
}

fn load_or_create_serving(
    dir: &Path,
    hosts: &[ServingHost],
    ca_certificate_der: &CertificateDer<'_>,
    ca_issuer: &Issuer<'_, KeyPair>,
    now: OffsetDateTime,
) -> Result<(String, String), AuthError> {
    let certificate_path = dir.join(SERVING_CERTIFICATE_FILE);
    let key_path = dir.join(SERVING_KEY_FILE);
    if let (Some(certificate_pem), Some(key_pem)) =
        (read_optional(&certificate_path)?, read_optional(&key_path)?)
    {
        let certificate_der = certificate_der_from_pem(&certificate_path, &certificate_pem)?;
        if serving_certificate_is_current(&certificate_der, hosts, ca_certificate_der, now) {
            return Ok((certificate_pem, key_pem));
        }
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name_with_common_name(SERVING_COMMON_NAME);
    params.subject_alt_names = hosts
        .iter()
        .map(|host| match host {
            ServingHost::Dns(name) => Ok(SanType::DnsName(name.clone().try_into()?)),
            ServingHost::Ip(ip) => Ok(SanType::IpAddress(*ip)),
        })
        .collect::<Result<Vec<_>, rcgen::Error>>()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - NOT_BEFORE_BACKDATE;
    params.not_after = now + SERVING_VALIDITY;
    let certificate = params.signed_by(&key, ca_issuer)?;
    let key_pem = key.serialize_pem();
    let certificate_pem = certificate.pem();
    write_atomically(&key_path, &key_pem, PRIVATE_KEY_FILE_MODE)?;
    write_atomically(&certificate_path, &certificate_pem, CERTIFICATE_FILE_MODE)?;
    Ok((certificate_pem, key_pem))
}

/// Whether a stored serving certificate can be kept: it parses, was signed
/// by the CA, does not expire within [`SERVING_RENEW_BEFORE`] and names
/// every requested host.
fn serving_certificate_is_current(
    certificate_der: &[u8],
    hosts: &[ServingHost],
    ca_certificate_der: &[u8],
    now: OffsetDateTime,
) -> bool {
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(certificate_der) else {
        return false;
    };
    let Ok((_, ca_certificate)) = x509_parser::parse_x509_certificate(ca_certificate_der) else {
        return false;
    };
    if certificate
        .verify_signature(Some(ca_certificate.public_key()))
        .is_err()
    {
        return false;
    }
    let renew_at = now + SERVING_RENEW_BEFORE;
    if certificate.validity().not_after.timestamp() <= renew_at.unix_timestamp() {
        return false;
    }
    let Ok(Some(alternative_names)) = certificate.subject_alternative_name() else {
        return false;
    };
    let mut named_hosts = Vec::new();
    for general_name in &alternative_names.value.general_names {
        match general_name {
            GeneralName::DNSName(name) => {
                named_hosts.push(ServingHost::Dns(name.to_ascii_lowercase()))
            }
            GeneralName::IPAddress(bytes) => {
                if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                    named_hosts.push(ServingHost::Ip(IpAddr::from(octets)));
                } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                    named_hosts.push(ServingHost::Ip(IpAddr::from(octets)));
                }
            }
            _ => {}
        }
    }
    hosts.iter().all(|host| named_hosts.contains(host))
}

fn build_server_config(
    ca_certificate_der: &CertificateDer<'static>,
    serving_certificate_path: &Path,
    serving_certificate_pem: &str,
    serving_key_path: &Path,
    serving_key_pem: &str,
) -> Result<Arc<rustls::ServerConfig>, AuthError> {
    let provider = client::crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_certificate_der.clone())?;
    let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|error| AuthError::ClientVerifier(error.to_string()))?;
    let serving_certificate_der =
        certificate_der_from_pem(serving_certificate_path, serving_certificate_pem)?;
    let serving_key =
        PrivateKeyDer::from_pem_slice(serving_key_pem.as_bytes()).map_err(|error| {
            AuthError::BadPemFile {
                path: serving_key_path.to_path_buf(),
                reason: format!("no private key: {error}"),
            }
        })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(vec![serving_certificate_der], serving_key)?;
    // The server's suite order decides, whatever order a client offers.
    config.ignore_client_order = true;
    config.alpn_protocols = ALPN_PROTOCOLS
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect();
    Ok(Arc::new(config))
}

fn certificate_der_from_pem(path: &Path, pem: &str) -> Result<CertificateDer<'static>, AuthError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|error| AuthError::BadPemFile {
        path: path.to_path_buf(),
        reason: format!("no certificate: {error}"),
    })
}

fn key_pair_from_pem(path: &Path, pem: &str) -> Result<KeyPair, AuthError> {
    KeyPair::from_pem(pem).map_err(|error| AuthError::BadPemFile {
        path: PathBuf::from(path),
        reason: format!("no usable private key: {error}"),
    })
}

fn distinguished_name_with_common_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// DER of the subject `O=<organization>... CN=<common_name>`, one RDN per
/// attribute, values as UTF8String.
fn subject_der(common_name: &str, organizations: &[String]) -> Vec<u8> {
    let mut relative_names = Vec::new();
    let attributes = organizations
        .iter()
        .map(|organization| (&ORGANIZATION_NAME_OID, organization.as_str()))
        .chain(std::iter::once((&COMMON_NAME_OID, common_name)));
    for (oid, value) in attributes {
        let mut attribute = oid.to_vec();
        attribute.extend(der_tlv(0x0c, value.as_bytes()));
        relative_names.extend(der_tlv(0x31, &der_tlv(0x30, &attribute)));
    }
    der_tlv(0x30, &relative_names)
}

/// Replaces the subject of `certificate_der` by `subject` and signs the new
/// TBS with `ca_key` (ECDSA P-256 with SHA-256).
fn replace_subject_and_sign(
    certificate_der: &[u8],
    subject: &[u8],
    ca_key: &KeyPair,
) -> Result<Vec<u8>, AuthError> {
    let (_, certificate) =
        x509_parser::parse_x509_certificate(certificate_der).map_err(|error| {
            AuthError::Signing(format!("reparsing the issued certificate: {error}"))
        })?;
    let tbs: &[u8] = certificate.tbs_certificate.as_ref();
    let old_subject = certificate.tbs_certificate.subject.as_raw();
    // Both are slices of `certificate_der`, so the subject's offset in the
    // TBS is the distance between their starts.
    let subject_start = (old_subject.as_ptr() as usize)
        .checked_sub(tbs.as_ptr() as usize)
        .ok_or_else(|| AuthError::Signing("subject lies outside the TBS".to_string()))?;
    let subject_end = subject_start + old_subject.len();
    let header_length = der_header_length(tbs)
        .ok_or_else(|| AuthError::Signing("TBS has no valid DER header".to_string()))?;
    let (Some(before_subject), Some(after_subject)) = (
        tbs.get(header_length..subject_start),
        tbs.get(subject_end..),
    ) else {
        return Err(AuthError::Signing(
            "subject lies outside the TBS".to_string(),
        ));
    };
    let mut tbs_body = before_subject.to_vec();
    tbs_body.extend_from_slice(subject);
    tbs_body.extend_from_slice(after_subject);
    let new_tbs = der_tlv(0x30, &tbs_body);

    let random = ring::rand::SystemRandom::new();
    let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        ca_key.serialized_der(),
        &random,
    )
    .map_err(|error| AuthError::Signing(format!("CA key: {error}")))?;
    let signature = signer
        .sign(&random, &new_tbs)
        .map_err(|error| AuthError::Signing(error.to_string()))?;
    let mut signature_bits = vec![0u8];
    signature_bits.extend_from_slice(signature.as_ref());

    let mut certificate_body = new_tbs;
    certificate_body.extend_from_slice(&ECDSA_WITH_SHA256_ALGORITHM_IDENTIFIER);
    certificate_body.extend(der_tlv(0x03, &signature_bits));
    Ok(der_tlv(0x30, &certificate_body))
}

/// One DER TLV with a definite length.
fn der_tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut encoded = vec![tag];
    let length = contents.len();
    if length < 0x80 {
        encoded.push(length as u8);
    } else {
        let length_bytes = length.to_be_bytes();
        let first_significant = length_bytes
            .iter()
            .position(|byte| *byte != 0)
            .unwrap_or(length_bytes.len() - 1);
        let significant = &length_bytes[first_significant..];
        encoded.push(0x80 | significant.len() as u8);
        encoded.extend_from_slice(significant);
    }
    encoded.extend_from_slice(contents);
    encoded
}

/// Length of the tag and length octets of the DER value at the start of
/// `bytes` (single-byte tags only, as in certificates).
fn der_header_length(bytes: &[u8]) -> Option<usize> {
    let first_length_byte = *bytes.get(1)?;
    if first_length_byte < 0x80 {
        Some(2)
    } else {
        Some(2 + usize::from(first_length_byte & 0x7f))
    }
}

#[cfg(test)]
mod tests;
