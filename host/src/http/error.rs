//! `ApiError`: the one error type of the HTTP layer, always answered as `{"detail", "code"}`.
//!
//! Architecture Invariant: only `http` knows status codes. Internal errors are logged with
//! the request id and answered with a generic message; client errors say exactly what is wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{Error, FieldError};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// A string, or the list of `{loc, msg, type}` for 422.
    detail: Value,
    /// Stable, machine-readable reason (`tenant_not_found` style, snake case).
    code: &'static str,
    retry_after_secs: Option<u64>,
    /// `X-RateLimit-Limit` and `X-RateLimit-Remaining` for a 429.
    rate_limit: Option<(u32, u32)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: Value::String(detail.into()),
            code,
            retry_after_secs: None,
            rate_limit: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: json!(errors),
            code: "validation_error",
            retry_after_secs: None,
            rate_limit: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            detail,
        )
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "Request body too large. Maximum size: {} MB",
                limit_bytes.div_ceil(1024 * 1024)
            ),
        )
    }

    /// Tells the client when to come back (429 and 503).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// States the limit that refused the request.
    pub fn with_rate_limit(mut self, limit: u32, remaining: u32) -> Self {
        self.rate_limit = Some((limit, remaining));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response body, for callers that build responses outside `IntoResponse`.
    pub fn body(&self) -> Value {
        json!({ "detail": self.detail, "code": self.code })
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::Validation(errors) => Self::validation(errors),
            Error::BadRequest(m) => Self::bad_request(m),
            Error::NotFound(m) => Self::not_found(m),
            Error::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            Error::Unauthorized(m) => Self::unauthorized(m),
            Error::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            Error::Unavailable(m) => Self::unavailable(m).retry_after(5),
            Error::Internal { operation, cause } => {
                tracing::error!(operation, error = format!("{cause:#}"), "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    format!(
                        "An internal error occurred while {operation}. Please try again later."
                    ),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after_secs;
        let rate_limit = self.rate_limit;
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if let Some((limit, remaining)) = rate_limit {
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        }
        response
    }
}
