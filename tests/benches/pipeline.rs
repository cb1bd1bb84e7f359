//! Inbound pipeline benchmarks: emails per second from the webhook to a sent quote (no LLM:
//! the default parser plugin), each worker step's p50/p99 from the times it records, end to
//! end latency with and without contention, and the cost of rendering a quote PDF. Run with
//! `cargo bench -p caravan-e2e --bench pipeline`; the PostgreSQL figures need
//! `TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use caravan::plugins::bindings::documents;
use caravan::plugins::fixtures;
use caravan::storage::inbound::InboundMessage;
use serde_json::{Value, json};
use support::sendgrid::{Form, envelope_to, raw_form};
use support::{Backend, SHARED_FIXTURES, TestApp, backends};

const WEBHOOK: &str = "/webhooks/email/inbound";
/// The worker's steps in the order it runs them.
const STEPS: [&str; 7] = [
    "parse",
    "ticket",
    "notify",
    "quote",
    "pdf",
    "email",
    "follow_up",
];
/// Emails per throughput run: 60 distinct copies of each of the 8 fixtures.
const BURST: usize = 480;
/// Webhook posts in flight during a throughput run.
const IN_FLIGHT: usize = 8;
/// Uncontended single-email runs: 6 rounds over the 8 fixtures.
const SINGLES: usize = 48;
/// Longest a throughput run may take before the bench reports what is still unfinished.
const PATIENCE: Duration = Duration::from_secs(180);

struct Figures {
    p50: Duration,
    p99: Duration,
    n: usize,
}

fn percentiles(mut samples: Vec<Duration>) -> Option<Figures> {
    if samples.is_empty() {
        return None;
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Some(Figures {
        p50: at(0.50),
        p99: at(0.99),
        n: samples.len(),
    })
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

/// `p50 / p99 ms (n)`, or a dash when nothing was measured.
fn cell(f: Option<&Figures>) -> String {
    f.map_or_else(
        || "—".to_owned(),
        |f| format!("{} / {} ({})", ms(f.p50), ms(f.p99), f.n),
    )
}

/// The shared sample emails, by file stem, in name order.
fn sample_emails() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(format!("{SHARED_FIXTURES}/emails"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "eml").then(|| {
                (
                    path.file_stem().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&path).unwrap(),
                )
            })
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 8, "the 8 shared sample emails");
    out
}

/// The same message with its `Message-ID` header replaced, so that the tenant stores it as a
/// new email instead of a duplicate. The bytes are edited as they are, since one fixture is
/// Latin-1.
fn with_message_id(eml: &[u8], id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(eml.len() + 64);
    let mut in_headers = true;
    let mut replaced = false;
    for line in eml.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            in_headers = false;
        }
        if in_headers && line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
            let newline: &[u8] = if line.ends_with(b"\r\n") {
                b"\r\n"
            } else {
                b"\n"
            };
            out.extend_from_slice(format!("Message-ID: <{id}>").as_bytes());
            out.extend_from_slice(newline);
            replaced = true;
        } else {
            out.extend_from_slice(line);
        }
    }
    assert!(replaced, "every fixture has a Message-ID header");
    out
}

/// One webhook body per email: fixture `i % 8` under the Message-ID `<tag>-<i>@bench.caravan`.
fn forms(emails: &[(String, Vec<u8>)], tag: &str, n: usize) -> Vec<Form> {
    (0..n)
        .map(|i| {
            let (_, eml) = &emails[i % emails.len()];
            let eml = with_message_id(eml, &format!("{tag}-{i}@bench.caravan"));
            raw_form(&eml, &envelope_to(&eml))
        })
        .collect()
}

/// The sample tenant with the 66 sample rates, quoting and sending every enquiry itself.
async fn sunbird(backend: Backend, workers: u32) -> TestApp {
    let app = TestApp::with_config(backend, |c| c.inbound.workers = workers).await;
    let login = app.sunbird().await;
    app.import_sample_rates(&login).await;
    app.request(Method::PATCH, "/api/v1/admin/tenants/sunbird")
        .admin()
        .json(&json!({"quoting": {"auto_quote_inbound": true, "auto_send": true}}))
        .send()
        .await
        .expect(StatusCode::OK);
    app
}

