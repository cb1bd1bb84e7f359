//! The triage API (`/api/v1/inbound/tickets*`) and the notifications API, through HTTP.

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::sendgrid::raw_form;
use support::{Backend, Login, TestApp, backends};

/// Sunbird with one enquiry received by email and processed.
async fn sunbird_with_enquiry(app: &TestApp) -> (Login, String) {
    let login = app.sunbird().await;
    let eml = b"From: Priya Naidoo <priya@example.net>\r\nTo: sunbird@inbound.caravan.test\r\n\
Subject: Zanzibar in March\r\nMessage-ID: <t1@example.net>\r\nDate: Tue, 02 Feb 2027 10:00:00 +0200\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHi, 2 adults to Zanzibar from 12 to 19 March 2027.\r\n";
    app.post_email(
        "/webhooks/email/inbound",
        &raw_form(eml, "sunbird@inbound.caravan.test"),
    )
    .await
    .expect(StatusCode::OK);
    app.drain_inbound().await;
    let res = app.get("/api/v1/inbound/tickets").user(&login).send().await;
    let id = res.body["data"][0]["ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (login, id)
}

#[tokio::test]
async fn tickets_list_with_stats_and_filters() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (login, _) = sunbird_with_enquiry(&app).await;
        let res = app
            .post("/api/v1/inbound/tickets/seed")
            .user(&login)
            .send()
            .await;
        assert_eq!(
            res.body["count"], 0,
            "a tenant with tickets gets no demo tickets"
        );
        let res = app
            .get("/api/v1/inbound/tickets?status=open&limit=1")
            .user(&login)
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["count"], 1);
        assert_eq!(res.body["stats"]["open"], 1);
        assert_eq!(res.body["stats"]["total"], 1);
        assert_eq!(res.body["stats"]["closed"], 0);
        let res = app
            .get("/api/v1/inbound/tickets?status=closed")
            .user(&login)
            .send()
            .await;
        assert_eq!(res.body["count"], 0);
        assert_eq!(res.body["stats"]["total"], 1, "stats count every ticket");
        let res = app
            .get("/api/v1/inbound/tickets?priority=high")
            .user(&login)
            .send()
            .await;
        assert_eq!(res.body["count"], 1);
        for bad in ["status=pending", "priority=meh", "limit=101", "limit=0"] {
            app.get(&format!("/api/v1/inbound/tickets?{bad}"))
                .user(&login)
                .send()
                .await
                .expect(StatusCode::UNPROCESSABLE_ENTITY);
        }
        let stats = app.get("/api/v1/inbound/stats").user(&login).send().await;
        assert_eq!(stats.body["data"]["open"], 1);
    }
}

#[tokio::test]
async fn a_ticket_moves_only_along_the_triage_map() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (login, id) = sunbird_with_enquiry(&app).await;
        let path = format!("/api/v1/inbound/tickets/{id}");
        let detail = app.get(&path).user(&login).send().await;
        detail.expect(StatusCode::OK);
        assert_eq!(detail.body["data"]["conversation"], json!([]));
        assert_eq!(
            detail.body["data"]["metadata"]["parsed_details"]["destination"],
            "Zanzibar"
        );
        let patch = |status: &str| json!({"status": status, "notes": format!("to {status}")});
        let res = app
            .patch(&path)
            .user(&login)
            .json(&patch("in_progress"))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["status"], "in_progress");
        assert_eq!(res.body["data"]["notes"], "to in_progress");
        app.patch(&path)
            .user(&login)
            .json(&patch("open"))
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        app.patch(&path)
            .user(&login)
            .json(&patch("archived"))
            .send()
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        app.patch(&path)
            .user(&login)
            .json(&patch("resolved"))
            .send()
            .await
            .expect(StatusCode::OK);
        app.patch(&path)
            .user(&login)
            .json(&patch("closed"))
            .send()
            .await
            .expect(StatusCode::OK);
        app.patch(&path)
            .user(&login)
            .json(&patch("in_progress"))
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        app.get("/api/v1/inbound/tickets/TKT-20270101-ABCDEF")
            .user(&login)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_reply_is_emailed_to_the_customer_and_kept_in_the_conversation() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (login, id) = sunbird_with_enquiry(&app).await;
        let res = app
            .post(&format!("/api/v1/inbound/tickets/{id}/reply"))
            .user(&login)
            .json(&json!({"message": "Thanks Priya, a quote follows today."}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["conversation"][0]["role"], "agent");
        assert_eq!(
            res.body["conversation"][0]["content"],
            "Thanks Priya, a quote follows today."
        );
        let text = app
            .last_email_to("sunbird", "priya@example.net")
            .await
            .expect("the reply was emailed");
        assert!(text.contains("a quote follows today"), "{text}");
        assert!(text.contains("Subject: Re: Zanzibar in March"), "{text}");
        let detail = app
            .get(&format!("/api/v1/inbound/tickets/{id}"))
            .user(&login)
            .send()
            .await;
        assert_eq!(detail.body["data"]["status"], "in_progress");
        app.post(&format!("/api/v1/inbound/tickets/{id}/reply"))
            .user(&login)
            .json(&json!({"message": "  "}))
            .send()
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn another_tenant_cannot_see_or_touch_the_tickets() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (_, id) = sunbird_with_enquiry(&app).await;
    let other = app.tenant_with_user("other-agency", "admin").await;
    let res = app.get("/api/v1/inbound/tickets").user(&other).send().await;
    assert_eq!(res.body["count"], 0);
    assert_eq!(res.body["stats"]["total"], 0);
    app.get(&format!("/api/v1/inbound/tickets/{id}"))
        .user(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    app.patch(&format!("/api/v1/inbound/tickets/{id}"))
        .user(&other)
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn demo_tickets_are_seeded_only_for_an_empty_tenant() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("fresh", "admin").await;
        let res = app
            .post("/api/v1/inbound/tickets/seed")
            .user(&login)
            .send()
            .await;
        assert_eq!(res.body["count"], 5);
        let again = app
            .post("/api/v1/inbound/tickets/seed")
            .user(&login)
            .send()
            .await;
        assert_eq!(again.body["count"], 0);
        let list = app.get("/api/v1/inbound/tickets").user(&login).send().await;
        assert_eq!(list.body["stats"]["total"], 5);
    }
}

