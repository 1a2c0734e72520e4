//! Rules over a hospital's whole case mix, against the region the run covers: 19 high-cost share,
//! 20 CMI rise, 21 blank groups, 22 admissions per patient, and 23 deaths in low-risk groups
//! (DOMAIN.md §6 rules 19–23, indicators as in "Monitoring indicators").
//!
//! The region is the set of lists screened together; a hospital is an outlier when its figure
//! exceeds the mean over the region's hospitals by the parameter's multiple of their population
//! standard deviation. Findings of 19–22 are on the hospital and put no amount at stake; 23 is on
//! the list and takes its in-policy amount.

use std::collections::{BTreeMap, BTreeSet};

use kernel::Decimal;

use crate::catalogue::RuleId;
use crate::finding::{Finding, Subject};
use crate::indicators::{self, Mortality, WeightedGroup, round_indicator};
use crate::model::{DischargeType, InpatientList};
use crate::screening::Context;
use crate::stats;

fn by_hospital<'a>(context: &Context<'a>) -> BTreeMap<&'a str, Vec<&'a InpatientList>> {
    let mut hospitals: BTreeMap<&str, Vec<&InpatientList>> = BTreeMap::new();
    for list in &context.input.lists {
        hospitals
            .entry(list.key.hospital.as_str())
            .or_default()
            .push(list);
    }
    hospitals
}

fn hospital_finding(context: &Context<'_>, rule: RuleId, hospital: &str) -> Finding {
    context.finding(rule, Subject::Hospital(hospital.to_owned()))
}

/// Hospitals whose figure lies above mean + k·σ of all hospitals' figures.
fn outliers(
    context: &Context<'_>,
    rule: RuleId,
    figures: &BTreeMap<&str, Decimal>,
    name: &str,
) -> Vec<Finding> {
    let values: Vec<Decimal> = figures.values().copied().collect();
    let (Some(mean), Some(sd)) = (stats::mean(&values), stats::population_sd(&values)) else {
        return Vec::new();
    };
    let limit = mean + context.parameters().outlier_sd_multiple * sd;
    figures
        .iter()
        .filter(|(_, value)| **value > limit)
        .map(|(hospital, value)| {
            let mut finding = hospital_finding(context, rule, hospital);
            finding.evidence = vec![
                format!("{name}={}", round_indicator(*value)),
                format!("regional_mean={}", round_indicator(mean)),
                format!("regional_sd={}", round_indicator(sd)),
            ];
            finding
        })
        .collect()
}

/// Rule 19: a hospital's share of high-cost cases (cost ≥ multiple × its DRG's published mean,
/// among its lists with a published mean) above the region.
pub fn high_cost_share(context: &Context<'_>) -> Vec<Finding> {
    let multiple = context.parameters().high_cost_multiple;
    let shares: BTreeMap<&str, Decimal> = by_hospital(context)
        .into_iter()
        .filter_map(|(hospital, lists)| {
            indicators::high_cost_share_exact(lists, context.tables, multiple)
                .map(|share| (hospital, share))
        })
        .collect();
    outliers(context, RuleId::HighCostShare, &shares, "high_cost_share")
}

/// Rule 22: a hospital's stays per distinct person above the region.
pub fn admissions_per_patient(context: &Context<'_>) -> Vec<Finding> {
    let figures: BTreeMap<&str, Decimal> = by_hospital(context)
        .into_iter()
        .map(|(hospital, lists)| {
            let people: BTreeSet<&str> = lists.iter().map(|l| l.person_id.as_str()).collect();
            (
                hospital,
                Decimal::from(lists.len()) / Decimal::from(people.len()),
            )
        })
        .collect();
    outliers(
        context,
        RuleId::AdmissionsPerPatient,
        &figures,
        "admissions_per_patient",
    )
}

