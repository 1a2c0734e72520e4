//! What a simulation produces: seed, years, volume and the share of each payment mode and
//! irregularity.

use serde::{Deserialize, Serialize};

/// Shares of all cases (inpatient and ambulatory) that follow each mode other than the main
/// method; the main method (DIP in Hainan) takes what is left. Defaults in brackets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModeRates {
    /// Basic-level diseases at primary institutions [0.06].
    pub basic_level: f64,
    /// Day surgery, stay under 48 hours [0.04].
    pub day_surgery: f64,
    /// Psychiatric stays beyond the 56-day acute phase, per diem [0.01].
    pub per_diem_psychiatric: f64,
    /// Rehabilitation stays (department A21), per diem [0.015].
    pub per_diem_rehabilitation: f64,
    /// Hospice stays (department A24), per diem [0.005].
    pub per_diem_hospice: f64,
    /// Stays of 60 days or more outside per diem [0.01].
    pub long_stay: f64,
    /// Readmissions to the same hospital 1–15 days after discharge, other diagnosis category
    /// [0.02].
    pub readmission_within_15_days: f64,
    /// Readmissions to the same hospital 16–60 days after discharge [0.02].
    pub readmission_after_15_days: f64,
    /// Outpatient settlements (one in five chronic, 门诊慢特病) [0.12].
    pub outpatient: f64,
    /// Pharmacy settlements [0.06].
    pub pharmacy: f64,
}

impl Default for ModeRates {
    fn default() -> Self {
        Self {
            basic_level: 0.06,
            day_surgery: 0.04,
            per_diem_psychiatric: 0.01,
            per_diem_rehabilitation: 0.015,
            per_diem_hospice: 0.005,
            long_stay: 0.01,
            readmission_within_15_days: 0.02,
            readmission_after_15_days: 0.02,
            outpatient: 0.12,
            pharmacy: 0.06,
        }
    }
}

/// Shares of all cases that carry each irregularity. Defaults in brackets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IrregularityRates {
    /// 分解住院: readmitted 0–3 days after discharge with the same diagnosis [0.01].
    pub split_admission: f64,
    /// 高套: coded as a costlier group of the same diagnosis, or with MCCs, without the charges
    /// [0.015].
    pub upcoding: f64,
    /// 重复收费: a fee line billed twice [0.01].
    pub duplicate_charge: f64,
    /// 分解收费: package components billed besides the package [0.01].
    pub unbundled_charge: f64,
    /// 挂床住院: three or more days with a bed charge only [0.005].
    pub bed_blocking: f64,
    /// 分解至门诊: an outpatient or pharmacy settlement before or during a stay [0.01].
    pub cost_shifted_to_outpatient: f64,
    /// 虚假住院: a stay without examinations, laboratory tests or nursing [0.003].
    pub phantom_stay: f64,
}

impl Default for IrregularityRates {
    fn default() -> Self {
        Self {
            split_admission: 0.01,
            upcoding: 0.015,
            duplicate_charge: 0.01,
            unbundled_charge: 0.01,
            bed_blocking: 0.005,
            cost_shifted_to_outpatient: 0.01,
            phantom_stay: 0.003,
        }
    }
}

/// A simulation. Defaults: seed 2024, one year from 2024, 100,000 cases a year, the rates of
/// [`ModeRates::default`] and [`IrregularityRates::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationConfig {
    /// The same seed gives byte-identical output.
    pub seed: u64,
    /// First simulated year (2000–2090).
    pub first_year: i32,
    /// Years simulated, 1–5 (three build a DIP directory from history).
    pub years: u32,
    /// Cases per year (inpatient and ambulatory), 1–10,000,000.
    pub cases_per_year: u64,
    pub modes: ModeRates,
    pub irregularities: IrregularityRates,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            seed: 2024,
            first_year: 2024,
            years: 1,
            cases_per_year: 100_000,
            modes: ModeRates::default(),
            irregularities: IrregularityRates::default(),
        }
    }
}

