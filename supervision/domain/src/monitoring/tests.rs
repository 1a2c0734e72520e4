use rust_decimal_macros::dec;

use super::*;
use crate::indicators;
use crate::tables::GroupMean;
use crate::testkit::{HOSPITAL, line, list, money, with_drg};

fn weighted_tables(groups: &[(&str, &str, Decimal)]) -> Tables {
    let mut tables = Tables::default();
    for (drg, mean, weight) in groups {
        tables.group_means.insert(
            (*drg).to_owned(),
            GroupMean {
                drg: (*drg).to_owned(),
                cases: 100,
                mean_cost: money(mean),
                weight: Some(*weight),
            },
        );
    }
    tables
}

fn run(lists: &[InpatientList], tables: &Tables, breakdown: Breakdown) -> Indicators {
    let parameters = Parameters::default();
    let mut monitor = Monitor::new(tables, &parameters, breakdown);
    for list in lists {
        monitor.add(list);
    }
    monitor.finish()
}

fn costed(id: &str, drg: &str, cost: &str) -> InpatientList {
    let mut stay = with_drg(list(id, id, "2026-03-01 08:00", "2026-03-05 08:00"), drg);
    stay.total_cost = money(cost);
    stay
}

#[test]
fn cmi_of_the_domain_example_is_1_34() {
    let tables = weighted_tables(&[
        ("AA11", "1000.00", dec!(1.2)),
        ("BB11", "1000.00", dec!(0.8)),
        ("CC11", "1000.00", dec!(2.5)),
    ]);
    let mut lists = Vec::new();
    for (drg, n) in [("AA11", 50), ("BB11", 30), ("CC11", 20)] {
        for i in 0..n {
            lists.push(costed(&format!("{drg}-{i}"), drg, "1000.00"));
        }
    }
    let table = run(&lists, &tables, Breakdown::Region);
    let cmi = table.total.get(IndicatorCode::Cmi).expect("cmi");
    assert_eq!(cmi.value, dec!(1.34));
    assert_eq!(cmi.numerator, Some(dec!(134.0)));
    assert_eq!(cmi.denominator, Some(dec!(100)));
    // Mean cost 1,000.00 over CMI 1.34: 746.27.
    assert_eq!(
        table.total.value(IndicatorCode::CmiAdjustedMeanCost),
        Some(dec!(746.27))
    );
}

#[test]
fn riv_and_cv_from_sums_equal_the_list_formulas() {
    let mut lists = Vec::new();
    for (drg, costs) in [
        ("ES21", &["8000.00", "10000.00", "12000.00"][..]),
        ("ES23", &["18000.00", "20000.00", "22000.00"][..]),
        ("FM19", &["4000.00", "5000.00", "6000.00", "5000.00"][..]),
    ] {
        for (i, cost) in costs.iter().enumerate() {
            lists.push(costed(&format!("{drg}{i}"), drg, cost));
        }
    }
    lists.push(list("U1", "P2", "2026-03-01 08:00", "2026-03-05 08:00"));
    let table = run(&lists, &Tables::default(), Breakdown::Region);
    let expected = indicators::grouping_efficacy(&lists);
    assert_eq!(table.efficacy.riv, Some(dec!(0.9559)));
    assert_eq!(table.efficacy.riv, expected.riv);
    assert_eq!(table.efficacy.cv, expected.cv);
    assert_eq!(table.efficacy.cv.get("ES21"), Some(&dec!(0.1633)));
    assert_eq!(
        (
            table.efficacy.cases,
            table.efficacy.grouped,
            table.efficacy.adrgs,
            table.efficacy.drgs
        ),
        (11, 10, 2, 3)
    );
    let riv = table.total.get(IndicatorCode::Riv).expect("riv");
    // SST 4.08e8, SSW 1.8e7.
    assert_eq!(riv.denominator, Some(dec!(408000000)));
    assert_eq!(riv.numerator, Some(dec!(390000000)));
}

