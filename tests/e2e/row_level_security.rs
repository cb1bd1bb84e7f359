//! PostgreSQL row-level security: the second wall behind every query's tenant filter.

use axum::http::StatusCode;
use caravan::storage::{Backend, ConnectOptions, Storage};
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};
use support::{TestApp, postgres_url};

async fn two_tenants_with_data() -> Option<TestApp> {
    postgres_url()?;
    let app = TestApp::new(Backend::Postgres).await;
    for t in ["wall-a", "wall-b"] {
        let admin = app.tenant_with_user(t, "admin").await;
        app.post("/api/v1/users/invite")
            .user(&admin)
            .json(&json!({"email": format!("new@{t}.test"), "name": "New"}))
            .send()
            .await
            .expect(StatusCode::OK);
        app.put("/api/v1/plugins/pricing/config")
            .user(&admin)
            .json(&json!({"note": t}))
            .send()
            .await
            .expect(StatusCode::OK);
        app.post("/api/v1/pricing/rates")
            .user(&admin)
            .json(&json!({
                "hotel_name": format!("{t} Lodge"), "destination": "Zanzibar",
                "room_type": "Double", "meal_plan": "HB",
                "check_in_date": "2027-01-01", "check_out_date": "2027-03-31",
                "nights": 7, "total_7nights_pps": 7000,
            }))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
    Some(app)
}

#[tokio::test]
async fn every_tenant_owned_table_is_guarded() {
    let Some(app) = two_tenants_with_data().await else {
        return;
    };
    let schema = &app.state.storage.schema;
    let owned = schema.tenant_owned_tables().await.unwrap();
    assert!(owned.len() >= 10, "{owned:?}");
    assert_eq!(
        schema.tables_without_row_security().await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn an_unscoped_query_through_the_application_role_sees_no_tenant_rows() {
    let Some(app) = two_tenants_with_data().await else {
        return;
    };
    let mut conn = PgConnection::connect(&app.db.url).await.unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(role, caravan::testing::APP_ROLE);
    let tables = app
        .state
        .storage
        .schema
        .tenant_owned_tables()
        .await
        .unwrap();
    // Deliberately unscoped: no tenant filter, no setting.
    for table in &tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            table.name
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(n, 0, "{} shows rows to an unscoped query", table.name);
    }

    // Scoped to one tenant, a query without a filter sees that tenant only...
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('caravan.tenant_id', 'wall-a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query("SELECT tenant_id FROM users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row.get::<String, _>("tenant_id"), "wall-a");
    }
    // ...and cannot write another tenant's rows.
    let err = sqlx::query(
        "INSERT INTO plugin_settings (tenant_id, slot, config, failure_policy, updated_at) \
         VALUES ('wall-b', 'quote-rules', '{}', 'fail_closed', now())",
    )
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // The superuser sees everything: the rows are there, the wall is what hid them.
    let mut admin = PgConnection::connect(&app.db.admin_url().unwrap())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT tenant_id) FROM users")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn the_server_refuses_to_run_as_a_role_that_bypasses_row_level_security() {
    let Some(url) = postgres_url() else {
        return;
    };
    let err = Storage::connect(&ConnectOptions::new(&url))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("superuser"), "{err}");
    assert!(err.contains("NOBYPASSRLS"), "{err}");
}
