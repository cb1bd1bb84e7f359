//! Outbound email over real wires: a local SMTP server and a local fake of SendGrid's Mail
//! Send API, each started by the test and able to fail on demand. Every send must end
//! recorded with its transport, status, attempts and error, and keep its `.eml` copy.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use caravan::config::{Config, MailTransport, Secret};
use caravan::mail::{Attachment, EmailKind, Message, OutboundEmail};
use serde_json::{Value, json};
use support::{Login, TestApp, TestDatabase, backends};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The platform sender every test app uses unless a message overrides it.
const PLATFORM_FROM: &str = "no-reply@caravan.localhost";

/// Retries fast enough for tests, with a backoff cap above the one-second `Retry-After`
/// the SendGrid fake asks for, so that it is honoured rather than given up on. The circuit
/// breaker opens only in the tests about it: elsewhere a failing tenant invitation and the
/// email under test would together open it and defer the email.
fn quick_retries(c: &mut Config) {
    c.mail.max_attempts = 3;
    c.mail.initial_backoff_ms = 50;
    c.mail.max_backoff_ms = 1_500;
    c.mail.attempt_timeout_ms = 2_000;
    c.mail.breaker_failures = 1_000;
}

fn smtp_to(port: u16) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        quick_retries(c);
        c.mail.transport = MailTransport::Smtp;
        c.mail.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    }
}

fn sendgrid_at(base_url: String, key: &'static str) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        quick_retries(c);
        c.mail.transport = MailTransport::Sendgrid;
        c.mail.sendgrid_base_url = base_url;
        c.mail.sendgrid_api_key = Some(Secret::new(key));
    }
}

/// The newest email row to `to`.
async fn row_to(app: &TestApp, tenant: &str, to: &str) -> OutboundEmail {
    app.state
        .storage
        .outbox
        .list_emails(tenant, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.to_address == to)
        .unwrap_or_else(|| panic!("no email to {to}"))
}

fn eml_copy(app: &TestApp, row: &OutboundEmail) -> String {
    let path = app.state.accounts.mailer().dir().join(&row.object_key);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Bytes that survive only an exact round trip: every byte value, and a PDF header.
fn pdf_bytes() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend(0..=255u8);
    bytes
}

/// A quote email with a PDF, sent on behalf of `tenant` from its own address.
fn quote_email(tenant: &str, to: &str) -> Message {
    Message {
        tenant_id: tenant.to_owned(),
        kind: EmailKind::Invitation,
        to: to.to_owned(),
        from_name: "Sunbird Safaris".to_owned(),
        from_address: Some("quotes@sunbird.example".to_owned()),
        reply_to: Some("help@sunbird.example".to_owned()),
        subject: "Your quote Q-1042".to_owned(),
        text: "Please find your quote attached.".to_owned(),
        html: Some("<p>Please find your quote attached.</p>".to_owned()),
        attachments: vec![Attachment {
            filename: "quote-Q-1042.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            bytes: pdf_bytes(),
        }],
        idempotency_key: None,
    }
}

/// The decoded body of the MIME part named `filename` in a raw message (base64, as lettre
/// encodes binary attachments).
fn attachment_in(raw: &str, filename: &str) -> Vec<u8> {
    let marker = format!("filename=\"{filename}\"");
    let at = raw
        .find(&marker)
        .unwrap_or_else(|| panic!("no part {filename}"));
    let headers_end = at + raw[at..].find("\r\n\r\n").expect("part headers end");
    let body: String = raw[headers_end + 4..]
        .lines()
        .take_while(|line| !line.trim().is_empty() && !line.starts_with("--"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .expect("base64 attachment")
}

// ---------------------------------------------------------------------------------------
// A minimal SMTP server: enough of RFC 5321 for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT). It answers each transaction's RCPT with the next planned code (4xx or 5xx)
// or accepts it, and keeps every message it accepted.

#[derive(Debug, Clone)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

#[derive(Default)]
struct SmtpState {
    /// Replies to the next transactions' RCPT; empty means accept.
    plan: VecDeque<u16>,
    transactions: usize,
    received: Vec<Received>,
}

struct FakeSmtp {
    port: u16,
    state: Arc<Mutex<SmtpState>>,
}

impl FakeSmtp {
    async fn start(plan: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(SmtpState {
            plan: plan.iter().copied().collect(),
            ..SmtpState::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, shared.clone()));
            }
        });
        Self { port, state }
    }

    fn transactions(&self) -> usize {
        self.state.lock().unwrap().transactions
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    fn received_by(&self, rcpt: &str) -> Received {
        self.received()
            .into_iter()
            .find(|r| r.rcpt_to.iter().any(|t| t == rcpt))
            .unwrap_or_else(|| panic!("nothing received for {rcpt}"))
    }
}

