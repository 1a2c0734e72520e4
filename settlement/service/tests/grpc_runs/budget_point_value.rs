//! The DIP budget point value: published from the ledger of its history years in versions, read
//! back, and taken by a monthly prepayment that records which version it priced with.

use super::*;

/// A valued case of county 460108 in `hospital`, discharged on `discharge`, as intake stores it
/// after points valued it with group score `base` and `coefficient`.
fn history_case(
    list_id: &str,
    mode: &str,
    discharge: i32,
    cost_fen: i64,
    (base, coefficient): (&str, &str),
) -> LedgerCase {
    LedgerCase {
        region: region("460108"),
        hospital_code: "H001".into(),
        list_id: list_id.into(),
        version: 1,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: discharge,
        payment_mode: mode.into(),
        group_code: "A15.0".into(),
        points: Points::from_scaled(0),
        total_cost: Money::from_fen(cost_fen),
        individual_burden: Money::from_fen(0),
        fund_amount: Money::from_fen(cost_fen),
        amount: None,
        person_id: String::new(),
        admission_date: 0,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Valued,
        valuation_error: String::new(),
        scheme_version: "dip@1".into(),
        table_version: "460100-2024-310@1".into(),
        valuation_json: format!(r#"{{"base":"{base}","coefficient":"{coefficient}"}}"#),
        content_hash: format!("{list_id}-{discharge}"),
        case_json: "{}".into(),
        request_id: "seed".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}

/// 2022: a DIP case of 8,000 at 500 × 1.2 = 600. 2023: a DIP case of 12,000 at 1000 × 1.2 =
/// 1,200 (its first version cost 20,000: only the latest counts) and a basic-level case of 5,000
/// at 400 × 1.05 = 420. 2024: a DIP case of 9,000 at 800 × 1 = 800. Not counted: a score-0 group,
/// a fee-for-service stay, a case of the resident fund.
async fn seed_history(db: &DatabaseConnection) {
    let mut first = history_case("A", "dip", 20230310, 2_000_000, ("1000", "1.2"));
    CaseStore::insert_current(db, &first).await.expect("A v1");
    first.version = 2;
    first.total_cost = Money::from_fen(1_200_000);
    first.content_hash = "A-v2".into();
    CaseStore::insert_current(db, &first).await.expect("A v2");
    let mut resident = history_case("E", "dip", 20240601, 9_999_900, ("900", "1.2"));
    resident.fund = FundType::Resident;
    let cases = vec![
        history_case(
            "B",
            "basic_level_disease",
            20231120,
            500_000,
            ("400", "1.05"),
        ),
        history_case("C", "dip", 20240115, 900_000, ("800", "1.0")),
        history_case("D", "dip", 20240220, 5_000_000, ("0", "1.2")),
        history_case("F", "dip", 20220505, 800_000, ("500", "1.2")),
        history_case("G", "fee_for_service", 20240707, 3_000_000, ("", "")),
        resident,
    ];
    CaseStore::insert_new_many(db, &cases).await.expect("seed");
}

/// March 2025 of H001: a DIP case of 1,234.5678 points with burden 2,345.67, and a day-surgery
/// case paid 9,730.00 with burden 2,000.00 (fund part 7,730.00).
async fn seed_month(db: &DatabaseConnection) {
    let mut dip = history_case("M1", "dip", 20250312, 1_500_000, ("1000", "1.2"));
    dip.points = Points::from_scaled(12_345_678);
    dip.individual_burden = Money::from_fen(234_567);
    let mut day = history_case("M2", "day_surgery", 20250320, 1_000_000, ("", ""));
    day.amount = Some(Money::from_fen(973_000));
    day.individual_burden = Money::from_fen(200_000);
    CaseStore::insert_new_many(db, &[dip, day])
        .await
        .expect("month");
}

fn weights(years: &[(i32, &str)]) -> Vec<pb::HistoryYearWeight> {
    years
        .iter()
        .map(|(year, weight)| pb::HistoryYearWeight {
            year: *year,
            weight: decimal(weight),
        })
        .collect()
}

fn publish(
    request_id: &str,
    history: Vec<pb::HistoryYearWeight>,
) -> pb::PublishDipBudgetPointValueRequest {
    pb::PublishDipBudgetPointValueRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        history,
    }
}

fn as_bureau<T>(message: T) -> Request<T> {
    as_principal(message, "bureau-460100", "run")
}

fn prepay_published(request_id: &str) -> pb::RunPrepaymentRequest {
    pb::RunPrepaymentRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        period: Some(common::YearMonth {
            year: 2025,
            month: 3,
        }),
        fund_type: FUND,
        provisional_point_value: None,
        month_budget: None,
        skip_unvalued: false,
        use_published_point_value: true,
    }
}

