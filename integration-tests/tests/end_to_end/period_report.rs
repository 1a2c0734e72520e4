//! The quarterly analysis as an analyst opens it: the real `medpay up`, four stays of one
//! person, one in February 2025 and three in March (readmitted after 9 and 10 days),
//! March screened, then `ExportPeriodReport` as HTML for the first quarter written to a file
//! and opened in headless Chromium: every chart drawn with its data, no script error, nothing
//! fetched; the same figures as `GetPeriodReport`.

use integration_tests::browser::{chromium_for_test, rendered_dom};
use integration_tests::{
    Medpay, config_with_county_key, put_and_activate_table, register_institution, stay_json,
    table_document,
};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_reports_service_client::SupervisionReportsServiceClient;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;

const REGION: &str = "460108";
const HOSPITAL: &str = "H46010801";

fn attribute<'a>(html: &'a str, marker: &str, name: &str) -> Option<&'a str> {
    let at = html.find(marker)?;
    let tag = &html[html[..at].rfind('<')?..at + html[at..].find('>')?];
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

fn text_of<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let at = html.find(marker)?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = html[open_end..].find('<')?;
    Some(&html[open_end..open_end + close])
}

fn quarter() -> supervision::GetPeriodReportRequest {
    supervision::GetPeriodReportRequest {
        region_code: REGION.into(),
        kind: supervision::PeriodKind::Quarterly.into(),
        year: 2025,
        quarter: 1,
        fund_type: 0,
    }
}

#[tokio::test]
async fn the_quarterly_report_draws_every_chart_in_headless_chromium() -> anyhow::Result<()> {
    let Some(chromium) = chromium_for_test("the quarterly report was not opened in a browser")
    else {
        return Ok(());
    };
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut cases, HOSPITAL, REGION, "3A").await?;
    put_and_activate_table(server.channel().await?, REGION, table_document()).await?;
    let stays = [
        ("R0", "BA0", "2025-03-01"),
        ("R1", "BA1", "2025-03-10"),
        ("R2", "BA2", "2025-03-20"),
        ("F0", "BB1", "2025-02-03"),
    ];
    let upload: Vec<_> = stays
        .iter()
        .enumerate()
        .map(
            |(n, (id, case_number, day))| settlement::SubmitCasesRequest {
                request_id: if n == 0 {
                    "period-upload".into()
                } else {
                    String::new()
                },
                region_code: REGION.into(),
                case_json: String::new(),
                record: Some(settlement::SubmitRecord {
                    record: Some(settlement::submit_record::Record::SettlementListJson(
                        stay_json(HOSPITAL, id, day, case_number, &["K35.800"], "47.0100"),
                    )),
                }),
            },
        )
        .collect();
    let outcome = cases
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (4, 0), "{outcome:?}");
    SupervisionServiceClient::new(server.channel().await?)
        .screen_cases(supervision::ScreenCasesRequest {
            request_id: "screen-2025-03".into(),
            region_code: REGION.into(),
            year: 2025,
            month: 3,
        })
        .await?;

    let mut reports = SupervisionReportsServiceClient::new(server.channel().await?);
    let data = reports.get_period_report(quarter()).await?.into_inner();
    let cases_by_month: Vec<u64> = data
        .months
        .iter()
        .map(|m| m.totals.as_ref().map_or(0, |t| t.cases))
        .collect();
    assert_eq!(cases_by_month, [0, 1, 3]);
    // R1 and R2 each within 15 days of the stay before.
    let readmissions = &data.rule_hits[1];
    assert_eq!(
        (readmissions.rule_id.as_str(), readmissions.findings),
        ("readmission_15_days", 2)
    );
    let march_cost = data.months[2]
        .totals
        .as_ref()
        .map(|t| t.total_cost.clone())
        .unwrap_or_default();

    let export = reports
        .export_period_report(supervision::ExportPeriodReportRequest {
            query: Some(quarter()),
            format: supervision::ReportFormat::Html.into(),
        })
        .await?
        .into_inner();
    assert_eq!(export.file_name, "report_460108_2025q1.html");
    let html = String::from_utf8(export.content)?;
    assert!(
        !html.contains("<link") && !html.contains(" src="),
        "a fetched resource"
    );
    assert_eq!(
        html.matches("http").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "a URL other than SVG's namespace"
    );
    assert!(
        html.contains(&format!(">{march_cost}<")),
        "March's {march_cost}"
    );
    let work = tempfile::tempdir()?;
    let page = work.path().join(&export.file_name);
    std::fs::write(&page, &html)?;

    let dom = rendered_dom(
        &chromium,
        &format!("file://{}", page.display()),
        &work.path().join("profile"),
        std::time::Duration::from_secs(10),
    )?;
    assert_eq!(
        attribute(&dom, "id=\"script-errors\"", "data-count"),
        Some("0"),
        "script errors: {:?}",
        text_of(&dom, "id=\"script-errors\"")
    );
    let check = "id=\"render-check\"";
    assert_eq!(
        attribute(&dom, check, "data-charts"),
        Some("5"),
        "{:?}",
        text_of(&dom, check)
    );
    assert_eq!(
        attribute(&dom, check, "data-complete"),
        Some("5"),
        "{:?}",
        text_of(&dom, check)
    );
    for id in ["trend-cost", "trend-cases", "hospitals", "regions", "rules"] {
        let marker = format!("id=\"{id}\"");
        let declared = attribute(&dom, &marker, "data-marks");
        assert!(declared.is_some_and(|n| n != "0"), "{id} has no data");
        assert_eq!(
            attribute(&dom, &marker, "data-drawn"),
            declared,
            "{id} drawn"
        );
    }
    Ok(())
}
