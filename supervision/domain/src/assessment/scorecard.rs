//! A scorecard as a JSON document (`supervision/domain/data/demo/scorecard.json` is the demo
//! one), read and checked with every problem named by its item and field:
//!
//! ```json
//! {"items": [
//!   {"id": "readmission", "name": "15日再入院率", "group": "quality",
//!    "measure": "readmission_rate", "weight": "10",
//!    "rule": "linear", "target": "0.02", "zero_at": "0.10"},
//!   {"id": "violations", "name": "违规行为", "group": "behaviour",
//!    "measure": "confirmed_findings", "weight": "15", "rule": "deduct", "per_unit": "3"}
//! ]}
//! ```
//!
//! Numbers are decimal strings (as everywhere on the wire); `measure` is an indicator code of
//! `GetIndicators`, `confirmed_findings` or `confirmed_findings_amount`.

use std::collections::BTreeSet;

use kernel::Decimal;
use serde::{Deserialize, Serialize};

use super::{IndicatorGroup, Measure, Scorecard, ScorecardItem, ScoringRule};

/// The demo scorecard shipped with the service.
pub const DEMO_SCORECARD: &str = include_str!("../../data/demo/scorecard.json");

/// A problem of a scorecard document: where (`items[2].weight`, or the document) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ScorecardError {
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Document {
    items: Vec<ItemDocument>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ItemDocument {
    id: String,
    #[serde(default)]
    name: String,
    group: String,
    measure: String,
    weight: String,
    rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zero_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    per_unit: Option<String>,
}

struct Problems(Vec<ScorecardError>);

impl Problems {
    fn push(&mut self, field: String, reason: impl Into<String>) {
        self.0.push(ScorecardError {
            field,
            reason: reason.into(),
        });
    }

    fn decimal(&mut self, field: String, text: Option<&str>) -> Option<Decimal> {
        match text.map(str::trim) {
            None | Some("") => {
                self.push(field, "is required");
                None
            }
            Some(text) => match kernel::parse_decimal(text) {
                Ok(value) => Some(value),
                Err(too_long @ kernel::AmountError::TooLong { .. }) => {
                    self.push(field, too_long.to_string());
                    None
                }
                Err(_) => {
                    self.push(field, format!("{text:?} is not a decimal number"));
                    None
                }
            },
        }
    }
}

/// Reads and checks a scorecard: every item with a unique non-empty id, a known group and
/// measure, a positive weight, a known rule with its bounds (`linear`: `target` ≠ `zero_at`;
/// `deduct`: `per_unit` > 0), and the weights adding up to exactly 100. Every problem at once.
pub fn read_scorecard(json: &str) -> Result<Scorecard, Vec<ScorecardError>> {
    let document: Document = serde_json::from_str(json).map_err(|e| {
        vec![ScorecardError {
            field: "scorecard".to_owned(),
            reason: format!("not a scorecard document: {e}"),
        }]
    })?;
    let mut problems = Problems(Vec::new());
    if document.items.is_empty() {
        problems.push("items".to_owned(), "a scorecard needs at least one item");
    }
    let mut ids = BTreeSet::new();
    let mut items = Vec::new();
    let mut total = Decimal::ZERO;
    for (index, item) in document.items.iter().enumerate() {
        let at = |field: &str| format!("items[{index}].{field}");
        let id = item.id.trim();
        if id.is_empty() {
            problems.push(at("id"), "is required");
        } else if !ids.insert(id.to_owned()) {
            problems.push(at("id"), format!("{id:?} is used by an earlier item"));
        }
        let group = IndicatorGroup::parse(item.group.trim());
        if group.is_none() {
            problems.push(
                at("group"),
                format!(
                    "{:?} is not a group (fund_efficiency, quality, capacity, behaviour, \
                     cost_control)",
                    item.group
                ),
            );
        }
        let measure = Measure::parse(item.measure.trim());
        if measure.is_none() {
            problems.push(
                at("measure"),
                format!(
                    "{:?} is neither an indicator code of GetIndicators nor \
                     confirmed_findings / confirmed_findings_amount",
                    item.measure
                ),
            );
        }
        let weight = problems.decimal(at("weight"), Some(&item.weight));
        if let Some(weight) = weight {
            if weight <= Decimal::ZERO {
                problems.push(at("weight"), format!("{weight} must be positive"));
            }
            total += weight;
        }
        let rule = match item.rule.trim() {
            "linear" => {
                let target = problems.decimal(at("target"), item.target.as_deref());
                let zero_at = problems.decimal(at("zero_at"), item.zero_at.as_deref());
                match (target, zero_at) {
                    (Some(target), Some(zero_at)) if target == zero_at => {
                        problems.push(
                            at("zero_at"),
                            format!("equals target {target}: the rule needs a span"),
                        );
                        None
                    }
                    (Some(target), Some(zero_at)) => Some(ScoringRule::Linear { target, zero_at }),
                    _ => None,
                }
            }
            "deduct" => match problems.decimal(at("per_unit"), item.per_unit.as_deref()) {
                Some(per_unit) if per_unit <= Decimal::ZERO => {
                    problems.push(at("per_unit"), format!("{per_unit} must be positive"));
                    None
                }
                per_unit => per_unit.map(|per_unit| ScoringRule::Deduct { per_unit }),
            },
            other => {
                problems.push(at("rule"), format!("{other:?} is not linear or deduct"));
                None
            }
        };
        if let (Some(group), Some(measure), Some(weight), Some(rule)) =
            (group, measure, weight, rule)
        {
            items.push(ScorecardItem {
                id: id.to_owned(),
                name: item.name.trim().to_owned(),
                group,
                measure,
                weight,
                rule,
            });
        }
    }
    if !document.items.is_empty() && total != Decimal::ONE_HUNDRED {
        problems.push(
            "items".to_owned(),
            format!("the weights add up to {total}, not 100"),
        );
    }
    if problems.0.is_empty() {
        Ok(Scorecard { items })
    } else {
        Err(problems.0)
    }
}

impl Scorecard {
    /// The scorecard as the document [`read_scorecard`] reads back to an equal scorecard.
    pub fn to_json(&self) -> String {
        let document = Document {
            items: self
                .items
                .iter()
                .map(|item| {
                    let mut doc = ItemDocument {
                        id: item.id.clone(),
                        name: item.name.clone(),
                        group: item.group.as_str().to_owned(),
                        measure: item.measure.code().to_owned(),
                        weight: item.weight.to_string(),
                        rule: item.rule.kind().to_owned(),
                        ..ItemDocument::default()
                    };
                    match item.rule {
                        ScoringRule::Linear { target, zero_at } => {
                            doc.target = Some(target.to_string());
                            doc.zero_at = Some(zero_at.to_string());
                        }
                        ScoringRule::Deduct { per_unit } => {
                            doc.per_unit = Some(per_unit.to_string());
                        }
                    }
                    doc
                })
                .collect(),
        };
        // Strings and vectors only: serialising cannot fail.
        serde_json::to_string(&document).unwrap_or_default()
    }

    /// The demo scorecard.
    pub fn demo() -> Result<Scorecard, Vec<ScorecardError>> {
        read_scorecard(DEMO_SCORECARD)
    }
}
