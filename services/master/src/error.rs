//! The master's error type and its one mapping to HTTP and gRPC codes.

/// What went wrong, in the terms a client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed (HTTP 400, gRPC InvalidArgument).
    BadRequest,
    /// Authentication failed (HTTP 401/403, gRPC Unauthenticated).
    Unauthenticated,
    /// The thing asked for does not exist (HTTP 404, gRPC NotFound).
    NotFound,
    /// It conflicts with the current state (HTTP 409, gRPC FailedPrecondition).
    Conflict,
    /// A dependency is down (HTTP 503, gRPC Unavailable).
    Unavailable,
    /// A bug or an unexpected failure (HTTP 500, gRPC Internal).
    Internal,
}

impl ErrorCode {
    /// The HTTP status for this code.
    pub fn http_status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The gRPC code for this code.
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::BadRequest => tonic::Code::InvalidArgument,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::Conflict => tonic::Code::FailedPrecondition,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }
}

/// Errors of the master library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ferrobot_store::Error),
    /// The bus failed.
    #[error(transparent)]
    Bus(#[from] ferrobot_bus::Error),
    /// master.cfg is invalid.
    #[error(transparent)]
    Config(#[from] ferrobot_config::Error),
    /// A client sent something invalid; the message names what.
    #[error("{0}")]
    BadRequest(String),
    /// A client asked for something that does not exist; the message names it.
    #[error("{0}")]
    NotFound(String),
    /// A worker failed to authenticate.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Reading or writing a file or a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Anything else that should not happen.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The client-facing code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadRequest(_) | Error::Config(_) => ErrorCode::BadRequest,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Store(ferrobot_store::Error::NotFound { .. }) => ErrorCode::NotFound,
            Error::Store(ferrobot_store::Error::Invalid(_)) => ErrorCode::BadRequest,
            Error::Store(ferrobot_store::Error::Conflict(_)) => ErrorCode::Conflict,
            Error::Store(_) | Error::Bus(_) => ErrorCode::Unavailable,
            Error::Io { .. } | Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> tonic::Status {
        tonic::Status::new(error.code().grpc_code(), error.to_string())
    }
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        let body = axum::Json(serde_json::json!({ "error": self.to_string() }));
        (self.code().http_status(), body).into_response()
    }
}

/// The master library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
