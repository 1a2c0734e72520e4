//! Monitoring indicators over real gRPC, hand-computed over a small fixed case set: the region
//! total and per-hospital rows, growth against a year earlier, the monthly report's trend and
//! efficacy, the CSV export, scopes, and a hospital caller's own rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_reports_service_client::SupervisionReportsServiceClient;
use platform::testing::{as_caller, as_principal, error_reason, principal, serve, violated_fields};
use supervision_domain::tables::GroupMean;
use supervision_service::{GrpcCases, SupervisionReportsApi, Tables};
use tonic::Code;
use tonic::transport::Channel;

use crate::fake_settlement::{FakeSettlement, StoredCase, stored_list};
use crate::{HAIKOU, SANYA, agency};

/// A stay of `person` at `hospital` grouped into `drg`, costing `cost` (fund 70 %).
#[allow(clippy::too_many_arguments)]
fn case(
    region: &str,
    id: &str,
    person: &str,
    hospital: &str,
    drg: &str,
    cost: &str,
    (admitted, discharged): (&str, &str),
    died: bool,
) -> StoredCase {
    let mut stored = stored_list(region, id, person, admitted, discharged, vec![]);
    let mut list: serde_json::Value =
        serde_json::from_str(&stored.message.case_json).expect("stored json");
    list["header"]["fixmedins_code"] = hospital.into();
    list["payment"]["medfee_sumamt"] = cost.into();
    list["payment"]["hifp_pay"] = "0.00".into();
    list["payment"]["psn_cash_pay"] = "0.00".into();
    if died {
        list["stay"]["discharge_type"] = 5.into();
    }
    stored.message.case_json = list.to_string();
    let summary = stored.message.summary.as_mut().expect("summary");
    summary.hospital_code = hospital.into();
    summary.group_code = drg.into();
    stored
}

fn march(day_in: &str, day_out: &str) -> (String, String) {
    (
        format!("2026-03-{day_in} 08:00"),
        format!("2026-03-{day_out} 10:00"),
    )
}

/// H001: P1 twice in ES23 (8,600.00 over 4 days, back 5 days later for 9,600.00 over 2 days)
/// and P2 in FM19 (12,500.00, 7 days); H002: P3 dies in GB11 (42,000.00, 10 days) and P4 in
/// ES23 (7,600.00, 3 days). A year earlier H001 had one stay of 20,000.00; in February 2026
/// one of 8,000.00. A Sanya stay must never count for Haikou.
pub(crate) fn haikou_cases() -> FakeSettlement {
    let at = |id: &str,
              person: &str,
              hospital: &str,
              drg: &str,
              cost: &str,
              days: (String, String),
              died: bool| {
        case(
            HAIKOU,
            id,
            person,
            hospital,
            drg,
            cost,
            (&days.0, &days.1),
            died,
        )
    };
    FakeSettlement {
        cases: vec![
            at(
                "A1",
                "P1",
                "H001",
                "ES23",
                "8600.00",
                march("01", "05"),
                false,
            ),
            at(
                "A2",
                "P1",
                "H001",
                "ES23",
                "9600.00",
                march("10", "12"),
                false,
            ),
            at(
                "A3",
                "P2",
                "H001",
                "FM19",
                "12500.00",
                march("01", "08"),
                false,
            ),
            at(
                "B1",
                "P3",
                "H002",
                "GB11",
                "42000.00",
                march("02", "12"),
                true,
            ),
            at(
                "B2",
                "P4",
                "H002",
                "ES23",
                "7600.00",
                march("03", "06"),
                false,
            ),
            case(
                HAIKOU,
                "Y1",
                "P9",
                "H001",
                "ES23",
                "20000.00",
                ("2025-03-01 08:00", "2025-03-10 10:00"),
                false,
            ),
            case(
                HAIKOU,
                "F1",
                "P5",
                "H001",
                "ES23",
                "8000.00",
                ("2026-02-01 08:00", "2026-02-03 10:00"),
                false,
            ),
            case(
                SANYA,
                "S1",
                "P6",
                "H001",
                "GB11",
                "99000.00",
                ("2026-03-01 08:00", "2026-03-03 10:00"),
                false,
            ),
        ],
    }
}

