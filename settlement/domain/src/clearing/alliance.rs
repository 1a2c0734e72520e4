//! Medical alliances (紧密型医联体) as one unit in the year-end sharing (DOMAIN.md §4: "budgeted
//! as one unit with internal transfers").
//!
//! Applied by [`super::PreparedClearing::settle`], which the settlement service's clearing run
//! (`settlement/service/src/runs/clearing.rs`) calls; the membership is the registry's as of the
//! last day of the clearing year ([`alliances_as_of`], read by the same run).
//!
//! The rule: the members' Std and Act are summed, the sharing tiers are asked once for the unit
//! (R = ΣAct / ΣStd), and the unit's payable is distributed to the members by each member's share
//! of the unit's Std ([`AllianceDistribution::StandardShare`]), so every member keeps the same
//! payable-to-Std ratio and internal transfers stay the alliance's own. The distribution is
//! rounded once, in [`distribute`]: each member's exact share is floored to the fen and the
//! residual fen go one each to the largest remainders (ties to the lower hospital code), so the
//! members sum to the unit exactly. A hospital outside any alliance, and every hospital under
//! [`AllianceDistribution::Separate`], is shared alone as before.

use std::collections::BTreeMap;

use kernel::{Decimal, Money};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::institution::InstitutionRecord;
use kernel::date::Date;

/// How an alliance's year-end payable reaches its members (policy key
/// `clearing.alliance_distribution`, per region, year and fund).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllianceDistribution {
    /// The alliance is shared as one unit; each member gets the unit's payable × its Std / the
    /// unit's Std.
    #[default]
    StandardShare,
    /// Alliances are ignored in the sharing: each member hospital is shared alone.
    Separate,
}

/// A member's view of its alliance's sharing, on its statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllianceShare {
    pub alliance_code: String,
    /// Σ members' Std.
    pub unit_standard: Money,
    /// Σ members' Act.
    pub unit_actual: Money,
    /// R = unit Act / unit Std, to 4 places; none when the unit's Std is not positive.
    pub unit_ratio: Option<Decimal>,
    /// The tier the sharing rule applied to the unit.
    pub unit_tier: String,
    /// What the sharing rule pays the unit.
    pub unit_payable: Money,
    /// This member's Std / the unit's Std, to 6 places (for reading; the distribution uses the
    /// exact fraction).
    pub share: Decimal,
    pub distribution: AllianceDistribution,
}

/// One member in an alliance summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllianceMember {
    pub hospital_code: String,
    pub standard: Money,
    pub actual: Money,
    /// Std / unit Std, to 6 places.
    pub share: Decimal,
    /// The member's part of the unit's payable.
    pub payable: Money,
}

/// An alliance's sharing as a unit: its totals and the distribution to its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllianceSummary {
    pub alliance_code: String,
    pub standard: Money,
    pub actual: Money,
    pub ratio: Option<Decimal>,
    pub tier: String,
    pub payable: Money,
    /// payable − Std.
    pub adjustment: Money,
    pub distribution: AllianceDistribution,
    /// In hospital-code order; their payables sum to the unit's.
    pub members: Vec<AllianceMember>,
}

