//! Per-diem episode days across a readmission, whatever the order the stays arrive in.

use super::*;

/// A psychiatric stay (principal F20.000) of `person` at H1, admitted on `admitted` and
/// discharged on `discharged` (`yyyy-mm-dd`).
fn psychiatric(list_id: &str, person: &str, admitted: &str, discharged: &str) -> Record {
    let json = sample_list_json("460108", "H1", list_id, discharged, "BA1")
        .replace(
            r#""code":"K35.800","name":"acute appendicitis""#,
            r#""code":"F20.000","name":"schizophrenia""#,
        )
        .replace(
            &format!(r#""psn_no":"P{list_id}""#),
            &format!(r#""psn_no":"{person}""#),
        )
        .replace(
            &format!(r#""admitted_at":"{discharged} 08:30""#),
            &format!(r#""admitted_at":"{admitted} 08:30""#),
        );
    Record::List(json)
}

store_test!(
    per_diem_days_accumulate_across_a_readmission_whatever_the_order_of_arrival,
    Migrator,
    |db| {
        use settlement_domain::prepayment::ProvisionalPointValue;
        use settlement_service::intake::RevaluationOrder;
        use settlement_service::runs::{PrepaymentOrder, RunError, prepay};
        use settlement_service::store::Database;

        register(db, "H1").await;
        let intake = Intake::new(db.clone(), FakeValuer::new(dec!(2)));
        let store = CaseStore::new(db.clone());
        let submit = |id: &'static str, records: Vec<Record>| {
            let intake = intake.clone();
            async move {
                intake
                    .submit("vendor", id, "SubmitCaseBatch", region("460100"), records)
                    .await
                    .expect("stored")
            }
        };
        let stored = |list_id: &'static str| {
            let store = store.clone();
            async move {
                let case = store.versions("H1", list_id).await.expect("versions");
                let case = case.last().cloned().expect("stored");
                (case.payment_mode, case.prior_episode_days, case.amount)
            }
        };
        // In order: P2's stays 58 days (1 Feb → 31 Mar) then readmitted on day 15 (15 Apr, 10
        // days): days 59..68, all past day 56 → 10 × 95.00. P3 readmitted on day 16: a new
        // episode of 10 days, acute, paid by its DIP group.
        submit(
            "u1",
            vec![
                psychiatric("A2", "P2", "2025-02-01", "2025-03-31"),
                psychiatric("A3", "P3", "2025-02-01", "2025-03-31"),
            ],
        )
        .await;
        submit(
            "u2",
            vec![
                psychiatric("B2", "P2", "2025-04-15", "2025-04-25"),
                psychiatric("B3", "P3", "2025-04-16", "2025-04-26"),
            ],
        )
        .await;
        // A: 56 × 150.00 + 2 × 95.00.
        assert_eq!(
            stored("A2").await,
            (
                "per_diem_psychiatric".to_owned(),
                0,
                Some("8590".parse().expect("money"))
            )
        );
        assert_eq!(
            stored("B2").await,
            (
                "per_diem_psychiatric".to_owned(),
                58,
                Some("950".parse().expect("money"))
            )
        );
        assert_eq!(stored("B3").await, ("dip".to_owned(), 0, None));

        // Out of order: P1's readmission (10 Apr, 10 days) arrives before the stay it continues
        // (1 Feb → 31 Mar, 58 days, discharged 10 days before).
        submit(
            "u3",
            vec![psychiatric("B1", "P1", "2025-04-10", "2025-04-20")],
        )
        .await;
        submit(
            "u4",
            vec![psychiatric("A1", "P1", "2025-02-01", "2025-03-31")],
        )
        .await;
        assert_eq!(stored("B1").await, ("dip".to_owned(), 0, None));
        let database = Database::from(db.clone());
        let order = PrepaymentOrder {
            region: region("460100"),
            month: YearMonth::new(2025, 4).expect("month"),
            fund: FundType::Employee,
            point_value: ProvisionalPointValue::Published(dec!(10)).into(),
            skip_unvalued: false,
            caller: "bureau".into(),
            at: 1_700_000_000,
        };
        // The run refuses, naming the stay and the days its stays give.
        match prepay(&database, &order, None).await {
            Err(RunError::Precondition { reason, message }) => {
                assert_eq!(reason, "EPISODE_DAYS_STALE");
                assert!(message.starts_with("1 per-diem stay(s)"), "{message}");
                assert!(
                    message.contains("H1/B1 (valued with 0 prior days, its stays give 58)"),
                    "{message}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Revaluing the period applies the days: B1 becomes days 59..68, per diem.
        let revaluation = intake
            .revalue(&RevaluationOrder {
                region: region("460100"),
                fund: FundType::Employee,
                discharged: (20250101, 20251231),
                include_valued: true,
                request_id: "rv".into(),
                stored_at: 1_700_000_100,
            })
            .await
            .expect("revalued");
        let revalued: Vec<&str> = revaluation
            .versions
            .iter()
            .map(|case| case.list_id.as_str())
            .collect();
        assert_eq!(revalued, ["B1"]);
        for case in &revaluation.versions {
            CaseStore::insert_current(db, case).await.expect("stored");
        }
        assert_eq!(
            stored("B1").await,
            (
                "per_diem_psychiatric".to_owned(),
                58,
                Some("950".parse().expect("money"))
            )
        );
        prepay(&database, &order, None)
            .await
            .expect("the month is prepaid once every stay is valued with its days");
    }
);

/// A migrated database file, as a server has it (a pool of connections, unlike the in-memory
/// database of `store_test!`), with H1 registered; the folder holds it while the test runs.
async fn database_file_with_h1() -> (tempfile::TempDir, DatabaseConnection) {
    use sea_orm_migration::MigratorTrait;

    let folder = tempfile::tempdir().expect("folder");
    let url = platform::db::sqlite_url(&folder.path().join("medpay.db"));
    let db = platform::db::connect(&url).await.expect("database file");
    Migrator::up(&db, None).await.expect("migrated");
    register(&db, "H1").await;
    (folder, db)
}

/// On a database file, as a server has it, the next chunk of an upload gathers its facts while
/// the one before is stored, and values its stays only once that one is: a readmission in the
/// chunk after its first stay counts that stay's days, as it would arriving in a later upload.
#[tokio::test]
async fn a_readmission_in_the_chunk_after_its_first_stay_counts_that_stays_days() {
    let (_folder, db) = database_file_with_h1().await;
    readmissions_count_the_first_stays_in_the_chunks_before(&db).await;
    db.close().await.expect("closed");
}

store_test!(
    readmissions_count_the_first_stays_in_the_chunks_stored_beside_them,
    Migrator,
    |db| {
        // On PostgreSQL the chunks of an upload are stored side by side.
        register(db, "H1").await;
        readmissions_count_the_first_stays_in_the_chunks_before(db).await;
    }
);

/// Twelve persons' first stays, each followed by its readmission in the next chunk of one
/// upload (one record a chunk): every readmission is valued while the chunk of its first stay
/// is stored, unless it waits for it.
async fn readmissions_count_the_first_stays_in_the_chunks_before(db: &DatabaseConnection) {
    let people: Vec<String> = (1..=12).map(|i| format!("P{i}")).collect();
    let records: Vec<Record> = people
        .iter()
        .flat_map(|person| {
            [
                psychiatric(&format!("A{person}"), person, "2025-02-01", "2025-03-31"),
                psychiatric(&format!("B{person}"), person, "2025-04-15", "2025-04-25"),
            ]
        })
        .collect();
    let outcome = Intake::new(db.clone(), FakeValuer::new(dec!(2)))
        .with_chunk(1)
        .submit("vendor", "u1", "SubmitCaseBatch", region("460100"), records)
        .await
        .expect("stored");
    assert_eq!((outcome.accepted, outcome.rejected), (24, 0));
    let store = CaseStore::new(db.clone());
    for person in &people {
        let versions = store
            .versions("H1", &format!("B{person}"))
            .await
            .expect("versions");
        let readmission = versions.last().expect("stored");
        // Days 59..68 of the episode, all past day 56: 10 × 95.00.
        assert_eq!(
            (
                readmission.payment_mode.as_str(),
                readmission.prior_episode_days,
                readmission.amount
            ),
            (
                "per_diem_psychiatric",
                58,
                Some("950".parse().expect("money"))
            ),
            "the readmission of {person}"
        );
    }
}

/// A correction in the chunk before that makes a person's per-diem stay an acute one ends the
/// episode for the readmission in the next chunk, valued beside it.
#[tokio::test]
async fn a_correction_in_the_chunk_before_that_ends_an_episode_reaches_the_readmission() {
    let (_folder, db) = database_file_with_h1().await;
    let people: Vec<String> = (1..=12).map(|i| format!("P{i}")).collect();
    let first_stays: Vec<Record> = people
        .iter()
        .map(|person| psychiatric(&format!("A{person}"), person, "2025-02-01", "2025-03-31"))
        .collect();
    let intake = Intake::new(db.clone(), FakeValuer::new(dec!(2))).with_chunk(1);
    intake
        .submit(
            "vendor",
            "u1",
            "SubmitCaseBatch",
            region("460100"),
            first_stays,
        )
        .await
        .expect("first stays");
    // Each first stay corrected to an appendicitis of one day, then its person readmitted.
    let acute = |person: &str| {
        let json = sample_list_json("460108", "H1", &format!("A{person}"), "2025-03-31", "BA2")
            .replace(
                &format!(r#""psn_no":"PA{person}""#),
                &format!(r#""psn_no":"{person}""#),
            );
        Record::List(json)
    };
    let corrections: Vec<Record> = people
        .iter()
        .flat_map(|person| {
            [
                acute(person),
                psychiatric(&format!("B{person}"), person, "2025-04-15", "2025-04-25"),
            ]
        })
        .collect();
    let outcome = intake
        .submit(
            "vendor",
            "u2",
            "SubmitCaseBatch",
            region("460100"),
            corrections,
        )
        .await
        .expect("corrections");
    assert_eq!((outcome.corrected, outcome.accepted), (12, 12));
    let store = CaseStore::new(db.clone());
    for person in &people {
        let corrected = store
            .versions("H1", &format!("A{person}"))
            .await
            .expect("versions");
        assert_eq!(corrected.len(), 2, "the first stay of {person} corrected");
        assert!(
            corrected[1].episode_programme.is_empty(),
            "the corrected stay of {person} is paid by {}",
            corrected[1].payment_mode
        );
        let readmission = store
            .versions("H1", &format!("B{person}"))
            .await
            .expect("versions");
        let readmission = readmission.last().expect("stored");
        // A new episode of 10 days: acute, paid by its DIP group, not days 59..68 per diem.
        assert_eq!(
            (
                readmission.payment_mode.as_str(),
                readmission.prior_episode_days,
                readmission.amount
            ),
            ("dip", 0, None),
            "the readmission of {person}"
        );
    }
    db.close().await.expect("closed");
}

store_test!(
    intake_cuts_an_upload_in_chunks_the_size_of_its_database,
    Migrator,
    |db| {
        use settlement_service::intake::{DEFAULT_CHUNK, SQLITE_CHUNK};
        use settlement_service::store::Database;
        let chunk = Intake::new(db.clone(), FakeValuer::new(dec!(2))).chunk_size();
        // SQLite's single writer commits a chunk at a time; PostgreSQL stores several at once.
        let expected = if Database::from(db.clone()).takes_concurrent_writers() {
            DEFAULT_CHUNK
        } else {
            SQLITE_CHUNK
        };
        assert_eq!(chunk, expected);
    }
);
