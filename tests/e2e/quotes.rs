//! Quotes through HTTP: generation by the tenant's plugins over its rates, the PDF, the
//! email with the PDF attached, drafts, status changes, cart quotes, the CRM client and the
//! public PDF link.

use axum::http::StatusCode;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};
use support::{Backend, Login, TestApp, backends, pdf_text};

async fn sunbird_with_rates(app: &TestApp) -> Login {
    let login = app.sunbird().await;
    app.import_sample_rates(&login).await;
    login
}

fn inquiry(destination: &str) -> Value {
    json!({
        "name": "Priya Naidoo",
        "email": "priya.naidoo@example.net",
        "phone": "+27825550147",
        "destination": destination,
        "check_in": "2027-03-12",
        "check_out": "2027-03-19",
        "adults": 2,
        "children": 0,
    })
}

async fn generate(app: &TestApp, login: &Login, body: Value) -> support::TestResponse {
    let res = app
        .post("/api/v1/quotes/generate")
        .user(login)
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res
}

/// The attachment named `filename` in a MIME message.
fn attachment(raw: &[u8], filename: &str) -> Vec<u8> {
    let message = MessageParser::default().parse(raw).unwrap();
    message
        .attachments()
        .find(|a| a.attachment_name() == Some(filename))
        .unwrap_or_else(|| panic!("no attachment {filename}"))
        .contents()
        .to_vec()
}

#[tokio::test]
async fn a_generated_quote_is_priced_rendered_emailed_and_filed() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = sunbird_with_rates(&app).await;
        let res = generate(&app, &login, json!({"inquiry": inquiry("zanzibar")})).await;
        assert_eq!(res.body["success"], true, "{}", res.body);
        let quote_id = res.body["quote_id"].as_str().unwrap().to_owned();
        let re = regex_lite(&quote_id);
        assert!(re, "{quote_id}");
        assert_eq!(res.body["status"], "sent");
        assert_eq!(res.body["email_sent"], true);
        assert_eq!(res.body["crm_added"], true);
        let quote = &res.body["quote"];
        assert_eq!(
            quote["destination"], "Zanzibar",
            "the tenant's own spelling"
        );
        assert_eq!(quote["nights"], 7);
        assert_eq!(quote["currency"], "ZAR");
        let hotels = quote["hotels"].as_array().unwrap();
        assert!((1..=3).contains(&hotels.len()), "{hotels:?}");
        assert_eq!(res.body["hotels_count"], hotels.len());
        // The quote's total is the first option's, never a sum of the alternatives.
        assert_eq!(quote["total_price"], hotels[0]["total_price"]);
        assert!(hotels[0]["total_price"].as_f64().unwrap() > 0.0);
        assert!(!hotels[0]["lines"].as_array().unwrap().is_empty());
        assert!(hotels[0]["rate_id"].as_str().unwrap().starts_with("RATE-"));
        assert!(quote["consultant_id"].is_string());

        // The PDF: downloadable, and its text names the customer, hotels and totals.
        let pdf = app
            .get(&format!("/api/v1/quotes/{quote_id}/pdf"))
            .user(&login)
            .send()
            .await;
        pdf.expect(StatusCode::OK);
        assert_eq!(pdf.header("content-type"), Some("application/pdf"));
        assert!(
            pdf.header("content-disposition")
                .unwrap()
                .contains(&format!("attachment; filename=\"Quote_{quote_id}.pdf\""))
        );
        let text = pdf_text(&pdf.bytes);
        assert!(text.contains("Priya Naidoo"), "{text}");
        assert!(text.contains(&quote_id), "{text}");
        for h in hotels {
            let name = h["hotel_name"].as_str().unwrap();
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(text.contains("Sunbird Safaris"));

        // The public link serves the same PDF inline, without a session.
        let public = app
            .get(&format!(
                "/api/v1/public/quotes/{}/pdf",
                quote_id.to_lowercase()
            ))
            .send()
            .await;
        public.expect(StatusCode::OK);
        assert!(
            public
                .header("content-disposition")
                .unwrap()
                .starts_with("inline")
        );
        for bad in ["QT-2027-XYZ", "../../etc/passwd", "QT-20270101-ZZZZZZ"] {
            app.get(&format!("/api/v1/public/quotes/{bad}/pdf"))
                .send()
                .await
                .expect(StatusCode::NOT_FOUND);
        }
        app.get("/api/v1/public/quotes/QT-20270101-ABCDEF/pdf")
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);

        // The email carries the same PDF.
        let (record, raw) = app
            .last_email_of("sunbird", "priya.naidoo@example.net", "quote")
            .await
            .expect("the quote was emailed");
        assert_eq!(record.status, "queued", "kept in the outbox by default");
        let attached = attachment(&raw, &format!("Quote_{quote_id}.pdf"));
        assert!(pdf_text(&attached).contains("Priya Naidoo"));

        // The CRM knows the customer; a second quote moves them to NEGOTIATING.
        let client = app
            .state
            .crm
            .client_by_email("sunbird", "priya.naidoo@example.net")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.pipeline_stage, "QUOTED");
        assert_eq!(client.quote_count, 1);
        assert_eq!(client.source, "quote");
        generate(
            &app,
            &login,
            json!({"inquiry": inquiry("Mauritius"), "send_email": false}),
        )
        .await;
        let client = app
            .state
            .crm
            .client_by_email("sunbird", "priya.naidoo@example.net")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.pipeline_stage, "NEGOTIATING");
        assert_eq!(client.quote_count, 2);
        let activities = app.state.crm.activities("sunbird", &client).await.unwrap();
        assert_eq!(activities.len(), 2);
        assert!(
            activities
                .iter()
                .all(|a| a.activity_type == "quote_generated")
        );

        // Everyone is told.
        let notes = app.get("/api/v1/notifications").user(&login).send().await;
        let requests: Vec<&Value> = notes.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == "quote_request")
            .collect();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1]["entity_type"], "quote");
    }
}

