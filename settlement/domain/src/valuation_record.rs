//! The valuation a case is stored with (the ledger's `valuation_json`): how grouping and the points
//! context answered for it, as one record.
//!
//! Intake writes the record with [`ValuationRecord::to_json`] and reads parse the stored text back
//! with [`ValuationRecord::from_json`]; the wire's typed valuation is built from the parsed record,
//! so the JSON and the typed form of a case's valuation come from this one value and cannot
//! disagree. The JSON is canonical (members in byte order of their names at every level) and a
//! `None` is written as `null`, as the ledger has always stored it. Decimals keep the text they
//! were computed with (`rust_decimal` keeps the scale), money has 2 places.

use std::collections::BTreeMap;

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

/// A stored case's valuation. A member missing from a stored document reads as its default, so
/// documents written before a member existed still read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValuationRecord {
    /// Upper-case mode as the points context named it (`DRG`, `PER_DIEM_PSYCHIATRIC`, …).
    pub payment_mode: String,
    /// The payment-mode rule that chose the mode (`main_method`, `day_surgery`, …).
    pub mode_rule: String,
    /// How the formula treated the case (`normal`, `high_cost`, …).
    pub case_type: String,
    /// The grouper's status (`SUCCESS`, `FAIL`, …).
    pub group_status: String,
    /// Why the grouper answered another status than `SUCCESS`.
    pub group_reason: String,
    pub base: Option<Decimal>,
    pub coefficient: Option<Decimal>,
    /// Cost over the group's mean or reference, unrounded.
    pub cost_ratio: Option<Decimal>,
    /// High-cost add-on points, unrounded.
    pub add_on: Option<Decimal>,
    /// What a money mode pays; `None` for a case paid in points.
    pub amount: Option<Money>,
    /// The points context's own breakdown.
    pub breakdown: Option<Breakdown>,
    /// The secondary diagnoses grouping counted: as MCC or CC by a DRG scheme (not excluded by
    /// the principal), or in the comorbidity index whose band set a DIP case's subtype; what
    /// supervision's upcoding rule asks the fee lines to support. Left out of the document when
    /// there are none, so documents without any read and write as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub complications: Vec<CountedDiagnosis>,
    /// DIP: the treatment type of the case's group in grouping's words (`surgical`,
    /// `interventional`, `therapeutic`, `diagnostic`, `conservative`); left out when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dip_treatment: Option<String>,
}

/// A secondary diagnosis grouping counted towards a case's severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CountedDiagnosis {
    /// 1-based position among the list's diagnoses (2 or more).
    pub position: u32,
    /// The code as the list gives it.
    pub code: String,
    /// `mcc`, `cc` (DRG) or `cci` (DIP).
    pub kind: String,
}

/// The points context's breakdown of a valuation, as its domain writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Breakdown {
    pub decision: Decision,
    pub case_type: String,
    pub base: Decimal,
    pub coefficient: Decimal,
    /// DIP auxiliary-catalogue coefficient.
    pub aux_coefficient: Decimal,
    pub cost_ratio: Option<Decimal>,
    pub add_on: Decimal,
    /// Extra points granted by special-case review.
    pub special_case_points: Decimal,
    /// Final points, rounded once to 4 places.
    pub points: Decimal,
    pub amount: Option<Money>,
    /// Days and pay per phase of a per-diem stay.
    pub per_diem_days: Vec<PhaseDays>,
    /// A DIP case above the extreme band, provisional until expert review.
    pub requires_expert_review: bool,
    pub individual_burden: Money,
    /// The per-diem programme whose days accumulate across the person's readmissions.
    pub episode_programme: Option<String>,
}

/// The mode chosen and the rule that chose it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Decision {
    pub mode: DecidedMode,
    pub rule: String,
}

/// A mode as the points context's domain writes it: its name (`drg`), or for a per-diem stay the
/// object `{"per_diem": programme}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ModeForm", into = "ModeForm")]
pub struct DecidedMode {
    /// `drg`, `dip`, `per_diem`, `day_surgery`, `fixed_rate`, `basic_level`, `fee_for_service`.
    pub mode: String,
    /// The per-diem programme (`psychiatric`, `rehabilitation`, `hospice`); `None` otherwise.
    pub programme: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ModeForm {
    Name(String),
    WithProgramme(BTreeMap<String, String>),
}

impl TryFrom<ModeForm> for DecidedMode {
    type Error = String;

    fn try_from(form: ModeForm) -> Result<Self, String> {
        match form {
            ModeForm::Name(mode) => Ok(Self {
                mode,
                programme: None,
            }),
            ModeForm::WithProgramme(map) => {
                let mut entries = map.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((mode, programme)), None) => Ok(Self {
                        mode,
                        programme: Some(programme),
                    }),
                    _ => Err("a mode object has exactly one member".to_owned()),
                }
            }
        }
    }
}

impl From<DecidedMode> for ModeForm {
    fn from(mode: DecidedMode) -> Self {
        match mode.programme {
            None => ModeForm::Name(mode.mode),
            Some(programme) => ModeForm::WithProgramme(BTreeMap::from([(mode.mode, programme)])),
        }
    }
}

/// Days and pay of one per-diem phase.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhaseDays {
    pub phase: String,
    pub days: u32,
    pub daily_rate: Money,
}

