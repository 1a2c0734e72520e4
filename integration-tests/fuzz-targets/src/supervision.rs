//! Supervision screening with tables and parameters from outside: the TSV tables a region loads
//! and the parameter sets of a region and year, each screening a small fixed set of stays that
//! reaches most rules.

use kernel::date::{Date, DateTime};
use kernel::{Decimal, FundType, Money, RegionCode};
use serde::Deserialize;
use supervision_domain::{
    AmbulatoryKind, AmbulatorySettlement, ChargeCategory, Diagnosis, DischargeType, FeeLine,
    HospitalYear, InpatientList, ParameterBook, ParameterSet, Procedure, ScreeningInput,
    SettlementKey, Sex, Tables, screen,
};

use crate::select;

/// One demo table replaced: a selector byte (items, exclusive pairs, packages, substitutions,
/// group means), then the TSV text. Tables that read screen the fixed stays.
pub fn tables(data: &[u8]) {
    let (which, text) = select(data, 5);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(mut tables) = Tables::demo() else {
        return;
    };
    let read = match which {
        0 => Tables::read_items(text).map(|t| tables.items = t),
        1 => Tables::read_exclusive_pairs(text).map(|t| tables.exclusive_pairs = t),
        2 => Tables::read_packages(text).map(|t| tables.packages = t),
        3 => Tables::read_substitutions(text).map(|t| tables.substitutions = t),
        _ => Tables::read_group_means(text).map(|t| tables.group_means = t),
    };
    if read.is_err() {
        return;
    }
    let Some(region) = hainan() else { return };
    let policy = ParameterBook::default().policy_for(region, 2025);
    let _ = screen(&screening_input(), &tables, &policy);
}

/// What the parameters target reads: parameter sets, and optionally stays of its own.
#[derive(Deserialize)]
struct ParameterInput {
    sets: Vec<ParameterSet>,
    #[serde(default)]
    input: Option<ScreeningInput>,
}

/// JSON `{"sets": [ParameterSet…], "input": ScreeningInput?}`: the policy those sets give for
/// Hainan 2025 screens the stays given, or the fixed ones.
pub fn parameters(data: &[u8]) {
    let Ok(parsed) = serde_json::from_slice::<ParameterInput>(data) else {
        return;
    };
    let Ok(tables) = Tables::demo() else { return };
    let Some(region) = hainan() else { return };
    let policy = ParameterBook { sets: parsed.sets }.policy_for(region, 2025);
    let input = parsed.input.unwrap_or_else(screening_input);
    let _ = screen(&input, &tables, &policy);
}

fn hainan() -> Option<RegionCode> {
    RegionCode::from_u32(460000).ok()
}

fn at(text: &str) -> DateTime {
    text.parse().expect("a fixed date and time")
}

fn day(text: &str) -> Date {
    text.parse().expect("a fixed date")
}

fn money(text: &str) -> Money {
    text.parse().expect("a fixed amount")
}

fn line(code: &str, category: u8, quantity: i64, price: &str, charged: &str) -> FeeLine {
    let unit_price: Decimal = price.parse().expect("a fixed price");
    let quantity = Decimal::from(quantity);
    let amount = Money::round(quantity * unit_price);
    FeeLine {
        item_code: code.into(),
        item_name: String::new(),
        category: ChargeCategory(category),
        quantity,
        unit_price,
        amount,
        in_policy_amount: amount,
        charged_at: at(charged),
    }
}

