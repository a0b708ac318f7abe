//! The Stronghold-backed [`SecretStore`]: one encrypted snapshot file per user.
//!
//! Each user's secrets (TOTP secret, recovery codes, later Xero tokens) live in
//! `<data dir>/vaults/user-<id>.stronghold`, an IOTA Stronghold snapshot encrypted with a key
//! that core derives from the user's password and per-user salt (argon2id,
//! [`accounts::vault_key`]). The vault is opened at sign-in ([`sign_in`]), held by the
//! [`SignedIn`] value, and forgotten when that is dropped (sign-out). Every change is written to
//! the snapshot before returning (Stronghold writes a temporary file and renames it).
//!
//! Only the plugin's Rust snapshot type is used: its JavaScript commands are never registered
//! and the webview has no Stronghold permission, so secrets never cross IPC. Swapping the
//! backend (an OS keychain, when the plugin goes away with Tauri 3) means replacing this file.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use structuregram_core::accounts::{self, User, UserId, VaultKey};
use structuregram_core::gate::Session;
use structuregram_core::secrets::{Secret, SecretStore};
use structuregram_core::{DatabaseConnection, Error, Result};
use tauri_plugin_stronghold::stronghold::Stronghold;

/// Folder of the vault snapshots inside the data folder.
pub const VAULT_DIR: &str = "vaults";
/// The one Stronghold client (namespace) each snapshot holds.
const CLIENT: &[u8] = b"structuregram";

/// Where `user`'s vault lives in `data_dir`.
pub fn snapshot_path(data_dir: &Path, user: UserId) -> PathBuf {
    data_dir
        .join(VAULT_DIR)
        .join(format!("user-{}.stronghold", user.0))
}

fn vault_error(e: impl std::fmt::Display) -> Error {
    Error::Vault(e.to_string())
}

/// An open vault. Dropping it forgets the key and the decrypted secrets.
pub struct StrongholdVault {
    stronghold: Stronghold,
}

impl std::fmt::Debug for StrongholdVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StrongholdVault(<open>)")
    }
}

impl StrongholdVault {
    /// Opens the snapshot at `path` with `key`, or starts an empty vault there if there is no
    /// file yet (nothing is written until the first change).
    ///
    /// # Errors
    /// [`Error::Vault`] if the file exists and `key` does not open it, or it is damaged.
    pub fn open(path: &Path, key: &VaultKey) -> Result<Self> {
        let existed = path.exists();
        let stronghold = Stronghold::new(path, key.expose().to_vec()).map_err(vault_error)?;
        if existed {
            stronghold.load_client(CLIENT).map_err(vault_error)?;
        } else {
            stronghold.create_client(CLIENT).map_err(vault_error)?;
        }
        Ok(Self { stronghold })
    }

    /// Writes the vault under `new_key` to `to` (which must not exist), keeping every secret.
    ///
    /// # Errors
    /// [`Error::Vault`] if the copy cannot be written.
    pub fn copy_rekeyed(&self, to: &Path, new_key: &VaultKey) -> Result<()> {
        let copy = Stronghold::new(to, new_key.expose().to_vec()).map_err(vault_error)?;
        let target = copy.create_client(CLIENT).map_err(vault_error)?.store();
        let source = self
            .stronghold
            .get_client(CLIENT)
            .map_err(vault_error)?
            .store();
        for name in source.keys().map_err(vault_error)? {
            if let Some(value) = source.get(&name).map_err(vault_error)? {
                target.insert(name, value, None).map_err(vault_error)?;
            }
        }
        copy.save().map_err(vault_error)
    }
}

impl SecretStore for StrongholdVault {
    fn get(&self, name: &str) -> Result<Option<Secret>> {
        let client = self.stronghold.get_client(CLIENT).map_err(vault_error)?;
        match client.store().get(name.as_bytes()).map_err(vault_error)? {
            Some(bytes) => String::from_utf8(bytes)
                .map(|s| Some(Secret::new(s)))
                .map_err(|_| Error::Vault(format!("the vault entry {name} is damaged"))),
            None => Ok(None),
        }
    }

    fn put(&self, name: &str, value: &Secret) -> Result<()> {
        let client = self.stronghold.get_client(CLIENT).map_err(vault_error)?;
        client
            .store()
            .insert(
                name.as_bytes().to_vec(),
                value.expose().as_bytes().to_vec(),
                None,
            )
            .map_err(vault_error)?;
        self.stronghold.save().map_err(vault_error)
    }

    fn delete(&self, name: &str) -> Result<()> {
        let client = self.stronghold.get_client(CLIENT).map_err(vault_error)?;
        client
            .store()
            .delete(name.as_bytes())
            .map_err(vault_error)?;
        self.stronghold.save().map_err(vault_error)
    }
}

/// A signed-in user: their in-memory app session and their open vault. Sign-out is dropping it.
#[derive(Debug)]
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The app session the integration gate checks.
    pub session: Session,
    /// The user's open vault.
    pub vault: StrongholdVault,
}

/// Signs in with a password and opens the user's vault.
///
/// # Errors
/// [`Error::InvalidCredentials`] for a wrong username or password;
/// [`Error::SignInLockedOut`] after too many wrong passwords; [`Error::Vault`] if the vault
/// does not open (damaged file).
pub async fn sign_in(
    db: &DatabaseConnection,
    data_dir: &Path,
    username: &str,
    password: &Secret,
) -> Result<SignedIn> {
    let user = accounts::sign_in(db, username, password, Utc::now()).await?;
    let key = accounts::vault_key(db, user.id, password).await?;
    let vault = StrongholdVault::open(&snapshot_path(data_dir, user.id), &key)?;
    Ok(SignedIn {
        session: Session::new(user.id),
        user,
        vault,
    })
}

