//! 15-day readmission halving (DOMAIN.md §3 DRG points, precise defaults; §5: rules that span
//! cases are settlement's). Settlement alone holds a person's stays, so the rule runs here, over
//! the stored cases a prepayment or clearing reads, at every run: the order in which lists
//! arrived never changes a result.
//!
//! When a person is readmitted to the same hospital into the same DRG with later admission date −
//! earlier discharge date within the window (0 ..= 15 days), the earlier stay's points are halved
//! and rounded again to 0.0001 — unless the earlier stay carries the planned-readmission flag or
//! its ADRG (the DRG's first three characters) is exempt (chemotherapy, radiotherapy and similar
//! cycles). Only stays paid in DRG points take part: DIP has no halving (DOMAIN.md §5 Hainan).

use std::collections::BTreeMap;

use kernel::{Date, Decimal, Points};
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use crate::payment_mode::PaymentMode;
use crate::valued_case::ValuedCase;

/// Parameters of the halving, per region, year and fund (in the settlement policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadmissionPolicy {
    /// Largest gap, later admission − earlier discharge, in days (default 15).
    pub window_days: u32,
    /// ADRGs of planned cycles never halved.
    pub exempt_adrgs: Vec<String>,
    /// Share of the earlier stay's points kept (default 0.5).
    pub kept_share: Decimal,
}

impl Default for ReadmissionPolicy {
    fn default() -> Self {
        Self {
            window_days: 15,
            exempt_adrgs: ["RB1", "RB2", "RC1", "RE1", "RG1", "RV1"]
                .map(String::from)
                .to_vec(),
            kept_share: Decimal::new(5, 1),
        }
    }
}

impl ReadmissionPolicy {
    /// The parameters' bounds: a share in [0, 1], a window of at most a year.
    pub fn check(&self) -> Result<(), SettlementError> {
        if self.kept_share.is_sign_negative() || self.kept_share > Decimal::ONE {
            return Err(SettlementError::ParameterOutOfRange {
                record: "policy".into(),
                field: "readmission.kept_share",
                value: self.kept_share.to_string(),
                allowed: "[0, 1]",
            });
        }
        if self.window_days > 366 {
            return Err(SettlementError::ParameterOutOfRange {
                record: "policy".into(),
                field: "readmission.window_days",
                value: self.window_days.to_string(),
                allowed: "0..=366",
            });
        }
        Ok(())
    }
}

/// What the rule needs of a stay besides its valuation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayFacts {
    /// 医保编号 (pseudonymous person id).
    pub person_id: String,
    pub admission_date: Date,
    pub discharge_date: Date,
    /// 31-day planned readmission flag.
    pub planned_readmission: bool,
}

/// One earlier stay halved, recorded with the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halving {
    pub hospital_code: String,
    /// The earlier stay, whose points were halved.
    pub list_id: String,
    /// The readmission that halved it.
    pub readmitted_as: String,
    /// Whole days from the earlier discharge to the later admission.
    pub gap_days: i32,
    pub points_before: Points,
    pub points_after: Points,
}

/// The ADRG of a DRG code: its first three characters.
fn adrg(group_code: &str) -> &str {
    group_code.get(..3).unwrap_or(group_code)
}

