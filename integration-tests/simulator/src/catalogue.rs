//! What the simulated cases are made of: clinical templates taken from the demo DIP directory
//! (`grouping-dip`: principal diagnoses by category, procedure combinations, group means) and
//! the demo DRG scheme (`grouping-domain`: diagnosis and procedure names, CC/MCC diagnoses used
//! as secondary diagnoses), plus the few codes neither ships that Hainan's per-diem modes need.
//!
//! A core or basic-level group `K35.8-01` with combination `47.0100` becomes a template with
//! principal diagnosis `K35.800` (the category followed by `00`: `I10.x` → `I10.x00`) and
//! procedure `47.0100`; a `+` term contributes its first alternative. Names come from the DRG
//! scheme's dictionaries where they hold the code, else from the directory.

use std::collections::{BTreeMap, BTreeSet};

use grouping_dip::directory::{GroupKind, TreatmentType};
use serde::Serialize;

use crate::province::HospitalLevel;

/// A code with its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedCode {
    pub code: String,
    pub name: String,
}

/// Who can have a diagnosis (so that no list conflicts with the sex and age rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Population {
    /// 1 male, 2 female, `None` either.
    pub sex: Option<u8>,
    pub min_age_years: u32,
    pub max_age_years: u32,
    /// A newborn (age in days 0–28 at admission).
    pub newborn: bool,
}

impl Population {
    /// Anyone from 1 to 90.
    pub const ANY: Population = Population {
        sex: None,
        min_age_years: 1,
        max_age_years: 90,
        newborn: false,
    };

    fn of_category(category: &str) -> Population {
        let three = &category[..3.min(category.len())];
        let adult = |sex, min, max| Population {
            sex,
            min_age_years: min,
            max_age_years: max,
            newborn: false,
        };
        match three {
            t if t.starts_with('O') => adult(Some(2), 18, 45),
            t if t.starts_with('P') => Population {
                sex: None,
                min_age_years: 0,
                max_age_years: 0,
                newborn: true,
            },
            "N83" | "N84" | "C53" | "D25" => adult(Some(2), 20, 60),
            "C50" => adult(Some(2), 30, 85),
            "N40" | "C61" => adult(Some(1), 50, 90),
            t if t.starts_with('C') || t.starts_with('H') || t.starts_with('M') => {
                adult(None, 40, 90)
            }
            t if t.starts_with('I') => adult(None, 35, 95),
            _ => Population::ANY,
        }
    }

    /// Whether a patient of this sex and age fits.
    pub fn admits(&self, sex: u8, age_years: i32, age_days: i32) -> bool {
        if self.newborn {
            return (0..=28).contains(&age_days);
        }
        self.sex.is_none_or(|s| s == sex)
            && age_years >= self.min_age_years as i32
            && age_years <= self.max_age_years as i32
    }
}

/// One clinical picture: a principal diagnosis with its procedures and cost profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseTemplate {
    /// The DIP group the picture belongs to (`K35.8-01`).
    pub dip_group: String,
    pub kind: GroupKind,
    pub treatment: TreatmentType,
    pub principal: NamedCode,
    /// Principal procedure first; empty for conservative treatment.
    pub procedures: Vec<NamedCode>,
    /// The group's mean cost in the directory (yuan), the mean of the simulated costs at a 2A
    /// hospital.
    pub mean_cost: f64,
    /// Log-scale spread of the group's costs.
    pub cost_sigma: f64,
    pub population: Population,
    /// Department of admission and discharge.
    pub department: &'static str,
}

impl CaseTemplate {
    /// Whether a hospital of this level treats the picture: surgery and interventions from 2B
    /// up, basic-level groups at primary institutions, the rest anywhere from level 1 up.
    pub fn treated_at(&self, level: HospitalLevel) -> bool {
        match (self.kind, self.treatment) {
            (GroupKind::Basic, _) => level.is_primary(),
            (_, TreatmentType::Surgical | TreatmentType::Interventional) => {
                level <= HospitalLevel::Secondary2B
            }
            _ => level != HospitalLevel::Community,
        }
    }

    /// The 3-character category of the principal diagnosis.
    pub fn category3(&self) -> &str {
        &self.principal.code[..3]
    }
}

