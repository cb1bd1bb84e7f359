//! Inbound email end to end: SendGrid posts (both modes) → stored message → worker →
//! ticket, enquiry and notifications; duplicates, unknown recipients, bad payloads, failing
//! plugins and a worker that dies between steps.

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::sendgrid::{Form, envelope_to, parsed_form, raw_form};
use support::{Backend, Login, TestApp, backends};

const WEBHOOK: &str = "/webhooks/email/inbound";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/emails");

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(FIXTURES)
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
    out
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/expected.json")).unwrap())
        .unwrap()
}

async fn tickets(app: &TestApp, login: &Login) -> Vec<Value> {
    let res = app
        .get("/api/v1/inbound/tickets?limit=100")
        .user(login)
        .send()
        .await;
    res.expect(StatusCode::OK);
    res.body["data"].as_array().unwrap().clone()
}

fn ticket_with_diagnostic<'a>(tickets: &'a [Value], diagnostic_id: &str) -> &'a Value {
    tickets
        .iter()
        .find(|t| t["metadata"]["diagnostic_id"] == diagnostic_id)
        .unwrap_or_else(|| panic!("no ticket for diagnostic id {diagnostic_id}"))
}

/// A small plain-text message.
fn simple_email(message_id: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Nomvula Khumalo <nomvula@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Tue, 02 Feb 2027 10:00:00 +0200\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn check_fixtures_in_mode(backend: Backend, mode: &str) {
    let app = TestApp::new(backend).await;
    let login = app.sunbird().await;
    let expected = expected();
    let mut receipts = Vec::new();
    for (name, eml) in fixtures() {
        let to = envelope_to(&eml);
        let form = if mode == "raw" {
            raw_form(&eml, &to)
        } else {
            parsed_form(&eml, &to)
        };
        let res = app.post_email(WEBHOOK, &form).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["success"], true, "{name}: {}", res.body);
        assert_eq!(res.body["tenant_id"], "sunbird", "{name}");
        assert_eq!(res.body["message"], "Email queued for processing");
        receipts.push((name, res.body["diagnostic_id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(app.drain_inbound().await, receipts.len());
    let tickets = tickets(&app, &login).await;
    assert_eq!(tickets.len(), receipts.len(), "one ticket per email");
    let mut enquiries = 0;
    for (name, diagnostic_id) in &receipts {
        let want = &expected[name];
        let ticket = ticket_with_diagnostic(&tickets, diagnostic_id);
        let details = &ticket["metadata"]["parsed_details"];
        let ctx = format!("{mode} {backend:?} {name}: {ticket}");
        assert_eq!(ticket["status"], "open", "{ctx}");
        assert_eq!(ticket["source"], "email", "{ctx}");
        assert!(ticket["ticket_id"].as_str().unwrap().starts_with("TKT-"));
        assert_eq!(
            ticket["metadata"]["is_travel_inquiry"], want["is_enquiry"],
            "{ctx}"
        );
        if want["is_enquiry"] == false {
            assert_eq!(ticket["priority"], "low", "{ctx}");
            continue;
        }
        enquiries += 1;
        assert_eq!(ticket["priority"], "high", "{ctx}");
        for (field, key) in [
            ("destination", "destination"),
            ("check_in", "check_in"),
            ("check_out", "check_out"),
            ("adults", "adults"),
            ("children_ages", "children_ages"),
            ("nights", "nights"),
        ] {
            if !want[key].is_null() {
                assert_eq!(details[field], want[key], "{field} in {ctx}");
            }
        }
        if !want["budget_amount"].is_null() {
            assert_eq!(
                details["budget"].as_f64(),
                want["budget_amount"].as_f64(),
                "{ctx}"
            );
            assert_eq!(details["budget_currency"], want["budget_currency"], "{ctx}");
        }
        assert_eq!(ticket["customer_email"], want["customer_email"], "{ctx}");
        assert_eq!(ticket["customer_name"], want["customer_name"], "{ctx}");
        assert!(!ticket["message"].as_str().unwrap().is_empty(), "{ctx}");
        assert!(ticket["enquiry"].is_object(), "{ctx}");
    }
    // One `email_received` notification per enquiry for the signed-in user, none for the
    // auto-reply.
    let res = app
        .get("/api/v1/notifications?limit=100")
        .user(&login)
        .send()
        .await;
    res.expect(StatusCode::OK);
    let received: Vec<&Value> = res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "email_received")
        .collect();
    assert_eq!(received.len(), enquiries);
    assert!(received.iter().all(|n| n["entity_type"] == "ticket"
        && n["entity_id"].as_str().unwrap().starts_with("TKT-")
        && n["title"] == "New enquiry received"));
}

#[tokio::test]
async fn every_fixture_email_posted_raw_becomes_a_ticket_with_its_enquiry() {
    for backend in backends() {
        check_fixtures_in_mode(backend, "raw").await;
    }
}

#[tokio::test]
async fn every_fixture_email_posted_parsed_becomes_a_ticket_with_its_enquiry() {
    for backend in backends() {
        check_fixtures_in_mode(backend, "parsed").await;
    }
}

#[tokio::test]
async fn a_message_id_received_twice_is_acknowledged_and_ignored() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let (_, eml) = fixtures().into_iter().next().unwrap();
        let to = envelope_to(&eml);
        let first = app.post_email(WEBHOOK, &raw_form(&eml, &to)).await;
        first.expect(StatusCode::OK);
        assert!(first.body.get("duplicate").is_none());
        // The same message again, and in the other mode (SendGrid retried, say).
        for form in [raw_form(&eml, &to), parsed_form(&eml, &to)] {
            let again = app.post_email(WEBHOOK, &form).await;
            again.expect(StatusCode::OK);
            assert_eq!(again.body["duplicate"], true, "{}", again.body);
            assert_eq!(again.body["diagnostic_id"], first.body["diagnostic_id"]);
        }
        assert_eq!(app.drain_inbound().await, 1);
        assert_eq!(tickets(&app, &login).await.len(), 1);
        assert_eq!(
            app.state
                .inbound
                .messages("sunbird", 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn a_message_without_message_id_is_deduplicated_by_its_content() {
    let app = TestApp::new(Backend::Sqlite).await;
    app.sunbird().await;
    let form = || {
        Form::new()
            .text("from", "Ana <ana@example.org>")
            .text("to", "sunbird@inbound.caravan.test")
            .text("subject", "Mauritius")
            .text("text", "Two adults, Mauritius in May.")
    };
    let a = app.post_email(WEBHOOK, &form()).await;
    let b = app.post_email(WEBHOOK, &form()).await;
    assert!(a.body.get("duplicate").is_none());
    assert_eq!(b.body["duplicate"], true);
}

#[tokio::test]
async fn mail_for_an_unknown_recipient_is_kept_and_reported() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.sunbird().await;
        let eml = simple_email("u1@example.org", "bookings@elsewhere.test", "Hi", "Hello");
        let res = app
            .post_email(WEBHOOK, &raw_form(&eml, "bookings@elsewhere.test"))
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["success"], false);
        assert_eq!(res.body["error"], "Could not determine tenant");
        assert_eq!(res.body["to_email"], "bookings@elsewhere.test");
        assert!(res.body["strategies_tried"].as_array().unwrap().len() >= 5);
        let unrouted = app.get("/webhooks/email/unrouted").admin().send().await;
        unrouted.expect(StatusCode::OK);
        assert_eq!(
            unrouted.body["data"][0]["diagnostic_id"],
            res.body["diagnostic_id"]
        );
        assert_eq!(unrouted.body["data"][0]["subject"], "Hi");
        // Diagnostics are for the platform admin only.
        app.get("/webhooks/email/unrouted")
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn each_resolution_strategy_finds_the_tenant() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| {
            c.inbound.domain = "in.caravan.test".to_owned();
        })
        .await;
        app.sunbird().await;
        let cases: Vec<(&str, Form, &str)> = vec![
            (
                "configured inbound address",
                raw_form(
                    &simple_email("s1@x", "sunbird@inbound.caravan.test", "a", "b"),
                    "sunbird@inbound.caravan.test",
                ),
                "sendgrid_email",
            ),
            (
                "tenant id at the inbound domain",
                raw_form(
                    &simple_email("s2@x", "sunbird@in.caravan.test", "a", "b"),
                    "sunbird@in.caravan.test",
                ),
                "sendgrid_email",
            ),
            (
                "support email",
                raw_form(
                    &simple_email("s3@x", "hello@sunbird.example", "a", "b"),
                    "hello@sunbird.example",
                ),
                "support_email",
            ),
            (
                "subdomain",
                raw_form(
                    &simple_email("s4@x", "quotes@sunbird.in.caravan.test", "a", "b"),
                    "quotes@sunbird.in.caravan.test",
                ),
                "subdomain",
            ),
            (
                "local part is the tenant id",
                raw_form(
                    &simple_email("s5@x", "sunbird@mail.other.test", "a", "b"),
                    "sunbird@mail.other.test",
                ),
                "direct_tenant_id",
            ),
            (
                "plus addressing",
                raw_form(
                    &simple_email("s6@x", "quotes+sunbird@mail.other.test", "a", "b"),
                    "quotes+sunbird@mail.other.test",
                ),
                "plus_addressing",
            ),
            (
                "subject tag",
                raw_form(
                    &simple_email(
                        "s7@x",
                        "sales@mail.other.test",
                        "Trip [TENANT:sunbird]",
                        "b",
                    ),
                    "sales@mail.other.test",
                ),
                "subject_pattern",
            ),
            (
                "X-Tenant-ID header",
                raw_form(
                    &[
                        b"X-Tenant-ID: sunbird\r\n".as_slice(),
                        &simple_email("s8@x", "info@mail.other.test", "a", "b"),
                    ]
                    .concat(),
                    "info@mail.other.test",
                ),
                "x_tenant_id_header",
            ),
        ];
        for (what, form, strategy) in cases {
            let res = app.post_email(WEBHOOK, &form).await;
            assert_eq!(res.body["success"], true, "{what}: {}", res.body);
            assert_eq!(res.body["resolution_strategy"], strategy, "{what}");
        }
        // A missing envelope falls back to the To header.
        let eml = simple_email("s9@x", "sunbird@inbound.caravan.test", "a", "b");
        let form = Form::new().text("email", &eml);
        let res = app.post_email(WEBHOOK, &form).await;
        assert_eq!(
            res.body["resolution_strategy"], "sendgrid_email",
            "{}",
            res.body
        );
        // The path can force the tenant; an unknown one is 404.
        let eml = simple_email("s10@x", "nobody@nowhere.test", "a", "b");
        let res = app
            .post_email(
                "/webhooks/email/inbound/sunbird",
                &raw_form(&eml, "nobody@nowhere.test"),
            )
            .await;
        assert_eq!(res.body["resolution_strategy"], "url_tenant_id");
        let res = app
            .post_email(
                "/webhooks/email/inbound/nope",
                &raw_form(&eml, "nobody@nowhere.test"),
            )
            .await;
        res.expect(StatusCode::NOT_FOUND);
        // The aliases serve the same handler.
        for alias in ["/api/webhooks/sendgrid-inbound", "/api/v1/inbound/email"] {
            let eml = simple_email(
                &format!("alias{alias}@x"),
                "sunbird@inbound.caravan.test",
                "a",
                "b",
            );
            let res = app
                .post_email(alias, &raw_form(&eml, "sunbird@inbound.caravan.test"))
                .await;
            assert_eq!(res.body["tenant_id"], "sunbird", "{alias}");
        }
    }
}

#[tokio::test]
async fn a_suspended_tenants_mail_no_longer_resolves() {
    let app = TestApp::new(Backend::Sqlite).await;
    app.sunbird().await;
    app.post("/api/v1/admin/tenants/sunbird/suspend")
        .admin()
        .json(&json!({"reason": "unpaid invoices"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let eml = simple_email("susp@x", "sunbird@inbound.caravan.test", "a", "b");
    let res = app
        .post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
        .await;
    assert_eq!(res.body["success"], false, "{}", res.body);
}

#[tokio::test]
async fn a_cut_off_multipart_body_is_refused_and_nothing_is_stored() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let (_, eml) = fixtures().into_iter().next().unwrap();
        let form = raw_form(&eml, "sunbird@inbound.caravan.test");
        let body = form.body();
        let cut = body[..body.len() / 2].to_vec();
        let res = app
            .post(WEBHOOK)
            .raw(&form.content_type(), cut)
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert!(res.detail().contains("form data"), "{}", res.detail());
        assert!(res.detail().contains("diagnostic id"));
        assert_eq!(app.drain_inbound().await, 0);
        assert!(tickets(&app, &login).await.is_empty());
        // Not multipart at all.
        let res = app.post(WEBHOOK).raw("text/plain", "hello").send().await;
        res.expect(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_payload_over_the_limit_is_refused_with_413_and_nothing_is_stored() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let limit = app.state.config.inbound.body_limit_bytes;
        assert_eq!(limit, 30 * 1024 * 1024, "SendGrid's own cap is the default");
        let eml = simple_email("big@x", "sunbird@inbound.caravan.test", "big", "b");
        let form = raw_form(&eml, "sunbird@inbound.caravan.test").file(
            "attachment1",
            "huge.bin",
            "application/octet-stream",
            &vec![b'x'; limit + 1024],
        );
        let res = app.post_email(WEBHOOK, &form).await;
        res.expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(app.drain_inbound().await, 0);
        assert!(tickets(&app, &login).await.is_empty());
        assert!(
            app.state
                .inbound
                .messages("sunbird", 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_unknown_charset_and_a_missing_text_part_still_make_a_ticket() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let form = Form::new()
            .text("from", "Zoë <zoe@example.org>")
            .text("to", "sunbird@inbound.caravan.test")
            .text("subject", "Seychelles")
            .text("text", "Two adults to the Seychelles, 4 to 11 June 2027.")
            .text("charsets", r#"{"text":"x-unheard-of-8"}"#)
            .text(
                "envelope",
                r#"{"to":["sunbird@inbound.caravan.test"],"from":"zoe@example.org"}"#,
            );
        let res = app.post_email(WEBHOOK, &form).await;
        res.expect(StatusCode::OK);
        assert!(
            res.body["warnings"][0]
                .as_str()
                .unwrap()
                .contains("x-unheard-of-8")
        );
        // HTML only.
        let html = Form::new()
            .text("from", "kim@example.org")
            .text("to", "sunbird@inbound.caravan.test")
            .text("subject", "Kruger")
            .text(
                "html",
                "<p>We'd love <b>Kruger</b> for 2 adults, 5 nights from 3 August 2027.</p>",
            );
        app.post_email(WEBHOOK, &html).await.expect(StatusCode::OK);
        // No body at all.
        let empty = Form::new()
            .text("from", "blank@example.org")
            .text("to", "sunbird@inbound.caravan.test")
            .text("subject", "");
        app.post_email(WEBHOOK, &empty).await.expect(StatusCode::OK);
        assert_eq!(app.drain_inbound().await, 3);
        let tickets = tickets(&app, &login).await;
        assert_eq!(tickets.len(), 3);
        let by_email = |e: &str| tickets.iter().find(|t| t["customer_email"] == e).unwrap();
        assert_eq!(
            by_email("zoe@example.org")["metadata"]["parsed_details"]["destination"],
            "Seychelles"
        );
        let kim = by_email("kim@example.org");
        assert!(
            kim["message"]
                .as_str()
                .unwrap()
                .contains("Kruger for 2 adults")
        );
        assert_eq!(
            kim["metadata"]["parsed_details"]["destination"],
            "Kruger National Park"
        );
        let blank = by_email("blank@example.org");
        assert_eq!(blank["subject"], "No Subject");
        assert_eq!(blank["message"], "");
    }
}

#[tokio::test]
async fn an_enquiry_the_parser_cannot_read_is_ticketed_for_a_person() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = app.sunbird().await;
    let eml = simple_email(
        "vague@x",
        "sunbird@inbound.caravan.test",
        "Question",
        "Hi, could you help us plan something nice for next year? Thanks",
    );
    app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
        .await
        .expect(StatusCode::OK);
    app.drain_inbound().await;
    let tickets = tickets(&app, &login).await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["needs_review"], true, "{}", tickets[0]);
    assert_eq!(tickets[0]["status"], "open");
}

async fn activate_broken_parser(app: &TestApp, policy: &str) {
    let bytes = std::fs::read(env!("BROKEN_PARSER_PLUGIN")).unwrap();
    let res = app
        .post("/api/v1/admin/tenants/sunbird/plugins/email-parser?label=broken")
        .admin()
        .raw("application/wasm", bytes)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.body["data"]["id"].as_str().unwrap().to_owned();
    app.post("/api/v1/admin/tenants/sunbird/plugins/email-parser/activate")
        .admin()
        .json(&json!({"version_id": id}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.put("/api/v1/admin/tenants/sunbird/plugins/email-parser/limits")
        .admin()
        .json(&json!({"failure_policy": policy}))
        .send()
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn a_failing_parser_plugin_leaves_a_ticket_for_a_person_under_fail_closed() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        activate_broken_parser(&app, "fail_closed").await;
        for (i, tag) in ["[panic]", "[loop]", "[bad-output]", "[error]"]
            .iter()
            .enumerate()
        {
            let eml = simple_email(
                &format!("broken{i}@x"),
                "sunbird@inbound.caravan.test",
                &format!("Zanzibar {tag}"),
                "2 adults to Zanzibar 12-19 March 2027",
            );
            app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
                .await
                .expect(StatusCode::OK);
        }
        assert_eq!(app.drain_inbound().await, 4);
        let tickets = tickets(&app, &login).await;
        assert_eq!(tickets.len(), 4, "no message is lost");
        for ticket in &tickets {
            assert_eq!(ticket["needs_review"], true, "{ticket}");
            assert_eq!(ticket["metadata"]["parse_method"], "failed");
            assert!(ticket["metadata"]["parse_error"].is_string());
        }
        let messages = app.state.inbound.messages("sunbird", 10).await.unwrap();
        assert!(messages.iter().all(|m| m.state == "done"), "{messages:?}");
    }
}

#[tokio::test]
async fn a_failing_parser_plugin_falls_back_to_the_built_in_one_when_asked() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = app.sunbird().await;
    activate_broken_parser(&app, "fallback_default").await;
    let eml = simple_email(
        "fb@x",
        "sunbird@inbound.caravan.test",
        "Zanzibar [panic]",
        "Hi, 2 adults to Zanzibar from 12 to 19 March 2027 please.",
    );
    app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
        .await
        .expect(StatusCode::OK);
    app.drain_inbound().await;
    let tickets = tickets(&app, &login).await;
    let ticket = &tickets[0];
    assert_eq!(
        ticket["metadata"]["parsed_details"]["destination"],
        "Zanzibar"
    );
    assert_eq!(ticket["metadata"]["plugin"]["version"], "default");
    assert!(
        ticket["metadata"]["plugin"]["fallback_from"].is_string(),
        "{ticket}"
    );
}

#[tokio::test]
async fn a_worker_that_dies_between_steps_is_resumed_without_repeating_anything() {
    let steps = [
        "parse",
        "ticket",
        "notify",
        "quote",
        "pdf",
        "email",
        "follow_up",
    ];
    for backend in backends() {
        for step in steps {
            let app = TestApp::with_config(backend, |c| c.inbound.lease_secs = 3).await;
            let login = app.sunbird().await;
            app.import_sample_rates(&login).await;
            app.request(axum::http::Method::PATCH, "/api/v1/admin/tenants/sunbird")
                .admin()
                .json(&json!({"quoting": {"auto_quote_inbound": true, "auto_send": true}}))
                .send()
                .await
                .expect(StatusCode::OK);
            app.create_user("sunbird", "second@sunbird.example", "consultant")
                .await;
            // A second host on the same database: the one that takes over.
            let other = app.second_host(|c| c.inbound.lease_secs = 3).await;
            // Compiled up front, so that no step outlasts the short lease of this test.
            for slot in caravan::plugins::Slot::ALL {
                app.state.plugins.default_component(slot).await.unwrap();
                other.state.plugins.default_component(slot).await.unwrap();
            }
            let (_, eml) = fixtures().into_iter().next().unwrap();
            app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
                .await
                .expect(StatusCode::OK);
            // The worker does the step's work, then dies before recording it.
            app.state.inbound.crash_after_step(Some(step));
            assert!(app.state.inbound.drain().await.is_err());
            // While its lease holds, nobody else takes the message.
            assert_eq!(other.state.inbound.drain().await.unwrap(), 0);
            tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
            // A restarted host picks it up once the lease is over and finishes it.
            assert_eq!(other.state.inbound.drain().await.unwrap(), 1, "{step}");
            let ctx = format!("{backend:?} crash after {step}");
            assert_eq!(tickets(&app, &login).await.len(), 1, "{ctx}: tickets");
            let notes = app.get("/api/v1/notifications").user(&login).send().await;
            let kinds: Vec<&str> = notes.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["type"].as_str().unwrap())
                .collect();
            assert_eq!(
                kinds,
                ["quote_request", "email_received"],
                "{ctx}: notifications"
            );
            let quotes = app.get("/api/v1/quotes").user(&login).send().await;
            assert_eq!(quotes.body["count"], 1, "{ctx}: quotes");
            let emails = app
                .state
                .storage
                .outbox
                .list_emails("sunbird", 100)
                .await
                .unwrap();
            assert_eq!(
                emails.iter().filter(|e| e.kind == "quote").count(),
                1,
                "{ctx}: quote emails"
            );
            let client = app
                .state
                .crm
                .client_by_email("sunbird", "priya.naidoo@example.net")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(client.quote_count, 1, "{ctx}: CRM");
            let messages = other.state.inbound.messages("sunbird", 10).await.unwrap();
            assert_eq!(messages[0].state, "done");
            assert_eq!(messages[0].attempts, 2);
            let recorded: Value = serde_json::from_str(&messages[0].steps).unwrap();
            for s in steps {
                assert!(recorded.get(s).is_some(), "{s} recorded in {recorded}");
            }
        }
    }
}

#[tokio::test]
async fn the_webhook_secret_is_required_when_configured() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.inbound.webhook_secret = Some(caravan::config::Secret::new("s3cret"));
    })
    .await;
    app.sunbird().await;
    let eml = simple_email("sec@x", "sunbird@inbound.caravan.test", "a", "b");
    let form = raw_form(&eml, "sunbird@inbound.caravan.test");
    app.post_email(WEBHOOK, &form)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.post_email(&format!("{WEBHOOK}?token=wrong"), &form)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.post_email(&format!("{WEBHOOK}?token=s3cret"), &form)
        .await
        .expect(StatusCode::OK);
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("sendgrid:s3cret");
    let res = app
        .post(WEBHOOK)
        .header("authorization", &format!("Basic {basic}"))
        .raw(&form.content_type(), form.body())
        .send()
        .await;
    res.expect(StatusCode::OK);
}

