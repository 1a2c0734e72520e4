//! Batch grouping of a CSV file of cases against a DIP directory (what `medpay group` runs when
//! the scheme is a DIP directory). Columns and output are in `FORMAT.md` ("Grouping a file").
//!
//! The file is streamed and grouped on `threads` threads by the batch driver the DRG batch runs
//! on too ([`grouping_domain::csv`]), each thread refilling its own case in place. A bad line is
//! left out of the output and every bad line is reported at the end with its line number and the
//! field at fault, so that the caller can refuse the whole file.

use std::io::{Read, Write};

use grouping_domain::csv::{
    FieldFault, Line, LineFault, LineGrouper, MissingColumn, Tally, column_positions, group_batch,
};
use kernel::Decimal;

use crate::build::parse_fen;
use crate::directory::GroupKind;
use crate::error::CaseError;
use crate::grouper::{CompiledDirectory, DISCHARGE_TYPES, DipCase, DipOutcome};

pub use grouping_domain::csv::CHUNK_ROWS;

/// Input columns read, by header name (the names of the DRG batch where they mean the same, so
/// one file can carry both; `totalCost` is DIP's own). Other columns are ignored.
pub const REQUIRED_COLUMNS: [&str; 8] = [
    "Index",
    "age",
    "ageDay",
    "leavingType",
    "inHospitalTime",
    "ICD10_DRGS",
    "ICD9_DRGS",
    "totalCost",
];

const INDEX: usize = 0;
const AGE: usize = 1;
const AGE_DAY: usize = 2;
const LEAVING_TYPE: usize = 3;
const LENGTH_OF_STAY: usize = 4;
const DIAGNOSES: usize = 5;
const PROCEDURES: usize = 6;
const TOTAL_COST: usize = 7;

/// Header of the output.
pub const OUTPUT_HEADER: &str = "Index,group,kind,subtype,coefficient,status";

/// `status` of a grouped case.
pub const STATUS_SUCCESS: &str = "SUCCESS";
/// `status` of a valid case no group covers (no core group matched and no comprehensive group
/// for its category and treatment type).
pub const STATUS_UNGROUPED: &str = "UNGROUPED";

/// Largest total cost accepted, in yuan (as the history build).
const MAX_COST_FEN: i64 = 10_000_000_000 * 100;

/// How to run a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// OS threads used per chunk (at least 1).
    pub threads: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self { threads: 1 }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Data rows grouped and written.
    pub rows: u64,
    /// Rows in a core group.
    pub core: u64,
    /// Rows in a basic-level group.
    pub basic: u64,
    /// Rows in a comprehensive group.
    pub comprehensive: u64,
    /// Rows no group covers.
    pub ungrouped: u64,
    /// Rows with an auxiliary subtype (coefficient other than the default 1).
    pub with_subtype: u64,
}

impl Tally for BatchSummary {
    fn add(&mut self, other: &BatchSummary) {
        self.rows += other.rows;
        self.core += other.core;
        self.basic += other.basic;
        self.comprehensive += other.comprehensive;
        self.ungrouped += other.ungrouped;
        self.with_subtype += other.with_subtype;
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
    /// A required field is empty.
    Missing,
    /// The field is not a whole number ≥ 0.
    NotWholeNumber {
        /// The field as read.
        value: String,
    },
    /// The field is not an amount in yuan with at most 2 decimals, or exceeds 10,000,000,000.
    BadAmount {
        /// The field as read.
        value: String,
    },
    /// The amount is negative.
    NegativeAmount {
        /// The field as read.
        value: String,
    },
    /// The discharge type is not 1, 2, 3, 4, 5 or 9.
    BadDischargeType {
        /// The field as read.
        value: String,
    },
    /// The principal diagnosis is not an ICD-10 code (letter, two digits, …).
    BadPrincipalDiagnosis {
        /// The principal diagnosis as read.
        value: String,
    },
    /// Age 0 needs the age in days.
    MissingAgeDays,
}

impl BadRecordReason {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::FieldCount { .. } => "WRONG_FIELD_COUNT",
            Self::InvalidUtf8 { .. } => "NOT_UTF8",
            Self::Missing => "MISSING_FIELD",
            Self::NotWholeNumber { .. } => "NOT_A_WHOLE_NUMBER",
            Self::BadAmount { .. } => "BAD_AMOUNT",
            Self::NegativeAmount { .. } => "NEGATIVE_AMOUNT",
            Self::BadDischargeType { .. } => "BAD_DISCHARGE_TYPE",
            Self::BadPrincipalDiagnosis { .. } => "BAD_PRINCIPAL_DIAGNOSIS",
            Self::MissingAgeDays => "MISSING_AGE_DAYS",
        }
    }
}