/// Posts one email; panics unless the webhook accepted it.
async fn post(app: &TestApp, form: &Form) -> Duration {
    let started = Instant::now();
    let res = app.post_email(WEBHOOK, form).await;
    let elapsed = started.elapsed();
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    elapsed
}

/// The tenant's messages whose Message-ID carries `tag`.
async fn tagged(app: &TestApp, tag: &str) -> Vec<InboundMessage> {
    app.state
        .inbound
        .messages("sunbird", 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.message_id
                .as_deref()
                .is_some_and(|id| id.starts_with(&format!("{tag}-")))
        })
        .collect()
}

/// Each step's recorded time, per step name, over `messages`.
fn step_times(messages: &[InboundMessage]) -> BTreeMap<&'static str, Vec<Duration>> {
    let mut out: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for m in messages {
        let steps: Value = serde_json::from_str(&m.steps).unwrap_or_default();
        for step in STEPS {
            if let Some(us) = steps[step]["us"].as_u64() {
                out.entry(step).or_default().push(Duration::from_micros(us));
            }
        }
    }
    out
}

/// The sum of a message's recorded step times: its service time without queueing.
fn service_time(m: &InboundMessage) -> Duration {
    let steps: Value = serde_json::from_str(&m.steps).unwrap_or_default();
    Duration::from_micros(STEPS.iter().filter_map(|s| steps[*s]["us"].as_u64()).sum())
}

fn stored_latency(m: &InboundMessage) -> Duration {
    (m.updated_at - m.received_at).to_std().unwrap_or_default()
}

/// What one run measured, for the tables.
struct Run {
    label: String,
    steps: BTreeMap<&'static str, Vec<Duration>>,
    webhook: Option<Figures>,
    /// `updated_at − received_at` of the messages that reached `done`.
    stored: Option<Figures>,
    /// The sum of each done message's recorded step times.
    service: Option<Figures>,
    /// Post and worker, timed around both (single-email runs only).
    total: Option<Figures>,
    /// The same for the emails that became a sent quote.
    total_quoted: Option<Figures>,
    rate: Option<f64>,
    quoted: usize,
    notes: Vec<String>,
}

fn summarize(
    label: &str,
    messages: &[InboundMessage],
    webhook: Vec<Duration>,
    rate: Option<f64>,
) -> Run {
    let done: Vec<&InboundMessage> = messages.iter().filter(|m| m.state == "done").collect();
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for m in messages {
        *states.entry(m.state.as_str()).or_insert(0) += 1;
    }
    let quoted = done.iter().filter(|m| was_sent(m)).count();
    Run {
        label: label.to_owned(),
        steps: step_times(messages),
        webhook: percentiles(webhook),
        stored: percentiles(done.iter().map(|m| stored_latency(m)).collect()),
        service: percentiles(done.iter().map(|m| service_time(m)).collect()),
        total: None,
        total_quoted: None,
        rate,
        quoted,
        notes: states.iter().map(|(s, n)| format!("{n} {s}")).collect(),
    }
}

/// Whether the worker emailed a quote for the message.
fn was_sent(m: &InboundMessage) -> bool {
    serde_json::from_str::<Value>(&m.steps)
        .ok()
        .is_some_and(|s| s["email"].get("sent_to").is_some())
}

/// Uncontended latency: no background worker; post one email, run the worker on it, repeat.
async fn singles(app: &TestApp, emails: &[(String, Vec<u8>)], label: &str) -> Run {
    let mut webhook = Vec::new();
    let mut total = Vec::new();
    let mut total_quoted = Vec::new();
    for form in forms(emails, "single", SINGLES) {
        let started = Instant::now();
        webhook.push(post(app, &form).await);
        assert_eq!(app.drain_inbound().await, 1);
        let elapsed = started.elapsed();
        total.push(elapsed);
        let newest = app.state.inbound.messages("sunbird", 1).await.unwrap();
        if was_sent(&newest[0]) {
            total_quoted.push(elapsed);
        }
    }
    let messages = tagged(app, "single").await;
    let mut run = summarize(label, &messages, webhook, None);
    run.total = percentiles(total);
    run.total_quoted = percentiles(total_quoted);
    run
}

