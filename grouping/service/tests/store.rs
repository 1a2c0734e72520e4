//! Scheme-registry storage on every backend of the harness.

use grouping_service::Migrator;
use grouping_service::store::{RegistryStore, StoredActivation};
use platform::store_test;
use platform::wire::Page;

fn activation(effective_from: i32, version: &str) -> StoredActivation {
    StoredActivation {
        region: "460000".parse().expect("code"),
        effective_from,
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
                    .active_on(hainan, date)
                    .await
                    .expect("read")
                    .map(|a| a.version)
            }
        };
        assert_eq!(version_on(20231231).await, None);
        assert_eq!(version_on(20240101).await.as_deref(), Some("1.1"));
        assert_eq!(version_on(20250630).await.as_deref(), Some("1.1"));
        assert_eq!(version_on(20250701).await.as_deref(), Some("2.0"));
        let listed = store
            .activations(
                hainan,
                Page {
                    offset: 0,
                    size: 10,
                },
            )
            .await
            .expect("list");
        assert_eq!(
            listed.iter().map(|a| a.effective_from).collect::<Vec<_>>(),
            [20250701, 20240101]
        );
        assert!(
            store.insert(&activation(20250701, "2.1")).await.is_err(),
            "one activation per day"
        );
    }
);