/// The address inside `<…>` of a MAIL or RCPT argument.
fn angle_addr(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_owned()
}

async fn smtp_session(stream: tokio::net::TcpStream, state: Arc<Mutex<SmtpState>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |text: &str| write.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 fake.test ESMTP ready").await.is_err() {
        return;
    }
    let mut current: Option<Received> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-fake.test greets you\r\n250-8BITMIME\r\n250 SMTPUTF8".to_owned(),
            "HELO" => "250 fake.test".to_owned(),
            "MAIL" => {
                state.lock().unwrap().transactions += 1;
                current = Some(Received {
                    mail_from: angle_addr(&line),
                    rcpt_to: Vec::new(),
                    data: String::new(),
                });
                "250 2.1.0 Ok".to_owned()
            }
            "RCPT" => {
                let planned = state.lock().unwrap().plan.pop_front();
                match planned {
                    Some(451) => "451 4.7.1 Greylisted, please try again later".to_owned(),
                    Some(550) => "550 5.1.1 No such user here".to_owned(),
                    Some(code) => format!("{code} planned failure"),
                    None => {
                        if let Some(tx) = current.as_mut() {
                            tx.rcpt_to.push(angle_addr(&line));
                        }
                        "250 2.1.5 Ok".to_owned()
                    }
                }
            }
            "DATA" => {
                if reply("354 End data with <CR><LF>.<CR><LF>").await.is_err() {
                    return;
                }
                let mut data = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    // Undo the sender's dot-stuffing (RFC 5321 §4.5.2).
                    data.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
                }
                let mut st = state.lock().unwrap();
                let queue_id = format!("Q{}", st.received.len() + 1);
                if let Some(mut tx) = current.take() {
                    tx.data = data.join("\r\n");
                    st.received.push(tx);
                }
                format!("250 2.0.0 Ok: queued as {queue_id}")
            }
            "RSET" => {
                current = None;
                "250 2.0.0 Ok".to_owned()
            }
            "NOOP" => "250 2.0.0 Ok".to_owned(),
            "QUIT" => {
                let _ = reply("221 2.0.0 Bye").await;
                return;
            }
            _ => "502 5.5.2 Command not recognised".to_owned(),
        };
        if reply(&answer).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// A fake of SendGrid's `POST /v3/mail/send`: checks the bearer key and the JSON shape the
// real API requires, records every request, and answers with the next planned status.

#[derive(Debug, Clone)]
struct SendGridRequest {
    body: Value,
    at: Instant,
}

#[derive(Default)]
struct SendGridState {
    key: String,
    /// Statuses for the next valid requests; empty means 202.
    plan: VecDeque<u16>,
    /// While set, every valid request gets this status (an outage), before any plan.
    down: Option<u16>,
    requests: Vec<SendGridRequest>,
}

struct FakeSendGrid {
    base_url: String,
    state: Arc<Mutex<SendGridState>>,
}

impl FakeSendGrid {
    async fn start(key: &str, plan: &[u16]) -> Self {
        let state = Arc::new(Mutex::new(SendGridState {
            key: key.to_owned(),
            plan: plan.iter().copied().collect(),
            down: None,
            requests: Vec::new(),
        }));
        let router = axum::Router::new()
            .route("/v3/mail/send", axum::routing::post(mail_send))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    fn requests(&self) -> Vec<SendGridRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Answers every valid request with `status` until [`FakeSendGrid::recover`].
    fn go_down(&self, status: u16) {
        self.state.lock().unwrap().down = Some(status);
    }

    fn recover(&self) {
        self.state.lock().unwrap().down = None;
    }
}

fn sendgrid_error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"message": message, "field": field, "help": null}]})),
    )
        .into_response()
}

