//! The storage conformance suite: the same assertions on every backend, through the
//! repository traits.

use caravan::money::Currency;
use caravan::rates::model::Rate;
use caravan::storage::{Storage, StorageError};
use caravan::tenants::model::{
    Destination, Tenant, TenantConfig, TenantListQuery, TenantSort, TenantStatus,
};
use chrono::{Duration, SubsecRound, Utc};
use support::{TestDatabase, backends};

fn tenant(id: &str, name: &str, addresses: &[&str]) -> Tenant {
    let at = Utc::now().trunc_subsecs(6);
    Tenant {
        id: id.to_owned(),
        name: name.to_owned(),
        status: TenantStatus::Active,
        plan: "lite".to_owned(),
        admin_email: format!("admin@{id}.example"),
        support_email: Some(format!("help@{id}.example")),
        config: TenantConfig {
            destinations: vec![Destination {
                name: "Kruger National Park".into(),
                code: "KRUGER_NATIONAL_PARK".into(),
                aliases: vec!["Kruger".into(), "Kruger Park".into()],
                enabled: true,
            }],
            inbound_addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            ..TenantConfig::default()
        },
        created_at: at,
        updated_at: at,
        suspended_at: None,
        suspended_reason: None,
    }
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Storage) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let db = TestDatabase::new(backend).await;
        test(db.storage().await).await;
    }
}

