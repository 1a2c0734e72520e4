//! The outpatient year end over real sockets: settlement with a real points server (budgets and
//! APG points from the table in force) and a real budget server (the sharing tiers), each on its
//! own loopback socket, wired the way the gateway wires them. DOMAIN.md §3's example to the fen.

use std::sync::Arc;

use budget_domain::{
    BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetMode, BudgetPolicy,
};
use budget_service::BudgetApi;
use budget_service::store::BudgetStore;
use kernel::{Decimal, FundType, Money, RegionCode};
use medpay_proto::budget::v1 as budget_pb;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as points_pb;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::outpatient_service_client::OutpatientServiceClient;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use platform::testing;
use points_domain::{ApgTable, ValuationPolicy, ValuationTables};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::budget_peer::GrpcBudget;
use settlement_service::outpatient_valuer::GrpcOutpatientValuer;
use settlement_service::store::ledger::{CaseStore, LedgerCase};
use settlement_service::{Migrator, SettlementRunApi};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};
use tonic_types::StatusExt;

mod prepayment;

const REGION: &str = "460100";
const FUND: i32 = 310;

fn as_agency<T>(message: T) -> Request<T> {
    testing::as_caller(
        message,
        "agency-460100",
        REGION,
        &["agency", "bureau", "configure", "run", "read"],
    )
}

fn yuan(text: &str) -> Option<common::Money> {
    Some(common::Money { yuan: text.into() })
}

fn money(value: Option<&common::Money>) -> Money {
    value.expect("money").yuan.parse().expect("money")
}

fn decimal(value: Option<&common::Decimal>) -> Decimal {
    value.expect("decimal").value.parse().expect("decimal")
}

fn lazy(address: std::net::SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect_lazy()
}

/// A budget server whose region has a 2025 employee budget (its reserve pays the sharing).
async fn start_budget() -> std::net::SocketAddr {
    let db = testing::sqlite::<budget_service::Migrator>().await;
    let api = BudgetApi::new(BudgetStore::new(db));
    let (address, channel) = testing::serve_at(
        tonic::service::Routes::new(api.clone().into_internal_server())
            .add_service(api.into_server()),
    )
    .await;
    let document = BudgetDocument {
        region: REGION.parse().expect("code"),
        year: 2025,
        fund: FundType::Employee,
        mode: BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: Money::from_yuan(1_000_000_000),
            growth_cap: Decimal::ZERO,
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: Decimal::ONE,
        }]),
        policy: BudgetPolicy::default(),
    };
    BudgetServiceClient::new(channel)
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
    address
}

/// A points server with the region's 2025 employee table, carrying the demo APG table, active
/// from 2 January (a visit on 1 January has no table in force).
async fn start_points() -> std::net::SocketAddr {
    let db = testing::sqlite::<points_service::Migrator>().await;
    let api = points_service::PointsApi::new(points_service::store::TableStore::new(db));
    let (address, channel) = testing::serve_at(
        tonic::service::Routes::new(api.clone().into_internal_server())
            .add_service(api.into_server()),
    )
    .await;
    let region: RegionCode = REGION.parse().expect("region");
    let policy = ValuationPolicy::new(region, 2025, FundType::Employee);
    let mut tables = ValuationTables::new(region, 2025, FundType::Employee);
    tables.apg = Some(ApgTable::demo().expect("demo APG table"));
    let document = serde_json::json!({ "policy": policy, "tables": tables });
    let mut client = PointsServiceClient::new(channel);
    let table = client
        .put_table(as_agency(points_pb::PutTableRequest {
            request_id: "t-1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            document_json: document.to_string(),
            document: None,
        }))
        .await
        .expect("table")
        .into_inner()
        .table
        .expect("table");
    client
        .activate_table(as_agency(points_pb::ActivateTableRequest {
            request_id: "t-2".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            version: table.version,
            effective_from: Some(common::Date {
                year: 2025,
                month: 1,
                day: 2,
            }),
        }))
        .await
        .expect("activate");
    address
}