/// The first rule of the documented request format that `body` breaks.
fn shape_error(body: &Value) -> Option<(&'static str, &'static str)> {
    let is_address = |v: &Value| v["email"].as_str().is_some_and(|e| e.contains('@'));
    let personalizations = body["personalizations"].as_array();
    if !personalizations.is_some_and(|list| {
        !list.is_empty()
            && list.iter().all(|p| {
                p["to"]
                    .as_array()
                    .is_some_and(|to| !to.is_empty() && to.iter().all(is_address))
            })
    }) {
        return Some((
            "personalizations",
            "Each personalization needs a to address.",
        ));
    }
    if !is_address(&body["from"]) {
        return Some(("from", "The from object must be provided with an email."));
    }
    if body["subject"].as_str().is_none_or(str::is_empty) {
        return Some(("subject", "The subject is required."));
    }
    let content = body["content"].as_array();
    if !content.is_some_and(|c| !c.is_empty() && c[0]["type"] == "text/plain") {
        return Some(("content", "text/plain must come first in content."));
    }
    if let Some(attachments) = body.get("attachments") {
        let valid = attachments.as_array().is_some_and(|list| {
            list.iter().all(|a| {
                a["filename"].as_str().is_some_and(|f| !f.is_empty())
                    && a["content"].as_str().is_some_and(|c| {
                        base64::engine::general_purpose::STANDARD.decode(c).is_ok()
                    })
            })
        });
        if !valid {
            return Some((
                "attachments",
                "Attachments need a filename and base64 content.",
            ));
        }
    }
    None
}

async fn mail_send(
    State(state): State<Arc<Mutex<SendGridState>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.requests.push(SendGridRequest {
        body: body.clone(),
        at: Instant::now(),
    });
    let expected = format!("Bearer {}", st.key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return sendgrid_error(
            StatusCode::UNAUTHORIZED,
            "The provided authorization grant is invalid, expired, or revoked",
            None,
        );
    }
    if body.is_null() {
        return sendgrid_error(StatusCode::BAD_REQUEST, "Bad Request", None);
    }
    if let Some((field, message)) = shape_error(&body) {
        return sendgrid_error(StatusCode::BAD_REQUEST, message, Some(field));
    }
    if let Some(code) = st.down {
        return sendgrid_error(
            StatusCode::from_u16(code).unwrap(),
            "service unavailable",
            None,
        );
    }
    match st.plan.pop_front() {
        None => {
            let id = format!("sg-{}", st.requests.len());
            (StatusCode::ACCEPTED, [("x-message-id", id)]).into_response()
        }
        Some(429) => {
            let mut res = sendgrid_error(StatusCode::TOO_MANY_REQUESTS, "too many requests", None);
            res.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            res
        }
        Some(400) => sendgrid_error(
            StatusCode::BAD_REQUEST,
            "The from address does not match a verified Sender Identity.",
            Some("from"),
        ),
        Some(code) => sendgrid_error(StatusCode::from_u16(code).unwrap(), "planned failure", None),
    }
}

// ---------------------------------------------------------------------------------------
// The outbox, and start-up checks.

#[tokio::test]
async fn without_a_transport_an_email_waits_in_the_outbox_as_queued() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;
        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!(
            (row.transport.as_str(), row.status.as_str(), row.attempts),
            ("outbox", "queued", 0)
        );
        assert!(row.sent_at.is_none() && row.last_error.is_none());
        assert!(eml_copy(&app, &row).contains("accept-invite?token="));
    }
}

#[tokio::test]
async fn a_transport_without_its_credentials_stops_start_up_with_a_clear_error() {
    let db = TestDatabase::new(support::Backend::Sqlite).await;
    for (transport, missing) in [
        (MailTransport::Sendgrid, "SENDGRID_API_KEY"),
        (MailTransport::Smtp, "CARAVAN_SMTP_URL"),
    ] {
        let mut config = db.config();
        config.mail.transport = transport;
        let err = caravan::AppState::build(config).await.unwrap_err();
        assert!(format!("{err:#}").contains(missing), "{err:#}");
    }
}

#[tokio::test]
async fn a_delivery_outcome_only_updates_the_row_of_its_own_tenant() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;
        app.create_tenant("kestrel", json!({})).await;
        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        let outbox = &app.state.storage.outbox;

        let mut forged = row.clone();
        forged.tenant_id = "kestrel".to_owned();
        forged.status = "sent".to_owned();
        assert!(!outbox.update_delivery(&forged).await.unwrap());
        assert_eq!(
            row_to(&app, "sunbird", "owner@sunbird.test").await.status,
            "queued"
        );

        let mut delivered = row.clone();
        delivered.status = "sent".to_owned();
        delivered.attempts = 2;
        delivered.provider_message_id = Some("sg-42".to_owned());
        assert!(outbox.update_delivery(&delivered).await.unwrap());
        let stored = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!(
            (
                stored.status.as_str(),
                stored.attempts,
                stored.provider_message_id
            ),
            ("sent", 2, Some("sg-42".to_owned()))
        );
    }
}