async fn reports(
    settlement: FakeSettlement,
    tables: Tables,
) -> SupervisionReportsServiceClient<Channel> {
    let channel = serve(tonic::service::Routes::new(settlement.into_server())).await;
    let cases = GrpcCases::new(channel, None).expect("case source");
    let api = SupervisionReportsApi::new(Arc::new(cases), tables);
    SupervisionReportsServiceClient::new(
        serve(tonic::service::Routes::new(api.into_server())).await,
    )
}

fn month(year: i32, month: i32) -> Option<common::YearMonth> {
    Some(common::YearMonth { year, month })
}

fn query(region: &str, breakdown: pb::Breakdown) -> pb::GetIndicatorsRequest {
    pb::GetIndicatorsRequest {
        region_code: region.into(),
        period_from: month(2026, 3),
        period_to: month(2026, 3),
        breakdown: breakdown.into(),
        fund_type: 0,
    }
}

/// code → (value, numerator, denominator) of a row.
fn values(row: &pb::IndicatorRow) -> BTreeMap<String, (String, String, String)> {
    row.indicators
        .iter()
        .map(|i| {
            (
                i.code.clone(),
                (i.value.clone(), i.numerator.clone(), i.denominator.clone()),
            )
        })
        .collect()
}

fn value(row: &pb::IndicatorRow, code: &str) -> String {
    values(row)
        .get(code)
        .map(|v| v.0.clone())
        .unwrap_or_else(|| panic!("no {code} in {row:?}"))
}

