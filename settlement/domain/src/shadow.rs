//! Shadow settlement (试运行, DOMAIN.md §5): DRG/DIP valuation run beside the fee-for-service
//! payment actually made, reported per hospital and per (hospital, group): what the new method
//! would have paid, what was paid, the difference and the ratio.
//!
//! A case's DRG/DIP fund amount = points × point value − individual burden, rounded once;
//! differences are exact; ratios are rounded to 4 places and absent when nothing was paid FFS.

use std::collections::BTreeMap;

use kernel::{Decimal, Money, Points, round_points};
use serde::{Deserialize, Serialize};

use crate::valued_case::ValuedCase;

/// One case of the shadow run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowCase {
    pub hospital_code: String,
    /// DRG or DIP group (`0000` or the scheme's code for ungroupable cases).
    pub group_code: String,
    pub points: Points,
    pub individual_burden: Money,
    /// The fund amount actually paid fee-for-service.
    pub ffs_fund_amount: Money,
}

/// Totals of a hospital or a (hospital, group).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowLine {
    pub hospital_code: String,
    /// `None` on the hospital's total line.
    pub group_code: Option<String>,
    pub cases: u64,
    pub points: Points,
    /// What DRG/DIP would have paid from the fund.
    pub model_amount: Money,
    /// What was paid fee-for-service.
    pub ffs_amount: Money,
    /// model − FFS: positive when the new method pays the hospital more.
    pub difference: Money,
    /// model / FFS at 4 places; `None` when FFS is zero.
    pub ratio: Option<Decimal>,
}

/// The shadow report: hospital lines and group lines, sorted by hospital then group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowReport {
    pub point_value: Decimal,
    pub hospitals: Vec<ShadowLine>,
    pub groups: Vec<ShadowLine>,
    pub total: ShadowLine,
}

/// A shadow settlement of the point-valued cases among `cases` (those paid fee-for-service are
/// left out): per hospital (with per-group lines), and per group across hospitals.
pub fn shadow_reports(cases: &[ValuedCase], point_value: Decimal) -> (ShadowReport, ShadowReport) {
    let by_hospital: Vec<ShadowCase> = cases
        .iter()
        .filter(|case| !case.is_fee_for_service())
        .map(|case| ShadowCase {
            hospital_code: case.hospital_code.clone(),
            group_code: case.group_code.clone(),
            points: case.points,
            individual_burden: case.individual_burden,
            ffs_fund_amount: case.fund_amount,
        })
        .collect();
    let by_group: Vec<ShadowCase> = by_hospital
        .iter()
        .map(|case| ShadowCase {
            hospital_code: case.group_code.clone(),
            ..case.clone()
        })
        .collect();
    (
        shadow_settlement(&by_hospital, point_value),
        shadow_settlement(&by_group, point_value),
    )
}

/// difference / FFS at 4 places; zero when nothing was paid FFS.
pub fn difference_ratio(difference: Money, ffs: Money) -> Decimal {
    if ffs.value().is_zero() {
        Decimal::ZERO
    } else {
        round_points(difference.value() / ffs.value())
    }
}

#[derive(Default)]
struct Acc {
    cases: u64,
    points: Points,
    model: Money,
    ffs: Money,
}

impl Acc {
    fn add(&mut self, points: Points, model: Money, ffs: Money) {
        self.cases += 1;
        self.points += points;
        self.model += model;
        self.ffs += ffs;
    }

    fn line(&self, hospital_code: &str, group_code: Option<&str>) -> ShadowLine {
        let ratio = if self.ffs.value().is_zero() {
            None
        } else {
            Some(round_points(self.model.value() / self.ffs.value()))
        };
        ShadowLine {
            hospital_code: hospital_code.to_owned(),
            group_code: group_code.map(str::to_owned),
            cases: self.cases,
            points: self.points,
            model_amount: self.model,
            ffs_amount: self.ffs,
            difference: self.model - self.ffs,
            ratio,
        }
    }
}

/// Compares DRG/DIP with fee-for-service, case by case, at `point_value`.
pub fn shadow_settlement(cases: &[ShadowCase], point_value: Decimal) -> ShadowReport {
    let mut hospitals: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut groups: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for case in cases {
        // DOMAIN.md §3: fund amount = points × point value − individual burden.
        let model =
            Money::round(case.points.value() * point_value - case.individual_burden.value());
        hospitals
            .entry(case.hospital_code.as_str())
            .or_default()
            .add(case.points, model, case.ffs_fund_amount);
        groups
            .entry((case.hospital_code.as_str(), case.group_code.as_str()))
            .or_default()
            .add(case.points, model, case.ffs_fund_amount);
        total.add(case.points, model, case.ffs_fund_amount);
    }
    ShadowReport {
        point_value,
        hospitals: hospitals.iter().map(|(h, acc)| acc.line(h, None)).collect(),
        groups: groups
            .iter()
            .map(|((h, g), acc)| acc.line(h, Some(g)))
            .collect(),
        total: total.line("*", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn case(h: &str, g: &str, points: Decimal, burden: Decimal, ffs: Decimal) -> ShadowCase {
        ShadowCase {
            hospital_code: h.into(),
            group_code: g.into(),
            points: Points::round(points),
            individual_burden: Money::round(burden),
            ffs_fund_amount: Money::round(ffs),
        }
    }

    #[test]
    fn per_hospital_and_group_difference_and_ratio() {
        let cases = vec![
            case("H2", "GB11", dec!(100), dec!(1000), dec!(8000)),
            case("H1", "GB11", dec!(157.5), dec!(3000), dec!(14000)),
            case("H1", "GB11", dec!(50), dec!(500), dec!(4000)),
            case("H1", "FR21", dec!(100), dec!(0), dec!(0)),
        ];
        let report = shadow_settlement(&cases, dec!(100));
        // H1 GB11: 15,750 − 3,000 = 12,750 and 5,000 − 500 = 4,500 → 17,250 vs 18,000.
        let gb11 = report
            .groups
            .iter()
            .find(|l| l.hospital_code == "H1" && l.group_code.as_deref() == Some("GB11"))
            .expect("line");
        assert_eq!(gb11.cases, 2);
        assert_eq!(gb11.model_amount, Money::round(dec!(17250)));
        assert_eq!(gb11.difference, Money::round(dec!(-750)));
        assert_eq!(gb11.ratio, Some(dec!(0.9583)));
        // A group with no FFS payment has no ratio.
        let fr21 = report
            .groups
            .iter()
            .find(|l| l.group_code.as_deref() == Some("FR21"))
            .expect("line");
        assert_eq!(fr21.ratio, None);
        assert_eq!(fr21.difference, Money::round(dec!(10000)));
        // Sorted: H1 before H2; groups of H1 sorted by code.
        assert_eq!(report.hospitals[0].hospital_code, "H1");
        assert_eq!(report.groups[0].group_code.as_deref(), Some("FR21"));
        assert_eq!(report.hospitals[0].model_amount, Money::round(dec!(27250)));
        assert_eq!(report.total.cases, 4);
        // H1 +9,250 and H2 9,000 − 8,000 = +1,000.
        assert_eq!(report.total.difference, Money::round(dec!(10250)));
    }
}
