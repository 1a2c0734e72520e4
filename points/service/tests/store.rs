//! Valuation-table storage on every backend of the harness.

use kernel::FundType;
use platform::store_test;
use points_service::Migrator;
use points_service::store::{StoredTable, TableStatus, TableStore};

fn table(version: i32, status: TableStatus) -> StoredTable {
    StoredTable {
        region: "460100".parse().expect("code"),
        year: 2025,
        fund: FundType::Resident,
        version,
        status,
        document_json: format!("{{\"version\":{version}}}"),
        effective_from: (status == TableStatus::Active).then_some(20250101),
    }
}

store_test!(
    the_active_version_is_served_not_the_newest_draft,
    Migrator,
    |db| {
        let store = TableStore::new(db.clone());
        let region = "460100".parse().expect("code");
        store
            .insert(&table(1, TableStatus::Active))
            .await
            .expect("v1");
        store
            .insert(&table(2, TableStatus::Draft))
            .await
            .expect("v2");
        let active = store
            .get(region, 2025, FundType::Resident, None)
            .await
            .expect("read");
        assert_eq!(active, Some(table(1, TableStatus::Active)));
        let draft = store
            .get(region, 2025, FundType::Resident, Some(2))
            .await
            .expect("read");
        assert_eq!(draft.map(|t| t.status), Some(TableStatus::Draft));
        assert_eq!(
            store
                .get(region, 2024, FundType::Resident, None)
                .await
                .expect("read"),
            None
        );
    }
);
