//! Rates and hotels (API.md §2.6, P1–P12): CSV import and export, the summaries, the list's
//! filters and caps, changes through whole-stay totals, and the wall between tenants.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::{Login, TestApp, TestResponse, backends};

const BOUNDARY: &str = "caravan-rates-boundary";

const HEADER: &str = "hotel_name,destination,star_rating,room_type,meal_plan,valid_from,\
    valid_to,currency,per_person_sharing_per_night,single_per_night,child_per_night,\
    infant_per_night,min_nights";

/// `shared/fixtures/rates.csv` (66 rows); `None` outside CI when the shared directory is not
/// beside the clone.
#[allow(clippy::print_stderr)] // says why the test did nothing, like the backend note
fn sample_rates() -> Option<Vec<u8>> {
    let path = std::env::var_os("CARAVAN_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
        .join("rates.csv");
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing: {e}",
                path.display()
            );
            eprintln!("note: {} missing; test skipped", path.display());
            None
        }
    }
}

/// A multipart body with one file part.
fn form(field: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; \
         filename=\"rates.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, login: &Login, field: &str, bytes: &[u8]) -> TestResponse {
    app.post("/api/v1/pricing/rates/import")
        .user(login)
        .raw(
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            form(field, bytes),
        )
        .send()
        .await
}

async fn import(app: &TestApp, login: &Login, bytes: &[u8]) -> TestResponse {
    upload(app, login, "file", bytes).await
}

async fn get(app: &TestApp, login: &Login, path: &str) -> TestResponse {
    app.get(path).user(login).send().await
}

fn num(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

fn items(res: &TestResponse) -> &Vec<Value> {
    res.body["data"].as_array().expect("a data array")
}

fn strs<'a>(list: &'a [Value], key: &str) -> Vec<&'a str> {
    list.iter().map(|v| v[key].as_str().unwrap()).collect()
}

/// A signed-in consultant (any user may manage rates) of a tenant whose currency is ZAR.
async fn consultant(app: &TestApp, tenant: &str) -> Login {
    app.tenant_with_user(tenant, "consultant").await
}

