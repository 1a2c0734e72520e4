//! Scheme-registry storage on every backend of the harness.

use grouping_service::Migrator;
use grouping_service::store::{RegistryStore, StoredActivation};
use kernel::Date;
use platform::store_test;

/// A date written as `yyyymmdd`.
fn day(yyyymmdd: i32) -> Date {
    Date::from_yyyymmdd(yyyymmdd).expect("a calendar date")
}

fn activation(effective_from: i32, version: &str) -> StoredActivation {
    StoredActivation {
        region: "460000".parse().expect("code"),
        effective_from: day(effective_from),
        scheme_id: "chs-drg".into(),
        version: version.into(),
        activated_by: "bureau".into(),
    }
}

store_test!(
    the_activation_in_force_follows_the_discharge_date,
    Migrator,
    |db| {
        let store = RegistryStore::new(db.clone());
        let hainan = "460000".parse().expect("code");
        store
            .insert(&activation(20240101, "1.1"))
            .await
            .expect("insert");
        store
            .insert(&activation(20250701, "2.0"))
            .await
            .expect("insert");
        let version_on = |date| {
            let store = store.clone();
            async move {
                store
                    .active_on(hainan, day(date))
                    .await
                    .expect("read")
                    .map(|a| a.version)
            }
        };
        assert_eq!(version_on(20231231).await, None);
        assert_eq!(version_on(20240101).await.as_deref(), Some("1.1"));
        assert_eq!(version_on(20250630).await.as_deref(), Some("1.1"));
        assert_eq!(version_on(20250701).await.as_deref(), Some("2.0"));
        let listed = store.activations(hainan, None, 10).await.expect("list");
        assert_eq!(
            listed
                .iter()
                .map(|a| a.effective_from.to_yyyymmdd())
                .collect::<Vec<_>>(),
            [20250701, 20240101]
        );
        assert!(
            store.insert(&activation(20250701, "2.1")).await.is_err(),
            "one activation per day"
        );
    }
);

store_test!(
    the_nearest_region_with_an_activation_in_force_decides,
    Migrator,
    |db| {
        let store = RegistryStore::new(db.clone());
        let at = |region: &str, effective_from: i32, version: &str| StoredActivation {
            region: region.parse().expect("code"),
            ..activation(effective_from, version)
        };
        for activation in [
            at("460000", 20240101, "province"),
            at("460100", 20250301, "prefecture"),
            at("460108", 20250701, "county"),
            at("460108", 20251001, "county-2"),
            // Another county and another province never apply to 460108.
            at("460105", 20240101, "neighbour"),
            at("450000", 20200101, "elsewhere"),
        ] {
            store.insert(&activation).await.expect("insert");
        }
        let meilan = "460108".parse().expect("code");
        let timeline = store.timeline(meilan).await.expect("timeline");
        for (date, expected) in [
            (20231231, None),
            (20240101, Some("province")),
            (20250228, Some("province")),
            (20250301, Some("prefecture")),
            (20250630, Some("prefecture")),
            (20250701, Some("county")),
            (20250930, Some("county")),
            (20251001, Some("county-2")),
        ] {
            let batch = timeline.in_force(day(date)).map(|a| a.version.as_str());
            assert_eq!(batch, expected, "{date}");
            let single = store.active_for(meilan, day(date)).await.expect("read");
            assert_eq!(single.map(|a| a.version).as_deref(), expected, "{date}");
        }
    }
);

store_test!(
    a_scheme_saved_once_per_request_replays_and_never_overwrites,
    Migrator,
    |db| {
        use grouping_service::store::StoredScheme;
        use platform::journal::{Call, Fingerprint, Once};
        let store = RegistryStore::new(db.clone());
        let scheme = StoredScheme {
            scheme_id: "built-460000".into(),
            version: "1".into(),
            kind: "dip".into(),
            name: "built".into(),
            source: "upload".into(),
            files_json: Some("{}".into()),
        };
        let audit = |request_id: &str| {
            Call::with_fingerprint(
                "bureau",
                request_id,
                "BuildDipDirectory",
                Fingerprint::of_parts("BuildDipDirectory", &[request_id.as_bytes()]),
                Some("460000".parse().expect("code")),
            )
        };
        assert!(!store.has_scheme("built-460000", "1").await.expect("read"));
        assert_eq!(
            store
                .save_scheme_once(&scheme, &audit("r1"), "loaded".into(), b"first".to_vec(),)
                .await
                .expect("saved"),
            Once::Done(b"first".to_vec())
        );
        assert!(store.has_scheme("built-460000", "1").await.expect("read"));
        assert_eq!(
            store
                .save_scheme_once(&scheme, &audit("r1"), "loaded".into(), b"second".to_vec(),)
                .await
                .expect("replayed"),
            Once::Replayed(b"first".to_vec())
        );
        assert!(
            store
                .save_scheme_once(&scheme, &audit("r2"), "loaded".into(), b"third".to_vec(),)
                .await
                .is_err(),
            "the same version under another request is refused"
        );
        assert_eq!(store.audit_log().await.expect("log").len(), 1);
        assert_eq!(store.schemes().await.expect("schemes").len(), 1);
    }
);
