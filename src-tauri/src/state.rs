//! What every command shares: the database, the TFN cipher, where the data lives, and the
//! signed-in user's app session (who, their open vault, their active organisation). Built once,
//! before any window can call a command; the session starts empty (signed out).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use structuregram_core::accounts::{self, User};
use structuregram_core::gate::Session;
use structuregram_core::secrets::SecretStore;
use structuregram_core::tfn::TfnCipher;
use structuregram_core::DatabaseConnection;
use structuregram_core::{db, demo, OrgId};
use tokio::sync::{Mutex, RwLock};

use crate::ipc::{ErrorCode, IpcError};

/// File name of the TFN key inside the data folder.
pub const TFN_KEY_FILE: &str = "tfn.key";
/// The organisation the command line creates when the data folder has none.
pub const CLI_DEFAULT_ORGANISATION: &str = "My practice";

/// A signed-in user's app session, as the window holds it. Cloning shares the same open vault.
#[derive(Clone)]
pub struct SignedIn {
    /// The user (no secrets).
    pub user: User,
    /// The in-memory session the integration gate checks (verified with a code or not).
    pub session: Session,
    /// The user's open vault; dropped with the last clone at sign-out or lock.
    pub vault: Arc<dyn SecretStore + Send + Sync>,
    /// The organisation every list and action is scoped to.
    pub org: OrgId,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("user", &self.user.username)
            .field("org", &self.org)
            .field("verified", &self.session.mfa_verified_at().is_some())
            .finish_non_exhaustive()
    }
}

/// Shared application state (Tauri keeps it in an `Arc`; the handles inside are cheap to share).
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: DatabaseConnection,
    /// Seals and opens TFNs.
    pub cipher: TfnCipher,
    /// The data folder in use.
    pub data_dir: PathBuf,
    /// Whether this is the demo practice.
    pub demo: bool,
    /// The signed-in user's session; `None` when signed out.
    pub session: RwLock<Option<SignedIn>>,
    /// The username of the session last locked, to prefill the unlock form.
    pub locked_username: Mutex<Option<String>>,
}

/// The error of a command that needs a signed-in user when nobody is.
pub fn sign_in_first() -> IpcError {
    IpcError {
        code: ErrorCode::SignedOut,
        message: "Sign in first: StructureGram is locked or signed out.".to_owned(),
    }
}

impl AppState {
    /// Opens the data folder: database (migrated), TFN key; seeds the demo practice (and its
    /// organisation) when `demo` is set and it is empty. Nobody is signed in yet.
    ///
    /// # Errors
    /// Any failure to create the folder, open the database, migrate, or read the key.
    pub async fn open(data_dir: &Path, demo: bool) -> anyhow::Result<Self> {
        let db = db::open(data_dir).await?;
        let may_create_key = !structuregram_core::entities::any_sealed_tfn(&db).await?;
        let cipher = TfnCipher::load(&data_dir.join(TFN_KEY_FILE), may_create_key)?;
        if demo {
            let now = Utc::now();
            let first = db::ensure_organisation(&db, demo::ORGANISATION_NAME, now).await?;
            demo::seed(&db, first, &cipher, now).await?;
        }
        Ok(Self {
            db,
            cipher,
            data_dir: data_dir.to_owned(),
            demo,
            session: RwLock::new(None),
            locked_username: Mutex::new(None),
        })
    }

    /// The organisation the command line acts on: the one chosen with `structuregram org use`,
    /// else the first, else a new "My practice" (the command line has no sign-in).
    ///
    /// # Errors
    /// On database failure.
    pub async fn device_organisation(&self) -> anyhow::Result<OrgId> {
        if let Some(org) = accounts::active_organisation(&self.db).await? {
            return Ok(org);
        }
        Ok(db::ensure_organisation(&self.db, CLI_DEFAULT_ORGANISATION, Utc::now()).await?)
    }

    /// The signed-in user's session (a clone sharing the open vault).
    ///
    /// # Errors
    /// [`ErrorCode::SignedOut`] ("Sign in first…") when nobody is signed in.
    pub async fn signed_in(&self) -> Result<SignedIn, IpcError> {
        self.session.read().await.clone().ok_or_else(sign_in_first)
    }

    /// The active organisation of the signed-in user, which scopes every list and action.
    ///
    /// # Errors
    /// As for [`AppState::signed_in`].
    pub async fn org(&self) -> Result<OrgId, IpcError> {
        Ok(self.signed_in().await?.org)
    }
}

/// The OS app-data folder for this app (the same folder Tauri's `app_data_dir` names).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(crate::IDENTIFIER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_window_starts_signed_out_and_creates_no_organisation_for_first_run() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open(dir.path(), false).await.unwrap();
        let err = state.signed_in().await.unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::SignedOut,
            "data commands refuse until someone signs in"
        );
        assert!(err.message.starts_with("Sign in first"));
        assert_eq!(
            accounts::default_organisation(&state.db).await.unwrap(),
            None,
            "first run asks for the organisation's name"
        );
        let org = state.device_organisation().await.unwrap();
        let again = state.device_organisation().await.unwrap();
        assert_eq!(org, again, "the command line's organisation is made once");
        assert_eq!(
            accounts::default_organisation(&state.db)
                .await
                .unwrap()
                .map(|o| o.name),
            Some(CLI_DEFAULT_ORGANISATION.to_owned())
        );
    }

    #[tokio::test]
    async fn the_demo_has_its_organisation_for_the_first_account_to_join() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open(dir.path(), true).await.unwrap();
        assert_eq!(
            accounts::default_organisation(&state.db)
                .await
                .unwrap()
                .map(|o| o.name),
            Some(demo::ORGANISATION_NAME.to_owned())
        );
    }
}
