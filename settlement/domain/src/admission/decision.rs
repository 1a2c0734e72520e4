//! Deciding a chunk of admitted cases against the facts intake gathered from storage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kernel::date::Date;
use kernel::{FundType, RegionCode, YearMonth, YearMonthError};

use super::{Admitted, Rejection, reason};
use crate::case_key::{CaseKey, IntakeDecision, StoredVersion, decide_intake};
use crate::institution::InstitutionRecord;

/// A month of a pooling region and fund, as closed by a prepayment run.
pub type MonthKey = (RegionCode, FundType, YearMonth);

/// What storage knows about a chunk's cases.
#[derive(Clone, Copy, Debug)]
pub struct IntakeFacts<'a> {
    /// The region the upload was made for (the caller's scope covers it).
    pub upload_region: RegionCode,
    /// The registry records of the chunk's institutions, by code.
    pub institutions: &'a BTreeMap<String, InstitutionRecord>,
    /// The current stored version of the chunk's cases.
    pub current: &'a HashMap<CaseKey, StoredVersion>,
    /// Among [`months_to_check`], the closed ones (a region's month is also closed when a
    /// region containing it closed it).
    pub closed_months: &'a BTreeSet<MonthKey>,
}

/// What to do with a chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkDecision {
    pub accepted: u64,
    pub corrected: u64,
    pub unchanged: u64,
    pub rejections: Vec<Rejection>,
    /// (index into the admitted cases, version) of what to store, in upload order.
    pub to_store: Vec<(usize, u32)>,
}

fn month_of(region: RegionCode, fund: FundType, date: Date) -> Result<MonthKey, YearMonthError> {
    let (year, month, _) = date.ymd();
    Ok((region, fund, YearMonth::new(year, month)?))
}

/// The months whose closing matters to the chunk: those of the cases that may be changed
/// versions (stored already, or sent twice in the chunk).
pub fn months_to_check(
    admitted: &[Admitted],
    current: &HashMap<CaseKey, StoredVersion>,
) -> Result<BTreeSet<MonthKey>, YearMonthError> {
    let mut seen = BTreeSet::new();
    let repeated: BTreeSet<&CaseKey> = admitted
        .iter()
        .filter(|case| !seen.insert(&case.key))
        .map(|case| &case.key)
        .collect();
    admitted
        .iter()
        .filter(|case| {
            current
                .get(&case.key)
                .is_some_and(|stored| stored.content_hash != case.hash)
                || repeated.contains(&case.key)
        })
        .map(|case| month_of(case.region, case.fund, case.discharge))
        .collect()
}

/// Decides a chunk in upload order (DOMAIN.md §5): an institution not registered inside the
/// upload's region or without a service agreement on the discharge date is rejected; the same
/// content as stored is unchanged; a first submission is version 1; a changed one is the next
/// version, unless its month is closed. A case sent twice in the chunk is decided against the
/// version the chunk stores before it.
pub fn decide_chunk(admitted: &[Admitted], facts: IntakeFacts<'_>) -> ChunkDecision {
    let mut done = ChunkDecision::default();
    let mut decided: HashMap<&CaseKey, StoredVersion> = HashMap::new();
    for (index, case) in admitted.iter().enumerate() {
        let record = facts.institutions.get(&case.key.hospital_code);
        // A hospital registered elsewhere is answered exactly like one never registered, so
        // an upload cannot tell whether another region's hospital (or its case) exists.
        if !registered_inside(record, facts.upload_region) {
            done.rejections.push(case.rejection(
                "header.fixmedins_code",
                reason::NOT_REGISTERED,
                format!(
                    "institution {} is not registered in region {}",
                    case.key.hospital_code, facts.upload_region
                ),
            ));
            continue;
        }
        if !record.is_some_and(|record| record.has_valid_agreement(case.discharge)) {
            done.rejections.push(case.rejection(
                "header.fixmedins_code",
                reason::NO_VALID_AGREEMENT,
                format!(
                    "institution {} has no active service agreement covering {}",
                    case.key.hospital_code,
                    case.discharge.to_yyyymmdd()
                ),
            ));
            continue;
        }
        let existing = decided
            .get(&case.key)
            .or_else(|| facts.current.get(&case.key));
        let month_closed = month_of(case.region, case.fund, case.discharge)
            .is_ok_and(|month| facts.closed_months.contains(&month));
        let version = match decide_intake(existing, case.hash, month_closed) {
            IntakeDecision::NoOp => {
                done.unchanged += 1;
                continue;
            }
            IntakeDecision::DeferredToYearEnd { .. } => {
                done.rejections.push(case.rejection(
                    "header.setl_id",
                    reason::MONTH_CLOSED,
                    format!(
                        "the month of discharge {} is closed; a changed list is no longer taken",
                        case.discharge.to_yyyymmdd()
                    ),
                ));
                continue;
            }
            IntakeDecision::NewCase => {
                done.accepted += 1;
                1
            }
            IntakeDecision::Correction { version } => {
                done.corrected += 1;
                version
            }
        };
        decided.insert(
            &case.key,
            StoredVersion {
                key: case.key.clone(),
                version,
                content_hash: case.hash,
            },
        );
        done.to_store.push((index, version));
    }
    done
}

/// Whether the institution is registered and its current registration lies in `region`.
fn registered_inside(record: Option<&InstitutionRecord>, region: RegionCode) -> bool {
    record
        .and_then(|record| record.history().last())
        .is_some_and(|latest| region.contains(latest.institution.pooling_region))
}
