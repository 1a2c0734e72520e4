//! Settlement lists from flat CSV exports: one row per list, columns named as the national
//! medical-insurance platform names them where it has a name (`setl_id`, `fixmedins_code`,
//! `medfee_sumamt`, …), an optional second file of fee lines joined by
//! (`fixmedins_code`, `setl_id`). The mapping, including the columns the platform does not name,
//! is documented in `settlement/IMPORT.md`.
//!
//! Every bad row is reported with its line, column and reason; good rows become the JSON of a
//! [`SettlementList`], as `SubmitCases` reads it. Columns the mapping does not know are ignored,
//! so an agency's export with extra columns imports unchanged.
//!
//! The cells of a row are read in [`row`], fee lines indexed in [`fees`], lists read and joined
//! with their fee lines in [`lists`].

use std::fmt;

use kernel::RegionCode;
use sha2::{Digest, Sha256};

use crate::case::SettlementList;

mod fees;
mod lists;
mod row;
#[cfg(test)]
mod tests;

pub use fees::FeeLineIndex;
pub use lists::ListReader;

/// Separator of the list-valued columns (diagnoses, procedures).
pub const LIST_SEPARATOR: char = '|';

/// A bad row (or a bad file, at line 1): where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    /// `setl_id` of the row, when it could be read.
    pub list_id: String,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.list_id.is_empty() {
            write!(f, "setl_id {}: ", self.list_id)?;
        }
        write!(f, "{}: {}", self.column, self.reason)
    }
}

/// A good row: the settlement list as `SubmitCases` reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedList {
    /// Line of the row in the list file.
    pub line: u64,
    pub list: SettlementList,
    pub json: String,
}

/// What an import assumes when a row does not say.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Pooling region of rows without a `pooling_region` column value.
    pub default_region: Option<RegionCode>,
}

/// The idempotency key of an import: a hash of every input, so re-running the same import is
/// a no-op on the server.
pub fn import_request_id(inputs: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for input in inputs {
        hasher.update((input.len() as u64).to_le_bytes());
        hasher.update(input);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("import-{hex}")
}
