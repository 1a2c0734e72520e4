//! The CSV reader and worker pool behind every CSV file the grouping contexts read: the DRG and
//! DIP batches (`medpay group`, driven by [`group_batch`]) and the DIP history of a build.
//!
//! The input is streamed in chunks of [`CHUNK_ROWS`] lines, so memory stays constant whatever the
//! file size. Each chunk is split between one [`LineWorker`] per scoped OS thread, each with its
//! own field and output buffers, while this thread reads the next chunk; the outputs are written
//! in input order. Fields are plain (no quoting), as every format defines. Empty lines are
//! skipped. A line that is not UTF-8 or has the wrong number of fields goes to its worker as a
//! [`LineFault`] with its line number.

mod batch;

use std::io::{BufRead, BufReader, Read, Write};

pub use batch::{
    BadRecord, BatchError, FieldFault, LineGrouper, MissingColumn, Tally, column_positions,
    group_batch,
};

/// Lines per chunk.
pub const CHUNK_ROWS: usize = 65_536;

/// Why a line could not be split into the header's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
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

impl LineFault {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::FieldCount { .. } => "WRONG_FIELD_COUNT",
            Self::InvalidUtf8 { .. } => "NOT_UTF8",
        }
    }
}

impl std::fmt::Display for LineFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FieldCount { expected, found } => {
                write!(f, "{found} field(s), header has {expected}")
            }
            Self::InvalidUtf8 { field } => write!(f, "invalid UTF-8 in field {field}"),
        }
    }
}

/// Why the header line could not be read.
#[derive(Debug)]
pub enum HeaderError {
    /// The input has no header line.
    Empty,
    /// The header is not UTF-8.
    NotUtf8,
    /// Reading failed.
    Io(std::io::Error),
}

/// A data line split into the header's number of fields.
#[derive(Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number in the input (the header is line 1).
    pub number: u64,
    text: &'a str,
    fields: &'a [(usize, usize)],
}

impl<'a> Line<'a> {
    /// The field at `position` (a header position, so always on the line).
    #[inline]
    pub fn field(&self, position: usize) -> &'a str {
        let (from, to) = self.fields[position];
        &self.text[from..to]
    }

    /// The whole line, without its line end.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

/// What one thread does with its share of each chunk; it keeps its own reusable state.
pub trait LineWorker: Send {
    /// Takes one well-formed line, appending its output line (if any) to `output`.
    fn line(&mut self, line: Line<'_>, output: &mut Vec<u8>);
    /// Records a line that could not be split; `text` is the line as read, without its line end.
    fn fault(&mut self, number: u64, fault: LineFault, text: &[u8]);
}

/// A CSV input whose header line has been read.
pub struct CsvInput<R> {
    reader: BufReader<R>,
    header: String,
}

/// The line without its `\n` or `\r\n`.
pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
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

/// A worker with the buffers the pool fills for it.
struct Slot<'w, K> {
    worker: &'w mut K,
    fields: Vec<(usize, usize)>,
    output: Vec<u8>,
}

impl<K: LineWorker> Slot<'_, K> {
    fn run(&mut self, width: usize, data: &[u8], lines: &[(u64, usize, usize)]) {
        for &(number, start, end) in lines {
            let bytes = trim_line_end(&data[start..end]);
            if bytes.is_empty() {
                continue;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(error) => {
                    let field = bytes[..error.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b',')
                        .count()
                        + 1;
                    self.worker
                        .fault(number, LineFault::InvalidUtf8 { field }, bytes);
                    continue;
                }
            };
            self.fields.clear();
            let mut field_start = 0;
            for (index, byte) in text.bytes().enumerate() {
                if byte == b',' {
                    self.fields.push((field_start, index));
                    field_start = index + 1;
                }
            }
            self.fields.push((field_start, text.len()));
            if self.fields.len() != width {
                self.worker.fault(
                    number,
                    LineFault::FieldCount {
                        expected: width,
                        found: self.fields.len(),
                    },
                    bytes,
                );
                continue;
            }
            let line = Line {
                number,
                text,
                fields: &self.fields,
            };
            self.worker.line(line, &mut self.output);
        }
    }
}

impl<R: Read> CsvInput<R> {
    /// Reads the header line of `reader`.
    pub fn open(reader: R) -> Result<Self, HeaderError> {
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut header = Vec::new();
        if reader
            .read_until(b'\n', &mut header)
            .map_err(HeaderError::Io)?
            == 0
        {
            return Err(HeaderError::Empty);
        }
        let header = std::str::from_utf8(trim_line_end(&header))
            .map_err(|_| HeaderError::NotUtf8)?
            .to_owned();
        Ok(Self { reader, header })
    }

    /// The header line, without its line end.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// Writes `output_header`, then runs every data line through `workers` (one thread each) and
    /// writes their outputs in input order. After each chunk, `collect` is called with each
    /// worker in turn (to take what it recorded) and `progress` with the lines read so far.
    pub fn group_into<W: Write, K: LineWorker>(
        self,
        writer: W,
        output_header: &str,
        workers: &mut [K],
        mut collect: impl FnMut(&mut K),
        progress: impl FnMut(u64),
    ) -> std::io::Result<()> {
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, writer);
        writer.write_all(output_header.as_bytes())?;
        writer.write_all(b"\n")?;
        self.run(
            workers,
            |worker, output| {
                writer.write_all(output)?;
                collect(worker);
                Ok(())
            },
            progress,
        )?;
        writer.flush()
    }

    /// Runs every data line through `workers` (one thread each), for workers that keep what they
    /// read rather than write it out.
    pub fn read_into<K: LineWorker>(self, workers: &mut [K]) -> std::io::Result<()> {
        self.run(workers, |_, _| Ok(()), |_| {})
    }

    /// The pool: after each chunk, `after_chunk` is called with each worker in input order and
    /// the output it appended, then `progress` with the lines read so far.
    fn run<K: LineWorker>(
        mut self,
        workers: &mut [K],
        mut after_chunk: impl FnMut(&mut K, &[u8]) -> std::io::Result<()>,
        mut progress: impl FnMut(u64),
    ) -> std::io::Result<()> {
        let width = self.header.split(',').count();
        let threads = workers.len().max(1);
        let mut slots: Vec<Slot<'_, K>> = workers
            .iter_mut()
            .map(|worker| Slot {
                worker,
                fields: Vec::new(),
                output: Vec::new(),
            })
            .collect();
        // Double buffering: the workers take `current` while this thread reads `next`.
        let mut current = Chunk::default();
        let mut next = Chunk::default();
        let mut line_number: u64 = 1;
        let reader = &mut self.reader;
        current.read(reader, &mut line_number)?;
        while !current.lines.is_empty() {
            let read_through = line_number;
            let per_worker = current.lines.len().div_ceil(threads);
            let read_next = std::thread::scope(|scope| {
                let data = &current.data;
                for (slot, part) in slots.iter_mut().zip(current.lines.chunks(per_worker)) {
                    scope.spawn(move || slot.run(width, data, part));
                }
                next.read(reader, &mut line_number)
            });
            for slot in &mut slots {
                after_chunk(slot.worker, &slot.output)?;
                slot.output.clear();
            }
            read_next?;
            progress(read_through - 1);
            std::mem::swap(&mut current, &mut next);
        }
        Ok(())
    }
}
