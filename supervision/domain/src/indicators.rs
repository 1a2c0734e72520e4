//! Monitoring indicators (DOMAIN.md §6 "Monitoring indicators"): case-mix index, cost and time
//! consumption indices, within-group CV, RIV, low-risk groups, readmission rate, admissions per
//! patient, self-pay ratio and grouping rate.
//!
//! Each indicator is computed exactly and rounded once, to 4 places, by [`round_indicator`].
//! Standard deviations are population ones (σ divides by n).

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Decimal, Money, round_points};

use crate::model::{ChargeCategory, InpatientList};
use crate::stats;
use crate::tables::Tables;

/// An indicator's value to 4 places, half away from zero: the one place indicators round.
pub fn round_indicator(raw: Decimal) -> Decimal {
    round_points(raw)
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    (!denominator.is_zero()).then(|| round_indicator(numerator / denominator))
}

/// One group's cases in an index: its weight or its hospital-to-region ratio, and its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightedGroup {
    pub value: Decimal,
    pub cases: u64,
}

/// Σ(value_g × n_g) / Σ n_g, unrounded.
fn weighted_mean(groups: &[WeightedGroup]) -> Option<Decimal> {
    let cases: u64 = groups.iter().map(|g| g.cases).sum();
    if cases == 0 {
        return None;
    }
    let weighted: Decimal = groups
        .iter()
        .map(|g| g.value * Decimal::from(g.cases))
        .sum();
    Some(weighted / Decimal::from(cases))
}

/// Case-mix index CMI = Σ(RW_g × n_g) / Σ n_g, unrounded (the CMI-rise rule compares it
/// exactly).
pub fn cmi_exact(groups: &[WeightedGroup]) -> Option<Decimal> {
    weighted_mean(groups)
}

/// Case-mix index, rounded.
pub fn cmi(groups: &[WeightedGroup]) -> Option<Decimal> {
    cmi_exact(groups).map(round_indicator)
}

/// A hospital's mean of one group beside the region's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupComparison {
    pub hospital_mean: Decimal,
    pub regional_mean: Decimal,
    pub cases: u64,
}

/// Σ_g (hospital mean_g / regional mean_g × n_g) / Σ n_g: the cost consumption index with mean
/// costs, the time consumption index with mean lengths of stay. Groups without a regional mean
/// are left out.
pub fn consumption_index(groups: &[GroupComparison]) -> Option<Decimal> {
    let weighted: Vec<WeightedGroup> = groups
        .iter()
        .filter(|g| !g.regional_mean.is_zero())
        .map(|g| WeightedGroup {
            value: g.hospital_mean / g.regional_mean,
            cases: g.cases,
        })
        .collect();
    weighted_mean(&weighted).map(round_indicator)
}

/// Within-group coefficient of variation σ/μ.
pub fn coefficient_of_variation(values: &[Decimal]) -> Option<Decimal> {
    let mean = stats::mean(values)?;
    ratio(stats::population_sd(values)?, mean)
}

/// Reduction in variance RIV = (SST − SSW) / SST over all groups' values.
pub fn reduction_in_variance(groups: &[Vec<Decimal>]) -> Option<Decimal> {
    let all: Vec<Decimal> = groups.iter().flatten().copied().collect();
    let total = stats::sum_of_squares(&all);
    let within: Decimal = groups.iter().map(|g| stats::sum_of_squares(g)).sum();
    ratio(total - within, total)
}

/// A group's deaths and cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mortality {
    pub deaths: u64,
    pub cases: u64,
}

/// Low-risk groups: z of the log death rate below `threshold` (default −1). Groups without a
/// death have no logarithm and stay out of the mean and deviation; no death can be found in them
/// either.
pub fn low_risk_groups(
    mortality: &BTreeMap<String, Mortality>,
    threshold: Decimal,
) -> BTreeSet<String> {
    let logs: Vec<(&String, Decimal)> = mortality
        .iter()
        .filter(|(_, m)| m.deaths > 0 && m.cases > 0)
        .filter_map(|(group, m)| {
            stats::ln(Decimal::from(m.deaths) / Decimal::from(m.cases)).map(|l| (group, l))
        })
        .collect();
    let values: Vec<Decimal> = logs.iter().map(|(_, l)| *l).collect();
    let (Some(mean), Some(sd)) = (stats::mean(&values), stats::population_sd(&values)) else {
        return BTreeSet::new();
    };
    if sd.is_zero() {
        return BTreeSet::new();
    }
    logs.into_iter()
        .filter(|(_, l)| (*l - mean) / sd < threshold)
        .map(|(group, _)| group.clone())
        .collect()
}

