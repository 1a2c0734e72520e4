//! Every rule both ways, on the fixture list and its ambulatory sibling.

use super::*;
use crate::case::AmbulatorySettlement;
use crate::case::{AmbulatoryKind, SettlementList};
use crate::fixtures::{SetDictionary, valid_list};
use crate::ports::MockCodeDictionary;
use kernel::Money;
use kernel::date::Date;
use rust_decimal_macros::dec;

fn check(list: &SettlementList) -> ValidationReport {
    validate_list(
        list,
        &SetDictionary::standard(),
        &ValidationPolicy::default(),
        today(),
    )
}

/// The agency's date in these tests: after every date of the fixture.
fn today() -> Date {
    "2025-07-01".parse().expect("test date")
}

fn dt(s: &str) -> kernel::date::DateTime {
    s.parse().expect("test date-time")
}

type Mutation = fn(&mut SettlementList);

/// (rule, mutation that breaks it, mutation that keeps it): each rule both ways.
fn cases() -> Vec<(&'static str, &'static str, Mutation, Mutation)> {
    vec![
        (
            "LIST_ID_MISSING",
            "header.setl_id",
            |l| l.header.list_id = " ".into(),
            |l| l.header.list_id = "X".into(),
        ),
        (
            "HOSPITAL_CODE_MISSING",
            "header.fixmedins_code",
            |l| l.header.hospital_code.clear(),
            |l| l.header.hospital_code = "H2".into(),
        ),
        (
            "INSURANCE_TYPE_INVALID",
            "header.insutype",
            |l| l.header.insurance_type = 340,
            |l| l.header.insurance_type = 390,
        ),
        (
            "PRINCIPAL_DIAGNOSIS_MISSING",
            "diagnoses[0].code",
            |l| l.diagnoses.clear(),
            |l| l.diagnoses.truncate(1),
        ),
        (
            "PRINCIPAL_DIAGNOSIS_MISSING",
            "diagnoses[0].code",
            |l| l.diagnoses[0].code = "  ".into(),
            |_| {},
        ),
        (
            "DIAGNOSIS_NAME_MISSING",
            "diagnoses[1].name",
            |l| l.diagnoses[1].name.clear(),
            |l| l.diagnoses[1].name = "x".into(),
        ),
        (
            "PROCEDURE_NAME_MISSING",
            "procedures[0].name",
            |l| l.procedures[0].name.clear(),
            |_| {},
        ),
        (
            "UNKNOWN_DIAGNOSIS_CODE",
            "diagnoses[1].code",
            |l| l.diagnoses[1].code = "X99.999".into(),
            |l| l.diagnoses[1].code = "K35.800".into(),
        ),
        (
            "UNKNOWN_PROCEDURE_CODE",
            "procedures[0].code",
            |l| l.procedures[0].code = "99.9999".into(),
            |_| {},
        ),
        (
            "ASTERISK_CODE_ALONE",
            "diagnoses[1].code",
            |l| l.diagnoses[1].code = "J17.0*".into(),
            |l| l.diagnoses[1].code = "A01.000x005+J17.0*".into(),
        ),
        (
            "ADMISSION_CONDITION_INVALID",
            "diagnoses[1].admission_condition",
            |l| l.diagnoses[1].admission_condition = 5,
            |l| l.diagnoses[1].admission_condition = 4,
        ),
        (
            "ADMISSION_CONDITION_INVALID",
            "diagnoses[1].admission_condition",
            |l| l.diagnoses[1].admission_condition = 0,
            |l| l.diagnoses[1].admission_condition = 2,
        ),
        (
            "DISCHARGE_BEFORE_ADMISSION",
            "stay.discharged_at",
            |l| l.stay.discharged_at = dt("2025-06-12 08:29"),
            |l| l.stay.discharged_at = dt("2025-06-12 08:30"),
        ),
        (
            "BIRTH_AFTER_ADMISSION",
            "patient.birth_date",
            |l| l.patient.birth_date = "2025-06-13".parse().expect("d"),
            |l| {
                l.patient.birth_date = "2025-06-12".parse().expect("d");
                l.diagnoses.truncate(1);
            },
        ),
        (
            "SEX_INVALID",
            "patient.sex",
            |l| l.patient.sex = 0,
            |l| l.patient.sex = 1,
        ),
        ("SEX_INVALID", "patient.sex", |l| l.patient.sex = 3, |_| {}),
        (
            "NEGATIVE_AMOUNT",
            "charges[1].self_pay",
            |l| l.charges[1].self_pay = Money::round(dec!(-0.01)),
            |l| l.charges[1].self_pay = Money::ZERO,
        ),
        (
            "NEGATIVE_AMOUNT",
            "fee_lines[0].inscp_amt",
            |l| l.fee_lines[0].inscp_amt = Money::round(dec!(-1)),
            |l| {
                l.fee_lines[0].inscp_amt = Money::round(dec!(-1));
                l.fee_lines[0].refund = true;
            },
        ),
        (
            "PAYMENT_IDENTITY",
            "payment.medfee_sumamt",
            |l| l.payment.personal_cash = Money::round(dec!(2000.01)),
            |l| {
                l.payment.personal_cash = Money::round(dec!(1999.99));
                l.payment.medical_aid = Money::round(dec!(0.01));
            },
        ),
        (
            "CHARGES_TOTAL_MISMATCH",
            "charges",
            |l| l.charges[2].amount = Money::round(dec!(1999.99)),
            |l| l.charges.clear(),
        ),
        (
            "DISCHARGE_TYPE_INVALID",
            "stay.discharge_type",
            |l| l.stay.discharge_type = 6,
            |l| l.stay.discharge_type = 9,
        ),
        (
            "DISCHARGE_TYPE_INVALID",
            "stay.discharge_type",
            |l| l.stay.discharge_type = 0,
            |l| l.stay.discharge_type = 5,
        ),
        (
            "RECEIVING_INSTITUTION_MISSING",
            "stay.receiving_institution",
            |l| l.stay.discharge_type = 2,
            |l| {
                l.stay.discharge_type = 2;
                l.stay.receiving_institution = Some("H46010002".into());
            },
        ),
        (
            "RECEIVING_INSTITUTION_MISSING",
            "stay.receiving_institution",
            |l| {
                l.stay.discharge_type = 3;
                l.stay.receiving_institution = Some(" ".into());
            },
            |l| l.stay.discharge_type = 4,
        ),
        // warnings
        (
            "PRINCIPAL_ABSENT_ON_ADMISSION",
            "diagnoses[0].admission_condition",
            |l| l.diagnoses[0].admission_condition = 4,
            |l| l.diagnoses[0].admission_condition = 3,
        ),
        (
            "SYMPTOM_AS_PRINCIPAL",
            "diagnoses[0].code",
            |l| l.diagnoses[0].code = "R10.400".into(),
            |l| {
                l.diagnoses[0].code = "R10.400".into();
                l.diagnoses.truncate(1);
            },
        ),
        (
            "DIAGNOSIS_SEX_CONFLICT",
            "diagnoses[1].code",
            |l| {
                l.diagnoses[1].code = "O80.000".into();
                l.patient.sex = 1;
            },
            |l| l.diagnoses[1].code = "O80.000".into(),
        ),
        (
            "DIAGNOSIS_SEX_CONFLICT",
            "diagnoses[1].code",
            |l| l.diagnoses[1].code = "N40.x00".into(),
            |l| {
                l.diagnoses[1].code = "N40.x00".into();
                l.patient.sex = 1;
            },
        ),
        // P-codes: day 365 of life is inside the first year, day 366 is not.
        (
            "DIAGNOSIS_AGE_CONFLICT",
            "diagnoses[1].code",
            |l| {
                l.diagnoses[1].code = "P59.900".into();
                l.patient.birth_date = "2024-06-11".parse().expect("d");
            },
            |l| {
                l.diagnoses[1].code = "P59.900".into();
                l.patient.birth_date = "2024-06-12".parse().expect("d");
            },
        ),
        (
            "DIAGNOSIS_AGE_CONFLICT",
            "diagnoses[1].code",
            |l| {
                l.diagnoses[1].code = "O80.000".into();
                l.patient.birth_date = "2016-06-13".parse().expect("d");
            },
            |l| {
                l.diagnoses[1].code = "O80.000".into();
                l.patient.birth_date = "2015-06-12".parse().expect("d");
            },
        ),
        (
            "FEE_LINE_AMOUNT_MISMATCH",
            "fee_lines[0].det_item_fee_sumamt",
            |l| l.fee_lines[0].cnt = dec!(5),
            |l| {
                l.fee_lines[0].pric = dec!(16.6667);
                l.fee_lines[0].cnt = dec!(3);
            },
        ),
        (
            "VENTILATOR_HOURS_EXCEED_STAY",
            "stay.ventilator_hours",
            |l| l.stay.ventilator_hours = dec!(72.5),
            |l| l.stay.ventilator_hours = dec!(72),
        ),
        // Bounds: one over the limit refused, the limit itself accepted.
        (
            "FIELD_TOO_LONG",
            "header.setl_id",
            |l| l.header.list_id = "9".repeat(limits::LIST_ID + 1),
            |l| l.header.list_id = "9".repeat(limits::LIST_ID),
        ),
        (
            "FIELD_TOO_LONG",
            "header.fixmedins_code",
            |l| l.header.hospital_code = "H".repeat(limits::HOSPITAL_CODE + 1),
            |l| l.header.hospital_code = "H".repeat(limits::HOSPITAL_CODE),
        ),
        (
            "FIELD_TOO_LONG",
            "header.psn_no",
            |l| l.header.person_id = "P".repeat(limits::PERSON_ID + 1),
            |l| l.header.person_id = "P".repeat(limits::PERSON_ID),
        ),
        (
            "FIELD_TOO_LONG",
            "diagnoses[1].name",
            // Counted in characters, not bytes.
            |l| l.diagnoses[1].name = "高".repeat(limits::NAME + 1),
            |l| l.diagnoses[1].name = "高".repeat(limits::NAME),
        ),
        (
            "FIELD_TOO_LONG",
            "procedures[0].name",
            |l| l.procedures[0].name = "术".repeat(limits::NAME + 1),
            |l| l.procedures[0].name = "术".repeat(limits::NAME),
        ),
        (
            "FIELD_TOO_LONG",
            "stay.discharge_department",
            |l| l.stay.discharge_department = "d".repeat(limits::DEPARTMENT + 1),
            |l| l.stay.discharge_department = "d".repeat(limits::DEPARTMENT),
        ),
        (
            "FIELD_TOO_LONG",
            "fee_lines[0].hilist_code",
            |l| l.fee_lines[0].hilist_code = "X".repeat(limits::ITEM_CODE + 1),
            |l| l.fee_lines[0].hilist_code = "X".repeat(limits::ITEM_CODE),
        ),
        (
            "TOO_MANY_ENTRIES",
            "diagnoses",
            |l| {
                let other = l.diagnoses[1].clone();
                l.diagnoses.resize(limits::DIAGNOSES + 1, other);
            },
            |l| {
                let other = l.diagnoses[1].clone();
                l.diagnoses.resize(limits::DIAGNOSES, other);
            },
        ),
        (
            "TOO_MANY_ENTRIES",
            "procedures",
            |l| {
                let first = l.procedures[0].clone();
                l.procedures.resize(limits::PROCEDURES + 1, first);
            },
            |l| {
                let first = l.procedures[0].clone();
                l.procedures.resize(limits::PROCEDURES, first);
            },
        ),
        (
            "TOO_MANY_ENTRIES",
            "fee_lines",
            |l| {
                let first = l.fee_lines[0].clone();
                l.fee_lines.resize(limits::FEE_LINES + 1, first);
            },
            |l| {
                let first = l.fee_lines[0].clone();
                l.fee_lines.resize(limits::FEE_LINES, first);
            },
        ),
        // Dates: nothing after today (2025-07-01 in these tests).
        (
            "DATE_IN_FUTURE",
            "stay.discharged_at",
            |l| l.stay.discharged_at = dt("2025-07-02 09:00"),
            |l| l.stay.discharged_at = dt("2025-07-01 23:59"),
        ),
        (
            "DATE_IN_FUTURE",
            "header.declared_at",
            |l| l.header.declared_at = dt("2025-07-02 09:00"),
            |l| l.header.declared_at = dt("2025-07-01 09:00"),
        ),
        (
            "DATE_IN_FUTURE",
            "procedures[0].date",
            |l| l.procedures[0].date = "2025-07-02".parse().expect("date"),
            |l| l.procedures[0].date = "2025-06-13".parse().expect("date"),
        ),
        (
            "DATE_IN_FUTURE",
            "fee_lines[0].fee_ocur_time",
            |l| l.fee_lines[0].fee_ocur_time = dt("2025-07-02 09:00"),
            |l| l.fee_lines[0].fee_ocur_time = dt("2025-06-13 09:00"),
        ),
    ]
}

