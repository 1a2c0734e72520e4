//! Valuation of one case: its payment mode, then its points (DRG, DIP, basic-level) or money
//! (per diem, day surgery, fixed rate, fee-for-service), with the breakdown that produced them.
//!
//! Each formula rounds once, at its end: points through `kernel::round_points`, money through
//! `kernel::round_money`. Ratios such as cost / mean are never rounded.

use std::collections::HashMap;

use kernel::{Decimal, Money, Points};
use serde::{Deserialize, Serialize};

use crate::case::{CaseForValuation, GroupStatus, SchemeKind, SpecialCaseDecision};
use crate::error::ValuationError;
use crate::mode::{ModeDecision, PaymentMode, episode_programme, select_payment_mode};
use crate::policy::{BelowStandard, ValuationPolicy};
use crate::tables::{PerDiemProgramme, ValuationTables, longest_prefix};

/// What kind of case the formula treated it as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    /// Normal case (DRG base × coefficient; DIP within both bands).
    Normal,
    /// 高倍率 / 费用超高.
    HighCost,
    /// 低倍率 / 费用超低.
    LowCost,
    /// Incomplete stay (death, transfer, discharge against advice), DRG.
    IncompleteStay,
    /// 非稳定病组 (or a DRG absent from the table): valued on cost.
    Unstable,
    /// 无法入组.
    Ungroupable,
    /// Per diem (a per-diem DRG or a per-diem stay).
    PerDiem,
    /// Fee-for-service.
    FeeForService,
    /// 单病种 fixed rate.
    FixedRate,
    /// Day surgery fixed price.
    DaySurgery,
    /// Basic-level disease within the normal band.
    BasicLevel,
    /// DIP group with score 0: paid at cost.
    PaidAtCost,
}

impl CaseType {
    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseType::Normal => "normal",
            CaseType::HighCost => "high_cost",
            CaseType::LowCost => "low_cost",
            CaseType::IncompleteStay => "incomplete_stay",
            CaseType::Unstable => "unstable",
            CaseType::Ungroupable => "ungroupable",
            CaseType::PerDiem => "per_diem",
            CaseType::FeeForService => "fee_for_service",
            CaseType::FixedRate => "fixed_rate",
            CaseType::DaySurgery => "day_surgery",
            CaseType::BasicLevel => "basic_level",
            CaseType::PaidAtCost => "paid_at_cost",
        }
    }
}

/// DIP deviation band of a case (费用偏差).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBand {
    /// Within both bands.
    Normal,
    /// Below the low band.
    Low,
    /// Above the high band.
    High,
    /// Above the extreme band: valued as high, sent to expert review.
    Extreme,
}

/// Days and pay of one per-diem phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseDays {
    /// Phase name.
    pub phase: String,
    /// Billable days of the stay in this phase.
    pub days: u32,
    /// Daily standard applied.
    pub daily_rate: Money,
}

/// The value of one case and how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Valuation {
    /// Payment mode and the rule that chose it.
    pub decision: ModeDecision,
    /// How the formula treated the case.
    pub case_type: CaseType,
    /// Base points, DIP score or per-day base points the formula started from (zero for money
    /// modes).
    pub base: Decimal,
    /// Hospital coefficient applied (1 where none applies).
    pub coefficient: Decimal,
    /// DIP auxiliary coefficient applied (1 where none applies).
    pub aux_coefficient: Decimal,
    /// Cost / mean (DRG) or cost / reference (DIP), unrounded.
    pub cost_ratio: Option<Decimal>,
    /// High-cost add-on points (DRG), before rounding.
    pub add_on: Decimal,
    /// Extra points granted by special-case review.
    pub special_case_points: Decimal,
    /// Final points, rounded once to 0.0001 (zero for money modes).
    pub points: Points,
    /// Money, where the mode pays money.
    pub amount: Option<Money>,
    /// Days per phase of a per-diem stay.
    pub per_diem_days: Vec<PhaseDays>,
    /// DIP case above the extreme band: points are provisional until expert review.
    pub requires_expert_review: bool,
    /// The insured person's burden, carried for point-value and clearing sums.
    pub individual_burden: Money,
    /// The per-diem programme the stay belongs to by the mode rules' tests, whatever it is paid
    /// by ([`crate::mode::episode_programme`]): its days accumulate across readmissions.
    #[serde(default)]
    pub episode_programme: Option<PerDiemProgramme>,
}