#[tokio::test]
async fn haikou_march_by_hospital_is_hand_computed() {
    let mut client = reports(haikou_cases(), Tables::demo().expect("tables")).await;
    let answer = client
        .get_indicators(agency(query(HAIKOU, pb::Breakdown::Hospital)))
        .await
        .expect("indicators")
        .into_inner();
    let total = answer.total.expect("total");
    assert_eq!(value(&total, "cases"), "5");
    // (0.86 × 3 + 1.25 + 4.2) / 5 = 8.03 / 5.
    assert_eq!(
        values(&total)["cmi"],
        ("1.6060".into(), "8.03".into(), "5".into())
    );
    assert_eq!(value(&total, "mean_cost"), "16060.00");
    // 80,300.00 against 20,000.00 a year earlier.
    assert_eq!(value(&total, "total_cost_growth"), "3.0150");
    assert!(answer.previous_year_read);

    let hospitals: Vec<&str> = answer
        .rows
        .iter()
        .map(|r| r.hospital_code.as_str())
        .collect();
    assert_eq!(hospitals, ["H001", "H002"]);
    let (h1, h2) = (&answer.rows[0], &answer.rows[1]);
    // (0.86 × 2 + 1.25) / 3.
    assert_eq!(value(h1, "cmi"), "0.9900");
    assert_eq!(
        values(h1)["mean_cost"],
        ("10233.33".into(), "30700".into(), "3".into())
    );
    // 4 + 2 + 7 days over 3 stays.
    assert_eq!(value(h1, "average_length_of_stay"), "4.3333");
    // A1 is followed by A2 five days later.
    assert_eq!(
        values(h1)["readmission_rate"],
        ("0.3333".into(), "1".into(), "3".into())
    );
    assert_eq!(value(h1, "admissions_per_patient"), "1.5000");
    // ES23 at 9,100.00 against the region's 8,600.00 for 2 cases, FM19 at par for 1.
    assert_eq!(value(h1, "cost_consumption_index"), "1.0388");
    // 30,700.00 against 20,000.00.
    assert_eq!(value(h1, "total_cost_growth"), "0.5350");

    assert_eq!(value(h2, "cmi"), "2.5300");
    assert_eq!(value(h2, "mean_cost"), "24800.00");
    assert_eq!(value(h2, "average_length_of_stay"), "6.5000");
    assert_eq!(value(h2, "readmission_rate"), "0.0000");
    // ES23 at 7,600.00 against 8,600.00, GB11 at par.
    assert_eq!(value(h2, "cost_consumption_index"), "0.9419");
    // No stay of H002 a year earlier: no growth rate.
    assert!(!values(h2).contains_key("total_cost_growth"));

    let departments = client
        .get_indicators(agency(query(HAIKOU, pb::Breakdown::Department)))
        .await
        .expect("by department")
        .into_inner();
    let keys: Vec<(&str, &str, String)> = departments
        .rows
        .iter()
        .map(|r| {
            (
                r.hospital_code.as_str(),
                r.department.as_str(),
                value(r, "cases"),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [("H001", "內科", "3".into()), ("H002", "內科", "2".into())]
    );

    let missing: Vec<u32> = answer.unsupported.iter().map(|u| u.number).collect();
    assert!(missing.contains(&13) && missing.contains(&27));
    assert!(!missing.contains(&17), "CMI is supported");
    assert!(!missing.contains(&15), "the coding error rate is supported");
    assert!(answer.unsupported.iter().all(|u| !u.missing.is_empty()));
}

#[tokio::test]
async fn the_domain_examples_through_the_service() {
    // CMI: 50 cases of weight 1.2, 30 of 0.8, 20 of 2.5.
    let mut tables = Tables::default();
    let mut cases = Vec::new();
    for (drg, weight, n) in [
        ("AA11", "1.2", 50),
        ("BB11", "0.8", 30),
        ("CC11", "2.5", 20),
    ] {
        tables.group_means.insert(
            drg.into(),
            GroupMean {
                drg: drg.into(),
                cases: 100,
                mean_cost: "1000.00".parse().expect("money"),
                weight: Some(weight.parse().expect("weight")),
            },
        );
        for i in 0..n {
            let id = format!("{drg}-{i}");
            cases.push(case(
                HAIKOU,
                &id,
                &id,
                "H001",
                drg,
                "1000.00",
                (&march("01", "02").0, &march("01", "02").1),
                false,
            ));
        }
    }
    let mut client = reports(FakeSettlement { cases }, tables).await;
    let total = client
        .get_indicators(agency(query(HAIKOU, pb::Breakdown::Region)))
        .await
        .expect("indicators")
        .into_inner()
        .total
        .expect("total");
    assert_eq!(value(&total, "cmi"), "1.3400");

    // RIV: {8k, 10k, 12k}, {18k, 20k, 22k}, {4k, 5k, 6k, 5k}.
    let mut cases = Vec::new();
    for (drg, costs) in [
        ("ES21", &["8000.00", "10000.00", "12000.00"][..]),
        ("ES23", &["18000.00", "20000.00", "22000.00"][..]),
        ("FM19", &["4000.00", "5000.00", "6000.00", "5000.00"][..]),
    ] {
        for (i, cost) in costs.iter().enumerate() {
            let id = format!("{drg}-{i}");
            cases.push(case(
                HAIKOU,
                &id,
                &id,
                "H001",
                drg,
                cost,
                (&march("01", "02").0, &march("01", "02").1),
                false,
            ));
        }
    }
    let mut client = reports(FakeSettlement { cases }, Tables::default()).await;
    let report = client
        .get_monitoring_report(agency(pb::GetMonitoringReportRequest {
            region_code: HAIKOU.into(),
            month: month(2026, 3),
            fund_type: 0,
        }))
        .await
        .expect("report")
        .into_inner();
    let efficacy = report.efficacy.expect("efficacy");
    assert_eq!(efficacy.riv, "0.9559");
    assert_eq!(
        (
            efficacy.cases,
            efficacy.grouped,
            efficacy.adrgs,
            efficacy.drgs
        ),
        (10, 10, 2, 3)
    );
    let es21 = efficacy
        .variation
        .iter()
        .find(|v| v.drg == "ES21")
        .expect("ES21");
    assert_eq!((es21.cases, es21.cv.as_str()), (3, "0.1633"));
    let total = report.total.expect("total");
    assert_eq!(
        values(&total)["riv"],
        ("0.9559".into(), "390000000".into(), "408000000".into())
    );
}

#[tokio::test]
async fn the_monthly_report_trends_against_february() {
    let mut client = reports(haikou_cases(), Tables::demo().expect("tables")).await;
    let report = client
        .get_monitoring_report(agency(pb::GetMonitoringReportRequest {
            region_code: HAIKOU.into(),
            month: month(2026, 3),
            fund_type: 0,
        }))
        .await
        .expect("report")
        .into_inner();
    assert_eq!(report.hospitals.len(), 2);
    let h1_mean = report
        .trend
        .iter()
        .find(|t| t.hospital_code == "H001" && t.code == "mean_cost")
        .expect("H001 mean cost trend");
    assert_eq!(
        (
            h1_mean.current.as_str(),
            h1_mean.previous.as_str(),
            h1_mean.change.as_str()
        ),
        ("10233.33", "8000.00", "2233.33")
    );
    // H002 had no February stay: no trend for it.
    assert!(report.trend.iter().all(|t| t.hospital_code != "H002"));
    let numbers: Vec<u32> = report.unsupported.iter().map(|u| u.number).collect();
    assert_eq!(numbers, [2, 9, 10, 11]);
}

#[tokio::test]
async fn the_export_is_bom_csv_with_a_bilingual_header() {
    let mut client = reports(haikou_cases(), Tables::demo().expect("tables")).await;
    let export = client
        .export_indicators(agency(pb::ExportIndicatorsRequest {
            query: Some(query(HAIKOU, pb::Breakdown::Hospital)),
        }))
        .await
        .expect("export")
        .into_inner();
    assert_eq!(export.file_name, "indicators_460100_202603_202603.csv");
    assert_eq!(&export.content[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(export.content).expect("utf-8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some(
            "统筹区 region_code,医疗机构 hospital_code,科室 department,指标代码 indicator,\
             指标名称 indicator_name,值 value,分子 numerator,分母 denominator,单位 unit"
        )
    );
    assert!(text.contains("\n460100,,,cases,病例数,5,,,count\n"));
    assert!(text.contains("\n460100,H001,,cmi,病例组合指数(CMI),0.9900,2.97,3,ratio\n"));
    assert!(text.contains("\n460100,H002,,mean_cost,次均费用,24800.00,49600,2,CNY\n"));
}

#[tokio::test]
async fn scopes_and_bad_requests_are_refused() {
    let mut client = reports(haikou_cases(), Tables::demo().expect("tables")).await;
    let sanya_agency = as_caller(
        query(HAIKOU, pb::Breakdown::Hospital),
        "agency-sanya",
        SANYA,
        &["read"],
    );
    let refused = client
        .get_indicators(sanya_agency)
        .await
        .expect_err("out of scope");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&refused), "REGION_OUT_OF_SCOPE");

    let mut backwards = query(HAIKOU, pb::Breakdown::Hospital);
    backwards.period_to = month(2026, 2);
    backwards.breakdown = 9;
    let refused = client
        .get_indicators(agency(backwards))
        .await
        .expect_err("bad request");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["period_to", "breakdown"]);

    let mut too_long = query(HAIKOU, pb::Breakdown::Region);
    too_long.period_from = month(2023, 3);
    let refused = client
        .get_indicators(agency(too_long.clone()))
        .await
        .expect_err("37 months");
    assert_eq!(violated_fields(&refused), ["period_to"]);
    let refused = client
        .export_indicators(agency(pb::ExportIndicatorsRequest {
            query: Some(too_long),
        }))
        .await
        .expect_err("37 months");
    assert_eq!(violated_fields(&refused), ["query.period_to"]);

    // Sanya's own view holds its one stay and nothing of Haikou's.
    let sanya = client
        .get_indicators(as_caller(
            query(SANYA, pb::Breakdown::Region),
            "agency-sanya",
            SANYA,
            &["read"],
        ))
        .await
        .expect("sanya")
        .into_inner();
    assert_eq!(value(&sanya.total.expect("total"), "cases"), "1");

    // The employee fund has no Haikou stay: a total of no cases and nothing else.
    let mut employees = query(HAIKOU, pb::Breakdown::Hospital);
    employees.fund_type = common::FundType::Employee.into();
    let answer = client
        .get_indicators(agency(employees))
        .await
        .expect("employees")
        .into_inner();
    assert_eq!(answer.total.expect("total").indicators.len(), 1);
    assert!(answer.rows.is_empty());
}

