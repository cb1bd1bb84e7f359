//! The walls between tenants and between kinds of callers, checked on every registered route
//! (`caravan::http::route_table`), so a route added later is covered without editing this file.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use caravan::http::routes::{Access, RouteInfo};
use serde_json::{Value, json};
use support::{Login, PASSWORD, TestApp, TestResponse, backends};

/// Fills a path template from `ids`; a placeholder without a value fails the test, so a new
/// kind of resource must bring a fixture of tenant B here before its routes can pass.
fn fill(route: &RouteInfo, ids: &HashMap<&str, String>) -> String {
    let mut path = String::new();
    let mut rest = route.path.as_str();
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        let value = ids.get(name).unwrap_or_else(|| {
            panic!(
                "{} {}: no fixture for `{{{name}}}`; add one to the isolation test",
                route.method, route.path
            )
        });
        path.push_str(&rest[..start]);
        path.push_str(value);
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    path
}

/// Path parameters that name a tenant's own resource (as opposed to a slot name).
fn names_a_resource(route: &RouteInfo) -> bool {
    [
        "{user_id}",
        "{invitation_id}",
        "{ticket_id}",
        "{notification_id}",
        "{rate_id}",
        "{hotel_name}",
        "{quote_id}",
        "{document_id}",
    ]
    .iter()
    .any(|p| route.path.contains(p))
}

async fn call(
    app: &TestApp,
    route: &RouteInfo,
    path: &str,
    login: Option<&Login>,
    client_id: &str,
    body: &Value,
) -> TestResponse {
    let mut call = app.request(route.method.clone(), path);
    if let Some(login) = login {
        call = call.bearer(&login.access_token);
    }
    if !client_id.is_empty() {
        call = call.header("x-client-id", client_id);
    }
    if [Method::POST, Method::PUT, Method::PATCH].contains(&route.method) {
        call = call.json(body);
    }
    call.send().await
}

struct TenantB {
    admin: Login,
    ids: HashMap<&'static str, String>,
    markers: Vec<String>,
}

