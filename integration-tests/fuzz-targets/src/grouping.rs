//! Grouping schemes and DIP directories read from their files (the in-memory entry points that
//! `LoadScheme` uploads use), then compiled and used: a scheme that loads must group without
//! panicking.

use std::collections::HashMap;

use grouping_dip::{CompiledDirectory, DipCase, Directory};
use grouping_domain::{CompiledScheme, RawCase, Scheme, Scratch};
use kernel::Decimal;

use crate::select;

macro_rules! demo_files {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        [$(($name, include_str!(concat!("../../../", $dir, "/", $name)))),+]
    };
}

/// The demo DRG scheme's files: a fuzzed input replaces one of them.
pub const SCHEME_FILES: [(&str, &str); 11] = demo_files!("grouping/domain/schemes/demo":
    "scheme.json", "lists.tsv", "cc.tsv", "mcc.tsv", "cc_exclusion.tsv", "diagnoses.tsv",
    "procedures.tsv", "diagnosis_map.tsv", "procedure_map.tsv", "drg_names.tsv",
    "valid_or_procedures.tsv");

/// The demo DIP directory's files: a fuzzed input replaces one of them.
pub const DIP_FILES: [(&str, &str); 7] = demo_files!("grouping/dip/directories/demo":
    "directory.json", "core_groups.tsv", "comprehensive_groups.tsv", "auxiliary.tsv",
    "cci_weights.tsv", "procedure_types.tsv", "tumour_markers.tsv");

const EXAMPLES: &str = include_str!("../../../grouping/domain/schemes/demo/examples.csv");

/// One file of the demo DRG scheme replaced: a selector byte (which file, in the order of
/// [`SCHEME_FILES`]), then its new content. A scheme that loads groups the demo examples.
pub fn scheme_files(data: &[u8]) {
    let (which, content) = select(data, SCHEME_FILES.len());
    let mut files: HashMap<String, Vec<u8>> = SCHEME_FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    files.insert(SCHEME_FILES[which].0.to_owned(), content.to_vec());
    let Ok(scheme) = Scheme::from_files(&files) else {
        return;
    };
    let compiled = CompiledScheme::compile(&scheme);
    let mut scratch = Scratch::default();
    for line in EXAMPLES.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() < 10 {
            continue;
        }
        let case = RawCase {
            gender: cells[1],
            age: cells[2],
            age_days: cells[3],
            weight: cells[4],
            dept: cells[5],
            length_of_stay: cells[6],
            leaving_type: cells[7],
            diagnoses: cells[8],
            procedures: cells[9],
        };
        for map_codes in [false, true] {
            let _ = compiled.group(&case, map_codes, &mut scratch);
        }
    }
}

/// One file of the demo DIP directory replaced: a selector byte (which file, in the order of
/// [`DIP_FILES`]), then its new content. A directory that loads groups a few cases.
pub fn dip_directory(data: &[u8]) {
    let (which, content) = select(data, DIP_FILES.len());
    let content = String::from_utf8_lossy(content).into_owned();
    let mut files: HashMap<&str, String> = DIP_FILES
        .iter()
        .map(|(name, text)| (*name, (*text).to_owned()))
        .collect();
    files.insert(DIP_FILES[which].0, content);
    let Ok(directory) =
        Directory::from_sources(&files["directory.json"], |name| files.get(name).cloned())
    else {
        return;
    };
    let compiled = CompiledDirectory::new(&directory);
    for case in dip_cases() {
        let _ = compiled.group(&case);
    }
}

fn dip_cases() -> Vec<DipCase> {
    let case =
        |diagnosis: &str, others: &[&str], procedures: &[&str], age: u32, los: u32| DipCase {
            principal_diagnosis: diagnosis.to_owned(),
            secondary_diagnoses: others.iter().map(|c| (*c).to_owned()).collect(),
            procedures: procedures.iter().map(|c| (*c).to_owned()).collect(),
            age_years: age,
            age_days: (age == 0).then_some(20),
            discharge_type: if los > 20 { 5 } else { 1 },
            los_days: los,
            total_cost: Decimal::new(523_462, 2),
        };
    vec![
        case("A09.000", &[], &[], 40, 4),
        case("A09.000", &["E11.900", "I10.x00"], &["45.2300"], 70, 9),
        case("K35.800", &[], &["47.0100"], 30, 6),
        case("C34.900", &["C78.000"], &["32.4100", "99.2500"], 63, 21),
        case("P07.300", &[], &[], 0, 30),
        case("Z99.999", &[], &["00.0000"], 120, 0),
    ]
}