fn value_of(value: Option<&common::Decimal>) -> Decimal {
    value.expect("decimal").value.parse().expect("decimal")
}

/// Σ w × cost = 3 × 17,000 + 7 × 9,000 = 114,000; Σ w × score = 3 × 1,620 + 7 × 800 = 10,460;
/// 114,000 / 10,460 = 10.89866… → 10.8987. With the policy's 1:2:7 over 2022–2024: 105,000 /
/// 9,440 = 11.12288… → 11.1229.
#[tokio::test]
async fn published_from_the_weighted_history_in_versions_and_replayed_by_request_id() {
    let mut server = start().await;
    seed_history(&server.db).await;
    let first = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish(
            "pv-1",
            weights(&[(2023, "3"), (2024, "7")]),
        )))
        .await
        .expect("publish")
        .into_inner()
        .value
        .expect("value");
    assert_eq!(first.version, 1);
    assert_eq!(value_of(first.point_value.as_ref()), dec("10.8987"));
    assert_eq!(value_of(first.weighted_total_cost.as_ref()), dec("114000"));
    assert_eq!(value_of(first.weighted_case_scores.as_ref()), dec("10460"));
    let years: Vec<(i32, u64)> = first.history.iter().map(|y| (y.year, y.cases)).collect();
    assert_eq!(years, vec![(2023, 2), (2024, 1)]);
    assert_eq!(
        parse_money(first.history[0].total_cost.as_ref()),
        Money::from_fen(1_700_000)
    );
    assert_eq!(value_of(first.history[0].case_scores.as_ref()), dec("1620"));

    // A retry answers the version it published and stores nothing new.
    let replay = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish(
            "pv-1",
            weights(&[(2023, "3"), (2024, "7")]),
        )))
        .await
        .expect("replay")
        .into_inner()
        .value
        .expect("value");
    assert_eq!(replay, first);

    // No history named: the policy's three years 1:2:7, as the next version.
    let second = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish("pv-2", Vec::new())))
        .await
        .expect("publish")
        .into_inner()
        .value
        .expect("value");
    assert_eq!(second.version, 2);
    assert_eq!(value_of(second.point_value.as_ref()), dec("11.1229"));
    let years: Vec<i32> = second.history.iter().map(|y| y.year).collect();
    assert_eq!(years, vec![2022, 2023, 2024]);

    // Read back: the latest, or a named version, by the region's agency and its hospital.
    let get = |version| pb::GetDipBudgetPointValueRequest {
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        version,
    };
    let latest = server
        .client
        .get_dip_budget_point_value(as_agency(get(0)))
        .await
        .expect("latest")
        .into_inner()
        .value;
    assert_eq!(latest.as_ref(), Some(&second));
    let by_hospital = server
        .client
        .get_dip_budget_point_value(as_principal(get(1), "H001", "hospital"))
        .await
        .expect("version 1")
        .into_inner()
        .value;
    assert_eq!(by_hospital.as_ref(), Some(&first));
    let missing = server
        .client
        .get_dip_budget_point_value(as_agency(get(3)))
        .await
        .expect_err("no version 3");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        testing::error_reason(&missing),
        "BUDGET_POINT_VALUE_NOT_FOUND"
    );
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// round2(1,234.5678 × 10.8987) = 13,455.18; − 2,345.67 + 7,730.00 = 18,839.51; × 0.90 =
/// 16,955.56 (no deposit, as in Hainan). With version 2 (11.1229): 13,731.97 → 19,116.30 →
/// 17,204.67.
#[tokio::test]
async fn a_prepayment_prices_with_the_latest_published_version_and_keeps_it() {
    let mut server = start().await;
    seed_history(&server.db).await;
    seed_month(&server.db).await;
    server
        .client
        .put_settlement_policy(as_principal(
            pb::PutSettlementPolicyRequest {
                request_id: "hainan".into(),
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                policy_json: r#"{"prepayment":{"quality_deposit_rate":"0"}}"#.into(),
                reason: "Hainan: no deposit".into(),
                policy: None,
            },
            "bureau-460100",
            "configure",
        ))
        .await
        .expect("policy");

    let refused = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-0")))
        .await
        .expect_err("nothing published");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(testing::error_reason(&refused), "NO_BUDGET_POINT_VALUE");
    assert!(
        refused
            .message()
            .contains("region 460100, year 2025, fund 310"),
        "{}",
        refused.message()
    );

    server
        .client
        .publish_dip_budget_point_value(as_bureau(publish(
            "pv-1",
            weights(&[(2023, "3"), (2024, "7")]),
        )))
        .await
        .expect("publish");
    let run = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-1")))
        .await
        .expect("prepay")
        .into_inner();
    let totals = run.totals.clone().expect("totals");
    assert_eq!(value_of(totals.point_value.as_ref()), dec("10.8987"));
    assert_eq!(
        parse_money(totals.payable.as_ref()),
        Money::from_fen(1_695_556)
    );

    let csv = String::from_utf8(export(&mut server, &run.run_id, pb::ExportFormat::Csv).await)
        .expect("utf-8");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .ends_with(",point_value_source")
    );
    let row = lines.next().expect("H001");
    assert!(
        row.starts_with("H001,1234.5678,10.8987,18839.51,2345.67,"),
        "{row}"
    );
    assert!(
        row.ends_with(",DIP budget point value 460100 2025 fund 310 v1"),
        "{row}"
    );
    let stored = run_of(&mut server, &run.run_id).await.expect("run");
    let inputs: serde_json::Value = serde_json::from_str(&stored.inputs_json).expect("json");
    assert_eq!(inputs["point_value"]["source"], "dip_budget");
    assert_eq!(inputs["point_value"]["value"]["version"], 1);

    // A newer version changes neither the stored run nor its replay; a new run takes it.
    server
        .client
        .publish_dip_budget_point_value(as_bureau(publish("pv-2", Vec::new())))
        .await
        .expect("publish v2");
    let replay = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-1")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay, run);
    let rerun = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-2")))
        .await
        .expect("prepay again")
        .into_inner();
    assert_eq!(rerun.version, 2);
    let totals = rerun.totals.expect("totals");
    assert_eq!(value_of(totals.point_value.as_ref()), dec("11.1229"));
    assert_eq!(
        parse_money(totals.payable.as_ref()),
        Money::from_fen(1_720_467)
    );

    // A published value and a given one together are refused.
    let mut both = prepay_published("pp-3");
    both.provisional_point_value = decimal("10");
    let refused = server
        .client
        .run_prepayment(as_bureau(both))
        .await
        .expect_err("both");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        testing::violated_fields(&refused),
        vec!["provisional_point_value"]
    );
}