/// Halves, in `cases`, every earlier DRG stay readmitted within the window; `later_stays` are
/// stays outside the run's period that may readmit one of its cases (they are never halved
/// here). Returns the halvings in (hospital, list id) order. A case without stay facts takes no
/// part.
pub fn halve_readmissions(
    cases: &mut [ValuedCase],
    later_stays: &[ValuedCase],
    policy: &ReadmissionPolicy,
) -> Vec<Halving> {
    let is_drg = |case: &ValuedCase| case.payment_mode == Some(PaymentMode::Drg);
    // Each person's DRG stays at a hospital: (admission, discharge, list id, group, index in
    // `cases`; none for a later stay).
    type Stays<'a> = Vec<(Date, Date, &'a str, &'a str, Option<usize>)>;
    let mut by_person: BTreeMap<(&str, &str), Stays<'_>> = BTreeMap::new();
    let mut halved_at: Vec<(usize, String, i32)> = Vec::new();
    {
        let all = cases
            .iter()
            .enumerate()
            .map(|(index, case)| (case, Some(index)))
            .chain(later_stays.iter().map(|case| (case, None)));
        for (case, index) in all {
            let Some(stay) = case.stay.as_ref().filter(|_| is_drg(case)) else {
                continue;
            };
            by_person
                .entry((case.hospital_code.as_str(), stay.person_id.as_str()))
                .or_default()
                .push((
                    stay.admission_date,
                    stay.discharge_date,
                    case.list_id.as_str(),
                    case.group_code.as_str(),
                    index,
                ));
        }
        let window = i32::try_from(policy.window_days).unwrap_or(i32::MAX);
        for stays in by_person.values_mut() {
            stays.sort();
            for (n, &(_, discharged, _, group, index)) in stays.iter().enumerate() {
                let Some(index) = index else {
                    continue;
                };
                let case = &cases[index];
                let exempt = case.stay.as_ref().is_some_and(|s| s.planned_readmission)
                    || policy.exempt_adrgs.iter().any(|code| code == adrg(group));
                if exempt {
                    continue;
                }
                // The first later stay of the same group that readmits this one.
                let readmission = stays[n + 1..].iter().find_map(|&(admitted, _, id, g, _)| {
                    let gap = admitted.days_since(discharged);
                    (g == group && (0..=window).contains(&gap)).then_some((id, gap))
                });
                if let Some((later_id, gap)) = readmission {
                    halved_at.push((index, later_id.to_owned(), gap));
                }
            }
        }
    }
    let mut halvings: Vec<Halving> = halved_at
        .into_iter()
        .map(|(index, readmitted_as, gap_days)| {
            let case = &mut cases[index];
            let points_before = case.points;
            case.points = points_before.mul_round(policy.kept_share);
            Halving {
                hospital_code: case.hospital_code.clone(),
                list_id: case.list_id.clone(),
                readmitted_as,
                gap_days,
                points_before,
                points_after: case.points,
            }
        })
        .collect();
    halvings.sort_by(|a, b| (&a.hospital_code, &a.list_id).cmp(&(&b.hospital_code, &b.list_id)));
    halvings
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Money;
    use rust_decimal_macros::dec;

    fn day(text: &str) -> Date {
        text.parse().expect("date")
    }

    fn stay(id: &str, group: &str, admitted: &str, discharged: &str) -> ValuedCase {
        ValuedCase {
            hospital_code: "H1".into(),
            list_id: id.into(),
            payment_mode: Some(PaymentMode::Drg),
            group_code: group.into(),
            points: Points::round(dec!(101.2345)),
            total_cost: Money::ZERO,
            individual_burden: Money::ZERO,
            fund_amount: Money::ZERO,
            amount: None,
            scheme_version: "s@1".into(),
            table_version: "t@1".into(),
            stay: Some(StayFacts {
                person_id: "P1".into(),
                admission_date: day(admitted),
                discharge_date: day(discharged),
                planned_readmission: false,
            }),
        }
    }

    fn halved(cases: &mut [ValuedCase]) -> Vec<(String, String, i32)> {
        halve_readmissions(cases, &[], &ReadmissionPolicy::default())
            .into_iter()
            .map(|h| (h.list_id, h.readmitted_as, h.gap_days))
            .collect()
    }

    #[test]
    fn day_15_halves_the_earlier_stay_and_day_16_does_not() {
        let mut cases = vec![
            stay("A", "GD15", "2025-03-01", "2025-03-05"),
            stay("B", "GD15", "2025-03-20", "2025-03-22"),
        ];
        assert_eq!(halved(&mut cases), [("A".into(), "B".into(), 15)]);
        // 101.2345 × 0.5 = 50.61725, rounded half away from zero.
        assert_eq!(cases[0].points, Points::round(dec!(50.6173)));
        assert_eq!(cases[1].points, Points::round(dec!(101.2345)));

        let mut cases = vec![
            stay("A", "GD15", "2025-03-01", "2025-03-05"),
            stay("B", "GD15", "2025-03-21", "2025-03-22"),
        ];
        assert!(halved(&mut cases).is_empty());
        assert_eq!(cases[0].points, Points::round(dec!(101.2345)));
    }

    #[test]
    fn only_the_same_person_hospital_and_drg_without_a_planned_reason() {
        let base = || {
            vec![
                stay("A", "GD15", "2025-03-01", "2025-03-05"),
                stay("B", "GD15", "2025-03-06", "2025-03-08"),
            ]
        };
        type Change = fn(&mut ValuedCase, &mut ValuedCase);
        let variants: [(&str, Change); 6] = [
            ("another person", |_, b| {
                if let Some(s) = b.stay.as_mut() {
                    s.person_id = "P2".into();
                }
            }),
            ("another hospital", |_, b| b.hospital_code = "H2".into()),
            ("another DRG", |_, b| b.group_code = "GD13".into()),
            ("planned", |a, _| {
                if let Some(s) = a.stay.as_mut() {
                    s.planned_readmission = true;
                }
            }),
            ("exempt ADRG", |a, b| {
                a.group_code = "RB15".into();
                b.group_code = "RB15".into();
            }),
            ("paid in DIP", |a, b| {
                a.payment_mode = Some(PaymentMode::Dip);
                b.payment_mode = Some(PaymentMode::Dip);
            }),
        ];
        for (why, change) in variants {
            let mut cases = base();
            let (a, b) = cases.split_at_mut(1);
            change(&mut a[0], &mut b[0]);
            assert!(halved(&mut cases).is_empty(), "{why}");
        }
        assert_eq!(halved(&mut base()).len(), 1);
    }

    #[test]
    fn arrival_order_does_not_matter_and_a_later_stay_outside_the_period_counts() {
        let mut forward = vec![
            stay("A", "GD15", "2025-03-01", "2025-03-05"),
            stay("B", "GD15", "2025-03-10", "2025-03-12"),
            stay("C", "GD15", "2025-03-20", "2025-03-22"),
        ];
        let mut backward: Vec<ValuedCase> = forward.iter().rev().cloned().collect();
        let mut first = halved(&mut forward);
        let mut second = halved(&mut backward);
        first.sort();
        second.sort();
        assert_eq!(first, second);
        // A and B are each readmitted; C is not.
        assert_eq!(first.len(), 2);

        // December's stay readmitted in January of the next year: halved in December's year.
        let mut december = vec![stay("D", "GD15", "2025-12-20", "2025-12-28")];
        let january = [stay("E", "GD15", "2026-01-10", "2026-01-12")];
        let halvings = halve_readmissions(&mut december, &january, &ReadmissionPolicy::default());
        assert_eq!(halvings.len(), 1);
        assert_eq!(halvings[0].readmitted_as, "E");
        assert_eq!(halvings[0].gap_days, 13);
    }

    proptest::proptest! {
        #[test]
        fn halving_happens_within_the_window_and_never_increases_points(
            scaled in 0_i64..100_000_000,
            gap in -5_i32..40,
        ) {
            let mut earlier = stay("A", "GD15", "2025-03-01", "2025-03-05");
            earlier.points = Points::from_scaled(scaled);
            let admitted = day("2025-03-05").add_days(gap);
            let mut later = stay("B", "GD15", "2025-03-05", "2025-03-05");
            if let Some(facts) = later.stay.as_mut() {
                facts.admission_date = admitted;
                facts.discharge_date = admitted.add_days(2);
            }
            let mut cases = vec![earlier.clone(), later];
            let halvings = halve_readmissions(&mut cases, &[], &ReadmissionPolicy::default());
            if (0..=15).contains(&gap) {
                proptest::prop_assert_eq!(halvings.len(), 1);
                proptest::prop_assert!(cases[0].points <= earlier.points);
            } else {
                proptest::prop_assert!(halvings.is_empty());
                proptest::prop_assert_eq!(cases[0].points, earlier.points);
            }
        }
    }
}