#[test]
fn the_stream_agrees_with_the_list_formulas() {
    let tables = Tables::demo().expect("demo tables");
    let first = with_drg(
        list("L1", "P1", "2026-03-01 08:00", "2026-03-05 08:00"),
        "ES23",
    );
    let back = list("L2", "P1", "2026-03-20 08:00", "2026-03-22 08:00");
    let mut other = with_drg(
        list("L3", "P2", "2026-03-01 08:00", "2026-03-08 08:00"),
        "ES23",
    );
    other.total_cost = money("25800.01");
    other.full_self_pay = money("300.00");
    other.lines = vec![
        line("XJ01DDA001", 9, "10", "12.5", "2026-03-01 09:00"),
        line("MZ01", 8, "2", "35", "2026-03-01 09:00"),
    ];
    let lists = vec![first, back, other];
    let t = run(&lists, &tables, Breakdown::Region).total;
    let window = Parameters::default().readmission_window_days;
    assert_eq!(
        t.value(IndicatorCode::ReadmissionRate),
        indicators::readmission_rate(&lists, window)
    );
    assert_eq!(t.value(IndicatorCode::ReadmissionRate), Some(dec!(0.3333)));
    assert_eq!(
        t.value(IndicatorCode::AdmissionsPerPatient),
        indicators::admissions_per_patient(&lists)
    );
    assert_eq!(
        t.value(IndicatorCode::SelfPayRatio),
        indicators::self_pay_ratio(&lists)
    );
    assert_eq!(
        t.value(IndicatorCode::GroupingRate),
        indicators::grouping_rate(&lists)
    );
    assert_eq!(
        t.value(IndicatorCode::MeanCost),
        indicators::mean_cost(&lists).map(|m| m.value())
    );
    assert_eq!(t.value(IndicatorCode::MeanCost), Some(dec!(9266.67)));
    assert_eq!(
        t.value(IndicatorCode::AverageLengthOfStay),
        indicators::average_length_of_stay(&lists)
    );
    assert_eq!(
        t.value(IndicatorCode::DrugShare),
        indicators::category_share(&lists, &DRUG_CATEGORIES)
    );
    assert_eq!(
        t.value(IndicatorCode::HighCostShare),
        indicators::high_cost_share(&lists, &tables, dec!(3))
    );
    assert_eq!(t.value(IndicatorCode::HighCostShare), Some(dec!(0.5)));
    // The first ES23 stay (1,000.00) is under 40 % of 8,600.00.
    assert_eq!(t.value(IndicatorCode::LowCostShare), Some(dec!(0.5)));
    // ES23 of 4 and 7 days against a regional mean of 5.5: the index of the region is 1.
    assert_eq!(t.value(IndicatorCode::TimeConsumptionIndex), Some(dec!(1)));
    assert_eq!(t.value(IndicatorCode::Patients), Some(dec!(2)));
    assert!(t.get(IndicatorCode::TotalCostGrowth).is_none());
}

#[test]
fn hospitals_are_compared_with_the_region_and_a_year_earlier() {
    let tables = Tables::default();
    let at_hospital = |id: &str, hospital: &str, cost: &str| {
        let mut stay = costed(id, "ES23", cost);
        stay.key.hospital = hospital.into();
        stay
    };
    let lists = [
        at_hospital("A1", "H1", "9000.00"),
        at_hospital("A2", "H1", "9000.00"),
        at_hospital("B1", "H2", "12000.00"),
    ];
    let parameters = Parameters::default();
    let mut monitor = Monitor::new(&tables, &parameters, Breakdown::Hospital);
    for stay in &lists {
        monitor.add(stay);
    }
    monitor.add_previous_year(&EarlierCosts::from(&at_hospital("Z1", "H1", "15000.00")));
    let table = monitor.finish();
    let h1 = &table.rows[0];
    assert_eq!(h1.key.hospital, "H1");
    // Regional mean 10,000.00: H1 at 9,000.00 is 0.9, H2 at 12,000.00 is 1.2.
    assert_eq!(
        h1.value(IndicatorCode::CostConsumptionIndex),
        Some(dec!(0.9))
    );
    assert_eq!(
        table.rows[1].value(IndicatorCode::CostConsumptionIndex),
        Some(dec!(1.2))
    );
    // 18,000.00 against 15,000.00 a year earlier.
    let growth = h1.get(IndicatorCode::TotalCostGrowth).expect("growth");
    assert_eq!(growth.value, dec!(0.2));
    assert_eq!(growth.numerator, Some(dec!(3000.00)));
    assert!(table.rows[1].get(IndicatorCode::TotalCostGrowth).is_none());
    assert_eq!(
        table.total.value(IndicatorCode::TotalCostGrowth),
        Some(dec!(1))
    );
}

