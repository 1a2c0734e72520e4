//! SettlementRunService over a real socket: policy, year inputs, prepayment and month close,
//! year-end clearing (identity to the fen, byte-identical re-runs, versions, replay), statements
//! and their exports, disputes with the hospital's own-statement rule, shadow settlement.

use kernel::{Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use platform::testing;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::runs::export::sha256_hex;
use settlement_service::store::institutions::{self, InstitutionRow};
use settlement_service::store::ledger::{CaseStore, LedgerCase, settlement_case, status};
use settlement_service::{Migrator, SettlementRunApi};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

const REGION: &str = "460100";
const FUND: i32 = 310;

struct Server {
    client: SettlementRunServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn start() -> Server {
    let db = testing::sqlite::<Migrator>().await;
    let api = SettlementRunApi::new(db.clone());
    let channel = testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SettlementRunServiceClient::new(channel),
        db,
    }
}

fn as_principal<T>(message: T, caller: &str, role: &str) -> Request<T> {
    let mut principal = testing::principal(caller, REGION, &[role]);
    // A hospital's key names its institution; the tests' hospital callers are named by code.
    principal.institution = (role == "hospital").then(|| caller.to_owned());
    testing::as_principal(message, &principal)
}

fn as_agency<T>(message: T) -> Request<T> {
    as_principal(message, "agency-460100", "agency")
}

fn money(yuan: &str) -> Option<common::Money> {
    Some(common::Money { yuan: yuan.into() })
}

fn decimal(value: &str) -> Option<common::Decimal> {
    Some(common::Decimal {
        value: value.into(),
    })
}

fn parse_money(value: Option<&common::Money>) -> Money {
    value.expect("money").yuan.parse().expect("money")
}

fn region(code: &str) -> RegionCode {
    code.parse().expect("region")
}

/// Cases of three hospitals over 2025, with uneven points and burdens so rounding matters;
/// one fee-for-service case outside points.
fn seed_cases() -> Vec<LedgerCase> {
    let mut cases = Vec::new();
    for (h, hospital) in ["H001", "H002", "H003"].iter().enumerate() {
        for n in 0..40_i64 {
            let month = 1 + n % 12;
            let h = h as i64;
            cases.push(LedgerCase {
                region: region("460108"),
                hospital_code: (*hospital).into(),
                list_id: format!("L{n:04}"),
                version: 1,
                record_kind: RecordKind::Inpatient,
                fund: FundType::Employee,
                discharge_date: i32::try_from(20250000 + month * 100 + 1 + n % 27).expect("date"),
                payment_mode: if n == 7 { "fee_for_service" } else { "drg" }.into(),
                group_code: format!("GB1{}", n % 3),
                points: Points::from_scaled(if n == 7 {
                    0
                } else {
                    1_000_000 + 3_337 * n + 71 * h
                }),
                total_cost: Money::from_fen(1_500_000 + 13 * n),
                individual_burden: Money::from_fen(300_000 + 7 * n + h),
                fund_amount: Money::from_fen(1_200_000 + 11 * n - h),
                amount: None,
                person_id: String::new(),
                admission_date: 0,
                planned_readmission: false,
                status: LedgerStatus::Valued,
                valuation_error: String::new(),
                scheme_version: "demo@1".into(),
                table_version: "460100-2025-310@1".into(),
                valuation_json: "{}".into(),
                content_hash: format!("{hospital}-{n}"),
                case_json: "{}".into(),
                request_id: "seed".into(),
                stored_at: 1_700_000_000,
            });
        }
    }
    cases
}

/// Registers an institution in `region`.
async fn register(db: &DatabaseConnection, code: &str, region_code: &str) {
    institutions::put_institution(
        db,
        &InstitutionRow {
            code: code.into(),
            name: format!("Hospital {code}"),
            region: region(region_code),
            level: "3A".into(),
            institution_type: "general".into(),
            alliance_code: String::new(),
            effective_from: 20200101,
            reason: String::new(),
        },
        "setup",
    )
    .await
    .expect("institution");
}

fn clearing(request_id: &str, reason: &str) -> pb::RunClearingRequest {
    pb::RunClearingRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        distributable_budget: money("1234567.89"),
        reason: reason.into(),
    }
}