#[tokio::test]
async fn refusals_name_the_region_the_cases_and_the_history() {
    let mut server = start().await;
    seed_history(&server.db).await;

    // Another prefecture's caller reaches neither this region's value nor its ledger.
    let other = server
        .client
        .get_dip_budget_point_value(as_principal_in(
            "460200",
            pb::GetDipBudgetPointValueRequest {
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                version: 0,
            },
            "agency-460200",
            "agency",
        ))
        .await
        .expect_err("other region");
    assert_eq!(other.code(), Code::PermissionDenied);
    let other = server
        .client
        .publish_dip_budget_point_value(as_principal_in(
            "460200",
            publish("pv-x", Vec::new()),
            "bureau-460200",
            "run",
        ))
        .await
        .expect_err("other region");
    assert_eq!(other.code(), Code::PermissionDenied);

    // A bad history: every fault named, nothing stored.
    let bad = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish(
            "pv-bad",
            weights(&[(2025, "1"), (2024, "0"), (2024, "2")]),
        )))
        .await
        .expect_err("bad history");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        testing::violated_fields(&bad),
        vec!["history[0].year", "history[1].weight", "history[2].year"]
    );

    // A history year with nothing scored.
    let empty = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish("pv-e", weights(&[(2019, "1")]))))
        .await
        .expect_err("no scores");
    assert_eq!(empty.code(), Code::FailedPrecondition);
    assert_eq!(testing::error_reason(&empty), "NO_HISTORY_SCORES");

    // An unvalued case of a history year is named; a DIP case stored without its score too.
    let mut unvalued = history_case("U", "", 20240909, 100_000, ("", ""));
    unvalued.status = LedgerStatus::Unvalued;
    unvalued.valuation_error = "no table in force".into();
    let unscored = history_case("S", "dip", 20220909, 100_000, ("", ""));
    CaseStore::insert_new_many(&server.db, &[unvalued, unscored])
        .await
        .expect("seed");
    let refused = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish("pv-u", Vec::new())))
        .await
        .expect_err("unvalued");
    assert_eq!(testing::error_reason(&refused), "UNVALUED_CASES");
    assert!(
        refused.message().contains("H001/U (no table in force)"),
        "{}",
        refused.message()
    );
    let refused = server
        .client
        .publish_dip_budget_point_value(as_bureau(publish("pv-s", weights(&[(2022, "1")]))))
        .await
        .expect_err("unscored");
    assert_eq!(testing::error_reason(&refused), "MISSING_CASE_SCORE");
    assert!(
        refused.message().contains("H001/S"),
        "{}",
        refused.message()
    );

    let nothing = server
        .client
        .get_dip_budget_point_value(as_agency(pb::GetDipBudgetPointValueRequest {
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            version: 0,
        }))
        .await
        .expect_err("nothing published");
    assert_eq!(nothing.code(), Code::NotFound);
}

