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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Record;
    use crate::admission::read_record;
    use crate::case_key::ContentHash;
    use crate::fixtures::{SetDictionary, valid_list};
    use crate::institution::{
        AgreementStatus, Institution, InstitutionLevel, InstitutionType, ServiceAgreement,
    };
    use crate::validation::ValidationPolicy;

    fn date(text: &str) -> Date {
        let parts: Vec<i64> = text.split('-').map(|p| p.parse().expect("n")).collect();
        Date::new(parts[0] as i32, parts[1] as u32, parts[2] as u32).expect("date")
    }

    /// The fixture list, admitted for its own county.
    fn admitted() -> Admitted {
        let list = valid_list();
        let region = list.header.pooling_region;
        let json = serde_json::to_string(&list).expect("json");
        read_record(
            Record::List(json),
            0,
            region,
            &SetDictionary::standard(),
            &ValidationPolicy::default(),
            date("2030-01-01"),
        )
        .expect("the fixture is admitted")
    }

    fn registry(case: &Admitted, region: RegionCode) -> BTreeMap<String, InstitutionRecord> {
        let mut record = InstitutionRecord::new(
            date("2000-01-01"),
            Institution {
                code: case.key.hospital_code.clone(),
                name: "hospital".into(),
                pooling_region: region,
                level: InstitutionLevel::TertiaryA,
                institution_type: InstitutionType::GeneralHospital,
                medical_alliance: None,
            },
        );
        let (year, _, _) = case.discharge.ymd();
        record.add_agreement(
            ServiceAgreement::new(
                "A",
                Date::new(year, 1, 1).expect("date"),
                Date::new(year, 12, 31).expect("date"),
                AgreementStatus::Active,
            )
            .expect("agreement"),
        );
        BTreeMap::from([(case.key.hospital_code.clone(), record)])
    }

    fn decide(
        cases: &[Admitted],
        institutions: &BTreeMap<String, InstitutionRecord>,
        current: &HashMap<CaseKey, StoredVersion>,
        closed: &BTreeSet<MonthKey>,
    ) -> ChunkDecision {
        decide_chunk(
            cases,
            IntakeFacts {
                upload_region: cases[0].region,
                institutions,
                current,
                closed_months: closed,
            },
        )
    }

    #[test]
    fn a_hospital_registered_elsewhere_is_answered_as_unregistered() {
        let case = admitted();
        let elsewhere: RegionCode = "110101".parse().expect("region");
        let none = BTreeMap::new();
        for institutions in [none, registry(&case, elsewhere)] {
            let done = decide(
                std::slice::from_ref(&case),
                &institutions,
                &HashMap::new(),
                &BTreeSet::new(),
            );
            assert_eq!(done.rejections.len(), 1);
            assert_eq!(done.rejections[0].code, reason::NOT_REGISTERED);
            assert!(done.to_store.is_empty());
        }
    }

    #[test]
    fn versions_follow_content_and_closed_months() {
        let case = admitted();
        let institutions = registry(&case, case.region);
        let none = BTreeSet::new();
        let first = decide(
            std::slice::from_ref(&case),
            &institutions,
            &HashMap::new(),
            &none,
        );
        assert_eq!((first.accepted, first.to_store.clone()), (1, vec![(0, 1)]));

        let stored = |hash: ContentHash| {
            HashMap::from([(
                case.key.clone(),
                StoredVersion {
                    key: case.key.clone(),
                    version: 2,
                    content_hash: hash,
                },
            )])
        };
        let same = decide(
            std::slice::from_ref(&case),
            &institutions,
            &stored(case.hash),
            &none,
        );
        assert_eq!((same.unchanged, same.to_store.len()), (1, 0));

        let changed = stored(ContentHash(case.hash.0 ^ 1));
        let corrected = decide(std::slice::from_ref(&case), &institutions, &changed, &none);
        assert_eq!(
            (corrected.corrected, corrected.to_store.clone()),
            (1, vec![(0, 3)])
        );

        let months = months_to_check(std::slice::from_ref(&case), &changed).expect("months");
        assert_eq!(months.len(), 1);
        let closed = decide(
            std::slice::from_ref(&case),
            &institutions,
            &changed,
            &months,
        );
        assert_eq!(closed.rejections[0].code, reason::MONTH_CLOSED);
        assert!(closed.to_store.is_empty());
    }

    #[test]
    fn a_case_sent_twice_in_a_chunk_is_decided_against_the_first() {
        let case = admitted();
        let mut again = case.clone();
        again.position = 1;
        again.hash = ContentHash(case.hash.0 ^ 1);
        let institutions = registry(&case, case.region);
        let cases = [case.clone(), again, case];
        let months = months_to_check(&cases, &HashMap::new()).expect("months");
        assert_eq!(months.len(), 1, "a repeated case may be a change");
        let done = decide(&cases, &institutions, &HashMap::new(), &BTreeSet::new());
        assert_eq!((done.accepted, done.corrected), (1, 2));
        assert_eq!(done.to_store, vec![(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn no_agreement_on_the_discharge_date_is_a_rejection() {
        let case = admitted();
        let mut institutions = registry(&case, case.region);
        let later = case.discharge.add_days(400);
        let mut shifted = case.clone();
        shifted.discharge = later;
        let done = decide(
            std::slice::from_ref(&shifted),
            &institutions,
            &HashMap::new(),
            &BTreeSet::new(),
        );
        assert_eq!(done.rejections[0].code, reason::NO_VALID_AGREEMENT);
        assert!(
            done.rejections[0]
                .reason
                .ends_with(&later.to_yyyymmdd().to_string())
        );
        institutions.clear();
        assert!(
            decide(
                std::slice::from_ref(&case),
                &institutions,
                &HashMap::new(),
                &BTreeSet::new()
            )
            .to_store
            .is_empty()
        );
    }
}