async fn export(server: &mut Server, run_id: &str, format: pb::ExportFormat) -> Vec<u8> {
    server
        .client
        .export_statements(as_agency(pb::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            format: format.into(),
        }))
        .await
        .expect("export")
        .into_inner()
        .content
}

#[tokio::test]
async fn policy_is_versioned_and_unknown_keys_are_named() {
    let mut server = start().await;
    let get = || pb::GetSettlementPolicyRequest {
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
    };
    let defaults = server
        .client
        .get_settlement_policy(as_agency(get()))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(defaults.version, 0);
    assert!(defaults.policy_json.contains("prepayment_ratio"));

    let refused = server
        .client
        .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
            request_id: "p0".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            policy_json: r#"{"prepayment":{"prepayment_ratio":"0.85","surprise":1}}"#.into(),
            reason: "typo".into(),
        }))
        .await
        .expect_err("unknown key");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("surprise"),
        "{}",
        refused.message()
    );

    for (request_id, expected) in [("p1", 1), ("p2", 2), ("p2", 2)] {
        let stored = server
            .client
            .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                policy_json: r#"{"prepayment":{"prepayment_ratio":"0.85"}}"#.into(),
                reason: "provincial notice".into(),
            }))
            .await
            .expect("put")
            .into_inner();
        assert_eq!(stored.version, expected);
    }
    let current = server
        .client
        .get_settlement_policy(as_agency(get()))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(current.version, 2);
    let policy: serde_json::Value = serde_json::from_str(&current.policy_json).expect("json");
    assert_eq!(policy["prepayment"]["prepayment_ratio"], "0.85");
}