// ---------------------------------------------------------------------------------------
// SMTP.

#[tokio::test]
async fn an_invitation_arrives_over_smtp_with_its_envelope_and_headers_and_is_recorded_as_sent() {
    for backend in backends() {
        let smtp = FakeSmtp::start(&[]).await;
        let app = TestApp::with_config(backend, smtp_to(smtp.port)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let got = smtp.received_by("owner@sunbird.test");
        assert_eq!(got.mail_from, PLATFORM_FROM);
        assert_eq!(got.rcpt_to, vec!["owner@sunbird.test"]);
        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        for header in [
            "Subject: You are invited to join sunbird Travel".to_owned(),
            "To: owner@sunbird.test".to_owned(),
            format!("Message-ID: <{}@caravan.localhost>", row.id),
        ] {
            assert!(
                got.data.contains(&header),
                "{header} missing:\n{}",
                got.data
            );
        }
        let from = got
            .data
            .lines()
            .find(|l| l.starts_with("From: "))
            .expect("a From header");
        assert!(
            from.contains("sunbird Travel") && from.contains(&format!("<{PLATFORM_FROM}>")),
            "{from}"
        );
        assert!(got.data.contains("accept-invite?token="), "{}", got.data);

        assert_eq!(
            (row.transport.as_str(), row.status.as_str(), row.attempts),
            ("smtp", "sent", 1)
        );
        assert!(row.sent_at.is_some() && row.last_error.is_none());
        assert_eq!(row.provider_message_id.as_deref(), Some("Q1"));
        // The server received exactly the bytes kept in the outbox.
        assert_eq!(got.data.trim_end(), eml_copy(&app, &row).trim_end());
    }
}

#[tokio::test]
async fn a_quote_with_a_pdf_and_the_tenants_own_sender_arrives_intact_over_smtp() {
    for backend in backends() {
        let smtp = FakeSmtp::start(&[]).await;
        let app = TestApp::with_config(backend, smtp_to(smtp.port)).await;
        app.create_tenant("sunbird", json!({})).await;

        let record = app
            .state
            .accounts
            .mailer()
            .send(&quote_email("sunbird", "guest@example.com"))
            .await
            .unwrap();
        assert_eq!((record.status.as_str(), record.attempts), ("sent", 1));
        assert_eq!(record.from_address, "quotes@sunbird.example");

        let got = smtp.received_by("guest@example.com");
        assert_eq!(got.mail_from, "quotes@sunbird.example");
        assert!(
            got.data.contains("Content-Type: multipart/mixed"),
            "{}",
            got.data
        );
        assert!(got.data.contains("Content-Type: multipart/alternative"));
        assert!(got.data.contains("Reply-To: help@sunbird.example"));
        assert_eq!(attachment_in(&got.data, "quote-Q-1042.pdf"), pdf_bytes());

        let row = row_to(&app, "sunbird", "guest@example.com").await;
        assert_eq!(row.from_address, "quotes@sunbird.example");
        assert_eq!(
            attachment_in(&eml_copy(&app, &row), "quote-Q-1042.pdf"),
            pdf_bytes()
        );
    }
}

#[tokio::test]
async fn a_temporary_451_is_retried_and_the_second_attempt_delivers() {
    for backend in backends() {
        let smtp = FakeSmtp::start(&[451]).await;
        let app = TestApp::with_config(backend, smtp_to(smtp.port)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));
        assert!(row.last_error.is_none(), "{:?}", row.last_error);
        assert_eq!(smtp.transactions(), 2);
        assert_eq!(smtp.received().len(), 1);
    }
}

#[tokio::test]
async fn a_permanent_550_fails_at_once_and_the_email_stays_on_record() {
    for backend in backends() {
        let smtp = FakeSmtp::start(&[550]).await;
        let app = TestApp::with_config(backend, smtp_to(smtp.port)).await;
        // The caller (tenant creation) still succeeds: create_tenant asserts 201.
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!(
            (row.transport.as_str(), row.status.as_str(), row.attempts),
            ("smtp", "failed", 1)
        );
        let error = row.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("550") && error.contains("No such user"),
            "{error}"
        );
        assert!(row.sent_at.is_none());
        assert_eq!(smtp.transactions(), 1);
        assert!(smtp.received().is_empty());
        assert!(eml_copy(&app, &row).contains("accept-invite?token="));
    }
}

