//! What every command shares: the database, the active organisation, the TFN cipher and where
//! the data lives. Built once, before any window can call a command.

use std::path::{Path, PathBuf};

use chrono::Utc;
use structuregram_core::tfn::TfnCipher;
use structuregram_core::DatabaseConnection;
use structuregram_core::{accounts, db, demo, OrgId};

/// File name of the TFN key inside the data folder.
pub const TFN_KEY_FILE: &str = "tfn.key";

/// Shared application state (Tauri keeps it in an `Arc`; the handles inside are cheap to share).
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: DatabaseConnection,
    /// The organisation every list and action is scoped to.
    pub org: OrgId,
    /// Seals and opens TFNs.
    pub cipher: TfnCipher,
    /// The data folder in use.
    pub data_dir: PathBuf,
    /// Whether this is the demo practice.
    pub demo: bool,
}

impl AppState {
    /// Opens the data folder: database (migrated), TFN key, organisation (the active one, else
    /// the first); seeds the demo practice when `demo` is set and it is empty.
    ///
    /// # Errors
    /// Any failure to create the folder, open the database, migrate, or read the key.
    pub async fn open(data_dir: &Path, demo: bool) -> anyhow::Result<Self> {
        let db = db::open(data_dir).await?;
        let may_create_key = !structuregram_core::entities::any_sealed_tfn(&db).await?;
        let cipher = TfnCipher::load(&data_dir.join(TFN_KEY_FILE), may_create_key)?;
        let now = Utc::now();
        let name = if demo {
            demo::ORGANISATION_NAME
        } else {
            "My practice"
        };
        let first = db::ensure_organisation(&db, name, now).await?;
        if demo {
            demo::seed(&db, first, &cipher, now).await?;
        }
        // The organisation chosen with `structuregram org use`, else the first (as before).
        let org = accounts::active_organisation(&db).await?.unwrap_or(first);
        Ok(Self {
            db,
            org,
            cipher,
            data_dir: data_dir.to_owned(),
            demo,
        })
    }
}

/// The OS app-data folder for this app (the same folder Tauri's `app_data_dir` names).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(crate::IDENTIFIER)
}