#[test]
fn the_fixture_is_clean() {
    let report = check(&valid_list());
    assert_eq!(
        report,
        ValidationReport {
            fund: Some(FundType::Employee),
            ..ValidationReport::default()
        }
    );
    assert!(report.is_accepted());
}

#[test]
fn every_rule_both_ways() {
    for (reason, field, breaks, keeps) in cases() {
        let mut broken = valid_list();
        breaks(&mut broken);
        let report = check(&broken);
        let all: Vec<&Violation> = report.errors.iter().chain(&report.warnings).collect();
        assert!(
            all.iter().any(|v| v.reason() == reason && v.field == field),
            "{reason} at {field} expected, got {all:?}"
        );
        let is_error = ViolationKind::from_reason(reason).map(ViolationKind::severity)
            == Some(Severity::Error);
        assert_eq!(report.is_accepted(), !is_error, "{reason}");
        assert!(all.iter().all(|v| v.list_id == broken.header.list_id));

        let mut kept = valid_list();
        keeps(&mut kept);
        let report = check(&kept);
        assert!(
            report
                .errors
                .iter()
                .chain(&report.warnings)
                .all(|v| v.reason() != reason),
            "{reason} not expected after the keeping change, got {report:?}"
        );
    }
}

#[test]
fn every_violation_of_a_record_is_reported_at_once() {
    let mut list = valid_list();
    list.patient.sex = 7;
    list.stay.discharge_type = 2;
    list.diagnoses[0].code = "J17.0*".into();
    list.diagnoses[1].code = "Q99.999".into();
    list.payment.total = Money::round(dec!(12000.01));
    let report = check(&list);
    assert_eq!(
        report.error_reasons(),
        vec![
            "SEX_INVALID",
            "RECEIVING_INSTITUTION_MISSING",
            "ASTERISK_CODE_ALONE",
            "UNKNOWN_DIAGNOSIS_CODE",
            "CHARGES_TOTAL_MISMATCH",
            "PAYMENT_IDENTITY",
        ]
    );
    assert_eq!(report.errors[3].field, "diagnoses[1].code");
    assert_eq!(report.errors[5].field, "payment.medfee_sumamt");
}