#[tokio::test]
async fn prepayment_close_and_clearing_reproducible_to_the_fen() {
    let mut server = start().await;
    CaseStore::insert_new_many(&server.db, &seed_cases())
        .await
        .expect("seed");
    register(&server.db, "H002", "460108").await;
    server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![pb::HospitalYearInput {
                hospital_code: "H002".into(),
                assessment_coefficient: decimal("0.97"),
                violation_deductions: money("1234.56"),
                deposit_returned: None,
                // Returns 85 % of the deposit withheld (DOMAIN.md §4 tiers).
                assessment_score: decimal("85"),
            }],
        }))
        .await
        .expect("year inputs");

    // January: two prepayment versions, then the month closes on the second.
    let january = || pb::RunPrepaymentRequest {
        request_id: String::new(),
        region_code: REGION.into(),
        period: Some(common::YearMonth {
            year: 2025,
            month: 1,
        }),
        fund_type: FUND,
        provisional_point_value: decimal("142.3571"),
        month_budget: None,
    };
    let mut versions = Vec::new();
    for request_id in ["m1", "m2"] {
        let run = server
            .client
            .run_prepayment(as_agency(pb::RunPrepaymentRequest {
                request_id: request_id.into(),
                ..january()
            }))
            .await
            .expect("prepayment")
            .into_inner();
        assert_eq!(run.statements, 3);
        versions.push(run);
    }
    assert_eq!(versions[1].version, 2);
    let prepaid_total = parse_money(versions[1].totals.as_ref().and_then(|t| t.payable.as_ref()));
    assert!(prepaid_total > Money::ZERO);
    let closed = server
        .client
        .close_month(as_agency(pb::CloseMonthRequest {
            request_id: "c1".into(),
            region_code: REGION.into(),
            period: january().period,
            fund_type: FUND,
        }))
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.run_id, versions[1].run_id);
    let refused = server
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m3".into(),
            ..january()
        }))
        .await
        .expect_err("closed month");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // Clearing v1.
    let first = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner();
    assert_eq!(first.version, 1);
    assert_eq!(first.statements, 3);
    let identity = first.identity.clone().expect("identity");
    assert!(identity.holds);
    assert_eq!(
        parse_money(identity.total_entitlements.as_ref())
            + parse_money(identity.ffs_special_total.as_ref())
            + parse_money(identity.residue.as_ref()),
        "1234567.89".parse::<Money>().expect("money")
    );
    // The FFS case of each hospital is an excluded stay, not an approved special case: it is
    // paid its claimed fund amount before the points, inside the hospital's entitlement.
    assert_eq!(
        parse_money(identity.ffs_special_total.as_ref()),
        Money::ZERO
    );
    let cleared = settlement_case::Entity::find()
        .filter(settlement_case::Column::Status.eq(status::CLEARED))
        .count(&server.db)
        .await
        .expect("count");
    assert_eq!(cleared, 120);

    // Statements: Σ prepaid over hospitals equals the final January run's total.
    let statements = server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: first.run_id.clone(),
            page_size: 2,
            page_token: String::new(),
            hospital_code: String::new(),
        }))
        .await
        .expect("statements")
        .into_inner();
    assert_eq!(statements.statements.len(), 2);
    assert!(!statements.next_page_token.is_empty());
    let mut prepaid = Money::ZERO;
    let mut statement_rows = statements.statements;
    statement_rows.extend(
        server
            .client
            .list_statements(as_agency(pb::ListStatementsRequest {
                region_code: REGION.into(),
                run_id: first.run_id.clone(),
                page_size: 2,
                page_token: statements.next_page_token,
                hospital_code: String::new(),
            }))
            .await
            .expect("page 2")
            .into_inner()
            .statements,
    );
    assert_eq!(statement_rows.len(), 3);
    for row in &statement_rows {
        let json: serde_json::Value = serde_json::from_str(&row.statement_json).expect("json");
        prepaid += json["prepaid"]
            .as_str()
            .expect("prepaid")
            .parse::<Money>()
            .expect("money");
        assert_eq!(
            parse_money(row.balance.as_ref()),
            json["balance"]
                .as_str()
                .expect("balance")
                .parse::<Money>()
                .expect("money")
        );
    }
    assert_eq!(prepaid, prepaid_total);
    let money_paid_first: Money = statement_rows
        .iter()
        .map(|row| {
            let json: serde_json::Value = serde_json::from_str(&row.statement_json).expect("json");
            let fee_for_service = json["modes"]
                .as_array()
                .expect("modes")
                .iter()
                .find(|line| line["mode"] == "fee_for_service")
                .expect("a fee-for-service line");
            assert_eq!(fee_for_service["cases"], 1);
            assert_eq!(fee_for_service["fund_part"], json["money_fund_part"]);
            json["money_fund_part"]
                .as_str()
                .expect("money fund part")
                .parse::<Money>()
                .expect("money")
        })
        .sum();
    assert_eq!(money_paid_first, Money::from_fen(3 * (1_200_000 + 77) - 3));
    let h002: serde_json::Value =
        serde_json::from_str(&statement_rows[1].statement_json).expect("json");
    assert_eq!(h002["violation_deductions"], "1234.56");
    assert_eq!(h002["assessment_coefficient"], "0.97");
    assert_eq!(h002["assessment_score"], "85");
    let withheld: Money = h002["deposit_withheld"]
        .as_str()
        .expect("withheld")
        .parse()
        .expect("money");
    assert!(withheld > Money::ZERO);
    assert_eq!(
        h002["deposit_returned"],
        Money::round(withheld.value() * Decimal::new(85, 2)).to_string()
    );

    // A re-run needs a reason, is a new version with byte-identical statements, and leaves v1.
    let no_reason = server
        .client
        .run_clearing(as_agency(clearing("k2", "")))
        .await
        .expect_err("reason required");
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert!(no_reason.message().contains("reason"));
    let before = server
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: first.run_id.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .run;
    let second = server
        .client
        .run_clearing(as_agency(clearing("k3", "re-run after review")))
        .await
        .expect("re-run")
        .into_inner();
    assert_eq!(second.version, 2);
    assert_ne!(second.run_id, first.run_id);
    assert_eq!(second.statements_digest, first.statements_digest);
    let csv_first = export(&mut server, &first.run_id, pb::ExportFormat::Csv).await;
    let csv_second = export(&mut server, &second.run_id, pb::ExportFormat::Csv).await;
    assert_eq!(csv_first, csv_second);
    assert_eq!(sha256_hex(&csv_first), first.statements_digest);
    let text = String::from_utf8(csv_first).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("hospital_code,cases,ffs_special_cases,points"));
    // Each mode's cases, points, amount and fund part follow the fixed columns.
    assert!(
        header.ends_with(
            ",drg_cases,drg_points,drg_amount,drg_fund_part,fee_for_service_cases,\
             fee_for_service_points,fee_for_service_amount,fee_for_service_fund_part"
        ),
        "{header}"
    );
    assert!(lines.next().expect("row").starts_with("H001,40,0,"));
    let after = server
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: first.run_id.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .run;
    assert_eq!(before, after);

    // A retry of the first request replays it: no third version.
    let replay = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay, first);
    let runs = server
        .client
        .list_runs(as_agency(pb::ListRunsRequest {
            region_code: REGION.into(),
            kind: "clearing".into(),
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .expect("runs")
        .into_inner()
        .runs;
    assert_eq!(runs.len(), 2);

    // XLSX: a zip holding the workbook and its sheet.
    let xlsx = export(&mut server, &first.run_id, pb::ExportFormat::Xlsx).await;
    assert!(xlsx.starts_with(b"PK\x03\x04"));
    let has = |needle: &[u8]| xlsx.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"xl/workbook.xml"));
    assert!(has(b"xl/worksheets/sheet1.xml"));
    assert!(has(b"PK\x05\x06"));
}

