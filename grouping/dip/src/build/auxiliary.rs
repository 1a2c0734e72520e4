//! The auxiliary directory (辅助目录) from history: each case is put in the subtypes the grouper
//! would put it in (the grouper's own CCI index, tumour markers and bands), and each subtype with
//! enough trimmed cases gets coefficient = Σ weight × case cost / Σ weight × published mean of
//! the case's group, rounded once to 4 places — over every group (`*`) and over one group alone.

use kernel::{Decimal, Money, round_points};

use super::{AuxiliaryReport, BuildError, BuildOptions, MAX_YEARS};
use crate::directory::{
    AuxiliaryCoefficient, AuxiliaryPolicy, AuxiliaryScope, AuxiliarySubtype, CciWeight,
    TumourMarkerRule,
};
use crate::grouper::{CciIndex, tumour_subtypes};

const SUBTYPES: usize = AuxiliarySubtype::ALL.len();

/// What one history record says about the auxiliary dimensions (the fields as read and checked).
pub(super) struct CaseFacts<'l> {
    pub(super) principal_diagnosis: &'l str,
    /// `secondary_diagnoses` as written (codes joined by `|`); empty when the column is absent.
    pub(super) secondary_diagnoses: &'l str,
    pub(super) procedures: &'l str,
    /// Discharge type and length of stay, when the history has both columns.
    pub(super) death: Option<(u8, u32)>,
    /// Age in years and in days, when the history has `age_years`.
    pub(super) age: Option<(u32, Option<u32>)>,
}

fn codes(field: &str) -> impl Iterator<Item = &str> + Clone {
    field.split('|').filter(|code| !code.is_empty())
}

/// The tables and bounds the subtypes are classified with, and which dimensions the history
/// allows to derive.
pub(super) struct AuxiliaryInputs {
    pub(super) cci_weights: Vec<CciWeight>,
    pub(super) tumour_markers: Vec<TumourMarkerRule>,
    pub(super) policy: AuxiliaryPolicy,
    cci: CciIndex,
    derive_cci: bool,
    derive_tumour: bool,
    derive_death: bool,
    derive_age: bool,
}

/// The tables of the options, read with the directory reader's checks; a bad table is reported
/// with the option's name and every bad line.
pub(super) fn read_tables(
    options: &BuildOptions,
) -> Result<(Vec<CciWeight>, Vec<TumourMarkerRule>), BuildError> {
    let cci_weights = match &options.cci_weights_tsv {
        None => Vec::new(),
        Some(text) => {
            CciWeight::parse_table("cci_weights_tsv", text).map_err(|e| BuildError::BadTable {
                option: "cci_weights_tsv",
                problems: e.problems().to_vec(),
            })?
        }
    };
    let tumour_markers = match &options.tumour_markers_tsv {
        None => Vec::new(),
        Some(text) => TumourMarkerRule::parse_table("tumour_markers_tsv", text).map_err(|e| {
            BuildError::BadTable {
                option: "tumour_markers_tsv",
                problems: e.problems().to_vec(),
            }
        })?,
    };
    Ok((cci_weights, tumour_markers))
}

/// Which optional history columns a build found.
#[derive(Clone, Copy)]
pub(super) struct OptionalColumns {
    pub(super) secondary_diagnoses: bool,
    pub(super) discharge_and_los: bool,
    pub(super) age_years: bool,
}

impl AuxiliaryInputs {
    pub(super) fn new(
        options: &BuildOptions,
        (cci_weights, tumour_markers): (Vec<CciWeight>, Vec<TumourMarkerRule>),
        columns: OptionalColumns,
    ) -> Self {
        AuxiliaryInputs {
            cci: CciIndex::new(&cci_weights),
            derive_cci: options.cci_weights_tsv.is_some() && columns.secondary_diagnoses,
            derive_tumour: !tumour_markers.is_empty(),
            derive_death: columns.discharge_and_los,
            derive_age: columns.age_years,
            cci_weights,
            tumour_markers,
            policy: options.auxiliary_policy.clone(),
        }
    }

    /// Whether any dimension can be derived (otherwise the build skips the derivation pass).
    pub(super) fn derives_any(&self) -> bool {
        self.derive_cci || self.derive_tumour || self.derive_death || self.derive_age
    }

    /// The subtypes the case falls in, as a bit set over [`AuxiliarySubtype::index`]; only the
    /// dimensions the build derives.
    pub(super) fn classify(&self, facts: &CaseFacts<'_>) -> u16 {
        let mut set = 0u16;
        let mut add = |subtype: AuxiliarySubtype| set |= 1 << subtype.index();
        if self.derive_death
            && let Some((discharge_type, los_days)) = facts.death
            && let Some(subtype) = self.policy.death_subtype(discharge_type, los_days)
        {
            add(subtype);
        }
        if self.derive_tumour {
            tumour_subtypes(
                &self.tumour_markers,
                facts.principal_diagnosis,
                codes(facts.secondary_diagnoses),
                codes(facts.procedures),
                &mut add,
            );
        }
        if self.derive_cci {
            let cci = self.cci.walk(codes(facts.secondary_diagnoses), |_, _| {});
            add(self.policy.cci_subtype(cci));
        }
        if self.derive_age
            && let Some((years, days)) = facts.age
            && let Some(subtype) = self.policy.age_subtype(years, days)
        {
            add(subtype);
        }
        set
    }
}