#[tokio::test]
async fn a_hospital_sees_its_own_rows_only() {
    let mut client = reports(haikou_cases(), Tables::demo().expect("tables")).await;
    let mut h002 = principal("h002", HAIKOU, &["hospital"]);
    h002.institution = Some("H002".into());
    let answer = client
        .get_indicators(as_principal(query(HAIKOU, pb::Breakdown::Region), &h002))
        .await
        .expect("own indicators")
        .into_inner();
    assert!(answer.total.is_none());
    assert_eq!(answer.rows.len(), 1);
    assert_eq!(answer.rows[0].hospital_code, "H002");
    // Still compared with the whole region.
    assert_eq!(value(&answer.rows[0], "cost_consumption_index"), "0.9419");

    let report = client
        .get_monitoring_report(as_principal(
            pb::GetMonitoringReportRequest {
                region_code: HAIKOU.into(),
                month: month(2026, 3),
                fund_type: 0,
            },
            &h002,
        ))
        .await
        .expect("own report")
        .into_inner();
    assert!(report.total.is_none() && report.efficacy.is_none());
    assert!(report.hospitals.iter().all(|r| r.hospital_code == "H002"));
    assert!(report.trend.iter().all(|t| t.hospital_code == "H002"));

    let export = client
        .export_indicators(as_principal(
            pb::ExportIndicatorsRequest {
                query: Some(query(HAIKOU, pb::Breakdown::Hospital)),
            },
            &h002,
        ))
        .await
        .expect("own export")
        .into_inner();
    let text = String::from_utf8(export.content).expect("utf-8");
    assert!(!text.contains(",H001,"));
    assert!(!text.contains("\n460100,,,"));
    assert!(text.contains("\n460100,H002,,cases,病例数,2,,,count\n"));
}