#[tokio::test]
async fn disputes_follow_the_hospital_and_the_agency() {
    let mut server = start().await;
    CaseStore::insert_new_many(&server.db, &seed_cases())
        .await
        .expect("seed");
    let run = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner();
    let confirm = |caller: &str, hospital: &str, request_id: &str| {
        as_principal(
            pb::ConfirmStatementRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                run_id: run.run_id.clone(),
                hospital_code: hospital.into(),
            },
            caller,
            "hospital",
        )
    };
    let denied = server
        .client
        .confirm_statement(confirm("H001", "H002", "d0"))
        .await
        .expect_err("not its own");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let confirmed = server
        .client
        .confirm_statement(confirm("H001", "H001", "d1"))
        .await
        .expect("confirm")
        .into_inner()
        .dispute
        .expect("dispute");
    assert_eq!(confirmed.state, "confirmed");

    let objected = server
        .client
        .object_to_statement(as_principal(
            pb::ObjectToStatementRequest {
                request_id: "d2".into(),
                region_code: REGION.into(),
                run_id: run.run_id.clone(),
                hospital_code: "H002".into(),
                reasons: vec!["case L0003 valued without its special-case points".into()],
            },
            "H002",
            "hospital",
        ))
        .await
        .expect("object")
        .into_inner()
        .dispute
        .expect("dispute");
    assert_eq!(objected.state, "objected");
    let resolve = |caller: &str, role: &str, request_id: &str| {
        as_principal(
            pb::ResolveDisputeRequest {
                request_id: request_id.into(),
                region_code: REGION.into(),
                run_id: run.run_id.clone(),
                hospital_code: "H002".into(),
                resolution: "points added; corrected run follows".into(),
                upheld: true,
            },
            caller,
            role,
        )
    };
    let by_hospital = server
        .client
        .resolve_dispute(resolve("H002", "hospital", "d3"))
        .await
        .expect_err("agency only");
    assert_eq!(by_hospital.code(), Code::PermissionDenied);
    let resolved = server
        .client
        .resolve_dispute(resolve("agency-460100", "agency", "d4"))
        .await
        .expect("resolve")
        .into_inner()
        .dispute
        .expect("dispute");
    assert_eq!(resolved.state, "resolved");
    let history: serde_json::Value = serde_json::from_str(&resolved.history_json).expect("json");
    assert_eq!(history.as_array().expect("steps").len(), 3);
    assert_eq!(history[2]["state"], "upheld");
    let again = server
        .client
        .confirm_statement(confirm("H001", "H001", "d5"))
        .await
        .expect_err("already confirmed");
    assert_eq!(again.code(), Code::FailedPrecondition);

    let objected_list = server
        .client
        .list_disputes(as_agency(pb::ListDisputesRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
            state: "issued".into(),
        }))
        .await
        .expect("list")
        .into_inner()
        .disputes;
    assert_eq!(objected_list.len(), 1);
    assert_eq!(objected_list[0].hospital_code, "H003");
}

