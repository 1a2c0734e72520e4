//! Admission of settlement records at intake (DOMAIN.md §5): what the ledger takes from an
//! upload, decided without storage.
//!
//! A record is first read on its own ([`read_record`]): parsed, checked to lie inside the
//! upload's region, validated (no date after today) and turned into an [`Admitted`] case that
//! carries its key, content hash, fund and discharge date. The admitted cases of a chunk are then
//! decided against the facts the service gathered ([`decide_chunk`]): the institution registered
//! inside the upload's region (one registered elsewhere is answered exactly like one never
//! registered, so an upload learns nothing of another region's hospitals or cases), a service
//! agreement in force on the discharge date, the stored current version and the closed months.
//! Every rejection names the record's position, list id, field, code and reason.

mod decision;
mod reading;

pub use decision::{ChunkDecision, IntakeFacts, MonthKey, decide_chunk, months_to_check};
pub use reading::{json_path_at, read_record};

use kernel::date::Date;
use kernel::{FundType, Money, RegionCode};
use sha2::{Digest, Sha256};

use crate::case::{AmbulatorySettlement, SettlementList};
use crate::case_key::{CaseKey, ContentHash};
use crate::ledger::RecordKind;
use crate::list_head::ListHead;
use crate::validation::limits;

/// Reason codes of intake's own checks (validation's are its reasons, lower-cased).
pub mod reason {
    pub const UNREADABLE: &str = "unreadable_record";
    pub const EMPTY: &str = "empty_record";
    pub const REGION_OUTSIDE_UPLOAD: &str = "region_outside_upload";
    pub const NOT_REGISTERED: &str = "institution_not_registered";
    pub const NO_VALID_AGREEMENT: &str = "no_valid_agreement";
    pub const MONTH_CLOSED: &str = "month_closed";
}

/// One record of an upload, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// An inpatient settlement list as JSON.
    List(String),
    /// An outpatient or pharmacy settlement as JSON.
    Ambulatory(String),
    /// An inpatient settlement list sent in a typed form, already read into the list a JSON
    /// record is parsed into: from here on both take the same way.
    TypedList(Typed<SettlementList>),
    /// An outpatient or pharmacy settlement sent in a typed form, already read.
    TypedAmbulatory(Typed<AmbulatorySettlement>),
    /// A message that carried no record.
    Empty,
}

/// A record sent in a typed form, as its reader left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Typed<T> {
    /// The record's bytes as sent (the reader's own encoding of its message): what the upload's
    /// fingerprint covers, so that a retry must send the same record in the same form.
    pub wire: Vec<u8>,
    /// The value read, or every field that could not be read.
    pub read: Result<Box<T>, Unreadable>,
}

/// A typed record whose fields could not all be read into the domain's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// As sent (text fields always read), to name the record in its rejections.
    pub hospital_code: String,
    pub list_id: String,
    /// Each field that could not be read: (path as the JSON form writes it, why).
    pub fields: Vec<(String, String)>,
}

impl Unreadable {
    /// One `unreadable_record` rejection per field.
    pub fn rejections(&self, position: u64) -> Vec<Rejection> {
        self.fields
            .iter()
            .map(|(field, why)| {
                Rejection::new(
                    position,
                    &self.hospital_code,
                    &self.list_id,
                    field,
                    reason::UNREADABLE,
                    why.clone(),
                )
            })
            .collect()
    }
}

/// Why a record was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The record's position in the upload, from 0.
    pub position: u64,
    /// As read from the record (cut to its bound), empty when the record could not be read.
    pub hospital_code: String,
    pub list_id: String,
    /// The JSON path of the offending field (`stay.discharged_at`, `diagnoses[1].code`).
    pub field: String,
    /// Stable lower-case code: one of [`reason`] or a validation reason.
    pub code: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(
        position: u64,
        hospital_code: &str,
        list_id: &str,
        field: &str,
        code: &str,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            hospital_code: echoed(hospital_code, limits::HOSPITAL_CODE),
            list_id: echoed(list_id, limits::LIST_ID),
            field: field.to_owned(),
            reason: reason.into(),
            position,
            code: code.to_owned(),
        }
    }
}