impl Valuation {
    fn money(decision: ModeDecision, case_type: CaseType, amount: Money, burden: Money) -> Self {
        Self {
            decision,
            case_type,
            base: Decimal::ZERO,
            coefficient: Decimal::ONE,
            aux_coefficient: Decimal::ONE,
            cost_ratio: None,
            add_on: Decimal::ZERO,
            special_case_points: Decimal::ZERO,
            points: Points::ZERO,
            amount: Some(amount),
            per_diem_days: Vec::new(),
            requires_expert_review: false,
            individual_burden: burden,
            episode_programme: None,
        }
    }
}

/// Unrounded points of a formula and its breakdown.
struct Formula {
    case_type: CaseType,
    base: Decimal,
    coefficient: Decimal,
    aux_coefficient: Decimal,
    cost_ratio: Option<Decimal>,
    add_on: Decimal,
    raw_points: Decimal,
    requires_expert_review: bool,
}

impl Formula {
    fn on_cost(case_type: CaseType, cost_ratio: Decimal, raw_points: Decimal) -> Self {
        Self {
            case_type,
            base: Decimal::ZERO,
            coefficient: Decimal::ONE,
            aux_coefficient: Decimal::ONE,
            cost_ratio: Some(cost_ratio),
            add_on: Decimal::ZERO,
            raw_points,
            requires_expert_review: false,
        }
    }
}

/// Values one case: payment mode first, then points or money (DOMAIN.md §3), with the per-diem
/// programme the stay belongs to.
pub fn valuate(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
) -> Result<Valuation, ValuationError> {
    let mut valuation = valuate_mode(policy, tables, case)?;
    valuation.episode_programme = episode_programme(policy, case);
    Ok(valuation)
}

