//! Run storage on every backend: a clearing stored whole with its statements, re-runs as new
//! versions with equal digests, a refused run leaving nothing behind, replay by request id, and
//! the budget's sharing (asked before the transaction) used only on the ledger it was asked on.

use kernel::{FundType, Money, Points, RegionCode};
use platform::store_test;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::Migrator;
use settlement_service::runs::store::{self, settlement_run, settlement_statement};
use settlement_service::store::Database;
use settlement_service::store::journal::{Call, Fingerprint};
use settlement_service::store::ledger::{CaseStore, LedgerCase};
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

        Migrator::down(db, Some(1)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        let migrated = store::list_statements(db, &run_id, None, None)
            .await
            .expect("rows");
        assert_eq!(regions(migrated), [460100; 3]);
    }
);
