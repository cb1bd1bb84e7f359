//! Email delivery failures: which ones another attempt may cure. The backoff itself is the
//! shared [`crate::retry`] policy, re-exported here for the mail code.

use std::time::Duration;

pub use crate::retry::{Retry, RetryPolicy, http_status_retry, parse_retry_after};

use crate::config::MailConfig;

/// Why one delivery attempt failed; its text becomes the email's `last_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub retry: Retry,
    pub message: String,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            retry: Retry::Transient { after: None },
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            retry: Retry::Permanent,
            message: message.into(),
        }
    }

    /// A transient failure whose server asked for a pause before the next attempt.
    pub fn retry_after(message: impl Into<String>, after: Option<Duration>) -> Self {
        Self {
            retry: Retry::Transient { after },
            message: message.into(),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::from_config(&MailConfig::default())
    }
}

impl RetryPolicy {
    pub fn from_config(config: &MailConfig) -> Self {
        Self {
            max_attempts: config.max_attempts.max(1),
            initial_backoff: Duration::from_millis(config.initial_backoff_ms),
            max_backoff: Duration::from_millis(config.max_backoff_ms),
            attempt_timeout: Duration::from_millis(config.attempt_timeout_ms),
        }
    }
}
