//! Year-end sharing and hospital-cap prepayment through a real budget server: the budget
//! context and settlement each on their own loopback socket, settlement calling the budget's
//! internal service the way the gateway wires it; a medical alliance of the registry is shared
//! as one unit.

use settlement_domain::ledger::{LedgerStatus, RecordKind};
use std::sync::Arc;

use budget_domain::{
    BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetMode, BudgetPolicy,
};
use budget_service::BudgetApi;
use budget_service::store::BudgetStore;
use kernel::{Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::budget::v1 as budget_pb;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use platform::testing;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use settlement_domain::clearing::HospitalStatement;
use settlement_domain::prepayment::PrepaymentLine;
use settlement_service::budget_peer::GrpcBudget;
use settlement_service::store::case_clearing::settlement_case_clearing;
use settlement_service::store::institutions::{self, InstitutionRow};
use settlement_service::store::ledger::{CaseStore, LedgerCase};
use settlement_service::{Migrator, SettlementRunApi};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

const REGION: &str = "460100";
const FUND: i32 = 310;

fn as_agency<T>(message: T) -> Request<T> {
    testing::as_caller(message, "agency-460100", REGION, &["agency", "bureau"])
}

/// A budget server with the public and internal services; `None` leaves the port closed.
async fn start_budget(up: bool) -> (std::net::SocketAddr, Option<BudgetServiceClient<Channel>>) {
    if !up {
        // Bound then dropped: connecting is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        return (listener.local_addr().expect("address"), None);
    }
    let db = testing::sqlite::<budget_service::Migrator>().await;
    let api = BudgetApi::new(BudgetStore::new(db));
    let (address, channel) = testing::serve_at(
        tonic::service::Routes::new(api.clone().into_internal_server())
            .add_service(api.into_server()),
    )
    .await;
    (address, Some(BudgetServiceClient::new(channel)))
}

struct Settlement {
    client: SettlementRunServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn start_settlement(budget: std::net::SocketAddr) -> Settlement {
    let db = testing::sqlite::<Migrator>().await;
    let peer = Endpoint::from_shared(format!("http://{budget}"))
        .expect("uri")
        .connect_lazy();
    let api = SettlementRunApi::new(db.clone())
        .with_budget(Arc::new(GrpcBudget::new(peer, None).expect("port")));
    let channel = testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Settlement {
        client: SettlementRunServiceClient::new(channel),
        db,
    }
}

/// The region's 2025 employee budget (5 % of it is the adjustment reserve).
async fn create_budget(client: &mut BudgetServiceClient<Channel>, yuan: i64) {
    let document = BudgetDocument {
        region: REGION.parse().expect("code"),
        year: 2025,
        fund: FundType::Employee,
        mode: BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: Money::from_yuan(yuan),
            growth_cap: Decimal::ZERO,
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: Decimal::ONE,
        }]),
        policy: BudgetPolicy::default(),
    };
    client
        .create_budget(as_agency(budget_pb::CreateBudgetRequest {
            request_id: "b-1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            document_json: serde_json::to_string(&document).expect("json"),
            ..Default::default()
        }))
        .await
        .expect("budget");
}

/// `count` January cases of `hospital`, 1,000 points each, no individual burden, each claiming
/// `fund_fen` fee-for-service.
fn cases(hospital: &str, count: i64, fund_fen: i64) -> Vec<LedgerCase> {
    (0..count)
        .map(|n| LedgerCase {
            region: "460108".parse::<RegionCode>().expect("region"),
            hospital_code: hospital.into(),
            list_id: format!("L{n:04}"),
            version: 1,
            record_kind: RecordKind::Inpatient,
            fund: FundType::Employee,
            discharge_date: 20250115,
            payment_mode: "drg".into(),
            group_code: "GB11".into(),
            points: Points::from_scaled(10_000_000),
            total_cost: Money::from_fen(fund_fen),
            individual_burden: Money::ZERO,
            fund_amount: Money::from_fen(fund_fen),
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
            content_hash: format!("{hospital}-{n}"),
            case_json: "{}".into(),
            request_id: "seed".into(),
            stored_at: 1_700_000_000,
            head: None,
        })
        .collect()
}

