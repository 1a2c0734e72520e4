//! The quarterly analysis and annual report over real gRPC: Haikou's stays of the indicator
//! tests (February one stay, March five, a year earlier one), March screened with Haikou's two
//! rules; the first quarter's months, hospitals, spectrum and rule findings hand-computed, a
//! hospital's own view, refusals, the three export formats, and a province-wide run over the same
//! cases counted once.

use std::sync::Arc;

use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_reports_service_client::SupervisionReportsServiceClient;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use platform::testing::{as_principal, error_reason, principal, serve, sqlite, violated_fields};
use supervision_service::store::SupervisionStore;
use supervision_service::{GrpcCases, Migrator, SupervisionApi, SupervisionReportsApi, Tables};
use tonic::Code;
use tonic::transport::Channel;

use crate::indicators::haikou_cases;
use crate::{HAIKOU, SANYA, agency, haikou_policy, march, screen_request};

type Reports = SupervisionReportsServiceClient<Channel>;

/// Screening and reports over one database and one fake ledger; March screened once.
async fn screened() -> (Reports, Vec<pb::Finding>) {
    let (client, mut screening) = servers().await;
    screening
        .screen_cases(agency(screen_request("screen-march")))
        .await
        .expect("screened");
    let findings = screening
        .list_findings(agency(march(0)))
        .await
        .expect("findings")
        .into_inner()
        .findings;
    (client, findings)
}

/// The reports and screening servers over one database and one fake ledger.
async fn servers() -> (Reports, SupervisionServiceClient<Channel>) {
    let db = sqlite::<Migrator>().await;
    let settlement = serve(tonic::service::Routes::new(haikou_cases().into_server())).await;
    let cases = Arc::new(GrpcCases::new(settlement, None).expect("case source"));
    let tables = Tables::demo().expect("demo tables");
    let screening = SupervisionApi::new(
        SupervisionStore::new(db.clone()),
        cases.clone(),
        tables.clone(),
    )
    .with_parameters(haikou_policy());
    let screening = SupervisionServiceClient::new(
        serve(tonic::service::Routes::new(screening.into_server())).await,
    );
    let reports = SupervisionReportsApi::new(cases, tables)
        .with_parameters(haikou_policy())
        .with_findings(SupervisionStore::new(db));
    let client = SupervisionReportsServiceClient::new(
        serve(tonic::service::Routes::new(reports.into_server())).await,
    );
    (client, screening)
}

#[tokio::test]
async fn a_case_found_by_the_province_run_and_haikou_s_counts_once() {
    let (mut client, mut screening) = servers().await;
    let province = |request_id: &str| {
        platform::testing::as_caller(
            pb::ScreenCasesRequest {
                region_code: "460000".into(),
                ..screen_request(request_id)
            },
            "agency-hainan",
            "460000",
            &["run"],
        )
    };
    // The province screens Haikou's cases too, before and after Haikou's own run.
    for request in [
        province("province-1"),
        agency(screen_request("screen-march")),
        province("province-2"),
    ] {
        screening.screen_cases(request).await.expect("screened");
    }
    let haikou = screening
        .list_findings(agency(march(0)))
        .await
        .expect("findings")
        .into_inner()
        .findings;
    assert_eq!(haikou.len(), 1, "{haikou:?}");
    let report = client
        .get_period_report(agency(first_quarter(HAIKOU)))
        .await
        .expect("report")
        .into_inner();
    let readmission = &report.rule_hits[1];
    assert_eq!(
        (readmission.rule_number, readmission.findings),
        (2, 1),
        "found by both regions' runs, counted from Haikou's"
    );
    assert_eq!(readmission.amount, haikou[0].amount);
}

fn first_quarter(region: &str) -> pb::GetPeriodReportRequest {
    pb::GetPeriodReportRequest {
        region_code: region.into(),
        kind: pb::PeriodKind::Quarterly.into(),
        year: 2026,
        quarter: 1,
        fund_type: 0,
    }
}