/// Every fixture email, posted the way SendGrid does, for a tenant that quotes and sends
/// automatically: the ticket, the enquiry, the quote and its lines, the PDF text and the
/// email with the PDF attached.
async fn check_automatic_quotes(backend: Backend, mode: &str) {
    let app = TestApp::new(backend).await;
    let login = app.sunbird().await;
    app.import_sample_rates(&login).await;
    app.request(axum::http::Method::PATCH, "/api/v1/admin/tenants/sunbird")
        .admin()
        .json(&json!({"quoting": {"auto_quote_inbound": true, "auto_send": true}}))
        .send()
        .await
        .expect(StatusCode::OK);
    let expected = expected();
    let mut receipts = Vec::new();
    for (name, eml) in fixtures() {
        let to = envelope_to(&eml);
        let form = if mode == "raw" {
            raw_form(&eml, &to)
        } else {
            parsed_form(&eml, &to)
        };
        let res = app.post_email(WEBHOOK, &form).await;
        res.expect(StatusCode::OK);
        receipts.push((name, res.body["diagnostic_id"].as_str().unwrap().to_owned()));
    }
    app.drain_inbound().await;
    let tickets = tickets(&app, &login).await;
    let quotes = app
        .get("/api/v1/quotes?limit=100")
        .user(&login)
        .send()
        .await;
    let quotes = quotes.body["data"].as_array().unwrap().clone();
    for (name, diagnostic_id) in &receipts {
        let want = &expected[name];
        let ticket = ticket_with_diagnostic(&tickets, diagnostic_id);
        let ctx = format!("{mode} {backend:?} {name}");
        let quote = quotes
            .iter()
            .find(|q| q["ticket_id"] == ticket["ticket_id"]);
        if want["is_enquiry"] == false {
            assert!(quote.is_none(), "{ctx}: no quote for a non-enquiry");
            continue;
        }
        let quote = quote.unwrap_or_else(|| panic!("{ctx}: no quote for {ticket}"));
        assert_eq!(quote["destination"], want["destination"], "{ctx}");
        assert_eq!(quote["customer_email"], want["customer_email"], "{ctx}");
        assert_eq!(quote["status"], "sent", "{ctx}");
        assert_eq!(quote["source"], "email", "{ctx}");
        if !want["check_in"].is_null() {
            assert_eq!(quote["check_in"], want["check_in"], "{ctx}");
        }
        let hotels = quote["hotels"].as_array().unwrap();
        assert!(!hotels.is_empty(), "{ctx}");
        assert_eq!(quote["total_price"], hotels[0]["total_price"], "{ctx}");
        for h in hotels {
            assert!(!h["lines"].as_array().unwrap().is_empty(), "{ctx}: lines");
            assert!(h["total_price"].as_f64().unwrap() > 0.0, "{ctx}");
        }
        // The ticket was resolved by the quote.
        let detail = app
            .get(&format!(
                "/api/v1/inbound/tickets/{}",
                ticket["ticket_id"].as_str().unwrap()
            ))
            .user(&login)
            .send()
            .await;
        assert_eq!(detail.body["data"]["status"], "resolved", "{ctx}");
        // The email to the customer carries the PDF, whose text names them and the hotels.
        let quote_id = quote["quote_id"].as_str().unwrap();
        let (_, raw) = app
            .last_email_of("sunbird", want["customer_email"].as_str().unwrap(), "quote")
            .await
            .unwrap_or_else(|| panic!("{ctx}: no quote email"));
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        use mail_parser::MimeHeaders;
        let pdf = message
            .attachments()
            .find(|a| a.attachment_name() == Some(&format!("Quote_{quote_id}.pdf")))
            .unwrap_or_else(|| panic!("{ctx}: no PDF attached"))
            .contents()
            .to_vec();
        let text = support::pdf_text(&pdf);
        assert!(text.contains(quote_id), "{ctx}: {text}");
        assert!(
            text.contains(want["customer_name"].as_str().unwrap()),
            "{ctx}: {text}"
        );
        for h in hotels {
            assert!(
                text.contains(h["hotel_name"].as_str().unwrap()),
                "{ctx}: {} not in {text}",
                h["hotel_name"]
            );
        }
    }
    // Every message finished every step.
    for message in app.state.inbound.messages("sunbird", 100).await.unwrap() {
        assert_eq!(message.state, "done", "{message:?}");
    }
}

