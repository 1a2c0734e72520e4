//! Case-ledger and month-calendar storage on every backend of the harness.

use kernel::{FundType, Money, Points, RegionCode, YearMonth};
use platform::store_test;
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::Migrator;
use settlement_service::runs::RunError;
use settlement_service::store::closed_months;
use settlement_service::store::ledger::{CaseFilter, CaseKey, CaseStore, LedgerCase, StoreError};

/// Enough rows for every listing of these tests, in one page.
const ALL: u64 = 50;

fn region(code: &str) -> RegionCode {
    code.parse().expect("region code")
}

fn case(county: &str, hospital: &str, list_id: &str, version: i32, discharge: i32) -> LedgerCase {
    LedgerCase {
        region: region(county),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        version,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: discharge,
        payment_mode: "drg".into(),
        group_code: "GB13".into(),
        points: Points::from_scaled(1_575_000 + i64::from(version)),
        total_cost: Money::from_fen(1_500_000),
        individual_burden: Money::from_fen(300_000),
        fund_amount: Money::from_fen(1_200_000),
        amount: None,
        person_id: String::new(),
        admission_date: 0,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Valued,
        valuation_error: String::new(),
        scheme_version: "demo@1".into(),
        table_version: "460100-2025-310@1".into(),
        valuation_json: "{}".into(),
        content_hash: format!("{hospital}-{list_id}-{version}"),
        case_json: "{}".into(),
        request_id: "r1".into(),
        stored_at: 1_700_000_000,
    }
}

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

store_test!(closing_a_prefecture_closes_its_counties, Migrator, |db| {
    let january = YearMonth::new(2025, 1).expect("month");
    let february = YearMonth::new(2025, 2).expect("month");
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, january)
            .await
            .expect("read")
    );
    assert!(
        closed_months::close(
            db,
            region("460100"),
            FundType::Employee,
            january,
            "run-1",
            1
        )
        .await
        .expect("close")
    );
    assert!(
        !closed_months::close(
            db,
            region("460100"),
            FundType::Employee,
            january,
            "run-2",
            2
        )
        .await
        .expect("close again"),
        "closing twice changes nothing"
    );
    assert!(
        closed_months::is_closed(db, region("460108"), FundType::Employee, january)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Resident, january)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, february)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460201"), FundType::Employee, january)
            .await
            .expect("read")
    );
});

fn close_march(
    run_id: &'static str,
) -> impl for<'t> FnOnce(
    settlement_service::store::UnitOfWork<'t>,
) -> settlement_service::store::journal::Effect<'t, RunError> {
    move |work| {
        Box::pin(async move {
            let month = YearMonth::new(2025, 3).expect("month");
            closed_months::close(
                &work,
                region("460108"),
                FundType::Employee,
                month,
                run_id,
                1,
            )
            .await?;
            Ok((run_id.as_bytes().to_vec(), format!("closed by {run_id}")))
        })
    }
}

store_test!(a_request_id_is_carried_out_once, Migrator, |db| {
    use settlement_service::store::Database;
    use settlement_service::store::journal::{self, Call, Fingerprint, Once};
    let database = Database::from(db.clone());
    let audit = Call::with_fingerprint(
        "county-460108",
        "req-1",
        "CloseMonth",
        Fingerprint::of_parts("CloseMonth", &[b"460108 2025-03"]),
        Some(region("460108")),
    );
    let first = database
        .run_once(&audit, close_march("run-1"))
        .await
        .expect("first");
    assert_eq!(first, Once::Done(b"run-1".to_vec()));
    let again = database
        .run_once(&audit, close_march("run-2"))
        .await
        .expect("retry");
    assert_eq!(
        again,
        Once::Replayed(b"run-1".to_vec()),
        "the first answer is replayed"
    );
    let entries = journal::audit_entries(db).await.expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].detail, "closed by run-1");

    // A failing effect writes nothing, so the same request id can be retried.
    let failing = Call {
        request_id: "req-2".into(),
        ..audit
    };
    let failed = database
        .run_once(&failing, |work| -> journal::Effect<'_, RunError> {
            Box::pin(async move {
                let month = YearMonth::new(2025, 4).expect("month");
                closed_months::close(
                    &work,
                    region("460108"),
                    FundType::Employee,
                    month,
                    "run-3",
                    1,
                )
                .await?;
                Err(RunError::Internal("refused".into()))
            })
        })
        .await;
    assert!(failed.is_err());
    let april = YearMonth::new(2025, 4).expect("month");
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, april)
            .await
            .expect("read"),
        "a failing unit of work stores nothing of its effect"
    );
    assert_eq!(journal::audit_entries(db).await.expect("audit").len(), 1);
    let retried = database
        .run_once(&failing, |_work| -> journal::Effect<'_, RunError> {
            Box::pin(async { Ok((b"ok".to_vec(), "ok".into())) })
        })
        .await
        .expect("retry after failure");
    assert_eq!(retried, Once::Done(b"ok".to_vec()));
});

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

