//! The platform-admin tenant API over HTTP, on every backend.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::json;
use support::{Backend, TestApp, backends};

async fn each_app<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        test(TestApp::new(backend).await).await;
    }
}

#[tokio::test]
async fn a_tenant_is_created_read_listed_and_updated() {
    each_app(|app| async move {
        let created = app
            .create_tenant(
                "sunbird",
                json!({
                    "company_name": "Sunbird Safaris",
                    "currency": "zar",
                    "timezone": "Africa/Johannesburg",
                    "plan": "standard",
                    "destinations": [
                        "Zanzibar",
                        {"name": "Kruger National Park", "aliases": ["Kruger", "Kruger Park"]}
                    ],
                    "inbound_addresses": ["Sunbird@Inbound.Caravan.Test"],
                    "primary_color": "#1a73e8",
                }),
            )
            .await;
        let data = &created["data"];
        assert_eq!(data["tenant_id"], "sunbird");
        assert_eq!(data["currency"], "ZAR", "currency normalised");
        assert_eq!(data["primary_color"], serde_json::Value::Null, "colour is under branding");
        assert_eq!(data["branding"]["primary_color"], "#1A73E8");
        assert_eq!(data["inbound_addresses"], json!(["sunbird@inbound.caravan.test"]));
        assert_eq!(data["destinations"][1]["code"], "KRUGER_NATIONAL_PARK");
        assert_eq!(data["destinations_count"], 2);

        let read = app.get("/api/v1/admin/tenants/sunbird").admin().send().await;
        read.expect(StatusCode::OK);
        assert_eq!(read.body["success"], true);
        assert_eq!(read.body["data"]["client"]["company_name"], "Sunbird Safaris");
        assert_eq!(read.body["data"]["destinations"][1]["aliases"], json!(["Kruger", "Kruger Park"]));

        let list = app.get("/api/v1/admin/tenants").admin().send().await;
        list.expect(StatusCode::OK);
        assert_eq!((list.body["count"].clone(), list.body["total"].clone()), (json!(1), json!(1)));
        assert_eq!(list.body["data"][0]["company_name"], "Sunbird Safaris");
        assert_eq!(list.body["data"][0]["quote_count"], 0);

        let patched = app
            .patch("/api/v1/admin/tenants/sunbird")
            .admin()
            .json(&json!({"company_name": "Sunbird Safaris Ltd", "support_email": "help@sunbird.example",
                          "limits": {"max_users": 12}}))
            .send()
            .await;
        patched.expect(StatusCode::OK);
        assert_eq!(patched.body["data"]["company_name"], "Sunbird Safaris Ltd");
        assert_eq!(patched.body["data"]["limits"]["max_users"], 12);
        assert_eq!(patched.body["data"]["limits"]["max_monthly_quotes"], 100, "untouched limit kept");
        assert_eq!(patched.body["data"]["destinations_count"], 2, "untouched fields kept");

        // An explicit null clears an optional field.
        let cleared = app
            .patch("/api/v1/admin/tenants/sunbird")
            .admin()
            .json(&json!({"support_email": null}))
            .send()
            .await;
        assert_eq!(cleared.body["data"]["support_email"], serde_json::Value::Null);

        let stats = app.get("/api/v1/admin/tenants/sunbird/stats").admin().send().await;
        stats.expect(StatusCode::OK);
        assert_eq!(stats.body["data"]["tenant_id"], "sunbird");
        assert_eq!(stats.body["data"]["quotes_count"], 0);
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_slug_is_a_conflict() {
    each_app(|app| async move {
        app.create_tenant("twice", json!({})).await;
        let res = app
            .post("/api/v1/admin/tenants")
            .admin()
            .json(&json!({"tenant_id": "twice", "company_name": "Again", "admin_email": "a@b.example"}))
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
        assert_eq!(res.detail(), "Tenant 'twice' already exists");
    })
    .await;
}

#[tokio::test]
async fn an_inbound_address_of_another_tenant_is_a_conflict() {
    each_app(|app| async move {
        app.create_tenant("owner", json!({"inbound_addresses": ["desk@in.example"]}))
            .await;
        let res = app
            .post("/api/v1/admin/tenants")
            .admin()
            .json(
                &json!({"tenant_id": "thief", "company_name": "Thief", "admin_email": "a@b.example",
                          "inbound_addresses": ["DESK@in.example"]}),
            )
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
        assert!(res.detail().contains("inbound address"), "{}", res.body);
        app.create_tenant("other", json!({})).await;
        let res = app
            .patch("/api/v1/admin/tenants/other")
            .admin()
            .json(&json!({"inbound_addresses": ["desk@in.example"]}))
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test]
async fn invalid_input_is_a_422_that_states_each_rule() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .json(
            &json!({"tenant_id": "Bad Slug!", "company_name": " ", "admin_email": "nope",
                      "currency": "XYZ", "timezone": "Mars/Olympus", "plan": "gold",
                      "primary_color": "blue"}),
        )
        .send()
        .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["code"], "validation_error");
    let fields: Vec<String> = res.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "tenant_id",
            "company_name",
            "admin_email",
            "timezone",
            "currency",
            "plan",
            "primary_color"
        ]
    );
    let slug_rule = res.body["detail"][0]["msg"].as_str().unwrap();
    assert!(
        slug_rule.contains("3–50") && slug_rule.contains("lower-case"),
        "{slug_rule}"
    );

    for slug in ["ab", "UPPER", "has space", &"x".repeat(51)] {
        let res = app
            .post("/api/v1/admin/tenants")
            .admin()
            .json(&json!({"tenant_id": slug, "company_name": "X", "admin_email": "a@b.example"}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn unknown_and_missing_fields_are_named() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .json(&json!({"tenant_id": "typo", "company_name": "T", "admin_email": "a@b.example", "curency": "USD"}))
        .send()
        .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["detail"][0]["loc"], json!(["body", "curency"]));
    assert_eq!(res.body["detail"][0]["type"], "extra_forbidden");

    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .json(&json!({"company_name": "T", "admin_email": "a@b.example"}))
        .send()
        .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["detail"][0]["loc"], json!(["body", "tenant_id"]));
    assert_eq!(res.body["detail"][0]["type"], "missing");

    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .json(&json!({"tenant_id": 42, "company_name": "T", "admin_email": "a@b.example"}))
        .send()
        .await;
    res.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["detail"][0]["loc"], json!(["body", "tenant_id"]));
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_are_rejected_clearly() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .raw("application/json", r#"{"tenant_id": "x","#)
        .send()
        .await;
    res.expect(StatusCode::BAD_REQUEST);
    assert_eq!(res.body["code"], "malformed_json");
    assert!(
        res.detail().starts_with("Malformed JSON body"),
        "{}",
        res.body
    );

    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .raw("text/plain", r#"{"tenant_id": "x"}"#)
        .send()
        .await;
    res.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(res.detail().contains("application/json"));

    // Nothing was created by either.
    let list = app.get("/api/v1/admin/tenants").admin().send().await;
    assert_eq!(list.body["total"], 0);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_that_states_the_limit() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.body_limit_bytes = 2 * 1024 * 1024).await;
    let mut big = br#"{"tenant_id": "big", "company_name": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    big.extend(br#"", "admin_email": "a@b.example"}"#);
    let res = app
        .post("/api/v1/admin/tenants")
        .admin()
        .raw("application/json", Bytes::from(big))
        .send()
        .await;
    res.expect(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.detail(), "Request body too large. Maximum size: 2 MB");
}

#[tokio::test]
async fn the_admin_token_is_required_and_checked() {
    let app = TestApp::new(Backend::Sqlite).await;
    let res = app.get("/api/v1/admin/tenants").send().await;
    res.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(res.detail(), "X-Admin-Token header required");

    let res = app
        .get("/api/v1/admin/tenants")
        .header("x-admin-token", "test-admin-tokeN")
        .send()
        .await;
    res.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(res.detail(), "Invalid admin token");

    let res = app
        .get("/api/v1/admin/health")
        .header("x-admin-token", "")
        .send()
        .await;
    res.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_a_configured_token_the_admin_api_is_unavailable() {
    let app = TestApp::with_config(Backend::Sqlite, |c| c.admin_token = None).await;
    let res = app.get("/api/v1/admin/tenants").admin().send().await;
    res.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.detail().contains("CARAVAN_ADMIN_TOKEN"), "{}", res.body);
}

#[tokio::test]
async fn an_unknown_tenant_is_a_404_everywhere() {
    each_app(|app| async move {
        let paths = [
            ("GET", "/api/v1/admin/tenants/ghost", None),
            (
                "PATCH",
                "/api/v1/admin/tenants/ghost",
                Some(json!({"company_name": "Boo"})),
            ),
            ("GET", "/api/v1/admin/tenants/ghost/stats", None),
            (
                "POST",
                "/api/v1/admin/tenants/ghost/suspend",
                Some(json!({"reason": "unpaid bills"})),
            ),
            ("POST", "/api/v1/admin/tenants/ghost/activate", None),
            ("DELETE", "/api/v1/admin/tenants/ghost?confirm=true", None),
        ];
        for (method, path, body) in paths {
            let mut call = app.request(method.parse().unwrap(), path).admin();
            if let Some(body) = body {
                call = call.json(&body);
            }
            let res = call.send().await;
            res.expect(StatusCode::NOT_FOUND);
            assert_eq!(res.detail(), "Tenant 'ghost' not found", "{method} {path}");
        }
    })
    .await;
}

#[tokio::test]
async fn suspension_needs_a_reason_and_activation_lifts_it() {
    each_app(|app| async move {
        app.create_tenant("paused", json!({})).await;
        let res = app
            .post("/api/v1/admin/tenants/paused/suspend")
            .admin()
            .json(&json!({"reason": "no"}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let res = app
            .post("/api/v1/admin/tenants/paused/suspend")
            .admin()
            .json(&json!({}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);

        let res = app
            .post("/api/v1/admin/tenants/paused/suspend")
            .admin()
            .json(&json!({"reason": "Payment overdue by 60 days"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["status"], "suspended");
        assert_eq!(res.body["tenant_id"], "paused");
        let read = app.get("/api/v1/admin/tenants/paused").admin().send().await;
        assert_eq!(read.body["data"]["status"], "suspended");
        assert_eq!(
            read.body["data"]["suspended_reason"],
            "Payment overdue by 60 days"
        );
        let only = app
            .get("/api/v1/admin/tenants?status=suspended")
            .admin()
            .send()
            .await;
        assert_eq!(only.body["total"], 1);

        // The dashboard sends Content-Type: application/json with an empty body.
        let res = app
            .post("/api/v1/admin/tenants/paused/activate")
            .admin()
            .raw("application/json", "")
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["status"], "active");
        let read = app.get("/api/v1/admin/tenants/paused").admin().send().await;
        assert_eq!(
            read.body["data"]["suspended_reason"],
            serde_json::Value::Null
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_rows_and_files_and_nothing_else() {
    each_app(|app| async move {
        app.create_tenant(
            "doomed",
            json!({"inbound_addresses": ["doomed@in.example"]}),
        )
        .await;
        app.create_tenant("neighbour", json!({"inbound_addresses": ["n@in.example"]}))
            .await;
        let blobs = &app.state.blobs;
        for (tenant, name) in [
            ("doomed", "quotes/QT-1.pdf"),
            ("doomed", "logo.png"),
            ("neighbour", "logo.png"),
        ] {
            let path = caravan::blobs::Blobs::tenant_path(tenant, name).unwrap();
            blobs
                .put(&path, Bytes::from_static(b"%PDF-1.7"))
                .await
                .unwrap();
        }

        let res = app
            .delete("/api/v1/admin/tenants/doomed")
            .admin()
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert!(res.detail().contains("confirm=true"));
        let res = app
            .delete("/api/v1/admin/tenants/doomed?confirm=false")
            .admin()
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);

        let res = app
            .delete("/api/v1/admin/tenants/doomed?confirm=true")
            .admin()
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["tenant_id"], "doomed");

        for (table, n) in app
            .state
            .storage
            .schema
            .count_tenant_rows("doomed")
            .await
            .unwrap()
        {
            assert_eq!(n, 0, "{table} keeps rows of the deleted tenant");
        }
        assert!(
            blobs.list_tenant("doomed").await.unwrap().is_empty(),
            "files remain"
        );
        assert_eq!(blobs.list_tenant("neighbour").await.unwrap().len(), 1);
        app.get("/api/v1/admin/tenants/doomed")
            .admin()
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        app.get("/api/v1/admin/tenants/neighbour")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        // The address is free again.
        app.create_tenant(
            "reborn",
            json!({"inbound_addresses": ["doomed@in.example"]}),
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = TestApp::new(Backend::Sqlite).await;
    for query in [
        "limit=0",
        "limit=101",
        "status=deleted",
        "sort_by=password",
        "sort_order=up",
        "limit=ten",
    ] {
        let res = app
            .get(&format!("/api/v1/admin/tenants?{query}"))
            .admin()
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.body["detail"][0]["loc"][0], "query", "{query}");
    }
    for query in [
        "limit=1&offset=0",
        "sort_by=company_name&sort_order=asc",
        "status=all&search=x",
    ] {
        app.get(&format!("/api/v1/admin/tenants?{query}"))
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn the_admin_health_is_a_bare_object_with_tenant_counts() {
    each_app(|app| async move {
        app.create_tenant("one", json!({})).await;
        app.create_tenant("two", json!({})).await;
        app.post("/api/v1/admin/tenants/two/suspend")
            .admin()
            .json(&json!({"reason": "testing suspension"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let res = app.get("/api/v1/admin/health").admin().send().await;
        res.expect(StatusCode::OK);
        assert!(res.body.get("success").is_none(), "bare object");
        assert_eq!(res.body["status"], "healthy");
        assert_eq!(res.body["total_tenants"], 2);
        assert_eq!(res.body["active_tenants"], 1);
        assert_eq!(res.body["database_status"], "connected");
    })
    .await;
}

#[tokio::test]
async fn deleting_a_tenant_forgets_its_vector_index_and_snapshot() {
    let app = support::TestApp::new(support::Backend::Sqlite).await;
    app.create_tenant("vectored", serde_json::json!({})).await;
    app.state
        .vectors
        .rebuild(
            "vectored",
            3,
            None,
            vec![(1, vec![1.0, 0.0, 0.0]), (2, vec![0.0, 1.0, 0.0])],
        )
        .await
        .unwrap();
    assert!(
        app.state
            .vectors
            .status("vectored")
            .await
            .unwrap()
            .is_some()
    );
    app.delete("/api/v1/admin/tenants/vectored?confirm=true")
        .admin()
        .send()
        .await
        .expect(axum::http::StatusCode::OK);
    assert!(
        app.state
            .vectors
            .status("vectored")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.state
            .blobs
            .list_tenant("vectored")
            .await
            .unwrap()
            .is_empty()
    );
}
