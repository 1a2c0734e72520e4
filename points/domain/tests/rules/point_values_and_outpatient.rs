//! Point values (DRG, DIP), clearing, preview, per-capita budget and APG (DOMAIN.md §3).

use crate::common::*;
use points_domain::outpatient::ApgKind;
use points_domain::point_value::{HospitalTotals, PointValue, PointValueError};
use points_domain::policy::PointValueBasis;
use points_domain::{
    ApgTable, OutpatientVisit, PreviewBudget, ValuationPolicy, clear_drg, clear_hospital,
    dip_settlement_point_value, drg_point_value, per_capita_budget, preview_point_value,
    reimbursement_ratio, valuate, valuate_visit,
};
use rust_decimal_macros::dec;

/// The DOMAIN.md §3 year end under `policy`: fund budget 600,000,000, individual burden
/// 200,000,000, 7,800,000 points.
fn worked_example_point_value(policy: &ValuationPolicy) -> PointValue {
    drg_point_value(
        policy,
        money("600000000"),
        money("200000000"),
        points("7800000"),
    )
    .expect("point value")
}

#[test]
fn drg_year_end_worked_example() {
    let policy = drg_policy();
    let value = worked_example_point_value(&policy);
    assert_eq!(value.published.to_string(), "102.5641");
    assert!(value.exact > value.published);
    let clearing = clear_hospital(
        &policy,
        &value,
        points("100000"),
        money("2800000"),
        money("7000000"),
    );
    // Every amount from the published value: 100,000 × 102.5641.
    assert_eq!(clearing.entitlement, money("10256410.00"));
    assert_eq!(clearing.fund_amount, money("7456410.00"));
    assert_eq!(clearing.balance, money("456410.00"));
}

#[test]
fn published_places_and_fund_basis_are_parameters() {
    let mut policy = drg_policy();
    policy.point_value.published_decimal_places = 2;
    let value = worked_example_point_value(&policy);
    assert_eq!(value.published.to_string(), "102.56");

    let mut fund = drg_policy();
    fund.point_value.basis = PointValueBasis::Fund;
    let value = worked_example_point_value(&fund);
    // 600,000,000 / 7,800,000 = 76.923076… → 76.9231
    assert_eq!(value.published.to_string(), "76.9231");
    let clearing = clear_hospital(
        &fund,
        &value,
        points("100000"),
        money("2800000"),
        money("0"),
    );
    assert_eq!(clearing.fund_amount, money("7692310.00"));

    let none = drg_point_value(&drg_policy(), money("1"), money("0"), points("0"));
    assert!(matches!(none, Err(PointValueError::NoPoints { .. })));
}

#[test]
fn clearing_reports_the_residue() {
    let hospital = |code: &str| HospitalTotals {
        hospital_code: code.into(),
        points: points("1"),
        individual_burden: money("0"),
        prepaid: money("0"),
    };
    let hospitals = [hospital("H1"), hospital("H2"), hospital("H3")];
    // 100 / 3 → 33.3333 published; each hospital gets 33.33; 0.01 stays in the fund.
    let clearing = clear_drg(&drg_policy(), money("100"), &hospitals).expect("clearing");
    assert_eq!(clearing.point_value.published, dec!(33.3333));
    assert_eq!(clearing.hospitals[0].1.fund_amount, money("33.33"));
    assert_eq!(clearing.fund_paid, money("99.99"));
    assert_eq!(clearing.residue, money("0.01"));
}

#[test]
fn dip_point_values_worked_example() {
    let policy = dip_policy();
    // Fund 588,000,000 at reimbursement ratio 0.70 → 840,000,000; Σ scores 84,000,000 → 10.00.
    let ratio = reimbursement_ratio(money("70"), money("100")).expect("ratio");
    assert_eq!(ratio, dec!(0.7));
    let values = dip_settlement_point_value(&policy, money("588000000"), ratio, points("84000000"))
        .expect("point value");
    assert_eq!(values.total_cost_basis, dec!(840000000));
    assert_eq!(values.point_value.published, dec!(10.0000));
    assert!(dip_settlement_point_value(&policy, money("1"), dec!(1.2), points("1")).is_err());
}

