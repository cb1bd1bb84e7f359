//! Structured logging with `tracing`: JSON lines by default, each carrying the request span.
//!
//! Every line passes through [`mask`] on its way out, so an email address or phone number
//! that reaches a log line (from our code or a dependency's) is masked there. Tokens and
//! passwords are a different matter: no code path logs them at all.

use std::borrow::Cow;
use std::io;
use std::sync::LazyLock;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// Installs the global subscriber writing to `writer`. A filter that does not parse falls
/// back to `info` rather than silencing the logs.
pub fn init<W>(filter: &str, format: LogFormat, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Masked(writer));
    // `try_init` fails only when a subscriber is already set (tests); keep the first one.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Wraps a writer factory so that every line is masked before it is written.
#[derive(Debug, Clone)]
pub struct Masked<W>(pub W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Masked<W> {
    type Writer = MaskedWriter<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter(self.0.make_writer())
    }
}

/// The writer of one event; the formatter hands it the whole line in one write.
#[derive(Debug)]
pub struct MaskedWriter<W>(W);

impl<W: io::Write> io::Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(mask(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")
        .unwrap_or_else(|_| unreachable_regex())
});

/// International numbers (`+27821234567`, `+44 20 7946 0958`) and grouped local ones
/// (`082 123 4567`, `(021) 555-1234`). Dates, times, uuids and plain counters do not match:
/// they lack a leading `+`/`(` or the 3–4 digit groups.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d[\d\s.\-]{5,14}\d|\(\d{2,4}\)[\s.\-]?\d{3,4}[\s.\-]?\d{3,4}|\b0\d{2}[\s.\-]\d{3}[\s.\-]\d{3,4}\b)",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// JSON fields that hold a phone number whatever its shape.
static PHONE_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([A-Za-z_]*phone[A-Za-z_]*)":"[^"]*""#).unwrap_or_else(|_| unreachable_regex())
});

/// The patterns above are literals checked by the tests; a regex that matches nothing
/// keeps logging alive should one ever fail to compile.
fn unreachable_regex() -> Regex {
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!("a trivial pattern compiles"))
}

/// Masks email addresses (`j***@example.com`) and phone numbers (`+27*******67`).
pub fn mask(text: &str) -> Cow<'_, str> {
    if !text.contains('@') && !text.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(text);
    }
    let text = EMAIL.replace_all(text, "$1***@$2");
    let text = match PHONE_FIELD.replace_all(&text, r#""$1":"***""#) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => Cow::Owned(s),
    };
    let masked = PHONE.replace_all(&text, |c: &regex::Captures<'_>| {
        let digits: Vec<char> = c[0].chars().filter(char::is_ascii_digit).collect();
        let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
        format!("***{tail}")
    });
    match masked {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn email_addresses_keep_only_their_first_letter_and_domain() {
        assert_eq!(
            mask(r#"{"email":"jane.doe+trips@example.co.za","msg":"login"}"#),
            r#"{"email":"j***@example.co.za","msg":"login"}"#
        );
        assert_eq!(
            mask("invited bob@x.io and al@y.org"),
            "invited b***@x.io and a***@y.org"
        );
    }

    #[test]
    fn phone_numbers_keep_only_their_last_two_digits() {
        for (input, expected) in [
            ("call +27 82 123 4567 now", "call ***67 now"),
            ("call +27821234567", "call ***67"),
            ("office (021) 555-1234.", "office ***34."),
            ("cell 082 123 4567", "cell ***67"),
            (r#"{"phone":"12"}"#, r#"{"phone":"***"}"#),
            (
                r#"{"customer_phone":"555 12"}"#,
                r#"{"customer_phone":"***"}"#,
            ),
        ] {
            assert_eq!(mask(input), expected, "{input}");
        }
    }

    #[test]
    fn timestamps_ids_and_counters_are_left_alone() {
        for text in [
            r#"{"timestamp":"2026-11-28T08:23:35.123456Z","level":"INFO"}"#,
            "request_id=550e8400-e29b-41d4-a716-446655440000",
            "fuel_used=10230000 wall_us=1234 size=1048576",
            "tenant acme-2026 version 1.2.3",
            "dates 2027-03-12 to 2027-03-19",
        ] {
            assert_eq!(mask(text), text);
        }
    }
}
