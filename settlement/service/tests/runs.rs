//! Run storage on every backend: a clearing stored whole with its statements, re-runs as new
//! versions with equal digests, a refused run leaving nothing behind, replay by request id, and
//! the budget's sharing (asked before the transaction) used only on the ledger it was asked on.

use kernel::{FundType, Money, Points, RegionCode};
use platform::store_test;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::Migrator;
use settlement_service::runs::store::{self, settlement_run, settlement_statement};
use settlement_service::store::Database;
use settlement_service::store::case_clearing::settlement_case_clearing;
use settlement_service::store::journal::{Call, Fingerprint};
use settlement_service::store::ledger::{CaseFilter, CaseStore, LedgerCase, settlement_case};
use std::collections::BTreeMap;

use settlement_domain::ports::{SharingOutcome, SharingRequest};
use settlement_service::budget_peer::{BudgetError, BudgetPeer, ClearingKey};
use settlement_service::runs::clearing::ask_budget;
use settlement_service::runs::{BudgetAccess, ClearingOrder, RunError, YearInput, clear};

fn region(code: &str) -> RegionCode {
    code.parse().expect("region")
}

fn cases(hospitals: usize, per_hospital: i64) -> Vec<LedgerCase> {
    let mut cases = Vec::new();
    for h in 0..hospitals {
        for n in 0..per_hospital {
            cases.push(LedgerCase {
                region: region("460108"),
                hospital_code: format!("H{h:03}"),
                list_id: format!("L{n:05}"),
                version: 1,
                record_kind: RecordKind::Inpatient,
                fund: FundType::Employee,
                discharge_date: 20250101 + i32::try_from(n % 12 * 100 + n % 28).expect("day"),
                payment_mode: "drg".into(),
                group_code: "GB13".into(),
                points: Points::from_scaled(900_000 + 1_234 * n + 17 * h as i64),
                total_cost: Money::from_fen(1_500_000),
                individual_burden: Money::from_fen(280_000 + n),
                fund_amount: Money::from_fen(1_220_000 - n),
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
                content_hash: format!("{h}-{n}"),
                case_json: "{}".into(),
                request_id: "seed".into(),
                stored_at: 1_700_000_000,
                head: None,
            });
        }
    }
    cases
}

fn order(reason: &str) -> ClearingOrder {
    ClearingOrder {
        region: region("460100"),
        year: 2025,
        fund: FundType::Employee,
        distributable_budget: "987654.32".parse().expect("money"),
        skip_unvalued: false,
        reason: reason.into(),
        caller: "agency".into(),
        at: 1_760_000_000,
        deductions: None,
        scores: None,
    }
}

async fn clear_once(
    db: &DatabaseConnection,
    request_id: &str,
    order: ClearingOrder,
) -> Result<(String, String), RunError> {
    let audit = Call::with_fingerprint(
        "agency",
        request_id,
        "RunClearing",
        Fingerprint::of_parts("RunClearing", &[request_id.as_bytes()]),
        Some(order.region),
    );
    let done = Database::from(db.clone())
        .run_once(&audit, move |work| {
            Box::pin(async move {
                let run = clear(&work, &order, None).await?;
                let answer = format!("{}|{}", run.run_id, run.statements_digest);
                Ok::<_, RunError>((answer.clone().into_bytes(), answer))
            })
        })
        .await?;
    let text = String::from_utf8(done.response().to_vec()).expect("utf-8");
    let (run_id, digest) = text.split_once('|').expect("answer");
    Ok((run_id.to_owned(), digest.to_owned()))
}

async fn counts(db: &DatabaseConnection) -> (u64, u64) {
    (
        settlement_run::Entity::find()
            .count(db)
            .await
            .expect("runs"),
        settlement_statement::Entity::find()
            .count(db)
            .await
            .expect("statements"),
    )
}

