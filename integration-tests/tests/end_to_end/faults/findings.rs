//! Supervision's part of the quarter: the bureau screens the three months, confirms one
//! finding, and the clearing reads its deduction from supervision through the proxy in front of
//! the supervision peer; the statements show what was deducted.

use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use rust_decimal::Decimal;

use super::{Harness, timed};
use integration_tests::quarter::COUNTY;

/// A confirmed finding as the quarter's result holds it: ids differ from run to run, these do
/// not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Confirmed {
    pub(crate) rule_id: String,
    pub(crate) hospital_code: String,
    pub(crate) list_id: String,
    pub(crate) amount: String,
}

/// Screens January to March and confirms the first finding (in an order that does not depend
/// on its generated id) that deducts anything.
pub(crate) async fn confirm_a_finding(h: &Harness) -> anyhow::Result<Confirmed> {
    let client = SupervisionServiceClient::new(h.channel.clone());
    let mut findings = Vec::new();
    for month in 1..=3 {
        let screen = supervision::ScreenCasesRequest {
            request_id: format!("screen-2025-{month:02}"),
            region_code: COUNTY.into(),
            year: 2025,
            month,
        };
        h.call("ScreenCases", || {
            let (mut c, body) = (client.clone(), screen.clone());
            async move { c.screen_cases(timed(body)).await }
        })
        .await?;
        let mut page_token = String::new();
        loop {
            let ask = supervision::ListFindingsRequest {
                region_code: COUNTY.into(),
                period: Some(common::YearMonth { year: 2025, month }),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let page = h
                .call("ListFindings", || {
                    let (mut c, body) = (client.clone(), ask.clone());
                    async move { c.list_findings(timed(body)).await }
                })
                .await?;
            findings.extend(page.findings);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    let mut deducting: Vec<supervision::Finding> = findings
        .into_iter()
        .filter(|f| f.amount.parse::<Decimal>().is_ok_and(|a| a > Decimal::ZERO))
        .collect();
    deducting.sort_by(|a, b| {
        (&a.rule_id, &a.list_id, &a.other_list_id, &a.item_code).cmp(&(
            &b.rule_id,
            &b.list_id,
            &b.other_list_id,
            &b.item_code,
        ))
    });
    let chosen = deducting
        .first()
        .ok_or_else(|| anyhow::anyhow!("screening the quarter found nothing to deduct"))?;
    let review = supervision::ReviewFindingRequest {
        request_id: "review-quarter".into(),
        region_code: COUNTY.into(),
        finding_id: chosen.finding_id.clone(),
        decision: "confirmed".into(),
        reason: "medical records checked".into(),
    };
    h.call("ReviewFinding", || {
        let (mut c, body) = (client.clone(), review.clone());
        async move { c.review_finding(timed(body)).await }
    })
    .await?;
    Ok(Confirmed {
        rule_id: chosen.rule_id.clone(),
        hospital_code: chosen.hospital_code.clone(),
        list_id: chosen.list_id.clone(),
        amount: chosen.amount.clone(),
    })
}

/// Each hospital's violation deduction on the clearing's statements, by hospital code.
pub(crate) async fn deductions(
    h: &Harness,
    region_code: &str,
    run_id: &str,
) -> anyhow::Result<Vec<(String, Decimal)>> {
    let runs = SettlementRunServiceClient::new(h.channel.clone());
    let ask = settlement::ListStatementsRequest {
        region_code: region_code.into(),
        run_id: run_id.into(),
        page_size: 500,
        ..Default::default()
    };
    let statements = h
        .call("ListStatements", || {
            let (mut c, body) = (runs.clone(), ask.clone());
            async move { c.list_statements(timed(body)).await }
        })
        .await?
        .statements;
    let mut deductions = statements
        .iter()
        .map(|statement| {
            let json: serde_json::Value = serde_json::from_str(&statement.statement_json)?;
            let amount = json["violation_deductions"]
                .as_str()
                .unwrap_or("0")
                .parse::<Decimal>()?;
            Ok((statement.hospital_code.clone(), amount))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    deductions.sort();
    Ok(deductions)
}