#[test]
fn refund_settlements_may_carry_negative_amounts() {
    let mut list = valid_list();
    list.header.refund = true;
    list.charges.clear();
    list.fee_lines.clear();
    list.payment.total = Money::round(dec!(-12000));
    list.payment.pooled_fund = Money::round(dec!(-8400));
    list.payment.serious_illness = Money::round(dec!(-600));
    list.payment.personal_account = Money::round(dec!(-1000));
    list.payment.personal_cash = Money::round(dec!(-2000));
    list.payment.self_pay = Money::ZERO;
    list.payment.co_pay = Money::ZERO;
    assert_eq!(check(&list).error_reasons(), Vec::<&str>::new());
    list.header.refund = false;
    assert_eq!(check(&list).error_reasons().len(), 5);
}

#[test]
fn the_dictionary_port_is_asked_for_every_code() {
    let mut dictionary = MockCodeDictionary::new();
    dictionary
        .expect_has_diagnosis()
        .times(2)
        .returning(|code| code != "I10.x00");
    dictionary
        .expect_has_procedure()
        .withf(|code| code == "47.0100x001")
        .times(1)
        .return_const(true);
    let report = validate_list(
        &valid_list(),
        &dictionary,
        &ValidationPolicy::default(),
        today(),
    );
    assert_eq!(report.error_reasons(), vec!["UNKNOWN_DIAGNOSIS_CODE"]);
    assert_eq!(report.errors[0].field, "diagnoses[1].code");
}