#[allow(clippy::too_many_arguments)]
fn stay(
    hospital: &str,
    id: &str,
    person: &str,
    sex: Sex,
    birth: &str,
    admitted: &str,
    discharged: &str,
    principal: &str,
    drg: Option<&str>,
    total: &str,
    lines: Vec<FeeLine>,
) -> InpatientList {
    InpatientList {
        key: SettlementKey::new(hospital, id),
        fund_type: FundType::Employee,
        pooling_region: RegionCode::from_u32(460108).expect("Meilan"),
        hospital_level: "3".into(),
        person_id: person.into(),
        sex,
        birth_date: day(birth),
        med_type: "2101".into(),
        department: "内科".into(),
        admitted_at: at(admitted),
        discharged_at: at(discharged),
        discharge_type: DischargeType::Ordered,
        planned_readmission: false,
        diagnoses: vec![Diagnosis::new(principal), Diagnosis::new("R50.900")],
        procedures: vec![Procedure {
            code: "47.0100".into(),
            name: String::new(),
        }],
        drg: drg.map(str::to_owned),
        dip_group: None,
        total_cost: money(total),
        in_policy_amount: money(total),
        fund_paid: money("600.00"),
        individual_burden: money("400.00"),
        full_self_pay: money("300.00"),
        lines,
        line_totals: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Stays that reach most rules: a readmission, a short cheap stay, a long stay without care,
/// sex- and age-specific diagnoses, exclusive and packaged items, an outpatient visit before.
pub fn screening_input() -> ScreeningInput {
    let lines = vec![
        line("001101000010000", 1, 1, "50.00", "2025-03-02 08:00:00"),
        line("001101000010000", 1, 3, "50.00", "2025-03-03 08:00:00"),
        line("003107010010000", 5, 1, "12.00", "2025-03-03 09:00:00"),
        line("003107020010000", 5, 1, "8.00", "2025-03-03 09:00:00"),
        line("001201000010000", 7, 1, "30.00", "2025-03-04 08:00:00"),
        line("001202000010000", 7, 1, "20.00", "2025-03-04 08:00:00"),
        line("002501020000000", 4, 1, "90.00", "2025-03-04 10:00:00"),
        line("002501020010000", 4, 1, "30.00", "2025-03-04 10:00:00"),
        line("003302000020000", 6, 1, "900.00", "2025-03-05 10:00:00"),
    ];
    let mut transfer = stay(
        "H46010801",
        "S3",
        "P2",
        Sex::Male,
        "2024-12-01",
        "2025-03-01 10:00:00",
        "2025-03-02 10:00:00",
        "P07.300",
        Some("ES23"),
        "300.00",
        Vec::new(),
    );
    transfer.discharge_type = DischargeType::Death;
    let mut long = stay(
        "H46010802",
        "S5",
        "P4",
        Sex::Female,
        "1940-02-29",
        "2025-01-01 10:00:00",
        "2025-03-20 10:00:00",
        "I63.900",
        Some("GB11"),
        "180000.00",
        vec![line(
            "001101000010000",
            1,
            78,
            "50.00",
            "2025-01-02 08:00:00",
        )],
    );
    long.med_type = "2105".into();
    ScreeningInput {
        lists: vec![
            stay(
                "H46010801",
                "S1",
                "P1",
                Sex::Male,
                "1960-04-12",
                "2025-03-02 09:10:00",
                "2025-03-07 10:00:00",
                "K35.800",
                Some("GB11"),
                "12000.00",
                lines,
            ),
            stay(
                "H46010801",
                "S2",
                "P1",
                Sex::Male,
                "1960-04-12",
                "2025-03-10 09:10:00",
                "2025-03-12 10:00:00",
                "O80.000",
                Some("FM19"),
                "900.00",
                Vec::new(),
            ),
            transfer,
            stay(
                "H46010802",
                "S4",
                "P3",
                Sex::Female,
                "1990-06-01",
                "2025-02-01 10:00:00",
                "2025-02-02 10:00:00",
                "N40.x00",
                Some("ES23"),
                "40000.00",
                Vec::new(),
            ),
            long,
        ],
        ambulatory: vec![AmbulatorySettlement {
            key: SettlementKey::new("H46010801", "M1"),
            fund_type: FundType::Employee,
            person_id: "P1".into(),
            kind: AmbulatoryKind::Outpatient,
            settled_at: at("2025-02-28 10:00:00"),
            diagnoses: vec!["K35.800".into()],
            lines: vec![line(
                "002501020010000",
                4,
                2,
                "30.00",
                "2025-02-28 10:00:00",
            )],
        }],
        previous_year: vec![
            HospitalYear {
                hospital: "H46010801".into(),
                cmi: Decimal::new(9, 1),
                cases: 2,
            },
            HospitalYear {
                hospital: "H46010802".into(),
                cmi: Decimal::ZERO,
                cases: 0,
            },
        ],
    }
}