/// Procedures done as day surgery (日间手术) in the simulation; a demo day-surgery list for the
/// points context's `modes.day_surgery.procedure_codes`.
pub const DAY_SURGERY_PROCEDURES: [&str; 7] = [
    "13.4100x001",
    "13.4100",
    "53.0000",
    "45.4200",
    "38.5900",
    "28.2x00",
    "69.0900",
];

/// Psychiatric principal diagnoses (ICD-10 医保版 2.0, F20–F39), which neither demo scheme
/// covers: the psychiatric per-diem mode needs them.
pub const PSYCHIATRIC_DIAGNOSES: [(&str, &str); 4] = [
    ("F20.000", "偏执型精神分裂症"),
    ("F20.900", "精神分裂症"),
    ("F31.900", "双相情感障碍"),
    ("F32.900", "抑郁发作"),
];

/// Department of rehabilitation stays (康复医学科), recognised by the points context.
pub const REHABILITATION_DEPARTMENT: &str = "A21";
/// Department of hospice stays (临终关怀科), recognised by the points context.
pub const HOSPICE_DEPARTMENT: &str = "A24";
/// Department of psychiatric stays.
pub const PSYCHIATRY_DEPARTMENT: &str = "psychiatry";

fn department_of(category: &str, treatment: TreatmentType) -> &'static str {
    let surgical = matches!(
        treatment,
        TreatmentType::Surgical | TreatmentType::Interventional
    );
    let three = &category[..3];
    match category.as_bytes()[0] {
        b'A' | b'B' => "infectious_diseases",
        b'C' if surgical => "surgical_oncology",
        b'C' => "oncology",
        b'D' | b'N' if three >= "N70" || three.starts_with('D') => "gynaecology",
        b'E' => "endocrinology",
        b'G' => "neurology",
        b'H' => "ophthalmology",
        b'I' if three.starts_with("I6") => "neurology",
        b'I' if three >= "I70" => "vascular_surgery",
        b'I' => "cardiology",
        b'J' if three == "J34" || three == "J35" => "otolaryngology",
        b'J' => "respiratory_medicine",
        b'K' if surgical => "general_surgery",
        b'K' => "gastroenterology",
        b'M' | b'S' | b'T' => "orthopaedics",
        b'N' => "urology",
        b'O' => "obstetrics",
        b'P' => "neonatology",
        b'Z' => "oncology",
        _ => "general_medicine",
    }
}

/// Every code the simulation writes, with the templates built from them.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub templates: Vec<CaseTemplate>,
    /// Secondary diagnoses: the DRG scheme's CC and MCC diagnoses and the other diagnoses of its
    /// dictionary that fit any adult.
    pub secondary_diagnoses: Vec<NamedCode>,
    /// The DRG scheme's MCC diagnoses (upcoding adds them without supporting charges).
    pub mcc_diagnoses: Vec<NamedCode>,
    pub psychiatric_diagnoses: Vec<NamedCode>,
    /// For each template, the templates of the same diagnosis category with a mean cost at least
    /// 20 % higher (what an upcoded case is coded as).
    pub upcodes: Vec<Vec<usize>>,
    /// The demo DIP directory's Charlson weights: a patient's comorbidities raise the cost of
    /// the stay by their index.
    pub charlson: grouping_dip::grouper::CciIndex,
}

/// Why the catalogue could not be built from the demo schemes.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("the demo DRG scheme does not load: {0}")]
    DrgScheme(String),
    #[error("the demo DIP directory does not load: {0}")]
    DipDirectory(String),
    #[error("the demo DIP directory has no {0}")]
    Missing(&'static str),
}

fn short_name(group_name: &str) -> String {
    group_name
        .split(['：', '（'])
        .next()
        .unwrap_or(group_name)
        .to_owned()
}