/// Rule 20: a hospital's CMI (weights from the group table) risen more than the limit over its
/// previous year while its case count stayed within the volume tolerance.
pub fn cmi_rise(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    let mut findings = Vec::new();
    for (hospital, lists) in by_hospital(context) {
        let Some(previous) = context
            .input
            .previous_year
            .iter()
            .find(|year| year.hospital == hospital)
        else {
            continue;
        };
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for list in &lists {
            if let Some(drg) = list.drg.as_deref() {
                *counts.entry(drg).or_default() += 1;
            }
        }
        let groups: Vec<WeightedGroup> = counts
            .iter()
            .filter_map(|(drg, cases)| {
                let weight = context.tables.group_means.get(*drg)?.weight?;
                Some(WeightedGroup {
                    value: weight,
                    cases: *cases,
                })
            })
            .collect();
        let Some(current) = indicators::cmi_exact(&groups) else {
            continue;
        };
        if previous.cmi <= Decimal::ZERO || previous.cases == 0 {
            continue;
        }
        let rise = (current - previous.cmi) / previous.cmi;
        let cases = Decimal::from(lists.len());
        let previous_cases = Decimal::from(previous.cases);
        let volume_change = ((cases - previous_cases) / previous_cases).abs();
        if rise > parameters.cmi_max_rise && volume_change <= parameters.case_volume_max_change {
            let mut finding = hospital_finding(context, RuleId::CmiRise, hospital);
            finding.evidence = vec![
                format!("cmi={}", round_indicator(current)),
                format!("previous_cmi={}", previous.cmi),
                format!("cases={cases}"),
                format!("previous_cases={}", previous.cases),
            ];
            findings.push(finding);
        }
    }
    findings
}

/// Rule 21: groups most hospitals of a level treat (at least the usual share, among at least the
/// minimum number of hospitals) that a hospital of that level has no case of. One finding per
/// hospital naming its blank groups.
pub fn blank_groups(context: &Context<'_>) -> Vec<Finding> {
    let parameters = context.parameters();
    let mut levels: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for list in &context.input.lists {
        let groups = levels
            .entry(list.hospital_level.as_str())
            .or_default()
            .entry(list.key.hospital.as_str())
            .or_default();
        if let Some(drg) = list.drg.as_deref() {
            groups.insert(drg);
        }
    }
    let mut findings = Vec::new();
    for hospitals in levels.values() {
        if hospitals.len() < parameters.blank_group_min_hospitals {
            continue;
        }
        let mut treating: BTreeMap<&str, usize> = BTreeMap::new();
        for groups in hospitals.values() {
            for drg in groups {
                *treating.entry(drg).or_default() += 1;
            }
        }
        let size = Decimal::from(hospitals.len());
        let usual: Vec<&str> = treating
            .into_iter()
            .filter(|(_, count)| Decimal::from(*count) >= parameters.blank_group_usual_share * size)
            .map(|(drg, _)| drg)
            .collect();
        for (hospital, groups) in hospitals {
            let blank: Vec<String> = usual
                .iter()
                .filter(|drg| !groups.contains(*drg))
                .map(|drg| (*drg).to_owned())
                .collect();
            if !blank.is_empty() {
                let mut finding = hospital_finding(context, RuleId::BlankGroups, hospital);
                finding.evidence = blank;
                findings.push(finding);
            }
        }
    }
    findings
}