#[tokio::test]
async fn an_unreachable_smtp_server_fails_after_the_retry_bound_in_bounded_time() {
    for backend in backends() {
        // A port that was free a moment ago: connections to it are refused.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let app = TestApp::with_config(backend, smtp_to(port)).await;
        app.create_tenant("sunbird", json!({})).await;

        let started = Instant::now();
        let record = app
            .state
            .accounts
            .mailer()
            .send(&quote_email("sunbird", "guest@example.com"))
            .await
            .expect("a delivery failure is a record, not an error");
        let elapsed = started.elapsed();
        assert_eq!((record.status.as_str(), record.attempts), ("failed", 3));
        assert!(
            record
                .last_error
                .as_deref()
                .unwrap_or_default()
                .starts_with("SMTP: "),
            "{:?}",
            record.last_error
        );
        // Two backoffs of at most 50 and 100 ms; generous for a busy machine.
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        // The stored row says what the caller was told (timestamps aside: the database
        // keeps microseconds).
        let row = row_to(&app, "sunbird", "guest@example.com").await;
        assert_eq!(
            (&row.id, &row.status, row.attempts, &row.last_error),
            (
                &record.id,
                &record.status,
                record.attempts,
                &record.last_error
            )
        );
        assert_eq!(
            attachment_in(&eml_copy(&app, &row), "quote-Q-1042.pdf"),
            pdf_bytes()
        );
    }
}

#[tokio::test]
async fn a_silent_smtp_server_is_cut_off_by_the_attempt_timeout() {
    for backend in backends() {
        // Accepts connections and never says a word.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let app = TestApp::with_config(backend, |c| {
            smtp_to(port)(c);
            c.mail.attempt_timeout_ms = 300;
        })
        .await;
        app.create_tenant("sunbird", json!({})).await;

        let started = Instant::now();
        let record = app
            .state
            .accounts
            .mailer()
            .send(&quote_email("sunbird", "guest@example.com"))
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!((record.status.as_str(), record.attempts), ("failed", 3));
        assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    }
}

// ---------------------------------------------------------------------------------------
// SendGrid.

const KEY: &str = "SG.test-key";

#[tokio::test]
async fn sendgrid_accepts_an_invitation_and_a_quote_and_the_rows_say_sent() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[]).await;
        let app = TestApp::with_config(backend, sendgrid_at(sendgrid.base_url.clone(), KEY)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let invitation = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!(
            (
                invitation.transport.as_str(),
                invitation.status.as_str(),
                invitation.attempts
            ),
            ("sendgrid", "sent", 1)
        );
        assert_eq!(invitation.provider_message_id.as_deref(), Some("sg-1"));
        let requests = sendgrid.requests();
        assert_eq!(requests.len(), 1);
        let body = &requests[0].body;
        assert_eq!(
            body["personalizations"],
            json!([{"to": [{"email": "owner@sunbird.test"}]}])
        );
        assert_eq!(
            body["from"],
            json!({"email": PLATFORM_FROM, "name": "sunbird Travel"})
        );
        assert_eq!(
            body["subject"],
            "You are invited to join sunbird Travel on Caravan"
        );
        assert_eq!(body["content"][0]["type"], "text/plain");
        assert!(
            body["content"][0]["value"]
                .as_str()
                .unwrap()
                .contains("accept-invite?token=")
        );
        assert_eq!(
            body["custom_args"]["caravan_email_id"],
            invitation.id.as_str()
        );

        let quote = app
            .state
            .accounts
            .mailer()
            .send(&quote_email("sunbird", "guest@example.com"))
            .await
            .unwrap();
        assert_eq!((quote.status.as_str(), quote.attempts), ("sent", 1));
        let body = &sendgrid.requests()[1].body;
        assert_eq!(
            body["from"],
            json!({"email": "quotes@sunbird.example", "name": "Sunbird Safaris"})
        );
        assert_eq!(body["reply_to"], json!({"email": "help@sunbird.example"}));
        assert_eq!(body["content"][1]["type"], "text/html");
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["filename"], "quote-Q-1042.pdf");
        assert_eq!(attachment["type"], "application/pdf");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(attachment["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, pdf_bytes());
        // The outbox copy keeps the attachment whatever the transport.
        let row = row_to(&app, "sunbird", "guest@example.com").await;
        assert_eq!(
            attachment_in(&eml_copy(&app, &row), "quote-Q-1042.pdf"),
            pdf_bytes()
        );
    }
}