async fn put_policy(settlement: &mut Settlement, policy_json: &str) {
    settlement
        .client
        .put_settlement_policy(as_agency(pb::PutSettlementPolicyRequest {
            request_id: format!("policy-{policy_json}"),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            policy_json: policy_json.into(),
            reason: "sharing through the budget context".into(),
            policy: None,
        }))
        .await
        .expect("policy");
}

fn money(value: Option<&common::Money>) -> Money {
    value.expect("money").yuan.parse().expect("money")
}

fn clearing(request_id: &str) -> pb::RunClearingRequest {
    pb::RunClearingRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        distributable_budget: Some(common::Money {
            yuan: "200000.00".into(),
        }),
        reason: String::new(),
        skip_unvalued: false,
    }
}

async fn statements<T: serde::de::DeserializeOwned>(
    settlement: &mut Settlement,
    run_id: &str,
) -> Vec<T> {
    settlement
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            page_size: 100,
            page_token: String::new(),
            hospital_code: String::new(),
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements
        .iter()
        .map(|s| serde_json::from_str(&s.statement_json).expect("statement"))
        .collect()
}

#[tokio::test]
async fn clearing_shares_through_the_budget_context_and_keeps_the_identity() {
    let (budget_address, budget) = start_budget(true).await;
    let mut budget = budget.expect("budget up");
    create_budget(&mut budget, 1_000_000_000).await;
    let mut settlement = start_settlement(budget_address).await;
    // Same points, so the same Std; H001 claimed less than its standard, H002 more.
    let mut seed = cases("H001", 10, 900_000);
    seed.extend(cases("H002", 10, 1_080_000));
    CaseStore::insert_new_many(&settlement.db, &seed)
        .await
        .expect("seed");
    put_policy(&mut settlement, r#"{"clearing": {"sharing": "budget"}}"#).await;

    let run = settlement
        .client
        .run_clearing(as_agency(clearing("k1")))
        .await
        .expect("clearing")
        .into_inner();
    let identity = run.identity.clone().expect("identity");
    assert!(identity.holds);
    assert_eq!(
        money(identity.total_entitlements.as_ref())
            + money(identity.ffs_special_total.as_ref())
            + money(identity.residue.as_ref()),
        Money::from_yuan(200_000)
    );
    let lines: Vec<HospitalStatement> = statements(&mut settlement, &run.run_id).await;
    assert_eq!(lines.len(), 2);
    let (under, over) = (&lines[0], &lines[1]);
    assert_eq!(under.hospital_code, "H001");
    assert!(under.sharing_actual < under.sharing_standard);
    assert_eq!(under.sharing_tier, "surplus_retained");
    // Hainan retains the whole surplus: the standard is paid, not the lower claim.
    assert_eq!(under.sharing_payable, under.sharing_standard);
    assert_eq!(under.sharing_adjustment, Money::ZERO);

    assert_eq!(over.hospital_code, "H002");
    assert!(over.sharing_actual > over.sharing_standard);
    assert!(
        over.sharing_tier.starts_with("overspend_band_"),
        "{}",
        over.sharing_tier
    );
    // R = 1.08 lies in Hainan's first band: half the overspend is paid from the reserve.
    let half_overspend =
        Money::round((over.sharing_actual - over.sharing_standard).value() * Decimal::new(5, 1));
    assert!(half_overspend > Money::ZERO);
    assert_eq!(over.sharing_adjustment, half_overspend);
    assert_eq!(over.sharing_payable, over.sharing_standard + half_overspend);
    // The reserve pays the adjustment outside the distributable budget.
    assert_eq!(over.final_amount, over.sharing_payable);

    let stored = settlement
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
        }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    let inputs: serde_json::Value = serde_json::from_str(&stored.inputs_json).expect("inputs");
    assert_eq!(inputs["sharing"], "budget");

    // The default policy pays the standard without asking the budget context.
    put_policy(
        &mut settlement,
        r#"{"clearing": {"sharing": "pay_standard"}}"#,
    )
    .await;
    let mut request = clearing("k2");
    request.reason = "regional point mode".into();
    let standard = settlement
        .client
        .run_clearing(as_agency(request))
        .await
        .expect("clearing")
        .into_inner();
    let lines: Vec<HospitalStatement> = statements(&mut settlement, &standard.run_id).await;
    assert!(
        lines
            .iter()
            .all(|l| l.sharing_payable == l.sharing_standard)
    );
}