/// Rule 23: a death in a group that is low-risk by the region's death rates.
pub fn low_risk_deaths(context: &Context<'_>) -> Vec<Finding> {
    let mut mortality: BTreeMap<String, Mortality> = BTreeMap::new();
    for list in &context.input.lists {
        if let Some(drg) = &list.drg {
            let entry = mortality.entry(drg.clone()).or_insert(Mortality {
                deaths: 0,
                cases: 0,
            });
            entry.cases += 1;
            entry.deaths += u64::from(list.discharge_type == DischargeType::Death);
        }
    }
    let low_risk = indicators::low_risk_groups(&mortality, context.parameters().low_risk_z);
    context
        .input
        .lists
        .iter()
        .filter(|list| {
            list.discharge_type == DischargeType::Death
                && list.drg.as_ref().is_some_and(|drg| low_risk.contains(drg))
        })
        .map(|list| {
            let mut finding = context.list_finding(RuleId::LowRiskDeaths, list);
            finding.evidence = list.drg.iter().cloned().collect();
            finding
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HospitalYear, ScreeningInput, SettlementKey};
    use crate::parameters::ScreeningPolicy;
    use crate::screening::screen;
    use crate::tables::Tables;
    use crate::testkit::*;
    use rust_decimal_macros::dec;

    /// `count` grouped stays of distinct people at `hospital`, each costing `cost`.
    fn stays(hospital: &str, drg: &str, count: usize, cost: &str) -> Vec<InpatientList> {
        (0..count)
            .map(|i| {
                let mut stay = with_drg(
                    list(
                        &format!("{hospital}-{drg}-{i}"),
                        &format!("{hospital}-P{drg}{i}"),
                        "2026-03-01 08:00",
                        "2026-03-05 08:00",
                    ),
                    drg,
                );
                stay.key = SettlementKey::new(hospital, stay.key.id.clone());
                stay.total_cost = money(cost);
                stay
            })
            .collect()
    }

    fn screen_only(rule: RuleId, input: ScreeningInput) -> Vec<Finding> {
        let tables = Tables::demo().expect("demo tables");
        screen(&input, &tables, &ScreeningPolicy::default().only(&[rule]))
    }

    fn region(lists: Vec<InpatientList>) -> ScreeningInput {
        ScreeningInput {
            lists,
            ..ScreeningInput::default()
        }
    }

    #[test]
    fn high_cost_share_above_two_sd_of_the_hospitals() {
        // Seven hospitals of ten ES23 stays (mean 8,600.00, high-cost from 25,800.00); H7 has
        // `high` of them high-cost, the others none: with 3, z = √6 ≈ 2.45 > 2.
        let build = |high: usize, high_cost: &str| {
            let mut lists = Vec::new();
            for h in 1..=6 {
                lists.extend(stays(&format!("H{h}"), "ES23", 10, "8000.00"));
            }
            lists.extend(stays("H7", "ES23", 10 - high, "8000.00"));
            for (i, mut stay) in stays("H7", "ES23", high, high_cost).into_iter().enumerate() {
                stay.key.id = format!("H7-high-{i}");
                lists.push(stay);
            }
            region(lists)
        };
        let findings = screen_only(RuleId::HighCostShare, build(3, "25800.00"));
        assert_eq!(flagged(&findings), ["H7"]);
        assert_eq!(findings[0].amount, money("0.00"));
        let just_below = screen_only(RuleId::HighCostShare, build(3, "25799.99"));
        assert!(just_below.is_empty());
        // A second hospital as high widens the spread: 0.3 is then within 2 σ.
        let mut two_high = build(3, "25800.00");
        for stay in two_high
            .lists
            .iter_mut()
            .filter(|l| l.key.hospital == "H6")
            .take(3)
        {
            stay.total_cost = money("25800.00");
        }
        assert!(screen_only(RuleId::HighCostShare, two_high).is_empty());
    }

    #[test]
    fn admissions_per_patient_above_two_sd() {
        let mut lists = Vec::new();
        for h in 1..=6 {
            lists.extend(stays(&format!("H{h}"), "ES23", 4, "8000.00"));
        }
        let mut repeat = stays("H7", "ES23", 4, "8000.00");
        for stay in &mut repeat {
            stay.person_id = "same".into();
        }
        lists.extend(repeat);
        assert_eq!(
            flagged(&screen_only(RuleId::AdmissionsPerPatient, region(lists))),
            ["H7"]
        );
        // With every hospital alike nothing stands out.
        let alike: Vec<InpatientList> = (1..=7)
            .flat_map(|h| stays(&format!("H{h}"), "ES23", 4, "1.00"))
            .collect();
        assert!(screen_only(RuleId::AdmissionsPerPatient, region(alike)).is_empty());
    }

    #[test]
    fn cmi_rise_over_ten_percent_with_steady_volume() {
        // 10 FM19 stays (RW 1.25): CMI 1.25.
        let lists = stays("H1", "FM19", 10, "12000.00");
        let previous = |cmi: Decimal, cases: u64| HospitalYear {
            hospital: "H1".into(),
            cmi,
            cases,
        };
        let input = |history: HospitalYear| ScreeningInput {
            lists: lists.clone(),
            previous_year: vec![history],
            ..ScreeningInput::default()
        };
        // 1.25 / 1.13 − 1 = 10.6 %
        assert_eq!(
            flagged(&screen_only(
                RuleId::CmiRise,
                input(previous(dec!(1.13), 10))
            )),
            ["H1"]
        );
        // 1.25 / 1.15 − 1 = 8.7 %
        assert!(screen_only(RuleId::CmiRise, input(previous(dec!(1.15), 10))).is_empty());
        // A volume change of 25 % explains the rise.
        assert!(screen_only(RuleId::CmiRise, input(previous(dec!(1.13), 8))).is_empty());
    }

    #[test]
    fn cmi_rise_of_exactly_ten_percent_is_no_finding() {
        // 5 FM19 (1.25) and 5 KS19 (0.62): CMI 0.935 = 1.1 × 0.85.
        let mut lists = stays("H1", "FM19", 5, "12000.00");
        lists.extend(stays("H1", "KS19", 5, "6000.00"));
        let input = |cmi: Decimal| ScreeningInput {
            lists: lists.clone(),
            previous_year: vec![HospitalYear {
                hospital: "H1".into(),
                cmi,
                cases: 10,
            }],
            ..ScreeningInput::default()
        };
        assert!(screen_only(RuleId::CmiRise, input(dec!(0.85))).is_empty());
        assert_eq!(
            flagged(&screen_only(RuleId::CmiRise, input(dec!(0.8499)))),
            ["H1"]
        );
    }

    #[test]
    fn blank_groups_are_usual_groups_a_hospital_lacks() {
        let mut lists = Vec::new();
        for h in ["H1", "H2", "H3"] {
            lists.extend(stays(h, "ES23", 1, "8000.00"));
        }
        lists.extend(stays("H1", "FM19", 1, "8000.00"));
        lists.extend(stays("H2", "FM19", 1, "8000.00"));
        lists.extend(stays("H1", "GB11", 1, "8000.00"));
        let findings = screen_only(RuleId::BlankGroups, region(lists.clone()));
        // FM19 is treated by 2 of 3 (≥ 50 %); GB11 by 1 of 3 is not usual.
        assert_eq!(flagged(&findings), ["H3"]);
        assert_eq!(findings[0].evidence, ["FM19"]);
        // Two hospitals of a level are too few to judge.
        lists.retain(|l| l.key.hospital != "H3");
        assert!(screen_only(RuleId::BlankGroups, region(lists)).is_empty());
    }

    #[test]
    fn deaths_in_low_risk_groups() {
        // Death rates: KS19 1/100, ES23 10/100, FM19 12/100, GB11 15/100: KS19 is low-risk.
        let mut lists = Vec::new();
        for (drg, deaths) in [("KS19", 1), ("ES23", 10), ("FM19", 12), ("GB11", 15)] {
            let mut group = stays("H1", drg, 100, "1000.00");
            for stay in group.iter_mut().take(deaths) {
                stay.discharge_type = DischargeType::Death;
            }
            lists.extend(group);
        }
        let findings = screen_only(RuleId::LowRiskDeaths, region(lists));
        assert_eq!(flagged(&findings), ["H1-KS19-0"]);
        assert_eq!(findings[0].amount, money("800.00"));
    }
}