/// A tenant with one resource of each kind; returns its admin and the path ids.
async fn tenant_with_resources(
    app: &TestApp,
    tenant: &str,
) -> (Login, HashMap<&'static str, String>) {
    let admin = app.tenant_with_user(tenant, "admin").await;
    let consultant = app
        .create_user(
            tenant,
            &format!("secret-consultant@{tenant}.test"),
            "consultant",
        )
        .await;
    let res = app
        .post("/api/v1/users/invite")
        .user(&admin)
        .json(&json!({"email": format!("invitee@{tenant}.test"), "name": "Invitee"}))
        .send()
        .await;
    res.expect(StatusCode::OK);
    app.put("/api/v1/plugins/pricing/config")
        .user(&admin)
        .json(&json!({"markup_note": format!("{tenant}-private-markup")}))
        .send()
        .await
        .expect(StatusCode::OK);
    // An enquiry by email: a ticket, and a notification for each of the tenant's users.
    let eml = format!(
        "From: Secret Customer <secret-customer@{tenant}.test>\r\nTo: quotes@{tenant}.test\r\n\
         Subject: {tenant} private enquiry\r\nMessage-ID: <{tenant}@example.net>\r\n\r\n\
         2 adults to Zanzibar in March\r\n"
    );
    let form = support::sendgrid::raw_form(eml.as_bytes(), &format!("quotes@{tenant}.test"));
    app.post_email(&format!("/webhooks/email/inbound/{tenant}"), &form)
        .await
        .expect(StatusCode::OK);
    app.drain_inbound().await;
    let tickets = app.get("/api/v1/inbound/tickets").user(&admin).send().await;
    let ticket_id = tickets.body["data"][0]["ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notes = app.get("/api/v1/notifications").user(&admin).send().await;
    let notification_id = notes.body["data"][0]["id"].as_str().unwrap().to_owned();
    let rate = app
        .post("/api/v1/pricing/rates")
        .user(&admin)
        .json(&json!({
            "hotel_name": format!("{tenant} Hideaway Lodge"),
            "destination": format!("{tenant} Atoll"),
            "room_type": "Overwater Villa", "meal_plan": "AI",
            "check_in_date": "2027-01-01", "check_out_date": "2027-12-31",
            "nights": 7, "total_7nights_pps": 7777.0,
        }))
        .send()
        .await;
    rate.expect(StatusCode::CREATED);
    let quote = app
        .post("/api/v1/quotes/create-with-items")
        .user(&admin)
        .json(&json!({
            "inquiry": {"name": "Secret Customer", "email": format!("secret-customer@{tenant}.test"),
                        "destination": format!("{tenant} Atoll")},
            "line_items": [{"type": "hotel", "name": format!("{tenant} Hideaway Lodge"), "price": 7777.0}],
            "save_as_draft": true,
        }))
        .send()
        .await;
    quote.expect(StatusCode::OK);
    let document = app
        .upload_document(
            &admin,
            &format!("{tenant}-handbook.md"),
            format!("# {tenant} handbook\n\nThe {tenant} private lagoon gate code is 4471.\n")
                .as_bytes(),
            &[("visibility", "private")],
        )
        .await;
    document.expect(StatusCode::OK);
    app.drain_knowledge().await;
    let ids = HashMap::from([
        (
            "quote_id",
            quote.body["quote_id"].as_str().unwrap().to_owned(),
        ),
        (
            "document_id",
            document.body["data"]["document_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        ("ticket_id", ticket_id),
        ("notification_id", notification_id),
        ("user_id", consultant["id"].as_str().unwrap().to_owned()),
        (
            "invitation_id",
            res.body["invitation"]["id"].as_str().unwrap().to_owned(),
        ),
        ("slot", "pricing".to_owned()),
        ("tenant_id", tenant.to_owned()),
        (
            "rate_id",
            rate.body["data"]["rate_id"].as_str().unwrap().to_owned(),
        ),
        // Not a path parameter: the rate's row id, looked for in responses as a marker.
        (
            "rate_row_id",
            rate.body["data"]["id"].as_str().unwrap().to_owned(),
        ),
        ("hotel_name", format!("{tenant}%20Hideaway%20Lodge")),
    ]);
    (admin, ids)
}

async fn tenant_b(app: &TestApp) -> TenantB {
    let (admin, ids) = tenant_with_resources(app, "tenant-b").await;
    let user_id = ids["user_id"].clone();
    let invitation_id = ids["invitation_id"].clone();
    let markers = vec![
        "tenant-b".to_owned(),
        user_id,
        invitation_id,
        ids["rate_id"].clone(),
        ids["rate_row_id"].clone(),
        admin.user_id.clone(),
        "secret-consultant@tenant-b".to_owned(),
        "invitee@tenant-b".to_owned(),
        "tenant-b-private-markup".to_owned(),
        ids["ticket_id"].clone(),
        ids["quote_id"].clone(),
        ids["document_id"].clone(),
        "tenant-b private lagoon".to_owned(),
        ids["notification_id"].clone(),
        "secret-customer@tenant-b".to_owned(),
        "tenant-b private enquiry".to_owned(),
    ];
    TenantB {
        admin,
        ids,
        markers,
    }
}

/// What tenant B can see of itself, to prove nothing changed.
async fn snapshot(app: &TestApp, b: &Login) -> Value {
    let mut out = json!({});
    for path in [
        "/api/v1/users",
        "/api/v1/users/invitations",
        "/api/v1/plugins/pricing/config",
        "/api/v1/auth/me",
        "/api/v1/pricing/rates?is_active=all",
        "/api/v1/pricing/stats",
        "/api/v1/knowledge/documents",
    ] {
        let res = app.get(path).user(b).send().await;
        res.expect(StatusCode::OK);
        let mut body = res.body.clone();
        // Login times move whenever B signs in; they are not data A could have changed.
        strip(&mut body, "last_login_at");
        out[path] = body;
    }
    out
}

fn strip(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|v| strip(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, key)),
        _ => {}
    }
}

fn assert_no_b_data(what: &str, res: &TestResponse, markers: &[String]) {
    let text = res.body.to_string();
    for marker in markers {
        assert!(
            !text.contains(marker.as_str()),
            "{what} leaked `{marker}`: {text}"
        );
    }
}

#[tokio::test]
async fn tenant_a_cannot_reach_tenant_b_through_any_tenant_scoped_route() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| {
            c.rate_limits.tenant_mismatch_limit = 100_000;
        })
        .await;
        let b = tenant_b(&app).await;
        let before = snapshot(&app, &b.admin).await;
        let (_, a_ids) = tenant_with_resources(&app, "tenant-a").await;

        let b_body = json!({
            "tenant_id": "tenant-b", "client_id": "tenant-b",
            "user_id": b.ids["user_id"], "id": b.ids["user_id"],
            "invitation_id": b.ids["invitation_id"], "version_id": b.ids["invitation_id"],
            "rate_id": b.ids["rate_id"], "hotel_name": "tenant-b Hideaway Lodge",
            "email": "secret-consultant@tenant-b.test",
        });
        let routes: Vec<RouteInfo> = caravan::http::route_table()
            .into_iter()
            .filter(|r| r.access.is_tenant_scoped())
            .collect();
        assert!(
            routes.len() >= 15,
            "only {} tenant-scoped routes",
            routes.len()
        );
        for route in &routes {
            let b_path = fill(route, &b.ids);
            let a_path = fill(route, &a_ids);
            let with_query = format!("{a_path}?tenant_id=tenant-b&client_id=tenant-b");
            // A fresh session each time: some routes end or change the caller's session.
            let a = app.login("admin@tenant-a.test", PASSWORD).await;
            let what = format!("{} {}", route.method, route.path);

            // B named in X-Client-ID: refused before anything runs.
            let res = call(&app, route, &b_path, Some(&a), "tenant-b", &b_body).await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "{what} with X-Client-ID B: {}",
                res.body
            );

            // B's ids in the path, with an otherwise acceptable body.
            if names_a_resource(route) {
                let res = call(&app, route, &b_path, Some(&a), "tenant-a", &json!({})).await;
                assert!(
                    [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&res.status),
                    "{what} with B's ids: {} {}",
                    res.status,
                    res.body
                );
                assert_no_b_data(&what, &res, &b.markers);
            }

            // A's own resources, with B named in the query and the body. A route may store
            // and echo what it was sent (a plugin configuration is free-form), so only what
            // the request did not carry counts as B's data here.
            let res = call(&app, route, &with_query, Some(&a), "tenant-a", &b_body).await;
            assert!(
                !res.status.is_server_error(),
                "{what}: {} {}",
                res.status,
                res.body
            );
            let sent = b_body.to_string();
            let unsent: Vec<String> = b
                .markers
                .iter()
                .filter(|m| !sent.contains(m.as_str()))
                .cloned()
                .collect();
            assert!(unsent.len() >= 3);
            assert_no_b_data(&what, &res, &unsent);
        }
        assert_eq!(
            snapshot(&app, &b.admin).await,
            before,
            "tenant B's data changed"
        );
        app.login("secret-consultant@tenant-b.test", PASSWORD).await;
    }
}

