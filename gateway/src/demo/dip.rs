//! Hainan's main inpatient method in the demo: the history years become a DIP directory built
//! by the grouping context (`BuildDipDirectory`, the twin of `medpay dip build`), loaded and
//! activated for the province. The bureau then groups the history itself with that directory to
//! learn what a score alone does not say: each group's reference cost per hospital level (last
//! year's mean, the deviation reference of DOMAIN.md §3) and the groups of the basic-level
//! diseases, which the points tables publish beside the scores.

use std::collections::{BTreeMap, BTreeSet};

use super::Channel;
use grouping_dip::{CompiledDirectory, DipCase, DipOutcome, Directory, GroupKind};
use kernel::{Decimal, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use medpay_simulator::{HISTORY_CSV_HEADER, Mode, SimulatedCase, Simulation};

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
    /// Adds the case if DIP groups it (per-diem, long stays and ambulatory records are not).
    pub fn add(&mut self, case: &SimulatedCase) {
        if let Some(row) = case.history_csv_row() {
            self.csv.push_str(&row);
            self.csv.push('\n');
            self.rows += 1;
        }
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

/// The DIP case grouping reads from a settlement list, as the grouping context reads it.
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

impl GroupCosts {
    /// Groups every DIP stay of `simulation` with `built` (one more pass over the years).
    pub fn observe(simulation: &Simulation, built: &BuiltDirectory) -> Self {
        let mut costs = Self::default();
        let config = simulation.config();
        let progress = Progress::new(
            "grouping the history",
            config.cases_per_year * u64::from(config.years),
        );
        let mut seen = 0_u64;
        for case in simulation.cases() {
            seen += 1;
            if seen.is_multiple_of(10_000) {
                progress.show(seen);
            }
            if case.history_csv_row().is_none() {
                continue;
            }
            let (Some(list), Some(dip)) = (case.list(), dip_case(&case)) else {
                continue;
            };
            let Ok(DipOutcome::Grouped(assignment)) = built.compiled.group(&dip) else {
                continue;
            };
            let group = assignment.group_code;
            if case.truth.mode == Mode::BasicLevel && assignment.kind == GroupKind::Core {
                costs.basic_level_groups.insert(group.clone());
            }
            if let Some(level) = HospitalLevel::from_code(&list.header.hospital_level) {
                costs
                    .by_level
                    .entry((case.truth.year, group))
                    .or_default()
                    .entry(level)
                    .or_default()
                    .add(list.payment.total);
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
