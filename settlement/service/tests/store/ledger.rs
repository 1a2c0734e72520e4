//! The ledger's versions: a correction retires the version before, a chunk is stored whole and
//! exactly, runs read the current cases of their region, fund and period, and rows stored before
//! the amount and stay columns keep them.

use kernel::{FundType, Money, Points};
use platform::store_test;
use settlement_service::Migrator;
use settlement_service::store::ledger::{CaseFilter, CaseStore, StoreError};

use super::{ALL, case, region};

store_test!(a_correction_replaces_the_current_version, Migrator, |db| {
    let store = CaseStore::new(db.clone());
    CaseStore::insert_current(db, &case("460108", "H001", "L1", 1, 20250115))
        .await
        .expect("insert");
    // The same list id at another hospital is another case.
    CaseStore::insert_current(db, &case("460108", "H002", "L1", 1, 20250120))
        .await
        .expect("insert");
    CaseStore::insert_current(db, &case("460108", "H001", "L1", 2, 20250115))
        .await
        .expect("correction");
    assert!(
        CaseStore::insert_current(db, &case("460108", "H001", "L1", 2, 20250115))
            .await
            .is_err(),
        "a version is stored once"
    );

    let listed = store
        .list(region("460100"), &CaseFilter::default(), None, ALL)
        .await
        .expect("list");
    let keys: Vec<(&str, &str, i32)> = listed
        .iter()
        .map(|c| (c.hospital_code.as_str(), c.list_id.as_str(), c.version))
        .collect();
    assert_eq!(keys, vec![("H001", "L1", 2), ("H002", "L1", 1)]);
    assert_eq!(listed[0].points, Points::from_scaled(1_575_002));
    assert_eq!(listed[0].individual_burden, Money::from_fen(300_000));

    let versions = store.versions("H001", "L1").await.expect("versions");
    assert_eq!(
        versions.iter().map(|c| c.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let current = CaseStore::current(db, "H001", "L1")
        .await
        .expect("current")
        .expect("stored");
    assert_eq!(current.version, 2);
});

store_test!(
    runs_read_current_cases_of_the_region_fund_and_period,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        let mut resident = case("460108", "H003", "L9", 1, 20250110);
        resident.fund = FundType::Resident;
        CaseStore::insert_new_many(
            db,
            &[
                case("460108", "H001", "L1", 1, 20250131),
                case("460105", "H002", "L2", 1, 20250201),
                case("460201", "H009", "L3", 1, 20250115),
                resident,
            ],
        )
        .await
        .expect("bulk insert");

        let january = store
            .current_cases(region("460100"), FundType::Employee, 20250101, 20250131)
            .await
            .expect("scan");
        assert_eq!(
            january.len(),
            1,
            "February, another prefecture and the resident fund are out"
        );
        assert_eq!(january[0].hospital_code, "H001");

        let province = store
            .current_cases(region("460000"), FundType::Employee, 20250101, 20251231)
            .await
            .expect("scan");
        assert_eq!(province.len(), 3);
        let county = store
            .current_cases(region("460105"), FundType::Employee, 20250101, 20251231)
            .await
            .expect("scan");
        assert_eq!(county.len(), 1);

        let filtered = store
            .list(
                region("460000"),
                &CaseFilter {
                    fund: Some(FundType::Resident),
                    ..CaseFilter::default()
                },
                None,
                ALL,
            )
            .await
            .expect("list");
        assert_eq!(filtered.len(), 1);
    }
);

store_test!(
    a_chunk_of_versions_is_stored_whole_and_exactly,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        // Every character the bulk path has to escape, and some it must leave alone.
        let mut awkward = case("460108", "H001", "L1", 1, 20250131);
        awkward.case_json =
            "{\"name\":\"张三 \\\"quoted\\\"\",\"path\":\"C:\\\\temp\\\\new\"}".into();
        awkward.valuation_error = "line one\nline two\r\n\tindented \\N \\. end".into();
        awkward.group_code = "\\".into();
        awkward.points = Points::from_scaled(-12_345);
        awkward.total_cost = Money::from_fen(i64::MAX / 1_000);
        let mut corrected = case("460108", "H001", "L2", 2, 20250131);
        corrected.case_json = "{\"changed\":true}".into();
        CaseStore::store_versions(
            db,
            &[
                awkward.clone(),
                case("460108", "H001", "L2", 1, 20250131),
                corrected.clone(),
            ],
        )
        .await
        .expect("chunk");
        assert_eq!(
            store.versions("H001", "L1").await.expect("read"),
            vec![awkward.clone()]
        );
        let l2 = store.versions("H001", "L2").await.expect("read");
        assert_eq!(l2.iter().map(|c| c.version).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(l2[1], corrected);
        let current = CaseStore::current(db, "H001", "L2")
            .await
            .expect("current")
            .expect("stored");
        assert_eq!(current.version, 2, "the correction retired version 1");

        // A chunk with one version already taken stores nothing of itself.
        let taken = CaseStore::store_versions(
            db,
            &[
                case("460108", "H001", "L3", 1, 20250131),
                case("460108", "H001", "L1", 1, 20250131),
            ],
        )
        .await;
        assert!(matches!(taken, Err(StoreError::VersionTaken)), "{taken:?}");
        assert!(store.versions("H001", "L3").await.expect("read").is_empty());

        // Current hashes of exactly the pairs asked for: H002/L1 is not H001/L1.
        CaseStore::store_versions(db, &[case("460108", "H002", "L9", 1, 20250131)])
            .await
            .expect("other hospital");
        let mut hashes = CaseStore::current_hashes(
            db,
            &[
                ("H001", "L1"),
                ("H001", "L2"),
                ("H002", "L1"),
                ("H001", "L9"),
            ],
        )
        .await
        .expect("hashes");
        hashes.sort();
        assert_eq!(
            hashes,
            vec![
                ("H001".into(), "L1".into(), 1, "H001-L1-1".into()),
                ("H001".into(), "L2".into(), 2, "H001-L2-2".into()),
            ]
        );
    }
);
// A case stored before the ledger kept amounts and stay facts in columns (m0009, m0010) is read
// with them after the upgrade: the migrations copy them from its valuation and its list.
store_test!(
    cases_stored_before_the_amount_and_stay_columns_keep_them,
    Migrator,
    |db| {
        use sea_orm::{ConnectionTrait, Statement};
        use sea_orm_migration::MigratorTrait;

        // Every migration after the eighth (m0008) undone, however many follow it.
        let after_m0008 = u32::try_from(Migrator::migrations().len() - 8).expect("a few");
        Migrator::down(db, Some(after_m0008))
            .await
            .expect("back to m0008");
        db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "INSERT INTO settlement_case (hospital_code, list_id, version, region_code, is_current, \
         record_kind, fund_type, discharge_date, payment_mode, group_code, points_scaled, \
         total_fen, individual_burden_fen, fund_fen, status, valuation_error, scheme_version, \
         table_version, valuation_json, content_hash, case_json, request_id, stored_at) VALUES \
         ('H1', 'L1', 1, 460108, true, 'inpatient', 310, 20250421, 'per_diem_rehabilitation', \
         'GZ11', 0, 1200000, 300000, 900000, 'valued', '', 'demo@1', '1', \
         '{\"amount\":\"6000.00\",\"payment_mode\":\"PER_DIEM_REHABILITATION\"}', 'abc', \
         '{\"header\":{\"psn_no\":\"P7\"},\"stay\":{\"admitted_at\":\"2025-04-01 08:30:00\",\
         \"planned_readmission_31d\":true}}', 'old', 1700000000)",
    ))
    .await
    .expect("an old row");
        Migrator::up(db, None).await.expect("upgraded");

        let case = CaseStore::current(db, "H1", "L1")
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(case.amount, Some(Money::from_fen(600_000)));
        assert_eq!(case.person_id, "P7");
        assert_eq!(case.admission_date, 20250401);
        assert!(case.planned_readmission);
        // Valued before stays named their per-diem programme: no part in a chain until revalued.
        assert_eq!(
            (case.episode_programme.as_str(), case.prior_episode_days),
            ("", 0)
        );
    }
);
