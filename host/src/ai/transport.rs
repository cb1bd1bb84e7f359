//! The HTTP transport installed under async-openai in place of its built-in retries: a plain
//! reqwest call that turns a 408, 429 or 5xx answer into an [`UpstreamStatus`] error carrying
//! the server's `Retry-After`, which async-openai's own error type would drop.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use chrono::Utc;
use tower::Service;

use crate::retry::parse_retry_after;

/// An answer whose status says "try again (later)".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("upstream answered HTTP {status}")]
pub struct UpstreamStatus {
    pub status: u16,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

type Response = <ReqwestService as Service<HttpRequestFactory>>::Response;

/// A [`ReqwestService`] that makes no retries of its own and reports retryable statuses as
/// typed errors.
#[derive(Debug, Clone, Default)]
pub struct StatusTransport {
    inner: ReqwestService,
}

impl Service<HttpRequestFactory> for StatusTransport {
    type Response = Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<Response, OpenAIError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let status = response.status().as_u16();
            if matches!(status, 408 | 429 | 500..=599) {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                return Err(OpenAIError::Boxed(Box::new(UpstreamStatus {
                    status,
                    retry_after,
                })));
            }
            Ok(response)
        })
    }
}
