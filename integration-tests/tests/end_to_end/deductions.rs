//! A confirmed finding becomes a violation deduction, end to end over real gRPC: the real
//! `medpay up` binary, three stays of one person submitted (two readmissions within 15 days),
//! March screened, one readmission confirmed and the other dismissed, the year cleared. The
//! statement deducts exactly the confirmed finding's amount, lists that finding (also in the CSV
//! export), and the hospital is paid that much less, to the fen. A deduction typed in beside
//! supervision is refused.

use integration_tests::{
    Medpay, config_with_county_key, put_and_activate_table, register_institution, stay_json,
    table_document,
};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use serde_json::Value;

const REGION: &str = "460108";
const HOSPITAL: &str = "H46010801";

fn submit(list_json: String, n: usize) -> settlement::SubmitCasesRequest {
    settlement::SubmitCasesRequest {
        request_id: if n == 0 {
            "deductions-upload".into()
        } else {
            String::new()
        },
        region_code: REGION.into(),
        case_json: String::new(),
        record: Some(settlement::SubmitRecord {
            record: Some(settlement::submit_record::Record::SettlementListJson(
                list_json,
            )),
        }),
    }
}

fn review(request_id: &str, finding_id: &str, decision: &str) -> supervision::ReviewFindingRequest {
    supervision::ReviewFindingRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        finding_id: finding_id.into(),
        decision: decision.into(),
        reason: "medical records checked".into(),
    }
}

fn money(value: &Value) -> anyhow::Result<rust_decimal::Decimal> {
    value
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{value} is not a decimal string"))?
        .parse()
        .map_err(Into::into)
}

#[tokio::test]
async fn a_confirmed_finding_is_deducted_and_listed_on_the_statement() -> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut cases, HOSPITAL, REGION, "3A").await?;
    put_and_activate_table(server.channel().await?, REGION, table_document()).await?;

    // One person, three appendectomies: readmitted after 9 and after 10 days.
    let days = ["2025-03-01", "2025-03-10", "2025-03-20"];
    let upload: Vec<_> = days
        .iter()
        .enumerate()
        .map(|(n, day)| {
            let list = stay_json(
                HOSPITAL,
                &format!("R{n}"),
                day,
                &format!("BA{n}"),
                &["K35.800"],
                "47.0100",
            );
            submit(list, n)
        })
        .collect();
    let outcome = cases
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (3, 0), "{outcome:?}");

    let mut supervising = SupervisionServiceClient::new(server.channel().await?);
    supervising
        .screen_cases(supervision::ScreenCasesRequest {
            request_id: "screen-2025-03".into(),
            region_code: REGION.into(),
            year: 2025,
            month: 3,
        })
        .await?;
    let findings = supervising
        .list_findings(supervision::ListFindingsRequest {
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 3,
            }),
            rule_id: "readmission_15_days".into(),
            page_size: 100,
            ..Default::default()
        })
        .await?
        .into_inner()
        .findings;
    let lists: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.list_id.as_str(), f.other_list_id.as_str()))
        .collect();
    assert_eq!(lists, [("R1", "R0"), ("R2", "R1")], "{findings:?}");
    let (confirmed, dismissed) = (&findings[0], &findings[1]);
    assert_eq!(confirmed.fund_type, common::FundType::Employee as i32);
    supervising
        .review_finding(review("review-1", &confirmed.finding_id, "confirmed"))
        .await?;
    supervising
        .review_finding(review("review-2", &dismissed.finding_id, "dismissed"))
        .await?;

    // With supervision wired in, a deduction typed in is refused: one source of truth.
    let mut runs = SettlementRunServiceClient::new(server.channel().await?);
    let typed = runs
        .put_hospital_year_inputs(settlement::PutHospitalYearInputsRequest {
            request_id: "inputs-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: common::FundType::Employee as i32,
            hospitals: vec![settlement::HospitalYearInput {
                hospital_code: HOSPITAL.into(),
                assessment_coefficient: None,
                violation_deductions: Some(common::Money {
                    yuan: "500.00".into(),
                }),
                deposit_returned: None,
                assessment_score: None,
            }],
        })
        .await
        .expect_err("typed-in deductions beside supervision");
    assert_eq!(typed.code(), tonic::Code::InvalidArgument, "{typed:?}");

    let year = runs
        .run_clearing(settlement::RunClearingRequest {
            request_id: "clear-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: common::FundType::Employee as i32,
            distributable_budget: Some(common::Money {
                yuan: "30000.00".into(),
            }),
            reason: String::new(),
            skip_unvalued: false,
        })
        .await?
        .into_inner();
    assert!(
        year.identity
            .as_ref()
            .is_some_and(|identity| identity.holds)
    );
    let statements = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: year.run_id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let statement: Value = serde_json::from_str(&statements[0].statement_json)?;
    let deduction = money(&statement["violation_deductions"])?;
    assert_eq!(deduction, confirmed.amount.parse()?, "{statement}");
    assert!(deduction > rust_decimal::Decimal::ZERO);
    let listed = statement["violation_findings"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no findings listed: {statement}"))?;
    assert_eq!(listed.len(), 1, "{statement}");
    assert_eq!(listed[0]["finding_id"], confirmed.finding_id.as_str());
    assert_eq!(listed[0]["rule_id"], "readmission_15_days");
    assert_eq!(listed[0]["case_ids"], serde_json::json!(["R1", "R0"]));
    // The entitlement after the coefficient drops by the deduction, to the fen, and the hospital
    // is paid (nothing was prepaid) exactly that.
    let assessed = money(&statement["assessed_entitlement"])?;
    assert_eq!(money(&statement["sharing_standard"])?, assessed - deduction);
    assert_eq!(money(&statement["final_amount"])?, assessed - deduction);
    assert_eq!(money(&statement["balance"])?, assessed - deduction);

    let export = runs
        .export_statements(settlement::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: year.run_id.clone(),
            format: settlement::ExportFormat::Csv.into(),
        })
        .await?
        .into_inner();
    let csv = String::from_utf8(export.content)?;
    assert!(csv.contains(&confirmed.finding_id), "{csv}");
    assert!(!csv.contains(&dismissed.finding_id), "{csv}");
    server.stop()?;
    Ok(())
}