#[tokio::test]
async fn the_sample_rates_import_and_summarise_by_destination_hotel_and_currency() {
    let Some(csv) = sample_rates() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = consultant(&app, "sunbird").await;
        let res = import(&app, &login, &csv).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["success"], true);
        assert_eq!(res.body["total_rows"], 66);
        assert_eq!(res.body["imported"], 66);
        assert_eq!(res.body["created"], 66);
        assert_eq!(res.body["errors"], json!([]));

        let res = get(&app, &login, "/api/v1/pricing/stats").await;
        res.expect(StatusCode::OK);
        let s = &res.body["data"];
        assert_eq!(
            (
                &s["total_rates"],
                &s["active_rates"],
                &s["total_hotels"],
                &s["total_destinations"]
            ),
            (&json!(66), &json!(66), &json!(22), &json!(8)),
            "{backend:?}"
        );
        // Prices lead with the tenant's currency; the other currencies are listed, never mixed.
        assert_eq!(s["currency"], "ZAR");
        assert_eq!(
            num(&s["min_price"]),
            12_642.0,
            "Bushveld Rest Tents, 1806 × 7"
        );
        assert_eq!(
            num(&s["max_price"]),
            72_450.0,
            "Table Bay Heights, 10350 × 7"
        );
        assert_eq!(num(&s["avg_price"]), 36_230.44);
        let ranges: Vec<(&str, i64)> = s["price_ranges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["currency"].as_str().unwrap(),
                    r["rate_count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ranges, [("EUR", 15), ("USD", 33), ("ZAR", 18)]);

        let res = get(&app, &login, "/api/v1/pricing/destinations").await;
        res.expect(StatusCode::OK);
        let list = items(&res);
        assert_eq!(
            strs(list, "destination"),
            [
                "Cape Town",
                "Kruger National Park",
                "Maasai Mara",
                "Maldives",
                "Mauritius",
                "Seychelles",
                "Victoria Falls",
                "Zanzibar"
            ]
        );
        let zanzibar = &list[7];
        assert_eq!(
            (&zanzibar["hotel_count"], &zanzibar["rate_count"]),
            (&json!(3), &json!(9))
        );
        assert_eq!(zanzibar["currency"], "USD");
        assert_eq!(num(&zanzibar["min_price"]), 770.0);
        assert_eq!(num(&zanzibar["max_price"]), 3_577.0);
        assert_eq!(list[3]["hotel_count"], 2, "Maldives");

        let res = get(&app, &login, "/api/v1/pricing/hotels").await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["count"], 22);
        assert_eq!(items(&res)[0]["hotel_name"], "Anse Source Retreat");
        let res = get(&app, &login, "/api/v1/pricing/hotels?destination=zanzibar").await;
        assert_eq!(
            strs(items(&res), "hotel_name"),
            [
                "Baraka Beach Lodge",
                "Coral Cove Resort",
                "Stone Town Courtyard Inn"
            ]
        );
        let baraka = &items(&res)[0];
        assert_eq!(
            (
                &baraka["star_rating"],
                &baraka["hotel_rating"],
                &baraka["is_active"]
            ),
            (&json!(4), &json!(4), &json!(true))
        );

        // Hotel names are matched case-insensitively, percent-decoded from the path.
        let res = get(
            &app,
            &login,
            "/api/v1/pricing/hotels/baraka%20BEACH%20lodge",
        )
        .await;
        res.expect(StatusCode::OK);
        let h = &res.body["data"];
        assert_eq!(h["hotel_name"], "Baraka Beach Lodge");
        assert_eq!(h["destination"], "Zanzibar");
        assert_eq!(h["rate_count"], 3);
        assert_eq!(
            (num(&h["min_price"]), num(&h["max_price"])),
            (1_365.0, 1_890.0)
        );
        assert_eq!(h["currency"], "USD");
        let res = get(
            &app,
            &login,
            "/api/v1/pricing/hotels/Baraka%20Beach%20Lodge/rates",
        )
        .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["hotel_name"], "Baraka Beach Lodge");
        assert_eq!(res.body["count"], 3);
        assert_eq!(
            strs(items(&res), "check_in_date"),
            ["2026-11-01", "2027-04-01", "2027-11-01"]
        );
        for path in [
            "/api/v1/pricing/hotels/Nowhere%20Inn",
            "/api/v1/pricing/hotels/Nowhere%20Inn/rates",
        ] {
            let res = get(&app, &login, path).await;
            res.expect(StatusCode::NOT_FOUND);
            assert_eq!(res.detail(), "Hotel not found");
        }
    }
}