/// Sums of one subtype's trimmed cases, per year position.
#[derive(Clone, Copy, Default)]
struct SubtypeSums {
    cases: u64,
    fen_by_year: [i128; MAX_YEARS],
    /// Σ published mean of the case's group, in fen.
    mean_fen_by_year: [i128; MAX_YEARS],
}

impl SubtypeSums {
    fn add(&mut self, year: usize, fen: i64, mean_fen: i64) -> Result<(), BuildError> {
        self.cases += 1;
        self.fen_by_year[year] = self.fen_by_year[year]
            .checked_add(i128::from(fen))
            .ok_or(BuildError::Overflow)?;
        self.mean_fen_by_year[year] = self.mean_fen_by_year[year]
            .checked_add(i128::from(mean_fen))
            .ok_or(BuildError::Overflow)?;
        Ok(())
    }

    /// Σ weight × cost / Σ weight × mean, rounded once to 4 places; `None` when the means weigh
    /// nothing or the coefficient is not positive (a directory carries positive coefficients).
    fn coefficient(&self, weights: &[Decimal]) -> Result<Option<Decimal>, BuildError> {
        let weighted = |sums: &[i128; MAX_YEARS]| -> Result<Decimal, BuildError> {
            let mut total = Decimal::ZERO;
            for (w, fen) in weights.iter().zip(sums) {
                let fen =
                    Decimal::try_from_i128_with_scale(*fen, 0).map_err(|_| BuildError::Overflow)?;
                total = w
                    .checked_mul(fen)
                    .and_then(|x| total.checked_add(x))
                    .ok_or(BuildError::Overflow)?;
            }
            Ok(total)
        };
        let cost = weighted(&self.fen_by_year)?;
        let mean = weighted(&self.mean_fen_by_year)?;
        if mean.is_zero() {
            return Ok(None);
        }
        let ratio = cost.checked_div(mean).ok_or(BuildError::Overflow)?;
        // DOMAIN.md conventions: a coefficient is rounded once, to 4 places; written without
        // trailing zeros, as the published directories write them.
        let coefficient = round_points(ratio).normalize();
        Ok((coefficient > Decimal::ZERO).then_some(coefficient))
    }
}

/// The sums of every subtype, over all groups and per group.
pub(super) struct Derivation {
    all_groups: [SubtypeSums; SUBTYPES],
    per_group: Vec<[SubtypeSums; SUBTYPES]>,
    /// Published mean of each group in fen, in the directory's order (core, then comprehensive).
    mean_fen: Vec<i64>,
}

impl Derivation {
    pub(super) fn new(means: impl IntoIterator<Item = Money>) -> Result<Self, BuildError> {
        let mean_fen = means
            .into_iter()
            .map(|m| m.to_fen().map_err(|_| BuildError::Overflow))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Derivation {
            all_groups: Default::default(),
            per_group: vec![Default::default(); mean_fen.len()],
            mean_fen,
        })
    }

    /// Counts one trimmed case of `group` (directory order) in each of its subtypes.
    pub(super) fn add(
        &mut self,
        group: usize,
        subtypes: u16,
        year: usize,
        fen: i64,
    ) -> Result<(), BuildError> {
        if subtypes == 0 || year >= MAX_YEARS {
            return Ok(());
        }
        let mean_fen = self.mean_fen[group];
        for subtype in AuxiliarySubtype::ALL {
            if subtypes & (1 << subtype.index()) != 0 {
                self.all_groups[subtype.index()].add(year, fen, mean_fen)?;
                self.per_group[group][subtype.index()].add(year, fen, mean_fen)?;
            }
        }
        Ok(())
    }

    /// The rows of `auxiliary.tsv` and their report: `*` rows first, then each group's own rows
    /// in directory order; subtypes in tie-break order. CCI 0 is the reference and gets no row.
    pub(super) fn finish(
        &self,
        group_codes: &[&str],
        weights: &[Decimal],
        min_cases: u64,
    ) -> Result<(Vec<AuxiliaryCoefficient>, Vec<AuxiliaryReport>), BuildError> {
        let mut rows = Vec::new();
        let mut report = Vec::new();
        let scopes = std::iter::once((AuxiliaryScope::AllGroups, &self.all_groups)).chain(
            group_codes
                .iter()
                .zip(&self.per_group)
                .map(|(code, sums)| (AuxiliaryScope::Group((*code).to_owned()), sums)),
        );
        for (scope, sums) in scopes {
            for subtype in AuxiliarySubtype::ALL {
                if subtype == AuxiliarySubtype::Cci0 {
                    continue;
                }
                let sums = &sums[subtype.index()];
                if sums.cases == 0 || sums.cases < min_cases {
                    continue;
                }
                let Some(coefficient) = sums.coefficient(weights)? else {
                    continue;
                };
                report.push(AuxiliaryReport {
                    group: match &scope {
                        AuxiliaryScope::AllGroups => "*".to_owned(),
                        AuxiliaryScope::Group(code) => code.clone(),
                    },
                    dimension: subtype.dimension(),
                    subtype,
                    cases: sums.cases,
                    coefficient,
                });
                rows.push(AuxiliaryCoefficient {
                    scope: scope.clone(),
                    subtype,
                    coefficient,
                });
            }
        }
        Ok((rows, report))
    }
}