#[tokio::test]
async fn sendgrid_429_is_retried_after_the_pause_it_asks_for() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[429]).await;
        let app = TestApp::with_config(backend, sendgrid_at(sendgrid.base_url.clone(), KEY)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));
        let requests = sendgrid.requests();
        assert_eq!(requests.len(), 2);
        // The backoff alone would be at most 50 ms: the wait is the server's `Retry-After: 1`.
        let gap = requests[1].at - requests[0].at;
        assert!(gap >= Duration::from_millis(950), "{gap:?}");
    }
}

#[tokio::test]
async fn a_sendgrid_outage_that_outlasts_the_retries_fails_after_three_attempts() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[500, 500, 500]).await;
        let app = TestApp::with_config(backend, sendgrid_at(sendgrid.base_url.clone(), KEY)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!((row.status.as_str(), row.attempts), ("failed", 3));
        let error = row.last_error.clone().unwrap_or_default();
        assert!(error.contains("500"), "{error}");
        assert_eq!(sendgrid.requests().len(), 3);
        assert!(eml_copy(&app, &row).contains("accept-invite?token="));
    }
}

#[tokio::test]
async fn a_sendgrid_400_fails_without_a_retry() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[400]).await;
        let app = TestApp::with_config(backend, sendgrid_at(sendgrid.base_url.clone(), KEY)).await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!(
            (row.transport.as_str(), row.status.as_str(), row.attempts),
            ("sendgrid", "failed", 1)
        );
        let error = row.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("400") && error.contains("verified Sender Identity"),
            "{error}"
        );
        assert_eq!(sendgrid.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_wrong_sendgrid_key_fails_with_401_without_a_retry() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[]).await;
        let app = TestApp::with_config(
            backend,
            sendgrid_at(sendgrid.base_url.clone(), "SG.revoked-key"),
        )
        .await;
        app.create_tenant("sunbird", json!({"admin_email": "owner@sunbird.test"}))
            .await;

        let row = row_to(&app, "sunbird", "owner@sunbird.test").await;
        assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
        let error = row.last_error.clone().unwrap_or_default();
        assert!(error.contains("401"), "{error}");
        assert!(!error.contains("revoked-key"), "the key leaked: {error}");
        assert_eq!(sendgrid.requests().len(), 1);
    }
}

// ---------------------------------------------------------------------------------------
// The SendGrid circuit breaker.

/// Retries whose failing path takes seconds (waits of 0.5–1 s, then 1–2 s), and a breaker
/// that opens after 3 failed requests for 2–3 s: long enough that a loaded machine checks
/// everything it wants to see while the circuit is open before the first trial delivery.
fn sendgrid_with_breaker(base_url: String) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        sendgrid_at(base_url, KEY)(c);
        c.mail.initial_backoff_ms = 1_000;
        c.mail.max_backoff_ms = 2_000;
        c.mail.breaker_failures = 3;
        c.mail.breaker_open_min_ms = 2_000;
        c.mail.breaker_open_max_ms = 4_000;
    }
}