/// Changes a user's password and re-keys their vault: the old password no longer opens it, the
/// new one does, and every secret survives.
///
/// The re-keyed copy is written beside the vault first, then the password hash is changed, then
/// the copy replaces the vault; if the hash cannot be changed the copy is removed and the old
/// password keeps working with the old vault.
///
/// # Errors
/// [`Error::InvalidCredentials`] if `current` is wrong; [`Error::Validation`] if `new` is too
/// short; [`Error::Vault`] / [`Error::Io`] if the vault cannot be re-keyed.
pub async fn change_password(
    db: &DatabaseConnection,
    data_dir: &Path,
    username: &str,
    current: &Secret,
    new: &Secret,
    now: DateTime<Utc>,
) -> Result<()> {
    let user = accounts::sign_in(db, username, current, now).await?;
    let path = snapshot_path(data_dir, user.id);
    let staged = path.with_extension("stronghold.rekey");
    if path.exists() {
        let vault =
            StrongholdVault::open(&path, &accounts::vault_key(db, user.id, current).await?)?;
        if staged.exists() {
            std::fs::remove_file(&staged)?;
        }
        vault.copy_rekeyed(&staged, &accounts::vault_key(db, user.id, new).await?)?;
    }
    if let Err(e) = accounts::change_password(db, user.id, current, new, now).await {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    if staged.exists() {
        std::fs::rename(&staged, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use structuregram_core::db;

    const FAKE_TOKEN: &str = "fake-xero-access-token-5b9e2c71d04f4a8e";

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    fn pw(s: &str) -> Secret {
        Secret::new(s)
    }

    /// Stronghold encrypts each snapshot with age/scrypt at work factor 2^19 (≈ 0.5 GiB and about
    /// a second per save or open); these tests are about behaviour, so they use a small factor.
    /// The production factor is exercised by `tests/vault.rs` and the CLI tests.
    fn fast_snapshots() {
        iota_stronghold::engine::snapshot::try_set_encrypt_work_factor(10).unwrap();
    }

    #[tokio::test]
    async fn a_password_change_rekeys_the_vault_and_keeps_its_secrets() {
        fast_snapshots();
        let dir = tempfile::tempdir().unwrap();
        let db = db::open(dir.path()).await.unwrap();
        let user = accounts::create_user(&db, "ana", &pw("old password"), None, at(0))
            .await
            .unwrap();
        let old_key = accounts::vault_key(&db, user.id, &pw("old password"))
            .await
            .unwrap();
        {
            let signed_in = sign_in(&db, dir.path(), "ana", &pw("old password"))
                .await
                .unwrap();
            signed_in.vault.put("xero.tokens", &pw(FAKE_TOKEN)).unwrap();
        }
        assert!(
            change_password(
                &db,
                dir.path(),
                "ana",
                &pw("wrong"),
                &pw("new password"),
                at(1)
            )
            .await
            .is_err(),
            "the current password is needed"
        );
        change_password(
            &db,
            dir.path(),
            "ana",
            &pw("old password"),
            &pw("new password"),
            at(1),
        )
        .await
        .unwrap();
        let path = snapshot_path(dir.path(), user.id);
        assert!(
            matches!(StrongholdVault::open(&path, &old_key), Err(Error::Vault(_))),
            "the old password's key no longer opens the vault"
        );
        assert!(matches!(
            sign_in(&db, dir.path(), "ana", &pw("old password")).await,
            Err(Error::InvalidCredentials)
        ));
        let signed_in = sign_in(&db, dir.path(), "ana", &pw("new password"))
            .await
            .unwrap();
        assert_eq!(
            signed_in.vault.get("xero.tokens").unwrap(),
            Some(pw(FAKE_TOKEN)),
            "secrets survive the re-key"
        );
        assert!(
            !path.with_extension("stronghold.rekey").exists(),
            "no staged copy is left behind"
        );
    }

    #[tokio::test]
    async fn a_wrong_key_does_not_open_a_vault_and_deleting_works() {
        fast_snapshots();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.stronghold");
        let key = accounts::derive_vault_key(&pw("one password"), b"salt-of-16-bytes").unwrap();
        let other = accounts::derive_vault_key(&pw("two password"), b"salt-of-16-bytes").unwrap();
        let vault = StrongholdVault::open(&path, &key).unwrap();
        vault.put("a", &pw("1")).unwrap();
        vault.put("b", &pw("2")).unwrap();
        vault.delete("a").unwrap();
        vault.delete("missing").unwrap();
        drop(vault);
        assert!(StrongholdVault::open(&path, &other).is_err());
        let vault = StrongholdVault::open(&path, &key).unwrap();
        assert_eq!(vault.get("a").unwrap(), None, "the delete was saved");
        assert_eq!(vault.get("b").unwrap(), Some(pw("2")));
    }

    #[test]
    fn the_webview_is_granted_no_stronghold_permission() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/default.json");
        let text = std::fs::read_to_string(path).unwrap();
        let capability: serde_json::Value = serde_json::from_str(&text).unwrap();
        let permissions = capability["permissions"].as_array().unwrap();
        assert!(
            permissions
                .iter()
                .all(|p| !p.to_string().to_lowercase().contains("stronghold")),
            "secrets must never be reachable from the webview: {permissions:?}"
        );
        assert_eq!(
            permissions,
            &vec![serde_json::json!("core:default")],
            "the main window gets core:default and nothing else"
        );
        let lib = include_str!("lib.rs");
        assert!(
            !lib.contains("tauri_plugin_stronghold"),
            "the Stronghold plugin (and its JavaScript commands) is not registered with Tauri"
        );
    }
}