impl From<LineFault> for BadRecordReason {
    fn from(fault: LineFault) -> Self {
        match fault {
            LineFault::FieldCount { expected, found } => Self::FieldCount { expected, found },
            LineFault::InvalidUtf8 { field } => Self::InvalidUtf8 { field },
        }
    }
}

impl std::fmt::Display for BadRecordReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A line that cannot be split reads as in the DRG batch.
            Self::FieldCount { expected, found } => write!(
                f,
                "{}",
                LineFault::FieldCount {
                    expected: *expected,
                    found: *found,
                }
            ),
            Self::InvalidUtf8 { field } => {
                write!(f, "{}", LineFault::InvalidUtf8 { field: *field })
            }
            Self::Missing => f.write_str("is empty"),
            Self::NotWholeNumber { value } => write!(f, "{value:?} is not a whole number"),
            Self::BadAmount { value } => write!(
                f,
                "{value:?} is not an amount in yuan with at most 2 decimals up to 10,000,000,000"
            ),
            Self::NegativeAmount { value } => write!(f, "{value} is negative"),
            Self::BadDischargeType { value } => {
                write!(f, "{value:?} is not one of 1, 2, 3, 4, 5, 9")
            }
            Self::BadPrincipalDiagnosis { value } => write!(
                f,
                "principal diagnosis {value:?} is not an ICD-10 code (letter, two digits, …)"
            ),
            Self::MissingAgeDays => f.write_str("is required when age is 0"),
        }
    }
}

/// A bad input line: its number, the column at fault (a name of [`REQUIRED_COLUMNS`]; `None`
/// for the line as a whole) and what is wrong.
pub type BadRecord = grouping_domain::csv::BadRecord<BadRecordReason>;

/// Batch failure.
pub type BatchError = grouping_domain::csv::BatchError<BadRecordReason, BatchSummary>;

/// Column positions of the required fields.
#[derive(Debug, Clone, Copy)]
struct Layout {
    positions: [usize; REQUIRED_COLUMNS.len()],
}

/// Per-thread state, reused across lines: the case is refilled in place so that its strings
/// keep their capacity.
#[derive(Clone)]
struct Worker<'d> {
    directory: &'d CompiledDirectory,
    layout: Layout,
    case: DipCase,
}

impl<'d> Worker<'d> {
    fn new(directory: &'d CompiledDirectory, layout: Layout) -> Self {
        Self {
            directory,
            layout,
            case: DipCase {
                principal_diagnosis: String::new(),
                secondary_diagnoses: Vec::new(),
                procedures: Vec::new(),
                age_years: 0,
                age_days: None,
                discharge_type: 1,
                los_days: 0,
                total_cost: Decimal::ZERO,
            },
        }
    }
}

/// Groups every data line of `reader` with `directory` and writes
/// `Index,group,kind,subtype,coefficient,status` lines to `writer` in input order. `progress` is
/// called after each chunk with the number of input lines read so far.
pub fn group_csv<R: Read, W: Write>(
    reader: R,
    writer: W,
    directory: &CompiledDirectory,
    options: BatchOptions,
    progress: impl FnMut(u64),
) -> Result<BatchSummary, BatchError> {
    group_batch(
        reader,
        writer,
        OUTPUT_HEADER,
        options.threads,
        |header| Ok(Worker::new(directory, read_header(header)?)),
        progress,
    )
}

