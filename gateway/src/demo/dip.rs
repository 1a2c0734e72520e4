//! Hainan's main inpatient method in the demo: the history years become a DIP directory built
//! by the grouping context (`BuildDipDirectory`, the twin of `medpay dip build`), loaded and
//! activated for the province. The bureau then groups the history itself with that directory to
//! learn what a score alone does not say: each group's reference cost per hospital level (last
//! year's mean, the deviation reference of DOMAIN.md §3) and the groups of the basic-level
//! diseases, which the points tables publish beside the scores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Channel;
use grouping_dip::{CompiledDirectory, DipCase, DipOutcome, Directory, GroupKind};
use kernel::{Decimal, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use medpay_simulator::{HISTORY_CSV_HEADER, Mode, SimulatedCase};

use super::{MESSAGE_LIMIT, Progress};
use points_domain::HospitalLevel;
use points_domain::reference::{CostSum, basic_level_reference, every_level, reference_cost};

/// Cases a combination of the history needs to become a core group (the CLI's default).
const MIN_CASES: u32 = 15;

/// The history CSV of `grouping/dip/FORMAT.md`, gathered while the bureau looks at the years.
#[derive(Debug)]
pub struct History {
    csv: String,
    pub rows: u64,
}

impl Default for History {
    fn default() -> Self {
        Self {
            csv: format!("{HISTORY_CSV_HEADER}\n"),
            rows: 0,
        }
    }
}

impl History {
    /// Adds the case if DIP groups it (per-diem, long stays and ambulatory records are not);
    /// says whether it did.
    pub fn add(&mut self, case: &SimulatedCase) -> bool {
        let Some(row) = case.history_csv_row() else {
            return false;
        };
        self.csv.push_str(&row);
        self.csv.push('\n');
        self.rows += 1;
        true
    }
}

/// The history's stays as grouping them with the built directory needs them, gathered in the
/// same pass as the [`History`] so that [`GroupCosts::observe`] need not simulate the years
/// again. Compact: a stay's codes are indices into one table of the codes seen (a few thousand
/// at most) and lie in one shared vector, so a stay takes about a hundred bytes (some 45 MB for
/// the 460,000 stays of `--cases 200000`).
#[derive(Debug, Default)]
pub struct HistoryStays {
    /// Every code seen, once.
    table: Vec<String>,
    index: HashMap<String, u32>,
    /// The stays' codes, one stay after the other: diagnoses (principal first), then procedures.
    codes: Vec<u32>,
    stays: Vec<HistoryStay>,
}

/// One stay of [`HistoryStays`]: the fields of its [`DipCase`] and what the costs are kept by.
#[derive(Debug)]
struct HistoryStay {
    /// Where its codes start in [`HistoryStays::codes`].
    first_code: usize,
    /// Its diagnoses, the principal one included (at least one).
    diagnoses: usize,
    procedures: usize,
    age_years: u32,
    age_days: Option<u32>,
    discharge_type: u8,
    los_days: u32,
    total: Money,
    /// Discharge year (the simulated year).
    year: i32,
    /// The list's hospital level, if a points table knows it.
    level: Option<HospitalLevel>,
    /// Paid as a basic-level disease (基层病种).
    basic_level: bool,
}

impl HistoryStays {
    /// Keeps `case`, a stay the [`History`] took, if it is a settlement list with a diagnosis
    /// (the stays grouping reads, as the grouping context reads a list).
    pub fn add(&mut self, case: &SimulatedCase) {
        let Some(list) = case.list() else {
            return;
        };
        if list.diagnoses.is_empty() {
            return;
        }
        let first_code = self.codes.len();
        for diagnosis in &list.diagnoses {
            let code = self.intern(&diagnosis.code);
            self.codes.push(code);
        }
        for procedure in &list.procedures {
            let code = self.intern(&procedure.code);
            self.codes.push(code);
        }
        self.stays.push(HistoryStay {
            first_code,
            diagnoses: list.diagnoses.len(),
            procedures: list.procedures.len(),
            age_years: list.patient.age_years,
            age_days: list.patient.age_days,
            discharge_type: list.stay.discharge_type,
            los_days: u32::try_from(list.stay.length_of_stay()).unwrap_or(0),
            total: list.payment.total,
            year: case.truth.year,
            level: HospitalLevel::from_code(&list.header.hospital_level),
            basic_level: case.truth.mode == Mode::BasicLevel,
        });
    }

    /// Stays kept.
    pub fn count(&self) -> usize {
        self.stays.len()
    }

    fn intern(&mut self, code: &str) -> u32 {
        if let Some(&at) = self.index.get(code) {
            return at;
        }
        let at = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        self.table.push(code.to_owned());
        self.index.insert(code.to_owned(), at);
        at
    }

    /// Writes `stay` into `case` (whose strings are reused), as the grouping context reads its
    /// list; `false` if a code is not in the table, which cannot happen for a kept stay.
    fn fill(&self, stay: &HistoryStay, case: &mut DipCase) -> bool {
        let end = stay.first_code + stay.diagnoses + stay.procedures;
        let Some(codes) = self.codes.get(stay.first_code..end) else {
            return false;
        };
        let (diagnoses, procedures) = codes.split_at(stay.diagnoses.min(codes.len()));
        let Some((principal, secondaries)) = diagnoses.split_first() else {
            return false;
        };
        let Some(principal) = self.code(*principal) else {
            return false;
        };
        case.principal_diagnosis.clone_from(principal);
        if !self.set_codes(&mut case.secondary_diagnoses, secondaries)
            || !self.set_codes(&mut case.procedures, procedures)
        {
            return false;
        }
        case.age_years = stay.age_years;
        case.age_days = stay.age_days;
        case.discharge_type = stay.discharge_type;
        case.los_days = stay.los_days;
        case.total_cost = stay.total.value();
        true
    }

    fn code(&self, at: u32) -> Option<&String> {
        self.table.get(usize::try_from(at).ok()?)
    }

    /// Makes `target` the codes at `codes`, reusing its strings.
    fn set_codes(&self, target: &mut Vec<String>, codes: &[u32]) -> bool {
        target.truncate(codes.len());
        for (at, code) in codes.iter().enumerate() {
            let Some(text) = self.code(*code) else {
                return false;
            };
            match target.get_mut(at) {
                Some(slot) => slot.clone_from(text),
                None => target.push(text.clone()),
            }
        }
        true
    }
}

/// The directory the grouping context built, loaded and activated, with its scores.
pub struct BuiltDirectory {
    /// Score of each group, as the build published it.
    pub scores: BTreeMap<String, Points>,
    /// Weighted mean cost of each group over the history (the fallback reference cost).
    pub means: BTreeMap<String, Money>,
    compiled: CompiledDirectory,
}

fn wire_decimal(value: Option<&common::Decimal>, what: &str) -> anyhow::Result<Decimal> {
    value
        .ok_or_else(|| anyhow::anyhow!("the build answered no {what}"))?
        .value
        .parse()
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// The texts of the demo DIP directory's Charlson weights and tumour markers.
fn demo_auxiliary_tables() -> anyhow::Result<(String, String)> {
    let mut files = grouping_dip::load_demo()
        .map_err(|e| anyhow::anyhow!("the demo DIP directory does not load: {e}"))?
        .files()
        .map_err(|e| anyhow::anyhow!("the demo DIP directory does not write: {e}"))?;
    let mut table = |name: &str| {
        files
            .remove(name)
            .ok_or_else(|| anyhow::anyhow!("the demo DIP directory has no {name}"))
    };
    Ok((table("cci_weights.tsv")?, table("tumour_markers.tsv")?))
}

/// Builds the directory of `province` from `history` over `years` through `BuildDipDirectory`
/// (loading it), and activates it for the province from `effective_from`.
pub async fn build_and_activate(
    channel: Channel,
    province: RegionCode,
    history: History,
    years: &[i32],
    effective_from: kernel::Date,
) -> anyhow::Result<BuiltDirectory> {
    let mut client = GroupingServiceClient::new(channel)
        .max_decoding_message_size(MESSAGE_LIMIT)
        .max_encoding_message_size(MESSAGE_LIMIT);
    let started = std::time::Instant::now();
    let last = years.last().copied().unwrap_or_default();
    // The severity subtypes are priced from the history too, on the demo directory's Charlson
    // weights and tumour markers.
    let (cci_weights_tsv, tumour_markers_tsv) = demo_auxiliary_tables()?;
    let built = client
        .build_dip_directory(grouping::BuildDipDirectoryRequest {
            request_id: format!("demo-dip-build-{province}-{last}"),
            region_code: province.to_string(),
            history_csv: history.csv,
            years: years.to_vec(),
            min_cases: MIN_CASES,
            score_scale: None,
            options: Some(grouping::DipBuildOptions {
                cci_weights_tsv,
                tumour_markers_tsv,
                directory_id: format!("demo-hainan-{last}"),
                directory_name: format!("Hainan DIP directory built from {years:?}"),
                directory_year: effective_from.ymd().0,
                ..Default::default()
            }),
            load: true,
        })
        .await?
        .into_inner();
    let scheme = built
        .scheme
        .ok_or_else(|| anyhow::anyhow!("BuildDipDirectory loaded no scheme"))?;
    let report = built
        .report
        .ok_or_else(|| anyhow::anyhow!("BuildDipDirectory answered no report"))?;
    let mut scores = BTreeMap::new();
    let mut means = BTreeMap::new();
    for group in &report.groups {
        let score = wire_decimal(group.score.as_ref(), "group score")?;
        scores.insert(group.code.clone(), Points::round(score));
        let mean = group
            .mean_cost
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("group {} has no mean cost", group.code))?
            .yuan
            .parse::<Money>()
            .map_err(|e| anyhow::anyhow!("mean cost of {}: {e}", group.code))?;
        means.insert(group.code.clone(), mean);
    }
    let files = built.files;
    let json = files
        .get("directory.json")
        .ok_or_else(|| anyhow::anyhow!("the built directory has no directory.json"))?;
    let directory = Directory::from_sources(json, |name| files.get(name).cloned())
        .map_err(|e| anyhow::anyhow!("the built directory does not read back: {e}"))?;
    let (year, month, day) = effective_from.ymd();
    client
        .activate_scheme(grouping::ActivateSchemeRequest {
            request_id: format!("demo-dip-activate-{province}-{last}"),
            region_code: province.to_string(),
            scheme_id: scheme.scheme_id.clone(),
            version: scheme.version.clone(),
            effective_from: Some(common::Date {
                year,
                month: month as i32,
                day: day as i32,
            }),
        })
        .await?;
    eprintln!(
        "DIP directory {} v{}: {} groups from {} history stays of {years:?} (RIV {}), active from {year}-{month:02}-{day:02} in {:.1} s",
        scheme.scheme_id,
        scheme.version,
        report.groups.len(),
        report.cases_read,
        report.riv.as_ref().map_or("none", |riv| riv.value.as_str()),
        started.elapsed().as_secs_f64()
    );
    Ok(BuiltDirectory {
        scores,
        means,
        compiled: CompiledDirectory::new(&directory),
    })
}

/// What grouping the history with the built directory shows the bureau.
#[derive(Debug, Default)]
pub struct GroupCosts {
    /// Cases and total cost per discharge year and group, by hospital level.
    by_level: BTreeMap<(i32, String), BTreeMap<HospitalLevel, CostSum>>,
    /// Core groups of the basic-level diseases (one coefficient at every level).
    pub basic_level_groups: BTreeSet<String>,
}

impl GroupCosts {
    /// Groups every stay of `stays` with `built`, from what the bureau kept while it looked at
    /// the years (the years are not simulated again).
    pub fn observe(stays: HistoryStays, built: &BuiltDirectory) -> Self {
        let mut costs = Self::default();
        let progress = Progress::new("grouping the history", stays.count() as u64);
        let mut case = DipCase {
            principal_diagnosis: String::new(),
            secondary_diagnoses: Vec::new(),
            procedures: Vec::new(),
            age_years: 0,
            age_days: None,
            discharge_type: 0,
            los_days: 0,
            total_cost: Decimal::ZERO,
        };
        let mut seen = 0_u64;
        for stay in &stays.stays {
            seen += 1;
            if seen.is_multiple_of(10_000) {
                progress.show(seen);
            }
            if !stays.fill(stay, &mut case) {
                continue;
            }
            let Ok(DipOutcome::Grouped(assignment)) = built.compiled.group(&case) else {
                continue;
            };
            let group = assignment.group_code;
            if stay.basic_level && assignment.kind == GroupKind::Core {
                costs.basic_level_groups.insert(group.clone());
            }
            if let Some(level) = stay.level {
                costs
                    .by_level
                    .entry((stay.year, group))
                    .or_default()
                    .entry(level)
                    .or_default()
                    .add(stay.total);
            }
        }
        progress.finish(seen);
        costs
    }

    /// The `dip.groups` of the points table for `year`: each built group's score, its reference
    /// cost at every level and its basic-level reference, by DOMAIN.md §5's rule over the year
    /// before (`points_domain::reference`), the build's weighted mean standing for the published
    /// mean, so that no stay meets a group without a reference.
    pub fn table_groups(
        &self,
        built: &BuiltDirectory,
        year: i32,
    ) -> serde_json::Map<String, serde_json::Value> {
        let none = BTreeMap::new();
        built
            .scores
            .iter()
            .map(|(code, score)| {
                let by_level = self
                    .by_level
                    .get(&(year - 1, code.clone()))
                    .unwrap_or(&none);
                let published = built.means.get(code).copied().unwrap_or(Money::ZERO);
                let all_levels = every_level(by_level);
                let references: serde_json::Map<String, serde_json::Value> = HospitalLevel::ALL
                    .into_iter()
                    .map(|level| {
                        let at_level = by_level.get(&level).copied().unwrap_or_default();
                        let reference = reference_cost(at_level, all_levels, published);
                        (level.code().to_owned(), reference.to_string().into())
                    })
                    .collect();
                (
                    code.clone(),
                    serde_json::json!({
                        "score": score.to_string(),
                        "reference_costs": references,
                        "basic_level_reference":
                            basic_level_reference(by_level, published).to_string(),
                    }),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(text: &str) -> Money {
        text.parse().expect("money")
    }

    /// A list as the grouping context reads it, straight from the case.
    fn dip_case(case: &SimulatedCase) -> Option<DipCase> {
        let list = case.list()?;
        let mut diagnoses = list.diagnoses.iter().map(|d| d.code.clone());
        Some(DipCase {
            principal_diagnosis: diagnoses.next()?,
            secondary_diagnoses: diagnoses.collect(),
            procedures: list.procedures.iter().map(|p| p.code.clone()).collect(),
            age_years: list.patient.age_years,
            age_days: list.patient.age_days,
            discharge_type: list.stay.discharge_type,
            los_days: u32::try_from(list.stay.length_of_stay()).unwrap_or(0),
            total_cost: list.payment.total.value(),
        })
    }

    #[test]
    fn the_kept_stays_give_back_the_history_stays_as_grouping_reads_them() {
        let simulation = medpay_simulator::Simulation::hainan(medpay_simulator::SimulationConfig {
            seed: 5,
            first_year: 2023,
            years: 2,
            cases_per_year: 1_500,
            ..Default::default()
        })
        .expect("simulation");
        let mut history = History::default();
        let mut stays = HistoryStays::default();
        let mut expected = Vec::new();
        for case in simulation.cases() {
            if history.add(&case) {
                stays.add(&case);
                let list = case.list().expect("a stay");
                expected.push((
                    dip_case(&case).expect("a diagnosis"),
                    case.truth.year,
                    HospitalLevel::from_code(&list.header.hospital_level),
                    case.truth.mode == Mode::BasicLevel,
                    list.payment.total,
                ));
            }
        }
        assert_eq!(stays.count() as u64, history.rows);
        assert!(expected.iter().any(|e| e.3) && expected.iter().any(|e| e.1 == 2024));
        assert!(expected.iter().any(|e| e.0.secondary_diagnoses.len() > 1));
        assert!(expected.iter().any(|e| !e.0.procedures.is_empty()));
        // One case filled over and over, as the grouping does: shorter lists after longer ones.
        let mut case = dip_case_for_filling();
        for (stay, (dip, year, level, basic_level, total)) in stays.stays.iter().zip(&expected) {
            assert!(stays.fill(stay, &mut case));
            assert_eq!(&case, dip);
            assert_eq!(
                (stay.year, stay.level, stay.basic_level, stay.total),
                (*year, *level, *basic_level, *total)
            );
        }
    }

    fn dip_case_for_filling() -> DipCase {
        DipCase {
            principal_diagnosis: "X".to_owned(),
            secondary_diagnoses: vec!["A".to_owned(); 9],
            procedures: vec!["B".to_owned(); 9],
            age_years: 0,
            age_days: Some(1),
            discharge_type: 9,
            los_days: 0,
            total_cost: Decimal::ONE,
        }
    }

    #[test]
    fn references_are_last_years_means_of_five_cases_with_fallbacks() {
        let directory = grouping_dip::load_demo().expect("demo directory");
        let built = BuiltDirectory {
            scores: BTreeMap::from([
                ("G1".to_owned(), Points::round(Decimal::new(1200, 0))),
                ("G2".to_owned(), Points::round(Decimal::new(800, 0))),
            ]),
            means: BTreeMap::from([
                ("G1".to_owned(), yuan("9000.00")),
                ("G2".to_owned(), yuan("6000.00")),
            ]),
            compiled: CompiledDirectory::new(&directory),
        };
        let mut costs = GroupCosts::default();
        let mut add = |year: i32, group: &str, level: HospitalLevel, amount: &str, times: u32| {
            for _ in 0..times {
                costs
                    .by_level
                    .entry((year, group.to_owned()))
                    .or_default()
                    .entry(level)
                    .or_default()
                    .add(yuan(amount));
            }
        };
        // 2024: G1 at 3A: four at 12,000 and one at 13,000.01; at 2A three at 5,000, at 2B two at
        // 6,000; at level 1 one. G2 not seen. 2025 does not price 2025's table.
        add(2024, "G1", HospitalLevel::Tertiary3A, "12000.00", 4);
        add(2024, "G1", HospitalLevel::Tertiary3A, "13000.01", 1);
        add(2024, "G1", HospitalLevel::Secondary2A, "5000.00", 3);
        add(2024, "G1", HospitalLevel::Secondary2B, "6000.00", 2);
        add(2024, "G1", HospitalLevel::Primary1, "1000.00", 1);
        add(2025, "G1", HospitalLevel::Secondary2A, "99999.00", 9);
        let groups = costs.table_groups(&built, 2025);
        let reference = |group: &str, level: &str| {
            groups[group]["reference_costs"][level]
                .as_str()
                .expect("reference")
                .to_owned()
        };
        // (4 × 12000 + 13000.01) / 5 = 12200.002.
        assert_eq!(reference("G1", "3A"), "12200.00");
        // Fewer than five at 2A: the group's 2024 mean over every level,
        // (61000.01 + 15000 + 12000 + 1000) / 11 = 89000.01 / 11 = 8090.91.
        assert_eq!(reference("G1", "2A"), "8090.91");
        assert_eq!(reference("G1", "community"), "8090.91");
        // Basic-level: 2A and 2B together are five, (15000 + 12000) / 5 = 5400.
        assert_eq!(groups["G1"]["basic_level_reference"], "5400.00");
        // No 2024 stay of G2 at all: the build's weighted mean.
        assert_eq!(reference("G2", "community"), "6000.00");
        assert_eq!(groups["G2"]["basic_level_reference"], "6000.00");
        assert_eq!(groups["G1"]["score"], "1200.0000");
        assert_eq!(
            groups["G2"]["reference_costs"]
                .as_object()
                .expect("levels")
                .len(),
            HospitalLevel::ALL.len()
        );
    }
}