#[tokio::test]
async fn an_unreachable_budget_fails_the_clearing_and_stores_nothing() {
    let (budget_address, _) = start_budget(false).await;
    let mut settlement = start_settlement(budget_address).await;
    CaseStore::insert_new_many(&settlement.db, &cases("H001", 3, 900_000))
        .await
        .expect("seed");
    put_policy(&mut settlement, r#"{"clearing": {"sharing": "budget"}}"#).await;
    let status = settlement
        .client
        .run_clearing(as_agency(clearing("k1")))
        .await
        .expect_err("no budget peer");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let runs = settlement
        .client
        .list_runs(as_agency(pb::ListRunsRequest {
            region_code: REGION.into(),
            kind: String::new(),
            page_size: 10,
            page_token: String::new(),
        }))
        .await
        .expect("runs")
        .into_inner();
    assert!(runs.runs.is_empty());
    let cleared = settlement_case_clearing::Entity::find()
        .count(&settlement.db)
        .await
        .expect("count");
    assert_eq!(cleared, 0);
}

#[tokio::test]
async fn hospital_cap_prepayment_defers_what_exceeds_the_budget_quota() {
    let (budget_address, budget) = start_budget(true).await;
    let mut budget = budget.expect("budget up");
    create_budget(&mut budget, 2_400_000).await;
    let unit = |code: &str| budget_domain::AllocationUnit {
        code: code.into(),
        kind: budget_domain::UnitKind::Hospital {
            history: vec![Money::from_yuan(1_000_000); 3],
        },
        assessment_coefficient: Decimal::ONE,
        adjustment_factor: Decimal::ONE,
        primary_care: false,
    };
    budget
        .allocate(as_agency(budget_pb::AllocateRequest {
            request_id: "al-1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            inputs_json:
                serde_json::json!({"block": "inpatient", "units": [unit("H001"), unit("H002")]})
                    .to_string(),
            inputs: None,
        }))
        .await
        .expect("allocate");
    let mut settlement = start_settlement(budget_address).await;
    let mut seed = cases("H001", 10, 900_000);
    seed.extend(cases("H002", 1, 900_000));
    CaseStore::insert_new_many(&settlement.db, &seed)
        .await
        .expect("seed");
    put_policy(
        &mut settlement,
        r#"{"prepayment": {"budget_mode": "hospital_cap"}}"#,
    )
    .await;

    let run = settlement
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m1".into(),
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 1,
            }),
            fund_type: FUND,
            provisional_point_value: Some(common::Decimal { value: "20".into() }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
        }))
        .await
        .expect("prepayment")
        .into_inner();
    let lines: Vec<PrepaymentLine> = statements(&mut settlement, &run.run_id).await;
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let quotas = budget
            .get_quotas(as_agency(budget_pb::GetQuotasRequest {
                region_code: REGION.into(),
                year: 2025,
                fund_type: FUND,
                hospital_code: line.hospital_code.clone(),
            }))
            .await
            .expect("quotas")
            .into_inner();
        let january = money(quotas.monthly_quotas.first());
        assert_eq!(line.monthly_quota, Some(january), "{}", line.hospital_code);
        assert_eq!(line.capped, line.prepayable.min(january));
        assert_eq!(line.deferred, line.prepayable - line.capped);
    }
    let (many, few) = (&lines[0], &lines[1]);
    assert!(many.prepayable > many.monthly_quota.expect("quota"));
    assert!(many.deferred > Money::ZERO);
    assert!(few.prepayable < few.monthly_quota.expect("quota"));
    assert_eq!(few.deferred, Money::ZERO);
}

/// Registers `code` in the region from 2020, and in `alliance` from `joined` (`yyyymmdd`).
async fn register(db: &DatabaseConnection, code: &str, alliance: &str, joined: i32) {
    let row = |alliance: &str, effective_from: i32| InstitutionRow {
        code: code.into(),
        name: format!("Hospital {code}"),
        region: "460108".parse().expect("region"),
        level: "2A".into(),
        institution_type: "general".into(),
        alliance_code: alliance.into(),
        effective_from,
        reason: "registered".into(),
    };
    institutions::put_institution(db, &row("", 20200101), &format!("{code}-1"))
        .await
        .expect("registered");
    institutions::put_institution(db, &row(alliance, joined), &format!("{code}-2"))
        .await
        .expect("joined");
}