/// Share of discharges followed by an unplanned readmission of the same person to the same
/// hospital within `window_days` (gap 0..=window).
pub fn readmission_rate(lists: &[InpatientList], window_days: i32) -> Option<Decimal> {
    let mut stays: BTreeMap<(&str, &str), Vec<&InpatientList>> = BTreeMap::new();
    for list in lists {
        stays
            .entry((list.person_id.as_str(), list.key.hospital.as_str()))
            .or_default()
            .push(list);
    }
    let mut readmitted = 0u64;
    for person_stays in stays.values_mut() {
        person_stays.sort_by(|a, b| {
            (a.admitted_at, a.discharged_at, &a.key.id).cmp(&(
                b.admitted_at,
                b.discharged_at,
                &b.key.id,
            ))
        });
        readmitted += person_stays
            .windows(2)
            .filter(|pair| {
                let gap = pair[1]
                    .admitted_at
                    .date()
                    .days_since(pair[0].discharged_at.date());
                !pair[0].planned_readmission && (0..=window_days).contains(&gap)
            })
            .count() as u64;
    }
    ratio(Decimal::from(readmitted), Decimal::from(lists.len()))
}

/// 人次人头比: stays per distinct person.
pub fn admissions_per_patient(lists: &[InpatientList]) -> Option<Decimal> {
    let people: BTreeSet<&str> = lists.iter().map(|l| l.person_id.as_str()).collect();
    ratio(Decimal::from(lists.len()), Decimal::from(people.len()))
}

/// 自费率: wholly self-paid cost over total cost.
pub fn self_pay_ratio(lists: &[InpatientList]) -> Option<Decimal> {
    let own: Decimal = lists.iter().map(|l| l.full_self_pay.value()).sum();
    let total: Decimal = lists.iter().map(|l| l.total_cost.value()).sum();
    ratio(own, total)
}

/// 入组率: grouped lists over all lists.
pub fn grouping_rate(lists: &[InpatientList]) -> Option<Decimal> {
    let grouped = lists.iter().filter(|l| l.drg.is_some()).count();
    ratio(Decimal::from(grouped), Decimal::from(lists.len()))
}

/// 次均费用: mean total cost per stay, to the fen (money, so through [`Money::round`]).
pub fn mean_cost(lists: &[InpatientList]) -> Option<Money> {
    let total: Decimal = lists.iter().map(|l| l.total_cost.value()).sum();
    (!lists.is_empty()).then(|| Money::round(total / Decimal::from(lists.len())))
}

/// 平均住院日: mean length of stay.
pub fn average_length_of_stay(lists: &[InpatientList]) -> Option<Decimal> {
    let days: i64 = lists.iter().map(|l| i64::from(l.length_of_stay())).sum();
    ratio(Decimal::from(days), Decimal::from(lists.len()))
}

/// Drug charge categories (西药, 中药饮片, 中成药), for 药占比.
pub const DRUG_CATEGORIES: [ChargeCategory; 3] = [
    ChargeCategory::WESTERN_DRUGS,
    ChargeCategory::HERBAL_PIECES,
    ChargeCategory::PATENT_CHINESE_DRUGS,
];

/// Consumables (卫生材料), for 耗占比.
pub const CONSUMABLE_CATEGORIES: [ChargeCategory; 1] = [ChargeCategory::CONSUMABLES];

/// Share of total cost billed in fee lines of `categories` (药占比, 耗占比).
pub fn category_share(lists: &[InpatientList], categories: &[ChargeCategory]) -> Option<Decimal> {
    let billed: Decimal = lists.iter().map(|l| l.billed_in(categories)).sum();
    let total: Decimal = lists.iter().map(|l| l.total_cost.value()).sum();
    ratio(billed, total)
}

/// Distinct DRGs with at least one case (DRG 组数, groups covered).
pub fn groups_covered(lists: &[InpatientList]) -> usize {
    lists
        .iter()
        .filter_map(|l| l.drg.as_deref())
        .collect::<BTreeSet<_>>()
        .len()
}

