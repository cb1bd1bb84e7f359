//! Sign-in, sessions and tokens over HTTP, on every backend.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caravan::accounts::model::Role;
use caravan::accounts::tokens::{Claims, JwtKeys};
use serde_json::{Value, json};
use support::{Login, PASSWORD, TestApp, backends};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims_for(login: &Login, exp: u64, nbf: u64) -> Claims {
    Claims {
        sub: login.user_id.clone(),
        tenant_id: login.tenant_id.clone(),
        role: Role::Admin,
        exp,
        iat: now(),
        nbf,
        jti: "test".into(),
        sid: "no-such-session".into(),
    }
}

async fn me(app: &TestApp, token: &str) -> support::TestResponse {
    app.get("/api/v1/auth/me").bearer(token).send().await
}

#[tokio::test]
async fn login_returns_tokens_and_the_user_the_dashboard_stores() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.create_tenant("sunbird", json!({})).await;
        app.create_user("sunbird", "Thandi@Sunbird.test", "admin")
            .await;
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "thandi@sunbird.test", "password": PASSWORD, "tenant_id": null}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        let body = &res.body;
        assert_eq!(body["success"], true);
        assert!(body["expires_at"].as_u64().unwrap() > now() + 800);
        let user = &body["user"];
        for field in [
            "id",
            "auth_user_id",
            "email",
            "name",
            "role",
            "tenant_id",
            "is_active",
        ] {
            assert!(!user[field].is_null(), "user.{field} missing: {user}");
        }
        assert_eq!(user["email"], "thandi@sunbird.test");
        assert_eq!(user["tenant_id"], "sunbird");
        assert_eq!(user["role"], "admin");
        assert!(user.get("password_hash").is_none());

        let token = body["access_token"].as_str().unwrap();
        let res = me(&app, token).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["success"], true);
        assert_eq!(res.body["user"]["email"], "thandi@sunbird.test");
        assert!(!res.body["user"]["last_login_at"].is_null());
    }
}

#[tokio::test]
async fn a_refused_login_is_a_soft_failure_that_does_not_reveal_the_address() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.tenant_with_user("sunbird", "admin").await;
        let mut answers = Vec::new();
        for (email, password) in [
            ("admin@sunbird.test", "wrong password"),
            ("nobody@sunbird.test", PASSWORD),
        ] {
            let res = app
                .post("/api/v1/auth/login")
                .json(&json!({"email": email, "password": password, "tenant_id": null}))
                .send()
                .await;
            res.expect(StatusCode::OK);
            assert_eq!(res.body["success"], false);
            answers.push(res.body["error"].clone());
        }
        assert_eq!(answers[0], "Invalid email or password");
        assert_eq!(answers[0], answers[1]);

        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "not-an-address", "password": "x"}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.body["detail"][0]["loc"], json!(["body", "email"]));
    }
}

