//! Tests of the cluster PKI: creation and reload, client certificates read
//! back as users, and TLS handshakes against the server configuration.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::*;

const ONE_HOUR: Duration = Duration::from_secs(3600);

fn hosts_of(pki_dir: &Path) -> Vec<ServingHost> {
    let pem = fs::read_to_string(pki_dir.join(SERVING_CERTIFICATE_FILE)).unwrap();
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).unwrap();
    let names = certificate.subject_alternative_name().unwrap().unwrap();
    names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(ServingHost::Dns(dns.to_string())),
            GeneralName::IPAddress(bytes) => <[u8; 4]>::try_from(*bytes)
                .map(IpAddr::from)
                .or_else(|_| <[u8; 16]>::try_from(*bytes).map(IpAddr::from))
                .ok()
                .map(ServingHost::Ip),
            _ => None,
        })
        .collect()
}

#[test]
fn first_start_creates_files_and_second_start_loads_them() {
    let dir = tempfile::tempdir().unwrap();
    let created = Pki::load_or_create(dir.path(), &[]).unwrap();
    for (file, mode) in [
        (CA_CERTIFICATE_FILE, 0o644),
        (CA_KEY_FILE, 0o600),
        (SERVING_CERTIFICATE_FILE, 0o644),
        (SERVING_KEY_FILE, 0o600),
    ] {
        let metadata = fs::metadata(dir.path().join(file)).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, mode, "{file}");
    }
    let loaded = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(created.ca_pem(), loaded.ca_pem());
    assert_eq!(
        created.serving_certificate_pem(),
        loaded.serving_certificate_pem()
    );
    let ca_der = CertificateDer::from_pem_slice(loaded.ca_pem().as_bytes()).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    assert_eq!(
        ca.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        CA_COMMON_NAME
    );
    assert!(ca.is_ca());
}

#[test]
fn serving_certificate_is_reissued_for_a_new_host_with_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = Pki::load_or_create(dir.path(), &[]).unwrap();
    let mut expected: Vec<ServingHost> = serving_hosts(&[]).unwrap();
    assert_eq!(hosts_of(dir.path()), expected);

    let extra = vec!["skiff.example".to_string(), "10.0.0.7".to_string()];
    let second = Pki::load_or_create(dir.path(), &extra).unwrap();
    assert_eq!(first.ca_pem(), second.ca_pem());
    assert_ne!(
        first.serving_certificate_pem(),
        second.serving_certificate_pem()
    );
    expected.push(ServingHost::Dns("skiff.example".to_string()));
    expected.push(ServingHost::Ip("10.0.0.7".parse().unwrap()));
    assert_eq!(hosts_of(dir.path()), expected);

    // Asking for a subset keeps the wider certificate.
    let third = Pki::load_or_create(dir.path(), &extra[..1]).unwrap();
    assert_eq!(
        second.serving_certificate_pem(),
        third.serving_certificate_pem()
    );
}

#[test]
fn serving_certificate_of_another_ca_is_reissued() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let first = Pki::load_or_create(dir.path(), &[]).unwrap();
    let other = Pki::load_or_create(other_dir.path(), &[]).unwrap();
    for file in [CA_CERTIFICATE_FILE, CA_KEY_FILE] {
        fs::copy(other_dir.path().join(file), dir.path().join(file)).unwrap();
    }
    let reloaded = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(reloaded.ca_pem(), other.ca_pem());
    assert_ne!(
        reloaded.serving_certificate_pem(),
        first.serving_certificate_pem()
    );
    let handshake = handshake(reloaded.rustls_server_config(), reloaded.ca_pem(), None).unwrap();
    assert_eq!(handshake.peer_certificates, 0);
}

#[test]
fn half_a_ca_is_an_error_not_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_create(dir.path(), &[]).unwrap();
    fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
    let error = Pki::load_or_create(dir.path(), &[]).err().unwrap();
    assert!(matches!(error, AuthError::IncompleteCa { .. }), "{error}");
}

#[test]
fn invalid_extra_host_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let error = Pki::load_or_create(dir.path(), &["bad host/".to_string()])
        .err()
        .unwrap();
    assert!(matches!(error, AuthError::InvalidHost { .. }), "{error}");
}

fn check_client_user(common_name: &str, organizations: &[&str], expected_groups: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let organizations: Vec<String> = organizations.iter().map(|o| o.to_string()).collect();
    let (certificate_pem, key_pem) = pki
        .issue_client_certificate(common_name, &organizations, ONE_HOUR)
        .unwrap();
    assert!(key_pem.contains("PRIVATE KEY"));
    let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).unwrap();
    let user = user_from_client_certificate(&der).unwrap();
    assert_eq!(user.name, common_name);
    assert_eq!(user.groups, expected_groups);
    // The re-signed certificate still verifies against the CA.
    let ca_der = CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    let (_, client) = x509_parser::parse_x509_certificate(&der).unwrap();
    client.verify_signature(Some(ca.public_key())).unwrap();
}