fn regex_lite(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && parts[0] == "QT"
        && parts[1].len() == 8
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[2].len() == 6
        && parts[2]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

#[tokio::test]
async fn no_matching_rate_is_a_soft_failure() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = sunbird_with_rates(&app).await;
    let res = generate(&app, &login, json!({"inquiry": inquiry("Antarctica")})).await;
    assert_eq!(res.body["success"], false);
    assert_eq!(res.body["status"], "no_availability");
    assert_eq!(
        res.body["error"],
        "No available hotels found for Antarctica"
    );
    let list = app.get("/api/v1/quotes").user(&login).send().await;
    assert_eq!(list.body["count"], 0);
}

#[tokio::test]
async fn invalid_inquiries_are_422_with_every_field_named() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = sunbird_with_rates(&app).await;
    let res = app
        .post("/api/v1/quotes/generate")
        .user(&login)
        .json(&json!({"inquiry": {
            "name": "X", "email": "not-an-email", "destination": "Zanzibar",
            "check_in": "12/03/2027", "adults": 0,
        }}))
        .send()
        .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = res.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][2].as_str().unwrap())
        .collect();
    for f in ["name", "email", "adults", "check_in"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
}

#[tokio::test]
async fn a_draft_is_kept_until_sent_and_a_resend_keeps_the_status() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = sunbird_with_rates(&app).await;
        let res = generate(
            &app,
            &login,
            json!({"inquiry": inquiry("Cape Town"), "save_as_draft": true}),
        )
        .await;
        assert_eq!(res.body["status"], "draft", "{}", res.body);
        assert_eq!(res.body["email_sent"], false);
        let id = res.body["quote_id"].as_str().unwrap().to_owned();
        assert!(
            app.last_email_of("sunbird", "priya.naidoo@example.net", "quote")
                .await
                .is_none()
        );
        let sent = app
            .post(&format!("/api/v1/quotes/{id}/send"))
            .user(&login)
            .send()
            .await;
        sent.expect(StatusCode::OK);
        assert_eq!(sent.body["status"], "sent");
        assert_eq!(
            sent.body["message"],
            "Quote sent to priya.naidoo@example.net"
        );
        let again = app
            .post(&format!("/api/v1/quotes/{id}/send"))
            .user(&login)
            .send()
            .await;
        again.expect(StatusCode::BAD_REQUEST);
        assert_eq!(
            again.detail(),
            "Quote is not a draft (current status: sent)"
        );
        let resent = app
            .post(&format!("/api/v1/quotes/{id}/resend"))
            .user(&login)
            .send()
            .await;
        resent.expect(StatusCode::OK);
        assert_eq!(resent.body["email_sent"], true);
        let emails = app
            .state
            .storage
            .outbox
            .list_emails("sunbird", 100)
            .await
            .unwrap();
        assert_eq!(emails.iter().filter(|e| e.kind == "quote").count(), 2);
        let detail = app
            .get(&format!("/api/v1/quotes/{id}"))
            .user(&login)
            .send()
            .await;
        assert_eq!(detail.body["data"]["status"], "sent");
        assert!(detail.body["data"]["sent_at"].is_string());
        assert_eq!(
            detail.body["data"]["email_sent_at"],
            detail.body["data"]["sent_at"]
        );
    }
}