#[tokio::test]
async fn an_address_with_two_memberships_signs_in_where_asked_else_where_last_used() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        for t in ["first", "second"] {
            app.create_tenant(t, json!({})).await;
            app.create_user(t, "pat@agency.test", "consultant").await;
        }
        let login = |tenant: Value| {
            app.post("/api/v1/auth/login")
                .json(
                    &json!({"email": "pat@agency.test", "password": PASSWORD, "tenant_id": tenant}),
                )
                .send()
        };
        let res = login(json!("second")).await;
        assert_eq!(res.body["user"]["tenant_id"], "second");
        let res = login(json!(null)).await;
        assert_eq!(
            res.body["user"]["tenant_id"], "second",
            "most recent login wins"
        );
        let res = login(json!("first")).await;
        assert_eq!(res.body["user"]["tenant_id"], "first");
        let res = login(json!(null)).await;
        assert_eq!(res.body["user"]["tenant_id"], "first");
    }
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_whole_session() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.auth.refresh_grace_secs = 0).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        // Public: no Authorization needed, a stale one is ignored, X-Client-ID is ignored.
        let res = app
            .post("/api/v1/auth/refresh")
            .bearer("stale.token.value")
            .header("x-client-id", "someone-else")
            .json(&json!({"refresh_token": login.refresh_token}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        let second = res.body["refresh_token"].as_str().unwrap().to_owned();
        let access = res.body["access_token"].as_str().unwrap().to_owned();
        assert_ne!(second, login.refresh_token);
        me(&app, &access).await.expect(StatusCode::OK);

        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        // The first token again, after the grace period: someone copied it.
        let res = app
            .post("/api/v1/auth/refresh")
            .json(&json!({"refresh_token": login.refresh_token}))
            .send()
            .await;
        res.expect(StatusCode::UNAUTHORIZED);
        assert!(res.detail().contains("refresh token"), "{}", res.body);
        // The whole family is gone: the newest refresh token and the session's access tokens.
        app.post("/api/v1/auth/refresh")
            .json(&json!({"refresh_token": second}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED);
        me(&app, &access).await.expect(StatusCode::UNAUTHORIZED);
        me(&app, &login.access_token)
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_both_succeed_within_the_grace_period() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        for _ in 0..2 {
            let res = app
                .post("/api/v1/auth/refresh")
                .json(&json!({"refresh_token": login.refresh_token}))
                .send()
                .await;
            res.expect(StatusCode::OK);
            assert_eq!(res.body["success"], true);
        }
        for bad in ["", "garbage", &"x".repeat(5000)] {
            app.post("/api/v1/auth/refresh")
                .json(&json!({"refresh_token": bad}))
                .send()
                .await
                .expect(StatusCode::UNAUTHORIZED);
        }
    }
}

#[tokio::test]
async fn logout_ends_the_session_for_its_access_and_refresh_tokens() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        let other = app.login("admin@sunbird.test", PASSWORD).await;
        let res = app.post("/api/v1/auth/logout").user(&login).send().await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["success"], true);
        let res = me(&app, &login.access_token).await;
        res.expect(StatusCode::UNAUTHORIZED);
        app.post("/api/v1/auth/refresh")
            .json(&json!({"refresh_token": login.refresh_token}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED);
        // Another session of the same user is untouched.
        me(&app, &other.access_token).await.expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_get_401() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        let keys = app.state.accounts.keys();
        let payload = login.access_token.split('.').nth(1).unwrap().to_owned();
        let signature = login.access_token.split('.').nth(2).unwrap().to_owned();
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
        claims["tenant_id"] = json!("someone-else");
        claims["role"] = json!("admin");
        let tampered = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let header = login.access_token.split('.').next().unwrap();
        let wrong_key = JwtKeys::from_secret(&[9; 32])
            .sign(&claims_for(&login, now() + 600, now()))
            .unwrap();
        let expired = keys
            .sign(&claims_for(&login, now() - 120, now() - 600))
            .unwrap();
        let future = keys
            .sign(&claims_for(&login, now() + 900, now() + 300))
            .unwrap();
        let cases = [
            ("alg none", format!("{none}.{payload}.")),
            ("alg none, no signature", format!("{none}.{payload}")),
            (
                "tampered claims",
                format!("{header}.{tampered}.{signature}"),
            ),
            ("wrong key", wrong_key),
            ("expired", expired),
            ("not yet valid", future),
            ("garbage", "a.b.c".to_owned()),
        ];
        for (what, token) in cases {
            let res = me(&app, &token).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {}", res.body);
            assert!(!res.detail().is_empty(), "{what}");
        }
        for header in [
            format!("Basic {}", login.access_token),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer {} extra", login.access_token),
            login.access_token.clone(),
        ] {
            let res = app
                .get("/api/v1/auth/me")
                .header("authorization", &header)
                .send()
                .await;
            assert_eq!(
                res.status,
                StatusCode::UNAUTHORIZED,
                "{header}: {}",
                res.body
            );
        }
        let res = app.get("/api/v1/auth/me").send().await;
        res.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(res.detail(), "Not authenticated");
    }
}