#[tokio::test]
async fn an_alliance_is_shared_as_one_unit_through_the_budget_context() {
    let (budget_address, budget) = start_budget(true).await;
    let mut budget = budget.expect("budget up");
    create_budget(&mut budget, 1_000_000_000).await;
    let mut settlement = start_settlement(budget_address).await;
    // Equal points, so equal Std (100,000.00 each at point value 10): H001 claims 90,000.00
    // (R 0.90), H002 108,000.00 (R 1.08), H003 100,000.00 (R 1).
    let mut seed = cases("H001", 10, 900_000);
    seed.extend(cases("H002", 10, 1_080_000));
    seed.extend(cases("H003", 10, 1_000_000));
    CaseStore::insert_new_many(&settlement.db, &seed)
        .await
        .expect("seed");
    register(&settlement.db, "H001", "MA-1", 20240101).await;
    register(&settlement.db, "H002", "MA-1", 20250601).await;
    // Joins after the year: cleared alone.
    register(&settlement.db, "H003", "MA-1", 20260101).await;
    put_policy(&mut settlement, r#"{"clearing": {"sharing": "budget"}}"#).await;
    let mut request = clearing("a1");
    request.distributable_budget = Some(common::Money {
        yuan: "300000.00".into(),
    });
    let run = settlement
        .client
        .run_clearing(as_agency(request))
        .await
        .expect("clearing")
        .into_inner();
    assert!(run.identity.clone().expect("identity").holds);
    let lines: Vec<HospitalStatement> = statements(&mut settlement, &run.run_id).await;
    let codes: Vec<_> = lines.iter().map(|l| l.hospital_code.as_str()).collect();
    assert_eq!(codes, ["H001", "H002", "H003"]);
    // The unit: Std 200,000.00, Act 198,000.00, R 0.99: its surplus is retained, so it is paid
    // its Std, half each; alone H002 would have been paid half its overspend on top.
    for line in &lines[..2] {
        assert_eq!(line.sharing_standard, Money::from_yuan(100_000));
        assert_eq!(line.sharing_tier, "surplus_retained");
        assert_eq!(line.sharing_payable, Money::from_yuan(100_000));
        let alliance = line.alliance.as_ref().expect("member");
        assert_eq!(alliance.alliance_code, "MA-1");
        assert_eq!(alliance.unit_standard, Money::from_yuan(200_000));
        assert_eq!(alliance.unit_actual, Money::from_yuan(198_000));
        assert_eq!(alliance.unit_ratio, Some(Decimal::new(99, 2)));
        assert_eq!(alliance.unit_payable, Money::from_yuan(200_000));
        assert_eq!(alliance.share, Decimal::new(5, 1));
    }
    assert!(lines[2].alliance.is_none());

    let stored = settlement
        .client
        .get_run(as_agency(pb::GetRunRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
        }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    let alliances: serde_json::Value =
        serde_json::from_str(&stored.alliances_json).expect("alliances");
    assert_eq!(alliances[0]["alliance_code"], "MA-1");
    assert_eq!(alliances[0]["tier"], "surplus_retained");
    assert_eq!(alliances[0]["payable"], "200000.00");
    let members: Vec<_> = alliances[0]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["hospital_code"].clone(), m["payable"].clone()))
        .collect();
    assert_eq!(
        members,
        [
            ("H001".into(), "100000.00".into()),
            ("H002".into(), "100000.00".into())
        ]
    );
    let csv = settlement
        .client
        .export_statements(as_agency(pb::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
            format: pb::ExportFormat::Csv.into(),
        }))
        .await
        .expect("export")
        .into_inner()
        .content;
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.lines().next().expect("header").ends_with(
        "alliance_code,alliance_standard,alliance_actual,alliance_ratio,alliance_tier,\
         alliance_payable,alliance_share"
    ));
    assert!(
        csv.lines()
            .nth(2)
            .expect("H002")
            .ends_with("MA-1,200000.00,198000.00,0.9900,surplus_retained,200000.00,0.500000")
    );

    // The switch shares each member alone: H002 is paid half its overspend again.
    put_policy(
        &mut settlement,
        r#"{"clearing": {"sharing": "budget", "alliance_distribution": "separate"}}"#,
    )
    .await;
    let mut request = clearing("a2");
    request.distributable_budget = Some(common::Money {
        yuan: "300000.00".into(),
    });
    request.reason = "members alone".into();
    let separate = settlement
        .client
        .run_clearing(as_agency(request))
        .await
        .expect("clearing")
        .into_inner();
    assert_eq!(separate.alliances_json, "[]");
    let lines: Vec<HospitalStatement> = statements(&mut settlement, &separate.run_id).await;
    assert!(lines.iter().all(|l| l.alliance.is_none()));
    assert_eq!(lines[1].sharing_payable, Money::from_yuan(104_000));
}