/// R = Act / Std to 4 places, half away from zero; none without a positive Std.
pub fn sharing_ratio(actual: Money, standard: Money) -> Option<Decimal> {
    if standard.value() <= Decimal::ZERO {
        return None;
    }
    actual
        .value()
        .checked_div(standard.value())
        .map(|r| r.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// A member's share of the unit's Std for reading, to 6 places.
pub fn standard_share(standard: Money, unit_standard: Money) -> Decimal {
    if unit_standard.value().is_zero() {
        return Decimal::ZERO;
    }
    standard
        .value()
        .checked_div(unit_standard.value())
        .map(|s| s.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
        .unwrap_or_default()
}

/// Splits `total` over `weights` (code, weight) in proportion, to the fen: the one place an
/// alliance distribution is rounded. Each exact part is floored to the fen; the fen left over
/// (fewer than the members) go one each to the largest remainders, ties to the code first in
/// order. The parts sum to `total` exactly. The weights must not sum to zero.
pub fn distribute(
    total: Money,
    weights: &[(&str, Decimal)],
) -> Result<Vec<Money>, SettlementError> {
    let sum: Decimal = weights.iter().map(|(_, w)| *w).sum();
    let out_of_range = |value: Decimal| SettlementError::ParameterOutOfRange {
        record: "alliance".into(),
        field: "sharing_payable",
        value: value.to_string(),
        allowed: "a distribution whose parts fit 28 significant digits over a non-zero weight",
    };
    if sum.is_zero() {
        return Err(out_of_range(total.value()));
    }
    let total_fen = total.value() * Decimal::ONE_HUNDRED;
    let mut floors = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, (code, weight)) in weights.iter().enumerate() {
        let exact = total_fen
            .checked_mul(*weight)
            .and_then(|p| p.checked_div(sum))
            .ok_or_else(|| out_of_range(total.value()))?;
        let floor = exact.floor();
        floors.push(floor);
        remainders.push((exact - floor, *code, index));
    }
    let left: Decimal = total_fen - floors.iter().copied().sum::<Decimal>();
    // Largest remainder first; equal remainders in code order, so the same members always get
    // the same fen.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let extra = left.to_usize().unwrap_or_default().min(weights.len());
    for (_, _, index) in remainders.iter().take(extra) {
        floors[*index] += Decimal::ONE;
    }
    Ok(floors
        .into_iter()
        .map(|fen| Money::round(fen / Decimal::ONE_HUNDRED))
        .collect())
}

/// Each hospital's alliance on the last day of `year` by the registry, for the hospitals given
/// (a hospital unregistered then, or in no alliance, is absent).
pub fn alliances_as_of<'a>(
    records: impl IntoIterator<Item = &'a InstitutionRecord>,
    year: i32,
) -> BTreeMap<String, String> {
    match Date::from_yyyymmdd(year * 10_000 + 1231) {
        Ok(year_end) => alliances_on(records, year_end),
        Err(_) => BTreeMap::new(),
    }
}

/// Each hospital's alliance on `day` by the registry (a hospital unregistered then, or in no
/// alliance, is absent).
pub fn alliances_on<'a>(
    records: impl IntoIterator<Item = &'a InstitutionRecord>,
    day: Date,
) -> BTreeMap<String, String> {
    records
        .into_iter()
        .filter_map(|record| {
            let alliance = record.as_of(day)?.medical_alliance.clone()?;
            let alliance = alliance.trim().to_owned();
            (!alliance.is_empty()).then(|| (record.code().to_owned(), alliance))
        })
        .collect()
}

