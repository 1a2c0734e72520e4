//! The batch driver both batch groupers (DRG and DIP) run on: a header, one [`LineGrouper`] per
//! thread, the output in input order, and every refused line reported at the end.
//!
//! A format says what a line becomes (its [`LineGrouper`]), what it counts ([`Tally`]) and why it
//! refuses a line (its reason type); the reading, the order, the collection of bad lines and the
//! errors are the same for every format, so [`BatchError`] is one type.

use std::fmt;
use std::io::{Read, Write};

use super::{CsvInput, HeaderError, Line, LineFault, LineWorker};

/// What a batch counts; each thread counts its share and the shares are added up.
pub trait Tally: Default + Send {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: &Self);
}

/// A column of a well-formed line that a grouper refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFault<R> {
    /// The column's header name.
    pub column: &'static str,
    /// What is wrong.
    pub reason: R,
}

/// What one thread of a batch makes of each well-formed line; it keeps its own reusable state
/// and is cloned once per thread.
pub trait LineGrouper: Clone + Send {
    /// Why a line is refused; a line that cannot be split is one reason.
    type Reason: From<LineFault> + Send;
    /// What the batch counts.
    type Summary: Tally;

    /// Groups `line`, appending its output line to `output` and counting it in `summary`, or
    /// says which column it refuses (what it appended then is dropped).
    fn group(
        &mut self,
        line: Line<'_>,
        output: &mut Vec<u8>,
        summary: &mut Self::Summary,
    ) -> Result<(), FieldFault<Self::Reason>>;
}

/// A required column the header does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingColumn {
    /// The column's name.
    pub column: &'static str,
}

/// The positions of `columns` in `header` (first occurrence), or the first one it lacks.
pub fn column_positions<const N: usize>(
    header: &str,
    columns: [&'static str; N],
) -> Result<[usize; N], MissingColumn> {
    let mut positions = [0; N];
    for (slot, column) in positions.iter_mut().zip(columns) {
        *slot = header
            .split(',')
            .position(|name| name == column)
            .ok_or(MissingColumn { column })?;
    }
    Ok(positions)
}

/// A line left out of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord<R> {
    /// 1-based line number in the input (the header is line 1).
    pub line: u64,
    /// The column at fault; `None` for the line as a whole.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub reason: R,
}

impl<R: fmt::Display> fmt::Display for BadRecord<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(field) = self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why a batch failed; `R` is the format's reason for a bad line, `S` what it counts.
#[derive(Debug)]
pub enum BatchError<R, S> {
    /// The input has no header line.
    EmptyInput,
    /// The header is not UTF-8.
    HeaderNotUtf8,
    /// A required column is not in the header.
    MissingColumn {
        /// The missing column's name.
        column: &'static str,
    },
    /// Some lines were malformed; every other line was grouped and written.
    BadRecords {
        /// Every malformed line, in input order.
        records: Vec<BadRecord<R>>,
        /// What was grouped.
        summary: S,
    },
    /// Reading or writing failed.
    Io(std::io::Error),
}

impl<R, S> BatchError<R, S> {
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

impl<R: fmt::Display, S> fmt::Display for BatchError<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyInput => f.write_str("input is empty: header line missing"),
            Self::HeaderNotUtf8 => f.write_str("header line is not valid UTF-8"),
            Self::MissingColumn { column } => {
                write!(f, "required column {column} is missing from the header")
            }
            Self::BadRecords { records, .. } => {
                write!(f, "{} malformed line(s), first: ", records.len())?;
                match records.first() {
                    Some(first) => write!(f, "{first}"),
                    None => Ok(()),
                }
            }
            Self::Io(error) => write!(f, "i/o error: {error}"),
        }
    }
}

impl<R: fmt::Debug + fmt::Display, S: fmt::Debug> std::error::Error for BatchError<R, S> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl<R, S> From<std::io::Error> for BatchError<R, S> {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

impl<R, S> From<HeaderError> for BatchError<R, S> {
    fn from(error: HeaderError) -> Self {
        match error {
            HeaderError::Empty => Self::EmptyInput,
            HeaderError::NotUtf8 => Self::HeaderNotUtf8,
            HeaderError::Io(error) => Self::Io(error),
        }
    }
}

impl<R, S> From<MissingColumn> for BatchError<R, S> {
    fn from(MissingColumn { column }: MissingColumn) -> Self {
        Self::MissingColumn { column }
    }
}

/// One thread's grouper with what it refused and counted since the last chunk.
struct Collecting<G: LineGrouper> {
    grouper: G,
    bad: Vec<BadRecord<G::Reason>>,
    summary: G::Summary,
}

impl<G: LineGrouper> LineWorker for Collecting<G> {
    fn line(&mut self, line: Line<'_>, output: &mut Vec<u8>) {
        let written = output.len();
        if let Err(FieldFault { column, reason }) =
            self.grouper.group(line, output, &mut self.summary)
        {
            output.truncate(written);
            self.bad.push(BadRecord {
                line: line.number,
                field: Some(column),
                reason,
            });
        }
    }

