//! Hospital assessment (考核评价, DOMAIN.md §4 "quality deposit", §6; the Hainan payment-method
//! standard §10: fund efficiency, quality, capacity, behaviour and cost-control indicators).
//!
//! A region's [`Scorecard`] for a year is a list of items, each measuring one monitoring
//! indicator of the hospital's year (or its confirmed findings) and scoring it out of its weight
//! by a [`ScoringRule`]; the weights add up to 100, so a hospital's score is the sum of its items'
//! scores, 0–100. Each item's score is rounded once, in [`round_score`], and the total is the
//! exact sum of the rounded items, so the breakdown always adds up to the score.
//!
//! An indicator the hospital's year cannot give (its denominator is zero, such as a low-risk
//! mortality without a low-risk case) scores the item's full weight and says so: an absence of
//! data is no evidence against the hospital, and a hospital must not lose points for a case mix
//! it does not treat.

mod scorecard;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use kernel::{Decimal, Money};
use rust_decimal::RoundingStrategy;

use crate::monitoring::IndicatorCode;

pub use scorecard::{DEMO_SCORECARD, ScorecardError, read_scorecard};

/// The indicator groups of the assessment (Hainan standard §10.1 a–e).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorGroup {
    /// 基金效率: mean cost, cost growth, fund share.
    FundEfficiency,
    /// 医疗质量: length of stay, readmission, mortality.
    Quality,
    /// 医疗服务能力: CMI, groups covered.
    Capacity,
    /// 行为规范性: confirmed violations, admissions per patient.
    Behaviour,
    /// 成本控制: consumption indices, self-pay, drug and consumable shares.
    CostControl,
}

impl IndicatorGroup {
    pub const ALL: [IndicatorGroup; 5] = [
        IndicatorGroup::FundEfficiency,
        IndicatorGroup::Quality,
        IndicatorGroup::Capacity,
        IndicatorGroup::Behaviour,
        IndicatorGroup::CostControl,
    ];

    /// The stable code in scorecards and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorGroup::FundEfficiency => "fund_efficiency",
            IndicatorGroup::Quality => "quality",
            IndicatorGroup::Capacity => "capacity",
            IndicatorGroup::Behaviour => "behaviour",
            IndicatorGroup::CostControl => "cost_control",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// What an item measures of a hospital's year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// A monitoring indicator of the hospital's row (`GetIndicators`' codes).
    Indicator(IndicatorCode),
    /// The number of its confirmed findings on the year's cases (each violation once).
    ConfirmedFindings,
    /// The yuan at stake of those findings (its violation deductions of the year, all funds).
    ConfirmedFindingsAmount,
}

impl Measure {
    /// The stable code: an indicator's own code, `confirmed_findings` or
    /// `confirmed_findings_amount`.
    pub fn code(self) -> &'static str {
        match self {
            Measure::Indicator(code) => code.code(),
            Measure::ConfirmedFindings => "confirmed_findings",
            Measure::ConfirmedFindingsAmount => "confirmed_findings_amount",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confirmed_findings" => Some(Measure::ConfirmedFindings),
            "confirmed_findings_amount" => Some(Measure::ConfirmedFindingsAmount),
            other => IndicatorCode::ALL
                .iter()
                .find(|code| code.code() == other)
                .map(|code| Measure::Indicator(*code)),
        }
    }
}

/// How a measured value becomes points out of the item's weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoringRule {
    /// The full weight at `target` or better, nothing at `zero_at` or worse, linear between.
    /// Which side is better follows from the bounds: `target < zero_at` means lower is better
    /// (a readmission rate), `target > zero_at` higher is better (a CMI).
    Linear { target: Decimal, zero_at: Decimal },
    /// The weight less `per_unit` for each unit measured, never below nothing (e.g. 2 points
    /// per confirmed finding).
    Deduct { per_unit: Decimal },
}

impl ScoringRule {
    pub fn kind(&self) -> &'static str {
        match self {
            ScoringRule::Linear { .. } => "linear",
            ScoringRule::Deduct { .. } => "deduct",
        }
    }

    /// The points `value` earns out of `weight`, between 0 and the weight, unrounded.
    fn points(&self, value: Decimal, weight: Decimal) -> Decimal {
        match *self {
            ScoringRule::Linear { target, zero_at } => {
                let span = zero_at - target;
                if span.is_zero() {
                    // A scorecard is refused with equal bounds; a stored one cannot have them.
                    return Decimal::ZERO;
                }
                // How far `value` still is from nothing, as a share of the span: 1 at the
                // target (or better), 0 at `zero_at` (or worse), whichever side is better.
                let remaining = ((zero_at - value) / span).clamp(Decimal::ZERO, Decimal::ONE);
                weight * remaining
            }
            ScoringRule::Deduct { per_unit } => {
                (weight - per_unit * value).clamp(Decimal::ZERO, weight)
            }
        }
    }
}

