//! What the bureau learns from the simulated year before it sets the tables: a pass over the
//! cases groups the main-method stays locally with the demo DRG scheme and averages the costs of
//! each group, of each per-diem programme per day and level, and of each day-surgery procedure,
//! per fund. The tables put to the points context are priced from those averages, so the
//! demo's point values land near what the costs would give. On DIP the main method's rows are
//! the built directory's scores and reference costs (`super::dip`) instead of DRG points.

use std::collections::{BTreeMap, BTreeSet};

use grouping_domain::{GroupStatus, Grouper, RawCase};
use kernel::{Decimal, FundType, Money, RegionCode};
use medpay_simulator::{Mode, Record, SimulatedCase, catalogue::DAY_SURGERY_PROCEDURES};

/// The hospital levels of the tables, as the settlement list and the points context write them.
pub const LEVELS: [&str; 6] = ["3A", "3B", "2A", "2B", "1", "community"];

/// Level coefficients as a Hainan bureau sets them: tertiary hospitals above 1, primary care
/// below; the same numbers for DRG difference coefficients and DIP level coefficients.
const LEVEL_COEFFICIENTS: [(&str, &str); 6] = [
    ("3A", "1.10"),
    ("3B", "1.05"),
    ("2A", "1.00"),
    ("2B", "0.95"),
    ("1", "0.90"),
    ("community", "0.85"),
];

/// The main method's rows of a table.
pub enum MainRows<'a> {
    /// DRG points priced from the observed group means.
    Drg,
    /// The built directory's `dip.groups` and the basic-level DIP groups.
    Dip {
        groups: serde_json::Map<String, serde_json::Value>,
        basic_level_groups: &'a BTreeSet<String>,
    },
}

/// A running mean of amounts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mean {
    total: Decimal,
    weight: Decimal,
}

impl Mean {
    pub fn add(&mut self, amount: Money, weight: Decimal) {
        self.total += amount.value();
        self.weight += weight;
    }

    pub fn value(&self) -> Option<Decimal> {
        (self.weight > Decimal::ZERO).then(|| self.total / self.weight)
    }
}

/// Averages of one fund.
#[derive(Debug, Default)]
struct FundObservations {
    all_main: Mean,
    drg: BTreeMap<String, Mean>,
    basic_level_groups: BTreeSet<String>,
    per_diem: BTreeMap<(&'static str, &'static str), Mean>,
    day_surgery: BTreeMap<&'static str, Mean>,
}

/// What one pass over the simulated year shows the bureau.
#[derive(Debug, Default)]
pub struct Observations {
    funds: BTreeMap<u16, FundObservations>,
    /// Pooled-fund claims (hifp_pay) of the inpatient lists, per pooling region and fund.
    pub inpatient_claims: BTreeMap<(RegionCode, u16), Money>,
    pub records: u64,
}

fn per_diem_programme(mode: Mode) -> Option<&'static str> {
    match mode {
        Mode::PerDiemPsychiatric => Some("psychiatric"),
        Mode::PerDiemRehabilitation => Some("rehabilitation"),
        Mode::PerDiemHospice => Some("hospice"),
        _ => None,
    }
}

fn level_code(code: &str) -> Option<&'static str> {
    LEVELS.into_iter().find(|level| *level == code)
}