fn valuate_mode(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
) -> Result<Valuation, ValuationError> {
    case.check()?;
    if !tables.matches(policy) {
        return Err(ValuationError::TablesDoNotMatchPolicy {
            tables: format!("{} {} {}", tables.region, tables.year, tables.fund_type),
            policy: format!("{} {} {}", policy.region, policy.year, policy.fund_type),
        });
    }
    if case.fund_type != policy.fund_type {
        return Err(ValuationError::FundTypeMismatch {
            case: case.fund_type.to_string(),
            policy: policy.fund_type.to_string(),
        });
    }
    let decision = select_payment_mode(policy, case);
    let cost = case.valuation_cost(policy.cost_basis)?;
    let burden = case.individual_burden;
    match decision.mode {
        // Fee-for-service: the claim is the case's total cost, item by item.
        PaymentMode::FeeForService => Ok(Valuation::money(
            decision,
            CaseType::FeeForService,
            case.total_cost,
            burden,
        )),
        PaymentMode::PerDiem(programme) => {
            per_diem(policy, tables, case, programme, cost).map(|(amount, days)| Valuation {
                per_diem_days: days,
                ..Valuation::money(decision, CaseType::PerDiem, amount, burden)
            })
        }
        PaymentMode::DaySurgery => {
            let code = case.principal_procedure.as_deref().unwrap_or_default();
            let (_, price) = longest_prefix(&tables.day_surgery.prices, code).ok_or_else(|| {
                ValuationError::NoDaySurgeryPrice {
                    code: code.to_owned(),
                }
            })?;
            Ok(Valuation::money(
                decision,
                CaseType::DaySurgery,
                *price,
                burden,
            ))
        }
        PaymentMode::FixedRate => {
            let no_rate = || ValuationError::NoFixedRate {
                code: case.principal_diagnosis.clone(),
                level: case.hospital_level,
            };
            let (_, prices) =
                longest_prefix(&tables.fixed_rates.diseases, &case.principal_diagnosis)
                    .ok_or_else(no_rate)?;
            let price = prices.get(&case.hospital_level).ok_or_else(no_rate)?;
            Ok(Valuation::money(
                decision,
                CaseType::FixedRate,
                *price,
                burden,
            ))
        }
        PaymentMode::BasicLevel | PaymentMode::Drg | PaymentMode::Dip => {
            if case.grouping.scheme != policy.main_method {
                return Err(ValuationError::SchemeMismatch {
                    case: case.grouping.scheme.as_str(),
                    policy: policy.main_method.as_str(),
                });
            }
            let basic_coefficient = if decision.mode == PaymentMode::BasicLevel {
                Some(basic_level_coefficient(policy, tables, case)?)
            } else {
                None
            };
            let formula = match policy.main_method {
                SchemeKind::Drg => drg_formula(policy, tables, case, cost, basic_coefficient)?,
                SchemeKind::Dip => {
                    match dip_formula(policy, tables, case, cost, basic_coefficient)? {
                        Some(formula) => formula,
                        // DOMAIN.md §3 DIP: groups with score 0 (and DIP cases without a group) are
                        // paid at cost.
                        None => {
                            return Ok(Valuation::money(
                                decision,
                                if case.grouping.status == GroupStatus::Ungroupable {
                                    CaseType::Ungroupable
                                } else {
                                    CaseType::PaidAtCost
                                },
                                cost,
                                burden,
                            ));
                        }
                    }
                }
            };
            let special_case_points = match case.special_case {
                // DOMAIN.md §3 DRG points: approved special cases get the review's extra points.
                Some(SpecialCaseDecision::ExtraPoints(extra)) => extra.value(),
                _ => Decimal::ZERO,
            };
            let case_type = if basic_coefficient.is_some() && formula.case_type == CaseType::Normal
            {
                CaseType::BasicLevel
            } else {
                formula.case_type
            };
            Ok(Valuation {
                decision,
                case_type,
                base: formula.base,
                coefficient: formula.coefficient,
                aux_coefficient: formula.aux_coefficient,
                cost_ratio: formula.cost_ratio,
                add_on: formula.add_on,
                special_case_points,
                // The one rounding of the case's points.
                points: Points::round(formula.raw_points + special_case_points),
                amount: None,
                per_diem_days: Vec::new(),
                requires_expert_review: formula.requires_expert_review,
                individual_burden: burden,
                episode_programme: None,
            })
        }
    }
}

fn ratio(
    cost: Money,
    mean: Money,
    what: impl FnOnce() -> String,
) -> Result<Decimal, ValuationError> {
    if mean.value().is_zero() {
        return Err(ValuationError::ZeroMean { what: what() });
    }
    Ok(cost.value() / mean.value())
}

/// The one coefficient of basic-level groups (DOMAIN.md §3: one price at every level, Hainan's
/// level-2 coefficient): the table's coefficient of the policy's level, without add-ons — DIP's
/// level coefficient, or DRG's level row for the group (else the policy's default).
fn basic_level_coefficient(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
) -> Result<Decimal, ValuationError> {
    let rule = &policy.modes.basic_level;
    let level = rule.coefficient_level;
    let table = match policy.main_method {
        SchemeKind::Dip => *tables
            .coefficients
            .dip_levels
            .get(&level)
            .ok_or(ValuationError::NoLevelCoefficient { level })?,
        SchemeKind::Drg => tables
            .coefficients
            .drg_by_level
            .get(&level)
            .and_then(|set| set.lookup(&case.grouping.group_code, case.discharge_date))
            .unwrap_or(policy.drg.default_coefficient),
    };
    match rule.coefficient {
        Some(stated) if stated != table => Err(ValuationError::BasicLevelCoefficientDiffers {
            stated,
            table,
            level,
        }),
        _ => Ok(table),
    }
}