#[tokio::test]
async fn an_alliance_is_capped_together_at_its_unit_quota() {
    let (budget_address, budget) = start_budget(true).await;
    let mut budget = budget.expect("budget up");
    create_budget(&mut budget, 2_400_000).await;
    let history = vec![Money::from_yuan(1_000_000); 3];
    let member = |code: &str| budget_domain::AllianceMember {
        hospital_code: code.into(),
        history: history.clone(),
    };
    let units = [
        budget_domain::AllocationUnit {
            code: "MA-1".into(),
            kind: budget_domain::UnitKind::Alliance {
                members: vec![member("H001"), member("H002")],
            },
            assessment_coefficient: Decimal::ONE,
            adjustment_factor: Decimal::ONE,
            primary_care: false,
        },
        budget_domain::AllocationUnit {
            code: "H003".into(),
            kind: budget_domain::UnitKind::Hospital {
                history: history.clone(),
            },
            assessment_coefficient: Decimal::ONE,
            adjustment_factor: Decimal::ONE,
            primary_care: false,
        },
    ];
    budget
        .allocate(as_agency(budget_pb::AllocateRequest {
            request_id: "al-1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            inputs_json: serde_json::json!({"block": "inpatient", "units": units}).to_string(),
            inputs: None,
        }))
        .await
        .expect("allocate");
    let mut settlement = start_settlement(budget_address).await;
    let mut seed = cases("H001", 10, 900_000);
    seed.extend(cases("H002", 1, 900_000));
    seed.extend(cases("H003", 1, 900_000));
    CaseStore::insert_new_many(&settlement.db, &seed)
        .await
        .expect("seed");
    register(&settlement.db, "H001", "MA-1", 20240101).await;
    register(&settlement.db, "H002", "MA-1", 20250101).await;
    put_policy(
        &mut settlement,
        r#"{"prepayment": {"budget_mode": "hospital_cap"}}"#,
    )
    .await;
    let run = settlement
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m1".into(),
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 1,
            }),
            fund_type: FUND,
            provisional_point_value: Some(common::Decimal { value: "20".into() }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
        }))
        .await
        .expect("prepayment")
        .into_inner();
    let lines: Vec<PrepaymentLine> = statements(&mut settlement, &run.run_id).await;
    let quota = |code: &str| {
        let mut budget = budget.clone();
        let code = code.to_owned();
        async move {
            let quotas = budget
                .get_quotas(as_agency(budget_pb::GetQuotasRequest {
                    region_code: REGION.into(),
                    year: 2025,
                    fund_type: FUND,
                    hospital_code: code,
                }))
                .await
                .expect("quotas")
                .into_inner();
            money(quotas.monthly_quotas.first())
        }
    };
    let unit_quota = quota("MA-1").await;
    let (h001, h002, h003) = (&lines[0], &lines[1], &lines[2]);
    // Together the members prepay more than the unit's quota: they are capped at it together.
    assert!(h001.prepayable + h002.prepayable > unit_quota);
    assert_eq!(h001.capped + h002.capped, unit_quota);
    for member in [h001, h002] {
        assert_eq!(member.alliance_code.as_deref(), Some("MA-1"));
        assert_eq!(member.monthly_quota, Some(unit_quota));
        assert_eq!(member.capped + member.deferred, member.prepayable);
        assert!(member.deferred > Money::ZERO);
    }
    // H002 alone prepays less than the unit quota, yet shares the unit's deferral.
    assert!(h002.prepayable < unit_quota);
    assert_eq!(h003.alliance_code, None);
    assert_eq!(h003.monthly_quota, Some(quota("H003").await));
}