/// Share of lists with a published group mean whose cost reaches `multiple` × that mean,
/// unrounded (rule 19 compares it exactly).
pub fn high_cost_share_exact<'a>(
    lists: impl IntoIterator<Item = &'a InpatientList>,
    tables: &Tables,
    multiple: Decimal,
) -> Option<Decimal> {
    let (mut high, mut priced) = (0u64, 0u64);
    for list in lists {
        let Some(mean) = list
            .drg
            .as_deref()
            .and_then(|drg| tables.group_means.get(drg))
        else {
            continue;
        };
        priced += 1;
        high += u64::from(list.total_cost.value() >= multiple * mean.mean_cost.value());
    }
    (priced > 0).then(|| Decimal::from(high) / Decimal::from(priced))
}

/// High-cost case share, rounded.
pub fn high_cost_share(
    lists: &[InpatientList],
    tables: &Tables,
    multiple: Decimal,
) -> Option<Decimal> {
    high_cost_share_exact(lists, tables, multiple).map(round_indicator)
}

/// Growth rate (current − previous) / previous, of cost or fund payment.
pub fn growth_rate(current: Decimal, previous: Decimal) -> Option<Decimal> {
    ratio(current - previous, previous)
}

/// The monthly grouping-efficacy list: cases, grouped cases, ADRG and DRG counts, each DRG's CV
/// and the RIV, on total cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupingEfficacy {
    pub cases: usize,
    pub grouped: usize,
    pub adrgs: usize,
    pub drgs: usize,
    pub cv: BTreeMap<String, Decimal>,
    pub riv: Option<Decimal>,
}

