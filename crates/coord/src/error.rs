//! The coordinator's error type.

/// What can go wrong while holding leases and duties.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lease is gone (revoked, expired, removed, or its renewals stopped); whatever it
    /// guarded must stop at once.
    #[error("lease {epoch} of {owner:?} is lost")]
    LeaseLost {
        /// Who held it.
        owner: String,
        /// Its epoch.
        epoch: u64,
    },
    /// An argument no backend accepts (an empty owner or duty name, a TTL out of range).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The backend could not be reached or answered with an error; the caller may retry.
    #[error("coordination backend error: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Error {
        Error::Backend(format!("postgresql: {error}"))
    }
}

#[cfg(feature = "etcd")]
impl From<etcd_client::Error> for Error {
    fn from(error: etcd_client::Error) -> Error {
        Error::Backend(format!("etcd: {error}"))
    }
}

/// The coordinator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