#[tokio::test]
async fn admin_routes_need_the_admin_token_and_tenant_routes_need_a_user() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("tenant-a", "admin").await;
        app.create_user("tenant-a", "con@tenant-a.test", "consultant")
            .await;
        let consultant = app.login("con@tenant-a.test", PASSWORD).await;
        let ids = HashMap::from([
            ("user_id", consultant.user_id.clone()),
            (
                "invitation_id",
                "00000000-0000-0000-0000-000000000000".to_owned(),
            ),
            ("slot", "pricing".to_owned()),
            ("tenant_id", "tenant-a".to_owned()),
            ("ticket_id", "TKT-20270101-000000".to_owned()),
            ("quote_id", "QT-20270101-000000".to_owned()),
            ("document_id", "DOC-00000000".to_owned()),
            (
                "notification_id",
                "00000000-0000-0000-0000-000000000000".to_owned(),
            ),
            ("rate_id", "RATE-00000000".to_owned()),
            ("hotel_name", "Nowhere%20Inn".to_owned()),
        ]);
        let body = json!({});
        for route in caravan::http::route_table() {
            let path = fill(&route, &ids);
            let what = format!("{} {}", route.method, route.path);
            match route.access {
                Access::Public => {}
                Access::Platform => {
                    // A tenant admin's token alone is not the platform token.
                    let res = call(&app, &route, &path, Some(&admin), "tenant-a", &body).await;
                    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {}", res.body);
                }
                Access::User | Access::Admin => {
                    let res = app
                        .request(route.method.clone(), &path)
                        .admin()
                        .send()
                        .await;
                    assert_eq!(
                        res.status,
                        StatusCode::UNAUTHORIZED,
                        "{what} with the admin token"
                    );
                    let res = call(&app, &route, &path, None, "", &body).await;
                    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what} anonymously");
                    if route.access == Access::Admin {
                        let res =
                            call(&app, &route, &path, Some(&consultant), "tenant-a", &body).await;
                        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what} as consultant");
                        assert_eq!(res.detail(), "Admin access required");
                    }
                }
            }
        }
    }
}