/// An identifier of a rejected record as answered: cut to its bound (marked with `…`) when the
/// record exceeds it, so that an oversized field is not sent back once per rejection.
fn echoed(text: &str, bound: usize) -> String {
    if text.chars().count() <= bound {
        text.to_owned()
    } else {
        text.chars().take(bound).chain(['…']).collect()
    }
}

/// A record that was read, lies inside the upload's region and passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub position: u64,
    pub key: CaseKey,
    pub hash: ContentHash,
    pub kind: RecordKind,
    /// The pooling region that settles the case.
    pub region: RegionCode,
    pub fund: FundType,
    /// The discharge date (the settlement date of an ambulatory record).
    pub discharge: Date,
    pub total_cost: Money,
    /// Personal account + personal cash.
    pub individual_burden: Money,
    /// Σ fund payments as claimed fee-for-service.
    pub fund_amount: Money,
    /// The record's canonical JSON, as stored.
    pub canonical_json: String,
    /// The inpatient list to group and value; `None` for ambulatory records.
    pub list: Option<SettlementList>,
    /// The inpatient list without its fee lines, stored beside it; `None` for ambulatory
    /// records.
    pub head: Option<ListHead>,
    /// What validation flagged without rejecting the record, kept with it
    /// ([`crate::intake_warnings`]).
    pub warnings: Vec<crate::validation::Violation>,
}

impl Admitted {
    /// A rejection of this record.
    pub fn rejection(&self, field: &str, code: &str, reason: impl Into<String>) -> Rejection {
        Rejection::new(
            self.position,
            &self.key.hospital_code,
            &self.key.list_id,
            field,
            code,
            reason,
        )
    }
}

/// SHA-256 of records in order, each as its kind, its length and its bytes (so no two
/// sequences of records share a fingerprint by where one ends and the next begins), in hex: a
/// retry under the same request id must carry the same records.
pub fn fingerprint(records: &[Record]) -> String {
    let mut hasher = Sha256::new();
    for record in records {
        let (kind, bytes): (u8, &[u8]) = match record {
            Record::List(text) => (b'L', text.as_bytes()),
            Record::Ambulatory(text) => (b'A', text.as_bytes()),
            Record::TypedList(typed) => (b'l', &typed.wire),
            Record::TypedAmbulatory(typed) => (b'a', &typed.wire),
            Record::Empty => (b'E', b""),
        };
        hasher.update([kind]);
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    hex(&hasher.finalize())
}

/// The fingerprint of a whole upload: SHA-256 of its chunks' fingerprints, in order.
pub fn upload_fingerprint(chunks: &[String]) -> String {
    let mut hasher = Sha256::new();
    for chunk in chunks {
        hasher.update(chunk.as_bytes());
        hasher.update([b'\n']);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_content_order_and_boundaries() {
        let a = Record::List("ab".into());
        let b = Record::List("c".into());
        let base = fingerprint(&[a.clone(), b.clone()]);
        assert_eq!(base, fingerprint(&[a.clone(), b.clone()]));
        assert_ne!(base, fingerprint(&[b.clone(), a.clone()]));
        assert_ne!(
            base,
            fingerprint(&[Record::List("a".into()), Record::List("bc".into())])
        );
        assert_ne!(
            base,
            fingerprint(&[Record::Ambulatory("ab".into()), b.clone()])
        );
        let typed = |wire: &[u8]| Typed::<SettlementList> {
            wire: wire.to_vec(),
            read: Err(Unreadable {
                hospital_code: String::new(),
                list_id: String::new(),
                fields: Vec::new(),
            }),
        };
        // The same bytes typed are another record than as JSON.
        assert_ne!(
            fingerprint(&[Record::TypedList(typed(b"ab")), b.clone()]),
            base
        );
        assert_eq!(
            fingerprint(&[Record::TypedList(typed(b"ab"))]),
            fingerprint(&[Record::TypedList(typed(b"ab"))])
        );
        assert_ne!(
            fingerprint(&[Record::TypedList(typed(b"ab"))]),
            fingerprint(&[Record::TypedList(typed(b"ac"))])
        );
        assert_eq!(base.len(), 64);
        assert_ne!(
            upload_fingerprint(std::slice::from_ref(&base)),
            upload_fingerprint(&[base.clone(), base])
        );
    }
}
