//! A simulated province-year for medpay: Hainan's real GB/T 2260 regions, synthetic hospitals of
//! every level with service agreements, insured persons of both funds (310, 390), and a seeded,
//! streamed sequence of settlements — inpatient settlement lists, outpatient and pharmacy
//! settlements — covering every Hainan payment mode, with irregularities seeded at known
//! positions and a ground-truth record per case.
//!
//! ```
//! use medpay_simulator::{Simulation, SimulationConfig};
//!
//! let config = SimulationConfig { cases_per_year: 1_000, ..SimulationConfig::default() };
//! let simulation = Simulation::hainan(config)?;
//! for case in simulation.cases().take(3) {
//!     let json = case.record_json()?; // what intake accepts
//!     assert!(json.starts_with('{'));
//!     let _truth = &case.truth; // never part of the record
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **Codes** come from the demo DIP directory of `grouping-dip` (principal diagnoses,
//!   procedure combinations, group means) and the demo DRG scheme of `grouping-domain` (names,
//!   CC/MCC secondary diagnoses); see [`catalogue`] for the few codes the per-diem modes add.
//! - **Costs** follow group-specific log-normal distributions (mean = the group's directory mean
//!   at a 2A hospital) scaled by the hospital's level and a per-hospital effect. They are
//!   sampled in `f64` inside the simulator; every amount leaves as `kernel::Money`, rounded once
//!   to the fen in [`money_from_sample`], and is then only split in whole fen or shared with
//!   `Money::mul_round`, so fee lines add up to the charges and the charges to the total.
//! - **Determinism**: the same [`SimulationConfig`] gives byte-identical output; another seed
//!   gives other output. The generator is the crate's own xoshiro256**.
//! - **Streaming**: [`Simulation::cases`] is an iterator that holds no case it has yielded (see
//!   [`generate`] for the bound), so 10,000,000 cases take the memory of one. A stream's
//!   position is a [`StreamSnapshot`]; [`Simulation::cases_from`] resumes there, e.g. at a year
//!   ([`CaseStream::year_start`]) without generating the years before it.
//! - **Outputs**: each record as the JSON intake accepts ([`SimulatedCase::record_json`]), the
//!   history CSV of `grouping/dip/FORMAT.md` ([`HISTORY_CSV_HEADER`],
//!   [`SimulatedCase::history_csv_row`]) and the ground truth ([`SimulatedCase::truth_json`]).

pub mod catalogue;
pub mod config;
pub mod generate;
pub mod items;
pub mod province;
mod rng;
pub mod score;
pub mod truth;

use std::io::Write;

use kernel::date::Date;
use settlement_domain::case::{AmbulatorySettlement, SettlementList};

pub use catalogue::{CaseTemplate, Catalogue, CatalogueError};
pub use config::{ConfigError, IrregularityRates, ModeRates, SimulationConfig};
pub use generate::{CaseStream, StreamSnapshot, money_from_sample};
pub use province::{Hospital, HospitalLevel, Person, Province};
pub use truth::{GroundTruth, Irregularity, Mode, RecordKind};

/// Why a simulation cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("the province cannot simulate every mode: it has no {0}")]
    Province(&'static str),
}

/// A settlement record as intake receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Inpatient(Box<SettlementList>),
    Ambulatory(Box<AmbulatorySettlement>),
}

/// One generated case: the record and what it really is.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatedCase {
    pub record: Record,
    pub truth: GroundTruth,
}

/// Header of the history CSV (`grouping/dip/FORMAT.md`, "History CSV").
pub const HISTORY_CSV_HEADER: &str = "year,principal_diagnosis,procedures,total_cost,hospital_level,case_id,\
     secondary_diagnoses,discharge_type,los_days,age_years,age_days";

impl SimulatedCase {
    pub(crate) fn inpatient(list: SettlementList, truth: GroundTruth) -> Self {
        Self {
            record: Record::Inpatient(Box::new(list)),
            truth,
        }
    }

    /// The record as the JSON intake accepts (a settlement list or an ambulatory settlement).
    pub fn record_json(&self) -> Result<String, serde_json::Error> {
        match &self.record {
            Record::Inpatient(list) => serde_json::to_string(list),
            Record::Ambulatory(settlement) => serde_json::to_string(settlement),
        }
    }