#[tokio::test]
async fn notifications_are_listed_counted_and_marked_read() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let (login, ticket_id) = sunbird_with_enquiry(&app).await;
        let count = app
            .get("/api/v1/notifications/unread-count")
            .user(&login)
            .send()
            .await;
        assert_eq!(count.body["unread_count"], 1);
        let list = app.get("/api/v1/notifications").user(&login).send().await;
        list.expect(StatusCode::OK);
        assert_eq!(list.body["total"], 1);
        assert_eq!(list.body["limit"], 20);
        assert_eq!(list.body["offset"], 0);
        let n = &list.body["data"][0];
        assert_eq!(n["type"], "email_received");
        assert_eq!(n["entity_id"], ticket_id.as_str());
        assert_eq!(n["time_ago"], "Just now");
        assert_eq!(n["read"], false);
        assert!(
            n["message"]
                .as_str()
                .unwrap()
                .starts_with("New inquiry from Priya Naidoo <priya@example.net>: Zanzibar - "),
            "{n}"
        );
        let id = n["id"].as_str().unwrap();
        for _ in 0..2 {
            app.patch(&format!("/api/v1/notifications/{id}/read"))
                .user(&login)
                .send()
                .await
                .expect(StatusCode::OK);
        }
        let unread = app
            .get("/api/v1/notifications?unread_only=true")
            .user(&login)
            .send()
            .await;
        assert_eq!(unread.body["total"], 0);
        app.patch("/api/v1/notifications/00000000-0000-0000-0000-000000000000/read")
            .user(&login)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        let all = app
            .post("/api/v1/notifications/mark-all-read")
            .user(&login)
            .send()
            .await;
        all.expect(StatusCode::OK);
        // The user got an email copy (email_email_received is on by default).
        assert!(
            app.last_email_to("sunbird", "consultant@sunbird.example")
                .await
                .is_some()
        );
        // Another tenant's user sees none of it.
        let other = app.tenant_with_user("other-agency", "admin").await;
        let theirs = app.get("/api/v1/notifications").user(&other).send().await;
        assert_eq!(theirs.body["total"], 0);
        app.patch(&format!("/api/v1/notifications/{id}/read"))
            .user(&other)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn notification_preferences_have_defaults_and_are_validated() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("prefs", "consultant").await;
        let res = app
            .get("/api/v1/notifications/preferences")
            .user(&login)
            .send()
            .await;
        res.expect(StatusCode::OK);
        let prefs = &res.body["data"];
        assert_eq!(prefs["email_quote_request"], true);
        assert_eq!(prefs["email_client_added"], false);
        assert_eq!(prefs["email_digest_enabled"], false);
        assert_eq!(prefs["email_digest_frequency"], "daily");
        let res = app
            .put("/api/v1/notifications/preferences")
            .user(&login)
            .json(&json!({"email_email_received": false, "email_digest_frequency": "weekly"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["email_email_received"], false);
        let again = app
            .get("/api/v1/notifications/preferences")
            .user(&login)
            .send()
            .await;
        assert_eq!(again.body["data"]["email_digest_frequency"], "weekly");
        assert_eq!(again.body["data"]["email_quote_request"], true);
        app.put("/api/v1/notifications/preferences")
            .user(&login)
            .json(&json!({}))
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        for bad in [
            json!({"email_quote_request": "yes"}),
            json!({"email_digest_frequency": "monthly"}),
            json!({"favourite_colour": true}),
        ] {
            let res: Value = app
                .put("/api/v1/notifications/preferences")
                .user(&login)
                .json(&bad)
                .send()
                .await
                .body;
            assert!(res["detail"].is_array(), "{bad}: {res}");
        }
    }
}
