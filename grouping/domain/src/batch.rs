//! Batch grouping of a CSV file in the `examples.csv` layout (what `medpay group` runs).
//!
//! Columns are found by header name; extra columns are ignored. The file is streamed and
//! grouped on `threads` threads by the shared reader ([`crate::csv`]), each thread with its own
//! scratch buffers. Malformed lines are left out of the output and all of them are reported at
//! the end, each with its line number.

use std::io::{Read, Write};

use crate::case::{GroupStatus, RawCase};
use crate::csv::{CsvInput, HeaderError, Line, LineFault, LineWorker};
use crate::engine::{CompiledScheme, Scratch};

pub use crate::csv::CHUNK_ROWS;

/// Input columns the grouper reads, by header name.
pub const REQUIRED_COLUMNS: [&str; 8] = [
    "Index",
    "gender",
    "age",
    "ageDay",
    "weight",
    "dept",
    "ICD10_DRGS",
    "ICD9_DRGS",
];

/// Columns read only when present: length of stay and discharge type. A scheme whose rules read
/// one of them (`los_days_*`, `leaving_type_in`) requires it.
pub const STAY_COLUMNS: [&str; 2] = ["inHospitalTime", "leavingType"];

/// Header of the output.
pub const OUTPUT_HEADER: &str = "Index,mdc,adrg,drg,status";

/// How to run a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Code mapping (README step 2).
    pub map_codes: bool,
    /// OS threads used per chunk (at least 1).
    pub threads: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            map_codes: false,
            threads: 1,
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Data rows grouped and written.
    pub rows: u64,
    /// Rows per status, in [`GroupStatus`] declaration order
    /// (success, fail, check failed, dx not mapped, proc not mapped, ambiguous).
    pub by_status: [u64; 6],
}

impl BatchSummary {
    /// Rows that ended with `status`.
    pub fn count(&self, status: GroupStatus) -> u64 {
        self.by_status[status_index(status)]
    }
}

/// Why one input line was not grouped.
pub use crate::csv::LineFault as BadRecordReason;

/// A malformed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// 1-based line number in the input (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub reason: BadRecordReason,
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reason {
            BadRecordReason::FieldCount { expected, found } => write!(
                f,
                "line {}: {found} field(s), header has {expected}",
                self.line
            ),
            BadRecordReason::InvalidUtf8 { field } => {
                write!(f, "line {}: invalid UTF-8 in field {field}", self.line)
            }
        }
    }
}

/// Batch failure.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input has no header line.
    #[error("input is empty: header line missing")]
    EmptyInput,
    /// The header is not UTF-8.
    #[error("header line is not valid UTF-8")]
    HeaderNotUtf8,
    /// A required column is not in the header.
    #[error("required column {column} is missing from the header")]
    MissingColumn {
        /// The missing column's name.
        column: &'static str,
    },
    /// Some lines were malformed; every other line was grouped and written.
    #[error("{} malformed line(s), first: {}", .records.len(), .records.first().map(ToString::to_string).unwrap_or_default())]
    BadRecords {
        /// Every malformed line, in input order.
        records: Vec<BadRecord>,
        /// What was grouped.
        summary: BatchSummary,
    },
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl BatchError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::EmptyInput => "EMPTY_INPUT",
            Self::HeaderNotUtf8 => "HEADER_NOT_UTF8",
            Self::MissingColumn { .. } => "MISSING_COLUMN",
            Self::BadRecords { .. } => "MALFORMED_LINES",
            Self::Io(_) => "IO_ERROR",
        }
    }
}

fn status_index(status: GroupStatus) -> usize {
    match status {
        GroupStatus::Success => 0,
        GroupStatus::Fail => 1,
        GroupStatus::CheckFailed => 2,
        GroupStatus::DxNotMapped => 3,
        GroupStatus::ProcNotMapped => 4,
        GroupStatus::Ambiguous => 5,
    }
}

/// Column positions of the required fields.
#[derive(Debug, Clone, Copy)]
struct Layout {
    positions: [usize; REQUIRED_COLUMNS.len()],
    /// Positions of [`STAY_COLUMNS`] when the header has them.
    stay_positions: [Option<usize>; STAY_COLUMNS.len()],
}