fn totals(months: &[pb::MonthTotals]) -> Vec<(i32, u64, String, String)> {
    months
        .iter()
        .map(|m| {
            let t = m.totals.clone().unwrap_or_default();
            (
                m.month.map_or(0, |m| m.year * 100 + m.month),
                t.cases,
                t.total_cost,
                m.cmi.clone(),
            )
        })
        .collect()
}

fn indicator(row: &pb::IndicatorRow, code: &str) -> String {
    row.indicators
        .iter()
        .find(|i| i.code == code)
        .map(|i| i.value.clone())
        .unwrap_or_else(|| panic!("no {code} in {row:?}"))
}

#[tokio::test]
async fn the_first_quarter_is_hand_computed_with_the_runs_findings() {
    let (mut client, findings) = screened().await;
    // P1 back at H001 five days after A1: the one readmission finding of March.
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].rule_number, 2);
    let report = client
        .get_period_report(agency(first_quarter(HAIKOU)))
        .await
        .expect("report")
        .into_inner();
    // January empty; February F1 (ES23, 8,000.00); March 8,600 + 9,600 + 12,500 + 42,000 +
    // 7,600 = 80,300.00 with CMI (0.86 × 3 + 1.25 + 4.2) / 5 = 1.6060.
    assert_eq!(
        totals(&report.months),
        [
            (202601, 0, "0.00".into(), String::new()),
            (202602, 1, "8000.00".into(), "0.8600".into()),
            (202603, 5, "80300.00".into(), "1.6060".into()),
        ]
    );
    let total = report.total.expect("total");
    assert_eq!(indicator(&total, "cases"), "6");
    // 88,300.00 against the 20,000.00 of March 2025.
    assert_eq!(indicator(&total, "total_cost_growth"), "3.4150");
    assert!(report.previous_year_read);
    let hospitals: Vec<(String, String)> = report
        .hospitals
        .iter()
        .map(|r| (r.hospital_code.clone(), indicator(r, "total_cost")))
        .collect();
    assert_eq!(
        hospitals,
        [
            ("H001".to_owned(), "38700.00".to_owned()),
            ("H002".to_owned(), "49600.00".to_owned())
        ]
    );
    let regions: Vec<(&str, u64)> = report
        .regions
        .iter()
        .map(|r| {
            (
                r.region_code.as_str(),
                r.totals.as_ref().map_or(0, |t| t.cases),
            )
        })
        .collect();
    assert_eq!(regions, [(HAIKOU, 6)]);
    // ES23: A1, A2, B2 and F1, (8,600 + 9,600 + 7,600 + 8,000) / 4 = 8,450.00, 4 / 6 of cases.
    let top = &report.spectrum[0];
    assert_eq!(
        (
            top.drg.as_str(),
            top.cases,
            top.mean_cost.as_str(),
            top.case_share.as_str()
        ),
        ("ES23", 4, "8450.00", "0.6667")
    );
    assert_eq!(report.spectrum.len(), 3);
    assert_eq!(report.rule_hits.len(), 23);
    let readmission = &report.rule_hits[1];
    assert_eq!(
        (
            readmission.rule_number,
            readmission.item,
            readmission.findings,
            readmission.confirmed
        ),
        (2, 20, 1, 0)
    );
    assert_eq!(readmission.amount, findings[0].amount);
    let others: u64 = report.rule_hits.iter().map(|r| r.findings).sum();
    assert_eq!(others, 1);
    assert_eq!(report.screening_runs, 1);
    let unsupported: Vec<(&str, u32)> = report
        .unsupported
        .iter()
        .map(|u| (u.catalogue.as_str(), u.number))
        .collect();
    assert_eq!(unsupported, [("quarterly", 17)]);
}

#[tokio::test]
async fn the_annual_report_reads_twelve_months_and_names_the_clearing_report_as_settlements() {
    let (mut client, _) = screened().await;
    let mut request = first_quarter(HAIKOU);
    request.kind = pb::PeriodKind::Annual.into();
    request.quarter = 0;
    let report = client
        .get_period_report(agency(request))
        .await
        .expect("annual")
        .into_inner();
    assert_eq!(report.months.len(), 12);
    let cases: u64 = report
        .months
        .iter()
        .map(|m| m.totals.as_ref().map_or(0, |t| t.cases))
        .sum();
    assert_eq!(cases, 6);
    assert_eq!(report.unsupported[0].number, 29);
    assert_eq!(report.rule_hits[1].findings, 1);
}