#[tokio::test]
async fn the_rate_list_filters_orders_pages_and_caps_its_limit() {
    let Some(csv) = sample_rates() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = consultant(&app, "sunbird").await;
        import(&app, &login, &csv).await.expect(StatusCode::OK);

        let res = get(&app, &login, "/api/v1/pricing/rates").await;
        res.expect(StatusCode::OK);
        assert_eq!(
            (&res.body["count"], &res.body["total"]),
            (&json!(66), &json!(66))
        );
        let all = items(&res);
        // Ordered by hotel name, then first night.
        let keys: Vec<(String, String)> = all
            .iter()
            .map(|r| {
                (
                    r["hotel_name"].as_str().unwrap().to_lowercase(),
                    r["check_in_date"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{backend:?}");

        // The wire shape: whole-stay totals computed from the nightly rates.
        let first = &all[0];
        assert_eq!(first["hotel_name"], "Anse Source Retreat");
        assert!(first["rate_id"].as_str().unwrap().starts_with("RATE-"));
        assert_eq!(first["rate_id"].as_str().unwrap().len(), 13);
        assert_eq!(
            (&first["check_in_date"], &first["check_out_date"]),
            (&json!("2026-11-01"), &json!("2027-03-31"))
        );
        assert_eq!(
            (&first["nights"], &first["min_nights"]),
            (&json!(7), &json!(3))
        );
        assert_eq!(first["currency"], "EUR");
        assert_eq!(num(&first["per_person_sharing_per_night"]), 485.0);
        assert_eq!(num(&first["total_7nights_pps"]), 3_395.0);
        assert_eq!(num(&first["total_7nights_single"]), 5_432.0);
        assert_eq!(num(&first["total_7nights_child"]), 1_694.0);
        assert_eq!(num(&first["infant_per_night"]), 0.0);
        assert_eq!(first["hotel_rating"], 5);
        assert_eq!(first["flights_adult"], Value::Null);
        assert_eq!(first["is_active"], true);

        let count = |query: &'static str| {
            let app = &app;
            let login = &login;
            async move {
                let res = get(app, login, &format!("/api/v1/pricing/rates?{query}")).await;
                res.expect(StatusCode::OK);
                res.body["total"].as_i64().unwrap()
            }
        };
        assert_eq!(count("destination=ZANZIBAR").await, 9);
        assert_eq!(
            count("destination=Zanz").await,
            0,
            "destination is a whole value"
        );
        assert_eq!(count("hotel_name=lodge").await, 12, "four lodges, any case");
        assert_eq!(count("hotel_name=%25").await, 0, "`%` is literal");
        assert_eq!(count("meal_plan=fb").await, 18);
        assert_eq!(count("check_in_after=2027-04-01").await, 44);
        assert_eq!(count("check_in_before=2027-04-01").await, 44);
        assert_eq!(
            count("check_in_after=2027-01-01&check_in_before=2027-06-30&destination=Maldives")
                .await,
            2
        );
        assert_eq!(
            count("destination=&hotel_name=").await,
            66,
            "blank means no filter"
        );
        assert_eq!(count("is_active=false").await, 0);
        assert_eq!(count("is_active=all").await, 66);

        // Paging: the page holds `limit` rows from `offset`, `total` counts every match.
        let res = get(&app, &login, "/api/v1/pricing/rates?limit=5&offset=10").await;
        assert_eq!(
            (&res.body["count"], &res.body["total"]),
            (&json!(5), &json!(66))
        );
        assert_eq!(items(&res)[0]["rate_id"], all[10]["rate_id"]);
        let res = get(&app, &login, "/api/v1/pricing/rates?limit=500&offset=60").await;
        assert_eq!(res.body["count"], 6);

        for (query, field) in [
            ("limit=501", "limit"),
            ("limit=0", "limit"),
            ("offset=-1", "offset"),
            ("limit=many", "limit"),
            ("is_active=maybe", "is_active"),
            ("check_in_after=01/04/2027", "check_in_after"),
        ] {
            let res = get(&app, &login, &format!("/api/v1/pricing/rates?{query}")).await;
            res.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(
                res.body["detail"][0]["loc"],
                json!(["query", field]),
                "{query}: {}",
                res.body
            );
        }
    }
}

#[tokio::test]
async fn rates_are_created_read_changed_and_deleted_through_whole_stay_totals() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = consultant(&app, "sunbird").await;
        let body = json!({
            "hotel_name": "Kaya Mawa Lodge", "destination": "Zanzibar",
            "room_type": "Garden Room", "meal_plan": "BB",
            "check_in_date": "2027-01-10", "check_out_date": "2027-02-28",
            "nights": 7, "total_7nights_pps": 7000.0, "total_7nights_single": 10000.0,
            "total_7nights_child": null, "flights_adult": 4500, "hotel_rating": 4,
        });
        let res = app
            .post("/api/v1/pricing/rates")
            .user(&login)
            .json(&body)
            .send()
            .await;
        res.expect(StatusCode::CREATED);
        let rate = res.body["data"].clone();
        let rate_id = rate["rate_id"].as_str().unwrap().to_owned();
        let id = rate["id"].as_str().unwrap().to_owned();
        assert_eq!(rate["currency"], "ZAR", "the tenant's currency by default");
        assert_eq!(num(&rate["per_person_sharing_per_night"]), 1_000.0);
        assert_eq!(num(&rate["total_7nights_pps"]), 7_000.0);
        // R 10 000 over 7 nights is R 1 428,57 a night, so the total reads back rounded.
        assert_eq!(num(&rate["single_per_night"]), 1_428.57);
        assert_eq!(num(&rate["total_7nights_single"]), 9_999.99);
        assert_eq!(rate["total_7nights_child"], Value::Null);
        assert_eq!(num(&rate["flights_adult"]), 4_500.0);
        assert_eq!(
            (&rate["min_nights"], &rate["is_active"]),
            (&json!(1), &json!(true))
        );

        // Either id works in the path; the public one in any case.
        for key in [rate_id.clone(), id.clone(), rate_id.to_lowercase()] {
            let res = get(&app, &login, &format!("/api/v1/pricing/rates/{key}")).await;
            res.expect(StatusCode::OK);
            assert_eq!(res.body["data"]["rate_id"], rate_id.as_str());
        }
        for key in [
            "RATE-FFFFFFFF",
            "not-a-rate",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let res = get(&app, &login, &format!("/api/v1/pricing/rates/{key}")).await;
            res.expect(StatusCode::NOT_FOUND);
            assert_eq!(res.detail(), "Rate not found");
        }

        // The same offer twice is a conflict; broken rules are all reported.
        let res = app
            .post("/api/v1/pricing/rates")
            .user(&login)
            .json(&body)
            .send()
            .await;
        res.expect(StatusCode::CONFLICT);
        let res = app
            .post("/api/v1/pricing/rates")
            .user(&login)
            .json(&json!({
                "hotel_name": "X", "destination": " ", "room_type": "R", "meal_plan": "BB",
                "check_in_date": "2027-03-01", "check_out_date": "2027-02-01",
                "nights": 31, "total_7nights_pps": -5, "currency": "RAND",
            }))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let locs: Vec<String> = res.body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["loc"][1].as_str().unwrap().to_owned())
            .collect();
        for field in [
            "destination",
            "check_out_date",
            "nights",
            "total_7nights_pps",
            "currency",
        ] {
            assert!(locs.iter().any(|l| l == field), "{field}: {}", res.body);
        }
        let res = app
            .post("/api/v1/pricing/rates")
            .user(&login)
            .json(&json!({"hotel_name": "X", "tenant_id": "someone-else"}))
            .send()
            .await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);

        // A change of `nights` alone keeps the nightly rates; new totals are per the new stay.
        let path = format!("/api/v1/pricing/rates/{rate_id}");
        let put = |body: Value| app.put(&path).user(&login).json(&body).send();
        let res = put(json!({"nights": 5})).await;
        res.expect(StatusCode::OK);
        assert_eq!(num(&res.body["data"]["total_7nights_pps"]), 5_000.0);
        let res = put(json!({
            "total_7nights_pps": 6000, "total_7nights_single": null,
            "total_7nights_child": 2500, "min_nights": 3, "is_active": false,
        }))
        .await;
        res.expect(StatusCode::OK);
        let changed = &res.body["data"];
        assert_eq!(num(&changed["per_person_sharing_per_night"]), 1_200.0);
        assert_eq!(changed["total_7nights_single"], Value::Null);
        assert_eq!(num(&changed["total_7nights_child"]), 2_500.0);
        assert_eq!(
            (&changed["min_nights"], &changed["is_active"]),
            (&json!(3), &json!(false))
        );
        assert_eq!(changed["rate_id"], rate_id.as_str());
        assert_eq!(changed["created_at"], rate["created_at"]);
        let res = put(json!({"nights": 2})).await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            res.body["detail"][0]["msg"],
            "nights must be at least min_nights (3)"
        );
        let res = put(json!({})).await;
        res.expect(StatusCode::BAD_REQUEST);
        assert_eq!(res.detail(), "No updates provided");
        app.put("/api/v1/pricing/rates/RATE-FFFFFFFF")
            .user(&login)
            .json(&json!({}))
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        // Moving a rate onto another stored offer is a conflict too.
        let mut other = body.clone();
        other["room_type"] = json!("Sea View Room");
        app.post("/api/v1/pricing/rates")
            .user(&login)
            .json(&other)
            .send()
            .await
            .expect(StatusCode::CREATED);
        let res = put(json!({"room_type": "Sea View Room"})).await;
        res.expect(StatusCode::CONFLICT);
        assert_eq!(
            res.detail(),
            "A rate for this hotel, room type, meal plan and period already exists"
        );
        let res = put(json!({"currency": "usd", "is_active": true})).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["data"]["currency"], "USD");
        assert_eq!(num(&res.body["data"]["total_7nights_pps"]), 6_000.0);

        // Soft delete deactivates; the default list shows active rates only.
        let res = app.delete(&path).user(&login).send().await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["message"], format!("Rate {rate_id} deactivated"));
        let res = get(&app, &login, &path).await;
        assert_eq!(res.body["data"]["is_active"], false);
        let res = get(&app, &login, "/api/v1/pricing/rates").await;
        assert_eq!(strs(items(&res), "room_type"), ["Sea View Room"]);
        let res = get(&app, &login, "/api/v1/pricing/rates?is_active=false").await;
        assert_eq!(strs(items(&res), "rate_id"), [rate_id.as_str()]);
        let hotel = "/api/v1/pricing/hotels/Kaya%20Mawa%20Lodge";
        let res = get(&app, &login, hotel).await;
        let h = &res.body["data"];
        assert_eq!(
            (&h["is_active"], &h["rate_count"], &h["total_rates"]),
            (&json!(true), &json!(1), &json!(2))
        );
        // With every rate deactivated the hotel is still known, with no active rate.
        let sea_view = items(&get(&app, &login, "/api/v1/pricing/rates").await)[0]["rate_id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.delete(&format!("/api/v1/pricing/rates/{sea_view}"))
            .user(&login)
            .send()
            .await
            .expect(StatusCode::OK);
        let res = get(&app, &login, hotel).await;
        let h = &res.body["data"];
        assert_eq!(
            (&h["is_active"], &h["rate_count"], &h["total_rates"]),
            (&json!(false), &json!(0), &json!(2))
        );
        let res = get(&app, &login, &format!("{hotel}/rates")).await;
        res.expect(StatusCode::OK);
        assert_eq!(
            (&res.body["hotel_name"], &res.body["count"]),
            (&json!("Kaya Mawa Lodge"), &json!(0))
        );

        let res = app
            .delete(&format!("/api/v1/pricing/rates/{id}?hard_delete=true"))
            .user(&login)
            .send()
            .await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["message"], format!("Rate {rate_id} deleted"));
        get(&app, &login, &path).await.expect(StatusCode::NOT_FOUND);
        app.delete(&path)
            .user(&login)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        let res = get(&app, &login, "/api/v1/pricing/stats").await;
        assert_eq!(res.body["data"]["total_rates"], 1);
    }
}

