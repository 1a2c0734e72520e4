//! Intake and the institution registry on every backend of the harness.

use std::sync::Arc;

use kernel::{FundType, RegionCode, YearMonth};
use platform::store_test;
use rust_decimal_macros::dec;
use sea_orm::DatabaseConnection;
use settlement_domain::admission::{Record, reason};
use settlement_service::Migrator;
use settlement_service::intake::{Intake, IntakeError};
use settlement_service::store::closed_months;
use settlement_service::store::institutions::{
    self, AgreementRow, InstitutionRow, RegistryError, RegistryRefusal,
};
use settlement_service::store::ledger::{CaseFilter, CaseStore, status};

mod episodes;

#[path = "../support/mod.rs"]
mod support;
use support::{FakeValuer, sample_list_json, sample_outpatient_json};

/// Enough rows for every listing of these tests, in one page.
const ALL: u64 = 500;

fn region(code: &str) -> RegionCode {
    code.parse().expect("region code")
}

fn hospital(code: &str, county: &str, level: &str, from: i32) -> InstitutionRow {
    InstitutionRow {
        code: code.into(),
        name: format!("Hospital {code}"),
        region: region(county),
        level: level.into(),
        institution_type: "general".into(),
        alliance_code: String::new(),
        effective_from: from,
        reason: String::new(),
    }
}

fn agreement(id: &str, from: i32, to: i32, status: &str) -> AgreementRow {
    AgreementRow {
        agreement_id: id.into(),
        valid_from: from,
        valid_to: to,
        status: status.into(),
    }
}

/// Registers `code` in county 460108 with an active agreement for 2025.
async fn register(db: &DatabaseConnection, code: &str) {
    institutions::put_institution(db, &hospital(code, "460108", "3A", 20200101), "setup")
        .await
        .expect("institution");
    institutions::put_agreement(
        db,
        region("460000"),
        code,
        &agreement("A2025", 20250101, 20251231, "active"),
        "annual agreement",
        "setup",
    )
    .await
    .expect("agreement");
}

fn list(hospital: &str, list_id: &str, day: &str) -> Record {
    Record::List(sample_list_json("460108", hospital, list_id, day, "BA1"))
}

store_test!(institution_history_and_agreements, Migrator, |db| {
    assert_eq!(
        institutions::put_institution(db, &hospital("H1", "460108", "2A", 20200101), "r1")
            .await
            .expect("first version"),
        1
    );
    // A change needs a reason and a later date.
    let mut upgraded = hospital("H1", "460108", "3B", 20230701);
    assert!(matches!(
        institutions::put_institution(db, &upgraded, "r2").await,
        Err(RegistryError::Refused(
            RegistryRefusal::ReasonRequired { .. }
        ))
    ));
    upgraded.reason = "upgraded after review".into();
    assert_eq!(
        institutions::put_institution(db, &upgraded, "r2")
            .await
            .expect("change"),
        2
    );
    let mut backdated = hospital("H1", "460108", "3A", 20230701);
    backdated.reason = "typo".into();
    assert!(matches!(
        institutions::put_institution(db, &backdated, "r3").await,
        Err(RegistryError::Refused(
            RegistryRefusal::HistoryOutOfOrder { .. }
        ))
    ));
    institutions::put_institution(db, &hospital("H2", "460203", "1", 20200101), "r4")
        .await
        .expect("other prefecture");

    let history = institutions::history(db, "H1").await.expect("history");
    assert_eq!(
        history.iter().map(|r| r.level.as_str()).collect::<Vec<_>>(),
        ["2A", "3B"]
    );
    let haikou = institutions::list(db, region("460100"), None, ALL)
        .await
        .expect("list");
    assert_eq!(
        haikou.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["H1"]
    );
    assert_eq!(
        institutions::list(db, region("460000"), None, ALL)
            .await
            .expect("province")
            .len(),
        2
    );

    // An agreement outside the institution's region is refused exactly like one for an
    // institution nobody registered; a known id is changed.
    let elsewhere = institutions::put_agreement(
        db,
        region("460200"),
        "H1",
        &agreement("A1", 20250101, 20251231, "active"),
        "",
        "r5",
    )
    .await
    .expect_err("another region's institution");
    let unregistered = institutions::put_agreement(
        db,
        region("460200"),
        "H0",
        &agreement("A1", 20250101, 20251231, "active"),
        "",
        "r5",
    )
    .await
    .expect_err("an unregistered institution");
    assert!(matches!(
        elsewhere,
        RegistryError::Refused(RegistryRefusal::UnknownInstitution { .. })
    ));
    assert_eq!(
        elsewhere.to_string().replace("H1", "H0"),
        unregistered.to_string()
    );
    institutions::put_agreement(
        db,
        region("460100"),
        "H1",
        &agreement("A1", 20250101, 20251231, "active"),
        "",
        "r5",
    )
    .await
    .expect("agreement");
    let records = institutions::records(db, &["H1".to_owned(), "H2".to_owned()])
        .await
        .expect("records");
    let on = |d: i32| kernel::date::Date::from_yyyymmdd(d).expect("date");
    assert!(records["H1"].has_valid_agreement(on(20250615)));
    assert!(!records["H1"].has_valid_agreement(on(20260101)));
    assert!(!records["H2"].has_valid_agreement(on(20250615)));
    assert_eq!(
        records["H1"]
            .as_of(on(20240101))
            .map(|i| i.institution_type),
        records["H1"]
            .as_of(on(20200101))
            .map(|i| i.institution_type)
    );
    let all = institutions::put_agreement(
        db,
        region("460100"),
        "H1",
        &agreement("A1", 20250101, 20250630, "suspended"),
        "suspended for audit",
        "r6",
    )
    .await
    .expect("suspend");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, "suspended");
    let records = institutions::records(db, &["H1".to_owned()])
        .await
        .expect("records");
    assert!(!records["H1"].has_valid_agreement(on(20250615)));
});