/// The value of `caravan_upstream_circuit_state{upstream="<upstream>"}` in `/metrics`.
async fn circuit_gauge(app: &TestApp, upstream: &str) -> Option<i64> {
    let res = app.get("/metrics").send().await;
    let text = res.body.as_str().unwrap_or_default().to_owned();
    let prefix = format!("caravan_upstream_circuit_state{{upstream=\"{upstream}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().parse().unwrap())
}

/// Invites `email` into the admin's tenant through the API; returns how long it took.
async fn invite(app: &TestApp, admin: &Login, email: &str) -> Duration {
    let started = Instant::now();
    app.post("/api/v1/users/invite")
        .user(admin)
        .json(&json!({"email": email, "name": "New Hire"}))
        .send()
        .await
        .expect(StatusCode::OK);
    started.elapsed()
}

/// Polls (every 100 ms, for up to 20 s) until the email to `to` has `status`.
async fn wait_for_status(app: &TestApp, tenant: &str, to: &str, status: &str) -> OutboundEmail {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = row_to(app, tenant, to).await;
        if row.status == status {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "the email to {to} is still {} ({:?})",
            row.status,
            row.last_error
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_sendgrid_outage_opens_the_circuit_and_the_queued_emails_go_out_after_it() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[]).await;
        let app =
            TestApp::with_config(backend, sendgrid_with_breaker(sendgrid.base_url.clone())).await;
        // The gauge is exported from start-up, closed.
        assert_eq!(circuit_gauge(&app, "sendgrid").await, Some(0));
        let ready = app.get("/health/ready").send().await;
        ready.expect(StatusCode::OK);
        assert_eq!(
            ready.body["checks"]["email"],
            json!({"transport": "sendgrid", "circuit": "closed", "status": "up", "deferred": 0})
        );
        let admin = app.tenant_with_user("sunbird", "admin").await;
        let before = sendgrid.requests().len();

        // Three failed requests (one email's three attempts) open the circuit. The email is
        // not failed with the outage: it stays queued, to be sent once SendGrid is back.
        sendgrid.go_down(503);
        let slow = invite(&app, &admin, "first@sunbird.test").await;
        assert!(
            slow >= Duration::from_millis(1_400),
            "the retry path: {slow:?}"
        );
        assert_eq!(sendgrid.requests().len() - before, 3);
        let first = row_to(&app, "sunbird", "first@sunbird.test").await;
        assert_eq!((first.status.as_str(), first.attempts), ("queued", 3));
        let error = first.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("circuit open") && error.contains("503"),
            "{error}"
        );
        assert_eq!(circuit_gauge(&app, "sendgrid").await, Some(2));

        // While open, an email is not even attempted: the request returns at once, the
        // email waits queued with its attempts untouched.
        let fast = invite(&app, &admin, "second@sunbird.test").await;
        assert!(fast < Duration::from_secs(1), "failed fast: {fast:?}");
        assert_eq!(
            sendgrid.requests().len() - before,
            3,
            "no request while open"
        );
        let second = row_to(&app, "sunbird", "second@sunbird.test").await;
        assert_eq!((second.status.as_str(), second.attempts), ("queued", 0));
        assert!(
            second
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("sendgrid circuit open"),
            "{:?}",
            second.last_error
        );
        // Readiness reports the open circuit without failing.
        let ready = app.get("/health/ready").send().await;
        ready.expect(StatusCode::OK);
        assert_eq!(ready.body["status"], "ready");
        assert_eq!(ready.body["degraded"], json!(["email"]));
        let email = &ready.body["checks"]["email"];
        assert_eq!(
            (&email["circuit"], &email["status"]),
            (&json!("open"), &json!("degraded"))
        );
        assert_eq!(email["deferred"], 2);

        // SendGrid is back: after the open period a trial delivery closes the circuit and
        // both queued emails go out, in order, each with one more attempt.
        sendgrid.recover();
        let first = wait_for_status(&app, "sunbird", "first@sunbird.test", "sent").await;
        let second = wait_for_status(&app, "sunbird", "second@sunbird.test", "sent").await;
        assert_eq!((first.attempts, second.attempts), (4, 1));
        assert!(first.last_error.is_none() && first.provider_message_id.is_some());
        assert_eq!(circuit_gauge(&app, "sendgrid").await, Some(0));
        let ready = app.get("/health/ready").send().await;
        assert_eq!(ready.body["checks"]["email"]["circuit"], "closed");
        assert_eq!(ready.body["checks"]["email"]["deferred"], 0);
        assert_eq!(ready.body["degraded"], json!([]));
        assert_eq!(sendgrid.requests().len() - before, 5);
        // A deferred email is delivered once only.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sendgrid.requests().len() - before, 5);
    }
}