/// Walks a listing page by page as ListCases does: `size` rows after the last key of the page
/// before; `between` runs after every page.
async fn walk_pages(
    store: &CaseStore,
    region_code: &str,
    filter: &CaseFilter,
    size: u64,
    mut between: impl AsyncFnMut(usize),
) -> Vec<LedgerCase> {
    let mut seen = Vec::new();
    let mut after: Option<CaseKey> = None;
    for page in 0.. {
        let rows = store
            .list(region(region_code), filter, after.as_ref(), size)
            .await
            .expect("page");
        after = rows.last().map(CaseKey::of);
        let full = rows.len() as u64 == size;
        seen.extend(rows);
        if !full {
            break;
        }
        between(page).await;
    }
    seen
}

store_test!(
    keyset_pages_list_every_case_once_while_cases_arrive_between_pages,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        // Two counties of Haikou and one of Sanya; hospitals whose codes interleave across them.
        let mut initial = Vec::new();
        for (county, hospital) in [
            ("460105", "H2"),
            ("460105", "H5"),
            ("460108", "H1"),
            ("460108", "H3"),
            ("460201", "H4"),
        ] {
            for n in 0..7 {
                initial.push(case(county, hospital, &format!("L{n:02}"), 1, 20250115));
            }
        }
        CaseStore::insert_new_many(db, &initial)
            .await
            .expect("insert");

        let arrivals = std::cell::RefCell::new(Vec::new());
        let listed = walk_pages(&store, "460100", &CaseFilter::default(), 4, async |page| {
            let db = db.clone();
            // A case that sorts before every page already read, one that sorts after, a
            // correction of the first case (already listed) and of the last (not yet listed).
            let early = case("460105", "H0", &format!("N{page:02}"), 1, 20250116);
            let late = case("460108", "H9", &format!("N{page:02}"), 1, 20250116);
            CaseStore::insert_new_many(&db, &[early.clone(), late.clone()])
                .await
                .expect("arrivals");
            if page == 1 {
                for (hospital, county) in [("H2", "460105"), ("H3", "460108")] {
                    CaseStore::insert_current(&db, &case(county, hospital, "L06", 2, 20250115))
                        .await
                        .expect("correction");
                }
            }
            arrivals.borrow_mut().push((early, late));
        })
        .await;

        let keys: Vec<CaseKey> = listed.iter().map(CaseKey::of).collect();
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "strictly in key order, so no case twice: {keys:?}"
        );
        let haikou: Vec<&LedgerCase> = initial
            .iter()
            .filter(|c| c.region.to_string().starts_with("4601"))
            .collect();
        for case in &haikou {
            assert_eq!(
                listed
                    .iter()
                    .filter(|l| l.hospital_code == case.hospital_code && l.list_id == case.list_id)
                    .count(),
                1,
                "{}/{} listed once",
                case.hospital_code,
                case.list_id
            );
        }
        assert!(
            listed.iter().all(|c| c.hospital_code != "H4"),
            "Sanya is out"
        );
        let corrected = |hospital: &str| {
            listed
                .iter()
                .find(|c| c.hospital_code == hospital && c.list_id == "L06")
                .map(|c| c.version)
        };
        assert_eq!(
            corrected("H3"),
            Some(2),
            "a correction ahead is listed as corrected"
        );
        let arrivals = arrivals.into_inner();
        assert!(!arrivals.is_empty());
        for (early, late) in &arrivals {
            let listed_as = |wanted: &LedgerCase| {
                listed
                    .iter()
                    .filter(|c| {
                        c.hospital_code == wanted.hospital_code && c.list_id == wanted.list_id
                    })
                    .count()
            };
            assert_eq!(listed_as(early), 0, "behind the pages read: next listing's");
            assert_eq!(listed_as(late), 1, "ahead of the pages read: listed once");
        }
        assert_eq!(
            listed.len(),
            haikou.len() + arrivals.len(),
            "every case of the start once, every later one ahead once"
        );
    }
);

