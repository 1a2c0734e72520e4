//! Batch grouping of a CSV file in the `examples.csv` layout (what `medpay group` runs).
//!
//! Columns are found by header name; extra columns are ignored. The file is streamed and
//! grouped on `threads` threads by the batch driver both formats share ([`crate::csv`]), each
//! thread with its own scratch buffers. Malformed lines are left out of the output and all of
//! them are reported at the end, each with its line number.

use std::io::{Read, Write};

use crate::case::{GroupStatus, RawCase};
use crate::csv::{
    FieldFault, Line, LineGrouper, MissingColumn, Tally, column_positions, group_batch,
};
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

impl Tally for BatchSummary {
    fn add(&mut self, other: &Self) {
        self.rows += other.rows;
        for (total, count) in self.by_status.iter_mut().zip(other.by_status) {
            *total += count;
        }
    }
}

/// Why one input line was not grouped: only a line that cannot be split is refused.
pub use crate::csv::LineFault as BadRecordReason;

/// A malformed input line (never a field at fault: every field is the grouper's to judge).
pub type BadRecord = crate::csv::BadRecord<BadRecordReason>;

/// Batch failure.
pub type BatchError = crate::csv::BatchError<BadRecordReason, BatchSummary>;

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

/// Per-thread state, reused across lines.
#[derive(Clone)]
struct Worker<'s> {
    scheme: &'s CompiledScheme,
    map_codes: bool,
    layout: Layout,
    scratch: Scratch,
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
    group_batch(
        reader,
        writer,
        OUTPUT_HEADER,
        options.threads,
        |header| {
            Ok(Worker {
                scheme,
                map_codes: options.map_codes,
                layout: read_header(header, scheme)?,
                scratch: Scratch::default(),
            })
        },
        progress,
    )
}

fn read_header(header: &str, scheme: &CompiledScheme) -> Result<Layout, MissingColumn> {
    let positions = column_positions(header, REQUIRED_COLUMNS)?;
    let stay_positions =
        STAY_COLUMNS.map(|column| header.split(',').position(|name| name == column));
    let required = [scheme.reads_length_of_stay(), scheme.reads_leaving_type()];
    for ((position, column), required) in stay_positions.iter().zip(STAY_COLUMNS).zip(required) {
        if required && position.is_none() {
            return Err(MissingColumn { column });
        }
    }
    Ok(Layout {
        positions,
        stay_positions,
    })
}

impl LineGrouper for Worker<'_> {
    type Reason = BadRecordReason;
    type Summary = BatchSummary;

    fn group(
        &mut self,
        line: Line<'_>,
        output: &mut Vec<u8>,
        summary: &mut BatchSummary,
    ) -> Result<(), FieldFault<BadRecordReason>> {
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
        summary.rows += 1;
        summary.by_status[status_index(result.status)] += 1;
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
        Ok(())
    }
}