struct Settlement {
    outpatient: OutpatientServiceClient<Channel>,
    runs: SettlementRunServiceClient<Channel>,
    db: sea_orm::DatabaseConnection,
}

async fn start_settlement() -> Settlement {
    let (budget, points) = (start_budget().await, start_points().await);
    let db = testing::sqlite::<Migrator>().await;
    let api = SettlementRunApi::new(db.clone())
        .with_budget(Arc::new(GrpcBudget::new(lazy(budget), None).expect("port")))
        .with_outpatient_valuer(Arc::new(
            GrpcOutpatientValuer::new(lazy(points), None).expect("port"),
        ));
    let channel = testing::serve(
        tonic::service::Routes::new(api.clone().into_outpatient_server())
            .add_service(api.into_server()),
    )
    .await;
    Settlement {
        outpatient: OutpatientServiceClient::new(channel.clone()),
        runs: SettlementRunServiceClient::new(channel),
        db,
    }
}

/// A stored ambulatory settlement of 2025 claiming `fund` yuan from the pooled fund.
fn ambulatory(
    hospital: &str,
    list_id: &str,
    kind: RecordKind,
    fund: &str,
    (diagnosis, procedures): (&str, &[&str]),
) -> LedgerCase {
    let json = serde_json::json!({
        "header": {
            "setl_id": list_id,
            "fixmedins_code": hospital,
            "hospital_level": "1",
            "insutype": 310,
            "psn_no": format!("P-{list_id}"),
            "case_number": list_id,
            "declared_at": "2025-03-02 10:00:00",
            "pooling_region": "460108"
        },
        "kind": kind.as_str(),
        "med_type": match kind {
            RecordKind::ChronicOutpatient => "14",
            RecordKind::Pharmacy => "41",
            _ => "11",
        },
        "settled_at": "2025-03-01 09:00",
        "diagnoses": [{ "code": diagnosis, "name": "d", "admission_condition": 1 }],
        "payment": { "medfee_sumamt": fund, "hifp_pay": fund },
        "procedures": procedures,
    });
    let fen = Money::round(fund.parse().expect("amount"))
        .to_fen()
        .expect("fen");
    LedgerCase {
        region: "460108".parse().expect("region"),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        version: 1,
        record_kind: kind,
        fund: FundType::Employee,
        discharge_date: 20250301,
        payment_mode: String::new(),
        group_code: String::new(),
        points: kernel::Points::ZERO,
        total_cost: Money::from_fen(fen),
        individual_burden: Money::ZERO,
        fund_amount: Money::from_fen(fen),
        amount: None,
        person_id: String::new(),
        admission_date: 0,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Recorded,
        valuation_error: String::new(),
        scheme_version: String::new(),
        table_version: String::new(),
        valuation_json: String::new(),
        content_hash: format!("{hospital}-{list_id}"),
        case_json: json.to_string(),
        request_id: "seed".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}

fn enrolment(request_id: &str) -> pb::PutOutpatientEnrolmentRequest {
    let primary = |code: &str, persons: i64, rate: &str, referrals: &str| pb::PrimaryEnrolment {
        hospital_code: code.into(),
        enrolled_persons: persons,
        rate_per_head: yuan(rate),
        referrals_out: yuan(referrals),
    };
    pb::PutOutpatientEnrolmentRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        institutions: vec![
            primary("C1", 10_000, "120.00", "0"),
            primary("C2", 10_000, "120.00", "0"),
            // 5,000 × 100 − 30,000 referred out = 470,000.
            primary("C3", 5_000, "100.00", "30000.00"),
        ],
        chronic: vec![pb::ChronicEnrolment {
            hospital_code: "C3".into(),
            disease_code: "E11".into(),
            patients: 10,
            rate_per_patient: yuan("1500.00"),
        }],
    }
}