    /// The ground truth as one JSON object.
    pub fn truth_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.truth)
    }

    /// The inpatient list, if the record is one.
    pub fn list(&self) -> Option<&SettlementList> {
        match &self.record {
            Record::Inpatient(list) => Some(list),
            Record::Ambulatory(_) => None,
        }
    }

    /// The case as a line of the history CSV (no line end), for stays that DIP groups: the
    /// main method, basic-level, day surgery and readmissions, irregular ones as coded. Per-diem
    /// stays, long stays and ambulatory settlements give `None`.
    pub fn history_csv_row(&self) -> Option<String> {
        let list = self.list()?;
        if matches!(
            self.truth.mode,
            Mode::PerDiemPsychiatric
                | Mode::PerDiemRehabilitation
                | Mode::PerDiemHospice
                | Mode::LongStay
        ) {
            return None;
        }
        let procedures: Vec<&str> = list.procedures.iter().map(|p| p.code.as_str()).collect();
        let secondaries: Vec<&str> = list
            .diagnoses
            .iter()
            .skip(1)
            .map(|d| d.code.as_str())
            .collect();
        let los = list
            .stay
            .discharged_at
            .date()
            .days_since(list.stay.admitted_at.date());
        Some(format!(
            "{},{},{},{},{},{},{},{},{},{},{}",
            self.truth.year,
            list.diagnoses.first().map_or("", |d| d.code.as_str()),
            procedures.join("|"),
            list.payment.total,
            list.header.hospital_level,
            list.header.list_id,
            secondaries.join("|"),
            list.stay.discharge_type,
            los,
            list.patient.age_years,
            list.patient
                .age_days
                .map_or_else(String::new, |days| days.to_string()),
        ))
    }
}

/// Writes the history CSV of `cases` (header first), streaming; returns the rows written.
pub fn write_history_csv(
    cases: impl Iterator<Item = SimulatedCase>,
    mut out: impl Write,
) -> std::io::Result<u64> {
    writeln!(out, "{HISTORY_CSV_HEADER}")?;
    let mut rows = 0;
    for case in cases {
        if let Some(row) = case.history_csv_row() {
            writeln!(out, "{row}")?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// A province and a configuration, ready to stream cases.
#[derive(Clone, Debug)]
pub struct Simulation {
    province: Province,
    catalogue: Catalogue,
    config: SimulationConfig,
    pools: generate::Pools,
}

impl Simulation {
    /// Checks the configuration and prepares the catalogue from the demo schemes.
    pub fn new(province: Province, config: SimulationConfig) -> Result<Self, SimulationError> {
        config.validate()?;
        let catalogue = Catalogue::from_demo_schemes()?;
        let pools = generate::Pools::new(&province, &catalogue);
        if let Some(missing) = pools.missing() {
            return Err(SimulationError::Province(missing));
        }
        Ok(Self {
            province,
            catalogue,
            config,
            pools,
        })
    }

    /// [`Province::hainan`] under `config`.
    pub fn hainan(config: SimulationConfig) -> Result<Self, SimulationError> {
        Self::new(Province::hainan(), config)
    }

    /// The cases, one at a time, in generation order.
    pub fn cases(&self) -> CaseStream<'_> {
        CaseStream::new(self)
    }

    /// The cases from `snapshot` on, as the stream it was taken from yields them (take it with
    /// [`CaseStream::year_start`] to start at a year without generating the years before).
    pub fn cases_from(&self, snapshot: StreamSnapshot) -> CaseStream<'_> {
        CaseStream::resume(self, snapshot)
    }

    pub fn province(&self) -> &Province {
        &self.province
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn config(&self) -> &SimulationConfig {
        &self.config
    }

    /// A date after every date the simulation writes (one year after its last year ends): pass
    /// it to validation as "today".
    pub fn as_of(&self) -> Date {
        let last = self.config.first_year + self.config.years as i32 - 1;
        Date::new(last, 12, 31)
            .map(|d| d.add_days(366))
            .unwrap_or_else(|_| Date::from_days_since_epoch(i32::MAX / 2))
    }
}
