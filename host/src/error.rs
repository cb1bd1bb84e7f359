//! The service-layer error: what a caller did wrong, or why the service could not do it.
//!
//! Services speak in these terms; only `http` turns them into status codes.

use serde::Serialize;

use crate::blobs::BlobError;
use crate::storage::StorageError;

/// One invalid input, in the `{loc, msg, type}` shape the dashboard joins into a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path to the offending value, e.g. `["body", "tenant_id"]`.
    pub loc: Vec<String>,
    /// What is wrong, stating the rule.
    pub msg: String,
    /// Machine-readable kind, e.g. `value_error`, `missing`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// An invalid value in the JSON body.
    pub fn body(field: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["body".to_owned(), field.to_owned()],
            msg: msg.into(),
            kind: "value_error".to_owned(),
        }
    }

    /// An invalid query parameter.
    pub fn query(field: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["query".to_owned(), field.to_owned()],
            msg: msg.into(),
            kind: "value_error".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; every broken rule is listed.
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    /// A request that cannot be carried out as asked (a missing confirmation, an empty update).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The state forbids it (a duplicate id, an address owned by another tenant).
    #[error("{0}")]
    Conflict(String),
    /// The caller is not (or no longer) authenticated: a missing, invalid or expired token,
    /// or a user that is gone or deactivated.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (e.g. the tenant is suspended).
    #[error("{0}")]
    Forbidden(String),
    /// A dependency is down; retrying later can succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a corrupt state; `operation` completes "An internal error occurred while …".
    #[error("internal error while {operation}: {cause:#}")]
    Internal {
        operation: &'static str,
        cause: anyhow::Error,
    },
}

impl Error {
    pub fn validation(field: FieldError) -> Self {
        Self::Validation(vec![field])
    }

    /// Wraps a storage failure: outages stay recognisable as such, the rest is internal.
    pub fn storage(operation: &'static str, err: StorageError) -> Self {
        if err.is_unavailable() {
            Self::Unavailable(
                "Database temporarily unavailable. Please try again shortly.".to_owned(),
            )
        } else {
            Self::Internal {
                operation,
                cause: err.into(),
            }
        }
    }
}

impl Error {
    /// Wraps an object-storage failure: an outage (the store's retries already spent) is
    /// logged with its cause and answered with a generic 503 sentence, since the cause names
    /// the bucket and its URLs; anything else is internal.
    pub fn blobs(operation: &'static str, err: BlobError) -> Self {
        if err.is_unavailable() {
            tracing::error!(operation, error = %err, "object storage unavailable");
            Self::Unavailable(
                "File storage temporarily unavailable. Please try again shortly.".to_owned(),
            )
        } else {
            Self::Internal {
                operation,
                cause: err.into(),
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
