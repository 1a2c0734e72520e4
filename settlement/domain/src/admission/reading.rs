//! Reading one record: parsing, the upload's region, validation and the fund. Inpatient and
//! ambulatory records go the same way; only their parsing, hashing and validation differ.

use kernel::RegionCode;
use kernel::date::Date;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{Admitted, Record, Rejection, reason};
use crate::canonical::write_canonical;
use crate::case::{AmbulatorySettlement, ListHeader, Payment, SettlementList};
use crate::case_key::{CaseKey, ContentHash, canonical_json, canonical_text_with_hash};
use crate::ledger::RecordKind;
use crate::list_head::ListHead;
use crate::ports::CodeDictionary;
use crate::validation::{ValidationPolicy, ValidationReport, validate_ambulatory, validate_list};

/// What one kind of record contributes to reading.
struct Parsed {
    header: ListHeader,
    kind: RecordKind,
    discharge: Date,
    payment: Payment,
    canonical_json: String,
    hash: ContentHash,
    list: Option<SettlementList>,
    head: Option<ListHead>,
    report: ValidationReport,
}

/// Reads record `position` of an upload to `upload_region` and runs every check that needs no
/// storage: the admitted case, or every reason it is rejected.
pub fn read_record(
    record: Record,
    position: u64,
    upload_region: RegionCode,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> Result<Admitted, Vec<Rejection>> {
    let unreadable = |text: &str, error: serde_json::Error| {
        let (field, why) = parse_failure(text, &error);
        vec![Rejection::new(
            position,
            "",
            "",
            &field,
            reason::UNREADABLE,
            why,
        )]
    };
    let parsed = match record {
        Record::Empty => {
            return Err(vec![Rejection::new(
                position,
                "",
                "",
                "record",
                reason::EMPTY,
                "the message carries no record",
            )]);
        }
        Record::List(text) => {
            let list: SettlementList = parse(&text).map_err(|e| unreadable(&text, e))?;
            inpatient(list, dictionary, policy, today)
        }
        Record::TypedList(typed) => {
            let list = typed.read.map_err(|fields| fields.rejections(position))?;
            inpatient(*list, dictionary, policy, today)
        }
        Record::TypedAmbulatory(typed) => {
            let settlement = typed.read.map_err(|fields| fields.rejections(position))?;
            // The canonical JSON of the value is that of the JSON the domain writes for it: the
            // same bytes as that JSON sent as `Record::Ambulatory`.
            let mut canonical = Vec::with_capacity(1024);
            if let Err(error) = write_canonical(&settlement, &mut canonical) {
                return Err(vec![Rejection::new(
                    position,
                    &settlement.header.hospital_code,
                    &settlement.header.list_id,
                    "record",
                    reason::UNREADABLE,
                    error.to_string(),
                )]);
            }
            let canonical_json = String::from_utf8_lossy(&canonical).into_owned();
            ambulatory(*settlement, canonical_json, dictionary, policy, today)
        }
        Record::Ambulatory(text) => {
            // Syntax errors are reported as the plain JSON reader finds them, before the shape.
            let value: serde_json::Value = parse(&text).map_err(|e| unreadable(&text, e))?;
            let settlement: AmbulatorySettlement =
                parse(&text).map_err(|e| unreadable(&text, e))?;
            ambulatory(
                settlement,
                canonical_json(&value),
                dictionary,
                policy,
                today,
            )
        }
    };
    admit(parsed, position, upload_region)
}

/// An inpatient list as read, whichever form it came in.
fn inpatient(
    list: SettlementList,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> Parsed {
    let (canonical, head) = ListHead::with_canonical_list(&list);
    let (canonical_json, hash) = canonical_text_with_hash(canonical);
    Parsed {
        header: list.header.clone(),
        kind: RecordKind::Inpatient,
        discharge: list.stay.discharged_at.date(),
        payment: list.payment.clone(),
        canonical_json,
        hash,
        report: validate_list(&list, dictionary, policy, today),
        head: Some(head),
        list: Some(list),
    }
}

/// An ambulatory settlement as read, with the canonical JSON it is stored as.
fn ambulatory(
    settlement: AmbulatorySettlement,
    canonical_json: String,
    dictionary: &dyn CodeDictionary,
    policy: &ValidationPolicy,
    today: Date,
) -> Parsed {
    let hash = ambulatory_hash(&canonical_json);
    Parsed {
        report: validate_ambulatory(&settlement, dictionary, policy, today),
        kind: settlement.kind.into(),
        discharge: settlement.settled_at.date(),
        header: settlement.header,
        payment: settlement.payment,
        canonical_json,
        hash,
        list: None,
        head: None,
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

/// The region check, the validation report and the fund of a parsed record.
fn admit(
    parsed: Parsed,
    position: u64,
    upload_region: RegionCode,
) -> Result<Admitted, Vec<Rejection>> {
    let header = &parsed.header;
    let reject = |field: &str, code: &str, why: String| {
        Rejection::new(
            position,
            &header.hospital_code,
            &header.list_id,
            field,
            code,
            why,
        )
    };
    if !upload_region.contains(header.pooling_region) {
        return Err(vec![reject(
            "header.pooling_region",
            reason::REGION_OUTSIDE_UPLOAD,
            format!(
                "pooling region {} is not inside the upload's region {upload_region}",
                header.pooling_region
            ),
        )]);
    }
    // Validation reads the fund from the insurance type and rejects a record without one.
    let fund = match parsed.report.fund {
        Some(fund) if parsed.report.is_accepted() => fund,
        _ => {
            return Err(parsed
                .report
                .errors
                .iter()
                .map(|v| reject(&v.field, &v.reason().to_ascii_lowercase(), v.detail.clone()))
                .collect());
        }
    };
    Ok(Admitted {
        position,
        key: CaseKey {
            hospital_code: header.hospital_code.clone(),
            list_id: header.list_id.clone(),
        },
        hash: parsed.hash,
        kind: parsed.kind,
        region: header.pooling_region,
        fund,
        discharge: parsed.discharge,
        total_cost: parsed.payment.total,
        individual_burden: parsed.payment.individual_burden(),
        fund_amount: parsed.payment.fund_total(),
        canonical_json: parsed.canonical_json,
        list: parsed.list,
        head: parsed.head,
        warnings: parsed.report.warnings,
    })
}

/// The content hash of an ambulatory record: the first 8 bytes of the SHA-256 of its canonical
/// JSON (stored hashes were written this way).
fn ambulatory_hash(canonical_json: &str) -> ContentHash {
    let digest = Sha256::digest(canonical_json.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    ContentHash(u64::from_be_bytes(first))
}

/// The JSON path (`stay.discharged_at`, `diagnoses[1].code`) at byte `offset` of `text`: the
/// innermost member or element open there.
pub fn json_path_at(text: &str, offset: usize) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut i = 0;
    // Whether the string being read next is an object key.
    let mut expect_key = false;
    while i < end {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(index)) => *index += 1,
                Some(Frame::Object(_)) => expect_key = true,
                None => {}
            },
            b':' => expect_key = false,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if expect_key && let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = Some(text.get(start..j.min(bytes.len())).unwrap_or("").to_owned());
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(index) => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Field path and reason of a JSON reading error.
fn parse_failure(text: &str, error: &serde_json::Error) -> (String, String) {
    let offset = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        // serde's column is one past the offending token's last character; step back onto it so
        // that a container which opens the bad value is not counted as entered.
        + error.column().saturating_sub(2);
    let message = error.to_string();
    let mut field = json_path_at(text, offset);
    // serde reports a missing member at the end of the object that lacks it.
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    if field.is_empty() {
        field = format!("line {} column {}", error.line(), error.column());
    }
    (field, message)
}
