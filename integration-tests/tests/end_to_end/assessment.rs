//! An assessment score returns the quality deposit, end to end over real gRPC against the real
//! `medpay up` binary: one stay submitted, prepaid and closed in March (5 % of the payable
//! withheld as the quality deposit), a scorecard put and the year assessed by supervision (score 75), the
//! year cleared: the statement returns 75 % of the deposit and says the score came from
//! supervision. A score typed into the year inputs then wins (95 → all of it returned).

use integration_tests::{
    Medpay, config_with_county_key, put_and_activate_table, register_institution, stay_json,
    table_document,
};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_assessment_service_client::SupervisionAssessmentServiceClient;
use rust_decimal::Decimal;
use serde_json::Value;
use tonic::transport::Channel;

const REGION: &str = "460108";
const HOSPITAL: &str = "H46010801";

/// One stay out of 2 scores half of 50; no confirmed finding keeps the other 50: 75.
const CARD: &str = r#"{"items": [
  {"id": "volume", "group": "capacity", "measure": "cases", "weight": "50", "rule": "linear", "target": "2", "zero_at": "0"},
  {"id": "violations", "group": "behaviour", "measure": "confirmed_findings", "weight": "50", "rule": "deduct", "per_unit": "10"}
]}"#;

fn decimal(value: &Value) -> anyhow::Result<Decimal> {
    value
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{value} is not a decimal string"))?
        .parse()
        .map_err(Into::into)
}

async fn clear(
    runs: &mut SettlementRunServiceClient<Channel>,
    request_id: &str,
    reason: &str,
) -> anyhow::Result<Value> {
    let year = runs
        .run_clearing(settlement::RunClearingRequest {
            request_id: request_id.into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: common::FundType::Employee as i32,
            distributable_budget: Some(common::Money {
                yuan: "30000.00".into(),
            }),
            reason: reason.into(),
            skip_unvalued: false,
        })
        .await?
        .into_inner();
    let statements = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: year.run_id,
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    Ok(serde_json::from_str(&statements[0].statement_json)?)
}

#[tokio::test]
async fn a_run_assessment_score_returns_the_deposit_on_the_clearing_statement() -> anyhow::Result<()>
{
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut cases, HOSPITAL, REGION, "3A").await?;
    put_and_activate_table(server.channel().await?, REGION, table_document()).await?;
    let list = stay_json(HOSPITAL, "A0", "2025-03-05", "BA0", &["K35.800"], "47.0100");
    let outcome = cases
        .submit_cases(tokio_stream::iter([settlement::SubmitCasesRequest {
            request_id: "assessment-upload".into(),
            region_code: REGION.into(),
            case_json: String::new(),
            record: Some(settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(list)),
            }),
        }]))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (1, 0), "{outcome:?}");

    let mut runs = SettlementRunServiceClient::new(server.channel().await?);
    let march = runs
        .run_prepayment(settlement::RunPrepaymentRequest {
            request_id: "prepay-2025-03".into(),
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 3,
            }),
            fund_type: common::FundType::Employee as i32,
            provisional_point_value: Some(common::Decimal {
                value: "100".into(),
            }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
        })
        .await?
        .into_inner();
    let lines = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: march.run_id,
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let line: Value = serde_json::from_str(&lines[0].statement_json)?;
    // 105 points × 100 − the burden 3,000 = 7,500; × 0.90 = 6,750; 5 % withheld = 337.50.
    let withheld = decimal(&line["quality_deposit"])?;
    assert_eq!(withheld, Decimal::new(33750, 2), "{line}");
    // A closed month's prepayment is what the clearing counts as prepaid and withheld.
    runs.close_month(settlement::CloseMonthRequest {
        request_id: "close-2025-03".into(),
        region_code: REGION.into(),
        period: Some(common::YearMonth {
            year: 2025,
            month: 3,
        }),
        fund_type: common::FundType::Employee as i32,
    })
    .await?;

    let mut assessing = SupervisionAssessmentServiceClient::new(server.channel().await?);
    assessing
        .put_scorecard(supervision::PutScorecardRequest {
            request_id: "scorecard-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            scorecard_json: CARD.into(),
            use_demo: false,
        })
        .await?;
    let run = assessing
        .run_assessment(supervision::RunAssessmentRequest {
            request_id: "assess-2025".into(),
            region_code: REGION.into(),
            year: 2025,
        })
        .await?
        .into_inner();
    assert_eq!(run.run.map(|r| r.version), Some(1));
    let assessed = assessing
        .get_assessment(supervision::GetAssessmentRequest {
            region_code: REGION.into(),
            year: 2025,
            hospital_code: HOSPITAL.into(),
            version: 0,
        })
        .await?
        .into_inner()
        .assessment
        .ok_or_else(|| anyhow::anyhow!("no assessment"))?;
    assert_eq!(assessed.score, "75.00");
    assert_eq!(assessed.credit_grade, "B");

    let statement = clear(&mut runs, "clear-2025", "").await?;
    assert_eq!(
        decimal(&statement["deposit_withheld"])?,
        withheld,
        "{statement}"
    );
    assert_eq!(decimal(&statement["assessment_score"])?, Decimal::from(75));
    assert_eq!(statement["assessment_score_source"], "supervision");
    // 75 % of 337.50 = 253.125 → 253.13 (half away from zero); 84.37 forfeited.
    assert_eq!(
        decimal(&statement["deposit_returned"])?,
        Decimal::new(25313, 2),
        "{statement}"
    );
    assert_eq!(
        decimal(&statement["deposit_forfeited"])?,
        Decimal::new(8437, 2)
    );

    // A score typed into the year inputs wins.
    runs.put_hospital_year_inputs(settlement::PutHospitalYearInputsRequest {
        request_id: "inputs-2025".into(),
        region_code: REGION.into(),
        year: 2025,
        fund_type: common::FundType::Employee as i32,
        hospitals: vec![settlement::HospitalYearInput {
            hospital_code: HOSPITAL.into(),
            assessment_coefficient: None,
            violation_deductions: None,
            deposit_returned: None,
            assessment_score: Some(common::Decimal { value: "95".into() }),
        }],
    })
    .await?;
    let statement = clear(&mut runs, "clear-2025-typed", "the agency typed its score").await?;
    assert_eq!(decimal(&statement["assessment_score"])?, Decimal::from(95));
    assert_eq!(statement["assessment_score_source"], "year_inputs");
    assert_eq!(decimal(&statement["deposit_returned"])?, withheld);
    server.stop()?;
    Ok(())
}