/// A burst of distinct emails posted `IN_FLIGHT` at a time while the background workers run.
async fn burst(app: Arc<TestApp>, emails: &[(String, Vec<u8>)], label: &str) -> Run {
    let forms = Arc::new(forms(emails, "burst", BURST));
    let next = Arc::new(AtomicUsize::new(0));
    app.state.inbound.spawn_workers();
    let first_post = chrono::Utc::now();
    let started = Instant::now();
    let mut posters = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (app, forms, next) = (app.clone(), forms.clone(), next.clone());
        posters.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(form) = forms.get(i) else {
                    break latencies;
                };
                latencies.push(post(&app, form).await);
            }
        }));
    }
    let mut webhook = Vec::new();
    for p in posters {
        webhook.extend(p.await.unwrap());
    }
    let posted = started.elapsed();
    // Counting by state is one cheap query; listing the rows every few milliseconds would
    // compete with the workers for the two cores.
    loop {
        let counts = app.state.inbound.counts().await.unwrap();
        let open: i64 = counts
            .iter()
            .filter(|(state, _)| state == "pending" || state == "processing")
            .map(|(_, n)| n)
            .sum();
        if open == 0 || started.elapsed() > PATIENCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let messages = tagged(&app, "burst").await;
    assert_eq!(messages.len(), BURST, "every post stored one message");
    let last_done = messages
        .iter()
        .filter(|m| m.state == "done")
        .map(|m| m.updated_at)
        .max()
        .unwrap_or(first_post);
    let span = (last_done - first_post).to_std().unwrap_or_default();
    let done = messages.iter().filter(|m| m.state == "done").count();
    let mut run = summarize(
        label,
        &messages,
        webhook,
        Some(done as f64 / span.as_secs_f64().max(1e-9)),
    );
    run.notes.push(format!(
        "all {BURST} posted after {} ms, last done after {} ms",
        ms(posted),
        ms(span)
    ));
    for m in messages.iter().filter(|m| m.state != "done") {
        println!(
            "  not done: {} state {} attempts {} error {:?}",
            m.message_id.as_deref().unwrap_or("?"),
            m.state,
            m.attempts,
            m.last_error
        );
    }
    run
}

/// A few emails through the whole pipeline so that every plugin is compiled and cached.
async fn warm_up(app: &TestApp, emails: &[(String, Vec<u8>)]) {
    for form in forms(emails, "warm", emails.len()) {
        post(app, &form).await;
    }
    app.drain_inbound().await;
}

fn backend_runs(backend: Backend) -> Vec<Run> {
    let emails = sample_emails();
    let mut runs = Vec::new();
    for workers in [2, 4] {
        // Each app runs on a runtime of its own: dropping the runtime stops its workers.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let emails = &emails;
        runtime.block_on(async {
            let app = sunbird(backend, workers).await;
            warm_up(&app, emails).await;
            if workers == 2 {
                runs.push(singles(&app, emails, &format!("{backend:?}, one at a time")).await);
            }
            let label = format!("{backend:?}, burst, {workers} workers");
            runs.push(burst(Arc::new(app), emails, &label).await);
        });
        drop(runtime);
    }
    runs
}

/// How one summary row reads a run.
type RowFn = fn(&Run) -> String;