fn run(request_id: &str, reason: &str) -> pb::RunOutpatientClearingRequest {
    pb::RunOutpatientClearingRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: FUND,
        apg_block: yuan("1020.00"),
        reason: reason.into(),
        prepaid: Vec::new(),
    }
}

async fn seed(settlement: &Settlement) {
    let ordinary = RecordKind::Outpatient;
    let cases = vec![
        // C1 spends 1,000,000 of its 1,200,000; C2 1,350,000 (112.5 %).
        ambulatory("C1", "A1", ordinary, "600000.00", ("J06.900", &[])),
        ambulatory("C1", "A2", ordinary, "400000.00", ("J06.900", &[])),
        ambulatory("C2", "B1", ordinary, "1350000.00", ("J06.900", &[])),
        // C3: 470,000 ordinary + 15,000 chronic = its 485,000 exactly.
        ambulatory("C3", "D1", ordinary, "470000.00", ("I10.x00", &[])),
        ambulatory(
            "C3",
            "D2",
            RecordKind::ChronicOutpatient,
            "15000.00",
            ("E11.900", &[]),
        ),
        // H8, H9 have no per-capita enrolment: paid in APG points.
        ambulatory("H8", "V1", ordinary, "80.00", ("J06.900", &[])),
        ambulatory(
            "H9",
            "V2",
            ordinary,
            "900.00",
            ("L02.400", &["86.0400x001", "23.0900", "90.5900"]),
        ),
    ];
    CaseStore::insert_new_many(&settlement.db, &cases)
        .await
        .expect("seed");
}

#[tokio::test]
async fn domain_example_per_capita_sharing_and_apg_to_the_fen() {
    let mut settlement = start_settlement().await;
    seed(&settlement).await;
    let stored = settlement
        .outpatient
        .put_outpatient_enrolment(as_agency(enrolment("e-1")))
        .await
        .expect("enrolment")
        .into_inner();
    assert_eq!(stored.version, 1);

    let answer = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-1", "")))
        .await
        .expect("run")
        .into_inner();
    assert_eq!(answer.version, 1);
    assert_eq!(answer.enrolment_version, 1);
    let by_code = |code: &str| {
        answer
            .statements
            .iter()
            .find(|s| s.hospital_code == code)
            .unwrap_or_else(|| panic!("statement of {code}"))
            .clone()
    };
    // 10,000 × 120 = 1,200,000; actual 1,000,000 → the budget is paid, 200,000 retained.
    let c1 = by_code("C1");
    assert_eq!(
        money(c1.per_capita_budget.as_ref()),
        Money::from_yuan(1_200_000)
    );
    assert_eq!(money(c1.actual.as_ref()), Money::from_yuan(1_000_000));
    assert_eq!(c1.tier, "surplus_retained");
    assert_eq!(money(c1.payable.as_ref()), Money::from_yuan(1_200_000));
    // Actual 1,350,000 (112.5 %): the 100–110 % band shared at 50 % (+60,000), the rest not.
    let c2 = by_code("C2");
    assert_eq!(money(c2.actual.as_ref()), Money::from_yuan(1_350_000));
    assert_eq!(money(c2.payable.as_ref()), Money::from_yuan(1_260_000));
    // Referrals out deducted: 5,000 × 100 − 30,000 = 470,000; chronic 10 × 1,500 = 15,000.
    let c3 = by_code("C3");
    assert_eq!(
        money(c3.per_capita_budget.as_ref()),
        Money::from_yuan(470_000)
    );
    assert_eq!(money(c3.referrals_out.as_ref()), Money::from_yuan(30_000));
    assert_eq!(money(c3.chronic_budget.as_ref()), Money::from_yuan(15_000));
    assert_eq!(money(c3.actual.as_ref()), Money::from_yuan(485_000));
    assert_eq!(money(c3.payable.as_ref()), Money::from_yuan(485_000));
    // APG (APG.md's example): L02.400 with 86.04 (P01, 62.5 × 100 %), 23.09 (P05, 36 × 50 %)
    // and 90.59 (no group) + M07 12 = 92.5 points; J06.900 alone: M01 9.5. Σ 102 points;
    // block 1,020 → 10.0000 per point; H9 925.00, H8 95.00, residue 0.
    assert_eq!(decimal(answer.apg_points.as_ref()), Decimal::new(102, 0));
    assert_eq!(
        decimal(answer.apg_point_value.as_ref()),
        Decimal::new(10, 0)
    );
    let h9 = by_code("H9");
    assert_eq!(decimal(h9.apg_points.as_ref()), Decimal::new(925, 1));
    assert_eq!(money(h9.apg_amount.as_ref()), Money::from_yuan(925));
    assert_eq!(h9.apg_visits, 1);
    assert_eq!(money(by_code("H8").payable.as_ref()), Money::from_yuan(95));
    assert_eq!(money(answer.apg_residue.as_ref()), Money::ZERO);

    // The same request again replays the stored run; a re-run needs a reason and is version 2.
    let replayed = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-1", "")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.run_id, answer.run_id);
    let refused = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-2", "")))
        .await
        .expect_err("a re-run without a reason");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let second = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-3", "enrolment audit")))
        .await
        .expect("re-run")
        .into_inner();
    assert_eq!(second.version, 2);
    assert_eq!(second.statements_digest, answer.statements_digest);

    // The run is an ordinary run: its statements export with the outpatient columns.
    let file = settlement
        .runs
        .export_statements(as_agency(pb::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: answer.run_id.clone(),
            format: pb::ExportFormat::Csv as i32,
        }))
        .await
        .expect("export")
        .into_inner();
    let csv = String::from_utf8(file.content).expect("utf-8");
    assert!(
        csv.starts_with("hospital_code,enrolled_persons,per_capita_budget,"),
        "{csv}"
    );
    assert!(
        csv.contains("C2,10000,1200000.00,0.00,0.00,1350000.00,"),
        "{csv}"
    );
    assert_eq!(
        settlement_service::runs::export::sha256_hex(csv.as_bytes()),
        answer.statements_digest
    );
}

