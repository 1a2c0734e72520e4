//! The outpatient year end, end to end over real gRPC against `medpay up`: a valuation table
//! carrying an APG table, the district's budget, two primary institutions enrolled per capita
//! and a hospital paid in APG points, their ambulatory settlements submitted through intake, the
//! year run. DOMAIN.md §3's example to the fen: 10,000 × 120 = 1,200,000; actual 1,000,000 →
//! 1,200,000 paid (200,000 retained); actual 1,350,000 (112.5 %) → 1,260,000 (+60,000). A
//! pharmacy's sale and a chronic settlement no chronic budget covers are paid as claimed, and the
//! year's per-capita prepayments are deducted from each statement's balance.

use budget_domain::{
    BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetMode, BudgetPolicy,
};
use integration_tests::{
    Medpay, config_with_county_key, put_and_activate_table, register_institution, table_document,
};
use medpay_proto::budget::v1 as budget;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::outpatient_service_client::OutpatientServiceClient;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use rust_decimal::Decimal;

const REGION: &str = "460108";
const FUND: i32 = common::FundType::Employee as i32;

/// The district's table with a small APG table: P01 62.5 (86.04), P05 36 (23.09), M02 11 (I10),
/// M99 8 (any other diagnosis).
fn table_with_apg() -> anyhow::Result<String> {
    let mut document: serde_json::Value = serde_json::from_str(&table_document())?;
    let group = |code: &str, kind: &str, points: &str| serde_json::json!({"code": code, "kind": kind, "base_points": points, "name": code});
    document["tables"]["apg"] = serde_json::json!({
        "groups": {
            "P01": group("P01", "procedure", "62.5"),
            "P05": group("P05", "procedure", "36"),
            "M02": group("M02", "medical", "11"),
            "M99": group("M99", "medical", "8"),
        },
        "procedure_members": {"86.04": "P01", "23.09": "P05"},
        "diagnosis_members": {"I10": "M02", "*": "M99"},
    });
    Ok(document.to_string())
}

/// An outpatient visit of 1 March 2025 paid entirely by the pooled fund.
fn visit(
    hospital: &str,
    list_id: &str,
    fund: &str,
    diagnosis: &str,
    procedures: &[&str],
) -> String {
    ambulatory(
        ("outpatient", "11"),
        hospital,
        list_id,
        fund,
        diagnosis,
        procedures,
    )
}

/// An ambulatory settlement of `kind` and its medical type, 1 March 2025, all from the fund.
fn ambulatory(
    (kind, med_type): (&str, &str),
    hospital: &str,
    list_id: &str,
    fund: &str,
    diagnosis: &str,
    procedures: &[&str],
) -> String {
    serde_json::json!({
        "header": {
            "setl_id": list_id,
            "fixmedins_code": hospital,
            "hospital_level": "1",
            "insutype": 310,
            "psn_no": format!("P-{list_id}"),
            "case_number": list_id,
            "declared_at": "2025-03-02 10:00:00",
            "pooling_region": REGION
        },
        "kind": kind,
        "med_type": med_type,
        "settled_at": "2025-03-01 09:00",
        "diagnoses": [{"code": diagnosis, "name": "diagnosis", "admission_condition": 1}],
        "payment": {"medfee_sumamt": fund, "hifp_pay": fund},
        "procedures": procedures,
    })
    .to_string()
}

fn submit(request_id: &str, json: String) -> settlement::SubmitCasesRequest {
    settlement::SubmitCasesRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        case_json: String::new(),
        record: Some(settlement::SubmitRecord {
            record: Some(settlement::submit_record::Record::AmbulatoryJson(json)),
        }),
    }
}

fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn yuan(text: &str) -> Option<common::Money> {
    Some(common::Money { yuan: text.into() })
}

fn amount(value: Option<&common::Money>) -> anyhow::Result<Decimal> {
    Ok(value
        .ok_or_else(|| anyhow::anyhow!("no amount"))?
        .yuan
        .parse()?)
}