#[test]
fn export_and_trend() {
    let tables = Tables::default();
    let march = run(
        &[costed("A1", "ES23", "9000.00")],
        &tables,
        Breakdown::Hospital,
    );
    let april = run(
        &[costed("A2", "ES23", "9500.50")],
        &tables,
        Breakdown::Hospital,
    );
    let trend = month_on_month(&april, &march);
    let mean = trend
        .iter()
        .find(|l| l.code == IndicatorCode::MeanCost && l.key.hospital == HOSPITAL)
        .expect("mean cost trend");
    assert_eq!(mean.change, dec!(500.50));
    let csv = String::from_utf8(indicators_csv("460100", Some(&april.total), &april.rows))
        .expect("utf-8");
    assert!(csv.starts_with("\u{feff}统筹区 region_code,医疗机构 hospital_code,"));
    assert!(csv.contains(&format!(
        "460100,{HOSPITAL},,mean_cost,次均费用,9500.50,9500.5,1,CNY\n"
    )));
    assert!(csv.contains("460100,,,cases,病例数,1,,,count\n"));
}

#[test]
fn qc_pass_and_coding_error_rates_count_lists_by_their_intake_warnings() {
    use crate::model::{ListWarning, SettlementKey};
    let warned = |hospital: &str, id: &str, warnings: &[(&str, bool)]| {
        let mut stay = list(id, id, "2026-03-01 08:00", "2026-03-05 08:00");
        stay.key = SettlementKey::new(hospital, id);
        stay.warnings = warnings
            .iter()
            .map(|(code, fails_qc)| ListWarning {
                fails_qc: *fails_qc,
                code: (*code).to_owned(),
            })
            .collect();
        stay
    };
    let lists = [
        warned("HA", "a1", &[]),
        warned("HA", "a2", &[("unknown_diagnosis_code", true)]),
        warned("HA", "a3", &[("unknown_procedure_code", false)]),
        warned("HB", "b1", &[("diagnosis_sex_conflict", false)]),
        warned("HB", "b2", &[("symptom_as_principal", false)]),
        warned("HB", "b3", &[]),
        warned(
            "HB",
            "b4",
            &[
                ("principal_absent_on_admission", false),
                ("unknown_diagnosis_code", true),
            ],
        ),
    ];
    let table = run(&lists, &Tables::default(), Breakdown::Hospital);
    let figure = |row: &IndicatorRow, code| {
        let f = row.get(code).expect("figure");
        (f.value, f.numerator, f.denominator)
    };
    // HA: a2 fails QC (2 of 3 pass); a2 and a3 carry an unknown code (2 of 3).
    let ha = &table.rows[0];
    assert_eq!(ha.key.hospital, "HA");
    assert_eq!(
        figure(ha, IndicatorCode::QcPassRate),
        (dec!(0.6667), Some(dec!(2)), Some(dec!(3)))
    );
    assert_eq!(
        figure(ha, IndicatorCode::CodingErrorRate),
        (dec!(0.6667), Some(dec!(2)), Some(dec!(3)))
    );
    // HB: b4 fails QC (3 of 4 pass); b1's sex conflict and b4's unknown code are coding errors,
    // b2's symptom as principal is not (2 of 4).
    let hb = &table.rows[1];
    assert_eq!(
        figure(hb, IndicatorCode::QcPassRate),
        (dec!(0.75), Some(dec!(3)), Some(dec!(4)))
    );
    assert_eq!(
        figure(hb, IndicatorCode::CodingErrorRate),
        (dec!(0.5), Some(dec!(2)), Some(dec!(4)))
    );
    // The region: 5 of 7 pass (0.714285… → 0.7143), 4 of 7 coding errors (0.571428… → 0.5714).
    assert_eq!(
        figure(&table.total, IndicatorCode::QcPassRate),
        (dec!(0.7143), Some(dec!(5)), Some(dec!(7)))
    );
    assert_eq!(
        figure(&table.total, IndicatorCode::CodingErrorRate),
        (dec!(0.5714), Some(dec!(4)), Some(dec!(7)))
    );
}