#[test]
fn client_certificate_reads_back_as_user() {
    check_client_user("alice", &[], &["system:authenticated"]);
    check_client_user(
        "admin",
        &["system:masters"],
        &["system:masters", "system:authenticated"],
    );
    check_client_user(
        "system:node:n1",
        &["system:nodes", "ops", "dev"],
        &["system:nodes", "ops", "dev", "system:authenticated"],
    );
}

#[test]
fn garbage_is_not_a_client_certificate() {
    let error = user_from_client_certificate(b"not a certificate").unwrap_err();
    assert!(
        matches!(error, AuthError::BadClientCertificate(_)),
        "{error}"
    );
}

/// Client credentials for a handshake: none, or a certificate and key.
type ClientCredential = Option<(String, String)>;

/// What the server side of a finished handshake saw.
#[derive(Debug)]
struct Handshake {
    /// Client certificates presented.
    peer_certificates: usize,
    alpn: Option<Vec<u8>>,
    suite: Option<rustls::CipherSuite>,
}

/// Runs a TLS handshake over in-memory buffers, the client offering ring's
/// default suite order.
fn handshake(
    server_config: Arc<rustls::ServerConfig>,
    ca_pem: &str,
    client_credential: ClientCredential,
) -> Result<Handshake, rustls::Error> {
    handshake_as("localhost", server_config, ca_pem, client_credential)
}

/// [`handshake`] with the client asking for `server_name`.
fn handshake_as(
    server_name: &str,
    server_config: Arc<rustls::ServerConfig>,
    ca_pem: &str,
    client_credential: ClientCredential,
) -> Result<Handshake, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut client_config = match client_credential {
        None => builder.with_no_client_auth(),
        Some((certificate_pem, key_pem)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(certificate_pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
    };
    client_config.alpn_protocols = vec![b"h2".to_vec()];
    let mut client = rustls::ClientConnection::new(
        Arc::new(client_config),
        ServerName::try_from(server_name.to_string()).unwrap(),
    )?;
    let mut server = rustls::ServerConnection::new(server_config)?;
    for _round in 0..10 {
        let mut to_server = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut to_server).unwrap();
        }
        let mut input = to_server.as_slice();
        while !input.is_empty() {
            server.read_tls(&mut input).unwrap();
            server.process_new_packets()?;
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).unwrap();
        }
        let mut input = to_client.as_slice();
        while !input.is_empty() {
            client.read_tls(&mut input).unwrap();
            client.process_new_packets()?;
        }
        if !client.is_handshaking() && !server.is_handshaking() && !client.wants_write() {
            return Ok(Handshake {
                peer_certificates: server.peer_certificates().map_or(0, <[_]>::len),
                alpn: server.alpn_protocol().map(<[u8]>::to_vec),
                suite: server.negotiated_cipher_suite().map(|suite| suite.suite()),
            });
        }
    }
    panic!("handshake did not finish");
}

#[test]
fn handshake_with_ca_signed_client_certificate_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let credential = pki
        .issue_client_certificate("alice", &["dev".to_string()], ONE_HOUR)
        .unwrap();
    let handshake = handshake(pki.rustls_server_config(), pki.ca_pem(), Some(credential)).unwrap();
    assert_eq!(handshake.peer_certificates, 1);
    assert_eq!(handshake.alpn.as_deref(), Some(&b"h2"[..]));
}

#[test]
fn the_server_picks_aes_128_gcm_whatever_the_client_prefers() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    // ring's default order, which the test client offers, puts AES-256 first.
    assert_eq!(
        rustls::crypto::ring::default_provider().cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
    );
    let handshake = handshake(pki.rustls_server_config(), pki.ca_pem(), None).unwrap();
    assert_eq!(
        handshake.suite,
        Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
    );
}

#[test]
fn handshake_without_client_certificate_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let handshake = handshake(pki.rustls_server_config(), pki.ca_pem(), None).unwrap();
    assert_eq!(handshake.peer_certificates, 0);
}

#[test]
fn handshake_with_foreign_client_certificate_fails() {
    let dir = tempfile::tempdir().unwrap();
    let foreign_dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let foreign = Pki::load_or_create(foreign_dir.path(), &[]).unwrap();
    let credential = foreign
        .issue_client_certificate("mallory", &["system:masters".to_string()], ONE_HOUR)
        .unwrap();
    let error = handshake(pki.rustls_server_config(), pki.ca_pem(), Some(credential)).unwrap_err();
    assert!(
        matches!(error, rustls::Error::InvalidCertificate(_)),
        "{error:?}"
    );
}

#[test]
fn serving_certificate_verifies_for_every_host_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &["10.0.0.7".to_string()]).unwrap();
    for server_name in ["kubernetes.default.svc", "127.0.0.1", "::1", "10.0.0.7"] {
        handshake_as(server_name, pki.rustls_server_config(), pki.ca_pem(), None)
            .unwrap_or_else(|error| panic!("{server_name}: {error}"));
    }
    let error = handshake_as(
        "elsewhere.example",
        pki.rustls_server_config(),
        pki.ca_pem(),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, rustls::Error::InvalidCertificate(_)),
        "{error:?}"
    );
}
