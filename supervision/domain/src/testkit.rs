//! Hand-built cases for the rule tests.

use kernel::{Date, DateTime, Decimal, FundType, Money, RegionCode};

use crate::catalogue::RuleId;
use crate::finding::Finding;
use crate::model::{
    AmbulatoryKind, AmbulatorySettlement, ChargeCategory, Diagnosis, DischargeType, FeeLine,
    InpatientList, Procedure, ScreeningInput, SettlementKey, Sex,
};
use crate::parameters::ScreeningPolicy;
use crate::screening::screen;
use crate::tables::Tables;

pub const HOSPITAL: &str = "H4601001";

pub fn at(text: &str) -> DateTime {
    text.parse().expect("test date-time")
}

pub fn day(text: &str) -> Date {
    text.parse().expect("test date")
}

pub fn money(text: &str) -> Money {
    text.parse().expect("test amount")
}

pub fn number(text: &str) -> Decimal {
    text.parse().expect("test number")
}

/// A stay at [`HOSPITAL`] of a man born 1970, principal J18.900, costing 1,000.00 of which
/// 800.00 in policy, no lines.
pub fn list(id: &str, person: &str, admitted: &str, discharged: &str) -> InpatientList {
    InpatientList {
        key: SettlementKey::new(HOSPITAL, id),
        fund_type: FundType::Employee,
        pooling_region: RegionCode::from_u32(460000).expect("Hainan"),
        hospital_level: "3".into(),
        person_id: person.into(),
        sex: Sex::Male,
        birth_date: day("1970-01-01"),
        med_type: "2101".into(),
        department: "呼吸内科".into(),
        admitted_at: at(admitted),
        discharged_at: at(discharged),
        discharge_type: DischargeType::Ordered,
        planned_readmission: false,
        diagnoses: vec![Diagnosis::new("J18.900")],
        procedures: Vec::new(),
        drg: None,
        dip_group: None,
        total_cost: money("1000.00"),
        in_policy_amount: money("800.00"),
        fund_paid: money("600.00"),
        individual_burden: money("400.00"),
        full_self_pay: Money::ZERO,
        lines: Vec::new(),
        line_totals: Vec::new(),
        warnings: Vec::new(),
    }
}

pub fn with_principal(mut list: InpatientList, code: &str) -> InpatientList {
    list.diagnoses[0] = Diagnosis::new(code);
    list
}

pub fn with_drg(mut list: InpatientList, drg: &str) -> InpatientList {
    list.drg = Some(drg.into());
    list
}

pub fn with_procedure(mut list: InpatientList, code: &str) -> InpatientList {
    list.procedures.push(Procedure {
        code: code.into(),
        name: String::new(),
    });
    list
}

pub fn with_lines(mut list: InpatientList, lines: Vec<FeeLine>) -> InpatientList {
    list.lines = lines;
    list
}

/// A line of `quantity` units at `price`, wholly in policy.
pub fn line(code: &str, category: u8, quantity: &str, price: &str, charged: &str) -> FeeLine {
    let quantity = number(quantity);
    let unit_price = number(price);
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

pub fn ambulatory(
    hospital: &str,
    id: &str,
    person: &str,
    kind: AmbulatoryKind,
    settled: &str,
) -> AmbulatorySettlement {
    AmbulatorySettlement {
        key: SettlementKey::new(hospital, id),
        fund_type: FundType::Employee,
        person_id: person.into(),
        kind,
        settled_at: at(settled),
        diagnoses: Vec::new(),
        lines: Vec::new(),
    }
}

pub fn key(id: &str) -> SettlementKey {
    SettlementKey::new(HOSPITAL, id)
}

/// Screens with the demo tables and only `rule` enabled.
pub fn run(
    rule: RuleId,
    lists: Vec<InpatientList>,
    ambulatory: Vec<AmbulatorySettlement>,
) -> Vec<Finding> {
    let tables = Tables::demo().expect("demo tables");
    run_with(rule, lists, ambulatory, &tables, ScreeningPolicy::default())
}

pub fn run_with(
    rule: RuleId,
    lists: Vec<InpatientList>,
    ambulatory: Vec<AmbulatorySettlement>,
    tables: &Tables,
    policy: ScreeningPolicy,
) -> Vec<Finding> {
    let input = ScreeningInput {
        lists,
        ambulatory,
        previous_year: Vec::new(),
    };
    screen(&input, tables, &policy.only(&[rule]))
}

/// The ids of the settlements the findings are on.
pub fn flagged(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| match &f.subject {
            crate::finding::Subject::Settlement(key) => key.id.clone(),
            crate::finding::Subject::Hospital(hospital) => hospital.clone(),
        })
        .collect()
}