#[tokio::test]
async fn tokens_of_deactivated_users_and_deleted_or_suspended_tenants_stop_working() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        app.create_user("sunbird", "con@sunbird.test", "consultant")
            .await;
        let consultant = app.login("con@sunbird.test", PASSWORD).await;

        app.delete(&format!("/api/v1/users/{}", consultant.user_id))
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::OK);
        let res = me(&app, &consultant.access_token).await;
        res.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(res.detail(), "User account is deactivated");
        app.post("/api/v1/auth/refresh")
            .json(&json!({"refresh_token": consultant.refresh_token}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED);
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "con@sunbird.test", "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(res.body["success"], false);

        app.post("/api/v1/admin/tenants/sunbird/suspend")
            .admin()
            .json(&json!({"reason": "unpaid invoices"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let res = me(&app, &admin.access_token).await;
        res.expect(StatusCode::FORBIDDEN);
        assert_eq!(res.detail(), "Tenant account is suspended");
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "admin@sunbird.test", "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(res.body["error"], "Tenant account is suspended");
        app.post("/api/v1/admin/tenants/sunbird/activate")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        me(&app, &admin.access_token).await.expect(StatusCode::OK);

        app.delete("/api/v1/admin/tenants/sunbird?confirm=true")
            .admin()
            .send()
            .await
            .expect(StatusCode::OK);
        let res = me(&app, &admin.access_token).await;
        res.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(res.detail(), "User not found in this organization");
    }
}

#[tokio::test]
async fn a_mismatched_client_id_is_refused_and_repeated_mismatches_are_throttled() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        app.create_tenant("other", json!({})).await;
        for placeholder in ["", "null", "example", "sunbird"] {
            app.get("/api/v1/auth/me")
                .bearer(&login.access_token)
                .header("x-client-id", placeholder)
                .send()
                .await
                .expect(StatusCode::OK);
        }
        let mismatch = || {
            app.get("/api/v1/auth/me")
                .bearer(&login.access_token)
                .header("x-client-id", "other")
                .from_ip("203.0.113.7")
                .send()
        };
        for _ in 0..2 {
            let res = mismatch().await;
            res.expect(StatusCode::FORBIDDEN);
            assert_eq!(res.detail(), "Access denied: tenant mismatch");
        }
        let res = mismatch().await;
        res.expect(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.detail(), "Too many requests");
        assert_eq!(res.header("retry-after"), Some("1800"));
        // The address stays blocked for that tenant, even with the right header...
        let res = app
            .get("/api/v1/auth/me")
            .user(&login)
            .from_ip("203.0.113.7")
            .send()
            .await;
        res.expect(StatusCode::TOO_MANY_REQUESTS);
        // ...while other addresses are served.
        app.get("/api/v1/auth/me")
            .user(&login)
            .from_ip("203.0.113.8")
            .send()
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn profile_and_password_changes_apply_to_the_signed_in_user() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "consultant").await;
        let elsewhere = app.login("consultant@sunbird.test", PASSWORD).await;

        let res = app
            .patch("/api/v1/auth/profile")
            .user(&login)
            .json(&json!({"name": "Thandi Mokoena", "phone": "+27 82 123 4567"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["name"], "Thandi Mokoena");
        assert_eq!(res.body["user"]["tenant_id"], "sunbird");
        let res = app
            .patch("/api/v1/auth/profile")
            .user(&login)
            .json(&json!({}))
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "No updates provided");

        let res = app
            .post("/api/v1/auth/password/change")
            .user(&login)
            .json(&json!({"new_password": "short"}))
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert!(res.detail().contains("at least 8"), "{}", res.body);
        app.post("/api/v1/auth/password/change")
            .user(&login)
            .json(&json!({"new_password": "a much better passphrase"}))
            .send()
            .await
            .expect(StatusCode::OK);
        // The old password no longer works, the new one does; this session stays signed in
        // and the other session is ended.
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "consultant@sunbird.test", "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(res.body["success"], false);
        app.login("consultant@sunbird.test", "a much better passphrase")
            .await;
        me(&app, &login.access_token).await.expect(StatusCode::OK);
        me(&app, &elsewhere.access_token)
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_password_reset_link_works_once_and_never_reveals_accounts() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = app.tenant_with_user("sunbird", "admin").await;
        for email in ["admin@sunbird.test", "nobody@sunbird.test", "not an email"] {
            let res = app
                .post("/api/v1/auth/password/reset")
                .json(&json!({"email": email}))
                .send()
                .await;
            res.expect(StatusCode::OK);
            assert_eq!(res.body["success"], true);
        }
        let email = app
            .last_email_to("sunbird", "admin@sunbird.test")
            .await
            .unwrap();
        assert!(email.contains("/reset-password?token="), "{email}");
        assert!(email.contains("type=recovery"), "{email}");
        let token = app.emailed_token("sunbird", "admin@sunbird.test").await;

        let update = |token: String, password: &'static str| {
            app.post("/api/v1/auth/password/update")
                .json(&json!({"token": token, "new_password": password}))
                .send()
        };
        let res = update(token.clone(), "short").await;
        res.expect(StatusCode::BAD_REQUEST);
        update(token.clone(), "reset to something long")
            .await
            .expect(StatusCode::OK);
        let res = update(token.clone(), "and again something").await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "Invalid or expired reset token");
        update("unknown-token".into(), "whatever it is")
            .await
            .expect(StatusCode::BAD_REQUEST);
        app.login("admin@sunbird.test", "reset to something long")
            .await;
        // A reset ends every session that existed before it.
        me(&app, &login.access_token)
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn sql_metacharacters_in_login_fields_are_just_text() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.tenant_with_user("sunbird", "admin").await;
        for (email, password) in [
            ("admin@sunbird.test' OR '1'='1", PASSWORD),
            ("admin@sunbird.test", "' OR '1'='1' --"),
            (
                "x@y.z'; DROP TABLE users; --",
                "\"; DELETE FROM tenants; --",
            ),
        ] {
            let res = app
                .post("/api/v1/auth/login")
                .json(&json!({"email": email, "password": password, "tenant_id": "sunbird' --"}))
                .send()
                .await;
            assert!(
                res.status == StatusCode::UNPROCESSABLE_ENTITY
                    || (res.status == StatusCode::OK && res.body["success"] == false),
                "{email}: {} {}",
                res.status,
                res.body
            );
        }
        // Nothing was dropped or bypassed.
        app.login("admin@sunbird.test", PASSWORD).await;
    }
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.auth.reset_token_ttl_secs = 1).await;
        app.tenant_with_user("sunbird", "admin").await;
        app.post("/api/v1/auth/password/reset")
            .json(&json!({"email": "admin@sunbird.test"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let token = app.emailed_token("sunbird", "admin@sunbird.test").await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let res = app
            .post("/api/v1/auth/password/update")
            .json(&json!({"token": token, "new_password": "too late for this"}))
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "Invalid or expired reset token");
        app.login("admin@sunbird.test", PASSWORD).await;
    }
}
