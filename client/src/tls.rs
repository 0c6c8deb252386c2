//! What both transports present to a TLS apiserver: the kubeconfig's CA
//! as the only trust root, its client certificate (if any), and its bearer
//! token (if any) as an `authorization` header value.

use std::sync::Arc;

use http::HeaderValue;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::kubeconfig::{Connection, Credential};
use crate::{Error, Result};

/// The cryptography every Skiff TLS endpoint uses: ring's, with the TLS 1.3
/// suites ordered AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 (Go's
/// crypto/tls order on machines with AES instructions, so Skiff picks what
/// kube-apiserver and kubectl pick). ring's default order puts AES-256
/// first, which costs more per byte on the watch and reply streams.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|suite| match suite.suite() {
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256 => 0,
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384 => 1,
            rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => 2,
            _ => 3,
        });
    Arc::new(provider)
}

/// The rustls client configuration of `connection` (ALPN is left to the
/// connector).
pub(crate) fn client_config(connection: &Connection) -> Result<rustls::ClientConfig> {
    let provider = crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Config(format!("TLS: {error}")))?;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca_pem) = &connection.ca_pem {
        for certificate in CertificateDer::pem_slice_iter(ca_pem) {
            let certificate = certificate
                .map_err(|error| Error::Config(format!("certificate-authority: {error}")))?;
            roots
                .add(certificate)
                .map_err(|error| Error::Config(format!("certificate-authority: {error}")))?;
        }
    }
    let builder = builder.with_root_certificates(roots);
    Ok(match &connection.credential {
        Some(Credential::ClientCertificate {
            certificate_pem,
            key_pem,
        }) => {
            let chain = CertificateDer::pem_slice_iter(certificate_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| Error::Config(format!("client-certificate: {error}")))?;
            let key = PrivateKeyDer::from_pem_slice(key_pem)
                .map_err(|error| Error::Config(format!("client-key: {error}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| Error::Config(format!("client certificate: {error}")))?
        }
        _ => builder.with_no_client_auth(),
    })
}

/// `Bearer <token>` when the connection authenticates with a token.
pub(crate) fn bearer(connection: &Connection) -> Result<Option<HeaderValue>> {
    match &connection.credential {
        Some(Credential::Token(token)) => HeaderValue::from_str(&format!("Bearer {token}"))
            .map(Some)
            .map_err(|_| Error::Config("the bearer token is not a valid header".into())),
        _ => Ok(None),
    }
}