fn prepaid(code: &str, amount: &str) -> pb::OutpatientPrepaid {
    pb::OutpatientPrepaid {
        hospital_code: code.into(),
        amount: yuan(amount),
    }
}

/// Beyond the domain example: a pharmacy (P7) and chronic settlements where no chronic budget
/// covers them (C1 has a per-capita budget only, H8 none) are paid as claimed, and the year's
/// prepayments are deducted: C1 1,200,000 + 50 = 1,200,050 − 1,080,000 = 120,050 owed;
/// C3 485,000 − 490,000 = −5,000 refunded; P7 300 + 120 − 20 (a refund) = 400; H8 95 in APG
/// points + 200 = 295.
#[tokio::test]
async fn prepayments_are_deducted_and_what_no_budget_covers_is_paid_as_claimed() {
    let mut settlement = start_settlement().await;
    seed(&settlement).await;
    let chronic = RecordKind::ChronicOutpatient;
    let pharmacy = RecordKind::Pharmacy;
    CaseStore::insert_new_many(
        &settlement.db,
        &[
            ambulatory("C1", "A3", chronic, "50.00", ("E11.900", &[])),
            ambulatory("H8", "V3", chronic, "200.00", ("I10.x00", &[])),
            ambulatory("P7", "R1", pharmacy, "300.00", ("J06.900", &[])),
            ambulatory("P7", "R2", pharmacy, "120.00", ("J06.900", &[])),
            ambulatory("P7", "R3", pharmacy, "-20.00", ("J06.900", &[])),
        ],
    )
    .await
    .expect("seed");
    settlement
        .outpatient
        .put_outpatient_enrolment(as_agency(enrolment("e-1")))
        .await
        .expect("enrolment");

    // A prepayment to an institution without a budget is named by its field; nothing is stored.
    let mut bad = run("r-bad", "");
    bad.prepaid = vec![prepaid("C1", "1.00"), prepaid("P7", "10.00")];
    let refused = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(bad))
        .await
        .expect_err("P7 has no budget");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("prepaid[1].hospital_code"),
        "{}",
        refused.message()
    );

    let mut request = run("r-1", "");
    request.prepaid = vec![prepaid("C1", "1080000.00"), prepaid("C3", "490000.00")];
    let answer = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(request))
        .await
        .expect("run")
        .into_inner();
    assert_eq!(answer.version, 1, "the refused run stored nothing");
    let by_code = |code: &str| {
        answer
            .statements
            .iter()
            .find(|s| s.hospital_code == code)
            .unwrap_or_else(|| panic!("statement of {code}"))
            .clone()
    };
    let figures = |code: &str| {
        let s = by_code(code);
        (
            s.ffs_settlements,
            money(s.ffs_amount.as_ref()),
            money(s.payable.as_ref()),
            money(s.prepaid.as_ref()),
            money(s.balance.as_ref()),
        )
    };
    let y = Money::from_yuan;
    assert_eq!(
        figures("C1"),
        (1, y(50), y(1_200_050), y(1_080_000), y(120_050))
    );
    // C1's Act is still its ordinary claims only.
    assert_eq!(money(by_code("C1").actual.as_ref()), y(1_000_000));
    assert_eq!(figures("C3"), (0, y(0), y(485_000), y(490_000), y(-5_000)));
    assert_eq!(figures("P7"), (3, y(400), y(400), y(0), y(400)));
    assert_eq!(figures("H8"), (1, y(200), y(295), y(0), y(295)));
    // Nothing prepaid to C2: its balance is what it is paid.
    assert_eq!(figures("C2").4, y(1_260_000));

    let listed = settlement
        .runs
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: answer.run_id.clone(),
            page_size: 20,
            ..Default::default()
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    let c3 = listed
        .iter()
        .find(|s| s.hospital_code == "C3")
        .expect("C3 statement");
    assert_eq!(money(c3.balance.as_ref()), y(-5_000));
}

