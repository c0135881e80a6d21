//! The store's error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one this store can open.
    #[error("unsupported database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// A referenced row does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. "build 12".
        what: String,
    },
    /// The arguments are not acceptable (e.g. completing a request with RETRY); nothing changed.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The row is not in a state that allows the change (e.g. re-prioritising a complete
    /// request); nothing changed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The writer no longer holds the claim the write depends on (its lease expired and another
    /// master released its claims, or it claimed under an older lease epoch); nothing changed.
    /// The writer must stop working on that build.
    #[error("fenced: {0}")]
    Fenced(String),
    /// Stored data could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl Error {
    /// A [`Error::NotFound`] for `what`.
    pub(crate) fn not_found(what: impl Into<String>) -> Error {
        Error::NotFound { what: what.into() }
    }
}

impl From<sqlx::Error> for Error {
    /// A foreign-key violation means the caller named a row that does not exist, which callers
    /// (REST handlers) report as "not found"; everything else is a database failure.
    fn from(error: sqlx::Error) -> Error {
        if let Some(db_error) = error.as_database_error()
            && db_error.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
        {
            return Error::NotFound {
                what: format!("a row referenced by this write ({})", db_error.message()),
            };
        }
        Error::Database(error)
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