#[test]
fn los_and_billable_days() {
    let mut list = valid_list();
    assert_eq!(list.stay.length_of_stay(), 3);
    assert_eq!(list.stay.billable_days(), 3);
    list.stay.discharged_at = dt("2025-06-12 18:00");
    assert_eq!(list.stay.length_of_stay(), 0);
    assert_eq!(list.stay.billable_days(), 1);
}

#[test]
fn ambulatory_settlements_are_checked_too() {
    let list = valid_list();
    let mut settlement = AmbulatorySettlement {
        header: list.header.clone(),
        kind: AmbulatoryKind::Pharmacy,
        med_type: "41".into(),
        settled_at: dt("2025-06-13 11:00"),
        diagnoses: vec![list.diagnoses[1].clone()],
        payment: list.payment.clone(),
        fee_lines: list.fee_lines.clone(),
        procedures: Vec::new(),
    };
    let dictionary = SetDictionary::standard();
    let policy = ValidationPolicy::default();
    assert!(validate_ambulatory(&settlement, &dictionary, &policy, today()).is_accepted());
    settlement.header.insurance_type = 1;
    settlement.payment.pooled_fund = Money::round(dec!(-1));
    assert_eq!(
        validate_ambulatory(&settlement, &dictionary, &policy, today()).error_reasons(),
        vec![
            "INSURANCE_TYPE_INVALID",
            "NEGATIVE_AMOUNT",
            "PAYMENT_IDENTITY"
        ]
    );
}