async fn create_budget(server: &Medpay) -> anyhow::Result<()> {
    let document = BudgetDocument {
        region: REGION.parse()?,
        year: 2025,
        fund: kernel::FundType::Employee,
        mode: BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: kernel::Money::from_yuan(100_000_000),
            growth_cap: Decimal::ZERO,
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: Decimal::ONE,
        }]),
        policy: BudgetPolicy::default(),
    };
    BudgetServiceClient::new(server.channel().await?)
        .create_budget(budget::CreateBudgetRequest {
            request_id: "budget-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            document_json: serde_json::to_string(&document)?,
            ..Default::default()
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn per_capita_sharing_and_apg_are_paid_over_grpc() -> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    for code in ["C1", "C2", "H9", "P7"] {
        register_institution(&mut cases, code, REGION, "1").await?;
    }
    put_and_activate_table(server.channel().await?, REGION, table_with_apg()?).await?;
    create_budget(&server).await?;

    let upload = vec![
        submit(
            "outpatient-upload",
            visit("C1", "A1", "1000000.00", "I10.x00", &[]),
        ),
        submit("", visit("C2", "B1", "1350000.00", "I10.x00", &[])),
        // 62.5 × 100 % + 36 × 50 % (90.59 has no group) + M99 8 = 88.5 points.
        submit(
            "",
            visit(
                "H9",
                "V1",
                "900.00",
                "K35.800",
                &["86.0400x001", "23.0900", "90.5900"],
            ),
        ),
        // M02 alone: 11 points.
        submit("", visit("H9", "V2", "80.00", "I10.x00", &[])),
        // H9 has no chronic budget, P7 is a pharmacy: both paid as claimed.
        submit(
            "",
            ambulatory(
                ("chronic_outpatient", "14"),
                "H9",
                "K1",
                "60.00",
                "E11.900",
                &[],
            ),
        ),
        submit(
            "",
            ambulatory(("pharmacy", "41"), "P7", "R1", "250.50", "J06.900", &[]),
        ),
    ];
    let outcome = cases
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (6, 0), "{outcome:?}");

    let mut outpatient = OutpatientServiceClient::new(server.channel().await?);
    let primary = |code: &str| settlement::PrimaryEnrolment {
        hospital_code: code.into(),
        enrolled_persons: 10_000,
        rate_per_head: yuan("120.00"),
        referrals_out: None,
    };
    outpatient
        .put_outpatient_enrolment(settlement::PutOutpatientEnrolmentRequest {
            request_id: "enrolment-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            institutions: vec![primary("C1"), primary("C2")],
            chronic: vec![],
        })
        .await?;
    let run = outpatient
        .run_outpatient_clearing(settlement::RunOutpatientClearingRequest {
            request_id: "outpatient-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            apg_block: yuan("995.00"),
            reason: String::new(),
            prepaid: vec![settlement::OutpatientPrepaid {
                hospital_code: "C1".into(),
                amount: yuan("1080000.00"),
            }],
        })
        .await?
        .into_inner();
    let payable: Vec<(String, Decimal, Decimal, Decimal)> = run
        .statements
        .iter()
        .map(|s| {
            Ok((
                s.hospital_code.clone(),
                amount(s.per_capita_budget.as_ref())?,
                amount(s.payable.as_ref())?,
                amount(s.balance.as_ref())?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let y = |yuan: i64| Decimal::new(yuan, 0);
    assert_eq!(
        payable,
        [
            // 1,200,000 − 1,080,000 prepaid = 120,000 still owed.
            ("C1".to_owned(), y(1_200_000), y(1_200_000), y(120_000)),
            ("C2".to_owned(), y(1_200_000), y(1_260_000), y(1_260_000)),
            // 99.5 points × (995 / 99.5 = 10.0000) + its chronic settlement's 60.
            ("H9".to_owned(), Decimal::ZERO, y(1_055), y(1_055)),
            ("P7".to_owned(), Decimal::ZERO, d("250.50"), d("250.50")),
        ]
    );
    assert_eq!(run.statements[2].apg_visits, 2);
    assert_eq!(amount(run.statements[2].ffs_amount.as_ref())?, y(60));
    assert_eq!(run.statements[3].ffs_settlements, 1);

    // The run is listed and exported like any run, with the outpatient columns.
    let mut runs = SettlementRunServiceClient::new(server.channel().await?);
    let listed = runs
        .list_runs(settlement::ListRunsRequest {
            region_code: REGION.into(),
            kind: "outpatient".into(),
            page_size: 10,
            ..Default::default()
        })
        .await?
        .into_inner()
        .runs;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].run_id, run.run_id);
    let csv = runs
        .export_statements(settlement::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run.run_id.clone(),
            format: settlement::ExportFormat::Csv as i32,
        })
        .await?
        .into_inner()
        .content;
    let csv = String::from_utf8(csv)?;
    assert!(
        csv.contains("C2,10000,1200000.00,0.00,0.00,1350000.00,overspend"),
        "{csv}"
    );
    let xlsx = runs
        .export_statements(settlement::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: run.run_id,
            format: settlement::ExportFormat::Xlsx as i32,
        })
        .await?
        .into_inner()
        .content;
    assert!(xlsx.starts_with(b"PK"), "an XLSX workbook is a zip file");
    Ok(())
}