/// Per-thread state, reused across chunks.
struct Worker<'s> {
    scheme: &'s CompiledScheme,
    map_codes: bool,
    layout: Layout,
    scratch: Scratch,
    bad: Vec<BadRecord>,
    by_status: [u64; 6],
    rows: u64,
}

impl From<HeaderError> for BatchError {
    fn from(error: HeaderError) -> Self {
        match error {
            HeaderError::Empty => BatchError::EmptyInput,
            HeaderError::NotUtf8 => BatchError::HeaderNotUtf8,
            HeaderError::Io(error) => BatchError::Io(error),
        }
    }
}

/// Groups every data line of `reader` and writes `Index,mdc,adrg,drg,status` lines to
/// `writer` in input order. `progress` is called after each chunk with the number of input
/// lines read so far.
pub fn group_csv<R: Read, W: Write>(
    reader: R,
    writer: W,
    scheme: &CompiledScheme,
    options: BatchOptions,
    progress: impl FnMut(u64),
) -> Result<BatchSummary, BatchError> {
    let input = CsvInput::open(reader)?;
    let layout = read_header(input.header(), scheme)?;
    let mut workers: Vec<Worker<'_>> = (0..options.threads.max(1))
        .map(|_| Worker {
            scheme,
            map_codes: options.map_codes,
            layout,
            scratch: Scratch::default(),
            bad: Vec::new(),
            by_status: [0; 6],
            rows: 0,
        })
        .collect();
    let mut summary = BatchSummary::default();
    let mut bad = Vec::new();
    input.group_into(
        writer,
        OUTPUT_HEADER,
        &mut workers,
        |worker| {
            bad.append(&mut worker.bad);
            summary.rows += std::mem::take(&mut worker.rows);
            for (total, count) in summary.by_status.iter_mut().zip(&mut worker.by_status) {
                *total += std::mem::take(count);
            }
        },
        progress,
    )?;
    if bad.is_empty() {
        Ok(summary)
    } else {
        Err(BatchError::BadRecords {
            records: bad,
            summary,
        })
    }
}

fn read_header(header: &str, scheme: &CompiledScheme) -> Result<Layout, BatchError> {
    let names: Vec<&str> = header.split(',').collect();
    let find = |column: &str| names.iter().position(|name| *name == column);
    let mut positions = [0; REQUIRED_COLUMNS.len()];
    for (slot, column) in positions.iter_mut().zip(REQUIRED_COLUMNS) {
        *slot = find(column).ok_or(BatchError::MissingColumn { column })?;
    }
    let stay_positions = STAY_COLUMNS.map(find);
    let required = [scheme.reads_length_of_stay(), scheme.reads_leaving_type()];
    for ((position, column), required) in stay_positions.iter().zip(STAY_COLUMNS).zip(required) {
        if required && position.is_none() {
            return Err(BatchError::MissingColumn { column });
        }
    }
    Ok(Layout {
        positions,
        stay_positions,
    })
}

impl LineWorker for Worker<'_> {
    fn fault(&mut self, number: u64, fault: LineFault) {
        self.bad.push(BadRecord {
            line: number,
            reason: fault,
        });
    }

    fn line(&mut self, line: Line<'_>, output: &mut Vec<u8>) {
        let layout = &self.layout;
        let field = |column: usize| line.field(layout.positions[column]);
        let stay_field = |column: usize| {
            layout.stay_positions[column].map_or("", |position| line.field(position))
        };
        let case = RawCase {
            gender: field(1),
            age: field(2),
            age_days: field(3),
            weight: field(4),
            dept: field(5),
            diagnoses: field(6),
            procedures: field(7),
            length_of_stay: stay_field(0),
            leaving_type: stay_field(1),
        };
        let index = field(0);
        let result = self.scheme.group(&case, self.map_codes, &mut self.scratch);
        self.rows += 1;
        self.by_status[status_index(result.status)] += 1;
        for part in [
            index,
            ",",
            result.mdc.as_str(),
            ",",
            result.adrg.as_str(),
            ",",
            result.drg.as_str(),
            ",",
            result.status.as_str(),
            "\n",
        ] {
            output.extend_from_slice(part.as_bytes());
        }
    }
}
