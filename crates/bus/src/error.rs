//! The bus's error type.

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The subscriber fell behind and this many events were dropped for it.
    #[error("subscriber lagged: {0} events dropped")]
    Lagged(u64),
    /// The transport failed.
    #[error("bus transport error: {0}")]
    Transport(String),
    /// A pattern or topic is malformed.
    #[error("invalid topic or pattern {0:?}: {1}")]
    Invalid(String, String),
}

/// The bus's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
