//! CHS-DRG grouping, driven entirely by data.
//!
//! A scheme (`drg-scheme/1`: `scheme.json` plus TSV code tables) is loaded and validated by
//! [`Scheme`], compiled once into an immutable [`CompiledScheme`] (share it in an `Arc`), and
//! cases are grouped with [`CompiledScheme::group`] (no allocation with a reused [`Scratch`]),
//! explained with [`CompiledScheme::group_traced`], or grouped from a CSV file with
//! [`batch::group_csv`]. The crate has no scheme-specific code: every shared scheme (national and
//! regional) and the shipped demo scheme ([`load_demo`]) all run through the same engine.
//!
//! The crate is pure: it reads a scheme folder when asked to and otherwise does no I/O.

pub mod batch;
mod case;
pub mod csv;
pub mod demo;
mod engine;
pub mod hash;
mod problem;
pub mod scheme;
pub mod trace;
mod tsv;

pub use batch::{BatchError, BatchOptions, BatchSummary, group_csv};
pub use case::{Gender, GroupResult, GroupStatus, OwnedCase, RawCase, ShortCode};
pub use demo::{demo_scheme_dir, load_demo};
pub use engine::{
    CompiledScheme, ComplicationKind, CountedComplication, Grouper, Scratch, parse_integer,
    parse_stay_days,
};
pub use scheme::{Scheme, SchemeError, SchemeProblem};
pub use trace::GroupTrace;