fn read_header(header: &str) -> Result<Layout, MissingColumn> {
    let header = header.strip_prefix('\u{feff}').unwrap_or(header);
    Ok(Layout {
        positions: column_positions(header, REQUIRED_COLUMNS)?,
    })
}

fn whole_number(text: &str) -> Result<u32, BadRecordReason> {
    if text.is_empty() {
        return Err(BadRecordReason::Missing);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadRecordReason::NotWholeNumber {
            value: text.to_owned(),
        });
    }
    text.parse().map_err(|_| BadRecordReason::NotWholeNumber {
        value: text.to_owned(),
    })
}

fn amount(text: &str) -> Result<Decimal, BadRecordReason> {
    if text.is_empty() {
        return Err(BadRecordReason::Missing);
    }
    match parse_fen(text) {
        Some(fen) if fen < 0 => Err(BadRecordReason::NegativeAmount {
            value: text.to_owned(),
        }),
        Some(fen) if fen <= MAX_COST_FEN => Ok(Decimal::new(fen, 2)),
        _ => Err(BadRecordReason::BadAmount {
            value: text.to_owned(),
        }),
    }
}

fn discharge_type(text: &str) -> Result<u8, BadRecordReason> {
    if text.is_empty() {
        return Err(BadRecordReason::Missing);
    }
    match text.parse::<u8>() {
        Ok(value) if DISCHARGE_TYPES.contains(&value) => Ok(value),
        _ => Err(BadRecordReason::BadDischargeType {
            value: text.to_owned(),
        }),
    }
}

/// Refills `list` with the non-empty `|`-separated codes of `text`, reusing its strings.
fn fill_codes<'a>(list: &mut Vec<String>, codes: impl Iterator<Item = &'a str>) {
    let mut used = 0;
    for code in codes.filter(|code| !code.is_empty()) {
        match list.get_mut(used) {
            Some(slot) => {
                slot.clear();
                slot.push_str(code);
            }
            None => list.push(code.to_owned()),
        }
        used += 1;
    }
    list.truncate(used);
}

/// The column a grouper refusal is about.
fn case_error_fault(error: CaseError) -> FieldFault<BadRecordReason> {
    let (column, reason) = match error {
        CaseError::MissingPrincipalDiagnosis => (DIAGNOSES, BadRecordReason::Missing),
        CaseError::BadPrincipalDiagnosis { code } => (
            DIAGNOSES,
            BadRecordReason::BadPrincipalDiagnosis { value: code },
        ),
        CaseError::NegativeCost { cost } => {
            (TOTAL_COST, BadRecordReason::NegativeAmount { value: cost })
        }
        CaseError::BadDischargeType { value } => (
            LEAVING_TYPE,
            BadRecordReason::BadDischargeType {
                value: value.to_string(),
            },
        ),
        CaseError::MissingAgeDays => (AGE_DAY, BadRecordReason::MissingAgeDays),
    };
    FieldFault {
        column: REQUIRED_COLUMNS[column],
        reason,
    }
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
        self.fill(line).map_err(|(column, reason)| FieldFault {
            column: REQUIRED_COLUMNS[column],
            reason,
        })?;
        let outcome = self.directory.group(&self.case).map_err(case_error_fault)?;
        let index = line.field(self.layout.positions[INDEX]);
        write(index, &outcome, output, summary);
        Ok(())
    }
}