#[tokio::test]
async fn qc_pass_and_coding_error_rates_come_from_the_warnings_streamed_with_the_lists() {
    use medpay_proto::settlement::v1::IntakeWarning;
    let warning = |level: &str, code: &str| IntakeWarning {
        level: level.into(),
        code: code.into(),
        field: "diagnoses[0].code".into(),
        detail: String::new(),
    };
    let mut settlement = haikou_cases();
    for case in &mut settlement.cases {
        let summary = case.message.summary.as_mut().expect("summary");
        summary.warnings = match summary.list_id.as_str() {
            "A2" => vec![warning("error", "unknown_diagnosis_code")],
            "A3" => vec![warning("warning", "symptom_as_principal")],
            "B1" => vec![
                warning("warning", "symptom_as_principal"),
                warning("warning", "diagnosis_sex_conflict"),
            ],
            _ => Vec::new(),
        };
    }
    let mut client = reports(settlement, Tables::demo().expect("tables")).await;
    let answer = client
        .get_indicators(agency(query(HAIKOU, pb::Breakdown::Hospital)))
        .await
        .expect("indicators")
        .into_inner();
    let figure = |row: &pb::IndicatorRow, code: &str| values(row)[code].clone();
    let triple = |v: &str, n: &str, d: &str| (v.to_owned(), n.to_owned(), d.to_owned());
    // H001 (A1, A2, A3): A2 fails QC; A2's unknown code is its only coding error.
    let h1 = &answer.rows[0];
    assert_eq!(figure(h1, "qc_pass_rate"), triple("0.6667", "2", "3"));
    assert_eq!(figure(h1, "coding_error_rate"), triple("0.3333", "1", "3"));
    // H002 (B1, B2): both pass; B1's sex conflict is a coding error.
    let h2 = &answer.rows[1];
    assert_eq!(figure(h2, "qc_pass_rate"), triple("1.0000", "2", "2"));
    assert_eq!(figure(h2, "coding_error_rate"), triple("0.5000", "1", "2"));
    let total = answer.total.expect("total");
    assert_eq!(figure(&total, "qc_pass_rate"), triple("0.8000", "4", "5"));
    assert_eq!(
        figure(&total, "coding_error_rate"),
        triple("0.4000", "2", "5")
    );
}