#[tokio::test]
async fn an_export_imports_again_into_the_same_rates() {
    let Some(csv) = sample_rates() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let a = consultant(&app, "tenant-a").await;
        let b = consultant(&app, "tenant-b").await;
        import(&app, &a, &csv).await.expect(StatusCode::OK);
        // A rate with every optional column set, one deactivated.
        let extra = format!(
            "{HEADER},nights,is_active,flights_adult,flights_child,transfers_adult,transfers_child\n\
             Quirimbas Hideaway,Mozambique,,Beach Villa,FB,2027-01-01,2027-12-31,EUR,310.55,\
             ,150,20,4,10,false,800,650.5,90,45\n"
        );
        import(&app, &a, extra.as_bytes())
            .await
            .expect(StatusCode::OK);

        let res = get(&app, &a, "/api/v1/pricing/rates/export?is_active=all").await;
        res.expect(StatusCode::OK);
        assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(
            res.header("content-disposition"),
            Some("attachment; filename=\"rates.csv\"")
        );
        let text = res.body.as_str().expect("CSV text").to_owned();
        assert!(
            text.starts_with(&format!(
                "{HEADER},nights,is_active,flights_adult,flights_child,transfers_adult,\
                 transfers_child\n"
            )),
            "{text}"
        );
        assert_eq!(text.lines().count(), 68);

        let res = import(&app, &b, text.as_bytes()).await;
        res.expect(StatusCode::OK);
        assert_eq!(
            (&res.body["created"], &res.body["updated"]),
            (&json!(67), &json!(0))
        );
        let listing = |login: &Login| {
            let app = &app;
            let login = login.clone();
            async move {
                let res = get(app, &login, "/api/v1/pricing/rates?is_active=all&limit=500").await;
                let mut rows = items(&res).clone();
                for row in &mut rows {
                    let obj = row.as_object_mut().unwrap();
                    for key in ["id", "rate_id", "created_at", "updated_at"] {
                        obj.remove(key);
                    }
                }
                rows
            }
        };
        let (rows_a, rows_b) = (listing(&a).await, listing(&b).await);
        assert_eq!(rows_a.len(), 67);
        assert_eq!(rows_a, rows_b, "{backend:?}");
        let quirimbas = rows_b
            .iter()
            .find(|r| r["hotel_name"] == "Quirimbas Hideaway")
            .unwrap();
        assert_eq!(quirimbas["is_active"], false);
        assert_eq!(quirimbas["nights"], 10);
        assert_eq!(num(&quirimbas["per_person_sharing_per_night"]), 310.55);
        assert_eq!(num(&quirimbas["total_7nights_pps"]), 3_105.5);
        assert_eq!(num(&quirimbas["flights_child"]), 650.5);
        assert_eq!(quirimbas["hotel_rating"], Value::Null);

        // Filters apply to the export too.
        let res = get(
            &app,
            &a,
            "/api/v1/pricing/rates/export?destination=maldives",
        )
        .await;
        assert_eq!(res.body.as_str().unwrap().lines().count(), 7);
    }
}