fn billable_days(policy: &ValuationPolicy, case: &CaseForValuation) -> u32 {
    let los = u32::try_from(case.length_of_stay()).unwrap_or(0);
    los.max(policy.per_diem.minimum_billable_days)
}

/// DOMAIN.md §3 DRG points, case types tested in the order high, low, incomplete, normal.
fn drg_formula(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
    cost: Money,
    basic_coefficient: Option<Decimal>,
) -> Result<Formula, ValuationError> {
    let rules = &policy.drg;
    let all_mean = tables.drg.all_case_mean_cost;
    let on_cost = |case_type, factor: Decimal| -> Result<Formula, ValuationError> {
        // DOMAIN.md §3 DRG points: unstable or ungroupable = cost / all-DRG mean × 100 (× 0.9).
        let cost_ratio = ratio(cost, all_mean, || "drg.all_case_mean_cost".into())?;
        Ok(Formula::on_cost(
            case_type,
            cost_ratio,
            cost_ratio * rules.base_points_scale * factor,
        ))
    };
    if case.grouping.status == GroupStatus::Ungroupable {
        return on_cost(CaseType::Ungroupable, rules.ungroupable_factor);
    }
    // A DRG absent from the table is treated as unstable (DOMAIN.md §3 precise defaults).
    let Some(row) = tables
        .drg
        .groups
        .get(&case.grouping.group_code)
        .filter(|row| row.stable)
    else {
        return on_cost(CaseType::Unstable, Decimal::ONE);
    };
    let base = row.base_points.value();
    if let Some(per_day) = row.per_diem_points {
        // DOMAIN.md §3 DRG points: per-diem DRG = per-day base points × days.
        let days = Decimal::from(billable_days(policy, case));
        return Ok(Formula {
            case_type: CaseType::PerDiem,
            base: per_day.value(),
            coefficient: Decimal::ONE,
            aux_coefficient: Decimal::ONE,
            cost_ratio: None,
            add_on: Decimal::ZERO,
            raw_points: per_day.value() * days,
            requires_expert_review: false,
        });
    }
    let coefficient = basic_coefficient.unwrap_or_else(|| {
        tables
            .coefficients
            .drg(
                &case.hospital_code,
                case.hospital_level,
                &case.grouping.group_code,
                case.discharge_date,
            )
            .unwrap_or(rules.default_coefficient)
    });
    let mean = row.mean_cost;
    let cost_ratio = ratio(cost, mean, || {
        format!("mean cost of DRG {}", case.grouping.group_code)
    })?;
    let m_high = rules.high_cost_multiple(base);
    // Thresholds compare cost with mean × multiple, which is exact; the ratio is used unrounded.
    let high_threshold = mean.value() * m_high;
    let is_high = if rules.high_cost_inclusive {
        cost.value() >= high_threshold
    } else {
        cost.value() > high_threshold
    };
    let low_threshold = mean.value() * rules.low_cost_multiple;
    let is_low = if rules.low_cost_inclusive {
        cost.value() <= low_threshold
    } else {
        cost.value() < low_threshold
    };
    let formula = |case_type, coefficient, add_on, raw_points| Formula {
        case_type,
        base,
        coefficient,
        aux_coefficient: Decimal::ONE,
        cost_ratio: Some(cost_ratio),
        add_on,
        raw_points,
        requires_expert_review: false,
    };
    Ok(if is_high {
        // DOMAIN.md §3 DRG points: high-cost = base × coefficient + base × (cost/mean − m_high).
        let add_on = base * (cost_ratio - m_high);
        formula(
            CaseType::HighCost,
            coefficient,
            add_on,
            base * coefficient + add_on,
        )
    } else if is_low {
        // DOMAIN.md §3 DRG points: low-cost = base × cost/mean, capped at base; no coefficient.
        formula(
            CaseType::LowCost,
            Decimal::ONE,
            Decimal::ZERO,
            (base * cost_ratio).min(base),
        )
    } else if rules
        .incomplete_discharge_types
        .contains(&case.discharge_type)
    {
        // DOMAIN.md §3 DRG points: incomplete stay = base × coefficient × cost/mean, capped at
        // base × coefficient.
        let full = base * coefficient;
        formula(
            CaseType::IncompleteStay,
            coefficient,
            Decimal::ZERO,
            (full * cost_ratio).min(full),
        )
    } else {
        formula(
            CaseType::Normal,
            coefficient,
            Decimal::ZERO,
            base * coefficient,
        )
    })
}