impl Catalogue {
    /// Builds the catalogue from the demo DRG scheme and the demo DIP directory.
    pub fn from_demo_schemes() -> Result<Self, CatalogueError> {
        let drg =
            grouping_domain::load_demo().map_err(|e| CatalogueError::DrgScheme(e.to_string()))?;
        let dip =
            grouping_dip::load_demo().map_err(|e| CatalogueError::DipDirectory(e.to_string()))?;
        let drg_diagnoses: BTreeMap<&str, &str> = drg
            .diagnoses
            .iter()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect();
        let mut procedure_names: BTreeMap<&str, &str> = dip
            .procedure_types
            .iter()
            .map(|p| (p.code.as_str(), p.name.as_str()))
            .collect();
        for p in &drg.procedures {
            procedure_names.insert(p.code.as_str(), p.name.as_str());
        }
        let mut templates = Vec::new();
        for group in &dip.core_groups {
            let code = format!("{}00", group.diagnosis_category);
            let name = drg_diagnoses
                .get(code.as_str())
                .map(|n| (*n).to_owned())
                .unwrap_or_else(|| short_name(&group.name));
            let procedures = group
                .procedures
                .iter()
                .flat_map(|c| c.all_of.iter())
                .filter_map(|term| term.first())
                .map(|code| NamedCode {
                    code: code.clone(),
                    name: procedure_names
                        .get(code.as_str())
                        .filter(|n| !n.is_empty())
                        .map(|n| (*n).to_owned())
                        .unwrap_or_else(|| short_name(&group.name)),
                })
                .collect();
            let mean_cost = f64::try_from(group.mean_cost.value()).unwrap_or(0.0);
            if mean_cost <= 0.0 {
                continue;
            }
            // Group-specific spread: wider for conservative care, 0.30–0.55 on the log scale.
            let key = group
                .code
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let spread = (crate::rng::hash_of(0x0005_157A, key) % 1000) as f64 / 1000.0;
            let base = match group.treatment {
                TreatmentType::Conservative => 0.40,
                TreatmentType::Surgical | TreatmentType::Interventional => 0.30,
                _ => 0.35,
            };
            templates.push(CaseTemplate {
                dip_group: group.code.clone(),
                kind: group.kind,
                treatment: group.treatment,
                principal: NamedCode { code, name },
                procedures,
                mean_cost,
                cost_sigma: base + 0.15 * spread,
                population: Population::of_category(&group.diagnosis_category),
                department: department_of(&group.diagnosis_category, group.treatment),
            });
        }
        if !templates.iter().any(|t| t.kind == GroupKind::Basic) {
            return Err(CatalogueError::Missing("basic-level group"));
        }
        let mcc: BTreeSet<&str> = drg.mcc.iter().map(|e| e.code.as_str()).collect();
        let secondary_diagnoses: Vec<NamedCode> = drg
            .diagnoses
            .iter()
            .filter(|c| {
                let p = Population::of_category(&c.code);
                p.sex.is_none()
                    && !p.newborn
                    && !c.code.starts_with('R')
                    && !c.code.starts_with('C')
            })
            .map(|c| NamedCode {
                code: c.code.clone(),
                name: c.name.clone(),
            })
            .collect();
        let mcc_diagnoses = secondary_diagnoses
            .iter()
            .filter(|c| mcc.contains(c.code.as_str()))
            .cloned()
            .collect();
        let upcodes = templates
            .iter()
            .map(|t| {
                templates
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| {
                        u.principal.code == t.principal.code
                            && u.kind == GroupKind::Core
                            && u.mean_cost >= 1.2 * t.mean_cost
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        Ok(Self {
            templates,
            secondary_diagnoses,
            mcc_diagnoses,
            psychiatric_diagnoses: PSYCHIATRIC_DIAGNOSES
                .iter()
                .map(|(code, name)| NamedCode {
                    code: (*code).to_owned(),
                    name: (*name).to_owned(),
                })
                .collect(),
            upcodes,
            charlson: grouping_dip::grouper::CciIndex::new(&dip.cci_weights),
        })
    }

    /// The Charlson index of `diagnoses`, as the DIP grouper counts it.
    pub fn charlson_index(&self, diagnoses: &[NamedCode]) -> u32 {
        self.charlson
            .index(diagnoses.iter().map(|d| d.code.as_str()))
    }

    /// Whether a template's principal procedure is on the day-surgery list.
    pub fn is_day_surgery(template: &CaseTemplate) -> bool {
        template
            .procedures
            .first()
            .is_some_and(|p| DAY_SURGERY_PROCEDURES.contains(&p.code.as_str()))
            && template.procedures.len() == 1
    }
}
