//! A medical alliance's monthly quota (DOMAIN.md §4: alliances are budgeted as one unit) in
//! hospital-cap prepayment.
//!
//! The budget context allocates an alliance one cap under the alliance's code and spreads it
//! over the months (`GetQuotas`); its members have none of their own. Applied by
//! [`crate::prepayment::run_prepayment`] for the members [`unit_quotas`] marks, which the
//! settlement service's prepayment run (`settlement/service/src/runs/prepayment.rs`) calls with
//! the registry's membership on the month's last day: the members' summed prepayable is capped at
//! the unit's quota and the capped amount is distributed to them by their share of the unit's
//! prepayable, rounded once by [`crate::clearing::alliance::distribute`] (members sum to the
//! unit's capped amount to the fen). A hospital with a quota of its own keeps it.

use std::collections::BTreeMap;

use kernel::{Decimal, Money};

use crate::clearing::alliance::distribute;
use crate::error::SettlementError;
use crate::prepayment::{HospitalMonth, PrepaymentLine, quality_deposit};

/// Gives each hospital without a quota of its own, whose alliance (`alliances`, by hospital) has
/// one in `quotas`, the alliance's quota and names the alliance on it.
pub fn unit_quotas(
    hospitals: &mut [HospitalMonth],
    alliances: &BTreeMap<String, String>,
    quotas: Option<&BTreeMap<String, Money>>,
) {
    let Some(quotas) = quotas else {
        return;
    };
    for h in hospitals.iter_mut().filter(|h| h.monthly_quota.is_none()) {
        if let Some(alliance) = alliances.get(&h.hospital_code)
            && let Some(quota) = quotas.get(alliance)
        {
            h.monthly_quota = Some(*quota);
            h.alliance = Some(alliance.clone());
        }
    }
}

/// Caps each alliance's lines together at the unit's quota (every line of a unit carries it):
/// capped, deferred, deposit and payable of each member follow from its part of the unit's
/// capped amount.
pub(crate) fn cap_units(
    lines: &mut [PrepaymentLine],
    deposit_rate: Decimal,
) -> Result<(), SettlementError> {
    let mut units: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(alliance) = &line.alliance_code {
            units.entry(alliance.clone()).or_default().push(index);
        }
    }
    for members in units.values() {
        let quota = members
            .iter()
            .find_map(|&i| lines[i].monthly_quota)
            .unwrap_or_default();
        let prepayable: Money = members.iter().map(|&i| lines[i].prepayable).sum();
        let capped = prepayable.min(quota);
        let parts = if prepayable.value().is_zero() {
            vec![Money::ZERO; members.len()]
        } else {
            let weights: Vec<(&str, Decimal)> = members
                .iter()
                .map(|&i| (lines[i].hospital_code.as_str(), lines[i].prepayable.value()))
                .collect();
            distribute(capped, &weights)?
        };
        for (&i, part) in members.iter().zip(parts) {
            let line = &mut lines[i];
            line.capped = part;
            line.deferred = line.prepayable - part;
            line.quality_deposit = quality_deposit(part, deposit_rate);
            line.payable = part - line.quality_deposit;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepayment::{
        BudgetMode, PrepaymentInput, PrepaymentPolicy, ProvisionalPointValue, run_prepayment,
    };
    use kernel::{FundType, Points};
    use rust_decimal_macros::dec;

    fn month(code: &str, points: Decimal) -> HospitalMonth {
        HospitalMonth {
            hospital_code: code.into(),
            points: Points::round(points),
            individual_burden: Money::ZERO,
            money_fund_part: Money::ZERO,
            monthly_quota: None,
            alliance: None,
        }
    }

    fn capped(hospitals: Vec<HospitalMonth>) -> Vec<PrepaymentLine> {
        let policy = PrepaymentPolicy {
            budget_mode: BudgetMode::HospitalCap,
            ..PrepaymentPolicy::default()
        };
        run_prepayment(
            &PrepaymentInput {
                region: "460100".parse().expect("region"),
                month: "2025-03".parse().expect("month"),
                fund_type: FundType::Employee,
                point_value: ProvisionalPointValue::Published(dec!(1)),
                hospitals,
            },
            &policy,
        )
        .expect("prepaid")
        .lines
    }

    #[test]
    fn members_are_capped_together_at_the_unit_quota() {
        // A prepays 90 % of 60,000 = 54,000.00, B 90 % of 20,000 = 18,000.00: 72,000.00 against
        // the unit's 60,000.00, so 60,000 × 54/72 = 45,000.00 to A and 15,000.00 to B.
        let mut hospitals = vec![month("A", dec!(60000)), month("B", dec!(20000))];
        let alliances = BTreeMap::from([
            ("A".to_owned(), "MA-1".to_owned()),
            ("B".to_owned(), "MA-1".to_owned()),
        ]);
        let quotas = BTreeMap::from([("MA-1".to_owned(), Money::from_yuan(60_000))]);
        unit_quotas(&mut hospitals, &alliances, Some(&quotas));
        let lines = capped(hospitals);
        let figures: Vec<_> = lines
            .iter()
            .map(|l| {
                (
                    l.capped.to_string(),
                    l.deferred.to_string(),
                    l.payable.to_string(),
                )
            })
            .collect();
        assert_eq!(
            figures,
            [
                ("45000.00".into(), "9000.00".into(), "42750.00".into()),
                ("15000.00".into(), "3000.00".into(), "14250.00".into()),
            ]
        );
        assert!(
            lines
                .iter()
                .all(|l| l.alliance_code.as_deref() == Some("MA-1"))
        );
        // Alone with that quota each, B would not have been capped at all.
        let mut alone = vec![month("A", dec!(60000)), month("B", dec!(20000))];
        for h in &mut alone {
            h.monthly_quota = Some(Money::from_yuan(60_000));
        }
        assert_eq!(capped(alone)[1].deferred, Money::ZERO);
    }

    #[test]
    fn a_hospital_with_its_own_quota_keeps_it_and_the_parts_sum_to_the_unit() {
        let mut hospitals = vec![
            month("A", dec!(33333.33)),
            month("B", dec!(33333.33)),
            month("C", dec!(33333.34)),
        ];
        hospitals[2].monthly_quota = Some(Money::from_yuan(1));
        let alliances: BTreeMap<String, String> = ["A", "B", "C"]
            .into_iter()
            .map(|c| (c.to_owned(), "MA-1".to_owned()))
            .collect();
        let quotas = BTreeMap::from([("MA-1".to_owned(), Money::from_fen(1_000_001))]);
        unit_quotas(&mut hospitals, &alliances, Some(&quotas));
        assert_eq!(hospitals[2].alliance, None);
        let lines = capped(hospitals);
        assert_eq!(
            lines[0].capped + lines[1].capped,
            Money::from_fen(1_000_001)
        );
        assert_eq!(lines[2].capped, Money::from_yuan(1));
        for line in &lines {
            assert_eq!(line.capped + line.deferred, line.prepayable);
        }
    }
}
