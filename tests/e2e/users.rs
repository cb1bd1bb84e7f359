//! Users and invitations managed by a tenant's admins, and the first user of a new tenant.

use axum::http::StatusCode;
use serde_json::json;
use support::{PASSWORD, TestApp, backends};

#[tokio::test]
async fn a_new_tenant_invites_its_admin_address_and_the_invitation_makes_an_admin() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let created = app
            .create_tenant("sunbird", json!({"admin_email": "Owner@Sunbird.test"}))
            .await;
        assert_eq!(
            created["data"]["admin_invitation"]["email"],
            "owner@sunbird.test"
        );
        let email = app
            .last_email_to("sunbird", "owner@sunbird.test")
            .await
            .expect("an invitation in the outbox");
        assert!(email.contains("/accept-invite?token="), "{email}");
        assert!(
            email.contains("Subject: You are invited to join sunbird Travel"),
            "{email}"
        );
        let eml_files = std::fs::read_dir(app.state.accounts.mailer().dir().join("sunbird"))
            .unwrap()
            .count();
        assert_eq!(eml_files, 1);

        let token = app.emailed_token("sunbird", "owner@sunbird.test").await;
        let res = app
            .post(&format!("/api/v1/auth/invite/accept?token={token}"))
            .json(&json!({"password": "owner's own passphrase", "name": "Owner"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["role"], "admin");
        assert_eq!(res.body["user"]["tenant_id"], "sunbird");
        let login = app
            .login("owner@sunbird.test", "owner's own passphrase")
            .await;
        app.get("/api/v1/users")
            .user(&login)
            .send()
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test]
async fn invitations_can_be_listed_resent_revoked_and_accepted_once() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        let invite = |email: &'static str| {
            app.post("/api/v1/users/invite")
                .user(&admin)
                .json(&json!({"email": email, "name": "New Hire"}))
                .send()
        };
        let res = invite("hire@sunbird.test").await;
        res.expect(StatusCode::OK);
        let invitation = res.body["invitation"].clone();
        assert_eq!(invitation["role"], "consultant");
        let first_token = app.emailed_token("sunbird", "hire@sunbird.test").await;

        // The tenant's own admin address was invited when the tenant was created.
        let res = app
            .get("/api/v1/users/invitations")
            .user(&admin)
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["total"], 2);
        let emails: Vec<&str> = res.body["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["email"].as_str().unwrap())
            .collect();
        assert!(emails.contains(&"hire@sunbird.test"), "{emails:?}");

        // Resending issues a new token; the old link stops working.
        let id = invitation["id"].as_str().unwrap();
        app.post(&format!("/api/v1/users/invitations/{id}/resend"))
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::OK);
        let token = app.emailed_token("sunbird", "hire@sunbird.test").await;
        assert_ne!(token, first_token);
        let accept = |token: String, password: &'static str| {
            app.post(&format!("/api/v1/auth/invite/accept?token={token}"))
                .json(&json!({"password": password, "name": null}))
                .send()
        };
        let res = accept(first_token, "a long password").await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "Invalid or expired invitation");
        let res = accept(token.clone(), "short").await;
        res.expect(StatusCode::BAD_REQUEST);
        let res = accept(token.clone(), "a long password").await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["name"], "New Hire");
        let res = accept(token, "a long password").await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "Invitation already accepted");
        accept("never-issued".into(), "a long password")
            .await
            .expect(StatusCode::BAD_REQUEST);

        // An address the mailer could not write to is refused before anything is stored.
        for bad in ["a[b@sunbird.test", "x@su[nbird.test", "c@s,b.test"] {
            let res = invite(bad).await;
            res.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(res.body["detail"][0]["loc"], json!(["body", "email"]));
        }

        // An active user cannot be invited again; a pending invitation can be revoked once.
        let res = invite("hire@sunbird.test").await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "User with this email already exists");
        let res = invite("second@sunbird.test").await;
        let id = res.body["invitation"]["id"].as_str().unwrap().to_owned();
        let revoke = || {
            app.delete(&format!("/api/v1/users/invitations/{id}"))
                .user(&admin)
                .send()
        };
        revoke().await.expect(StatusCode::OK);
        revoke().await.expect(StatusCode::NOT_FOUND);
        let res = app
            .get("/api/v1/users/invitations")
            .user(&admin)
            .send()
            .await;
        assert_eq!(res.body["total"], 1, "{}", res.body);
    }
}

#[tokio::test]
async fn an_expired_invitation_says_so() {
    for backend in backends() {
        let app = TestApp::with_config(backend, |c| c.auth.invitation_ttl_secs = 1).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        app.post("/api/v1/users/invite")
            .user(&admin)
            .json(&json!({"email": "late@sunbird.test", "name": "Late"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let token = app.emailed_token("sunbird", "late@sunbird.test").await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let res = app
            .post(&format!("/api/v1/auth/invite/accept?token={token}"))
            .json(&json!({"password": "a long password"}))
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "Invitation has expired");
    }
}

#[tokio::test]
async fn accepting_for_an_existing_address_needs_its_current_password() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        app.create_user("sunbird", "old@sunbird.test", "consultant")
            .await;
        let old = app.login("old@sunbird.test", PASSWORD).await;
        app.delete(&format!("/api/v1/users/{}", old.user_id))
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::OK);
        app.post("/api/v1/users/invite")
            .user(&admin)
            .json(&json!({"email": "old@sunbird.test", "name": "Back", "role": "admin"}))
            .send()
            .await
            .expect(StatusCode::OK);
        let token = app.emailed_token("sunbird", "old@sunbird.test").await;
        let accept = |password: &'static str| {
            app.post(&format!("/api/v1/auth/invite/accept?token={token}"))
                .json(&json!({"password": password}))
                .send()
        };
        let res = accept("some other password").await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(
            res.detail(),
            "Email already registered with different password"
        );
        let res = accept(PASSWORD).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["id"], old.user_id.as_str());
        assert_eq!(res.body["user"]["role"], "admin");
        assert_eq!(res.body["user"]["is_active"], true);
    }
}

