//! Secrets and where they are kept: the [`Secret`] type and the [`SecretStore`] trait.
//!
//! Core never stores a secret (TOTP secret, recovery codes, Xero tokens) in the database; it
//! asks a [`SecretStore`] — in the app, the signed-in user's Stronghold vault, implemented in the
//! shell (`src-tauri/src/vault.rs`) so that swapping the backend (an OS keychain, say) is one
//! file. [`MemorySecretStore`] is the fake for tests. Secret values travel as [`Secret`], which
//! cannot be logged or serialised by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use crate::error::Result;

/// A secret value (token, TOTP secret, recovery code, password).
///
/// `Debug` prints `Secret(<redacted>)`; there is deliberately no `Display` and no `Serialize`,
/// so a secret cannot reach a log, IPC or the database by accident. The value comes out only
/// through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call it only where the value must be used (hashing, showing it to
    /// its owner once, writing it to the vault).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Named secrets of one user: get, put, delete.
///
/// Names are short dotted strings chosen by core (`mfa.totp`, `mfa.recovery`, …). An
/// implementation persists each change before returning, and is shared between threads.
pub trait SecretStore: Send + Sync {
    /// The secret called `name`, if there is one.
    ///
    /// # Errors
    /// [`crate::Error::Vault`] if the store cannot be read.
    fn get(&self, name: &str) -> Result<Option<Secret>>;

    /// Stores `value` as `name`, replacing any previous value.
    ///
    /// # Errors
    /// [`crate::Error::Vault`] if the store cannot be written.
    fn put(&self, name: &str, value: &Secret) -> Result<()>;

    /// Removes `name`; removing a missing name is not an error.
    ///
    /// # Errors
    /// [`crate::Error::Vault`] if the store cannot be written.
    fn delete(&self, name: &str) -> Result<()>;
}

/// An in-memory [`SecretStore`] for tests and dry runs; forgets everything when dropped.
#[derive(Debug, Default)]
pub struct MemorySecretStore {
    values: Mutex<HashMap<String, Secret>>,
}

impl MemorySecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn values(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // A panic while holding the lock cannot leave the map half-written; keep using it.
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        Ok(self.values().get(name).cloned())
    }

    fn put(&self, name: &str, value: &Secret) -> Result<()> {
        self.values().insert(name.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.values().remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_value() {
        let secret = Secret::new("JBSWY3DPEHPK3PXP");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(
            !shown.contains("JBSWY3DPEHPK3PXP"),
            "a secret must not leak through Debug: {shown}"
        );
        assert_eq!(
            secret.expose(),
            "JBSWY3DPEHPK3PXP",
            "expose gives the value"
        );
    }

    #[test]
    fn the_memory_store_gets_puts_and_deletes() {
        let store = MemorySecretStore::new();
        assert_eq!(store.get("a").unwrap(), None, "nothing stored yet");
        store.put("a", &Secret::new("one")).unwrap();
        store.put("a", &Secret::new("two")).unwrap();
        assert_eq!(
            store.get("a").unwrap().map(|s| s.expose().to_owned()),
            Some("two".to_owned()),
            "put replaces"
        );
        store.delete("a").unwrap();
        store.delete("a").unwrap();
        assert_eq!(
            store.get("a").unwrap(),
            None,
            "delete removes, twice is fine"
        );
    }
}
