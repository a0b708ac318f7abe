//! Sealing of Tax File Numbers at rest (product-spec §9.2: TFNs are encrypted sensitive fields).
//!
//! A TFN is sealed with ChaCha20-Poly1305 (RFC 8439) under a 256-bit key and stored as
//! base64(nonce ‖ ciphertext); only its last three digits are kept in clear for masked display.
//! The key lives in a file beside the database, readable only by its owner, until the per-user
//! Stronghold vault (issue 5) takes it over; [`TfnCipher::from_key`] is the seam for that.

use std::path::Path;

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// Seals and opens TFNs. `Debug` never shows the key.
#[derive(Clone)]
pub struct TfnCipher {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for TfnCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TfnCipher(..)")
    }
}

impl TfnCipher {
    /// A cipher from a 32-byte key.
    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// A cipher with a fresh random key, for tests and throw-away databases.
    pub fn random() -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&ChaCha20Poly1305::generate_key(&mut OsRng)),
        }
    }

    /// Loads the key file at `path`, creating it (mode 0600 on Unix) with a random key if absent.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read or written; [`Error::Crypto`] if it is not 32 bytes.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        Self::load(path, true)
    }

    /// Loads the key file at `path`; creates a new random key only when `may_create` (a database
    /// that holds no sealed TFN yet). A missing key for a database that does hold sealed TFNs is
    /// an error, never silently replaced: a new key would make every stored TFN unreadable.
    ///
    /// # Errors
    /// [`Error::Crypto`] naming the file and what to do when the key is missing or not 32 bytes;
    /// [`Error::Io`] if the file cannot be read or written.
    pub fn load(path: &Path, may_create: bool) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
                    Error::Crypto(format!(
                        "{} is not a {KEY_LEN}-byte key; restore it from your backup of this data folder",
                        path.display()
                    ))
                })?;
                Ok(Self::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !may_create => {
                Err(Error::Crypto(format!(
                    "the TFN key file {} is missing, but this database holds encrypted TFNs. Restore the file from your backup of this data folder; a new key would make the stored TFNs unreadable",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ChaCha20Poly1305::generate_key(&mut OsRng);
                write_private(path, key.as_slice())?;
                Ok(Self {
                    cipher: ChaCha20Poly1305::new(&key),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Seals a TFN into base64(nonce ‖ ciphertext). A fresh nonce each time, so equal TFNs seal
    /// differently.
    pub fn seal(&self, tfn: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, tfn.as_bytes())
            .expect("ChaCha20-Poly1305 encryption of a short buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        STANDARD.encode(out)
    }

    /// Opens a value made by [`TfnCipher::seal`].
    ///
    /// # Errors
    /// [`Error::Crypto`] if the value is damaged or was sealed under another key.
    pub fn open(&self, sealed: &str) -> Result<String> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|e| Error::Crypto(e.to_string()))?;
        if bytes.len() <= NONCE_LEN {
            return Err(Error::Crypto("sealed value too short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| Error::Crypto("authentication failed".into()))?;
        String::from_utf8(plain).map_err(|e| Error::Crypto(e.to_string()))
    }
}

/// The TFN as the UI may show it: asterisks and the last three digits ("******789").
pub fn mask(last3: &str) -> String {
    format!("******{last3}")
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tfn_opens_to_the_original_and_is_not_readable() {
        let cipher = TfnCipher::random();
        let sealed = cipher.seal("123456782");
        assert!(
            !sealed.contains("123456782"),
            "the clear TFN must not appear in the sealed form"
        );
        assert_eq!(cipher.open(&sealed).unwrap(), "123456782");
    }

    #[test]
    fn a_value_sealed_under_another_key_does_not_open() {
        let sealed = TfnCipher::random().seal("123456782");
        assert!(
            matches!(TfnCipher::random().open(&sealed), Err(Error::Crypto(_))),
            "authentication must fail under the wrong key"
        );
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tfn.key");
        let sealed = TfnCipher::load_or_create(&path).unwrap().seal("987654321");
        let reopened = TfnCipher::load_or_create(&path).unwrap();
        assert_eq!(
            reopened.open(&sealed).unwrap(),
            "987654321",
            "same key after reload"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the key file must be private to its owner");
        }
    }

    #[test]
    fn a_missing_key_is_not_replaced_when_sealed_tfns_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tfn.key");
        match TfnCipher::load(&path, false) {
            Err(Error::Crypto(msg)) => assert!(msg.contains("is missing"), "{msg}"),
            other => panic!("expected a missing-key error, got {other:?}"),
        }
        assert!(!path.exists(), "no new key is written in its place");
    }

    #[test]
    fn mask_shows_only_the_last_three_digits() {
        assert_eq!(mask("782"), "******782");
    }
}
