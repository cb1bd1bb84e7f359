//! When a failed call to another service is tried again: exponential backoff with jitter
//! honouring `Retry-After`, and the line between failures another attempt may cure and those
//! it cannot. Shared by outbound email (`mail`) and the AI clients (`ai`).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// What a failed attempt says about the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The server or the network may recover: connection refused or reset, a timeout,
    /// SMTP 4xx, HTTP 408, 429 and 5xx. `after` is the server's own request
    /// (`Retry-After`), if it made one.
    Transient { after: Option<Duration> },
    /// Another attempt would get the same answer: SMTP 5xx, HTTP 400, 401, 403, a TLS or
    /// client-side error.
    Permanent,
}

/// The attempts and waits one operation (an email send, an upstream call) may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per operation, the first included (at least 1).
    pub max_attempts: u32,
    /// Base wait after the first failed attempt; it doubles for each further one.
    pub initial_backoff: Duration,
    /// Cap on the base wait, and the longest `Retry-After` that is waited for.
    pub max_backoff: Duration,
    /// How long one attempt may take before it counts as a (transient) failure.
    pub attempt_timeout: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based). The base doubles from
    /// `initial_backoff` up to `max_backoff`; the wait is drawn from the upper half of the
    /// base with `jitter` in `[0, 1]` ("equal jitter"), so that senders that failed
    /// together spread out while every wait keeps at least half of its base.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let base = self
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        let half = base / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// How long to wait before another attempt after attempt number `attempt` failed as
    /// `retry` says, or `None` to stop: the failure is permanent, the attempts are spent,
    /// or the server asked for a longer pause than `max_backoff`.
    pub fn next_wait(&self, attempt: u32, retry: Retry, jitter: f64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match retry {
            Retry::Permanent => None,
            Retry::Transient { after: None } => Some(self.backoff(attempt, jitter)),
            Retry::Transient { after: Some(after) } if after > self.max_backoff => None,
            Retry::Transient { after: Some(after) } => {
                Some(after.max(self.backoff(attempt, jitter)))
            }
        }
    }
}

/// Reads an HTTP `Retry-After` value: a number of seconds, or an HTTP date (a date in the
/// past means "now").
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// How an HTTP answer other than success is treated: 408, 429 and 5xx may pass, other
/// client errors (400 bad request, 401 bad key, 403 unverified sender, 413 too large) will
/// not.
pub fn http_status_retry(status: u16, retry_after: Option<Duration>) -> Retry {
    match status {
        408 | 429 | 500..=599 => Retry::Transient { after: retry_after },
        _ => Retry::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            attempt_timeout: Duration::from_secs(1),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_from_the_initial_wait_up_to_the_cap() {
        let p = policy();
        let full: Vec<_> = (1..=5).map(|a| p.backoff(a, 1.0)).collect();
        assert_eq!(full, vec![ms(100), ms(200), ms(300), ms(300), ms(300)]);
    }

    #[test]
    fn jitter_keeps_each_wait_between_half_and_all_of_its_base() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), ms(50));
        assert_eq!(p.backoff(2, 0.0), ms(100));
        assert_eq!(p.backoff(2, 0.5), ms(150));
        // Out-of-range jitter is clamped rather than trusted.
        assert_eq!(p.backoff(1, 7.0), ms(100));
        assert_eq!(p.backoff(1, -1.0), ms(50));
    }

    #[test]
    fn a_huge_attempt_number_neither_overflows_nor_passes_the_cap() {
        assert_eq!(policy().backoff(u32::MAX, 1.0), ms(300));
    }

    #[test]
    fn transient_failures_are_retried_until_the_attempts_are_spent() {
        let p = policy();
        let transient = Retry::Transient { after: None };
        assert_eq!(p.next_wait(1, transient, 1.0), Some(ms(100)));
        assert_eq!(p.next_wait(3, transient, 1.0), Some(ms(300)));
        assert_eq!(p.next_wait(4, transient, 1.0), None);
    }

    #[test]
    fn permanent_failures_are_never_retried() {
        assert_eq!(policy().next_wait(1, Retry::Permanent, 0.5), None);
    }

    #[test]
    fn a_servers_retry_after_is_waited_for_unless_it_exceeds_the_cap() {
        let p = policy();
        let asks = |n| Retry::Transient { after: Some(ms(n)) };
        assert_eq!(p.next_wait(1, asks(250), 1.0), Some(ms(250)));
        // A shorter request than the backoff still gets the backoff.
        assert_eq!(p.next_wait(2, asks(10), 1.0), Some(ms(200)));
        assert_eq!(p.next_wait(1, asks(301), 1.0), None);
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let p = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        assert_eq!(p.next_wait(1, Retry::Transient { after: None }, 0.0), None);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn http_statuses_split_into_transient_and_permanent() {
        let after = Some(Duration::from_secs(1));
        for status in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                http_status_retry(status, after),
                Retry::Transient { after },
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413, 415] {
            assert_eq!(
                http_status_retry(status, after),
                Retry::Permanent,
                "{status}"
            );
        }
    }
}