/// The Hainan DIP scheme withholds no quality deposit: 16,955.56 prepayable (as above) is paid
/// whole. A policy that states 5 % under the same scheme withholds round2(16,955.56 × 0.05) =
/// 847.78 and pays 16,107.78.
#[tokio::test]
async fn the_hainan_dip_scheme_withholds_no_deposit_unless_its_policy_states_one() {
    let mut server = start().await;
    seed_history(&server.db).await;
    seed_month(&server.db).await;
    let put_policy = |request_id: &str, json: &str| {
        as_principal(
            pb::PutSettlementPolicyRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                policy_json: json.into(),
                reason: "Hainan DIP".into(),
                policy: None,
            },
            "bureau-460100",
            "configure",
        )
    };
    server
        .client
        .put_settlement_policy(put_policy("scheme", r#"{"scheme":"hainan_dip"}"#))
        .await
        .expect("policy");
    server
        .client
        .publish_dip_budget_point_value(as_bureau(publish(
            "pv-1",
            weights(&[(2023, "3"), (2024, "7")]),
        )))
        .await
        .expect("publish");
    let run = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-hainan")))
        .await
        .expect("prepay")
        .into_inner();
    let line = first_statement(&mut server, &run.run_id).await;
    assert_eq!(amount(&line["quality_deposit"]), dec("0"));
    assert_eq!(amount(&line["payable"]), dec("16955.56"));

    server
        .client
        .put_settlement_policy(put_policy(
            "five",
            r#"{"scheme":"hainan_dip","prepayment":{"quality_deposit_rate":"0.05"}}"#,
        ))
        .await
        .expect("policy v2");
    let run = server
        .client
        .run_prepayment(as_bureau(prepay_published("pp-five")))
        .await
        .expect("prepay")
        .into_inner();
    let line = first_statement(&mut server, &run.run_id).await;
    assert_eq!(amount(&line["quality_deposit"]), dec("847.78"));
    assert_eq!(amount(&line["payable"]), dec("16107.78"));
    assert_eq!(
        parse_money(run.totals.expect("totals").payable.as_ref()),
        Money::from_fen(1_610_778)
    );
}

async fn first_statement(server: &mut Server, run_id: &str) -> serde_json::Value {
    let listed = server
        .client
        .list_statements(as_bureau(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            page_size: 10,
            ..Default::default()
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    serde_json::from_str(&listed[0].statement_json).expect("json")
}

fn amount(value: &serde_json::Value) -> Decimal {
    value.as_str().expect("amount").parse().expect("decimal")
}