#[tokio::test]
async fn importing_the_same_rows_again_updates_them_instead_of_duplicating() {
    let Some(csv) = sample_rates() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = consultant(&app, "sunbird").await;
        import(&app, &login, &csv).await.expect(StatusCode::OK);
        let before = get(&app, &login, "/api/v1/pricing/rates?hotel_name=Baraka").await;
        let res = import(&app, &login, &csv).await;
        res.expect(StatusCode::OK);
        assert_eq!(
            (
                &res.body["imported"],
                &res.body["created"],
                &res.body["updated"]
            ),
            (&json!(66), &json!(0), &json!(66))
        );

        // A changed price for the same offer updates the stored row and keeps its ids.
        let text = String::from_utf8(csv.clone()).unwrap().replace(
            "Baraka Beach Lodge,Zanzibar,4,Standard Double,HB,2026-11-01,2027-03-31,USD,253,",
            "Baraka Beach Lodge,Zanzibar,4,Standard Double,HB,2026-11-01,2027-03-31,USD,260.5,",
        );
        let res = import(&app, &login, text.as_bytes()).await;
        res.expect(StatusCode::OK);
        assert_eq!(res.body["created"], 0);
        let after = get(&app, &login, "/api/v1/pricing/rates?hotel_name=Baraka").await;
        assert_eq!(after.body["total"], 3);
        let (old, new) = (&items(&before)[0], &items(&after)[0]);
        assert_eq!(old["rate_id"], new["rate_id"]);
        assert_eq!(old["id"], new["id"]);
        assert_eq!(num(&new["per_person_sharing_per_night"]), 260.5);
        assert_eq!(num(&new["total_7nights_pps"]), 1_823.5);
        let res = get(&app, &login, "/api/v1/pricing/stats").await;
        assert_eq!(res.body["data"]["total_rates"], 66);
    }
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_every_bad_row() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let login = consultant(&app, "sunbird").await;
        let text = format!(
            "{HEADER}\n\
             Good Lodge,Zanzibar,4,Double,HB,2026-11-01,2027-03-31,USD,253,405,126,0,2\n\
             Bad Dates,Zanzibar,4,Double,HB,2027-03-31,2026-11-01,USD,253,,,,2\n\
             Also Good,Zanzibar,3,Double,HB,2026-11-01,2027-03-31,,125,,,,2\n\
             Bad Money,Zanzibar,four,Double,HB,2026-11-01,2027-03-31,ZZZ,-1,1.234,,,2\n"
        );
        let res = import(&app, &login, text.as_bytes()).await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.body["success"], false);
        assert_eq!(
            (&res.body["total_rows"], &res.body["imported"]),
            (&json!(4), &json!(0))
        );
        let errors = res.body["errors"].as_array().unwrap();
        let seen: Vec<(i64, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e["row"].as_i64().unwrap(),
                    e["field"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (2, "valid_to"),
                (4, "star_rating"),
                (4, "currency"),
                (4, "per_person_sharing_per_night"),
                (4, "single_per_night"),
            ],
            "{}",
            res.body
        );
        assert_eq!(errors[0]["line"], 3);
        assert_eq!(
            errors[0]["message"],
            "valid_to must be on or after valid_from"
        );
        // The dashboard joins `detail[].msg`.
        assert_eq!(
            res.body["detail"][0]["msg"],
            "row 2: valid_to must be on or after valid_from"
        );
        assert_eq!(
            res.body["detail"][0]["loc"],
            json!(["body", "file", "row 2", "valid_to"])
        );
        let res = get(&app, &login, "/api/v1/pricing/rates?is_active=all").await;
        assert_eq!(res.body["total"], 0, "nothing was imported");

        // Files that are not rate tables are refused as a whole.
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "The file is empty"),
            (format!("{HEADER}\n").into_bytes(), "no rates"),
            (
                b"hotel_name,destination\nA,B\n".to_vec(),
                "Missing required column(s) `star_rating`",
            ),
            (
                format!("{HEADER},price\nA\n").into_bytes(),
                "Unknown column(s) `price`",
            ),
            (
                [format!("{HEADER}\n").as_bytes(), b"Caf\xe9 Lodge\n"].concat(),
                "not UTF-8 text (invalid bytes on line 2)",
            ),
        ];
        for (bytes, expected) in cases {
            let res = import(&app, &login, &bytes).await;
            res.expect(StatusCode::UNPROCESSABLE_ENTITY);
            let msg = res.body["detail"][0]["msg"].as_str().unwrap();
            assert!(msg.contains(expected), "{expected}: {msg}");
            assert_eq!(res.body["detail"][0]["loc"], json!(["body", "file"]));
        }

        // The file must come as multipart, in the field `file`.
        let res = upload(&app, &login, "csv", text.as_bytes()).await;
        res.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.body["detail"][0]["loc"], json!(["body", "file"]));
        assert_eq!(res.body["detail"][0]["type"], "missing");
        assert!(
            res.body["detail"][0]["msg"]
                .as_str()
                .unwrap()
                .contains("(got fields csv)")
        );
        let res = app
            .post("/api/v1/pricing/rates/import")
            .user(&login)
            .raw("text/csv", text)
            .send()
            .await;
        res.expect(StatusCode::BAD_REQUEST);
        assert!(res.detail().contains("multipart/form-data"), "{}", res.body);
    }
}