impl Worker<'_> {
    /// Reads the required fields of a line into the reused case; the first bad one is reported.
    fn fill(&mut self, line: Line<'_>) -> Result<(), (usize, BadRecordReason)> {
        let positions = self.layout.positions;
        let field = |column: usize| line.field(positions[column]);
        let age_years = whole_number(field(AGE)).map_err(|r| (AGE, r))?;
        let age_days = match field(AGE_DAY) {
            "" => None,
            text => Some(whole_number(text).map_err(|r| (AGE_DAY, r))?),
        };
        let discharge = discharge_type(field(LEAVING_TYPE)).map_err(|r| (LEAVING_TYPE, r))?;
        let los_days = whole_number(field(LENGTH_OF_STAY)).map_err(|r| (LENGTH_OF_STAY, r))?;
        let total_cost = amount(field(TOTAL_COST)).map_err(|r| (TOTAL_COST, r))?;
        let diagnoses = field(DIAGNOSES);
        let procedures = field(PROCEDURES);
        let mut codes = diagnoses.split('|').filter(|code| !code.is_empty());
        let principal = codes.next().ok_or((DIAGNOSES, BadRecordReason::Missing))?;
        let case = &mut self.case;
        case.principal_diagnosis.clear();
        case.principal_diagnosis.push_str(principal);
        fill_codes(&mut case.secondary_diagnoses, codes);
        fill_codes(&mut case.procedures, procedures.split('|'));
        case.age_years = age_years;
        case.age_days = age_days;
        case.discharge_type = discharge;
        case.los_days = los_days;
        case.total_cost = total_cost;
        Ok(())
    }
}

/// Writes the output line of a grouped case and counts it.
fn write(index: &str, outcome: &DipOutcome, output: &mut Vec<u8>, summary: &mut BatchSummary) {
    summary.rows += 1;
    output.extend_from_slice(index.as_bytes());
    output.push(b',');
    match outcome {
        DipOutcome::Grouped(assignment) => {
            match assignment.kind {
                GroupKind::Core => summary.core += 1,
                GroupKind::Basic => summary.basic += 1,
                GroupKind::Comprehensive => summary.comprehensive += 1,
            }
            output.extend_from_slice(assignment.group_code.as_bytes());
            output.push(b',');
            output.extend_from_slice(assignment.kind.as_str().as_bytes());
            output.push(b',');
            if let Some(auxiliary) = &assignment.auxiliary {
                summary.with_subtype += 1;
                output.extend_from_slice(auxiliary.subtype.as_str().as_bytes());
            }
            output.push(b',');
            output.extend_from_slice(
                assignment
                    .auxiliary_coefficient
                    .normalize()
                    .to_string()
                    .as_bytes(),
            );
            output.push(b',');
            output.extend_from_slice(STATUS_SUCCESS.as_bytes());
        }
        DipOutcome::Ungrouped { .. } => {
            summary.ungrouped += 1;
            output.extend_from_slice(b",,,,");
            output.extend_from_slice(STATUS_UNGROUPED.as_bytes());
        }
    }
    output.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_refilled_in_place_without_empty_parts() {
        let mut list = vec!["old".to_owned(), "older".to_owned(), "oldest".to_owned()];
        fill_codes(&mut list, "A01.000||B02.100|".split('|'));
        assert_eq!(list, ["A01.000", "B02.100"]);
        fill_codes(&mut list, "".split('|'));
        assert!(list.is_empty());
    }

    #[test]
    fn amounts_are_yuan_with_at_most_two_decimals() {
        assert_eq!(amount("9120.5"), Ok(Decimal::new(912050, 2)));
        assert_eq!(amount("0"), Ok(Decimal::ZERO));
        assert_eq!(amount(""), Err(BadRecordReason::Missing));
        assert!(matches!(
            amount("-1"),
            Err(BadRecordReason::NegativeAmount { .. })
        ));
        for bad in ["1.234", "1e3", "abc", "10000000000.01", " 5"] {
            assert!(
                matches!(amount(bad), Err(BadRecordReason::BadAmount { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn discharge_types_are_those_of_the_settlement_list() {
        assert_eq!(discharge_type("5"), Ok(5));
        assert!(matches!(
            discharge_type("6"),
            Err(BadRecordReason::BadDischargeType { .. })
        ));
        assert_eq!(discharge_type(""), Err(BadRecordReason::Missing));
    }
}