#[tokio::test]
async fn queued_emails_outlive_their_host_and_a_restarted_one_sends_them_intact() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[]).await;
        let url = sendgrid.base_url.clone();
        // The first host's circuit, once open, stays open past the end of the test: it never
        // delivers what it deferred, as if it had stopped.
        let app = TestApp::with_config(backend, |c| {
            sendgrid_with_breaker(url.clone())(c);
            c.mail.breaker_open_min_ms = 600_000;
            c.mail.breaker_open_max_ms = 600_000;
        })
        .await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        let setup = sendgrid.requests().len();
        sendgrid.go_down(503);
        invite(&app, &admin, "first@sunbird.test").await;
        let quote = app
            .state
            .accounts
            .mailer()
            .send(&quote_email("sunbird", "guest@example.com"))
            .await
            .unwrap();
        assert_eq!((quote.status.as_str(), quote.attempts), ("queued", 0));
        assert!(quote.next_attempt_at.is_some());
        sendgrid.recover();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = sendgrid.requests().len();
        assert_eq!(
            before - setup,
            3,
            "only the first email's attempts reached SendGrid"
        );

        // A new host on the same database and data directory, as after a restart, starts
        // its worker at boot and sends both, oldest first, each once.
        let host = app.second_host(sendgrid_with_breaker(url.clone())).await;
        host.state.mailer.spawn_redelivery();
        let first = wait_for_status(&app, "sunbird", "first@sunbird.test", "sent").await;
        let quote = wait_for_status(&app, "sunbird", "guest@example.com", "sent").await;
        assert_eq!((first.attempts, quote.attempts), (4, 1));
        assert!(first.next_attempt_at.is_none() && quote.last_error.is_none());
        let requests = sendgrid.requests();
        assert_eq!(requests.len() - before, 2);
        let to = |r: &SendGridRequest| r.body["personalizations"][0]["to"][0]["email"].clone();
        assert_eq!(to(&requests[before]), "first@sunbird.test");

        // The quote is rebuilt from its stored copy: sender, reply-to, both bodies and the
        // PDF byte for byte.
        let body = &requests[before + 1].body;
        assert_eq!(to(&requests[before + 1]), "guest@example.com");
        assert_eq!(
            body["from"],
            json!({"email": "quotes@sunbird.example", "name": "Sunbird Safaris"})
        );
        assert_eq!(body["reply_to"]["email"], "help@sunbird.example");
        assert_eq!(body["subject"], "Your quote Q-1042");
        assert_eq!(
            body["content"],
            json!([
                {"type": "text/plain", "value": "Please find your quote attached."},
                {"type": "text/html", "value": "<p>Please find your quote attached.</p>"}
            ])
        );
        let attachment = &body["attachments"][0];
        assert_eq!(
            (&attachment["filename"], &attachment["type"]),
            (&json!("quote-Q-1042.pdf"), &json!("application/pdf"))
        );
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(attachment["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(pdf, pdf_bytes());
        assert_eq!(body["custom_args"]["caravan_email_id"], quote.id.as_str());

        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sendgrid.requests().len() - before, 2, "sent once only");
        let ready = host.get("/health/ready").send().await;
        assert_eq!(ready.body["checks"]["email"]["deferred"], 0);
    }
}

#[tokio::test]
async fn refusals_by_sendgrid_do_not_open_the_circuit() {
    for backend in backends() {
        let sendgrid = FakeSendGrid::start(KEY, &[]).await;
        let app =
            TestApp::with_config(backend, sendgrid_with_breaker(sendgrid.base_url.clone())).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        for (n, status) in [400, 401, 403, 400].into_iter().enumerate() {
            sendgrid.go_down(status);
            let to = format!("refused-{n}@sunbird.test");
            invite(&app, &admin, &to).await;
            let row = row_to(&app, "sunbird", &to).await;
            assert_eq!(
                (row.status.as_str(), row.attempts),
                ("failed", 1),
                "{status}"
            );
        }
        assert_eq!(circuit_gauge(&app, "sendgrid").await, Some(0));
        sendgrid.recover();
        invite(&app, &admin, "accepted@sunbird.test").await;
        let row = row_to(&app, "sunbird", "accepted@sunbird.test").await;
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
    }
}

#[tokio::test]
async fn without_a_network_transport_email_has_no_circuit() {
    let app = TestApp::new(support::Backend::Sqlite).await;
    let ready = app.get("/health/ready").send().await;
    assert_eq!(
        ready.body["checks"]["email"],
        json!({"transport": "outbox", "circuit": "not_applicable", "status": "disabled", "deferred": 0})
    );
    assert_eq!(circuit_gauge(&app, "sendgrid").await, None);
    assert_eq!(circuit_gauge(&app, "smtp").await, None);
}

#[tokio::test]
async fn an_smtp_transport_reports_its_own_circuit_from_start_up() {
    let smtp = FakeSmtp::start(&[]).await;
    let app = TestApp::with_config(support::Backend::Sqlite, smtp_to(smtp.port)).await;
    assert_eq!(circuit_gauge(&app, "smtp").await, Some(0));
    assert_eq!(circuit_gauge(&app, "sendgrid").await, None);
    let ready = app.get("/health/ready").send().await;
    assert_eq!(
        ready.body["checks"]["email"],
        json!({"transport": "smtp", "circuit": "closed", "status": "up", "deferred": 0})
    );
}