fn print_runs(runs: &[Run]) {
    println!();
    print!("| stage, p50 / p99 ms (n) |");
    for r in runs {
        print!(" {} |", r.label);
    }
    println!();
    println!("|---|{}", "---|".repeat(runs.len()));
    for step in STEPS {
        print!("| {step} |");
        for r in runs {
            print!(
                " {} |",
                cell(percentiles(r.steps.get(step).cloned().unwrap_or_default()).as_ref())
            );
        }
        println!();
    }
    let rows: [(&str, RowFn); 7] = [
        ("sum of steps (service time)", |r| cell(r.service.as_ref())),
        ("stored → done (received_at → updated_at)", |r| {
            cell(r.stored.as_ref())
        }),
        ("webhook POST", |r| cell(r.webhook.as_ref())),
        ("post + worker, wall clock, all emails", |r| {
            cell(r.total.as_ref())
        }),
        ("post + worker, wall clock, quoted emails", |r| {
            cell(r.total_quoted.as_ref())
        }),
        ("emails/s (first post → last done)", |r| {
            r.rate.map_or_else(|| "—".to_owned(), |x| format!("{x:.1}"))
        }),
        ("messages quoted and sent", |r| r.quoted.to_string()),
    ];
    for (name, f) in rows {
        print!("| {name} |");
        for r in runs {
            print!(" {} |", f(r));
        }
        println!();
    }
    for r in runs {
        println!("{}: {}", r.label, r.notes.join("; "));
    }
}

/// The layout request of a quote the pipeline made (from the warm-up emails): the one with
/// the most options and lines.
async fn pipeline_quote_layout(app: &TestApp) -> documents::DocumentRequest {
    let tenant = app.state.tenants.get("sunbird").await.unwrap();
    let mut best: Option<(usize, documents::DocumentRequest)> = None;
    for m in tagged(app, "warm").await {
        let steps: Value = serde_json::from_str(&m.steps).unwrap_or_default();
        let Some(id) = steps["quote"]["quote_id"].as_str() else {
            continue;
        };
        let quote = app.state.quotes.get("sunbird", id).await.unwrap();
        let request =
            caravan::quotes::document::request(&tenant, &quote, quote.created_at.date_naive());
        let size = request.options.iter().map(|o| 1 + o.lines.len()).sum();
        if best.as_ref().is_none_or(|(s, _)| size > *s) {
            best = Some((size, request));
        }
    }
    best.expect("the warm-up made at least one quote").1
}

async fn pdf_figures() {
    let app = sunbird(Backend::Sqlite, 2).await;
    warm_up(&app, &sample_emails()).await;
    let inputs = [
        (
            "plugins::fixtures::quote_document()",
            fixtures::quote_document(),
        ),
        (
            "largest quote of the 8 sample emails",
            pipeline_quote_layout(&app).await,
        ),
    ];
    println!();
    println!(
        "| PDF input | options, lines | pdf-template plugin p50 / p99 ms | pdf::render p50 / p99 ms | PDF bytes |"
    );
    println!("|---|---|---|---|---|");
    for (name, request) in inputs {
        let mut plugin = Vec::new();
        let mut layout = None;
        for i in 0..110 {
            let started = Instant::now();
            let doc = app
                .state
                .plugins
                .render("sunbird", &request)
                .await
                .unwrap()
                .value;
            if i >= 10 {
                plugin.push(started.elapsed());
            }
            layout = Some(doc);
        }
        let layout = layout.unwrap();
        let images = caravan::pdf::Images::default();
        let mut render = Vec::new();
        let mut bytes = 0;
        for i in 0..110 {
            let started = Instant::now();
            let pdf = caravan::pdf::render(&layout, &images).unwrap();
            if i >= 10 {
                render.push(started.elapsed());
            }
            bytes = std::hint::black_box(pdf).len();
        }
        let lines: usize = request.options.iter().map(|o| o.lines.len()).sum();
        let (plugin, render) = (percentiles(plugin).unwrap(), percentiles(render).unwrap());
        println!(
            "| {name} | {}, {lines} | {} / {} | {} / {} | {bytes} |",
            request.options.len(),
            ms(plugin.p50),
            ms(plugin.p99),
            ms(render.p50),
            ms(render.p99),
        );
    }
}

fn main() {
    let started = Instant::now();
    let mut runs = Vec::new();
    for backend in backends() {
        runs.extend(backend_runs(backend));
    }
    print_runs(&runs);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(pdf_figures());
    println!();
    println!("(whole bench: {:.0} s)", started.elapsed().as_secs_f64());
}