store_test!(
    keyset_pages_of_a_filter_skip_what_it_leaves_out,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        let mut cases = Vec::new();
        for n in 0..20 {
            let mut stored = case("460105", "H1", &format!("L{n:02}"), 1, 20250101 + n);
            if n % 3 == 0 {
                stored.fund = FundType::Resident;
            }
            cases.push(stored);
        }
        CaseStore::insert_new_many(db, &cases)
            .await
            .expect("insert");
        let resident = CaseFilter {
            fund: Some(FundType::Resident),
            ..CaseFilter::default()
        };
        let listed = walk_pages(&store, "460105", &resident, 2, async |_| {}).await;
        let ids: Vec<&str> = listed.iter().map(|c| c.list_id.as_str()).collect();
        let expected: Vec<String> = (0..20)
            .filter(|n| n % 3 == 0)
            .map(|n| format!("L{n:02}"))
            .collect();
        assert_eq!(ids, expected);

        // A key from below the region never reaches outside it.
        CaseStore::insert_new_many(db, &[case("460106", "H1", "X1", 1, 20250101)])
            .await
            .expect("insert");
        let outside = CaseKey(460_100, "H0".into(), "L00".into());
        let listed = store
            .list(region("460106"), &CaseFilter::default(), Some(&outside), 10)
            .await
            .expect("list");
        let ids: Vec<&str> = listed.iter().map(|c| c.list_id.as_str()).collect();
        assert_eq!(ids, ["X1"]);
    }
);