#[tokio::test]
async fn quotes_are_listed_searched_changed_and_deleted() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = sunbird_with_rates(&app).await;
        let a = generate(
            &app,
            &login,
            json!({"inquiry": inquiry("Zanzibar"), "send_email": false}),
        )
        .await;
        let mut other = inquiry("Mauritius");
        other["name"] = json!("Mark Odendaal");
        other["email"] = json!("mark@example.org");
        generate(&app, &login, json!({"inquiry": other, "send_email": false})).await;
        let list = app.get("/api/v1/quotes?limit=1").user(&login).send().await;
        assert_eq!(list.body["count"], 1);
        assert_eq!(
            list.body["data"][0]["customer_name"], "Mark Odendaal",
            "newest first"
        );
        let found = app
            .get("/api/v1/quotes?search=zanz")
            .user(&login)
            .send()
            .await;
        assert_eq!(found.body["count"], 1);
        let by_email = app
            .get("/api/v1/quotes?customer_email=mark@example.org")
            .user(&login)
            .send()
            .await;
        assert_eq!(by_email.body["count"], 1);
        let quoted = app
            .get("/api/v1/quotes?status=quoted")
            .user(&login)
            .send()
            .await;
        assert_eq!(quoted.body["count"], 2);
        app.get("/api/v1/quotes?limit=101")
            .user(&login)
            .send()
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);

        let id = a.body["quote_id"].as_str().unwrap();
        let path = format!("/api/v1/quotes/{id}");
        let patched = app
            .patch(&path)
            .user(&login)
            .json(&json!({"status": "accepted", "customer_phone": "+27820000000"}))
            .send()
            .await;
        patched.expect(StatusCode::OK);
        assert_eq!(patched.body["data"]["status"], "accepted");
        assert!(patched.body["data"]["accepted_at"].is_string());
        app.patch(&path)
            .user(&login)
            .json(&json!({"status": "draft"}))
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        app.patch(&path)
            .user(&login)
            .json(&json!({"status": "lost"}))
            .send()
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        app.delete(&path)
            .user(&login)
            .send()
            .await
            .expect(StatusCode::OK);
        app.get(&path)
            .user(&login)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_quote_for_a_ticket_resolves_it() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = sunbird_with_rates(&app).await;
    app.post("/api/v1/inbound/tickets/seed")
        .user(&login)
        .send()
        .await
        .expect(StatusCode::OK);
    let tickets = app.get("/api/v1/inbound/tickets").user(&login).send().await;
    let ticket_id = tickets.body["data"][0]["ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = generate(
        &app,
        &login,
        json!({"inquiry": inquiry("Zanzibar"), "ticket_id": ticket_id}),
    )
    .await;
    assert_eq!(res.body["ticket_resolved"], true, "{}", res.body);
    let ticket = app
        .get(&format!("/api/v1/inbound/tickets/{ticket_id}"))
        .user(&login)
        .send()
        .await;
    assert_eq!(ticket.body["data"]["status"], "resolved");
    assert_eq!(
        ticket.body["data"]["notes"],
        format!(
            "Quote {} generated and sent to customer",
            res.body["quote_id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn a_cart_quote_sums_each_currency_on_its_own() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.sunbird().await;
        let res = app
            .post("/api/v1/quotes/create-with-items")
            .user(&login)
            .json(&json!({
                "inquiry": {"name": "Ana Silva", "email": "ana@example.org", "destination": "Multiple"},
                "line_items": [
                    {"type": "hotel", "name": "Coral Cove", "price": 12000.0, "quantity": 2},
                    {"type": "activity", "name": "Sunset dhow", "price": 85.0, "currency": "USD", "quantity": 2},
                    {"type": "transfer", "name": "Airport transfer", "price": 950.0},
                ],
                "save_as_draft": true,
            }))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert!(res.body["quote_id"].as_str().unwrap().starts_with("QUO-"));
        assert_eq!(res.body["totals"]["ZAR"], 24950.0);
        assert_eq!(res.body["totals"]["USD"], 170.0);
        assert_eq!(res.body["quote"]["total_price"], 24950.0);
        assert_eq!(res.body["is_draft"], true);
        assert_eq!(res.body["items_count"], 3);
        let bad = app
            .post("/api/v1/quotes/create-with-items")
            .user(&login)
            .json(&json!({
                "inquiry": {"name": "Ana Silva", "email": "ana@example.org", "destination": "Multiple"},
                "line_items": [{"type": "spaceship", "name": "", "price": -1.0}],
            }))
            .send()
            .await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let client = app
            .state
            .crm
            .client_by_email("sunbird", "ana@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.source, "shopping_cart");
    }
}

#[tokio::test]
async fn another_tenant_cannot_read_or_change_a_quote() {
    let app = TestApp::new(Backend::Sqlite).await;
    let login = sunbird_with_rates(&app).await;
    let res = generate(
        &app,
        &login,
        json!({"inquiry": inquiry("Zanzibar"), "send_email": false}),
    )
    .await;
    let id = res.body["quote_id"].as_str().unwrap();
    let other = app.tenant_with_user("other-agency", "admin").await;
    for path in [
        format!("/api/v1/quotes/{id}"),
        format!("/api/v1/quotes/{id}/pdf"),
    ] {
        app.get(&path)
            .user(&other)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
    app.post(&format!("/api/v1/quotes/{id}/resend"))
        .user(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    let list = app.get("/api/v1/quotes").user(&other).send().await;
    assert_eq!(list.body["count"], 0);
}

/// A 1×1 PNG.
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

#[tokio::test]
async fn quotes_go_out_under_the_tenants_identity_with_its_logo() {
    use base64::Engine;
    let app = TestApp::new(Backend::Sqlite).await;
    let login = sunbird_with_rates(&app).await;
    app.request(axum::http::Method::PATCH, "/api/v1/admin/tenants/sunbird")
        .admin()
        .json(&json!({"email": {
            "from_name": "Sunbird Quotes",
            "from_email": "quotes@sunbird.example",
            "reply_to": "desk@sunbird.example",
        }}))
        .send()
        .await
        .expect(StatusCode::OK);
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap();
    app.put("/api/v1/admin/tenants/sunbird/logo")
        .admin()
        .raw("image/png", png)
        .send()
        .await
        .expect(StatusCode::OK);
    let bad = app
        .put("/api/v1/admin/tenants/sunbird/logo")
        .admin()
        .raw("image/png", "not an image")
        .send()
        .await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
    let res = generate(&app, &login, json!({"inquiry": inquiry("Zanzibar")})).await;
    let quote_id = res.body["quote_id"].as_str().unwrap();
    let (record, raw) = app
        .last_email_of("sunbird", "priya.naidoo@example.net", "quote")
        .await
        .unwrap();
    assert_eq!(record.from_address, "quotes@sunbird.example");
    let message = MessageParser::default().parse(&raw).unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Sunbird Quotes"));
    assert_eq!(
        message.reply_to().unwrap().first().unwrap().address(),
        Some("desk@sunbird.example")
    );
    // The logo is drawn in the PDF.
    let pdf = attachment(&raw, &format!("Quote_{quote_id}.pdf"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let images = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&file)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&images.stdout);
    let drawn = listing
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("image"))
        .count();
    assert_eq!(drawn, 1, "one image: {listing}");
}

#[tokio::test]
async fn public_pdf_links_are_rate_limited_per_address() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.rate_limits.public_pdf_per_minute = 2;
    })
    .await;
    for _ in 0..2 {
        app.get("/api/v1/public/quotes/QT-20270101-ABCDEF/pdf")
            .from_ip("203.0.113.5")
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
    app.get("/api/v1/public/quotes/QT-20270101-ABCDEF/pdf")
        .from_ip("203.0.113.5")
        .send()
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
}
