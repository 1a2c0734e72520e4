//! Valuation-table storage on every backend of the harness.

use kernel::FundType;
use platform::journal::{Call, Fingerprint, Once};
use platform::store_test;
use points_service::Migrator;
use points_service::store::{StoreError, StoredTable, TableKey, TableStatus, TableStore};

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

fn audit(request_id: &str, action: &str) -> Call {
    Call::with_fingerprint(
        "bureau",
        request_id,
        action,
        Fingerprint::of_parts(action, &[request_id.as_bytes()]),
        Some("460100".parse().expect("code")),
    )
}

fn encode(table: &StoredTable) -> Vec<u8> {
    table.version.to_be_bytes().to_vec()
}

fn version_of(once: &Once) -> i32 {
    i32::from_be_bytes(once.response().try_into().expect("four bytes"))
}

store_test!(
    drafts_are_numbered_activation_supersedes_and_requests_replay,
    Migrator,
    |db| {
        let store = TableStore::new(db.clone());
        let key = TableKey {
            region: "460100".parse().expect("code"),
            year: 2025,
            fund: FundType::Resident,
        };
        let first = store
            .put_draft(key, "{}", &audit("r1", "PutTable"), encode)
            .await
            .expect("put");
        assert_eq!(first, Once::Done(1i32.to_be_bytes().to_vec()));
        let replay = store
            .put_draft(key, "{}", &audit("r1", "PutTable"), encode)
            .await
            .expect("replay");
        assert_eq!(replay, Once::Replayed(1i32.to_be_bytes().to_vec()));
        store
            .put_draft(key, "{}", &audit("r2", "PutTable"), encode)
            .await
            .expect("second");
        store
            .activate(key, 1, 20250101, &audit("a1", "ActivateTable"), encode)
            .await
            .expect("activate 1");
        store
            .activate(key, 2, 20250701, &audit("a2", "ActivateTable"), encode)
            .await
            .expect("activate 2");
        let old = store
            .get(key.region, 2025, FundType::Resident, Some(1))
            .await
            .expect("read")
            .expect("v1");
        assert_eq!(old.status, TableStatus::Superseded);
        let active = store
            .get(key.region, 2025, FundType::Resident, None)
            .await
            .expect("read")
            .expect("active");
        assert_eq!((active.version, active.effective_from), (2, Some(20250701)));
        let refused = store
            .activate(key, 1, 20250101, &audit("a3", "ActivateTable"), encode)
            .await;
        assert!(matches!(
            refused,
            Err(StoreError::NotDraft { version: 1, .. })
        ));
        // The refused activation left no audit entry and no stored response.
        assert_eq!(store.audit_log().await.expect("audit").len(), 4);
        assert_eq!(
            store
                .replay(&audit("a3", "ActivateTable"))
                .await
                .expect("read"),
            None
        );
    }
);

store_test!(
    activations_are_every_activated_version_of_the_regions_asked_forward_only,
    Migrator,
    |db| {
        let store = TableStore::new(db.clone());
        let key = |region: &str| TableKey {
            region: region.parse().expect("code"),
            year: 2025,
            fund: FundType::Resident,
        };
        let (county, prefecture, other) = (key("460105"), key("460100"), key("460200"));
        for (n, (table, from)) in [
            (prefecture, Some(20250101)),
            (prefecture, Some(20250701)),
            (prefecture, None),
            (county, Some(20250301)),
            (other, Some(20250101)),
        ]
        .into_iter()
        .enumerate()
        {
            let put = store
                .put_draft(table, "{}", &audit(&format!("p{n}"), "PutTable"), encode)
                .await
                .expect("put");
            assert!(!put.is_replay(), "a new request is applied");
            if let Some(from) = from {
                store
                    .activate(
                        table,
                        version_of(&put),
                        from,
                        &audit(&format!("a{n}"), "ActivateTable"),
                        encode,
                    )
                    .await
                    .expect("activate");
            }
        }
        let found = store
            .activations(
                &[county.region, prefecture.region],
                2025,
                FundType::Resident,
            )
            .await
            .expect("read");
        let seen: Vec<_> = found
            .iter()
            .map(|a| (a.region.to_string(), a.version, a.effective_from))
            .collect();
        // The superseded version 1 stays, the draft and the other prefecture do not appear.
        assert_eq!(
            seen,
            vec![
                ("460100".to_owned(), 1, 20250101),
                ("460105".to_owned(), 1, 20250301),
                ("460100".to_owned(), 2, 20250701),
            ]
        );
        assert!(
            store
                .activations(&[county.region], 2025, FundType::Employee)
                .await
                .expect("read")
                .is_empty()
        );

        // Version 3 of the prefecture is a draft; it may not start on or before 1 July.
        for from in [20250701, 20250601] {
            let refused = store
                .activate(
                    prefecture,
                    3,
                    from,
                    &audit(&format!("late-{from}"), "ActivateTable"),
                    &encode,
                )
                .await;
            assert!(
                matches!(
                    refused,
                    Err(StoreError::NotAfterLatest { latest: 20250701 })
                ),
                "{refused:?}"
            );
        }
        store
            .activate(
                prefecture,
                3,
                20250702,
                &audit("late-ok", "ActivateTable"),
                &encode,
            )
            .await
            .expect("a later date is accepted");
    }
);
