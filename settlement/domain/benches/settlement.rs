//! Throughput of the bulk paths: validation and content hashing of settlement lists, and a
//! year-end clearing over many cases. Prints figures; run with
//! `cargo bench -p settlement-domain --bench settlement`.

use std::hint::black_box;
use std::time::Instant;

use kernel::{FundType, Money, Points};
use settlement_domain::case::SettlementList;
use settlement_domain::case_key::content_hash;
use settlement_domain::clearing::{
    CasePayment, ClearingCase, ClearingInput, ClearingPolicy, HospitalClearingInput,
    PointValueBasis, run_clearing,
};
use settlement_domain::payment_mode::PaymentMode;
use settlement_domain::ports::{CodeDictionary, PayStandard};
use settlement_domain::validation::{ValidationPolicy, validate_list};

const LIST: &str = r#"{
  "header": {"setl_id": "L1", "fixmedins_code": "H46010001", "hospital_level": "3", "insutype": 310,
    "psn_no": "P1", "case_number": "BA1", "declared_at": "2025-06-20 10:00:00", "pooling_region": "460000"},
  "patient": {"sex": 2, "birth_date": "1990-03-01", "age_years": 35},
  "stay": {"med_type": "21", "admission_route": "2", "admitted_at": "2025-06-12 08:30",
    "admission_department": "surgery", "discharged_at": "2025-06-15 10:00", "discharge_department": "surgery",
    "discharge_type": 1},
  "diagnoses": [{"code": "K35.800", "name": "appendicitis", "admission_condition": 1},
                {"code": "I10.x00", "name": "hypertension", "admission_condition": 1}],
  "procedures": [{"code": "47.0100x001", "name": "appendectomy", "date": "2025-06-12"}],
  "charges": [{"category": "surgery", "amount": "9000.00"}, {"category": "bed", "amount": "3000.00"}],
  "payment": {"medfee_sumamt": "12000.00", "hifp_pay": "9000.00", "acct_pay": "1000.00", "psn_cash_pay": "2000.00"},
  "fee_lines": [{"hilist_code": "X1", "list_type": "101", "med_chrgitm_type": "09", "pric": "12.5", "cnt": "4",
    "det_item_fee_sumamt": "50.00", "fee_ocur_time": "2025-06-13 09:00"}]
}"#;

struct AllCodes;

impl CodeDictionary for AllCodes {
    fn has_diagnosis(&self, _code: &str) -> bool {
        true
    }
    fn has_procedure(&self, _code: &str) -> bool {
        true
    }
}

fn report(what: &str, n: usize, started: Instant) {
    let elapsed = started.elapsed();
    let per_second = n as f64 / elapsed.as_secs_f64();
    println!("{what:<36} {n:>9} in {elapsed:>12.3?}  ({per_second:>12.0} /s)");
}

fn main() {
    let list: SettlementList = match serde_json::from_str(LIST) {
        Ok(list) => list,
        Err(err) => {
            eprintln!("bench fixture does not parse: {err}");
            return;
        }
    };
    let policy = ValidationPolicy::default();

    let n = 100_000;
    let started = Instant::now();
    for _ in 0..n {
        black_box(serde_json::from_str::<SettlementList>(black_box(LIST)).is_ok());
    }
    report("parse settlement list (JSON)", n, started);

    let today = "2026-01-01".parse().expect("date");
    let started = Instant::now();
    for _ in 0..n {
        black_box(validate_list(black_box(&list), &AllCodes, &policy, today));
    }
    report("validate settlement list", n, started);

    let started = Instant::now();
    for _ in 0..n {
        black_box(content_hash(black_box(&list)));
    }
    report("content hash", n, started);

    let hospitals = 500;
    let cases_count = 1_000_000;
    let cases: Vec<ClearingCase> = (0..cases_count)
        .map(|i| ClearingCase {
            hospital_code: format!("H{:04}", i % hospitals),
            list_id: i.to_string(),
            mode: Some(PaymentMode::Drg),
            payment: CasePayment::Points,
            points: Points::from_scaled(1_000_000 + (i as i64 % 977) * 1_000),
            total_cost: Money::from_fen(1_200_000),
            individual_burden: Money::from_fen(300_000 + (i as i64 % 331) * 100),
            ffs_special: i % 997 == 0,
            fund_amount_ffs: Money::from_fen(900_000),
        })
        .collect();
    let input = ClearingInput {
        region: "460000".parse().expect("bench region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: Money::from_yuan(9_000_000_000),
        cases,
        hospitals: (0..hospitals)
            .map(|h| HospitalClearingInput::plain(format!("H{h:04}")))
            .collect(),
    };
    let started = Instant::now();
    let statement = run_clearing(&input, &ClearingPolicy::default(), &PayStandard);
    report("year-end clearing (cases)", cases_count, started);
    if let Ok(statement) = statement {
        println!(
            "  point value {}, residue {}, {} statements",
            statement.point_value,
            statement.residue,
            statement.hospitals.len()
        );
    }

    // A Hainan DIP year: every mode present, the money modes paid first and the points priced
    // by the reimbursement ratio.
    let dip_cases: Vec<ClearingCase> = (0..cases_count)
        .map(|i| {
            let (mode, payment) = match i % 20 {
                0 => (
                    PaymentMode::PerDiemPsychiatric,
                    CasePayment::Standard(Money::from_fen(970_000)),
                ),
                1 => (
                    PaymentMode::DaySurgery,
                    CasePayment::Standard(Money::from_fen(450_000)),
                ),
                2 => (PaymentMode::FeeForService, CasePayment::Claimed),
                3 => (PaymentMode::BasicLevelDisease, CasePayment::Points),
                4 if i % 7 == 0 => (PaymentMode::Dip, CasePayment::Claimed),
                _ => (PaymentMode::Dip, CasePayment::Points),
            };
            ClearingCase {
                hospital_code: format!("H{:04}", i % 200),
                list_id: i.to_string(),
                mode: Some(mode),
                payment,
                points: Points::from_scaled(10_000_000 + (i as i64 % 977) * 10_000),
                total_cost: Money::from_fen(1_000_000 + (i as i64 % 541) * 1_000),
                individual_burden: Money::from_fen(300_000 + (i as i64 % 331) * 100),
                ffs_special: i % 1999 == 0,
                fund_amount_ffs: Money::from_fen(700_000 + (i as i64 % 541) * 700),
            }
        })
        .collect();
    let dip_input = ClearingInput {
        region: "460100".parse().expect("bench region"),
        year: 2025,
        fund_type: FundType::Employee,
        distributable_budget: Money::from_yuan(7_000_000_000),
        cases: dip_cases,
        hospitals: (0..200)
            .map(|h| HospitalClearingInput::plain(format!("H{h:04}")))
            .collect(),
    };
    let dip_policy = ClearingPolicy {
        point_value_basis: PointValueBasis::ReimbursementRatio,
        ..ClearingPolicy::default()
    };
    let started = Instant::now();
    let statement = run_clearing(&dip_input, &dip_policy, &PayStandard);
    report(
        "year-end clearing, DIP with every mode (cases)",
        cases_count,
        started,
    );
    if let Ok(statement) = statement {
        println!(
            "  point value {}, ratio {:?}, residue {}, {} modes",
            statement.point_value,
            statement.reimbursement_ratio,
            statement.residue,
            statement.modes.len()
        );
    }
}
