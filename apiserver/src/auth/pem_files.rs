//! Reading and writing the PEM files the PKI and the ServiceAccount signer
//! keep in their directory: private keys are written with mode 0600, and
//! every file is written to a temporary name first and renamed, so a crash
//! never leaves half a key behind.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::AuthError;

/// Mode of private key files: owner read/write only.
pub(crate) const PRIVATE_KEY_FILE_MODE: u32 = 0o600;
/// Mode of certificate files.
pub(crate) const CERTIFICATE_FILE_MODE: u32 = 0o644;

/// Reads a file, or `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, AuthError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(AuthError::io(path, error)),
    }
}

/// Writes `contents` to `path` with `mode`, through a temporary file renamed
/// into place.
pub(crate) fn write_atomically(path: &Path, contents: &str, mode: u32) -> Result<(), AuthError> {
    let mut temporary_name = path.as_os_str().to_owned();
    temporary_name.push(".tmp");
    let temporary_path = Path::new(&temporary_name);
    // A leftover from an interrupted write would keep its old mode.
    match fs::remove_file(temporary_path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(AuthError::io(temporary_path, error)),
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(temporary_path)
        .map_err(|error| AuthError::io(temporary_path, error))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| AuthError::io(temporary_path, error))?;
    fs::rename(temporary_path, path).map_err(|error| AuthError::io(path, error))
}

/// Encodes DER bytes as one PEM block with the given label (`CERTIFICATE`,
/// `PRIVATE KEY`), 64 base64 characters a line.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}
