//! Findings: what a rule found, on which settlement or hospital, with its evidence and the amount
//! at stake, and their CSV export (DOMAIN.md §6 "Screening: precise defaults", "Tables screening
//! reads").

use std::fmt::Write as _;

use kernel::{Date, Decimal, Money};
use serde::{Deserialize, Serialize};

use crate::catalogue::{RuleId, RuleLevel};
use crate::model::SettlementKey;

/// The amount at stake of a finding, from its unrounded sum: the one place screening rounds
/// (to the fen, half away from zero).
pub fn amount_at_stake(raw: Decimal) -> Money {
    Money::round(raw)
}

/// Which arm of a rule fired (the export's `test`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Arm {
    /// The rule has one arm.
    Whole,
    A,
    B,
    C,
    Daily,
    Total,
    Period,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Whole => "",
            Arm::A => "a",
            Arm::B => "b",
            Arm::C => "c",
            Arm::Daily => "daily",
            Arm::Total => "total",
            Arm::Period => "period",
        }
    }
}

/// What a finding is about: one settlement, or a hospital as a whole (rules 19–22).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Subject {
    Settlement(SettlementKey),
    Hospital(String),
}

impl Subject {
    pub fn hospital(&self) -> &str {
        match self {
            Subject::Settlement(key) => &key.hospital,
            Subject::Hospital(hospital) => hospital,
        }
    }
}

/// One finding. Fields are in the order findings sort by, so a run's output is deterministic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    pub subject: Subject,
    pub arm: Arm,
    /// The offending item (rule 11: the package).
    pub item: Option<String>,
    /// The offending day (rule 13: the first empty day).
    pub date: Option<Date>,
    /// The other stay or settlement the finding names (the earlier stay, the ambulatory
    /// settlement, the window's first settlement).
    pub other: Option<SettlementKey>,
    /// 1-based positions of the offending fee lines; for rules 7 and 8 in the other settlement.
    pub lines: Vec<u32>,
    /// Codes the finding rests on: diagnoses, groups, or `name=value` measures of a hospital.
    pub evidence: Vec<String>,
    pub level: RuleLevel,
    pub amount: Money,
}

impl Finding {
    pub fn new(rule: RuleId, level: RuleLevel, subject: Subject) -> Self {
        Self {
            rule,
            subject,
            arm: Arm::Whole,
            item: None,
            date: None,
            other: None,
            lines: Vec::new(),
            evidence: Vec::new(),
            level,
            // Through the rounding so that even nothing at stake exports as 0.00.
            amount: amount_at_stake(Decimal::ZERO),
        }
    }

    /// The export row: `rule, test, fixmedins_code, setl_id, other_fixmedins_code,
    /// other_setl_id, hilist_code, date, feedetl_sn, amount`.
    pub fn export_fields(&self) -> [String; 10] {
        let (hospital, id) = match &self.subject {
            Subject::Settlement(key) => (key.hospital.clone(), key.id.clone()),
            Subject::Hospital(hospital) => (hospital.clone(), String::new()),
        };
        let (other_hospital, other_id) = self
            .other
            .as_ref()
            .map(|k| (k.hospital.clone(), k.id.clone()))
            .unwrap_or_default();
        let lines: Vec<String> = self.lines.iter().map(u32::to_string).collect();
        [
            self.rule.number().to_string(),
            self.arm.as_str().to_owned(),
            hospital,
            id,
            other_hospital,
            other_id,
            self.item.clone().unwrap_or_default(),
            self.date.map(|d| d.to_string()).unwrap_or_default(),
            lines.join(";"),
            self.amount.to_string(),
        ]
    }
}

/// The export header.
pub const EXPORT_HEADER: [&str; 10] = [
    "rule",
    "test",
    "fixmedins_code",
    "setl_id",
    "other_fixmedins_code",
    "other_setl_id",
    "hilist_code",
    "date",
    "feedetl_sn",
    "amount",
];

/// Findings as CSV with the export header, one row each, in the order given.
pub fn export_csv(findings: &[Finding]) -> String {
    let mut out = EXPORT_HEADER.join(",");
    out.push('\n');
    for finding in findings {
        let fields: Vec<String> = finding
            .export_fields()
            .iter()
            .map(|f| csv_field(f))
            .collect();
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_round_half_away_from_zero_once() {
        assert_eq!(amount_at_stake(dec!(10) / dec!(3)).to_string(), "3.33");
        assert_eq!(amount_at_stake(dec!(0.005)).to_string(), "0.01");
        assert_eq!(amount_at_stake(dec!(2.675)).to_string(), "2.68");
    }

    #[test]
    fn export_writes_the_domain_columns() {
        let mut finding = Finding::new(
            RuleId::OverFrequency,
            RuleLevel::Strong,
            Subject::Settlement(SettlementKey::new("H001", "L2")),
        );
        finding.arm = Arm::Daily;
        finding.item = Some("001101000010000".into());
        finding.date = "2026-03-02".parse().ok();
        finding.lines = vec![3, 4];
        finding.amount = Money::from_fen(5000);
        let csv = export_csv(&[finding]);
        assert_eq!(
            csv,
            "rule,test,fixmedins_code,setl_id,other_fixmedins_code,other_setl_id,hilist_code,date,feedetl_sn,amount\n\
             12,daily,H001,L2,,,001101000010000,2026-03-02,3;4,50.00\n"
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");

        let hospital = Finding::new(
            RuleId::BlankGroups,
            RuleLevel::Weak,
            Subject::Hospital("H001".into()),
        );
        assert_eq!(hospital.export_fields().join(","), "21,,H001,,,,,,,0.00");
    }
}