#[tokio::test]
async fn a_hospital_sees_its_own_sums_and_findings_only() {
    let (mut client, _) = screened().await;
    let mut h002 = principal("h002", HAIKOU, &["hospital"]);
    h002.institution = Some("H002".into());
    let report = client
        .get_period_report(as_principal(first_quarter(HAIKOU), &h002))
        .await
        .expect("own report")
        .into_inner();
    assert!(report.total.is_none());
    let hospitals: Vec<&str> = report
        .hospitals
        .iter()
        .map(|r| r.hospital_code.as_str())
        .collect();
    assert_eq!(hospitals, ["H002"]);
    // B1 (42,000.00) and B2 (7,600.00), both in March.
    assert_eq!(
        totals(&report.months)[2],
        (202603, 2, "49600.00".to_owned(), "2.5300".to_owned())
    );
    // The readmission finding is H001's.
    assert!(report.rule_hits.iter().all(|r| r.findings == 0));
}

#[tokio::test]
async fn bad_periods_formats_and_foreign_regions_are_refused() {
    let (mut client, _) = screened().await;
    let mut request = first_quarter(HAIKOU);
    request.year = 1999;
    request.kind = 0;
    let refused = client
        .get_period_report(agency(request))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["year", "kind"]);

    let mut request = first_quarter(HAIKOU);
    request.quarter = 5;
    let refused = client
        .export_period_report(agency(pb::ExportPeriodReportRequest {
            query: Some(request),
            format: 0,
        }))
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&refused), ["query.quarter", "format"]);

    let mut annual = first_quarter(HAIKOU);
    annual.kind = pb::PeriodKind::Annual.into();
    let refused = client
        .get_period_report(agency(annual))
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&refused), ["quarter"]);

    let refused = client
        .get_period_report(agency(first_quarter(SANYA)))
        .await
        .expect_err("out of scope");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&refused), "REGION_OUT_OF_SCOPE");
}

async fn export(client: &mut Reports, format: pb::ReportFormat) -> pb::ExportPeriodReportResponse {
    client
        .export_period_report(agency(pb::ExportPeriodReportRequest {
            query: Some(first_quarter(HAIKOU)),
            format: format.into(),
        }))
        .await
        .expect("export")
        .into_inner()
}

#[tokio::test]
async fn the_report_exports_as_csv_xlsx_and_a_self_contained_page() {
    let (mut client, findings) = screened().await;
    let csv = export(&mut client, pb::ReportFormat::Csv).await;
    assert_eq!(csv.file_name, "report_460100_2026q1.csv");
    let text = String::from_utf8(csv.content).expect("utf-8");
    for line in [
        "month,202603,total_cost,80300.00".to_owned(),
        "month,202602,cmi,0.8600".to_owned(),
        "spectrum,ES23,mean_cost,8450.00".to_owned(),
        "rule,2,findings,1".to_owned(),
        format!("rule,2,amount,{}", findings[0].amount),
        "hospital,H002,total_cost,49600.00".to_owned(),
    ] {
        assert!(text.contains(&format!("{line}\n")), "{line} not in\n{text}");
    }

    let xlsx = export(&mut client, pb::ReportFormat::Xlsx).await;
    assert_eq!(xlsx.file_name, "report_460100_2026q1.xlsx");
    assert!(xlsx.content.starts_with(b"PK"), "an XLSX is a zip");

    let html = export(&mut client, pb::ReportFormat::Html).await;
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    let page = String::from_utf8(html.content).expect("utf-8");
    for id in ["trend-cost", "trend-cases", "hospitals", "regions", "rules"] {
        assert!(
            page.contains("<svg class=\"chart") && page.contains(&format!("id=\"{id}\"")),
            "{id}"
        );
    }
    assert!(page.contains(">80300.00<") && page.contains(">8450.00<"));
}
