//! Year-end sharing and hospital-cap prepayment through a real budget server: the budget
//! context and settlement each on their own loopback socket, settlement calling the budget's
//! internal service the way the gateway wires it.

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
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use settlement_domain::clearing::HospitalStatement;
use settlement_domain::prepayment::PrepaymentLine;
use settlement_service::budget_peer::GrpcBudget;
use settlement_service::store::ledger::{CaseStore, LedgerCase, settlement_case, status};
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
    let cleared = settlement_case::Entity::find()
        .filter(settlement_case::Column::Status.eq(status::CLEARED))
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