#[tokio::test]
async fn admins_manage_users_but_cannot_demote_or_deactivate_themselves() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        let con = app
            .create_user("sunbird", "con@sunbird.test", "consultant")
            .await;
        let con_id = con["id"].as_str().unwrap();
        let consultant = app.login("con@sunbird.test", PASSWORD).await;

        let res = app.get("/api/v1/users").user(&admin).send().await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["total"], 2);
        let res = app
            .get(&format!("/api/v1/users/{con_id}"))
            .user(&admin)
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["email"], "con@sunbird.test");
        app.get("/api/v1/users/00000000-0000-0000-0000-000000000000")
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);

        // Consultants cannot manage users.
        let res = app.get("/api/v1/users").user(&consultant).send().await;
        res.expect(StatusCode::FORBIDDEN);
        assert_eq!(res.detail(), "Admin access required");

        let patch = |id: String, body: serde_json::Value| {
            app.patch(&format!("/api/v1/users/{id}"))
                .user(&admin)
                .json(&body)
                .send()
        };
        let res = patch(
            con_id.to_owned(),
            json!({"role": "admin", "name": "Promoted"}),
        )
        .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["role"], "admin");
        // The promotion applies to the consultant's existing token.
        app.get("/api/v1/users")
            .user(&consultant)
            .send()
            .await
            .expect(StatusCode::OK);
        for (body, detail) in [
            (
                json!({"role": "owner"}),
                "Invalid role: must be 'admin' or 'consultant'",
            ),
            (json!({}), "No updates provided"),
        ] {
            let res = patch(con_id.to_owned(), body).await;
            res.expect(StatusCode::BAD_REQUEST);
            assert_eq!(res.detail(), detail);
        }
        let res = patch(admin.user_id.clone(), json!({"role": "consultant"})).await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "You cannot demote yourself");
        let res = app
            .delete(&format!("/api/v1/users/{}", admin.user_id))
            .user(&admin)
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        app.delete(&format!("/api/v1/users/{con_id}"))
            .user(&admin)
            .send()
            .await
            .expect(StatusCode::OK);
        let res = app.get("/api/v1/users").user(&admin).send().await;
        assert_eq!(res.body["total"], 1, "only active users are listed");
    }
}

#[tokio::test]
async fn sql_metacharacters_in_user_fields_are_stored_as_written() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.tenant_with_user("sunbird", "admin").await;
        let name = "Robert'); DROP TABLE users; --";
        let res = app
            .patch("/api/v1/auth/profile")
            .user(&admin)
            .json(&json!({"name": name}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["user"]["name"], name);
        let res = app
            .post("/api/v1/users/invite")
            .user(&admin)
            .json(&json!({"email": "x'--@sunbird.test", "name": "\" OR 1=1 --", "role": "consultant"}))
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["invitation"]["name"], "\" OR 1=1 --");
        let res = app
            .patch("/api/v1/users/1'%20OR%20'1'='1")
            .user(&admin)
            .json(&json!({"name": "x"}))
            .send()
            .await;
        res.expect(StatusCode::NOT_FOUND);
        let res = app.get("/api/v1/users").user(&admin).send().await;
        assert_eq!(res.body["users"][0]["name"], name);
    }
}

#[tokio::test]
async fn platform_admins_create_users_directly_with_the_password_policy() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.create_tenant("sunbird", json!({})).await;
        let res = app
            .post("/api/v1/admin/tenants/sunbird/users")
            .admin()
            .json(&json!({"email": "weak@sunbird.test", "password": "1234567"}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.body["detail"][0]["loc"], json!(["body", "password"]));
        app.create_user("sunbird", "first@sunbird.test", "admin")
            .await;
        let res = app
            .post("/api/v1/admin/tenants/sunbird/users")
            .admin()
            .json(&json!({"email": "first@sunbird.test", "password": PASSWORD}))
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
        // Without a password, the user is emailed a link to choose one.
        app.post("/api/v1/admin/tenants/sunbird/users")
            .admin()
            .json(&json!({"email": "nopass@sunbird.test", "role": "consultant"}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let email = app.last_email_to("sunbird", "nopass@sunbird.test").await;
        assert!(email.unwrap().contains("/reset-password?token="));
        let res = app
            .get("/api/v1/admin/tenants/sunbird/stats")
            .admin()
            .send()
            .await;
        assert_eq!(res.body["data"]["users_count"], 2, "{}", res.body);
        // The admin address's invitation and the new user's password link.
        assert_eq!(res.body["data"]["emails_sent"], 2, "{}", res.body);
        let res = app
            .get("/api/v1/admin/tenants/sunbird")
            .admin()
            .send()
            .await;
        let consultants = res.body["data"]["consultants"].as_array().unwrap();
        assert_eq!(consultants.len(), 2, "{}", res.body);
        app.post("/api/v1/admin/tenants/missing/users")
            .admin()
            .json(&json!({"email": "a@b.test", "password": PASSWORD}))
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}
