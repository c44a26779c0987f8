//! The domain layer's error: what went wrong, in terms the web layer maps to HTTP in one place
//! (`web::error`). Database code returns `diesel::QueryResult`; jobs and the CLI use `anyhow`.

use crate::domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("you must log in to do that")]
    Unauthenticated,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("{0}")]
    BadRequest(String),
    /// Input that could not be read at all (malformed JSON, wrong types), naming the field.
    #[error("malformed input: {0}")]
    Malformed(FieldErrors),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("the service is busy; try again shortly")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Forbidden { code, message: message.into() }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into() }
    }
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, message);
        Error::Validation(e)
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::NotFound => Error::NotFound("record"),
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(detail = info.message(), "unique violation");
                Error::conflict("conflict", "That already exists.")
            }
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool timed out");
        Error::Unavailable
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Validation(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
