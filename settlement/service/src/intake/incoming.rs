//! Records as the transport delivers them, and the split of a chunk's per-record work over the
//! cores.
//!
//! A typed record arrives as a decoded message; reading it into the domain's value and encoding
//! it again for the upload's fingerprint costs about as much as parsing its JSON form. That work
//! is left to intake's workers ([`Incoming::into_record`], called by `Intake::prepare_chunk` on
//! the blocking pool), never done on the task reading the stream: one reader task would otherwise
//! cap a typed upload below the same upload sent as JSON.

use medpay_proto::settlement::v1 as pb;
use settlement_domain::admission::Record;

use super::IntakeError;
use crate::convert::intake::record_from_wire;

/// Below this many records a chunk is not split over threads.
const PARALLEL_MINIMUM: usize = 64;

/// One record of an upload as it arrived.
#[derive(Clone, Debug)]
pub enum Incoming {
    /// A record already in the domain's form.
    Read(Record),
    /// A `SubmitRecord` as the transport decoded it, with the deprecated `case_json` of its
    /// message (read when `record` is absent). Boxed: a typed list's message is most of a
    /// kilobyte, which every record of a chunk would otherwise carry.
    Wire {
        record: Option<Box<pb::SubmitRecord>>,
        case_json: String,
    },
}

impl Incoming {
    /// A record of a `SubmitCases` message or a `SubmitCaseBatch` entry.
    pub fn wire(record: Option<pb::SubmitRecord>, case_json: String) -> Self {
        use pb::submit_record::Record as Form;
        match record.as_ref().and_then(|r| r.record.as_ref()) {
            // A JSON record only moves its text into the domain's record: nothing to defer.
            Some(Form::SettlementList(_) | Form::Ambulatory(_)) => Incoming::Wire {
                record: record.map(Box::new),
                case_json,
            },
            _ => Incoming::Read(record_from_wire(record, case_json)),
        }
    }

    /// The record in the domain's form: exactly what [`record_from_wire`] makes of the message,
    /// so a record's rejections and fingerprint do not depend on where it was converted.
    pub fn into_record(self) -> Record {
        match self {
            Incoming::Read(record) => record,
            Incoming::Wire { record, case_json } => record_from_wire(record.map(|r| *r), case_json),
        }
    }
}

impl From<Record> for Incoming {
    fn from(record: Record) -> Self {
        Incoming::Read(record)
    }
}

/// Runs `work` on consecutive parts of `items` on the blocking pool, one part per core (at least
/// [`PARALLEL_MINIMUM`] items each), giving each part the offset of its first item; the answers
/// come back in the items' order.
pub(super) async fn in_parts<T, U>(
    items: Vec<T>,
    work: impl Fn(u64, Vec<T>) -> U + Clone + Send + 'static,
) -> Result<Vec<U>, IntakeError>
where
    T: Send + 'static,
    U: Send + 'static,
{
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = items.len().div_ceil(workers).max(PARALLEL_MINIMUM);
    let mut handles = Vec::new();
    let mut offset = 0u64;
    let mut items = items;
    while !items.is_empty() {
        let rest = items.split_off(part.min(items.len()));
        let slice = std::mem::replace(&mut items, rest);
        let first = offset;
        offset += slice.len() as u64;
        let work = work.clone();
        handles.push(tokio::task::spawn_blocking(move || work(first, slice)));
    }
    let mut answers = Vec::with_capacity(handles.len());
    for handle in handles {
        answers.push(
            handle
                .await
                .map_err(|e| IntakeError::Worker(e.to_string()))?,
        );
    }
    Ok(answers)
}