/// One item of a scorecard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScorecardItem {
    /// Unique within the scorecard, e.g. `readmission`.
    pub id: String,
    pub name: String,
    pub group: IndicatorGroup,
    pub measure: Measure,
    /// Points the item is worth; the items' weights add up to 100.
    pub weight: Decimal,
    pub rule: ScoringRule,
}

/// A region's scorecard for a year, checked: unique ids, positive weights adding up to 100.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scorecard {
    pub items: Vec<ScorecardItem>,
}

/// What a hospital's year gives the scorecard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HospitalFacts {
    pub hospital_code: String,
    /// The hospital's monitoring indicators of the year (absent: no data).
    pub indicators: BTreeMap<IndicatorCode, Decimal>,
    /// Its confirmed findings on the year's cases, each violation once.
    pub confirmed_findings: u32,
    /// Their amount at stake.
    pub confirmed_amount: Money,
}

impl HospitalFacts {
    fn value(&self, measure: Measure) -> Option<Decimal> {
        match measure {
            Measure::Indicator(code) => self.indicators.get(&code).copied(),
            Measure::ConfirmedFindings => Some(Decimal::from(self.confirmed_findings)),
            Measure::ConfirmedFindingsAmount => Some(self.confirmed_amount.value()),
        }
    }
}

/// One item's result for a hospital.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemScore {
    pub item_id: String,
    pub group: IndicatorGroup,
    pub measure: Measure,
    /// What was measured; `None` when the hospital's year cannot give it.
    pub value: Option<Decimal>,
    pub weight: Decimal,
    /// Points earned, 0 – weight, rounded by [`round_score`].
    pub score: Decimal,
}

/// A hospital's assessment: its score and the breakdown behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HospitalAssessment {
    pub hospital_code: String,
    /// 0–100, the sum of `items`' scores.
    pub score: Decimal,
    /// Each group's points and the weight it carries, in [`IndicatorGroup::ALL`] order (groups
    /// without an item left out).
    pub groups: Vec<GroupScore>,
    /// In scorecard order.
    pub items: Vec<ItemScore>,
}

/// A group's points out of its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupScore {
    pub group: IndicatorGroup,
    pub score: Decimal,
    pub weight: Decimal,
}

/// Rounds points of an assessment to 2 places, half away from zero: the one place scores are
/// rounded.
pub fn round_score(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Always written with 2 places, whatever the scale of the inputs.
    rounded.rescale(2);
    rounded
}

impl Scorecard {
    /// The hospital's score by every item.
    pub fn assess(&self, facts: &HospitalFacts) -> HospitalAssessment {
        let items: Vec<ItemScore> = self
            .items
            .iter()
            .map(|item| {
                let value = facts.value(item.measure);
                let score = match value {
                    Some(value) => round_score(item.rule.points(value, item.weight)),
                    None => round_score(item.weight),
                };
                ItemScore {
                    item_id: item.id.clone(),
                    group: item.group,
                    measure: item.measure,
                    value,
                    weight: item.weight,
                    score,
                }
            })
            .collect();
        let groups = IndicatorGroup::ALL
            .into_iter()
            .filter_map(|group| {
                let of_group = items.iter().filter(|i| i.group == group);
                let weight: Decimal = of_group.clone().map(|i| i.weight).sum();
                let score: Decimal = of_group.clone().map(|i| i.score).sum();
                of_group.clone().next().map(|_| GroupScore {
                    group,
                    score,
                    weight,
                })
            })
            .collect();
        HospitalAssessment {
            hospital_code: facts.hospital_code.clone(),
            score: items.iter().map(|i| i.score).sum(),
            groups,
            items,
        }
    }

    /// Every hospital's assessment, in hospital code order.
    pub fn assess_all<'f>(
        &self,
        facts: impl IntoIterator<Item = &'f HospitalFacts>,
    ) -> Vec<HospitalAssessment> {
        let mut out: Vec<HospitalAssessment> = facts.into_iter().map(|f| self.assess(f)).collect();
        out.sort_by(|a, b| a.hospital_code.cmp(&b.hospital_code));
        out
    }

    /// The measures the items read from the monitoring table.
    pub fn indicators(&self) -> impl Iterator<Item = IndicatorCode> + '_ {
        self.items.iter().filter_map(|item| match item.measure {
            Measure::Indicator(code) => Some(code),
            _ => None,
        })
    }
}
