//! The wire form of a valuation, written in one pass: each amount is formatted once and used both
//! for its wire field and inside `breakdown_json`. `breakdown_json` is exactly the text
//! `serde_json::to_string` gives the domain [`Valuation`] (the tests compare the two); the
//! enum-valued parts are serde's own text, kept per value, and the rest is written directly,
//! which spares the generic serializer's cost on the streaming hot path.

use std::fmt::Write as _;

use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as pb;
use points_domain::tables::PerDiemProgramme;
use points_domain::{CaseType, ModeDecision, PaymentMode, Valuation};
use serde::Serialize;

use crate::table_choice::LoadedTable;

/// The text of one mode decision, as the wire and the breakdown give it.
struct DecisionText {
    decision: ModeDecision,
    json: String,
    payment_mode: String,
    mode: pb::PaymentMode,
    mode_rule: &'static str,
}

/// The typed wire value of a payment mode.
fn wire_mode(mode: PaymentMode) -> pb::PaymentMode {
    match mode {
        PaymentMode::Drg => pb::PaymentMode::Drg,
        PaymentMode::Dip => pb::PaymentMode::Dip,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric) => pb::PaymentMode::PerDiemPsychiatric,
        PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation) => {
            pb::PaymentMode::PerDiemRehabilitation
        }
        PaymentMode::PerDiem(PerDiemProgramme::Hospice) => pb::PaymentMode::PerDiemHospice,
        PaymentMode::DaySurgery => pb::PaymentMode::DaySurgery,
        PaymentMode::FixedRate => pb::PaymentMode::FixedRate,
        PaymentMode::BasicLevel => pb::PaymentMode::BasicLevel,
        PaymentMode::FeeForService => pb::PaymentMode::FeeForService,
    }
}

/// Writes wire valuations; keeps the text of the few decisions and case types a stream meets.
#[derive(Default)]
pub struct WireWriter {
    decisions: Vec<DecisionText>,
    case_types: Vec<(CaseType, String)>,
}

fn json_of(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Appends `,"key":` to `out`.
fn key(out: &mut String, key: &str) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
}

/// Appends a decimal's text as a JSON string (digits, sign and point need no escaping).
fn quoted(out: &mut String, text: &str) {
    out.push('"');
    out.push_str(text);
    out.push('"');
}

/// A decimal's text in a string sized for it at once (28 digits, sign and point at most).
fn text(value: impl std::fmt::Display) -> String {
    let mut out = String::with_capacity(32);
    let _ = write!(out, "{value}");
    out
}

fn quoted_display(out: &mut String, value: impl std::fmt::Display) {
    out.push('"');
    let _ = write!(out, "{value}");
    out.push('"');
}

impl WireWriter {
    pub fn new() -> Self {
        Self::default()
    }

    fn decision(&mut self, decision: ModeDecision) -> &DecisionText {
        let at = match self.decisions.iter().position(|d| d.decision == decision) {
            Some(at) => at,
            None => {
                self.decisions.push(DecisionText {
                    decision,
                    json: json_of(&decision),
                    payment_mode: decision.mode.as_str().to_uppercase(),
                    mode: wire_mode(decision.mode),
                    mode_rule: decision.rule.as_str(),
                });
                self.decisions.len() - 1
            }
        };
        &self.decisions[at]
    }

    fn case_type(&mut self, case_type: CaseType) -> &str {
        let at = match self.case_types.iter().position(|(c, _)| *c == case_type) {
            Some(at) => at,
            None => {
                self.case_types.push((case_type, json_of(&case_type)));
                self.case_types.len() - 1
            }
        };
        &self.case_types[at].1
    }

