//! What DOMAIN.md §3–§5 ("Hainan clearing with every mode: precise defaults") make of the year,
//! computed here from the rules with `Decimal` and nothing of the domain crates, so the server's
//! statements are checked against an independent reading of the rules.

use std::collections::BTreeMap;

use kernel::date::DateTime;
use rust_decimal::{Decimal, RoundingStrategy};

use super::data::{
    DAY_SURGERY_PREFIX, DAY_SURGERY_PRICE, GROUPS, GroupPrice, HOSPICE, HOSPITALS, LEVELS,
    PSYCHIATRIC, Phase, REHABILITATION, Stay, d, hospital, level_coefficient,
};

pub fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub fn round4(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

fn at(text: &str) -> DateTime {
    text.parse()
        .unwrap_or_else(|e| panic!("{text} is not a time: {e:?}"))
}

/// Length of stay: discharge date − admission date.
fn los(stay: &Stay) -> u32 {
    let days = at(stay.discharged_at)
        .date()
        .days_since(at(stay.admitted_at).date());
    u32::try_from(days).unwrap_or(0)
}

fn billable(stay: &Stay) -> u32 {
    los(stay).max(1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Programme {
    Psychiatric,
    Rehabilitation,
    Hospice,
}

/// The per-diem programme a stay belongs to by the mode rules' diagnosis and department tests
/// (psychiatric first, hospice before rehabilitation), however it is paid.
fn programme(stay: &Stay) -> Option<Programme> {
    if stay.diagnosis.starts_with("F2") || stay.diagnosis.starts_with("F3") {
        Some(Programme::Psychiatric)
    } else if stay.department == "A24" || stay.diagnosis.starts_with("Z51.5") {
        Some(Programme::Hospice)
    } else if stay.department == "A21" || stay.diagnosis.starts_with("Z50") {
        Some(Programme::Rehabilitation)
    } else {
        None
    }
}

/// Episode days before each stay (by list id): the same person at the same hospital in the same
/// programme, readmitted 0–15 days after the earlier discharge, continues the episode.
fn prior_days(stays: &[Stay]) -> BTreeMap<String, u32> {
    let mut chains: BTreeMap<(String, &str, Programme), Vec<&Stay>> = BTreeMap::new();
    for stay in stays {
        if let Some(programme) = programme(stay) {
            chains
                .entry((stay.person.clone(), stay.hospital, programme))
                .or_default()
                .push(stay);
        }
    }
    let mut prior = BTreeMap::new();
    for chain in chains.values_mut() {
        chain.sort_by_key(|s| (at(s.admitted_at), at(s.discharged_at), s.list_id.clone()));
        let mut previous: Option<(&Stay, u32)> = None;
        for stay in chain.iter() {
            let days = match previous {
                Some((earlier, earlier_prior)) => {
                    let gap = at(stay.admitted_at)
                        .date()
                        .days_since(at(earlier.discharged_at).date());
                    if (0..=15).contains(&gap) {
                        earlier_prior + billable(earlier)
                    } else {
                        0
                    }
                }
                None => 0,
            };
            prior.insert(stay.list_id.clone(), days);
            previous = Some((stay, days));
        }
    }
    prior
}

/// The mode of a stay as the statements and the ledger name it, and its valuation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// DIP or basic-level points.
    Points(Decimal),
    /// A standard (per diem, day surgery): fund part = max(0, standard − burden).
    Standard(Decimal),
    /// The claimed fund amount (excluded stay, paid at cost).
    Claimed,
}

#[derive(Clone, Debug)]
pub struct Valued {
    pub stay: Stay,
    /// The ledger's mode (`ListCases`).
    pub mode: &'static str,
    /// The statement line it is counted on.
    pub line: &'static str,
    pub value: Value,
}

impl Valued {
    pub fn points(&self) -> Decimal {
        match self.value {
            Value::Points(points) => points,
            _ => Decimal::ZERO,
        }
    }

    /// The fund part of a money-mode stay (DOMAIN.md §5 Hainan).
    pub fn money_fund_part(&self) -> Decimal {
        match self.value {
            Value::Points(_) => Decimal::ZERO,
            Value::Standard(standard) => (standard - self.stay.burden()).max(Decimal::ZERO),
            Value::Claimed => self.stay.fund_paid,
        }
    }

    /// The line's amount: the standard, or the claimed fund amount.
    pub fn amount(&self) -> Decimal {
        match self.value {
            Value::Points(_) => Decimal::ZERO,
            Value::Standard(standard) => standard,
            Value::Claimed => self.stay.fund_paid,
        }
    }

    pub fn is_points(&self) -> bool {
        matches!(self.value, Value::Points(_))
    }

    pub fn month(&self) -> u32 {
        at(self.stay.discharged_at).date().ymd().1
    }
}

/// The group the directory puts the stay in: its diagnosis category (5 characters) with its
/// procedure, or conservative treatment.
pub fn group_of(stay: &Stay) -> Option<&'static GroupPrice> {
    GROUPS
        .iter()
        .find(|g| stay.diagnosis.starts_with(g.category) && g.procedure == stay.procedure)
}

fn reference(group: &GroupPrice, level: &str) -> Decimal {
    let index = LEVELS.iter().position(|l| *l == level).unwrap_or(0);
    d(group.references[index])
}

/// round4(score × deviation factor × coefficient); strict bands at 0.5 and 2 × the reference.
fn dip_points(stay: &Stay, group: &GroupPrice, basic: bool) -> Decimal {
    let hospital = hospital(stay.hospital);
    let coefficient = if basic {
        level_coefficient("2A")
    } else {
        level_coefficient(hospital.level) + d(hospital.add_on)
    };
    // A basic-level group: one reference at every level, the table's basic-level one.
    let reference = if basic {
        d(group
            .basic_level_reference
            .unwrap_or_else(|| panic!("basic-level group {} has no reference", group.category)))
    } else {
        reference(group, hospital.level)
    };
    let ratio = stay.total / reference;
    let factor = if stay.total > reference * Decimal::TWO {
        ratio - Decimal::TWO + Decimal::ONE
    } else if stay.total < reference * d("0.5") {
        ratio
    } else {
        Decimal::ONE
    };
    round4(d(group.score) * factor * coefficient)
}

/// Σ rate(phase, level) × days in phase over episode days prior+1 … prior+billable, rounded once;
/// below the standard the standard is paid.
fn per_diem(phases: &[Phase], level: &str, prior: u32, days: u32) -> Decimal {
    let (first, last) = (prior + 1, prior + days);
    let mut start = 1;
    let mut pay = Decimal::ZERO;
    for phase in phases {
        let end = phase.1.unwrap_or(u32::MAX);
        let (from, to) = (first.max(start), last.min(end));
        if from <= to {
            pay += super::data::rate(phase, level) * Decimal::from(to - from + 1);
        }
        start = end.saturating_add(1);
    }
    round2(pay)
}

/// Every stay of one fund with its mode and valuation.
pub fn value_year(stays: &[Stay]) -> Vec<Valued> {
    let prior = prior_days(stays);
    stays
        .iter()
        .map(|stay| {
            let level = hospital(stay.hospital).level;
            let prior = prior.get(&stay.list_id).copied().unwrap_or(0);
            let seconds = at(stay.discharged_at).seconds_since(at(stay.admitted_at));
            let per_diem_valued = |mode, phases: &[Phase]| Valued {
                stay: stay.clone(),
                mode,
                line: mode,
                value: Value::Standard(per_diem(phases, level, prior, billable(stay))),
            };
            let points_or_cost = |basic: bool| {
                let mode = if basic { "basic_level_disease" } else { "dip" };
                match group_of(stay).filter(|g| !d(g.score).is_zero()) {
                    Some(group) => Valued {
                        stay: stay.clone(),
                        mode,
                        line: mode,
                        value: Value::Points(dip_points(stay, group, basic)),
                    },
                    None => Valued {
                        stay: stay.clone(),
                        mode,
                        line: "paid_at_cost",
                        value: Value::Claimed,
                    },
                }
            };
            match programme(stay) {
                Some(Programme::Psychiatric) => {
                    if prior + billable(stay) > 56 {
                        return per_diem_valued("per_diem_psychiatric", &PSYCHIATRIC);
                    }
                    return points_or_cost(false);
                }
                Some(Programme::Hospice) => return per_diem_valued("per_diem_hospice", &HOSPICE),
                Some(Programme::Rehabilitation) => {
                    return per_diem_valued("per_diem_rehabilitation", &REHABILITATION);
                }
                None => {}
            }
            if stay.procedure.starts_with(DAY_SURGERY_PREFIX) && seconds <= 48 * 3600 {
                return Valued {
                    stay: stay.clone(),
                    mode: "day_surgery",
                    line: "day_surgery",
                    value: Value::Standard(d(DAY_SURGERY_PRICE)),
                };
            }
            if group_of(stay).is_some_and(|g| g.basic_level) {
                return points_or_cost(true);
            }
            if los(stay) >= 60 {
                return Valued {
                    stay: stay.clone(),
                    mode: "fee_for_service",
                    line: "fee_for_service",
                    value: Value::Claimed,
                };
            }
            points_or_cost(false)
        })
        .collect()
}

/// The DIP budget point value published from `history` (DOMAIN.md §5 Hainan): round4(Σ total
/// cost / Σ group score × coefficient) over the DIP-paid stays (DIP and basic-level) in groups
/// with a score, the coefficient being the level's plus the add-on, or 2A's for basic-level;
/// every history stay is of one year, so the year weights cancel.
pub fn budget_point_value(history: &[Stay]) -> Decimal {
    let (mut cost, mut scores) = (Decimal::ZERO, Decimal::ZERO);
    for valued in value_year(history) {
        let basic = match valued.mode {
            "dip" => false,
            "basic_level_disease" => true,
            _ => continue,
        };
        let Some(group) = group_of(&valued.stay).filter(|g| !d(g.score).is_zero()) else {
            continue;
        };
        let hospital = hospital(valued.stay.hospital);
        let coefficient = if basic {
            level_coefficient("2A")
        } else {
            level_coefficient(hospital.level) + d(hospital.add_on)
        };
        cost += valued.stay.total;
        scores += d(group.score) * coefficient;
    }
    round4(cost / scores)
}

/// One hospital's year-end figures.
#[derive(Clone, Debug, Default)]
pub struct HospitalYear {
    pub points: Decimal,
    pub points_amount: Decimal,
    pub points_fund_part: Decimal,
    pub money_fund_part: Decimal,
    pub entitlement: Decimal,
    pub actual: Decimal,
    pub tier: &'static str,
    pub payable: Decimal,
    pub prepaid: Decimal,
}

/// The fund's clearing.
#[derive(Clone, Debug, Default)]
pub struct Clearing {
    pub money_total: Decimal,
    pub ratio: Decimal,
    pub points: Decimal,
    pub point_value: Decimal,
    pub residue: Decimal,
    pub hospitals: BTreeMap<&'static str, HospitalYear>,
    /// Each month's prepayment per hospital.
    pub prepaid: BTreeMap<(u32, &'static str), Decimal>,
}

/// Hainan tiers: R ≤ 1 → Std; 1 < R ≤ 1.1 → Std + 50 % of (Act − Std); beyond, Std + 50 % of
/// 0.1 × Std.
fn sharing(standard: Decimal, actual: Decimal) -> (&'static str, Decimal) {
    let ratio = actual / standard;
    if ratio <= Decimal::ONE {
        ("surplus_retained", standard)
    } else if ratio <= d("1.1") {
        (
            "overspend_band_1",
            round2(standard + d("0.5") * (actual - standard)),
        )
    } else {
        (
            "overspend_band_2",
            round2(standard + d("0.5") * d("0.1") * standard),
        )
    }
}

/// DOMAIN.md §5 Hainan: the money modes first, the rest by the ratio settlement point value;
/// prepayments at the published budget point value × 0.90, no deposit.
pub fn clear(valued: &[Valued], budget: Decimal, budget_point_value: Decimal) -> Clearing {
    let money_total: Decimal = valued.iter().map(Valued::money_fund_part).sum();
    let points_paid = valued.iter().filter(|v| v.is_points());
    let (fund, cost) = points_paid.fold((Decimal::ZERO, Decimal::ZERO), |(f, c), v| {
        (f + v.stay.fund_paid, c + v.stay.total)
    });
    let ratio = fund / cost;
    let points: Decimal = valued.iter().map(Valued::points).sum();
    let point_value = round4((budget - money_total) / ratio / points);
    let mut clearing = Clearing {
        money_total,
        ratio,
        points,
        point_value,
        ..Clearing::default()
    };
    for h in &HOSPITALS {
        let mine: Vec<&Valued> = valued
            .iter()
            .filter(|v| v.stay.hospital == h.code)
            .collect();
        let points: Decimal = mine.iter().map(|v| v.points()).sum();
        let points_amount = round2(points * point_value);
        let points_fund_part = round2(points_amount * ratio);
        let money_fund_part: Decimal = mine.iter().map(|v| v.money_fund_part()).sum();
        let entitlement = points_fund_part + money_fund_part;
        let actual: Decimal = mine.iter().map(|v| v.stay.fund_paid).sum();
        let (tier, payable) = sharing(entitlement, actual);
        let mut prepaid = Decimal::ZERO;
        for month in 1..=12 {
            let this: Vec<&&Valued> = mine.iter().filter(|v| v.month() == month).collect();
            if this.is_empty() {
                continue;
            }
            let month_points: Decimal = this.iter().map(|v| v.points()).sum();
            let burden: Decimal = this
                .iter()
                .filter(|v| v.is_points())
                .map(|v| v.stay.burden())
                .sum();
            let money: Decimal = this.iter().map(|v| v.money_fund_part()).sum();
            let fund_value = round2(month_points * budget_point_value) - burden + money;
            let month_prepaid = round2(d("0.90") * fund_value).max(Decimal::ZERO);
            clearing.prepaid.insert((month, h.code), month_prepaid);
            prepaid += month_prepaid;
        }
        clearing.hospitals.insert(
            h.code,
            HospitalYear {
                points,
                points_amount,
                points_fund_part,
                money_fund_part,
                entitlement,
                actual,
                tier,
                payable,
                prepaid,
            },
        );
    }
    let entitled: Decimal = clearing.hospitals.values().map(|h| h.entitlement).sum();
    clearing.residue = budget - entitled;
    clearing
}