impl ValuationRecord {
    /// The canonical JSON the ledger stores.
    pub fn to_json(&self) -> String {
        // Plain data with string keys always converts; were a type change ever to break that,
        // the null document is stored, which reads back as no valuation, and the tests fail.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        crate::case_key::canonical_json(&value)
    }

    /// The record of a stored `valuation_json`; `None` for the empty text of an unvalued case or
    /// a text that is not a valuation document.
    pub fn from_json(json: &str) -> Option<Self> {
        if json.is_empty() {
            return None;
        }
        serde_json::from_str(json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    fn money(text: &str) -> Money {
        text.parse().expect("money")
    }

    fn per_diem() -> ValuationRecord {
        ValuationRecord {
            payment_mode: "PER_DIEM_PSYCHIATRIC".into(),
            mode_rule: "psychiatric".into(),
            case_type: "per_diem".into(),
            group_status: "SUCCESS".into(),
            group_reason: String::new(),
            base: Some(decimal("0")),
            coefficient: Some(decimal("1")),
            cost_ratio: None,
            add_on: Some(decimal("0")),
            amount: Some(money("5166.00")),
            breakdown: Some(Breakdown {
                decision: Decision {
                    mode: DecidedMode {
                        mode: "per_diem".into(),
                        programme: Some("psychiatric".into()),
                    },
                    rule: "psychiatric".into(),
                },
                case_type: "per_diem".into(),
                base: decimal("0"),
                coefficient: decimal("1"),
                aux_coefficient: decimal("1"),
                cost_ratio: None,
                add_on: decimal("0"),
                special_case_points: decimal("0"),
                points: decimal("0.0000"),
                amount: Some(money("5166.00")),
                per_diem_days: vec![PhaseDays {
                    phase: "急性期 \"acute\"".into(),
                    days: 12,
                    daily_rate: money("430.50"),
                }],
                requires_expert_review: false,
                individual_burden: money("1200.00"),
                episode_programme: Some("psychiatric".into()),
            }),
            complications: Vec::new(),
            dip_treatment: None,
        }
    }

    #[test]
    fn the_stored_text_is_canonical_with_nulls_and_a_per_diem_mode_object() {
        let json = per_diem().to_json();
        assert_eq!(
            json,
            concat!(
                r#"{"add_on":"0","amount":"5166.00","base":"0","breakdown":{"add_on":"0","#,
                r#""amount":"5166.00","aux_coefficient":"1","base":"0","case_type":"per_diem","#,
                r#""coefficient":"1","cost_ratio":null,"decision":{"mode":{"per_diem":"#,
                r#""psychiatric"},"rule":"psychiatric"},"episode_programme":"psychiatric","#,
                r#""individual_burden":"1200.00","per_diem_days":[{"daily_rate":"430.50","#,
                r#""days":12,"phase":"急性期 \"acute\""}],"points":"0.0000","#,
                r#""requires_expert_review":false,"special_case_points":"0"},"#,
                r#""case_type":"per_diem","coefficient":"1","cost_ratio":null,"#,
                r#""group_reason":"","group_status":"SUCCESS","mode_rule":"psychiatric","#,
                r#""payment_mode":"PER_DIEM_PSYCHIATRIC"}"#
            )
        );
        assert_eq!(ValuationRecord::from_json(&json), Some(per_diem()));
    }

    #[test]
    fn a_plain_mode_is_its_name_and_places_are_kept() {
        let mut record = per_diem();
        let breakdown = record.breakdown.as_mut().expect("breakdown");
        breakdown.decision.mode = DecidedMode {
            mode: "drg".into(),
            programme: None,
        };
        breakdown.cost_ratio = Some(decimal("2.6666666666666666666666666667"));
        breakdown.points = decimal("150.0000");
        let json = record.to_json();
        assert!(json.contains(r#""decision":{"mode":"drg","rule":"psychiatric"}"#));
        assert!(json.contains(r#""cost_ratio":"2.6666666666666666666666666667""#));
        assert!(json.contains(r#""points":"150.0000""#));
        let back = ValuationRecord::from_json(&json).expect("a record");
        assert_eq!(back.to_json(), json);
    }

    #[test]
    fn grouping_facts_are_kept_when_present_and_left_out_when_absent() {
        let mut record = per_diem();
        let without = record.to_json();
        assert!(!without.contains("complications") && !without.contains("dip_treatment"));
        record.complications = vec![CountedDiagnosis {
            position: 2,
            code: "J96.000".into(),
            kind: "mcc".into(),
        }];
        record.dip_treatment = Some("surgical".into());
        let json = record.to_json();
        assert!(
            json.contains(r#""complications":[{"code":"J96.000","kind":"mcc","position":2}]"#),
            "{json}"
        );
        assert!(json.contains(r#""dip_treatment":"surgical""#), "{json}");
        assert_eq!(ValuationRecord::from_json(&json), Some(record));
    }

    #[test]
    fn unvalued_and_foreign_texts_read_as_no_record_and_old_documents_read_with_defaults() {
        assert_eq!(ValuationRecord::from_json(""), None);
        assert_eq!(ValuationRecord::from_json("[1]"), None);
        assert_eq!(
            ValuationRecord::from_json(r#"{"breakdown":{"decision":{"mode":{"a":"b","c":"d"}}}}"#),
            None
        );
        let old = ValuationRecord::from_json(r#"{"mode_rule":"main_method","base":null}"#)
            .expect("a record");
        assert_eq!(old.mode_rule, "main_method");
        assert_eq!((old.base, old.breakdown), (None, None));
    }
}
