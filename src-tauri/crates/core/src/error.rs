//! The one error type of `core`, with the variants callers branch on.

/// Everything a core operation can fail with.
///
/// `Validation`, `NotFound` and `Conflict` carry a message written for the user (it names the
/// rule that failed and, where it helps, what to do next); the UI shows it verbatim.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a rule (product-spec §3, §4.3); nothing was written.
    #[error("{0}")]
    Validation(String),
    /// The thing asked for does not exist in the active organisation.
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with existing data (a duplicate name, say); nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A file could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A sealed value could not be opened (wrong key or damaged data).
    #[error("could not decrypt a protected field: {0}")]
    Crypto(String),
}

/// Shorthand for results of core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