store_test!(
    budget_point_values_are_versions_over_the_current_dip_paid_cases,
    Migrator,
    |db| {
        use kernel::Decimal;
        use settlement_domain::budget_point_value::HistoryWeight;
        use settlement_service::runs::point_value::{
            PublishOrder, for_prepayment, publish, published,
        };
        use settlement_service::store::Database;

        let scored = |county: &str, list_id: &str, mode: &str, fen: i64, discharge: i32| {
            let mut stored = case(county, "H001", list_id, 1, discharge);
            stored.payment_mode = mode.into();
            stored.total_cost = Money::from_fen(fen);
            stored.valuation_json = r#"{"base":"1234.5678","coefficient":"1.15"}"#.into();
            stored
        };
        CaseStore::insert_new_many(
            db,
            &[
                // 1,234.5678 × 1.15 = 1,419.752970 each.
                scored("460108", "L1", "dip", 1_000_001, 20240101),
                scored("460105", "L2", "basic_level_disease", 2_000_003, 20241231),
                // Another prefecture, another mode, another year: not read.
                scored("460201", "L3", "dip", 9_000_000, 20240601),
                scored("460108", "L4", "drg", 9_000_000, 20240601),
                scored("460108", "L5", "dip", 9_000_000, 20250101),
            ],
        )
        .await
        .expect("insert");
        let database = Database::from(db.clone());
        let key = (region("460100"), 2025, FundType::Employee);
        assert!(
            published(&database, key, None)
                .await
                .expect("read")
                .is_none()
        );
        let order = PublishOrder {
            key,
            history: Some(vec![HistoryWeight {
                year: 2024,
                weight: Decimal::new(7, 1),
            }]),
            caller: "bureau".into(),
            at: 1_700_000_000,
        };
        let first = publish(&database, &order).await.expect("publish");
        // 30,000.04 / 2,839.505940 = 10.56523… (the weight cancels).
        assert_eq!(first.value.point_value, Decimal::new(105_652, 4));
        assert_eq!(first.value.history[0].cases, 2);
        assert_eq!(
            first.value.history[0].case_scores,
            Decimal::new(283_950_594, 5)
        );
        let second = publish(&database, &order).await.expect("publish again");
        assert_eq!((first.row.version, second.row.version), (1, 2));
        let read = published(&database, key, Some(1))
            .await
            .expect("read")
            .expect("v1");
        assert_eq!(read.value, first.value);
        let latest = for_prepayment(&database, key).await.expect("latest");
        assert_eq!(
            (latest.version, latest.value),
            (2, Decimal::new(105_652, 4))
        );
        let other_fund = (region("460100"), 2025, FundType::Resident);
        match for_prepayment(&database, other_fund).await {
            Err(RunError::Precondition { reason, .. }) => {
                assert_eq!(reason, "NO_BUDGET_POINT_VALUE")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
);

store_test!(
    warnings_are_kept_once_per_record_content_with_the_versions,
    Migrator,
    |db| {
        use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};
        use settlement_service::store::Database;
        use settlement_service::store::warnings::{self, KeptWarnings};
        let database = Database::from(db.clone());
        let warning = |level, code: &str, field: &str| IntakeWarning {
            level,
            code: code.into(),
            field: field.into(),
            detail: format!("{code} at {field}"),
        };
        let first = case("460108", "H001", "L1", 1, 20250115);
        let kept = KeptWarnings {
            region: first.region,
            hospital_code: "H001".into(),
            list_id: "L1".into(),
            content_hash: first.content_hash.clone(),
            warnings: vec![
                warning(
                    WarningLevel::Warning,
                    "symptom_as_principal",
                    "diagnoses[0].code",
                ),
                warning(
                    WarningLevel::Error,
                    "unknown_diagnosis_code",
                    "diagnoses[0].code",
                ),
            ],
        };
        CaseStore::store_marked_versions(
            &database,
            std::slice::from_ref(&first),
            std::slice::from_ref(&kept),
            None,
        )
        .await
        .expect("stored");
        // A second version of the same content (a revaluation) keeps the same warnings: storing
        // them again changes nothing.
        let mut second = case("460108", "H001", "L1", 2, 20250115);
        second.content_hash = first.content_hash.clone();
        CaseStore::store_marked_versions(&database, &[second], std::slice::from_ref(&kept), None)
            .await
            .expect("stored again");
        let key = (
            "H001".to_owned(),
            "L1".to_owned(),
            first.content_hash.clone(),
        );
        let other = (
            "H002".to_owned(),
            "L1".to_owned(),
            first.content_hash.clone(),
        );
        let found = warnings::of_contents(db, &[key.clone(), other.clone()])
            .await
            .expect("read");
        assert_eq!(found.get(&key), Some(&kept.warnings));
        assert_eq!(
            found.get(&other),
            None,
            "another hospital's list of that id"
        );
    }
);

/// Each stored content's warnings and each recheck's version, with the region stored with it.
async fn warning_regions(
    db: &sea_orm::DatabaseConnection,
) -> (Vec<(String, i32)>, Vec<(i32, i32)>) {
    use sea_orm::{EntityTrait, QueryOrder};
    use settlement_service::store::rechecked_warnings::case_recheck;
    use settlement_service::store::warnings::case_warning;
    let warnings = case_warning::Entity::find()
        .order_by_asc(case_warning::Column::ContentHash)
        .all(db)
        .await
        .expect("warnings");
    let rechecks = case_recheck::Entity::find()
        .order_by_asc(case_recheck::Column::Version)
        .all(db)
        .await
        .expect("rechecks");
    (
        warnings
            .into_iter()
            .map(|row| (row.content_hash, row.region_code))
            .collect(),
        rechecks
            .into_iter()
            .map(|row| (row.version, row.region_code))
            .collect(),
    )
}

// A version's warnings carry its region (m0021): written with them, and filled from the case
// versions for warnings stored before the column; a correction that moves a case to another
// region moves only the warnings of its new content.
store_test!(
    warnings_carry_their_versions_region_through_the_migration,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};
        use settlement_service::store::Database;
        use settlement_service::store::rechecked_warnings::{self, Recheck};
        use settlement_service::store::warnings::{self, KeptWarnings};
        let database = Database::from(db.clone());
        let found = vec![IntakeWarning {
            level: WarningLevel::Warning,
            code: "symptom_as_principal".into(),
            field: "diagnoses[0].code".into(),
            detail: "R10.4".into(),
        }];
        let kept = |case: &LedgerCase| KeptWarnings {
            region: case.region,
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            content_hash: case.content_hash.clone(),
            warnings: found.clone(),
        };
        let first = case("460108", "H001", "L1", 1, 20250115);
        let moved = case("460106", "H001", "L1", 2, 20250115);
        for version in [&first, &moved] {
            CaseStore::store_marked_versions(
                &database,
                std::slice::from_ref(version),
                &[kept(version)],
                None,
            )
            .await
            .expect("stored");
        }
        // A revaluation stores the moved content again, with what its grouping found.
        let mut revalued = case("460106", "H001", "L1", 3, 20250115);
        revalued.content_hash = moved.content_hash.clone();
        CaseStore::insert_current(db, &revalued)
            .await
            .expect("revalued");
        rechecked_warnings::insert(
            db,
            &[Recheck {
                region: revalued.region,
                hospital_code: revalued.hospital_code.clone(),
                list_id: revalued.list_id.clone(),
                version: revalued.version,
                content_hash: revalued.content_hash.clone(),
                warnings: Vec::new(),
            }],
        )
        .await
        .expect("rechecked");
        let expected = (
            vec![
                (first.content_hash.clone(), 460108),
                (moved.content_hash.clone(), 460106),
            ],
            vec![(3, 460106)],
        );
        assert_eq!(warning_regions(db).await, expected);

        // Every migration after m0020 undone, however many follow m0021.
        let after_m0020 = u32::try_from(Migrator::migrations().len() - 20).expect("a few");
        Migrator::down(db, Some(after_m0020)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        assert_eq!(warning_regions(db).await, expected);
        // The keys as migrated still refuse a content's warnings twice.
        warnings::insert(db, &[kept(&first), kept(&moved)])
            .await
            .expect("stored again");
        assert_eq!(warning_regions(db).await, expected);
    }
);