#[tokio::test]
async fn every_fixture_email_posted_raw_is_quoted_automatically() {
    for backend in backends() {
        check_automatic_quotes(backend, "raw").await;
    }
}

#[tokio::test]
async fn every_fixture_email_posted_parsed_is_quoted_automatically() {
    for backend in backends() {
        check_automatic_quotes(backend, "parsed").await;
    }
}

#[tokio::test]
async fn the_webhook_is_rate_limited_per_sender_address() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.rate_limits.inbound_per_minute = 2;
    })
    .await;
    app.sunbird().await;
    let post = |n: u32, ip: &'static str| {
        let eml = simple_email(
            &format!("rl{n}{ip}@x"),
            "sunbird@inbound.caravan.test",
            "a",
            "b",
        );
        let form = raw_form(&eml, "sunbird@inbound.caravan.test");
        app.post(WEBHOOK)
            .from_ip(ip)
            .raw(&form.content_type(), form.body())
            .send()
    };
    post(1, "203.0.113.7").await.expect(StatusCode::OK);
    post(2, "203.0.113.7").await.expect(StatusCode::OK);
    let limited = post(3, "203.0.113.7").await;
    limited.expect(StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    post(4, "198.51.100.9").await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_step_that_meets_an_outage_is_retried_with_backoff_and_done_once() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| {
            // Long enough that a loaded machine reaches the "not due yet" check in time.
            c.inbound.initial_backoff_ms = 1_000;
            c.inbound.max_backoff_ms = 2_000;
        })
        .await;
        let login = app.sunbird().await;
        let (_, eml) = fixtures().into_iter().next().unwrap();
        app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
            .await
            .expect(StatusCode::OK);
        app.state.inbound.fail_step_transiently("ticket", 2);
        assert_eq!(app.drain_inbound().await, 1);
        let message = &app.state.inbound.messages("sunbird", 1).await.unwrap()[0];
        assert_eq!(message.state, "pending", "waiting for its retry");
        assert!(
            message
                .last_error
                .as_deref()
                .unwrap()
                .contains("unavailable")
        );
        assert!(message.next_attempt_at > message.received_at);
        assert_eq!(app.drain_inbound().await, 0, "not due yet");
        let mut attempts = 1;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while app.state.inbound.messages("sunbird", 1).await.unwrap()[0].state != "done" {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            attempts += app.drain_inbound().await;
            assert!(attempts <= 5, "retried too often");
            assert!(std::time::Instant::now() < deadline, "never retried");
        }
        let message = &app.state.inbound.messages("sunbird", 1).await.unwrap()[0];
        assert_eq!(message.attempts, 3);
        assert_eq!(message.last_error, None);
        assert_eq!(tickets(&app, &login).await.len(), 1, "the ticket made once");
    }
}

#[tokio::test]
async fn a_message_out_of_attempts_is_kept_as_failed() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.inbound.initial_backoff_ms = 10;
        c.inbound.max_backoff_ms = 10;
        c.inbound.max_attempts = 2;
    })
    .await;
    app.sunbird().await;
    let (_, eml) = fixtures().into_iter().next().unwrap();
    app.post_email(WEBHOOK, &raw_form(&eml, "sunbird@inbound.caravan.test"))
        .await
        .expect(StatusCode::OK);
    app.state.inbound.fail_step_transiently("parse", 100);
    app.drain_inbound().await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    app.drain_inbound().await;
    let message = &app.state.inbound.messages("sunbird", 1).await.unwrap()[0];
    assert_eq!(message.state, "failed");
    assert_eq!(message.attempts, 2);
    assert!(message.last_error.is_some());
    let status = app.get("/webhooks/email/status").admin().send().await;
    assert_eq!(
        status.body["data"]["messages"]["failed"], 1,
        "{}",
        status.body
    );
}