#[tokio::test]
async fn shadow_settlement_adds_up_per_hospital_and_per_group() {
    let mut server = start().await;
    CaseStore::insert_new_many(&server.db, &seed_cases())
        .await
        .expect("seed");
    let report = server
        .client
        .run_shadow_settlement(as_agency(pb::RunShadowSettlementRequest {
            region_code: REGION.into(),
            fund_type: FUND,
            from: Some(common::YearMonth {
                year: 2025,
                month: 1,
            }),
            to: Some(common::YearMonth {
                year: 2025,
                month: 6,
            }),
            point_value: decimal("151.0921"),
        }))
        .await
        .expect("shadow")
        .into_inner();
    assert_eq!(report.by_hospital.len(), 3);
    assert_eq!(report.by_group.len(), 3);
    let total = report.total.expect("total");
    let sum = |lines: &[pb::ShadowLine]| -> (u64, Money) {
        lines.iter().fold((0, Money::ZERO), |(cases, diff), line| {
            (
                cases + line.cases,
                diff + parse_money(line.difference.as_ref()),
            )
        })
    };
    assert_eq!(
        sum(&report.by_hospital),
        (total.cases, parse_money(total.difference.as_ref()))
    );
    assert_eq!(
        sum(&report.by_group),
        (total.cases, parse_money(total.difference.as_ref()))
    );
    // Months 1..6 of 40 cases per hospital, the FFS case (month 8) outside.
    let expected: u64 = 3 * (0..40).filter(|n| n % 12 < 6).count() as u64;
    assert_eq!(total.cases, expected);
    let ratio: Decimal = total
        .difference_ratio
        .expect("ratio")
        .value
        .parse()
        .expect("dec");
    let ffs = parse_money(total.ffs_amount.as_ref());
    assert_eq!(
        ratio,
        kernel::round_points(parse_money(total.difference.as_ref()).value() / ffs.value())
    );
}

/// A request of a caller acting for another prefecture (460200) than the runs' (460100).
fn as_other_prefecture<T>(message: T, caller: &str, role: &str) -> Request<T> {
    let mut principal = testing::principal(caller, "460200", &[role]);
    principal.institution = (role == "hospital").then(|| caller.to_owned());
    testing::as_principal(message, &principal)
}

