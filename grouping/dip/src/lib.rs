//! DIP (按病种分值, diagnosis-intervention packet) for medpay: the directory of groups and its
//! file format, grouping one case with a trace, and building a directory from historical cases.
//!
//! - [`directory`]: the directory value, the `dip-directory/1` loader (every problem with file
//!   and line) and writer; format in `FORMAT.md`.
//! - [`grouper`]: [`CompiledDirectory`], the immutable fast form, and [`CompiledDirectory::group`].
//! - [`batch`]: [`batch::group_csv`], a CSV file of cases grouped on every core (`medpay group`).
//! - [`build`]: [`build::build_from_csv`], a directory from 1–3 years of history.
//! - [`stats`]: CV and RIV (DOMAIN.md §6).
//!
//! The crate is pure: no I/O besides reading and writing directory folders on request, no async.
//! It does not value cases (point values, deviation factors, hospital coefficients belong to the
//! points context); it publishes each group's score and mean cost and the case's auxiliary
//! coefficient.

pub mod batch;
pub mod build;
pub mod directory;
pub mod error;
pub mod grouper;
pub mod stats;

use std::path::PathBuf;

pub use directory::{
    AuxiliaryDimension, AuxiliaryPolicy, AuxiliarySubtype, ComprehensiveGroup, CoreGroup,
    DiagnosisScope, Directory, GroupKind, ProcedureCombination, TreatmentType,
};
pub use error::{CaseError, DirectoryError, Problem, ProblemKind};
pub use grouper::{CompiledDirectory, DipAssignment, DipCase, DipOutcome, GroupingTrace};

/// The folder of the demo directory shipped with this crate.
pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("directories")
        .join("demo")
}

/// The demo directory (embedded in the binary, so it works wherever the program runs).
pub fn load_demo() -> Result<Directory, DirectoryError> {
    const JSON: &str = include_str!("../directories/demo/directory.json");
    const TABLES: [(&str, &str); 6] = [
        (
            "core_groups.tsv",
            include_str!("../directories/demo/core_groups.tsv"),
        ),
        (
            "comprehensive_groups.tsv",
            include_str!("../directories/demo/comprehensive_groups.tsv"),
        ),
        (
            "procedure_types.tsv",
            include_str!("../directories/demo/procedure_types.tsv"),
        ),
        (
            "auxiliary.tsv",
            include_str!("../directories/demo/auxiliary.tsv"),
        ),
        (
            "cci_weights.tsv",
            include_str!("../directories/demo/cci_weights.tsv"),
        ),
        (
            "tumour_markers.tsv",
            include_str!("../directories/demo/tumour_markers.tsv"),
        ),
    ];
    Directory::from_sources(JSON, |file| {
        TABLES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| (*text).to_owned())
    })
}
