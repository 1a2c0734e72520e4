//! Budget storage on every backend of the harness.

use budget_service::Migrator;
use budget_service::store::{BudgetStore, StoredAllocation, StoredBudget};
use kernel::{FundType, Money};
use platform::journal::Once;
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

fn call(request_id: &str) -> platform::journal::Call {
    platform::journal::Call::with_fingerprint(
        "bureau",
        request_id,
        "CreateBudget",
        platform::journal::Fingerprint::of_parts("CreateBudget", &[request_id.as_bytes()]),
        Some("460000".parse().expect("code")),
    )
}

fn detail() -> String {
    "460000 2025".into()
}

store_test!(
    an_idempotent_write_is_replayed_and_audited_once,
    Migrator,
    |db| {
        let store = BudgetStore::new(db.clone());
        let written = store
            .insert_idempotent(&budget(1, 100), &call("r-1"), detail(), b"first".to_vec())
            .await
            .expect("write");
        assert_eq!(written, Once::Done(b"first".to_vec()));
        let replayed = store
            .insert_idempotent(&budget(2, 200), &call("r-1"), detail(), b"second".to_vec())
            .await
            .expect("replay");
        assert_eq!(replayed, Once::Replayed(b"first".to_vec()));
        let entries = store.audit_entries().await.expect("audit");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].method.as_str(), entries[0].detail.as_str()),
            ("CreateBudget", "460000 2025")
        );
        assert_eq!(entries[0].request_id, "r-1");
        // A failed write leaves neither an audit row nor a stored response behind.
        assert!(
            store
                .insert_idempotent(&budget(1, 300), &call("r-2"), detail(), b"dup".to_vec())
                .await
                .is_err()
        );
        assert_eq!(store.replay(&call("r-2")).await.expect("read"), None);
        assert_eq!(store.audit_entries().await.expect("audit").len(), 1);
        let region = "460000".parse().expect("code");
        let listed = store
            .list_latest(region, Some(2025), None, 10)
            .await
            .expect("list");
        assert_eq!(listed, vec![budget(1, 100)]);
    }
);

store_test!(
    latest_versions_are_listed_per_budget_and_paged,
    Migrator,
    |db| {
        let store = BudgetStore::new(db.clone());
        let region = "460000".parse().expect("code");
        store.insert(&budget(1, 100)).await.expect("v1");
        store.insert(&budget(2, 200)).await.expect("v2");
        let resident = StoredBudget {
            fund: FundType::Resident,
            ..budget(1, 300)
        };
        store.insert(&resident).await.expect("resident");
        let all = store
            .list_latest(region, None, None, 10)
            .await
            .expect("list");
        assert_eq!(all, vec![budget(2, 200), resident.clone()]);
        // After the employee budget (year 2025, fund 310).
        let second_page = store
            .list_latest(region, None, Some((2025, 310)), 1)
            .await
            .expect("page");
        assert_eq!(second_page, vec![resident]);
        assert!(
            store
                .list_latest(region, Some(2024), None, 10)
                .await
                .expect("list")
                .is_empty()
        );
    }
);

store_test!(
    a_sharing_policy_is_replaced_per_region_and_year,
    Migrator,
    |db| {
        let store = BudgetStore::new(db.clone());
        let region = "460000".parse().expect("code");
        assert_eq!(
            store.sharing_policy(region, 2025).await.expect("read"),
            None
        );
        store
            .put_sharing_policy(
                region,
                2025,
                "{\"a\":1}",
                "bureau",
                &call("p-1"),
                detail(),
                b"1".to_vec(),
            )
            .await
            .expect("put");
        store
            .put_sharing_policy(
                region,
                2025,
                "{\"a\":2}",
                "bureau",
                &call("p-2"),
                detail(),
                b"2".to_vec(),
            )
            .await
            .expect("replace");
        assert_eq!(
            store.sharing_policy(region, 2025).await.expect("read"),
            Some("{\"a\":2}".to_owned())
        );
        assert_eq!(
            store.sharing_policy(region, 2026).await.expect("read"),
            None
        );
        assert_eq!(store.audit_entries().await.expect("audit").len(), 2);
    }
);

/// Replaces the 2025 employee allocation of `block` in 460000 by `lines` under `request_id`.
async fn replace(
    store: &BudgetStore,
    block: &str,
    lines: &[StoredAllocation],
    request_id: &str,
    response: &[u8],
) -> Once {
    store
        .replace_allocation(
            "460000".parse().expect("code"),
            2025,
            FundType::Employee,
            block,
            lines,
            &call(request_id),
            detail(),
            response.to_vec(),
        )
        .await
        .unwrap_or_else(|error| panic!("{request_id} replaces {block}: {error}"))
}

store_test!(
    an_allocation_replaces_its_block_and_is_read_per_unit,
    Migrator,
    |db| {
        let store = BudgetStore::new(db.clone());
        let region = "460000".parse().expect("code");
        let line = |code: &str, block: &str, fen: i64| StoredAllocation {
            unit_code: code.into(),
            block: block.into(),
            budget_version: 1,
            members_json: "[]".into(),
            amount: Money::from_fen(fen),
            quota_profile_json: "{\"kind\":\"even\"}".into(),
        };
        let first = vec![line("H1", "inpatient", 100), line("H2", "inpatient", 200)];
        let written = replace(&store, "inpatient", &first, "al-1", b"1").await;
        assert_eq!(written, Once::Done(b"1".to_vec()));
        replace(
            &store,
            "inpatient",
            &[line("H1", "inpatient", 150)],
            "al-2",
            b"2",
        )
        .await;
        let other_block = [line("H1", "outpatient_pooling", 7)];
        replace(&store, "outpatient_pooling", &other_block, "al-3", b"3").await;
        let h1 = store
            .allocations_of(region, 2025, FundType::Employee, "H1")
            .await
            .expect("read");
        assert_eq!(
            h1,
            vec![
                line("H1", "inpatient", 150),
                line("H1", "outpatient_pooling", 7)
            ]
        );
        assert!(
            store
                .allocations_of(region, 2025, FundType::Employee, "H2")
                .await
                .expect("read")
                .is_empty(),
            "a new allocation of the block replaces the old one"
        );
        let replay = replace(&store, "inpatient", &first, "al-1", b"x").await;
        assert_eq!(replay, Once::Replayed(b"1".to_vec()));
    }
);
