//! Budget storage on every backend of the harness.

use budget_service::Migrator;
use budget_service::store::{BudgetStore, StoredBudget};
use kernel::{FundType, Money};
use platform::store_test;

fn budget(version: i32, fen: i64) -> StoredBudget {
    StoredBudget {
        region: "460000".parse().expect("code"),
        year: 2025,
        fund: FundType::Employee,
        version,
        mode: "regional_points".into(),
        total: Money::from_fen(fen),
        document_json: "{}".into(),
        reason: if version == 1 {
            "initial".into()
        } else {
            "mid-year adjustment".into()
        },
        created_by: "bureau".into(),
    }
}

store_test!(
    latest_version_wins_and_versions_are_unique,
    Migrator,
    |db| {
        let store = BudgetStore::new(db.clone());
        let region = "460000".parse().expect("code");
        assert_eq!(
            store
                .get(region, 2025, FundType::Employee, None)
                .await
                .expect("read"),
            None
        );
        store.insert(&budget(1, 60_000_000_000)).await.expect("v1");
        store.insert(&budget(2, 61_234_567_891)).await.expect("v2");
        let latest = store
            .get(region, 2025, FundType::Employee, None)
            .await
            .expect("read");
        assert_eq!(latest, Some(budget(2, 61_234_567_891)));
        let first = store
            .get(region, 2025, FundType::Employee, Some(1))
            .await
            .expect("read");
        assert_eq!(
            first.map(|b| b.total),
            Some(Money::from_fen(60_000_000_000))
        );
        assert_eq!(
            store
                .get(region, 2025, FundType::Resident, None)
                .await
                .expect("read"),
            None
        );
        assert!(
            store.insert(&budget(2, 1)).await.is_err(),
            "a version is written once"
        );
    }
);