pub fn grouping_efficacy(lists: &[InpatientList]) -> GroupingEfficacy {
    let mut costs: BTreeMap<&str, Vec<Decimal>> = BTreeMap::new();
    for list in lists {
        if let Some(drg) = list.drg.as_deref() {
            costs.entry(drg).or_default().push(list.total_cost.value());
        }
    }
    let adrgs: BTreeSet<&str> = lists.iter().filter_map(InpatientList::adrg).collect();
    let groups: Vec<Vec<Decimal>> = costs.values().cloned().collect();
    GroupingEfficacy {
        cases: lists.len(),
        grouped: groups.iter().map(Vec::len).sum(),
        adrgs: adrgs.len(),
        drgs: costs.len(),
        cv: costs
            .iter()
            .filter_map(|(drg, values)| {
                coefficient_of_variation(values).map(|cv| ((*drg).to_owned(), cv))
            })
            .collect(),
        riv: reduction_in_variance(&groups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use rust_decimal_macros::dec;

    fn group(value: Decimal, cases: u64) -> WeightedGroup {
        WeightedGroup { value, cases }
    }

    #[test]
    fn cmi_of_the_domain_example_is_1_34() {
        let groups = [
            group(dec!(1.2), 50),
            group(dec!(0.8), 30),
            group(dec!(2.5), 20),
        ];
        assert_eq!(cmi(&groups), Some(dec!(1.3400)));
        assert_eq!(cmi(&[]), None);
    }

    #[test]
    fn riv_of_the_domain_example_is_0_956() {
        let thousands = |values: &[i64]| values.iter().map(|v| Decimal::from(v * 1000)).collect();
        let groups: Vec<Vec<Decimal>> = vec![
            thousands(&[8, 10, 12]),
            thousands(&[18, 20, 22]),
            thousands(&[4, 5, 6, 5]),
        ];
        let riv = reduction_in_variance(&groups).expect("riv");
        assert_eq!(riv, dec!(0.9559));
        assert_eq!(riv.round_dp(3), dec!(0.956));
        // CV of A with the population σ is 0.163 (0.200 would be the sample σ).
        let cv = coefficient_of_variation(&groups[0]).expect("cv");
        assert_eq!(cv, dec!(0.1633));
    }

    #[test]
    fn consumption_index_weighs_ratios_by_cases() {
        let groups = [
            GroupComparison {
                hospital_mean: dec!(9000),
                regional_mean: dec!(10000),
                cases: 30,
            },
            GroupComparison {
                hospital_mean: dec!(12000),
                regional_mean: dec!(10000),
                cases: 10,
            },
        ];
        // (0.9 × 30 + 1.2 × 10) / 40 = 0.975
        assert_eq!(consumption_index(&groups), Some(dec!(0.9750)));
    }

    #[test]
    fn low_risk_groups_sit_below_minus_one_z() {
        let mortality: BTreeMap<String, Mortality> = [
            ("A", 1, 1000),
            ("B", 10, 1000),
            ("C", 12, 1000),
            ("D", 15, 1000),
            ("E", 0, 1000),
        ]
        .into_iter()
        .map(|(g, deaths, cases)| (g.to_owned(), Mortality { deaths, cases }))
        .collect();
        let low = low_risk_groups(&mortality, dec!(-1));
        assert_eq!(low, BTreeSet::from(["A".to_owned()]));
    }

    #[test]
    fn rates_over_lists() {
        let first = list("L1", "P1", "2026-03-01 08:00", "2026-03-05 08:00");
        let back = list("L2", "P1", "2026-03-20 08:00", "2026-03-22 08:00");
        let other = with_drg(
            list("L3", "P2", "2026-03-01 08:00", "2026-03-05 08:00"),
            "ES23",
        );
        let lists = vec![first.clone(), back.clone(), other];
        assert_eq!(readmission_rate(&lists, 15), Some(dec!(0.3333)));
        assert_eq!(readmission_rate(&lists, 14), Some(dec!(0)));
        assert_eq!(admissions_per_patient(&lists), Some(dec!(1.5)));
        assert_eq!(grouping_rate(&lists), Some(dec!(0.3333)));
        let mut paying = first;
        paying.full_self_pay = money("300.00");
        assert_eq!(self_pay_ratio(&[paying, back]), Some(dec!(0.15)));
    }

    #[test]
    fn cost_stay_and_share_figures() {
        let mut short = with_drg(
            list("L1", "P1", "2026-03-01 08:00", "2026-03-03 08:00"),
            "ES23",
        );
        short.lines = vec![
            line("XJ01DDA001", 9, "10", "12.5", "2026-03-01 09:00"),
            line("MZ01", 8, "2", "35", "2026-03-01 09:00"),
        ];
        let mut long = with_drg(
            list("L2", "P2", "2026-03-01 08:00", "2026-03-08 08:00"),
            "ES23",
        );
        long.total_cost = money("25800.01");
        let lists = vec![short, long];
        assert_eq!(mean_cost(&lists), Some(money("13400.01")));
        assert_eq!(mean_cost(&[]), None);
        assert_eq!(average_length_of_stay(&lists), Some(dec!(4.5)));
        // 125.00 of drugs and 70.00 of consumables over 26,800.01.
        assert_eq!(category_share(&lists, &DRUG_CATEGORIES), Some(dec!(0.0047)));
        assert_eq!(
            category_share(&lists, &CONSUMABLE_CATEGORIES),
            Some(dec!(0.0026))
        );
        assert_eq!(groups_covered(&lists), 1);
        let tables = Tables::demo().expect("demo tables");
        // ES23's mean is 8,600.00: 3 × that is 25,800.00.
        assert_eq!(high_cost_share(&lists, &tables, dec!(3)), Some(dec!(0.5)));
        assert_eq!(growth_rate(dec!(110), dec!(100)), Some(dec!(0.1)));
        assert_eq!(growth_rate(dec!(1), Decimal::ZERO), None);
    }

    #[test]
    fn grouping_efficacy_of_the_domain_example() {
        let mut lists = Vec::new();
        for (drg, costs) in [
            ("ES21", &["8000.00", "10000.00", "12000.00"][..]),
            ("ES23", &["18000.00", "20000.00", "22000.00"][..]),
            ("FM19", &["4000.00", "5000.00", "6000.00", "5000.00"][..]),
        ] {
            for (i, cost) in costs.iter().enumerate() {
                let mut stay = with_drg(
                    list(
                        &format!("{drg}{i}"),
                        "P1",
                        "2026-03-01 08:00",
                        "2026-03-05 08:00",
                    ),
                    drg,
                );
                stay.total_cost = money(cost);
                lists.push(stay);
            }
        }
        lists.push(list("U1", "P2", "2026-03-01 08:00", "2026-03-05 08:00"));
        let efficacy = grouping_efficacy(&lists);
        assert_eq!(
            (
                efficacy.cases,
                efficacy.grouped,
                efficacy.adrgs,
                efficacy.drgs
            ),
            (11, 10, 2, 3)
        );
        assert_eq!(efficacy.riv, Some(dec!(0.9559)));
        assert_eq!(efficacy.cv.get("ES21"), Some(&dec!(0.1633)));
    }
}