/// DOMAIN.md §3 DIP scores: score × deviation factor × hospital coefficient × auxiliary
/// coefficient, the deviation measured against the same-level reference (a basic-level case:
/// the group's basic-level reference). `None` when the case is paid at cost (score 0, or no
/// group).
fn dip_formula(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
    cost: Money,
    basic_coefficient: Option<Decimal>,
) -> Result<Option<Formula>, ValuationError> {
    let rules = &policy.dip;
    let group = &case.grouping.group_code;
    let row = tables.dip.groups.get(group);
    let score = match (row, case.grouping.dip_score) {
        (Some(row), _) => row.score,
        (None, Some(score)) => score,
        (None, None) if case.grouping.status == GroupStatus::Ungroupable => return Ok(None),
        (None, None) => {
            return Err(ValuationError::MissingDipScore {
                group: group.clone(),
            });
        }
    };
    if score.value().is_zero() {
        return Ok(None);
    }
    // DOMAIN.md §5 Hainan: a basic-level group has one reference at every level (the 二级 mean),
    // as it has one coefficient; any other group is compared with its own level's mean.
    let reference = if basic_coefficient.is_some() {
        row.and_then(|row| row.basic_level_reference.as_ref())
            .ok_or_else(|| ValuationError::NoBasicLevelReference {
                group: group.clone(),
            })?
    } else {
        row.and_then(|row| row.reference_costs.get(&case.hospital_level))
            .ok_or_else(|| ValuationError::NoReferenceCost {
                group: group.clone(),
                level: case.hospital_level,
            })?
    };
    let coefficient = match basic_coefficient {
        Some(coefficient) => coefficient,
        None => tables
            .coefficients
            .dip(&case.hospital_code, case.hospital_level)
            .ok_or(ValuationError::NoLevelCoefficient {
                level: case.hospital_level,
            })?,
    };
    let aux_coefficient = case.grouping.dip_aux_coefficient.unwrap_or(Decimal::ONE);
    let cost_ratio = ratio(cost, *reference, || {
        format!("reference cost of DIP group {group}")
    })?;
    let beyond = |band: Decimal, strict: bool| {
        let threshold = reference.value() * band;
        if strict {
            cost.value() > threshold
        } else {
            cost.value() >= threshold
        }
    };
    let below = |band: Decimal, strict: bool| {
        let threshold = reference.value() * band;
        if strict {
            cost.value() < threshold
        } else {
            cost.value() <= threshold
        }
    };
    let band = if beyond(rules.extreme_band, rules.extreme_strict) {
        CostBand::Extreme
    } else if beyond(rules.high_band, rules.high_strict) {
        CostBand::High
    } else if below(rules.low_band, rules.low_strict) {
        CostBand::Low
    } else {
        CostBand::Normal
    };
    let (case_type, factor) = match band {
        // DOMAIN.md §3 DIP: high = score × (cost/ref − 2 + 1); extreme valued alike, then reviewed.
        CostBand::High | CostBand::Extreme => (
            CaseType::HighCost,
            cost_ratio - rules.high_band + Decimal::ONE,
        ),
        // DOMAIN.md §3 DIP: low = score × cost/ref.
        CostBand::Low => (CaseType::LowCost, cost_ratio),
        CostBand::Normal => (CaseType::Normal, Decimal::ONE),
    };
    Ok(Some(Formula {
        case_type,
        base: score.value(),
        coefficient,
        aux_coefficient,
        cost_ratio: Some(cost_ratio),
        add_on: Decimal::ZERO,
        raw_points: score.value() * factor * coefficient * aux_coefficient,
        requires_expert_review: band == CostBand::Extreme,
    }))
}