store_test!(
    intake_answers_every_record_and_stores_the_good_ones,
    Migrator,
    |db| {
        register(db, "H1").await;
        institutions::put_institution(db, &hospital("H9", "460108", "2A", 20200101), "setup")
            .await
            .expect("institution without agreement");
        let valuer = FakeValuer::refusing(dec!(1.25), &["N40.x00"]);
        let intake = Intake::new(db.clone(), valuer.clone());
        let mut bad_sex = sample_list_json("460108", "H1", "L3", "2025-06-15", "BA1");
        bad_sex = bad_sex.replace("\"sex\":2", "\"sex\":7");
        let unvaluable = sample_list_json("460108", "H1", "L4", "2025-06-15", "BA1")
            .replace("\"code\":\"K35.800\"", "\"code\":\"N40.x00\"")
            .replace("\"sex\":2", "\"sex\":1");
        let records = vec![
            list("H1", "L1", "2025-06-15"),
            Record::List("{\"header\": {\"setl_id\": 5}}".into()),
            Record::List(bad_sex),
            Record::List(unvaluable),
            list("H9", "L5", "2025-06-15"),
            Record::List(sample_list_json("460203", "H1", "L6", "2025-06-15", "BA1")),
            Record::Ambulatory(sample_outpatient_json("460108", "H1", "M1", "2025-06-16")),
            list("H1", "L7", "2026-01-15"),
        ];
        let outcome = intake
            .submit("vendor", "u1", "SubmitCaseBatch", region("460100"), records)
            .await
            .expect("upload");
        assert_eq!(outcome.accepted, 3, "{outcome:?}");
        assert_eq!(outcome.rejected, 5, "{outcome:?}");
        let by_position = |p: u64| {
            outcome
                .rejections
                .iter()
                .filter(|r| r.position == p)
                .collect::<Vec<_>>()
        };
        let unreadable = by_position(1);
        assert_eq!(unreadable[0].code, reason::UNREADABLE);
        assert_eq!(unreadable[0].field, "header.setl_id");
        let sex = by_position(2);
        assert_eq!(sex[0].list_id, "L3");
        assert_eq!(sex[0].field, "patient.sex");
        assert_eq!(sex[0].code, "sex_invalid");
        assert_eq!(by_position(4)[0].code, reason::NO_VALID_AGREEMENT);
        assert_eq!(by_position(5)[0].code, reason::REGION_OUTSIDE_UPLOAD);
        // The agreement covers 2025 only.
        assert_eq!(by_position(7)[0].code, reason::NO_VALID_AGREEMENT);

        let store = CaseStore::new(db.clone());
        let stored = store
            .list(region("460000"), &CaseFilter::default(), None, ALL)
            .await
            .expect("list");
        let summary: Vec<_> = stored
            .iter()
            .map(|c| {
                (
                    c.list_id.as_str(),
                    c.record_kind.as_str(),
                    c.status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("L1", "inpatient", status::VALUED),
                ("L4", "inpatient", status::UNVALUED),
                ("M1", "outpatient", status::RECORDED),
            ]
        );
        assert_eq!(stored[0].group_code, "GK35");
        assert_eq!(stored[0].points.value(), dec!(1.25));
        assert_eq!(stored[0].scheme_version, "fake@1");
        assert_eq!(stored[0].fund, FundType::Employee);
        assert!(stored[1].valuation_error.contains("N40.x00"));
        assert_eq!(stored[2].fund, FundType::Resident);
        // A chunk's lists are valued when it is read, before the ledger decides them: L1 and L4
        // (stored, L4 unvalued since the valuer refuses its diagnosis), and L5 (no agreement)
        // and L7 (after the agreement), refused by the decision and stored nowhere (above).
        assert_eq!(valuer.valued.load(std::sync::atomic::Ordering::SeqCst), 4);
    }
);

store_test!(
    intake_is_idempotent_and_keeps_every_version,
    Migrator,
    |db| {
        register(db, "H1").await;
        let intake = Intake::new(db.clone(), FakeValuer::new(dec!(2)));
        let upload = || {
            vec![
                list("H1", "L1", "2025-06-15"),
                list("H1", "L2", "2025-06-20"),
            ]
        };
        let first = intake
            .submit(
                "vendor",
                "u1",
                "SubmitCaseBatch",
                region("460100"),
                upload(),
            )
            .await
            .expect("first");
        assert_eq!((first.accepted, first.replayed), (2, false));
        // The same request id replays the stored answer.
        let replay = intake
            .submit(
                "vendor",
                "u1",
                "SubmitCaseBatch",
                region("460100"),
                upload(),
            )
            .await
            .expect("replay");
        assert!(replay.replayed);
        assert_eq!(replay.accepted, 2);
        // The same content under a new request id is a no-op.
        let again = intake
            .submit(
                "vendor",
                "u2",
                "SubmitCaseBatch",
                region("460100"),
                upload(),
            )
            .await
            .expect("again");
        assert_eq!((again.accepted, again.unchanged), (0, 2));
        // A changed list is a new version; the old one stays.
        let changed = vec![Record::List(sample_list_json(
            "460108",
            "H1",
            "L1",
            "2025-06-15",
            "BA2",
        ))];
        let corrected = intake
            .submit("vendor", "u3", "SubmitCaseBatch", region("460100"), changed)
            .await
            .expect("correction");
        assert_eq!(corrected.corrected, 1);
        let store = CaseStore::new(db.clone());
        let versions = store.versions("H1", "L1").await.expect("versions");
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_ne!(versions[0].content_hash, versions[1].content_hash);
        assert_eq!(versions[1].request_id, "u3");
        assert!(versions[1].case_json.contains("BA2"));
        assert_eq!(
            store
                .list(region("460100"), &CaseFilter::default(), None, ALL)
                .await
                .expect("list")
                .len(),
            2
        );

        // After the month closes, a changed list is refused and an unchanged one is still a no-op.
        closed_months::close(
            db,
            region("460100"),
            FundType::Employee,
            YearMonth::new(2025, 6).expect("month"),
            "run-1",
            1,
        )
        .await
        .expect("close");
        let late = vec![
            Record::List(sample_list_json("460108", "H1", "L2", "2025-06-20", "BA9")),
            Record::List(sample_list_json("460108", "H1", "L1", "2025-06-15", "BA2")),
        ];
        let refused = intake
            .submit("vendor", "u4", "SubmitCaseBatch", region("460100"), late)
            .await
            .expect("late");
        assert_eq!((refused.rejected, refused.unchanged), (1, 1));
        assert_eq!(refused.rejections[0].code, reason::MONTH_CLOSED);
        assert_eq!(refused.rejections[0].list_id, "L2");
        assert_eq!(store.versions("H1", "L2").await.expect("v").len(), 1);
    }
);

store_test!(
    each_case_is_decided_in_upload_order_across_chunks,
    Migrator,
    |db| {
        register(db, "H1").await;
        // Chunks of two, stored side by side where the backend allows: L1 changes in the first,
        // third and last chunk, and comes back unchanged in the fourth.
        let version = |list_id: &str, case_number: &str| {
            Record::List(sample_list_json(
                "460108",
                "H1",
                list_id,
                "2025-06-15",
                case_number,
            ))
        };
        let mut upload = vec![version("L1", "BA1"), version("L2", "BA1")];
        upload.extend((3..=4).map(|i| version(&format!("L{i}"), "BA1")));
        upload.extend([version("L1", "BA2"), version("L5", "BA1")]);
        upload.extend([version("L1", "BA2"), version("L6", "BA1")]);
        upload.extend((7..=10).map(|i| version(&format!("L{i}"), "BA1")));
        upload.extend([version("L7", "BA1"), version("L1", "BA3")]);
        let intake = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(2);
        let outcome = intake
            .submit("vendor", "u1", "SubmitCases", region("460100"), upload)
            .await
            .expect("upload");
        assert_eq!(
            (
                outcome.accepted,
                outcome.corrected,
                outcome.unchanged,
                outcome.rejected
            ),
            (10, 2, 2, 0)
        );
        let store = CaseStore::new(db.clone());
        let versions = store.versions("H1", "L1").await.expect("versions");
        let numbers: Vec<(i32, bool)> = versions
            .iter()
            .map(|v| (v.version, v.case_json.contains("BA3")))
            .collect();
        assert_eq!(numbers, [(1, false), (2, false), (3, true)]);
        assert!(versions[1].case_json.contains("BA2"));
        let current = CaseStore::current(db, "H1", "L1")
            .await
            .expect("current")
            .expect("stored");
        assert_eq!(current.version, 3);
        assert_eq!(
            store
                .list(region("460100"), &CaseFilter::default(), None, ALL)
                .await
                .expect("list")
                .len(),
            10
        );
    }
);

store_test!(
    an_unreachable_peer_stores_nothing_of_its_chunk,
    Migrator,
    |db| {
        register(db, "H1").await;
        let upload = || {
            (1..=5)
                .map(|i| list("H1", &format!("L{i}"), "2025-06-15"))
                .collect::<Vec<_>>()
        };
        // Chunks of two, stored one after another: the second chunk's valuation fails.
        let broken = Intake::new(db.clone(), FakeValuer::failing_after(dec!(1), 1))
            .with_chunk(2)
            .with_stores_in_flight(1);
        let failed = broken
            .submit("vendor", "u1", "SubmitCases", region("460100"), upload())
            .await;
        assert!(matches!(failed, Err(IntakeError::Unavailable(_))));
        let store = CaseStore::new(db.clone());
        let stored = store
            .list(region("460100"), &CaseFilter::default(), None, ALL)
            .await
            .expect("list");
        assert_eq!(stored.len(), 2, "only the first chunk is stored");
        // The retry stores the rest and counts what was stored as unchanged; nothing twice.
        let healthy = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(2);
        let retried = healthy
            .submit("vendor", "u1", "SubmitCases", region("460100"), upload())
            .await
            .expect("retry");
        assert_eq!((retried.accepted, retried.unchanged), (3, 2));
        for i in 1..=5 {
            let versions = store
                .versions("H1", &format!("L{i}"))
                .await
                .expect("versions");
            assert_eq!(versions.len(), 1);
        }
    }
);

store_test!(
    concurrent_uploads_of_one_batch_store_each_case_once,
    Migrator,
    |db| {
        register(db, "H1").await;
        let upload = || {
            (0..200)
                .map(|i| list("H1", &format!("L{i:04}"), "2025-06-15"))
                .collect::<Vec<_>>()
        };
        let first = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(50);
        let second = Intake::new(db.clone(), Arc::new(FakeValuer::default())).with_chunk(50);
        let (a, b) = tokio::join!(
            first.submit("vendor", "a", "SubmitCaseBatch", region("460100"), upload()),
            second.submit("vendor", "b", "SubmitCaseBatch", region("460100"), upload()),
        );
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert_eq!(a.accepted + b.accepted, 200, "{a:?} {b:?}");
        assert_eq!(a.unchanged + b.unchanged, 200);
        let store = CaseStore::new(db.clone());
        let stored = store
            .list(region("460100"), &CaseFilter::default(), None, ALL)
            .await
            .expect("list");
        assert_eq!(stored.len(), 200);
        assert!(stored.iter().all(|c| c.version == 1));
    }
);

store_test!(
    a_request_id_names_one_body_on_every_backend,
    Migrator,
    |db| {
        register(db, "H1").await;
        let upload = |mark: &str| {
            (1..=5)
                .map(|i| {
                    Record::List(sample_list_json(
                        "460108",
                        "H1",
                        &format!("L{i}"),
                        "2025-06-15",
                        mark,
                    ))
                })
                .collect::<Vec<_>>()
        };
        let store = CaseStore::new(db.clone());
        let count = || async {
            store
                .list(region("460100"), &CaseFilter::default(), None, ALL)
                .await
                .expect("list")
                .len()
        };
        // Broken after its first chunk of two.
        let broken = Intake::new(db.clone(), FakeValuer::failing_after(dec!(1), 1))
            .with_chunk(2)
            .with_stores_in_flight(1);
        let failed = broken
            .submit(
                "vendor",
                "u1",
                "SubmitCases",
                region("460100"),
                upload("BA1"),
            )
            .await;
        assert!(matches!(failed, Err(IntakeError::Unavailable(_))));
        assert_eq!(count().await, 2);
        let healthy = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(2);
        // Another body under u1: its first chunk differs from the stored one.
        let forged = healthy
            .submit(
                "vendor",
                "u1",
                "SubmitCases",
                region("460100"),
                upload("BA2"),
            )
            .await;
        assert!(
            matches!(&forged, Err(IntakeError::RequestIdReused { request_id, .. }) if request_id == "u1"),
            "{forged:?}"
        );
        assert_eq!(count().await, 2, "nothing of the other body is stored");
        // The upload itself resumes, then answers its retries; another caller's u1 is its own.
        let resumed = healthy
            .submit(
                "vendor",
                "u1",
                "SubmitCases",
                region("460100"),
                upload("BA1"),
            )
            .await
            .expect("resume");
        assert_eq!((resumed.accepted, resumed.unchanged), (3, 2));
        let again = healthy
            .submit(
                "vendor",
                "u1",
                "SubmitCases",
                region("460100"),
                upload("BA1"),
            )
            .await
            .expect("replay");
        assert!(again.replayed);
        let mut longer = upload("BA1");
        longer.push(list("H1", "L6", "2025-06-15"));
        let completed_differs = healthy
            .submit("vendor", "u1", "SubmitCases", region("460100"), longer)
            .await;
        assert!(matches!(
            completed_differs,
            Err(IntakeError::RequestIdReused { .. })
        ));
        assert_eq!(count().await, 5);
        for i in 1..=5 {
            let versions = store
                .versions("H1", &format!("L{i}"))
                .await
                .expect("versions");
            assert_eq!(versions.len(), 1, "L{i}");
            assert!(versions[0].case_json.contains("BA1"));
        }

        // Two attempts of one upload at once: both answer, each case is stored once.
        let many = || {
            (0..40)
                .map(|i| list("H1", &format!("C{i:03}"), "2025-06-15"))
                .collect::<Vec<_>>()
        };
        let first = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(10);
        let second = Intake::new(db.clone(), FakeValuer::new(dec!(1))).with_chunk(10);
        let (a, b) = tokio::join!(
            first.submit("vendor", "c", "SubmitCaseBatch", region("460100"), many()),
            second.submit("vendor", "c", "SubmitCaseBatch", region("460100"), many()),
        );
        let (a, b) = (a.expect("a"), b.expect("b"));
        // The one to finish second answers with the first one's stored outcome.
        assert_eq!(
            (a.accepted, a.corrected, a.unchanged),
            (b.accepted, b.corrected, b.unchanged)
        );
        assert_eq!(a.accepted + a.unchanged, 40, "{a:?}");
        assert!(a.replayed || b.replayed);
        assert_eq!(count().await, 45);
        for i in 0..40 {
            let versions = store
                .versions("H1", &format!("C{i:03}"))
                .await
                .expect("versions");
            assert_eq!(versions.len(), 1);
        }
    }
);