/// What a caller of prefecture 460200 is answered for `run_id` by every method that looks a run
/// up, in its own region.
async fn run_lookups_from_another_prefecture(
    server: &mut Server,
    run_id: &str,
) -> Vec<tonic::Status> {
    let region = || "460200".to_owned();
    let run_id = || run_id.to_owned();
    let agency = |n: u32| format!("other-{n}-{}", run_id());
    let client = &mut server.client;
    vec![
        client
            .get_run(as_other_prefecture(
                pb::GetRunRequest {
                    region_code: region(),
                    run_id: run_id(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("get_run"),
        client
            .list_statements(as_other_prefecture(
                pb::ListStatementsRequest {
                    region_code: region(),
                    run_id: run_id(),
                    page_size: 0,
                    page_token: String::new(),
                    hospital_code: String::new(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("list_statements"),
        client
            .export_statements(as_other_prefecture(
                pb::ExportStatementsRequest {
                    region_code: region(),
                    run_id: run_id(),
                    format: pb::ExportFormat::Csv.into(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("export_statements"),
        client
            .list_disputes(as_other_prefecture(
                pb::ListDisputesRequest {
                    region_code: region(),
                    run_id: run_id(),
                    state: String::new(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("list_disputes"),
        client
            .confirm_statement(as_other_prefecture(
                pb::ConfirmStatementRequest {
                    request_id: agency(1),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                },
                "H001",
                "hospital",
            ))
            .await
            .expect_err("confirm_statement"),
        client
            .object_to_statement(as_other_prefecture(
                pb::ObjectToStatementRequest {
                    request_id: agency(2),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                    reasons: vec!["points missing".into()],
                },
                "H001",
                "hospital",
            ))
            .await
            .expect_err("object_to_statement"),
        client
            .resolve_dispute(as_other_prefecture(
                pb::ResolveDisputeRequest {
                    request_id: agency(3),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                    resolution: "upheld".into(),
                    upheld: true,
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("resolve_dispute"),
    ]
}

#[tokio::test]
async fn another_regions_run_answers_exactly_like_a_missing_one() {
    let mut server = start().await;
    CaseStore::insert_new_many(&server.db, &seed_cases())
        .await
        .expect("seed");
    let clearing_run = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner()
        .run_id;
    let prepayment_run = server
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m1".into(),
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 1,
            }),
            fund_type: FUND,
            provisional_point_value: decimal("142.3571"),
            month_budget: None,
        }))
        .await
        .expect("prepayment")
        .into_inner()
        .run_id;
    // Run ids are 128 random bits: nothing of region, period or order to guess from.
    for id in [&clearing_run, &prepayment_run] {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert!(!id.contains("460100") && !id.contains("2025"), "{id}");
    }
    let first = u128::from_str_radix(&clearing_run, 16).expect("hex");
    let second = u128::from_str_radix(&prepayment_run, 16).expect("hex");
    assert!(first.abs_diff(second) > 1_000_000, "{first:x} {second:x}");

    let missing = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let for_existing = run_lookups_from_another_prefecture(&mut server, &clearing_run).await;
    let for_missing = run_lookups_from_another_prefecture(&mut server, missing).await;
    assert_eq!(for_existing.len(), 7);
    for (existing, absent) in for_existing.iter().zip(&for_missing) {
        assert_eq!(existing.code(), Code::NotFound, "{existing:?}");
        assert_eq!(existing.code(), absent.code());
        assert_eq!(
            existing.message().replace(&clearing_run, "<run>"),
            absent.message().replace(missing, "<run>"),
        );
        let reason = |status: &tonic::Status| {
            status
                .get_details_error_info()
                .map(|info| (info.reason, info.domain, info.metadata))
        };
        assert_eq!(reason(existing), reason(absent));
        assert!(reason(existing).is_some_and(|(reason, ..)| reason == "RUN_NOT_FOUND"));
    }
    // The run's own region still reads it.
    let own = server
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: clearing_run.clone(),
        }))
        .await
        .expect("own region")
        .into_inner()
        .run
        .expect("run");
    assert_eq!(own.run_id, clearing_run);
}

#[tokio::test]
async fn year_inputs_name_only_hospitals_registered_in_the_region() {
    let mut server = start().await;
    register(&server.db, "H001", "460108").await;
    register(&server.db, "HB", "460205").await;
    let input = |code: &str| pb::HospitalYearInput {
        hospital_code: code.into(),
        assessment_coefficient: decimal("0.50"),
        violation_deductions: money("99999.00"),
        deposit_returned: money("0.00"),
        assessment_score: None,
    };
    let refused = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![input("H001"), input("HB"), input("HX")],
        }))
        .await
        .expect_err("another prefecture's hospital and an unregistered one");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let violations = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations;
    let named: Vec<(String, String)> = violations
        .iter()
        .map(|v| {
            let code = if v.field.starts_with("hospitals[1]") {
                "HB"
            } else {
                "HX"
            };
            (v.field.clone(), v.description.replace(code, "<h>"))
        })
        .collect();
    assert_eq!(named.len(), 2, "{named:?}");
    assert_eq!(named[0].0, "hospitals[1].hospital_code");
    assert_eq!(named[1].0, "hospitals[2].hospital_code");
    assert_eq!(
        named[0].1, named[1].1,
        "another region's hospital reads like no hospital"
    );
    // Nothing was stored: the policy's year inputs are still empty, so H001 alone is accepted.
    let stored = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y2".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![input("H001")],
        }))
        .await
        .expect("own hospital")
        .into_inner();
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn an_assessment_score_is_refused_outside_0_to_100_or_beside_a_typed_in_return() {
    let mut server = start().await;
    register(&server.db, "H001", "460108").await;
    register(&server.db, "H002", "460108").await;
    let refused = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "scores".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![
                pb::HospitalYearInput {
                    hospital_code: "H001".into(),
                    assessment_score: decimal("100.5"),
                    ..Default::default()
                },
                pb::HospitalYearInput {
                    hospital_code: "H002".into(),
                    assessment_score: decimal("70"),
                    deposit_returned: money("10.00"),
                    ..Default::default()
                },
            ],
        }))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "hospitals[0].assessment_score",
            "hospitals[1].assessment_score"
        ]
    );
}
