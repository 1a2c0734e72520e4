//! Batch grouping of a CSV file in the `examples.csv` layout (what `medpay group` runs).
//!
//! Columns are found by header name; extra columns are ignored. The input is streamed in
//! chunks of [`CHUNK_ROWS`] lines (memory stays constant whatever the file size); each chunk is
//! split between `threads` scoped OS threads, each with its own scratch buffers and output
//! buffer, and the outputs are written in input order. Fields are plain (no quoting), as the
//! format defines. Malformed lines are left out of the output and all of them are reported at
//! the end, each with its line number.

use std::io::{BufRead, BufReader, Read, Write};

use crate::case::{GroupStatus, RawCase};
use crate::engine::{CompiledScheme, Scratch};

/// Lines per chunk.
pub const CHUNK_ROWS: usize = 65_536;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRecordReason {
    /// The line does not have as many fields as the header.
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        found: usize,
    },
    /// The line is not valid UTF-8 (1-based field number where the bad byte is).
    InvalidUtf8 {
        /// 1-based field number.
        field: usize,
    },
}

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

/// One chunk of input lines: the bytes and, per line, (line number, start, end) in `data`.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    lines: Vec<(u64, usize, usize)>,
}

impl Chunk {
    /// Reads up to [`CHUNK_ROWS`] lines; empty when the input is exhausted.
    fn read<R: BufRead>(&mut self, reader: &mut R, line_number: &mut u64) -> std::io::Result<()> {
        self.data.clear();
        self.lines.clear();
        while self.lines.len() < CHUNK_ROWS {
            let start = self.data.len();
            if reader.read_until(b'\n', &mut self.data)? == 0 {
                break;
            }
            *line_number += 1;
            self.lines.push((*line_number, start, self.data.len()));
        }
        Ok(())
    }
}

/// Column positions of the required fields.
#[derive(Debug, Clone, Copy)]
struct Layout {
    width: usize,
    positions: [usize; REQUIRED_COLUMNS.len()],
    /// Positions of [`STAY_COLUMNS`] when the header has them.
    stay_positions: [Option<usize>; STAY_COLUMNS.len()],
}

/// Per-thread state, reused across chunks.
#[derive(Default)]
struct Worker {
    scratch: Scratch,
    fields: Vec<(usize, usize)>,
    output: Vec<u8>,
    bad: Vec<BadRecord>,
    by_status: [u64; 6],
    rows: u64,
}

/// Groups every data line of `reader` and writes `Index,mdc,adrg,drg,status` lines to
/// `writer` in input order. `progress` is called after each chunk with the number of input
/// lines read so far.
pub fn group_csv<R: Read, W: Write>(
    reader: R,
    writer: W,
    scheme: &CompiledScheme,
    options: BatchOptions,
    mut progress: impl FnMut(u64),
) -> Result<BatchSummary, BatchError> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, writer);
    let mut header = Vec::new();
    if reader.read_until(b'\n', &mut header)? == 0 {
        return Err(BatchError::EmptyInput);
    }
    let layout = read_header(trim_line_end(&header), scheme)?;
    writer.write_all(OUTPUT_HEADER.as_bytes())?;
    writer.write_all(b"\n")?;

    let threads = options.threads.max(1);
    let mut workers: Vec<Worker> = (0..threads).map(|_| Worker::default()).collect();
    // Double buffering: the workers group `current` while this thread reads `next`.
    let mut current = Chunk::default();
    let mut next = Chunk::default();
    let mut line_number: u64 = 1;
    let mut summary = BatchSummary::default();
    let mut bad = Vec::new();
    current.read(&mut reader, &mut line_number)?;
    while !current.lines.is_empty() {
        let read_through = line_number;
        let per_worker = current.lines.len().div_ceil(threads);
        let read_next = std::thread::scope(|scope| {
            let data = &current.data;
            for (worker, part) in workers.iter_mut().zip(current.lines.chunks(per_worker)) {
                scope.spawn(move || worker.run(scheme, options.map_codes, layout, data, part));
            }
            next.read(&mut reader, &mut line_number)
        });
        for worker in &mut workers {
            writer.write_all(&worker.output)?;
            worker.output.clear();
            bad.append(&mut worker.bad);
            summary.rows += worker.rows;
            worker.rows = 0;
            for (total, count) in summary.by_status.iter_mut().zip(&mut worker.by_status) {
                *total += std::mem::take(count);
            }
        }
        read_next?;
        progress(read_through - 1);
        std::mem::swap(&mut current, &mut next);
    }
    writer.flush()?;
    if bad.is_empty() {
        Ok(summary)
    } else {
        Err(BatchError::BadRecords {
            records: bad,
            summary,
        })
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn read_header(header: &[u8], scheme: &CompiledScheme) -> Result<Layout, BatchError> {
    let header = std::str::from_utf8(header).map_err(|_| BatchError::HeaderNotUtf8)?;
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
        width: names.len(),
        positions,
        stay_positions,
    })
}

impl Worker {
    fn run(
        &mut self,
        scheme: &CompiledScheme,
        map_codes: bool,
        layout: Layout,
        data: &[u8],
        lines: &[(u64, usize, usize)],
    ) {
        for &(line_number, start, end) in lines {
            let bytes = trim_line_end(&data[start..end]);
            if bytes.is_empty() {
                continue;
            }
            let line = match std::str::from_utf8(bytes) {
                Ok(line) => line,
                Err(error) => {
                    let field = bytes[..error.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b',')
                        .count()
                        + 1;
                    self.bad.push(BadRecord {
                        line: line_number,
                        reason: BadRecordReason::InvalidUtf8 { field },
                    });
                    continue;
                }
            };
            self.fields.clear();
            let mut field_start = 0;
            for (index, byte) in line.bytes().enumerate() {
                if byte == b',' {
                    self.fields.push((field_start, index));
                    field_start = index + 1;
                }
            }
            self.fields.push((field_start, line.len()));
            if self.fields.len() != layout.width {
                self.bad.push(BadRecord {
                    line: line_number,
                    reason: BadRecordReason::FieldCount {
                        expected: layout.width,
                        found: self.fields.len(),
                    },
                });
                continue;
            }
            let field = |column: usize| {
                let (from, to) = self.fields[layout.positions[column]];
                &line[from..to]
            };
            let stay_field = |column: usize| {
                layout.stay_positions[column].map_or("", |position| {
                    let (from, to) = self.fields[position];
                    &line[from..to]
                })
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
            let result = scheme.group(&case, map_codes, &mut self.scratch);
            self.rows += 1;
            self.by_status[status_index(result.status)] += 1;
            let output = &mut self.output;
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
}