/// Twelve monthly prepayments and the year end, through `medpay up`: each primary institution
/// is prepaid its per-capita budget in twelve parts (December taking the fen residue), and the
/// year end deducts them, so Σ prepayments + the year end's balance = the annual entitlement to
/// the fen. C1: 10,000 × 120.07 = 1,200,700; / 12 = 100,058.333… → 100,058.33 × 11 =
/// 1,100,641.63, December 100,058.37; it spends 1,000,000, so it keeps its budget (surplus
/// retained) and is owed nothing more. C2: 1,200,000, 100,000 a month; it spends 1,350,000 and
/// is paid 1,260,000, 60,000 at the year end.
#[tokio::test]
async fn twelve_prepayments_and_the_year_end_pay_the_annual_entitlement_to_the_fen()
-> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    for code in ["C1", "C2"] {
        register_institution(&mut cases, code, REGION, "1").await?;
    }
    put_and_activate_table(server.channel().await?, REGION, table_with_apg()?).await?;
    create_budget(&server).await?;
    let upload = vec![
        submit(
            "prepaid-upload",
            visit("C1", "A1", "1000000.00", "I10.x00", &[]),
        ),
        submit("", visit("C2", "B1", "1350000.00", "I10.x00", &[])),
    ];
    let outcome = cases
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (2, 0), "{outcome:?}");

    let mut outpatient = OutpatientServiceClient::new(server.channel().await?);
    let primary = |code: &str, rate: &str| settlement::PrimaryEnrolment {
        hospital_code: code.into(),
        enrolled_persons: 10_000,
        rate_per_head: yuan(rate),
        referrals_out: None,
    };
    outpatient
        .put_outpatient_enrolment(settlement::PutOutpatientEnrolmentRequest {
            request_id: "enrolment-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            institutions: vec![primary("C1", "120.07"), primary("C2", "120.00")],
            chronic: vec![],
        })
        .await?;

    let mut prepaid: std::collections::BTreeMap<String, Vec<Decimal>> = Default::default();
    for month in 1..=12 {
        let answer = outpatient
            .run_outpatient_prepayment(settlement::RunOutpatientPrepaymentRequest {
                request_id: format!("outpatient-prepayment-{month}"),
                region_code: REGION.into(),
                period: Some(common::YearMonth { year: 2025, month }),
                fund_type: FUND,
            })
            .await?
            .into_inner();
        for line in &answer.statements {
            prepaid
                .entry(line.hospital_code.clone())
                .or_default()
                .push(amount(line.amount.as_ref())?);
        }
    }
    let c1 = &prepaid["C1"];
    assert!(c1[..11].iter().all(|a| *a == d("100058.33")), "{c1:?}");
    assert_eq!(c1[11], d("100058.37"));
    assert_eq!(c1.iter().sum::<Decimal>(), d("1200700.00"));
    assert_eq!(prepaid["C2"].iter().sum::<Decimal>(), d("1200000.00"));

    let run = outpatient
        .run_outpatient_clearing(settlement::RunOutpatientClearingRequest {
            request_id: "outpatient-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            apg_block: None,
            reason: String::new(),
            prepaid: vec![],
        })
        .await?
        .into_inner();
    assert_eq!(run.prepaid_source, "stored");
    assert_eq!(run.prepayment_run_ids.len(), 12);
    for statement in &run.statements {
        let months: Decimal = prepaid[&statement.hospital_code].iter().sum();
        let payable = amount(statement.payable.as_ref())?;
        assert_eq!(amount(statement.prepaid.as_ref())?, months);
        // Σ of the twelve prepayments + the year end's balance = the entitlement, to the fen.
        assert_eq!(months + amount(statement.balance.as_ref())?, payable);
    }
    let figures: Vec<(String, Decimal, Decimal)> = run
        .statements
        .iter()
        .map(|s| {
            Ok((
                s.hospital_code.clone(),
                amount(s.payable.as_ref())?,
                amount(s.balance.as_ref())?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    assert_eq!(
        figures,
        [
            ("C1".to_owned(), d("1200700.00"), d("0.00")),
            ("C2".to_owned(), d("1260000.00"), d("60000.00")),
        ]
    );
    Ok(())
}