#[tokio::test]
async fn one_tenant_cannot_see_or_change_another_tenants_rates() {
    let Some(csv) = sample_rates() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let a = consultant(&app, "tenant-a").await;
        let b = consultant(&app, "tenant-b").await;
        import(&app, &b, &csv).await.expect(StatusCode::OK);
        let res = get(&app, &b, "/api/v1/pricing/rates?limit=1").await;
        let b_rate = items(&res)[0].clone();
        let b_rate_id = b_rate["rate_id"].as_str().unwrap();
        let b_id = b_rate["id"].as_str().unwrap();

        for path in [
            "/api/v1/pricing/rates",
            "/api/v1/pricing/hotels",
            "/api/v1/pricing/destinations",
        ] {
            let res = get(&app, &a, path).await;
            res.expect(StatusCode::OK);
            assert_eq!(items(&res).len(), 0, "{path}: {}", res.body);
        }
        let res = get(&app, &a, "/api/v1/pricing/stats").await;
        assert_eq!(res.body["data"]["total_rates"], 0);
        assert_eq!(num(&res.body["data"]["min_price"]), 0.0);
        assert_eq!(res.body["data"]["currency"], "ZAR");
        let res = get(&app, &a, "/api/v1/pricing/rates/export").await;
        assert_eq!(
            res.body.as_str().unwrap().lines().count(),
            1,
            "only the header"
        );
        for path in [
            "/api/v1/pricing/hotels/Anse%20Source%20Retreat",
            "/api/v1/pricing/hotels/Anse%20Source%20Retreat/rates",
        ] {
            get(&app, &a, path).await.expect(StatusCode::NOT_FOUND);
        }
        for key in [b_rate_id, b_id] {
            let path = format!("/api/v1/pricing/rates/{key}");
            get(&app, &a, &path).await.expect(StatusCode::NOT_FOUND);
            app.put(&path)
                .user(&a)
                .json(&json!({"total_7nights_pps": 1}))
                .send()
                .await
                .expect(StatusCode::NOT_FOUND);
            app.delete(&format!("{path}?hard_delete=true"))
                .user(&a)
                .send()
                .await
                .expect(StatusCode::NOT_FOUND);
        }
        // Importing the same offers into A creates A's own rows; B's stay as they were.
        let res = import(&app, &a, &csv).await;
        assert_eq!(res.body["created"], 66);
        let res = get(&app, &b, &format!("/api/v1/pricing/rates/{b_rate_id}")).await;
        assert_eq!(res.body["data"], b_rate);
        let res = get(&app, &b, "/api/v1/pricing/stats").await;
        assert_eq!(res.body["data"]["total_rates"], 66);
    }
}