#[test]
fn preview_summarises_valued_cases() {
    let policy = drg_policy();
    let tables = tables();
    let cases: Vec<_> = ["15000", "40000", "5000"]
        .iter()
        .map(|cost| valuate(&policy, &tables, &drg_case(cost)).expect("valued"))
        .collect();
    let preview = preview_point_value(
        &policy,
        PreviewBudget::Drg {
            fund_budget: money("43500"),
        },
        &cases,
    )
    .expect("preview");
    // 157.5 + 257.5 + 50 = 465 points; (43,500 + 3 × 1,000) / 465 = 100.
    assert_eq!(preview.total_points, points("465"));
    assert_eq!(preview.individual_burden, money("3000"));
    assert_eq!(preview.point_value.published, dec!(100));
    assert_eq!(preview.by_case_type.get("high_cost"), Some(&1));
    assert_eq!(preview.point_cases, 3);
}

#[test]
fn per_capita_worked_example() {
    assert_eq!(
        per_capita_budget(10_000, money("120"), money("0")).expect("budget"),
        money("1200000")
    );
    assert_eq!(
        per_capita_budget(10_000, money("120"), money("35000.50")).expect("budget"),
        money("1164999.50")
    );
    assert!(per_capita_budget(1, money("-1"), money("0")).is_err());
}

#[test]
fn demo_apg_table_loads_and_values_a_visit() {
    let table = ApgTable::demo().expect("demo table");
    assert!(table.groups.values().any(|g| g.kind == ApgKind::Medical));
    let visit = OutpatientVisit {
        principal_diagnosis: "L02.400".into(),
        procedures: vec!["23.0900".into(), "86.0400x001".into(), "90.5900".into()],
    };
    let valued = valuate_visit(&dip_policy(), &table, &visit).expect("valued");
    // Incision and drainage 62.5 in full, extraction 36 at 50 %, medical group M07 12.
    assert_eq!(valued.points, points("92.5"));
    assert_eq!(valued.procedures[0].apg_code, "P01");
    assert_eq!(valued.procedures[1].share, dec!(0.5));
    assert_eq!(valued.unmatched_procedures, ["90.5900"]);
    assert_eq!(valued.medical_group.as_deref(), Some("M07"));
    // Unlisted diagnosis falls to the catch-all medical group.
    let other = OutpatientVisit {
        principal_diagnosis: "H10.900".into(),
        procedures: Vec::new(),
    };
    let valued = valuate_visit(&dip_policy(), &table, &other).expect("valued");
    assert_eq!(valued.medical_group.as_deref(), Some("M99"));
    // Discounting shares are parameters.
    let mut policy = dip_policy();
    policy.apg.other_procedure_share = dec!(0.25);
    policy.apg.include_medical_group = false;
    let valued = valuate_visit(&policy, &table, &visit).expect("valued");
    assert_eq!(valued.points, points("71.5"));
}

#[test]
fn bad_apg_table_reports_every_line() {
    let text = "apg_code\tkind\tbase_points\tmembers\tname\n\
                P1\tprocedure\t-1\t86.04\tbad points\n\
                P2\tsurgical\t10\t86.05\tbad kind\n\
                P3\tprocedure\t10\n\
                P4\tprocedure\t10\t86.04\tfine\n\
                P5\tprocedure\t10\t86.04\trepeated member\n";
    let errors = ApgTable::parse(text).expect_err("bad table");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("apg table line 2"));
    assert!(lines[3].contains("already belongs to P4"));
    assert!(errors.iter().all(|e| e.reason() == "BAD_APG_TABLE_LINE"));
}

#[test]
fn an_apg_table_inside_the_valuation_tables_is_checked_field_by_field() {
    let mut tables = tables();
    let mut apg = ApgTable::demo().expect("demo table");
    // A member naming a medical group among the procedures, and a negative group.
    apg.procedure_members.insert("99.99".into(), "M01".into());
    if let Some(group) = apg.groups.get_mut("P02") {
        group.base_points = points("-1");
    }
    tables.apg = Some(apg);
    let errors = tables
        .validate(&drg_policy())
        .expect_err("inconsistent APG table");
    assert!(errors.names("apg.procedure_members.99.99"), "{errors:?}");
    assert!(errors.names("apg.groups.P02.base_points"), "{errors:?}");
    tables.apg = Some(ApgTable::demo().expect("demo table"));
    assert!(tables.validate(&drg_policy()).is_ok());
}