/// DOMAIN.md §3 per-diem: Σ standard(phase, level) × days in phase, billable days = max(LOS, 1),
/// continuing from the days already used in the episode.
fn per_diem(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    case: &CaseForValuation,
    programme: PerDiemProgramme,
    cost: Money,
) -> Result<(Money, Vec<PhaseDays>), ValuationError> {
    let no_standard = |phase: &str| ValuationError::NoPerDiemStandard {
        programme: programme.as_str(),
        phase: phase.to_owned(),
        level: case.hospital_level,
    };
    let phases = tables
        .per_diem
        .programmes
        .get(&programme)
        .filter(|phases| !phases.is_empty())
        .ok_or_else(|| no_standard(""))?;
    let first_day = case.prior_episode_days + 1;
    let last_day = case.prior_episode_days + billable_days(policy, case);
    let mut standard = Decimal::ZERO;
    let mut days_by_phase = Vec::new();
    let mut phase_start = 1_u32;
    for phase in phases {
        let phase_end = phase.last_day.unwrap_or(u32::MAX);
        let from = first_day.max(phase_start);
        let to = last_day.min(phase_end);
        if from <= to {
            let days = to - from + 1;
            let rate = *phase
                .daily_rates
                .get(&case.hospital_level)
                .ok_or_else(|| no_standard(&phase.name))?;
            standard += rate.value() * Decimal::from(days);
            days_by_phase.push(PhaseDays {
                phase: phase.name.clone(),
                days,
                daily_rate: rate,
            });
        }
        if phase_end == u32::MAX {
            break;
        }
        phase_start = phase_end + 1;
    }
    let pay = match policy.per_diem.below_standard {
        BelowStandard::PayStandard => standard,
        BelowStandard::PayActualCost => standard.min(cost.value()),
    };
    // The one rounding of the per-diem pay.
    Ok((Money::round(pay), days_by_phase))
}

/// One record of a batch that could not be valued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index} (hospital {hospital_code}, list {list_id}): {error}")]
pub struct RecordError {
    /// Position in the batch.
    pub index: usize,
    /// Hospital of the record.
    pub hospital_code: String,
    /// List id of the record.
    pub list_id: String,
    /// Why it failed.
    #[source]
    pub error: ValuationError,
}

impl RecordError {
    /// Stable machine-readable reason of the underlying error.
    pub fn reason(&self) -> &'static str {
        self.error.reason()
    }
}

/// Results of a batch, one per record in order.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchValuation {
    /// One result per input record, in order.
    pub results: Vec<Result<Valuation, RecordError>>,
}

impl BatchValuation {
    /// Every record that failed.
    pub fn errors(&self) -> impl Iterator<Item = &RecordError> {
        self.results
            .iter()
            .filter_map(|result| result.as_ref().err())
    }

    /// Every valued record with its position.
    pub fn valued(&self) -> impl Iterator<Item = (usize, &Valuation)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(index, result)| result.as_ref().ok().map(|v| (index, v)))
    }
}

/// Values every case; reports every bad record (including a (hospital, list id) listed twice),
/// not just the first.
pub fn valuate_all(
    policy: &ValuationPolicy,
    tables: &ValuationTables,
    cases: &[CaseForValuation],
) -> BatchValuation {
    let mut first_seen: HashMap<(&str, &str), usize> = HashMap::with_capacity(cases.len());
    let results = cases
        .iter()
        .enumerate()
        .map(|(index, case)| {
            let key = (case.hospital_code.as_str(), case.list_id.as_str());
            let outcome = match first_seen.get(&key) {
                Some(&first_index) => Err(ValuationError::DuplicateCase { first_index }),
                None => {
                    first_seen.insert(key, index);
                    valuate(policy, tables, case)
                }
            };
            outcome.map_err(|error| RecordError {
                index,
                hospital_code: case.hospital_code.clone(),
                list_id: case.list_id.clone(),
                error,
            })
        })
        .collect();
    BatchValuation { results }
}