/// One problem of a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// The field, e.g. `modes.day_surgery`.
    pub field: String,
    pub reason: String,
}

/// Every problem of a configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the simulation configuration is invalid: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.reason)).collect::<Vec<_>>().join("; "))]
pub struct ConfigError(pub Vec<ConfigProblem>);

impl ModeRates {
    /// Field name and rate of each mode, in a fixed order.
    pub fn named(&self) -> [(&'static str, f64); 10] {
        [
            ("basic_level", self.basic_level),
            ("day_surgery", self.day_surgery),
            ("per_diem_psychiatric", self.per_diem_psychiatric),
            ("per_diem_rehabilitation", self.per_diem_rehabilitation),
            ("per_diem_hospice", self.per_diem_hospice),
            ("long_stay", self.long_stay),
            (
                "readmission_within_15_days",
                self.readmission_within_15_days,
            ),
            ("readmission_after_15_days", self.readmission_after_15_days),
            ("outpatient", self.outpatient),
            ("pharmacy", self.pharmacy),
        ]
    }
}

impl IrregularityRates {
    /// Field name and rate of each irregularity, in a fixed order.
    pub fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("split_admission", self.split_admission),
            ("upcoding", self.upcoding),
            ("duplicate_charge", self.duplicate_charge),
            ("unbundled_charge", self.unbundled_charge),
            ("bed_blocking", self.bed_blocking),
            (
                "cost_shifted_to_outpatient",
                self.cost_shifted_to_outpatient,
            ),
            ("phantom_stay", self.phantom_stay),
        ]
    }
}

impl SimulationConfig {
    /// Checks every field and reports every problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem =
            |field: String, reason: String| problems.push(ConfigProblem { field, reason });
        if !(2000..=2090).contains(&self.first_year) {
            problem(
                "first_year".into(),
                format!("{} is outside 2000–2090", self.first_year),
            );
        }
        if !(1..=5).contains(&self.years) {
            problem("years".into(), format!("{} is outside 1–5", self.years));
        }
        if !(1..=10_000_000).contains(&self.cases_per_year) {
            problem(
                "cases_per_year".into(),
                format!("{} is outside 1–10,000,000", self.cases_per_year),
            );
        }
        let mut total = 0.0;
        let rates = self
            .modes
            .named()
            .into_iter()
            .map(|(n, r)| (format!("modes.{n}"), r))
            .chain(
                self.irregularities
                    .named()
                    .into_iter()
                    .map(|(n, r)| (format!("irregularities.{n}"), r)),
            );
        for (field, rate) in rates {
            if !rate.is_finite() || !(0.0..=1.0).contains(&rate) {
                problem(field, format!("{rate} is not a share between 0 and 1"));
            } else {
                total += rate;
            }
        }
        if total > 1.0 {
            problem(
                "modes, irregularities".into(),
                format!("the rates add up to {total:.4}, more than all cases"),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }

    /// Share of cases that follow the main method without an irregularity.
    pub fn main_method_rate(&self) -> f64 {
        let modes: f64 = self.modes.named().iter().map(|(_, r)| r).sum();
        let irregular: f64 = self.irregularities.named().iter().map(|(_, r)| r).sum();
        (1.0 - modes - irregular).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_leave_most_cases_to_the_main_method() {
        let config = SimulationConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert!((config.main_method_rate() - 0.577).abs() < 1e-9);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut config = SimulationConfig {
            years: 0,
            cases_per_year: 0,
            ..SimulationConfig::default()
        };
        config.modes.outpatient = 1.5;
        config.irregularities.upcoding = f64::NAN;
        let problems = config.validate().expect_err("invalid").0;
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "years",
                "cases_per_year",
                "modes.outpatient",
                "irregularities.upcoding"
            ]
        );
        config = SimulationConfig::default();
        config.modes.outpatient = 0.9;
        let problems = config.validate().expect_err("over one").0;
        assert_eq!(problems[0].field, "modes, irregularities");
    }
}