store_test!(clearing_is_stored_whole_and_reproducible, Migrator, |db| {
    CaseStore::insert_new_many(db, &cases(4, 30))
        .await
        .expect("seed");

    // A deposit returned above what was withheld is refused, and nothing is stored.
    let inputs = vec![YearInput {
        hospital_code: "H001".into(),
        assessment_coefficient: "0.95".parse().expect("dec"),
        violation_deductions: Money::from_fen(10_000),
        deposit_returned: Money::from_fen(1),
        assessment_score: None,
    }];
    store::put_year_inputs(
        db,
        region("460100"),
        2025,
        FundType::Employee,
        &serde_json::to_string(&inputs).expect("json"),
        "agency",
        1,
    )
    .await
    .expect("inputs");
    let refused = clear_once(db, "r0", order("")).await.expect_err("refused");
    assert!(matches!(refused, RunError::Domain(_)), "{refused:?}");
    assert_eq!(counts(db).await, (0, 0));

    let inputs = vec![YearInput {
        deposit_returned: Money::ZERO,
        ..inputs[0].clone()
    }];
    store::put_year_inputs(
        db,
        region("460100"),
        2025,
        FundType::Employee,
        &serde_json::to_string(&inputs).expect("json"),
        "agency",
        2,
    )
    .await
    .expect("inputs");
    let (first_id, first_digest) = clear_once(db, "r1", order("")).await.expect("first");
    assert_eq!(counts(db).await, (1, 4));
    let first_run = store::get_run(db, &first_id)
        .await
        .expect("get")
        .expect("run");
    let first_rows = store::list_statements(db, &first_id, None, None)
        .await
        .expect("rows");

    let (second_id, second_digest) = clear_once(db, "r2", order("deduction corrected"))
        .await
        .expect("second");
    assert_ne!(first_id, second_id);
    assert_eq!(first_digest, second_digest);
    assert_eq!(counts(db).await, (2, 8));
    let second_rows = store::list_statements(db, &second_id, None, None)
        .await
        .expect("rows");
    let json = |rows: &[store::StatementRow]| {
        rows.iter()
            .map(|r| r.statement_json.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(json(&first_rows), json(&second_rows));
    let h001: serde_json::Value =
        serde_json::from_str(&first_rows[1].statement_json).expect("json");
    assert_eq!(h001["assessment_coefficient"], "0.95");

    // The first run is unchanged, and a retry of r1 replays it without a third version.
    assert_eq!(
        store::get_run(db, &first_id).await.expect("get"),
        Some(first_run)
    );
    let (replayed, _) = clear_once(db, "r1", order("")).await.expect("replay");
    assert_eq!(replayed, first_id);
    assert_eq!(counts(db).await, (2, 8));
});

/// Pays each hospital its standard and counts the calls.
#[derive(Default)]
struct StandardBudget {
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl BudgetPeer for StandardBudget {
    async fn share(
        &self,
        _: &kernel::Principal,
        _: &ClearingKey,
        requests: &[SharingRequest],
    ) -> Result<BTreeMap<String, SharingOutcome>, BudgetError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(requests
            .iter()
            .map(|r| {
                let outcome = SharingOutcome {
                    payable: r.standard,
                    tier: "standard".into(),
                };
                (r.hospital_code.clone(), outcome)
            })
            .collect())
    }

    async fn monthly_quotas(
        &self,
        _: &kernel::Principal,
        _: RegionCode,
        _: kernel::YearMonth,
        _: FundType,
    ) -> Result<BTreeMap<String, Money>, BudgetError> {
        Ok(BTreeMap::new())
    }
}

store_test!(
    sharing_asked_before_the_transaction_holds_only_for_an_unchanged_ledger,
    Migrator,
    |db| {
        let seeded = cases(3, 10);
        CaseStore::insert_new_many(db, &seeded[..20])
            .await
            .expect("seed");
        store::put_policy(
            db,
            (region("460100"), 2025, FundType::Employee),
            r#"{"clearing":{"sharing":"budget"}}"#,
            "sharing through the budget",
            "agency",
            1,
        )
        .await
        .expect("policy");
        let budget = StandardBudget::default();
        let principal = platform::testing::principal("agency", "460100", &["agency"]);
        let access = || {
            Some(BudgetAccess {
                peer: &budget,
                principal: &principal,
            })
        };

        let database = Database::from(db.clone());
        // A case arrives between the budget's answer and the transaction: nothing is stored.
        let stale = ask_budget(&database, &order(""), access())
            .await
            .expect("asked");
        CaseStore::insert_new_many(db, &seeded[20..])
            .await
            .expect("late case");
        let refused = clear(&database, &order(""), stale)
            .await
            .expect_err("stale");
        assert!(matches!(refused, RunError::Conflict(_)), "{refused:?}");
        assert_eq!(counts(db).await, (0, 0));

        // Asked again on the ledger as it stands, the clearing is stored, the budget asked once more.
        let shared = ask_budget(&database, &order(""), access())
            .await
            .expect("asked");
        let run = clear(&database, &order(""), shared).await.expect("cleared");
        assert_eq!(counts(db).await, (1, 3));
        assert_eq!(budget.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(
            run.inputs_json.contains(r#""sharing":"budget""#),
            "{}",
            run.inputs_json
        );

        // Without the budget's answers a sharing policy is refused before anything is stored.
        let unanswered = clear(&database, &order("again"), None)
            .await
            .expect_err("no answers");
        assert!(matches!(unanswered, RunError::Budget(_)), "{unanswered:?}");
    }
);

// A statement carries its run's region (m0020): written with each statement, and filled from the
// run for statements stored before the column.
store_test!(
    statements_carry_their_runs_region_through_the_migration,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        CaseStore::insert_new_many(db, &cases(3, 4))
            .await
            .expect("seed");
        let (run_id, _) = clear_once(db, "r1", order("")).await.expect("cleared");
        let regions = |rows: Vec<store::StatementRow>| {
            rows.iter().map(|row| row.region_code).collect::<Vec<_>>()
        };
        let stored = store::list_statements(db, &run_id, None, None)
            .await
            .expect("rows");
        assert_eq!(regions(stored), [460100; 3]);

        // Every migration after m0019 undone, however many follow m0020.
        let after_m0019 = u32::try_from(Migrator::migrations().len() - 19).expect("a few");
        Migrator::down(db, Some(after_m0019)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        let migrated = store::list_statements(db, &run_id, None, None)
            .await
            .expect("rows");
        assert_eq!(regions(migrated), [460100; 3]);
    }
);

/// The stored ledger rows whose own status column says cleared.
async fn cleared_in_the_ledger(db: &DatabaseConnection) -> u64 {
    // One column only: the ledger of a migration undone lacks the later ones.
    settlement_case::Entity::find()
        .select_only()
        .column(settlement_case::Column::Status)
        .filter(settlement_case::Column::Status.eq(LedgerStatus::Cleared.as_str()))
        .count(db)
        .await
        .expect("count")
}

/// The runs recorded as clearing each case version, in key order.
async fn clearings(db: &DatabaseConnection) -> Vec<(String, String, i32, String)> {
    let mut rows: Vec<_> = settlement_case_clearing::Entity::find()
        .all(db)
        .await
        .expect("clearings")
        .into_iter()
        .map(|row| (row.hospital_code, row.list_id, row.version, row.run_id))
        .collect();
    rows.sort();
    rows
}

/// The statuses `list` answers for `filter` over the whole region, by (hospital, list id).
async fn listed(db: &DatabaseConnection, status: Option<&str>) -> Vec<(String, LedgerStatus)> {
    let filter = CaseFilter {
        status: status.map(str::to_owned),
        ..CaseFilter::default()
    };
    CaseStore::new(db.clone())
        .list(region("460100"), &filter, None, 1_000)
        .await
        .expect("list")
        .into_iter()
        .map(|case| {
            (
                format!("{}/{}", case.hospital_code, case.list_id),
                case.status,
            )
        })
        .collect()
}

// A clearing records the versions it took beside the ledger, whose rows it leaves as they are:
// every read answers them cleared, ListCases' status filter finds them, RevalueCases leaves them,
// a re-run records nothing twice, and a later version reads as valued.
store_test!(
    a_clearing_is_recorded_apart_and_read_as_cleared,
    Migrator,
    |db| {
        CaseStore::insert_new_many(db, &cases(2, 3))
            .await
            .expect("seed");
        let (first_id, _) = clear_once(db, "r1", order("")).await.expect("cleared");

        let taken = clearings(db).await;
        assert_eq!(taken.len(), 6);
        assert!(
            taken
                .iter()
                .all(|(_, _, version, run)| *version == 1 && *run == first_id)
        );
        assert_eq!(
            cleared_in_the_ledger(db).await,
            0,
            "the ledger rows are not rewritten"
        );

        let all = listed(db, None).await;
        assert_eq!(all.len(), 6);
        assert!(
            all.iter()
                .all(|(_, status)| *status == LedgerStatus::Cleared),
            "{all:?}"
        );
        assert_eq!(listed(db, Some("cleared")).await, all);
        assert_eq!(listed(db, Some("valued")).await, []);
        let store = CaseStore::new(db.clone());
        let versions = store.versions("H001", "L00002").await.expect("versions");
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].status, LedgerStatus::Cleared);
        let current = CaseStore::current(db, "H001", "L00002")
            .await
            .expect("current")
            .expect("stored");
        assert_eq!(current.status, LedgerStatus::Cleared);
        let year = store
            .current_cases(region("460100"), FundType::Employee, 20250101, 20251231)
            .await
            .expect("cases");
        assert!(year.iter().all(|case| case.status == LedgerStatus::Cleared));
        let database = Database::from(db.clone());
        let revaluable = |database: Database| async move {
            CaseStore::revaluable(
                &database,
                region("460100"),
                FundType::Employee,
                (20250101, 20251231),
                true,
            )
            .await
            .expect("revaluable")
            .into_iter()
            .map(|case| format!("{}/{}", case.hospital_code, case.list_id))
            .collect::<Vec<_>>()
        };
        assert!(revaluable(database.clone()).await.is_empty());

        // A re-run is a new run that records nothing again: each version keeps the first run.
        let (second_id, _) = clear_once(db, "r2", order("re-run")).await.expect("re-run");
        assert_ne!(second_id, first_id);
        assert_eq!(clearings(db).await, taken);
        let recorded = store::mark_cleared(
            db,
            "again",
            region("460100"),
            FundType::Employee,
            (20250101, 20251231),
        )
        .await
        .expect("mark");
        assert_eq!(recorded, 0);
        assert_eq!(clearings(db).await, taken);

        // A corrected version after the clearing is valued until a clearing takes it.
        let corrected = LedgerCase {
            version: 2,
            content_hash: "corrected".into(),
            ..versions[0].clone()
        };
        let corrected = LedgerCase {
            status: LedgerStatus::Valued,
            ..corrected
        };
        CaseStore::insert_current(db, &corrected).await.expect("v2");
        let statuses: Vec<LedgerStatus> = store
            .versions("H001", "L00002")
            .await
            .expect("versions")
            .into_iter()
            .map(|case| case.status)
            .collect();
        assert_eq!(statuses, [LedgerStatus::Cleared, LedgerStatus::Valued]);
        assert_eq!(
            listed(db, Some("valued")).await,
            [("H001/L00002".to_owned(), LedgerStatus::Valued)]
        );
        assert_eq!(listed(db, Some("cleared")).await.len(), 5);
        assert_eq!(revaluable(database.clone()).await, ["H001/L00002"]);
        let (third_id, _) = clear_once(db, "r3", order("corrected"))
            .await
            .expect("third");
        let taken = clearings(db).await;
        assert_eq!(taken.len(), 7);
        assert!(taken.contains(&("H001".into(), "L00002".into(), 2, third_id)));
        assert_eq!(listed(db, Some("valued")).await, []);
    }
);

// Cases a clearing marked in the ledger's own status column before clearings were recorded apart
// (m0022) still read as cleared; going down writes the status back onto the rows the clearings
// name, so nothing cleared reads as valued on the older schema either.
store_test!(
    cases_cleared_before_m0022_and_after_down_stay_cleared,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        let mut seeded = cases(1, 4);
        seeded[3].status = LedgerStatus::Cleared;
        CaseStore::insert_new_many(db, &seeded).await.expect("seed");
        assert_eq!(
            listed(db, Some("cleared")).await,
            [("H000/L00003".to_owned(), LedgerStatus::Cleared)]
        );
        assert_eq!(listed(db, Some("valued")).await.len(), 3);
        clear_once(db, "r1", order("")).await.expect("cleared");
        assert_eq!(
            clearings(db).await.len(),
            3,
            "the marked case is taken already"
        );
        assert_eq!(listed(db, Some("cleared")).await.len(), 4);

        // Every migration after m0020 undone (m0021 and m0022), however many follow m0022.
        let after_m0020 = u32::try_from(Migrator::migrations().len() - 20).expect("a few");
        Migrator::down(db, Some(after_m0020)).await.expect("down");
        assert_eq!(cleared_in_the_ledger(db).await, 4);
        Migrator::up(db, None).await.expect("up");
        assert!(clearings(db).await.is_empty());
        assert_eq!(listed(db, Some("cleared")).await.len(), 4);
        assert_eq!(listed(db, Some("valued")).await, []);
    }
);

// The per-diem episode check of a re-run takes a stay a clearing took as it was cleared, though
// an earlier stay of its episode arrived since; a later version of the stay is checked again.
store_test!(
    a_rerun_takes_a_cleared_stay_as_it_was_cleared,
    Migrator,
    |db| {
        let stay = |list_id: &str, version: i32, (admitted, discharged): (i32, i32)| LedgerCase {
            hospital_code: "H000".into(),
            list_id: list_id.into(),
            version,
            discharge_date: discharged,
            payment_mode: "per_diem_psychiatric".into(),
            points: Points::ZERO,
            amount: Some(Money::from_fen(1_500_000)),
            person_id: "P1".into(),
            admission_date: admitted,
            episode_programme: "psychiatric".into(),
            content_hash: format!("{list_id}-{version}"),
            ..cases(1, 1)[0].clone()
        };
        let readmitted = (20250410, 20250420);
        // The year has cases paid in points besides the stay, as a clearing needs.
        let mut seeded = cases(1, 3);
        seeded.push(stay("B1", 1, readmitted));
        CaseStore::insert_new_many(db, &seeded).await.expect("seed");
        clear_once(db, "r1", order("")).await.expect("cleared");
        // B1 was valued with 0 prior days; the stay before it (58 days, ten days before) arrives now.
        CaseStore::insert_new_many(db, &[stay("A1", 1, (20250201, 20250331))])
            .await
            .expect("earlier stay");
        clear_once(db, "r2", order("A1 arrived"))
            .await
            .expect("the cleared stay is taken as cleared");

        CaseStore::insert_current(db, &stay("B1", 2, readmitted))
            .await
            .expect("v2");
        match clear_once(db, "r3", order("B1 corrected")).await {
            Err(RunError::Precondition { reason, message }) => {
                assert_eq!(reason, "EPISODE_DAYS_STALE");
                assert!(message.contains("H000/B1"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
);
