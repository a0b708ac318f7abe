//! Opening the database: where the file lives, connecting, and running migrations.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, QueryOrder, Set,
};

use crate::error::Result;
use crate::schema::organisation;

/// File name of the SQLite database inside the data folder.
pub const DATABASE_FILE: &str = "structuregram.sqlite";

/// How long a write waits for another process's write to finish before giving up.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The id of an organisation (tenancy); every query is scoped by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrgId(pub i32);

/// Opens (creating if needed) the SQLite database in `data_dir` and brings its schema up to date.
/// A data folder this creates is private to the user (`0700` on Unix): it holds client data, the
/// TFN key and the vaults, and SQLite creates its files readable by others (`0644`) under the
/// usual umask. A folder that already exists keeps its permissions (the user chose them).
///
/// # Errors
/// [`crate::Error::Io`] if the folder cannot be created, [`crate::Error::Db`] if the file cannot be
/// opened or a migration fails.
pub async fn open(data_dir: &Path) -> Result<DatabaseConnection> {
    create_private_dir(data_dir)?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(DATABASE_FILE).display()
    );
    connect(&url).await
}

/// Creates `dir` (and its parents) if missing; the folder itself readable by its owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens a private in-memory database with the real migrations applied (tests, dry runs).
///
/// # Errors
/// [`crate::Error::Db`] if a migration fails.
pub async fn open_in_memory() -> Result<DatabaseConnection> {
    connect("sqlite::memory:").await
}

async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    // One connection: SQLite serialises writers anyway, and an in-memory database is per
    // connection.
    options.max_connections(1).sqlx_logging(false);
    // Another process (a second window, a script) may hold the write lock for a moment: wait for
    // it rather than failing at once with "database is locked".
    options.map_sqlx_sqlite_opts(|o| o.busy_timeout(BUSY_TIMEOUT));
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// The data folder: `override_dir` if given (from `--data-dir` or `STRUCTUREGRAM_DATA_DIR`), else
/// `default_dir` (the OS app-data folder, which the shell knows), with `demo` kept apart in a
/// `demo/` subfolder so the demo practice never mixes with real data.
pub fn data_dir(override_dir: Option<PathBuf>, default_dir: PathBuf, demo: bool) -> PathBuf {
    let base = override_dir.unwrap_or(default_dir);
    if demo {
        base.join("demo")
    } else {
        base
    }
}

/// The organisation to work in: the first one, created with `name` if there is none yet.
///
/// # Errors
/// [`crate::Error::Db`] on database failure.
pub async fn ensure_organisation(
    db: &DatabaseConnection,
    name: &str,
    now: DateTime<Utc>,
) -> Result<OrgId> {
    if let Some(org) = organisation::Entity::find()
        .order_by_asc(organisation::Column::Id)
        .one(db)
        .await?
    {
        return Ok(OrgId(org.id));
    }
    let org = organisation::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(OrgId(org.id))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn a_new_data_folder_is_private_and_an_existing_one_keeps_its_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("new").join("data");
        super::open(&new).await.unwrap();
        assert_eq!(mode(&new), 0o700, "only its owner can list or read it");
        assert!(new.join(super::DATABASE_FILE).exists());

        let chosen = tmp.path().join("shared");
        std::fs::create_dir(&chosen).unwrap();
        std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o750)).unwrap();
        super::open(&chosen).await.unwrap();
        assert_eq!(
            mode(&chosen),
            0o750,
            "a folder the user made keeps its permissions"
        );
    }
}