impl Observations {
    /// Looks at one case.
    /// Looks at one case: every year's stays price the per-diem programmes and day surgery (a
    /// history year is valued on the same standards as the paid one); only the paid year's
    /// (`paid_year`) count as claims and price the DRGs.
    pub fn observe(&mut self, case: &SimulatedCase, grouper: &mut Grouper<'_>, paid_year: bool) {
        let Record::Inpatient(list) = &case.record else {
            self.records += u64::from(paid_year);
            return;
        };
        let fund = list.header.insurance_type;
        if paid_year {
            self.records += 1;
            *self
                .inpatient_claims
                .entry((list.header.pooling_region, fund))
                .or_insert(Money::ZERO) += list.payment.pooled_fund;
        }
        let observed = self.funds.entry(fund).or_default();
        let total = list.payment.total;
        if let Some(programme) = per_diem_programme(case.truth.mode) {
            if let Some(level) = level_code(&list.header.hospital_level) {
                let days = Decimal::from(list.stay.billable_days());
                observed
                    .per_diem
                    .entry((programme, level))
                    .or_default()
                    .add(total, days);
            }
            return;
        }
        if case.truth.mode == Mode::DaySurgery {
            let principal = list.procedures.first().map(|p| p.code.as_str());
            if let Some(code) = DAY_SURGERY_PROCEDURES
                .into_iter()
                .find(|code| principal.is_some_and(|p| p.starts_with(code)))
            {
                observed
                    .day_surgery
                    .entry(code)
                    .or_default()
                    .add(total, Decimal::ONE);
            }
            return;
        }
        if case.truth.mode == Mode::LongStay || !paid_year {
            return;
        }
        let diagnoses: Vec<&str> = list.diagnoses.iter().map(|d| d.code.as_str()).collect();
        let procedures: Vec<&str> = list.procedures.iter().map(|p| p.code.as_str()).collect();
        let (diagnoses, procedures) = (diagnoses.join("|"), procedures.join("|"));
        let (sex, age) = (
            list.patient.sex.to_string(),
            list.patient.age_years.to_string(),
        );
        let age_days = list
            .patient
            .age_days
            .map(|d| d.to_string())
            .unwrap_or_default();
        let weight = list
            .patient
            .newborn_birth_weight_g
            .map(|w| w.to_string())
            .unwrap_or_default();
        let (stay, leaving) = (
            list.stay.length_of_stay().to_string(),
            list.stay.discharge_type.to_string(),
        );
        let raw = RawCase {
            gender: &sex,
            age: &age,
            age_days: &age_days,
            weight: &weight,
            dept: &list.stay.discharge_department,
            diagnoses: &diagnoses,
            procedures: &procedures,
            length_of_stay: &stay,
            leaving_type: &leaving,
        };
        let result = grouper.group(&raw, false);
        if result.status != GroupStatus::Success {
            return;
        }
        let drg = result.drg.to_string();
        if case.truth.mode == Mode::BasicLevel {
            observed.basic_level_groups.insert(drg.clone());
        }
        observed.all_main.add(total, Decimal::ONE);
        observed
            .drg
            .entry(drg)
            .or_default()
            .add(total, Decimal::ONE);
    }

    /// The mean cost of the main-method stays of `fund`, the basis of a provisional point value.
    pub fn all_case_mean_cost(&self, fund: FundType) -> Option<Money> {
        self.funds
            .get(&fund.code())
            .and_then(|f| f.all_main.value())
            .map(Money::round)
    }