#[tokio::test]
async fn a_bad_enrolment_names_its_field_and_stores_nothing() {
    let mut settlement = start_settlement().await;
    let mut bad = enrolment("e-bad");
    bad.institutions[1].enrolled_persons = -5;
    bad.institutions[2].referrals_out = yuan("-1.00");
    let status = settlement
        .outpatient
        .put_outpatient_enrolment(as_agency(bad))
        .await
        .expect_err("negative figures");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "institutions[1].enrolled_persons",
            "institutions[2].referrals_out"
        ]
    );
    let nothing = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-1", "")))
        .await
        .expect_err("nothing enrolled");
    assert_eq!(nothing.code(), Code::FailedPrecondition);
    assert_eq!(
        nothing
            .get_error_details()
            .error_info()
            .map(|i| i.reason.clone()),
        Some("NO_OUTPATIENT_ENROLMENT".to_owned())
    );
}

#[tokio::test]
async fn a_visit_points_cannot_value_refuses_the_run_naming_it() {
    let mut settlement = start_settlement().await;
    let visit = settlement_case_without_table();
    CaseStore::insert_new_many(&settlement.db, &[visit])
        .await
        .expect("seed");
    settlement
        .outpatient
        .put_outpatient_enrolment(as_agency(enrolment("e-1")))
        .await
        .expect("enrolment");
    let status = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-1", "")))
        .await
        .expect_err("unvalued visit");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("H7/X1"), "{}", status.message());
}

/// An ordinary visit of 1 January, before the region's table is in force.
fn settlement_case_without_table() -> LedgerCase {
    let mut case = ambulatory(
        "H7",
        "X1",
        RecordKind::Outpatient,
        "10.00",
        ("J06.900", &[]),
    );
    case.discharge_date = 20250101;
    case
}
