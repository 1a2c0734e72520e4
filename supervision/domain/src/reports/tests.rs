use rust_decimal_macros::dec;

use super::html::report_html;
use super::tables::report_csv;
use super::*;
use crate::monitoring::IndicatorCode;
use crate::tables::GroupMean;
use crate::testkit::{list, money};

const Q1: Period = Period {
    year: 2026,
    kind: PeriodKind::Quarter(1),
};

fn tables() -> Tables {
    let mut tables = Tables::default();
    for (drg, weight) in [("AA11", dec!(1.2)), ("BB11", dec!(0.8))] {
        tables.group_means.insert(
            drg.to_owned(),
            GroupMean {
                drg: drg.to_owned(),
                cases: 100,
                mean_cost: money("1000.00"),
                weight: Some(weight),
            },
        );
    }
    tables
}

#[allow(clippy::too_many_arguments)]
fn stay(
    id: &str,
    hospital: &str,
    region: u32,
    discharged: &str,
    drg: Option<&str>,
    (cost, fund, self_pay): (&str, &str, &str),
    fund_type: FundType,
    level: &str,
) -> InpatientList {
    let mut stay = list(id, id, "2026-01-01 08:00", discharged);
    stay.key.hospital = hospital.into();
    stay.pooling_region = RegionCode::from_u32(region).expect("region");
    stay.drg = drg.map(str::to_owned);
    stay.total_cost = money(cost);
    stay.fund_paid = money(fund);
    stay.full_self_pay = money(self_pay);
    stay.fund_type = fund_type;
    stay.hospital_level = level.into();
    stay
}

/// Four stays of Q1 2026 at two hospitals of two prefectures; the figures below are worked by
/// hand from them.
fn quarter() -> Vec<(YearMonth, InpatientList)> {
    let month = |m| YearMonth::new(2026, m).expect("month");
    let e = FundType::Employee;
    vec![
        (
            month(1),
            stay(
                "A1",
                "H1",
                460100,
                "2026-01-10 08:00",
                Some("AA11"),
                ("1000.00", "600.00", "50.00"),
                e,
                "3",
            ),
        ),
        (
            month(2),
            stay(
                "A2",
                "H1",
                460100,
                "2026-02-10 08:00",
                Some("BB11"),
                ("3000.00", "2100.00", "0.00"),
                FundType::Resident,
                "3",
            ),
        ),
        (
            month(2),
            stay(
                "A3",
                "H2",
                460200,
                "2026-02-11 08:00",
                Some("AA11"),
                ("2000.00", "1500.00", "100.00"),
                e,
                "2",
            ),
        ),
        (
            month(3),
            stay(
                "A4",
                "H2",
                460200,
                "2026-03-01 08:00",
                None,
                ("500.55", "300.33", "0.00"),
                e,
                "2",
            ),
        ),
    ]
}

fn counts() -> Vec<FindingCount> {
    let count = |status, findings, amount| FindingCount {
        rule: RuleId::SplitAdmission,
        status,
        findings,
        amount: money(amount),
    };
    vec![
        count(FindingStatus::Open, 2, "100.00"),
        count(FindingStatus::Confirmed, 1, "50.50"),
        count(FindingStatus::Dismissed, 1, "999.00"),
    ]
}

fn report(only: Option<&str>) -> PeriodReport {
    let tables = tables();
    let parameters = Parameters::default();
    let mut accumulator = PeriodAccumulator::new(&tables, &parameters, &Q1.months());
    for (month, list) in quarter() {
        let visible = only.is_none_or(|h| h == list.key.hospital);
        accumulator.add(month, &list, visible);
    }
    let region = RegionCode::from_u32(460000).expect("Hainan");
    accumulator.finish().into_report(
        (region, Q1),
        only.is_none(),
        |hospital| only.is_none_or(|h| h == hospital),
        (&counts(), 3),
    )
}

#[test]
fn a_quarter_is_its_three_months_and_a_year_its_twelve() {
    let months: Vec<i32> = Q1.months().iter().map(|m| m.as_int()).collect();
    assert_eq!(months, [202601, 202602, 202603]);
    let q4 = Period {
        year: 2026,
        kind: PeriodKind::Quarter(4),
    };
    assert_eq!(q4.months().first().map(|m| m.as_int()), Some(202610));
    let year = Period {
        year: 2026,
        kind: PeriodKind::Year,
    };
    assert_eq!(year.months().len(), 12);
    assert!(
        Period {
            year: 2026,
            kind: PeriodKind::Quarter(5)
        }
        .months()
        .is_empty()
    );
    assert_eq!(q4.label(), "2026Q4");
}

#[test]
fn the_months_carry_hand_computed_sums_ratios_and_cmi() {
    let report = report(None);
    let [jan, feb, mar] = report.months.as_slice() else {
        panic!("three months: {:?}", report.months);
    };
    assert_eq!(jan.sums.cases, 1);
    assert_eq!(jan.sums.fund_ratio(), Some(dec!(0.6000)));
    assert_eq!(jan.sums.self_pay_ratio(), Some(dec!(0.0500)));
    assert_eq!(jan.cmi(), Some(dec!(1.2)));
    // February: 3,000.00 + 2,000.00 costing, 2,100.00 + 1,500.00 paid, weights 0.8 and 1.2.
    assert_eq!(feb.sums.cases, 2);
    assert_eq!(feb.sums.total_cost, dec!(5000.00));
    assert_eq!(feb.sums.mean_cost(), Some(dec!(2500.00)));
    assert_eq!(feb.sums.fund_ratio(), Some(dec!(0.7200)));
    assert_eq!(feb.sums.self_pay_ratio(), Some(dec!(0.0200)));
    assert_eq!(feb.cmi(), Some(dec!(1.0000)));
    // March's only stay has no group: no CMI; 300.33 / 500.55 is exactly 0.6.
    assert_eq!(mar.cmi(), None);
    assert_eq!(mar.sums.fund_ratio(), Some(dec!(0.6000)));
}