    /// The valuation document (policy and tables) of `region`, `year` and `fund` in the points
    /// context's JSON form. On DRG: a DRG row per observed group (base points = group mean /
    /// all-case mean × 100), DRG level coefficients, the observed basic-level DRGs. On DIP: the
    /// directory's scores and reference costs, DIP level coefficients (the basic-level diseases
    /// at the 2A one), the basic-level DIP groups. Both: per-diem rates at 95 % of the observed
    /// cost per day, day-surgery prices at 95 % of the observed mean.
    pub fn table_document(
        &self,
        region: RegionCode,
        year: i32,
        fund: FundType,
        main: &MainRows<'_>,
    ) -> anyhow::Result<String> {
        let observed = self
            .funds
            .get(&fund.code())
            .ok_or_else(|| anyhow::anyhow!("no inpatient stay of fund {}", fund.code()))?;
        let all_mean = observed
            .all_main
            .value()
            .map(Money::round)
            .ok_or_else(|| anyhow::anyhow!("no main-method stay of fund {}", fund.code()))?;
        let hundred = Decimal::ONE_HUNDRED;
        let groups: serde_json::Map<String, serde_json::Value> = observed
            .drg
            .iter()
            .filter_map(|(code, mean)| {
                let group_mean = Money::round(mean.value()?);
                let points = kernel::Points::round(group_mean.value() / all_mean.value() * hundred);
                Some((
                    code.clone(),
                    serde_json::json!({
                        "mean_cost": group_mean.to_string(),
                        "base_points": points.to_string(),
                    }),
                ))
            })
            .collect();
        let share = Decimal::new(95, 2);
        // A level that had no stay of a programme takes the programme's mean over every level,
        // so that no later stay finds its level without a standard.
        let mut every_level: BTreeMap<&str, Mean> = BTreeMap::new();
        for ((programme, _), mean) in &observed.per_diem {
            let all = every_level.entry(programme).or_default();
            all.total += mean.total;
            all.weight += mean.weight;
        }
        let mut programmes: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
        for (programme, all) in &every_level {
            for level in LEVELS {
                let per_day = observed
                    .per_diem
                    .get(&(*programme, level))
                    .and_then(Mean::value)
                    .or_else(|| all.value());
                if let Some(per_day) = per_day {
                    programmes
                        .entry(programme)
                        .or_default()
                        .insert(level, Money::round(per_day * share).to_string());
                }
            }
        }
        let programmes: serde_json::Map<String, serde_json::Value> = programmes
            .into_iter()
            .map(|(programme, rates)| {
                (
                    programme.to_owned(),
                    serde_json::json!([{"name": "all", "daily_rates": rates}]),
                )
            })
            .collect();
        let prices: BTreeMap<&str, String> = observed
            .day_surgery
            .iter()
            .filter_map(|(code, mean)| {
                Some((*code, Money::round(mean.value()? * share).to_string()))
            })
            .collect();
        let effective_from = format!("{year}-01-01");
        let coefficients: serde_json::Map<String, serde_json::Value> = LEVEL_COEFFICIENTS
            .into_iter()
            .map(|(level, coefficient)| {
                (
                    level.to_owned(),
                    serde_json::json!({"all_groups": [
                        {"coefficient": coefficient, "effective_from": effective_from}
                    ]}),
                )
            })
            .collect();
        let dip_levels: serde_json::Map<String, serde_json::Value> = LEVEL_COEFFICIENTS
            .into_iter()
            .map(|(level, coefficient)| (level.to_owned(), coefficient.into()))
            .collect();
        let fund_code = fund.code().to_string();
        let (main_method, basic_level_groups) = match main {
            MainRows::Drg => ("drg", &observed.basic_level_groups),
            MainRows::Dip {
                basic_level_groups, ..
            } => ("dip", *basic_level_groups),
        };
        let mut tables = serde_json::json!({
            "region": region.to_string(),
            "year": year,
            "fund_type": fund_code,
            "per_diem": {"programmes": programmes},
            "day_surgery": {"prices": prices},
        });
        match main {
            MainRows::Drg => {
                tables["drg"] = serde_json::json!({"all_case_mean_cost": all_mean.to_string(), "groups": groups});
                tables["coefficients"] = serde_json::json!({"drg_by_level": coefficients});
            }
            MainRows::Dip { groups, .. } => {
                tables["dip"] = serde_json::json!({ "groups": groups });
                tables["coefficients"] = serde_json::json!({"dip_levels": dip_levels});
            }
        }
        Ok(serde_json::json!({
            "policy": {
                "region": region.to_string(),
                "year": year,
                "fund_type": fund_code,
                "main_method": main_method,
                "modes": {
                    "day_surgery": {"procedure_codes": prices.keys().collect::<Vec<_>>()},
                    "basic_level": {"group_codes": basic_level_groups},
                },
            },
            "tables": tables,
        })
        .to_string())
    }
}
