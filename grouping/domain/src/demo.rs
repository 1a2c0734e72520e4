//! The demo scheme shipped with the crate (`schemes/demo/`): a small scheme in the
//! `drg-scheme/1` format with real ICD-10 医保版 2.0 and ICD-9-CM-3 codes, for tests, examples
//! and a service that starts without a real scheme. The files are embedded in the binary.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::scheme::{Scheme, SchemeError};

/// Files of the demo scheme, embedded at compile time.
const DEMO_FILES: [(&str, &str); 11] = [
    ("scheme.json", include_str!("../schemes/demo/scheme.json")),
    ("lists.tsv", include_str!("../schemes/demo/lists.tsv")),
    ("cc.tsv", include_str!("../schemes/demo/cc.tsv")),
    ("mcc.tsv", include_str!("../schemes/demo/mcc.tsv")),
    (
        "cc_exclusion.tsv",
        include_str!("../schemes/demo/cc_exclusion.tsv"),
    ),
    (
        "valid_or_procedures.tsv",
        include_str!("../schemes/demo/valid_or_procedures.tsv"),
    ),
    (
        "drg_names.tsv",
        include_str!("../schemes/demo/drg_names.tsv"),
    ),
    (
        "diagnoses.tsv",
        include_str!("../schemes/demo/diagnoses.tsv"),
    ),
    (
        "procedures.tsv",
        include_str!("../schemes/demo/procedures.tsv"),
    ),
    (
        "diagnosis_map.tsv",
        include_str!("../schemes/demo/diagnosis_map.tsv"),
    ),
    (
        "procedure_map.tsv",
        include_str!("../schemes/demo/procedure_map.tsv"),
    ),
];

/// Folder of the demo scheme in the source tree (also holds its `examples.csv`).
pub fn demo_scheme_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemes/demo")
}

/// Loads the embedded demo scheme (works from any directory).
pub fn load_demo() -> Result<Scheme, SchemeError> {
    let files: HashMap<String, Vec<u8>> = DEMO_FILES
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    Scheme::from_files(&files)
}