/// An alliance code must not be the code of a hospital of the clearing outside the alliance:
/// the sharing rule answers by code, and the two would be one answer.
pub(super) fn check_codes(
    hospitals: impl Iterator<Item = (String, Option<String>)>,
) -> Vec<SettlementError> {
    let hospitals: BTreeMap<String, Option<String>> = hospitals.collect();
    hospitals
        .iter()
        .filter_map(|(code, alliance)| {
            let alliance = alliance.as_ref()?;
            match hospitals.get(alliance) {
                Some(Some(own)) if own == alliance => None,
                Some(_) => Some(SettlementError::ParameterOutOfRange {
                    record: code.clone(),
                    field: "medical_alliance",
                    value: alliance.clone(),
                    allowed: "an alliance code that is not the code of a hospital outside it",
                }),
                None => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn residual_fen_go_to_the_largest_remainders_then_by_code() {
        let parts = distribute(
            Money::from_fen(10_000),
            &[("B", dec!(1)), ("A", dec!(1)), ("C", dec!(1))],
        )
        .expect("split");
        // 33.333… each: one fen left, equal remainders, so the first code in order (A) has it.
        assert_eq!(
            parts,
            [
                Money::from_fen(3333),
                Money::from_fen(3334),
                Money::from_fen(3333)
            ]
        );
        let parts =
            distribute(Money::from_fen(101), &[("A", dec!(1)), ("B", dec!(3))]).expect("split");
        // 25.25 and 75.75 fen: A 25, B 75, the one fen left goes to B's larger remainder.
        assert_eq!(parts, [Money::from_fen(25), Money::from_fen(76)]);
    }

    #[test]
    fn a_negative_standard_takes_a_negative_part_and_the_sum_holds() {
        let parts = distribute(
            Money::from_fen(-999),
            &[("A", dec!(500)), ("B", dec!(-100)), ("C", dec!(333))],
        )
        .expect("split");
        assert_eq!(parts.iter().copied().sum::<Money>(), Money::from_fen(-999));
        assert!(parts[1] > Money::ZERO);
        assert!(distribute(Money::from_fen(1), &[("A", dec!(1)), ("B", dec!(-1))]).is_err());
    }

    #[test]
    fn an_alliance_named_like_a_hospital_outside_it_is_refused() {
        let refused = check_codes(
            [
                ("H1".to_owned(), Some("H2".to_owned())),
                ("H2".to_owned(), None),
            ]
            .into_iter(),
        );
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].reason(), "PARAMETER_OUT_OF_RANGE");
        // The lead hospital's code as the alliance's code is fine.
        let fine = check_codes(
            [
                ("H1".to_owned(), Some("H1".to_owned())),
                ("H2".to_owned(), Some("H1".to_owned())),
            ]
            .into_iter(),
        );
        assert!(fine.is_empty());
    }

    #[test]
    fn membership_is_the_registry_s_on_the_last_day_of_the_year() {
        use crate::institution::{Institution, InstitutionLevel, InstitutionType};
        let version = |code: &str, alliance: Option<&str>| Institution {
            code: code.into(),
            name: code.into(),
            pooling_region: "460100".parse().expect("region"),
            level: InstitutionLevel::SecondaryA,
            institution_type: InstitutionType::GeneralHospital,
            medical_alliance: alliance.map(str::to_owned),
        };
        let date = |d: &str| d.parse::<Date>().expect("date");
        let mut joined = InstitutionRecord::new(date("2020-01-01"), version("A", None));
        joined
            .record_change(date("2025-07-01"), version("A", Some("MA-1")))
            .expect("joins");
        let mut left = InstitutionRecord::new(date("2020-01-01"), version("B", Some("MA-1")));
        left.record_change(date("2026-01-01"), version("B", None))
            .expect("leaves");
        let later = InstitutionRecord::new(date("2026-01-01"), version("C", Some("MA-1")));
        let members = alliances_as_of([&joined, &left, &later], 2025);
        assert_eq!(
            members.into_iter().collect::<Vec<_>>(),
            [
                ("A".to_owned(), "MA-1".to_owned()),
                ("B".to_owned(), "MA-1".to_owned())
            ]
        );
        assert!(alliances_as_of([&joined, &left], 2024).contains_key("B"));
        assert!(!alliances_as_of([&joined, &left], 2024).contains_key("A"));
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_total_to_the_fen(
            total in -10_000_000_000i64..10_000_000_000,
            weights in proptest::collection::vec(1i64..1_000_000_000, 1..8),
        ) {
            let codes: Vec<String> = (0..weights.len()).map(|i| format!("H{i}")).collect();
            let weighted: Vec<(&str, Decimal)> = codes
                .iter()
                .zip(&weights)
                .map(|(c, w)| (c.as_str(), Decimal::new(*w, 2)))
                .collect();
            let parts = distribute(Money::from_fen(total), &weighted).expect("split");
            prop_assert_eq!(parts.iter().copied().sum::<Money>(), Money::from_fen(total));
            let sum: Decimal = weighted.iter().map(|(_, w)| *w).sum();
            for (part, (_, w)) in parts.iter().zip(&weighted) {
                // Never more than a fen from the exact share.
                let exact = Decimal::from(total) * *w / sum / Decimal::ONE_HUNDRED;
                prop_assert!((part.value() - exact).abs() < dec!(0.01));
            }
        }
    }
}