    fn fault(&mut self, number: u64, fault: LineFault, _text: &[u8]) {
        self.bad.push(BadRecord {
            line: number,
            field: None,
            reason: fault.into(),
        });
    }
}

/// Groups every data line of `reader` on `threads` threads and writes `output_header`, then the
/// output lines in input order, to `writer`. `grouper` reads the header (without its line end)
/// into the grouper every thread starts from; `progress` is called after each chunk with the
/// number of input lines read so far. Bad lines are left out of the output and all of them are
/// returned at the end, with what was grouped.
pub fn group_batch<R: Read, W: Write, G: LineGrouper>(
    reader: R,
    writer: W,
    output_header: &str,
    threads: usize,
    grouper: impl FnOnce(&str) -> Result<G, MissingColumn>,
    progress: impl FnMut(u64),
) -> Result<G::Summary, BatchError<G::Reason, G::Summary>> {
    let input = CsvInput::open(reader)?;
    let grouper = grouper(input.header())?;
    let mut workers: Vec<Collecting<G>> = (0..threads.max(1))
        .map(|_| Collecting {
            grouper: grouper.clone(),
            bad: Vec::new(),
            summary: G::Summary::default(),
        })
        .collect();
    let mut summary = G::Summary::default();
    let mut bad = Vec::new();
    input.group_into(
        writer,
        output_header,
        &mut workers,
        |worker| {
            bad.append(&mut worker.bad);
            summary.add(&std::mem::take(&mut worker.summary));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies column `b` of each line, refusing a line whose `b` is `x` after writing part of it.
    #[derive(Clone)]
    struct CopyB {
        position: usize,
    }

    #[derive(Default)]
    struct Count(u64);

    impl Tally for Count {
        fn add(&mut self, other: &Self) {
            self.0 += other.0;
        }
    }

    #[derive(Debug)]
    struct Refused(String);

    impl From<LineFault> for Refused {
        fn from(fault: LineFault) -> Self {
            Self(fault.to_string())
        }
    }

    impl fmt::Display for Refused {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl LineGrouper for CopyB {
        type Reason = Refused;
        type Summary = Count;

        fn group(
            &mut self,
            line: Line<'_>,
            output: &mut Vec<u8>,
            summary: &mut Count,
        ) -> Result<(), FieldFault<Refused>> {
            let value = line.field(self.position);
            output.extend_from_slice(value.as_bytes());
            if value == "x" {
                return Err(FieldFault {
                    column: "b",
                    reason: Refused("is x".into()),
                });
            }
            output.push(b'\n');
            summary.0 += 1;
            Ok(())
        }
    }

    fn run(input: &str, threads: usize) -> (Result<Count, BatchError<Refused, Count>>, String) {
        let mut output = Vec::new();
        let result = group_batch(
            input.as_bytes(),
            &mut output,
            "b",
            threads,
            |header| {
                let [position] = column_positions(header, ["b"])?;
                Ok(CopyB { position })
            },
            |_| {},
        );
        (result, String::from_utf8(output).expect("UTF-8"))
    }

    #[test]
    fn a_refused_line_leaves_nothing_in_the_output_and_every_one_is_reported_in_order() {
        for threads in [1, 2, 4] {
            let (result, output) = run("a,b\n1,one\n2,x\n3\n4,four\n5,x\n", threads);
            assert_eq!(output, "b\none\nfour\n");
            let Err(error) = result else {
                panic!("refused lines must fail the batch");
            };
            assert_eq!(error.reason(), "MALFORMED_LINES");
            assert_eq!(
                error.to_string(),
                "3 malformed line(s), first: line 3, field b: is x"
            );
            let BatchError::BadRecords { records, summary } = error else {
                panic!("bad records");
            };
            assert_eq!(summary.0, 2);
            let lines: Vec<String> = records.iter().map(ToString::to_string).collect();
            assert_eq!(
                lines,
                [
                    "line 3, field b: is x",
                    "line 4: 1 field(s), header has 2",
                    "line 6, field b: is x"
                ]
            );
        }
    }

    #[test]
    fn header_faults_are_named_before_any_line_is_read() {
        let (result, output) = run("a,c\n1,2\n", 1);
        assert!(matches!(
            result,
            Err(BatchError::MissingColumn { column: "b" })
        ));
        assert_eq!(output, "");
        assert!(matches!(run("", 1).0, Err(BatchError::EmptyInput)));
    }
}