    /// The wire valuation of a case valued with `table`.
    pub fn valuation(
        &mut self,
        case_id: String,
        valuation: &Valuation,
        table: &LoadedTable,
    ) -> pb::CaseValuation {
        let base = text(valuation.base);
        let coefficient = text(valuation.coefficient);
        let cost_ratio = valuation.cost_ratio.map(text);
        let add_on = text(valuation.add_on);
        let points = text(valuation.points);
        let amount = valuation.amount.map(text);

        let mut json = String::with_capacity(384);
        json.push_str("{\"decision\":");
        let decision = self.decision(valuation.decision);
        json.push_str(&decision.json);
        let (payment_mode, mode, mode_rule) = (
            decision.payment_mode.clone(),
            decision.mode,
            decision.mode_rule,
        );
        key(&mut json, "case_type");
        json.push_str(self.case_type(valuation.case_type));
        key(&mut json, "base");
        quoted(&mut json, &base);
        key(&mut json, "coefficient");
        quoted(&mut json, &coefficient);
        key(&mut json, "aux_coefficient");
        quoted_display(&mut json, valuation.aux_coefficient);
        key(&mut json, "cost_ratio");
        match &cost_ratio {
            Some(ratio) => quoted(&mut json, ratio),
            None => json.push_str("null"),
        }
        key(&mut json, "add_on");
        quoted(&mut json, &add_on);
        key(&mut json, "special_case_points");
        quoted_display(&mut json, valuation.special_case_points);
        key(&mut json, "points");
        quoted(&mut json, &points);
        key(&mut json, "amount");
        match &amount {
            Some(amount) => quoted(&mut json, amount),
            None => json.push_str("null"),
        }
        key(&mut json, "per_diem_days");
        if valuation.per_diem_days.is_empty() {
            json.push_str("[]");
        } else {
            // Phase names are free text: serde escapes them.
            json.push_str(&json_of(&valuation.per_diem_days));
        }
        key(&mut json, "requires_expert_review");
        json.push_str(if valuation.requires_expert_review {
            "true"
        } else {
            "false"
        });
        key(&mut json, "individual_burden");
        quoted_display(&mut json, valuation.individual_burden);
        key(&mut json, "episode_programme");
        match valuation.episode_programme {
            Some(programme) => quoted(&mut json, programme.as_str()),
            None => json.push_str("null"),
        }
        json.push('}');

        let decimal = |value: String| Some(common::Decimal { value });
        pb::CaseValuation {
            case_id,
            payment_mode,
            mode: mode as i32,
            mode_rule: mode_rule.to_owned(),
            case_type: valuation.case_type.as_str().to_owned(),
            base: decimal(base),
            coefficient: decimal(coefficient),
            cost_ratio: cost_ratio.and_then(decimal),
            add_on: decimal(add_on),
            points: decimal(points),
            amount: amount.map(|yuan| common::Money { yuan }),
            table_version: table.version,
            breakdown_json: json,
            table: Some(table.wire.clone()),
            episode_programme: valuation
                .episode_programme
                .map(|programme| programme.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::{Decimal, FundType, Money, Points};
    use points_domain::tables::PerDiemProgramme;
    use points_domain::valuation::PhaseDays;
    use points_domain::{ModeRule, PaymentMode, ValuationPolicy, ValuationTables};

    use crate::store::TableKey;
    use crate::table_choice::TableDocument;

    const EVERY_MODE: [PaymentMode; 9] = [
        PaymentMode::FeeForService,
        PaymentMode::PerDiem(PerDiemProgramme::Psychiatric),
        PaymentMode::PerDiem(PerDiemProgramme::Rehabilitation),
        PaymentMode::PerDiem(PerDiemProgramme::Hospice),
        PaymentMode::DaySurgery,
        PaymentMode::FixedRate,
        PaymentMode::BasicLevel,
        PaymentMode::Drg,
        PaymentMode::Dip,
    ];

    #[test]
    fn the_typed_mode_names_the_same_mode_as_the_text() {
        for mode in EVERY_MODE {
            assert_eq!(
                wire_mode(mode).as_str_name(),
                format!("PAYMENT_MODE_{}", mode.as_str().to_uppercase()),
                "{mode:?}"
            );
        }
    }

    fn table() -> LoadedTable {
        let region = "460100".parse().expect("region");
        LoadedTable {
            key: TableKey {
                region,
                year: 2025,
                fund: FundType::Resident,
            },
            version: 3,
            effective_from: Some(20250701),
            document: TableDocument {
                policy: ValuationPolicy::new(region, 2025, FundType::Resident),
                tables: ValuationTables::new(region, 2025, FundType::Resident),
            },
            wire: pb::TableRef {
                region_code: "460100".into(),
                version: 3,
                ..Default::default()
            },
        }
    }

    fn decimal(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    /// Every field of the wire valuation and every byte of `breakdown_json` agree with the domain
    /// valuation as serde writes it, over every mode, rule and case type and awkward amounts.
    #[test]
    fn wire_text_is_serdes_text() {
        let modes = EVERY_MODE;
        let rules = [ModeRule::MainMethod]
            .into_iter()
            .chain(ModeRule::HAINAN_ORDER)
            .collect::<Vec<_>>();
        let case_types = [
            CaseType::Normal,
            CaseType::HighCost,
            CaseType::LowCost,
            CaseType::IncompleteStay,
            CaseType::Unstable,
            CaseType::Ungroupable,
            CaseType::PerDiem,
            CaseType::FeeForService,
            CaseType::FixedRate,
            CaseType::DaySurgery,
            CaseType::BasicLevel,
            CaseType::PaidAtCost,
        ];
        let decimals = [
            "0",
            "1",
            "1.05",
            "-1.5",
            "150.0000",
            "2.6666666666666666666666666667",
            "100.00000000000000000000000000",
            "-0.0001",
            "79228162514264337593543950335",
        ]
        .map(decimal);
        let phases = [
            Vec::new(),
            vec![PhaseDays {
                phase: "急性期 \"acute\"\\".into(),
                days: 12,
                daily_rate: "430.50".parse::<Money>().expect("money"),
            }],
        ];
        let table = table();
        let mut writer = WireWriter::new();
        for i in 0..2_000usize {
            let pick = |n: usize, stride: usize| (i * stride + i / 7) % n;
            let valuation = Valuation {
                decision: ModeDecision {
                    mode: modes[pick(modes.len(), 1)],
                    rule: rules[pick(rules.len(), 3)],
                },
                case_type: case_types[pick(case_types.len(), 5)],
                base: decimals[pick(decimals.len(), 1)],
                coefficient: decimals[pick(decimals.len(), 2)],
                aux_coefficient: decimals[pick(decimals.len(), 4)],
                cost_ratio: (i % 3 != 0).then(|| decimals[pick(decimals.len(), 5)]),
                add_on: decimals[pick(decimals.len(), 7)],
                special_case_points: decimals[pick(decimals.len(), 8)],
                points: Points::round(decimals[pick(decimals.len(), 11)] / Decimal::from(1000)),
                amount: (i % 4 == 1).then(|| Money::round(decimals[pick(decimals.len(), 13)])),
                per_diem_days: phases[i % 2].clone(),
                requires_expert_review: i % 5 == 0,
                individual_burden: Money::round(decimals[pick(decimals.len(), 17)] / Decimal::TEN),
                episode_programme: [
                    None,
                    Some(PerDiemProgramme::Psychiatric),
                    Some(PerDiemProgramme::Hospice),
                ][i % 3],
            };
            let wire = writer.valuation(format!("c{i}"), &valuation, &table);
            assert_eq!(
                wire.breakdown_json,
                serde_json::to_string(&valuation).expect("serde"),
                "valuation {i}"
            );
            let text = |d: Option<common::Decimal>| d.map(|d| d.value);
            assert_eq!(wire.case_id, format!("c{i}"));
            assert_eq!(
                wire.payment_mode,
                valuation.decision.mode.as_str().to_uppercase()
            );
            assert_eq!(wire.mode_rule, valuation.decision.rule.as_str());
            assert_eq!(
                wire.episode_programme,
                valuation
                    .episode_programme
                    .map_or("", PerDiemProgramme::as_str)
            );
            assert_eq!(wire.case_type, valuation.case_type.as_str());
            assert_eq!(text(wire.base), Some(valuation.base.to_string()));
            assert_eq!(
                text(wire.coefficient),
                Some(valuation.coefficient.to_string())
            );
            assert_eq!(
                text(wire.cost_ratio),
                valuation.cost_ratio.map(|r| r.to_string())
            );
            assert_eq!(text(wire.add_on), Some(valuation.add_on.to_string()));
            assert_eq!(text(wire.points), Some(valuation.points.to_string()));
            assert_eq!(
                wire.amount.map(|m| m.yuan),
                valuation.amount.map(|m| m.to_string())
            );
            assert_eq!(
                (wire.table_version, wire.table),
                (3, Some(table.wire.clone()))
            );
        }
    }
}