#[test]
fn regions_fund_items_and_spectrum_are_cut_and_rounded_once() {
    let report = report(None);
    let regions: Vec<(u32, u64, Option<Decimal>, Option<Decimal>)> = report
        .regions
        .iter()
        .map(|(r, s)| (r.as_u32(), s.cases, s.mean_cost(), s.fund_ratio()))
        .collect();
    // 460200: 2,500.55 over 2 is 1,250.275, to the fen half away from zero 1,250.28;
    // 1,800.33 / 2,500.55 = 0.71997… → 0.7200.
    assert_eq!(
        regions,
        [
            (460100, 2, Some(dec!(2000.00)), Some(dec!(0.6750))),
            (460200, 2, Some(dec!(1250.28)), Some(dec!(0.7200))),
        ]
    );
    let funds: Vec<(FundType, &str, u64)> = report
        .fund_items
        .iter()
        .map(|(f, l, s)| (*f, l.as_str(), s.cases))
        .collect();
    assert_eq!(
        funds,
        [
            (FundType::Employee, "2", 2),
            (FundType::Employee, "3", 1),
            (FundType::Resident, "3", 1)
        ]
    );
    let spectrum: Vec<(Option<&str>, u64, Option<Decimal>)> = report
        .spectrum
        .iter()
        .map(|l| (l.drg.as_deref(), l.cases, report.case_share(l)))
        .collect();
    assert_eq!(
        spectrum,
        [
            (Some("AA11"), 2, Some(dec!(0.5))),
            (Some("BB11"), 1, Some(dec!(0.25))),
            (None, 1, Some(dec!(0.25)))
        ]
    );
    let total = report.total.as_ref().expect("total");
    assert_eq!(total.value(IndicatorCode::TotalCost), Some(dec!(6500.55)));
    assert_eq!(total.value(IndicatorCode::FundPayment), Some(dec!(4500.33)));
    assert_eq!(total.value(IndicatorCode::MeanCost), Some(dec!(1625.14)));
    assert_eq!(total.value(IndicatorCode::GroupingRate), Some(dec!(0.75)));
    assert_eq!(report.hospitals.len(), 2);
}

#[test]
fn rule_hits_list_every_rule_and_leave_dismissed_amounts_out() {
    let report = report(None);
    assert_eq!(report.rules.len(), 23);
    let split = &report.rules[0];
    assert_eq!(
        (split.rule, split.findings, split.confirmed, split.dismissed),
        (RuleId::SplitAdmission, 4, 1, 1)
    );
    assert_eq!(split.amount, money("150.50"));
    assert!(report.rules[1..].iter().all(|r| r.findings == 0));
    assert_eq!(attachment_item(RuleId::SplitAdmission), Some(19));
    assert_eq!(attachment_item(RuleId::OverFrequency), Some(28));
    assert_eq!(attachment_item(RuleId::BlankGroups), None);
}

#[test]
fn a_hospital_sees_its_own_lists_and_no_total() {
    let report = report(Some("H1"));
    assert!(report.total.is_none());
    let hospitals: Vec<&str> = report
        .hospitals
        .iter()
        .map(|r| r.key.hospital.as_str())
        .collect();
    assert_eq!(hospitals, ["H1"]);
    let cases: Vec<u64> = report.months.iter().map(|m| m.sums.cases).collect();
    assert_eq!(cases, [1, 1, 0]);
    assert_eq!(report.spectrum_cases, 2);
    assert_eq!(report.regions.len(), 1);
}

#[test]
fn the_csv_prints_the_figures_of_the_tables() {
    let csv = String::from_utf8(report_csv(&report(None))).expect("utf-8");
    assert!(csv.starts_with("\u{feff}区块 section,对象 key,项目 item,值 value\n"));
    for line in [
        "month,202602,mean_cost,2500.00",
        "month,202601,cmi,1.2000",
        "region,460200,mean_cost,1250.28",
        "spectrum,AA11,case_share,0.5000",
        "rule,1,findings,4",
        "rule,1,amount,150.50",
        "total,total_cost,value,6500.55",
        "hospital,H2,cases,2",
    ] {
        assert!(
            csv.contains(&format!("{line}\n")),
            "{line} missing in\n{csv}"
        );
    }
    // March has no CMI: no line rather than an empty value.
    assert!(!csv.contains("month,202603,cmi"));
}

#[test]
fn the_html_is_self_contained_and_draws_every_chart_with_its_data() {
    let mut report = report(None);
    report.hospitals[0].key.hospital = "<H1 & co>".into();
    let html = report_html(&report);
    assert!(!html.contains("<link") && !html.contains(" src="));
    assert_eq!(
        html.matches("http").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    for id in ["trend-cost", "trend-cases", "hospitals", "regions", "rules"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "chart {id}");
    }
    // Months: 3 points per series, two series, per trend chart; rules: 23 × 2 bars.
    assert_eq!(html.matches("data-marks=\"6\"").count(), 2);
    assert!(html.contains("id=\"rules\" data-marks=\"46\""));
    // The total-cost bars scale to the highest, H1's 4,000.00 → 420 px; H2's 2,500.55 →
    // 2,500.55 × 420 / 4,000 = 262.55775 → 262.56 px.
    assert!(html.contains("width=\"420.00\" height=\"14\" data-value=\"4000.00\""));
    assert!(html.contains("width=\"262.56\" height=\"14\" data-value=\"2500.55\""));
    assert!(html.contains("&lt;H1 &amp; co&gt;") && !html.contains("<H1"));
    assert!(html.contains(">1250.28<"));
}