#[test]
fn a_far_future_discharge_is_refused_with_each_date_named() {
    let mut list = valid_list();
    // 200 days after today.
    list.stay.admitted_at = dt("2026-01-16 08:00");
    list.stay.discharged_at = dt("2026-01-17 08:00");
    let report = check(&list);
    let future: Vec<&str> = report
        .errors
        .iter()
        .filter(|v| v.kind == ViolationKind::DateInFuture)
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(future, ["stay.admitted_at", "stay.discharged_at"]);
    assert!(!report.is_accepted());
}

#[test]
fn admission_after_discharge_and_birth_after_admission_are_refused() {
    let mut list = valid_list();
    list.stay.admitted_at = dt("2025-06-16 08:00");
    list.patient.birth_date = "2025-06-17".parse().expect("date");
    let report = check(&list);
    let found: Vec<(&str, &str)> = report
        .errors
        .iter()
        .map(|v| (v.reason(), v.field.as_str()))
        .collect();
    assert!(found.contains(&("DISCHARGE_BEFORE_ADMISSION", "stay.discharged_at")));
    assert!(found.contains(&("BIRTH_AFTER_ADMISSION", "patient.birth_date")));
    // A newborn admitted on the day of birth is a real case.
    let mut newborn = valid_list();
    newborn.patient.birth_date = newborn.stay.admitted_at.date();
    assert!(
        check(&newborn)
            .errors
            .iter()
            .all(|v| v.kind != ViolationKind::BirthAfterAdmission)
    );
}

#[test]
fn ambulatory_bounds_and_dates_are_checked() {
    let list = valid_list();
    let mut settlement = AmbulatorySettlement {
        header: list.header.clone(),
        kind: AmbulatoryKind::Outpatient,
        med_type: "11".into(),
        settled_at: dt("2025-07-01 11:00"),
        diagnoses: vec![list.diagnoses[1].clone()],
        payment: list.payment.clone(),
        fee_lines: list.fee_lines.clone(),
        procedures: Vec::new(),
    };
    let dictionary = SetDictionary::standard();
    let policy = ValidationPolicy::default();
    assert!(validate_ambulatory(&settlement, &dictionary, &policy, today()).is_accepted());
    settlement.settled_at = dt("2025-07-02 11:00");
    settlement.header.list_id = "9".repeat(limits::LIST_ID + 1);
    settlement.diagnoses[0].name = "x".repeat(limits::NAME + 1);
    let first = settlement.fee_lines[0].clone();
    settlement.fee_lines.resize(limits::FEE_LINES + 1, first);
    let report = validate_ambulatory(&settlement, &dictionary, &policy, today());
    let found: Vec<(&str, &str)> = report
        .errors
        .iter()
        .map(|v| (v.reason(), v.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("FIELD_TOO_LONG", "header.setl_id"),
            ("DATE_IN_FUTURE", "settled_at"),
            ("FIELD_TOO_LONG", "diagnoses[0].name"),
            ("TOO_MANY_ENTRIES", "fee_lines"),
        ]
    );
}

#[test]
fn batches_report_every_record() {
    let mut bad = valid_list();
    bad.patient.sex = 9;
    let reports = validate_batch(
        &[valid_list(), bad, valid_list()],
        &SetDictionary::standard(),
        &ValidationPolicy::default(),
        today(),
    );
    let accepted: Vec<bool> = reports.iter().map(ValidationReport::is_accepted).collect();
    assert_eq!(accepted, vec![true, false, true]);
}

#[test]
fn policy_lists_drive_the_conflicts() {
    let mut list = valid_list();
    list.diagnoses[1].code = "N40.x00".into();
    let mut policy = ValidationPolicy::default();
    assert_eq!(
        validate_list(&list, &SetDictionary::standard(), &policy, today()).warning_reasons(),
        vec!["DIAGNOSIS_SEX_CONFLICT"]
    );
    policy.sex_rules.clear();
    assert!(
        validate_list(&list, &SetDictionary::standard(), &policy, today())
            .warnings
            .is_empty()
    );
    let json = serde_json::to_string(&ValidationPolicy::default()).expect("json");
    let back: ValidationPolicy = serde_json::from_str(&json).expect("back");
    assert_eq!(back, ValidationPolicy::default());
}