#[tokio::test]
async fn a_tenant_round_trips_every_field() {
    each_backend(|s| async move {
        let t = tenant("roundtrip", "Round Trip", &["a@in.test", "b@in.test"]);
        s.tenants.insert(&t).await.unwrap();
        let read = s.tenants.get("roundtrip").await.unwrap().unwrap();
        assert_eq!(read, t, "{:?}", s.backend);
        assert!(s.tenants.get("missing").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_id_violates_tenants_pkey() {
    each_backend(|s| async move {
        s.tenants.insert(&tenant("dup", "One", &[])).await.unwrap();
        let err = s
            .tenants
            .insert(&tenant("dup", "Two", &[]))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StorageError::Conflict { constraint } if constraint == "tenants_pkey"),
            "{:?}: {err:?}",
            s.backend
        );
    })
    .await;
}

#[tokio::test]
async fn an_inbound_address_belongs_to_one_tenant_only() {
    each_backend(|s| async move {
        s.tenants
            .insert(&tenant("first", "First", &["shared@in.test"]))
            .await
            .unwrap();
        let err = s
            .tenants
            .insert(&tenant("second", "Second", &["shared@in.test"]))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StorageError::Conflict { constraint }
                if constraint == "tenant_inbound_addresses_address_key"),
            "{:?}: {err:?}",
            s.backend
        );
        // The failed insert left nothing behind.
        assert!(s.tenants.get("second").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn the_list_filters_searches_sorts_and_pages() {
    each_backend(|s| async move {
        let base = Utc::now().trunc_subsecs(6);
        for (i, (id, name)) in [
            ("alpha", "Alpha Tours"),
            ("beta", "beta_safaris 100%"),
            ("gamma", "Gamma Travel"),
        ]
        .iter()
        .enumerate()
        {
            let mut t = tenant(id, name, &[]);
            t.created_at = base + Duration::seconds(i as i64);
            s.tenants.insert(&t).await.unwrap();
        }
        s.tenants
            .set_status(
                "gamma",
                TenantStatus::Suspended,
                Some("unpaid invoices"),
                base,
            )
            .await
            .unwrap();

        let q = |f: fn(&mut TenantListQuery)| {
            let mut query = TenantListQuery {
                limit: 50,
                descending: true,
                ..TenantListQuery::default()
            };
            f(&mut query);
            query
        };
        let ids = |page: caravan::tenants::model::TenantPage| {
            page.tenants.into_iter().map(|t| t.id).collect::<Vec<_>>()
        };

        let all = s.tenants.list(&q(|_| {})).await.unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(ids(all), ["gamma", "beta", "alpha"], "newest first");

        let active = s
            .tenants
            .list(&q(|q| q.status = Some(TenantStatus::Active)))
            .await
            .unwrap();
        assert_eq!(ids(active), ["beta", "alpha"]);

        // Case-insensitive; `%` and `_` are literal characters, not wildcards.
        let found = s
            .tenants
            .list(&q(|q| q.search = Some("ALPHA".into())))
            .await
            .unwrap();
        assert_eq!(ids(found), ["alpha"]);
        let literal = s
            .tenants
            .list(&q(|q| q.search = Some("100%".into())))
            .await
            .unwrap();
        assert_eq!(ids(literal), ["beta"]);
        let underscore = s
            .tenants
            .list(&q(|q| q.search = Some("a_s".into())))
            .await
            .unwrap();
        assert_eq!(ids(underscore), ["beta"]);

        let by_name = s
            .tenants
            .list(&q(|q| {
                q.sort = TenantSort::Name;
                q.descending = false;
            }))
            .await
            .unwrap();
        assert_eq!(ids(by_name), ["alpha", "beta", "gamma"]);

        let page = s
            .tenants
            .list(&q(|q| {
                q.limit = 1;
                q.offset = 1;
            }))
            .await
            .unwrap();
        assert_eq!(page.total, 3, "total counts every match, not the page");
        assert_eq!(ids(page), ["beta"]);

        let counts = s.tenants.counts().await.unwrap();
        assert_eq!((counts.total, counts.active, counts.suspended), (3, 2, 1));
    })
    .await;
}

#[tokio::test]
async fn an_update_from_a_stale_read_is_refused() {
    each_backend(|s| async move {
        let t = tenant("opt", "Optimistic", &["old@in.test"]);
        s.tenants.insert(&t).await.unwrap();
        let mut changed = t.clone();
        changed.name = "Renamed".into();
        changed.config.inbound_addresses = vec!["new@in.test".into()];
        changed.updated_at = t.updated_at + Duration::seconds(1);
        assert!(s.tenants.update(&changed, t.updated_at).await.unwrap());
        let read = s.tenants.get("opt").await.unwrap().unwrap();
        assert_eq!(read.name, "Renamed");
        assert_eq!(read.config.inbound_addresses, ["new@in.test"]);

        // A second writer still holding the first version loses.
        let mut stale = t.clone();
        stale.name = "Stale".into();
        assert!(!s.tenants.update(&stale, t.updated_at).await.unwrap());
        assert_eq!(s.tenants.get("opt").await.unwrap().unwrap().name, "Renamed");
    })
    .await;
}

#[tokio::test]
async fn suspension_is_recorded_and_cleared() {
    each_backend(|s| async move {
        s.tenants
            .insert(&tenant("sus", "Suspend Me", &[]))
            .await
            .unwrap();
        let at = Utc::now().trunc_subsecs(6);
        let t = s
            .tenants
            .set_status("sus", TenantStatus::Suspended, Some("fraud review"), at)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.status, TenantStatus::Suspended);
        assert_eq!(t.suspended_at, Some(at));
        assert_eq!(t.suspended_reason.as_deref(), Some("fraud review"));
        let t = s
            .tenants
            .set_status("sus", TenantStatus::Active, None, at)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.status, t.suspended_at, t.suspended_reason),
            (TenantStatus::Active, None, None)
        );
        assert!(
            s.tenants
                .set_status("nobody", TenantStatus::Active, None, at)
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn every_tenant_owned_table_cascades_on_tenant_delete() {
    each_backend(|s| async move {
        let tables = s.schema.tenant_owned_tables().await.unwrap();
        assert!(!tables.is_empty());
        for table in tables {
            assert!(
                table.cascades_on_tenant_delete,
                "{:?}: table {} has tenant_id without ON DELETE CASCADE to tenants",
                s.backend, table.name
            );
        }
    })
    .await;
}

#[tokio::test]
async fn deleting_a_tenant_leaves_no_row_in_any_table() {
    each_backend(|s| async move {
        s.tenants
            .insert(&tenant("gone", "Gone", &["gone@in.test"]))
            .await
            .unwrap();
        s.tenants
            .insert(&tenant("kept", "Kept", &["kept@in.test"]))
            .await
            .unwrap();
        let before: i64 = s
            .schema
            .count_tenant_rows("gone")
            .await
            .unwrap()
            .iter()
            .map(|r| r.1)
            .sum();
        assert!(before >= 2, "the tenant row and its address exist");

        assert!(s.tenants.delete("gone").await.unwrap());
        for (table, n) in s.schema.count_tenant_rows("gone").await.unwrap() {
            assert_eq!(
                n, 0,
                "{:?}: {table} still holds rows of a deleted tenant",
                s.backend
            );
        }
        assert!(!s.tenants.delete("gone").await.unwrap());
        let kept = s.tenants.get("kept").await.unwrap().unwrap();
        assert_eq!(kept.config.inbound_addresses, ["kept@in.test"]);
    })
    .await;
}

#[tokio::test]
async fn migrations_can_be_applied_twice() {
    each_backend(|s| async move {
        s.migrate().await.unwrap();
        s.schema.ping().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_statement_timeout_is_in_force() {
    each_backend(|s| async move {
        let timeout = s.schema.statement_timeout().await.unwrap();
        assert_eq!(timeout.as_millis(), 8_000, "{:?}", s.backend);
    })
    .await;
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A rate of `tenant` with every optional field set.
fn rate(
    tenant: &str,
    hotel: &str,
    destination: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Rate {
    let at = Utc::now().trunc_subsecs(6);
    let mut r = caravan::rates::blank_rate(tenant, Currency::parse("USD").unwrap(), at);
    r.hotel_name = hotel.to_owned();
    r.destination = destination.to_owned();
    r.star_rating = Some(4);
    r.room_type = "Standard Double".to_owned();
    r.meal_plan = "HB".to_owned();
    r.valid_from = from;
    r.valid_to = to;
    r.sharing_per_night = 25_300;
    r.single_per_night = Some(40_500);
    r.child_per_night = Some(12_600);
    r.infant_per_night = Some(0);
    r.min_nights = 2;
    r.nights = 7;
    r.flights_adult = Some(450_000);
    r.flights_child = Some(300_000);
    r.transfers_adult = Some(9_000);
    r.transfers_child = Some(4_500);
    r
}

fn conflict(err: StorageError) -> String {
    match err {
        StorageError::Conflict { constraint } => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rate_round_trips_and_its_keys_are_named_alike_on_every_backend() {
    each_backend(|s| async move {
        for id in ["lodges", "other"] {
            s.tenants.insert(&tenant(id, id, &[])).await.unwrap();
        }
        let r = rate(
            "lodges",
            "Baraka",
            "Zanzibar",
            day(2026, 11, 1),
            day(2027, 3, 31),
        );
        s.rates.insert(&r).await.unwrap();
        assert_eq!(
            s.rates.get("lodges", &r.rate_id).await.unwrap(),
            Some(r.clone())
        );
        assert_eq!(s.rates.get("lodges", &r.id).await.unwrap(), Some(r.clone()));
        assert_eq!(s.rates.get("other", &r.rate_id).await.unwrap(), None);

        // The same offer under new ids, and a new offer under a taken public id.
        let mut same_offer = rate("lodges", "Baraka", "Zanzibar", r.valid_from, r.valid_to);
        same_offer.destination = "Elsewhere".into();
        let err = s.rates.insert(&same_offer).await.unwrap_err();
        assert_eq!(conflict(err), "rates_natural_key", "{:?}", s.backend);
        let mut taken = rate("lodges", "Coral", "Zanzibar", r.valid_from, r.valid_to);
        taken.rate_id = r.rate_id.clone();
        let err = s.rates.insert(&taken).await.unwrap_err();
        assert_eq!(conflict(err), "rates_rate_id_key", "{:?}", s.backend);
        // Another tenant may hold the same offer and even the same public id.
        let mut theirs = r.clone();
        theirs.id = uuid::Uuid::new_v4().to_string();
        theirs.tenant_id = "other".into();
        s.rates.insert(&theirs).await.unwrap();

        // An upsert updates the stored offer in place and inserts the new one...
        let mut changed = rate("lodges", "Baraka", "Zanzibar", r.valid_from, r.valid_to);
        changed.sharing_per_night = 26_000;
        changed.single_per_night = None;
        let new = rate("lodges", "Coral", "Zanzibar", r.valid_from, r.valid_to);
        let counts = s
            .rates
            .upsert_all("lodges", &[changed.clone(), new.clone()])
            .await
            .unwrap();
        assert_eq!((counts.created, counts.updated), (1, 1), "{:?}", s.backend);
        let stored = s.rates.get("lodges", &r.rate_id).await.unwrap().unwrap();
        assert_eq!((&stored.id, stored.created_at), (&r.id, r.created_at));
        assert_eq!(
            (stored.sharing_per_night, stored.single_per_night),
            (26_000, None)
        );
        assert_eq!(stored.updated_at, changed.updated_at);
        assert!(s.rates.get("lodges", &new.rate_id).await.unwrap().is_some());

        // ...and writes nothing when any row fails.
        let fresh = rate("lodges", "Stone Town", "Zanzibar", r.valid_from, r.valid_to);
        let mut clash = rate("lodges", "Mnemba", "Zanzibar", r.valid_from, r.valid_to);
        clash.rate_id = new.rate_id.clone();
        let err = s
            .rates
            .upsert_all("lodges", &[fresh.clone(), clash])
            .await
            .unwrap_err();
        assert_eq!(conflict(err), "rates_rate_id_key");
        assert!(
            s.rates
                .get("lodges", &fresh.rate_id)
                .await
                .unwrap()
                .is_none()
        );

        let stats = s.rates.stats("lodges").await.unwrap();
        assert_eq!((stats.total_rates, stats.total_hotels), (2, 2));
        assert!(s.rates.delete("lodges", &r.id).await.unwrap());
        assert!(!s.rates.delete("lodges", &r.id).await.unwrap());
        assert_eq!(s.rates.stats("other").await.unwrap().total_rates, 1);
    })
    .await;
}

#[tokio::test]
async fn rate_candidates_cover_the_stay_in_the_destination_or_its_aliases() {
    each_backend(|s| async move {
        for id in ["quoting", "other"] {
            s.tenants.insert(&tenant(id, id, &[])).await.unwrap();
        }
        let kruger = "Kruger National Park";
        let covers = rate(
            "quoting",
            "Covers Check-in",
            kruger,
            day(2027, 1, 1),
            day(2027, 3, 31),
        );
        // Stored under an alias in another case: starts after check-in, within the stay.
        let overlaps = rate(
            "quoting",
            "Alias Overlap",
            "KRUGER park",
            day(2027, 3, 15),
            day(2027, 6, 30),
        );
        let mut inactive = rate(
            "quoting",
            "Inactive",
            kruger,
            day(2027, 1, 1),
            day(2027, 3, 31),
        );
        inactive.is_active = false;
        let rates = [
            covers.clone(),
            overlaps.clone(),
            inactive,
            // The period starts on the departure day, or ends the night before arrival.
            rate(
                "quoting",
                "Starts At Checkout",
                kruger,
                day(2027, 3, 19),
                day(2027, 4, 30),
            ),
            rate(
                "quoting",
                "Ends Before",
                kruger,
                day(2026, 11, 1),
                day(2027, 3, 11),
            ),
            rate(
                "quoting",
                "Wrong Place",
                "Zanzibar",
                day(2027, 1, 1),
                day(2027, 3, 31),
            ),
        ];
        s.rates.upsert_all("quoting", &rates).await.unwrap();
        let theirs = rate(
            "other",
            "Someone Else's",
            kruger,
            day(2027, 1, 1),
            day(2027, 3, 31),
        );
        s.rates.insert(&theirs).await.unwrap();

        let names: Vec<String> = [kruger, "Kruger", "Kruger Park"]
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        let found = s
            .rates
            .candidates("quoting", &names, day(2027, 3, 12), day(2027, 3, 19))
            .await
            .unwrap();
        let hotels: Vec<&str> = found.iter().map(|r| r.hotel_name.as_str()).collect();
        assert_eq!(
            hotels,
            ["Covers Check-in", "Alias Overlap"],
            "{:?}",
            s.backend
        );
        assert_eq!(found[0], covers);

        // A stay that ends where it starts counts as one night.
        let found = s
            .rates
            .candidates("quoting", &names, day(2027, 3, 14), day(2027, 3, 14))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        let none = s
            .rates
            .candidates("quoting", &[], day(2027, 3, 12), day(2027, 3, 19))
            .await
            .unwrap();
        assert!(none.is_empty());

        // At most 200 rows, the ones covering the check-in first.
        let many: Vec<Rate> = (0..210)
            .map(|i| {
                rate(
                    "quoting",
                    &format!("Camp {i:03}"),
                    kruger,
                    day(2027, 3, 13),
                    day(2027, 3, 31),
                )
            })
            .collect();
        s.rates.upsert_all("quoting", &many).await.unwrap();
        let found = s
            .rates
            .candidates("quoting", &names, day(2027, 3, 12), day(2027, 3, 19))
            .await
            .unwrap();
        assert_eq!(found.len(), caravan::storage::rates::CANDIDATE_CAP as usize);
        assert_eq!(found[0].hotel_name, "Covers Check-in");
        assert_eq!(found[1].hotel_name, "Alias Overlap");
        assert_eq!(found[2].hotel_name, "Camp 000");
    })
    .await;
}
